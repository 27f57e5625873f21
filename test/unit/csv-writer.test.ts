import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { promises as fsp, type promises as fsTypes } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CsvWriter, truncateTo, type GroupCommit, type GroupRanges, type Segment, type TailCut, type WriterEvent, type WriterOptions } from '../../nodes/csv-sink/writer';
import { bytesOf, writeAllOf } from '../../nodes/csv-sink/file-ops';
import { useRuntimeCatalogues } from '../nodes/_catalogues';

type FileHandle = fsTypes.FileHandle;

const HEADER = 'id,text';

/** One segment of `rows` (each a CSV line without its newline) for `file`. */
function seg(file: string, ...rows: string[]): Segment {
  return { file, header: HEADER, text: rows.map((r) => r + '\n').join(''), rows: rows.length };
}

/** The file's text: the header, then the rows. */
function csv(...rows: string[]): string {
  return [HEADER, ...rows].map((r) => r + '\n').join('');
}

interface Done {
  err?: Error;
  aborted?: boolean;
}

/** Enqueues a job; resolves with what its callback got (and checks the callback runs once). */
function put(w: CsvWriter, segments: Segment[], group?: string, log?: string[], tag?: string): Promise<Done> {
  return new Promise((resolve, reject) => {
    let calls = 0;
    w.enqueue(
      segments,
      (err, aborted) => {
        if (++calls > 1) reject(new Error(`callback of ${tag ?? 'a job'} called twice`));
        if (tag !== undefined) log?.push(`done ${tag}`);
        resolve({ err, aborted });
      },
      group,
    );
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * A GroupCommit that logs its calls (into `log`), the ranges given to prepare (one entry per group) and
 * the cuts given to rewrite; `onPrepare` / `onCommit` / `onRewrite` decide the outcome (default: resolve,
 * 'ok'); `left` collects what settled was told.
 */
class Recorder implements GroupCommit {
  log: string[] = [];
  prepared: { group: string; ranges: Record<string, [number, number]> }[] = [];
  rewrites: { file: string; at: number; keep: string }[][] = [];
  left: string[] = [];
  private prepares = 0;
  onPrepare: (groups: string[], n: number) => Promise<void> = async () => undefined;
  onCommit: (group: string, n: number) => Promise<'ok' | 'abort'> = async () => 'ok';
  onRewrite: (n: number) => Promise<void> = async () => undefined;
  async prepare(groups: readonly GroupRanges[]): Promise<void> {
    const names = groups.map((g) => g.group);
    this.log.push(`prepare ${names.join(',')}`);
    for (const g of groups) this.prepared.push({ group: g.group, ranges: { ...g.ranges } });
    return this.onPrepare(names, ++this.prepares);
  }
  async commit(group: string): Promise<'ok' | 'abort'> {
    this.log.push(`commit ${group}`);
    return this.onCommit(group, this.log.filter((l) => l.startsWith('commit')).length);
  }
  async rewrite(cuts: readonly TailCut[]): Promise<void> {
    this.log.push(`rewrite ${cuts.map((c) => c.file).join(',')}`);
    this.rewrites.push(cuts.map((c) => ({ file: c.file, at: c.at, keep: c.keep.toString('utf8') })));
    return this.onRewrite(this.rewrites.length);
  }
  settled(left: 'done' | 'cut' | 'owed'): void {
    this.left.push(left);
  }
}

describe('csv writer > group commit', function () {
  // Its error texts come from the csv sink's catalogue, as a node's runtime gives them (nodes/nr/i18n.ts).
  before(async function () {
    await useRuntimeCatalogues();
  });

  this.timeout(20000);
  let dir: string;
  let writers: CsvWriter[];
  let events: WriterEvent[];

  function writer(gc: GroupCommit | undefined, over: Partial<WriterOptions> = {}): CsvWriter {
    const w = new CsvWriter({ folder: dir, flushIntervalMs: 5, retryBaseMs: 10, groupCommit: gc, onEvent: (ev) => events.push(ev), ...over });
    writers.push(w);
    return w;
  }
  const file = (name: string) => path.join(dir, name);
  const read = (name: string) => fs.readFileSync(file(name), 'utf8');
  const bytes = (text: string) => Buffer.byteLength(text, 'utf8');
  /** The byte range `[start, end)` that `rows` occupy after the file's text `before`. */
  const range = (before: string, ...rows: string[]): [number, number] => [bytes(before), bytes(before) + bytes(rows.map((r) => r + '\n').join(''))];
  const HEAD = HEADER + '\n';

  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csv-writer-'));
    writers = [];
    events = [];
  });
  afterEach(async function () {
    await Promise.all(writers.map((w) => w.close(1000)));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('completes a group\'s jobs only after prepare (the byte ranges of its rows) and commit ok; the files hold header and rows', async function () {
    const gc = new Recorder();
    const w = writer(gc);
    assert.deepEqual(await put(w, [seg('a.csv', '1,u')]), { err: undefined, aborted: undefined });
    assert.deepEqual(gc.log, [], 'no group: no prepare or commit');

    const finished: string[] = [];
    gc.onCommit = async () => {
      // Written (and synced) before commit, not yet acknowledged.
      assert.equal(read('a.csv'), csv('1,u', '2,g', '3,g', '5,g'));
      assert.equal(read('b.csv'), csv('4,g'));
      assert.deepEqual(finished, []);
      return 'ok';
    };
    const jobs = [
      put(w, [seg('a.csv', '2,g', '3,g'), seg('b.csv', '4,g')], 'smoke_stream:3').then((r) => (finished.push('1'), r)),
      put(w, [seg('a.csv', '5,g')], 'smoke_stream:3').then((r) => (finished.push('2'), r)),
    ];
    const results = await Promise.all(jobs);
    assert.deepEqual(results, [{ err: undefined, aborted: undefined }, { err: undefined, aborted: undefined }]);
    assert.deepEqual(finished, ['1', '2']);
    assert.deepEqual(gc.log, ['prepare smoke_stream:3', 'commit smoke_stream:3']);
    assert.deepEqual(gc.prepared, [{ group: 'smoke_stream:3', ranges: { 'a.csv': range(csv('1,u'), '2,g', '3,g', '5,g'), 'b.csv': range(HEAD, '4,g') } }]);
    assert.deepEqual(gc.left, ['done']);
    assert.equal(read('a.csv'), csv('1,u', '2,g', '3,g', '5,g'));
    assert.equal(read('b.csv'), csv('4,g'));
    assert.equal(w.rowsWritten, 5);
  });

  it('commit abort: cuts each file back to its size before byte for byte, jobs get aborted without error, later writes append right after the cut', async function () {
    const gc = new Recorder();
    const w = writer(gc);
    await put(w, [seg('a.csv', '1,"quoted\nnewline"')]);
    const before = fs.readFileSync(file('a.csv'));
    gc.onCommit = async () => 'abort';
    const r = await Promise.all([
      put(w, [seg('a.csv', '2,g'), seg('b.csv', '3,g')], 'p:0'),
      put(w, [seg('sub/c.csv', '4,g')], 'p:0'),
    ]);
    assert.deepEqual(r, [{ err: undefined, aborted: true }, { err: undefined, aborted: true }]);
    assert.deepEqual(gc.prepared[0].ranges, { 'a.csv': [before.length, before.length + 4], 'b.csv': range(HEAD, '3,g'), 'sub/c.csv': range(HEAD, '4,g') });
    assert.deepEqual(gc.rewrites, [], 'aborted rows at the tail: no rewrite');
    assert.deepEqual(gc.left, ['cut']);
    assert.ok(fs.readFileSync(file('a.csv')).equals(before), 'a.csv back to its prior bytes');
    assert.equal(fs.statSync(file('b.csv')).size, 0, 'a new file back to empty (header cut too)');
    assert.equal(fs.statSync(file('sub/c.csv')).size, 0);
    assert.equal(w.rowsWritten, 1, 'aborted rows not counted');

    // After the cut: the next rows follow the good part; a file cut back to empty gets its header again.
    gc.onCommit = async () => 'ok';
    assert.deepEqual(await put(w, [seg('a.csv', '5,u'), seg('b.csv', '6,u')]), { err: undefined, aborted: undefined });
    assert.deepEqual(await put(w, [seg('b.csv', '7,g'), seg('a.csv', '8,g')], 'p:0'), { err: undefined, aborted: undefined });
    assert.deepEqual(gc.prepared[1].ranges, { 'b.csv': range(csv('6,u'), '7,g'), 'a.csv': range(csv('1,"quoted\nnewline"', '5,u'), '8,g') });
    assert.equal(read('a.csv'), csv('1,"quoted\nnewline"', '5,u', '8,g'));
    assert.equal(read('b.csv'), csv('6,u', '7,g'));
    assert.equal(w.rowsWritten, 5);

    // And after a restart (files reopened and checked), no second header.
    await w.close();
    const w2 = writer(gc);
    await put(w2, [seg('b.csv', '9,g')], 'p:0');
    assert.equal(read('b.csv'), csv('6,u', '7,g', '9,g'));
  });

  it('a rejected commit cuts the rows back like abort, and fails the jobs with its error', async function () {
    const gc = new Recorder();
    const w = writer(gc);
    await put(w, [seg('a.csv', '1,u')]);
    gc.onCommit = async () => {
      throw new Error('position record lost');
    };
    const r = await put(w, [seg('a.csv', '2,g')], 'p:1');
    assert.match(r.err?.message ?? '', /position record lost/);
    assert.equal(r.aborted, true);
    assert.equal(read('a.csv'), csv('1,u'));
    assert.equal(w.rowsWritten, 1);
  });

  it('interleaved jobs of two groups and without group in one flush: ungrouped written first, each group contiguous in queue order, prepared together and committed once each, callbacks in queue order', async function () {
    const gc = new Recorder();
    const log = gc.log;
    const w = writer(gc, { flushIntervalMs: 60000, flushRows: 7 });
    const seen: string[] = [];
    gc.onCommit = async () => {
      seen.push(read('a.csv'));
      return 'ok';
    };
    const jobs = [
      put(w, [seg('a.csv', 'A1,p1')], 'p:1', log, 'A1'),
      put(w, [seg('a.csv', 'U1,-')], undefined, log, 'U1'),
      put(w, [seg('a.csv', 'B1,p2')], 'p:2', log, 'B1'),
      put(w, [seg('a.csv', 'A2,p1'), seg('b.csv', 'A3,p1')], 'p:1', log, 'A2'),
      put(w, [seg('b.csv', 'U2,-')], undefined, log, 'U2'),
      // the 7th row starts the flush
      put(w, [seg('a.csv', 'B2,p2')], 'p:2', log, 'B2'),
    ];
    const results = await Promise.all(jobs);
    assert.ok(results.every((r) => r.err === undefined && r.aborted === undefined));
    assert.equal(read('a.csv'), csv('U1,-', 'A1,p1', 'A2,p1', 'B1,p2', 'B2,p2'));
    assert.equal(read('b.csv'), csv('U2,-', 'A3,p1'));
    const all = csv('U1,-', 'A1,p1', 'A2,p1', 'B1,p2', 'B2,p2');
    assert.deepEqual(seen, [all, all], 'every row of the flush is written before the commits');
    assert.deepEqual(log, ['prepare p:1,p:2', 'commit p:1', 'commit p:2', 'done A1', 'done U1', 'done B1', 'done A2', 'done U2', 'done B2']);
    assert.deepEqual(gc.prepared, [
      { group: 'p:1', ranges: { 'a.csv': range(csv('U1,-'), 'A1,p1', 'A2,p1'), 'b.csv': range(csv('U2,-'), 'A3,p1') } },
      { group: 'p:2', ranges: { 'a.csv': range(csv('U1,-', 'A1,p1', 'A2,p1'), 'B1,p2', 'B2,p2') } },
    ]);
    assert.equal(w.rowsWritten, 7);
  });

  it('commits the groups of a flush concurrently: each commit starts before any other ends', async function () {
    const gc = new Recorder();
    const started = new Set<string>();
    let release!: () => void;
    const allStarted = new Promise<void>((r) => (release = r));
    gc.onCommit = async (group) => {
      started.add(group);
      if (started.size === 3) release();
      // Sequential commits would wait here for ever (the test's timeout).
      await allStarted;
      return 'ok';
    };
    const w = writer(gc, { flushIntervalMs: 60000, flushRows: 3 });
    const r = await Promise.all([put(w, [seg('a.csv', '1,p1')], 'p:1'), put(w, [seg('a.csv', '2,p2')], 'p:2'), put(w, [seg('a.csv', '3,p3')], 'p:3')]);
    assert.ok(r.every((x) => x.err === undefined && x.aborted === undefined));
    assert.deepEqual([...started].sort(), ['p:1', 'p:2', 'p:3']);
    assert.equal(read('a.csv'), csv('1,p1', '2,p2', '3,p3'));
  });

  it('a group aborted between committed ones: its rows are cut out, the later committed rows journaled (rewrite) and kept byte for byte', async function () {
    const gc = new Recorder();
    gc.onCommit = async (group) => (group === 'p:2' ? 'abort' : 'ok');
    const w = writer(gc, { flushIntervalMs: 60000, flushRows: 6 });
    const r = await Promise.all([
      put(w, [seg('a.csv', '1,p1'), seg('b.csv', '1,p1')], 'p:1'),
      put(w, [seg('a.csv', '2,"p2\nquoted"'), seg('b.csv', '2,p2')], 'p:2'),
      put(w, [seg('a.csv', '3,p3')], 'p:3'),
      put(w, [seg('c.csv', '4,p2')], 'p:2'),
    ]);
    assert.deepEqual(r, [
      { err: undefined, aborted: undefined },
      { err: undefined, aborted: true },
      { err: undefined, aborted: undefined },
      { err: undefined, aborted: true },
    ]);
    assert.equal(read('a.csv'), csv('1,p1', '3,p3'));
    assert.equal(read('b.csv'), csv('1,p1'));
    assert.equal(fs.statSync(file('c.csv')).size, 0, 'nothing of the flush stays: a new file goes back to empty');
    // One rewrite, before the cuts, with every file's cut (a crash in the middle redoes them all).
    assert.deepEqual(gc.log, ['prepare p:1,p:2,p:3', 'commit p:1', 'commit p:2', 'commit p:3', 'rewrite a.csv,b.csv,c.csv']);
    assert.deepEqual(gc.rewrites, [[
      { file: 'a.csv', at: bytes(csv('1,p1')), keep: '3,p3\n' },
      { file: 'b.csv', at: bytes(csv('1,p1')), keep: '' },
      { file: 'c.csv', at: 0, keep: '' },
    ]]);
    assert.deepEqual(gc.left, ['cut']);
    assert.equal(w.rowsWritten, 3);
    // The next flush (on close) appends after the cut.
    const next = put(w, [seg('a.csv', '5,p1')], 'p:1');
    await w.close();
    assert.deepEqual(await next, { err: undefined, aborted: undefined });
    assert.equal(read('a.csv'), csv('1,p1', '3,p3', '5,p1'));
  });

  it('a rewrite that cannot be journaled leaves the cut owed: settled says so, the next flush journals and makes it before writing', async function () {
    const gc = new Recorder();
    gc.onCommit = async (group, n) => (group === 'p:1' && n <= 2 ? 'abort' : 'ok');
    gc.onRewrite = async (n) => {
      if (n === 1) throw new Error('journal disk gone');
    };
    const w = writer(gc, { flushIntervalMs: 60000, flushRows: 2 });
    const r = await Promise.all([put(w, [seg('a.csv', '1,p1')], 'p:1'), put(w, [seg('a.csv', '2,p2')], 'p:2')]);
    assert.deepEqual(r.map((x) => x.aborted), [true, undefined]);
    assert.equal(read('a.csv'), csv('1,p1', '2,p2'), 'not cut yet');
    assert.deepEqual(gc.left, ['owed'], 'the journal must stay');
    assert.ok(events.some((e) => e.kind === 'error' && /journal disk gone/.test(e.error.message) && e.willRetry));
    const r2 = await Promise.all([put(w, [seg('a.csv', '3,p3')], 'p:3'), put(w, [seg('b.csv', '4,p2')], 'p:2')]);
    assert.ok(r2.every((x) => x.err === undefined && x.aborted === undefined));
    assert.deepEqual(gc.rewrites.map((x) => x.map((c) => [c.file, c.at, c.keep])), [
      [['a.csv', bytes(HEAD), '2,p2\n']],
      [['a.csv', bytes(HEAD), '2,p2\n']],
    ], 'journaled again before it was made');
    assert.equal(read('a.csv'), csv('2,p2', '3,p3'));
    assert.equal(read('b.csv'), csv('4,p2'));
    assert.deepEqual(gc.left, ['owed', 'done']);
  });

  it('a group whose jobs have no rows is still prepared (no files) and committed', async function () {
    const gc = new Recorder();
    const w = writer(gc);
    assert.deepEqual(await put(w, [], 'p:5'), { err: undefined, aborted: undefined });
    assert.deepEqual(gc.prepared, [{ group: 'p:5', ranges: {} }]);
    assert.deepEqual(gc.log, ['prepare p:5', 'commit p:5']);
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it('retries a group whose prepare rejects once (backoff), then writes its rows once', async function () {
    const gc = new Recorder();
    gc.onPrepare = async (_g, n) => {
      if (n === 1) throw new Error('journal not reachable');
    };
    const w = writer(gc);
    await put(w, [seg('a.csv', '1,u')]);
    const r = await put(w, [seg('a.csv', '2,g', '3,g')], 'p:1');
    assert.deepEqual(r, { err: undefined, aborted: undefined });
    assert.deepEqual(gc.log, ['prepare p:1', 'prepare p:1', 'commit p:1']);
    assert.deepEqual(gc.prepared.map((p) => p.ranges), [{ 'a.csv': range(csv('1,u'), '2,g', '3,g') }, { 'a.csv': range(csv('1,u'), '2,g', '3,g') }]);
    assert.equal(read('a.csv'), csv('1,u', '2,g', '3,g'));
    const errors = events.filter((e) => e.kind === 'error');
    assert.equal(errors.length, 1);
    assert.deepEqual(errors.map((e) => e.kind === 'error' && [e.group, e.willRetry, e.attempt, e.error.message]), [['p:1', true, 1, 'journal not reachable']]);
  });

  it('fails every job of a group whose prepare keeps rejecting, after the configured tries, without writing', async function () {
    const gc = new Recorder();
    gc.onPrepare = async () => {
      throw new Error('journal down');
    };
    const w = writer(gc, { maxTries: 3 });
    const r = await Promise.all([put(w, [seg('a.csv', '1,g')], 'p:1'), put(w, [seg('b.csv', '2,g')], 'p:1')]);
    for (const x of r) assert.match(x.err?.message ?? '', /CSV group p:1: prepare failed after 3 attempts: journal down/);
    assert.deepEqual(gc.log, ['prepare p:1', 'prepare p:1', 'prepare p:1']);
    assert.equal(fs.statSync(file('a.csv')).size, 0, 'opened (to learn its size), nothing written');
  });

  it('a write failing after prepare on a group\'s second file (half written): both files cut back, prepared and written again, rows once', async function () {
    // Fault injection: the first write of the row "3,g" writes 3 bytes, then fails with EIO.
    const probe = await fs.promises.open(file('probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { write: (this: unknown, ...a: unknown[]) => Promise<unknown> };
    await probe.close();
    fs.rmSync(file('probe'));
    const write = proto.write;
    let failOnce = false;
    proto.write = async function (this: unknown, ...args: unknown[]) {
      const buf = args[0];
      if (failOnce && Buffer.isBuffer(buf) && buf.includes('3,g')) {
        failOnce = false;
        await write.call(this, buf, 0, 3);
        throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
      }
      return write.apply(this, args);
    };
    try {
      const gc = new Recorder();
      const seen: string[][] = [];
      gc.onPrepare = async (_g, n) => {
        seen.push([read('a.csv'), read('b.csv')]);
        if (n === 1) failOnce = true;
      };
      const w = writer(gc);
      await put(w, [seg('a.csv', '1,u'), seg('b.csv', '0,u')]);
      const r = await put(w, [seg('a.csv', '2,g'), seg('b.csv', '3,g')], 'p:1');
      assert.deepEqual(r, { err: undefined, aborted: undefined });
      assert.deepEqual(gc.log, ['prepare p:1', 'prepare p:1', 'commit p:1']);
      assert.deepEqual(seen, [[csv('1,u'), csv('0,u')], [csv('1,u'), csv('0,u')]], 'the failed attempt left nothing');
      assert.deepEqual(gc.prepared[1].ranges, gc.prepared[0].ranges);
      assert.equal(read('a.csv'), csv('1,u', '2,g'));
      assert.equal(read('b.csv'), csv('0,u', '3,g'));
      const errors = events.filter((e) => e.kind === 'error');
      assert.deepEqual(errors.map((e) => e.kind === 'error' && [e.file, e.group, e.willRetry]), [['b.csv', 'p:1', true]]);
    } finally {
      proto.write = write;
    }
  });

  it('a group file that cannot be opened yet (ENOTDIR): the group is retried as a whole, prepared once its files are open', async function () {
    const gc = new Recorder();
    const w = writer(gc);
    await put(w, [seg('a.csv', '1,u')]);
    // sub/ cannot be created while a file stands in its place (ENOTDIR, may pass): removed at the first error.
    fs.writeFileSync(file('sub'), '');
    const w0 = events.length;
    const r = put(w, [seg('a.csv', '2,g'), seg('sub/b.csv', '3,g')], 'p:1');
    while (!events.slice(w0).some((e) => e.kind === 'error')) await sleep(1);
    fs.rmSync(file('sub'));
    assert.deepEqual(await r, { err: undefined, aborted: undefined });
    assert.equal(read('a.csv'), csv('1,u', '2,g'), 'no duplicate row from the failed attempt');
    assert.equal(read('sub/b.csv'), csv('3,g'));
    assert.deepEqual(gc.log, ['prepare p:1', 'commit p:1'], 'the open failed before prepare');
    const e = events.find((x) => x.kind === 'error');
    assert.ok(e && e.kind === 'error' && e.file === 'sub/b.csv' && e.group === 'p:1' && e.willRetry);
  });

  it('a permanent error on one file of a group (a folder in its place) fails all the group\'s jobs at once, unprepared; rows without group unaffected', async function () {
    const gc = new Recorder();
    const w = writer(gc);
    await put(w, [seg('a.csv', '1,u')]);
    fs.mkdirSync(file('dir.csv'));
    const r = await Promise.all([put(w, [seg('a.csv', '2,g')], 'p:1'), put(w, [seg('dir.csv', '3,g')], 'p:1'), put(w, [seg('a.csv', '4,u')])]);
    assert.match(r[0].err?.message ?? '', /CSV write to dir.csv failed: .*EISDIR/);
    assert.match(r[1].err?.message ?? '', /EISDIR/);
    assert.deepEqual(r[2], { err: undefined, aborted: undefined }, 'rows without group unaffected');
    assert.deepEqual(gc.log, [], 'the open failed: neither prepared nor committed');
    assert.equal(read('a.csv'), csv('1,u', '4,u'));
  });

  it('a slow commit (300 ms): the groups of a flush commit at once, jobs enqueued meanwhile go into the next flush, nothing is written twice', async function () {
    const gc = new Recorder();
    const snapshots: string[] = [];
    gc.onCommit = async () => {
      snapshots.push(read('a.csv'));
      await sleep(300);
      return 'ok';
    };
    const w = writer(gc);
    const first = [put(w, [seg('a.csv', '1,g')], 'p:1'), put(w, [seg('a.csv', '2,g')], 'p:2')];
    // Enqueued while the first commit runs (it has started: it took its snapshot).
    while (snapshots.length === 0) await sleep(1);
    const later = [put(w, [seg('a.csv', '3,g')], 'p:1'), put(w, [seg('a.csv', '4,u')]), put(w, [seg('a.csv', '5,g')], 'p:2')];
    const results = await Promise.all([...first, ...later]);
    assert.ok(results.every((r) => r.err === undefined && !r.aborted), JSON.stringify(results));
    assert.equal(read('a.csv'), csv('1,g', '2,g', '4,u', '3,g', '5,g'));
    assert.deepEqual(gc.log, ['prepare p:1,p:2', 'commit p:1', 'commit p:2', 'prepare p:1,p:2', 'commit p:1', 'commit p:2']);
    const second = csv('1,g', '2,g', '4,u', '3,g', '5,g');
    assert.deepEqual(snapshots, [csv('1,g', '2,g'), csv('1,g', '2,g'), second, second]);
    assert.equal(w.rowsWritten, 5);
  });

  it('close() waits for a group commit in progress', async function () {
    const gc = new Recorder();
    gc.onCommit = async () => {
      await sleep(200);
      return 'ok';
    };
    const w = writer(gc, { flushIntervalMs: 60000 });
    const order: string[] = [];
    const job = put(w, [seg('a.csv', '1,g')], 'p:1').then((r) => (order.push('job'), r));
    await w.close(5000);
    order.push('closed');
    assert.deepEqual(await job, { err: undefined, aborted: undefined });
    assert.deepEqual(order, ['job', 'closed']);
    assert.equal(read('a.csv'), csv('1,g'));
  });

  it('close() with a short timeout while a commit never resolves: resolves in time, the jobs fail, the rows are not cut', async function () {
    const gc = new Recorder();
    gc.onCommit = () => new Promise<'ok' | 'abort'>(() => undefined);
    const w = writer(gc);
    const inflight = put(w, [seg('a.csv', '1,g')], 'p:1');
    while (gc.log.length < 2) await sleep(1);
    const queued = put(w, [seg('a.csv', '2,g')], 'p:2');
    const t0 = Date.now();
    await w.close(100);
    const took = Date.now() - t0;
    assert.ok(took < 1000, `close took ${took} ms`);
    for (const r of [await inflight, await queued]) {
      assert.match(r.err?.message ?? '', /closed before the rows could be written \(waited 100 ms\)/);
      assert.equal(r.aborted, undefined);
    }
    assert.equal(read('a.csv'), csv('1,g'), 'left for the caller\'s recovery');
    assert.deepEqual(gc.log, ['prepare p:1', 'commit p:1']);
    assert.match((await put(w, [seg('a.csv', '3,u')])).err?.message ?? '', /closing/);
    writers = writers.filter((x) => x !== w);
  });

  it('a commit that resolves abort only after close() gave up: the rows are not cut (the caller\'s recovery decides)', async function () {
    const gc = new Recorder();
    gc.onCommit = async () => {
      await sleep(250);
      return 'abort';
    };
    const w = writer(gc);
    const job = put(w, [seg('a.csv', '1,g')], 'p:1');
    while (gc.log.length < 2) await sleep(1);
    await w.close(50);
    assert.match((await job).err?.message ?? '', /closed before the rows could be written/);
    // The flush ends once the late abort is in: it settles, leaving the journal to the recovery.
    while (gc.left.length === 0) await sleep(5);
    assert.deepEqual(gc.left, ['owed']);
    assert.equal(read('a.csv'), csv('1,g'));
    assert.equal(w.rowsWritten, 0);
  });

  it('without groupCommit, a job\'s group is ignored: rows written as without group', async function () {
    const w = writer(undefined);
    const r = await Promise.all([put(w, [seg('a.csv', '1,g')], 'p:1'), put(w, [seg('a.csv', '2,u')]), put(w, [seg('a.csv', '3,g')], 'p:2')]);
    assert.ok(r.every((x) => x.err === undefined && x.aborted === undefined));
    assert.equal(read('a.csv'), csv('1,g', '2,u', '3,g'));
    assert.equal(w.rowsWritten, 3);
  });

  it('truncateTo cuts a file back only when larger, refuses a symbolic link; the writer notices the cut at its next write', async function () {
    const gc = new Recorder();
    const w = writer(gc);
    await put(w, [seg('a.csv', '1,u', '2,u', '3,u')]);
    const good = bytes(csv('1,u'));
    assert.equal(await truncateTo(file('a.csv'), good), true);
    assert.equal(await truncateTo(file('a.csv'), good), false, 'not larger: nothing to cut');
    assert.equal(await truncateTo(file('a.csv'), good + 100), false);
    assert.equal(await truncateTo(file('missing.csv'), 0), false);
    fs.symlinkSync(file('a.csv'), file('link.csv'));
    await assert.rejects(truncateTo(file('link.csv'), 0), /symbolic link/);
    assert.equal(read('a.csv'), csv('1,u'));

    await put(w, [seg('a.csv', '4,g')], 'p:1');
    assert.deepEqual(gc.prepared[0].ranges, { 'a.csv': range(csv('1,u'), '4,g') }, 'prepare sees the size after the cut');
    assert.equal(read('a.csv'), csv('1,u', '4,g'));
  });

  it('truncateTo with rows to keep: cut and append them, redone the same after a crash at any point of it', async function () {
    const full = file('k.csv');
    const good = csv('1,ok');
    const keep = Buffer.from('3,ok\n');
    for (const state of [good + '2,aborted\n3,ok\n', good, good + '3,ok\n', good + '3,']) {
      fs.writeFileSync(full, state);
      assert.equal(await truncateTo(full, bytes(good), keep), true, state);
      assert.equal(read('k.csv'), good + '3,ok\n');
    }
    fs.writeFileSync(full, HEAD);
    assert.equal(await truncateTo(full, bytes(good), keep), false, 'shorter than the cut: not ours to fix');
    assert.equal(read('k.csv'), HEAD);
  });

  it('keeps more files than maxOpenFiles open while a group spans them, and cuts them all on abort', async function () {
    const gc = new Recorder();
    gc.onCommit = async (_g, n) => (n === 1 ? 'abort' : 'ok');
    const w = writer(gc, { maxOpenFiles: 1 });
    await put(w, [seg('a.csv', '0,u'), seg('b.csv', '0,u'), seg('c.csv', '0,u')]);
    const r = await put(w, [seg('a.csv', '1,g'), seg('b.csv', '1,g'), seg('c.csv', '1,g')], 'p:1');
    assert.deepEqual(r, { err: undefined, aborted: true });
    for (const f of ['a.csv', 'b.csv', 'c.csv']) assert.equal(read(f), csv('0,u'));
    await put(w, [seg('a.csv', '2,g'), seg('b.csv', '2,g'), seg('c.csv', '2,g')], 'p:1');
    for (const f of ['a.csv', 'b.csv', 'c.csv']) assert.equal(read(f), csv('0,u', '2,g'));
  });
});

describe('csv writer > file operations', function () {
  let dir: string;
  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csv-file-ops-'));
  });
  afterEach(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Buffers of every size from empty to a few kB, non-ASCII bytes among them. */
  function pieces(n: number): Buffer[] {
    return Array.from({ length: n }, (_, i) => Buffer.from(i % 7 === 0 ? '' : `${i},é🔥,`.repeat(1 + (i % 300)) + '\n', 'utf8'));
  }

  it('writeAllOf appends every buffer in order, across the system limit of buffers per call (IOV_MAX 1024)', async function () {
    const file = path.join(dir, 'a.csv');
    fs.writeFileSync(file, 'head\n');
    for (const n of [1, 2, 3000]) {
      const before = fs.readFileSync(file);
      const bufs = pieces(n);
      const fh = await fsp.open(file, 'a');
      try {
        assert.equal(await writeAllOf(fh, bufs), Buffer.concat(bufs).length);
      } finally {
        await fh.close();
      }
      assert.ok(fs.readFileSync(file).equals(Buffer.concat([before, ...bufs])), `${n} buffers`);
    }
  });

  it('writeAllOf goes on after a short write, from the byte where it stopped', async function () {
    const bufs = pieces(40);
    const got: Buffer[] = [];
    let calls = 0;
    // A handle whose every writev takes 1 to 97 bytes only (a file system under pressure may write less).
    const short = {
      async writev(b: Buffer[]) {
        const all = Buffer.concat(b);
        const n = Math.min(all.length, 1 + ((calls++ * 31) % 97));
        got.push(all.subarray(0, n));
        return { bytesWritten: n, buffers: b };
      },
      async write(b: Buffer, off: number, len: number) {
        const n = Math.min(len, 1 + ((calls++ * 31) % 97));
        got.push(Buffer.from(b.subarray(off, off + n)));
        return { bytesWritten: n, buffer: b };
      },
    } as unknown as FileHandle;
    const total = Buffer.concat(bufs).length;
    assert.equal(await writeAllOf(short, bufs), total);
    assert.ok(Buffer.concat(got).equals(Buffer.concat(bufs)));
    assert.ok(calls > total / 97, 'it took many calls');
  });

  it('bytesOf: texts, bytes or both, one buffer of their UTF-8 in order', function () {
    const texts = ['1,é\n', '2,🔥\n', '', '3,x\n'];
    const want = Buffer.from(texts.join(''), 'utf8');
    assert.ok(bytesOf(texts).equals(want));
    assert.ok(bytesOf(texts.map((t) => Buffer.from(t, 'utf8'))).equals(want));
    assert.ok(bytesOf(texts.map((t, i) => (i % 2 ? Buffer.from(t, 'utf8') : t))).equals(want));
    const one = Buffer.from('4,y\n');
    assert.equal(bytesOf([one]), one, 'a single buffer is not copied');
    assert.ok(bytesOf(['5,ü\n']).equals(Buffer.from('5,ü\n', 'utf8')));
  });
});
