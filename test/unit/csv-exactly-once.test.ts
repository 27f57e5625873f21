import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { JournalFile, parseJournal, planCuts, readRanges, recoverFiles, type Journal, type JournalGroup } from '../../nodes/csv-sink/exactly-once';
import type { SinkState } from '../../nodes/nr/sink-positions';

const W = 'writer-1';

function group(tp: string, epoch: number, seq: number, ranges: Record<string, [number, number]>): JournalGroup {
  return { tp, partition: Number(tp.split(':')[1]), epoch, seq, positions: {}, ranges };
}

/** Partition states in which this writer's last commit per partition is `seqs[tp]`. */
function states(seqs: Record<string, number>): Map<string, SinkState> {
  return new Map(Object.entries(seqs).map(([tp, seq]) => [tp, { positions: {}, commits: { other: 99, [W]: seq } }]));
}

describe('csv sink exactly-once > planCuts (what crash recovery cuts)', function () {
  // a.csv: p1 [10,20) p2 [20,35) p3 [35,40); b.csv: p2 [0,5) p3 [5,9)
  const j: Journal = {
    writer: W,
    groups: [group('t:1', 1, 7, { 'a.csv': [10, 20] }), group('t:2', 1, 8, { 'a.csv': [20, 35], 'b.csv': [0, 5] }), group('t:3', 2, 9, { 'a.csv': [35, 40], 'b.csv': [5, 9] })],
  };

  it('every group landed: nothing to cut', function () {
    assert.deepEqual(planCuts(j, states({ 't:1': 7, 't:2': 8, 't:3': 12 })), []);
  });

  it('none landed (the crash came before the commits, rows maybe torn): every file cut at its first range', function () {
    assert.deepEqual(planCuts(j, states({ 't:1': 6 })), [
      { file: 'a.csv', at: 10, keep: [] },
      { file: 'b.csv', at: 0, keep: [] },
    ]);
  });

  it('one in the middle did not land: cut at its range, the later landed ranges kept', function () {
    assert.deepEqual(planCuts(j, states({ 't:1': 7, 't:3': 9 })), [
      { file: 'a.csv', at: 20, keep: [[35, 40]] },
      { file: 'b.csv', at: 0, keep: [[5, 9]] },
    ]);
  });

  it('a commit of another writer or an older commit of this one does not count as landed', function () {
    const s = new Map<string, SinkState>([['t:1', { positions: {}, commits: { 'writer-0': 50 } }], ['t:2', { positions: {}, commits: { [W]: 7 } }], ['t:3', { positions: {}, commits: { [W]: 9 } }]]);
    assert.deepEqual(planCuts(j, s), [
      { file: 'a.csv', at: 10, keep: [[35, 40]] },
      { file: 'b.csv', at: 0, keep: [[5, 9]] },
    ]);
  });

  it('of two groups of one partition (an assignment ended during the flush) only the newest epoch can have landed', function () {
    const two: Journal = { writer: W, groups: [group('t:1', 3, 4, { 'a.csv': [10, 20] }), group('t:1', 4, 5, { 'a.csv': [20, 30] })] };
    // The partition's state says seq 5 landed: that covers seq 4 by number, but seq 4 was of the old epoch.
    assert.deepEqual(planCuts(two, states({ 't:1': 5 })), [{ file: 'a.csv', at: 10, keep: [[20, 30]] }]);
  });
});

describe('csv sink exactly-once > journal file', function () {
  let dir: string;
  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csv-journal-'));
  });
  afterEach(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const j: Journal = { writer: W, groups: [group('smoke:0', 2, 3, { 'readings-2022-06-09.csv': [80, 160] })] };

  it('round trip; overwritten in place at a whole number of 4 KiB blocks; cleared reads as none', async function () {
    const f = new JournalFile(path.join(dir, '.smoke-csv-x.journal'));
    assert.equal(await f.read(), null, 'no file: none');
    await f.write(j);
    assert.deepEqual(await f.read(), j);
    assert.equal(fs.statSync(f.file).size, 4096);
    const big: Journal = { writer: W, groups: Array.from({ length: 100 }, (_, i) => group(`smoke:${i}`, 1, i + 1, { 'a.csv': [i * 10, i * 10 + 10] })) };
    await f.write(big);
    assert.deepEqual(await f.read(), big);
    assert.equal(fs.statSync(f.file).size % 4096, 0);
    await f.write(j);
    assert.deepEqual(await f.read(), j, 'a shorter journal over a longer one');
    await f.clear(true);
    assert.equal(await f.read(), null);
    await f.close();
  });

  it('a torn write (old and new blocks mixed, or cut short) reads as none, never as a wrong journal', async function () {
    const f = new JournalFile(path.join(dir, 'j'));
    await f.write(j);
    const whole = fs.readFileSync(f.file, 'utf8');
    await f.close();
    const nl = whole.indexOf('\n');
    assert.equal(parseJournal(whole.slice(0, nl) + '\n' + '0'.repeat(40) + '\n'), null, 'checksum of other content');
    assert.equal(parseJournal(whole.slice(0, nl - 5)), null, 'cut short');
    assert.equal(parseJournal(whole.replace('"epoch":2', '"epoch":7')), null, 'a changed byte');
    assert.equal(parseJournal(' '.repeat(4096)), null, 'cleared');
    assert.deepEqual(parseJournal(whole), j);
  });

  it('an atomic write (cuts) replaces the journal whole, and later in-place writes go to the new file', async function () {
    const f = new JournalFile(path.join(dir, 'j'));
    await f.write(j);
    const cuts: Journal = { writer: W, groups: [], cuts: [{ file: 'a.csv', at: 10, keep: Buffer.from('3,ok\n').toString('base64') }] };
    await f.write(cuts, true);
    assert.deepEqual(await f.read(), cuts);
    assert.equal(fs.existsSync(f.file + '.tmp'), false);
    await f.write(j);
    assert.deepEqual(await f.read(), j);
    await f.close();
  });

  it('readRanges reads the kept rows of a file; a range past its end is an error', async function () {
    const file = path.join(dir, 'a.csv');
    fs.writeFileSync(file, 'head\nAAA\nBBB\nCCC\n');
    assert.equal((await readRanges(file, [[5, 9], [13, 17]])).toString(), 'AAA\nCCC\n');
    assert.equal((await readRanges(file, [])).length, 0);
    await assert.rejects(readRanges(file, [[13, 30]]), /ends at 17/);
  });
});

describe('csv sink exactly-once > recoverFiles (crash recovery of the files)', function () {
  let dir: string;
  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csv-recover-'));
  });
  afterEach(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const HEAD = 'id,v\n';
  const P1 = '1,p1\n2,p1\n';
  const P2 = '3,"p2\nquoted"\n';
  const P3 = '4,p3\n';
  /** a.csv and b.csv as a flush of t:1, t:2, t:3 left them, and its journal. */
  async function crashedFlush(): Promise<JournalFile> {
    const before = HEAD + '0,old\n';
    fs.writeFileSync(path.join(dir, 'a.csv'), before + P1 + P2 + P3);
    fs.writeFileSync(path.join(dir, 'b.csv'), HEAD + P2);
    const b = Buffer.byteLength(before);
    const at = (...parts: string[]) => b + Buffer.byteLength(parts.join(''));
    const h = Buffer.byteLength(HEAD);
    const journal = new JournalFile(path.join(dir, '.journal'));
    await journal.write({
      writer: W,
      groups: [
        group('t:1', 1, 4, { 'a.csv': [b, at(P1)] }),
        group('t:2', 1, 5, { 'a.csv': [at(P1), at(P1, P2)], 'b.csv': [h, h + Buffer.byteLength(P2)] }),
        group('t:3', 1, 6, { 'a.csv': [at(P1, P2), at(P1, P2, P3)] }),
      ],
    });
    return journal;
  }
  const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');

  it('keeps the rows of the groups that landed, cuts the others out, clears the journal', async function () {
    const journal = await crashedFlush();
    const asked: string[] = [];
    const r = await recoverFiles(dir, journal, async (tp, partition) => {
      asked.push(`${tp}/${partition}`);
      return states({ 't:1': 4, 't:3': 6 }).get(tp) ?? { positions: {}, commits: {} };
    });
    assert.deepEqual(asked.sort(), ['t:1/1', 't:2/2', 't:3/3']);
    assert.deepEqual(r, { files: 2, tps: ['t:1', 't:2', 't:3'] });
    assert.equal(read('a.csv'), HEAD + '0,old\n' + P1 + P3);
    assert.equal(read('b.csv'), HEAD);
    assert.equal(await journal.read(), null);
    assert.deepEqual(await recoverFiles(dir, journal, async () => assert.fail('no journal: nothing to ask')), { files: 0, tps: [] });
    await journal.close();
  });

  it('a crash during its own cuts: the journaled cuts are redone from a file cut but not yet refilled', async function () {
    const journal = await crashedFlush();
    // What recovery journals before cutting (committed rows move)...
    const cutAt = Buffer.byteLength(HEAD + '0,old\n' + P1);
    await journal.write({ writer: W, groups: [], cuts: [{ file: 'a.csv', at: cutAt, keep: Buffer.from(P3).toString('base64') }] }, true);
    // ...and a crash right after the truncate.
    fs.truncateSync(path.join(dir, 'a.csv'), cutAt);
    const r = await recoverFiles(dir, journal, async () => assert.fail('cuts need no state'));
    assert.equal(r.files, 1);
    assert.equal(read('a.csv'), HEAD + '0,old\n' + P1 + P3);
    assert.equal(await journal.read(), null);
    await journal.close();
  });

  it('nothing landed: every file back to its size before the flush, torn rows included', async function () {
    const journal = await crashedFlush();
    fs.appendFileSync(path.join(dir, 'a.csv'), '5,tor');
    await recoverFiles(dir, journal, async () => ({ positions: {}, commits: {} }));
    assert.equal(read('a.csv'), HEAD + '0,old\n');
    assert.equal(read('b.csv'), HEAD);
    await journal.close();
  });
});
