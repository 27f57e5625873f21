/**
 * The sliding window's checkpoints and Kafka commit holds (nodes/sliding-window/checkpoint.ts) with an
 * injected store and a fake `kafka in` in the ack registry: which tokens are held, when a checkpoint
 * is taken, and that a token is released only once a checkpoint holding its records is durable.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Checkpointer, checkpointSeqInFile, type CheckpointTarget, type Durability } from '../../nodes/sliding-window/checkpoint';
import { OffsetGate, checkpointStore, kafkaPosition, nodeContextFile } from '../../nodes/sliding-window/support';
import { registerConsumer, unregisterConsumer, type ConsumerHandler } from '../../nodes/nr/ack';
import { OffsetTracker } from '../../nodes/lib/kafka-offsets';
import type { WindowResult } from '../../nodes/lib/window';

/* eslint-disable @typescript-eslint/no-explicit-any */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(10);
  }
}

/** A fake `kafka in`: an OffsetTracker behind the ack registry, one unit per message of one partition. */
function fakeConsumer(id = 'kin') {
  const tracker = new OffsetTracker();
  const late: number[] = [];
  const handler: ConsumerHandler = {
    ack: (u, n) => tracker.ack(u, n),
    hold: (u, holder) => {
      const r = tracker.hold(u, holder);
      if (r === 'late') late.push(u);
      return r;
    },
    release: (u, holder) => tracker.release(u, holder),
  };
  registerConsumer(id, handler);
  let next = 0;
  return {
    tracker,
    late,
    /** A message of `records` records (offsets next..), stamped like kafka in does. */
    message(records: number): Record<string, any> {
      const first = next;
      next += records;
      const u = tracker.track('t', 0, first, next - 1, records, Date.now());
      return { payload: [], kafka: { topic: 't', partition: 0, offsets: [], ack: { consumer: id, id: u, records } } };
    },
    /** The sink acknowledged everything of `msg`. */
    ackAll(msg: Record<string, any>): void {
      tracker.ack(msg.kafka.ack.id, msg.kafka.ack.records);
    },
    committed: () => tracker.commitOffset('t', 0),
    close: () => unregisterConsumer(id, handler),
  };
}

/** A store double: `set` answers after `delayMs` (or fails while `failing`), `disk` follows the set values. */
function fakeStore(durable: 'set' | 'file' | 'time', flushMs = 0) {
  const s = {
    values: [] as Record<string, any>[],
    failing: false,
    delayMs: 0,
    /** seq on "disk" (write-behind stores): moved by flush(). */
    onDisk: undefined as number | undefined,
    /** How often the checkpointer asked which seq is on disk (write-behind file stores). */
    polls: 0,
    flush(): void {
      s.onDisk = s.values.at(-1)?.seq;
    },
    target: undefined as unknown as CheckpointTarget,
  };
  const d: Durability =
    durable === 'set' ? { kind: 'set' } : durable === 'file' ? { kind: 'file', flushMs, diskSeq: async () => (s.polls++, s.onDisk) } : { kind: 'time', flushMs };
  s.target = {
    durable: d,
    set(value, cb) {
      const answer = () => {
        if (s.failing) return cb(new Error('disk full'));
        s.values.push(JSON.parse(JSON.stringify(value)));
        cb();
      };
      if (s.delayMs > 0) setTimeout(answer, s.delayMs);
      else answer();
    },
  };
  return s;
}

function source() {
  const src = { dirty: false, dirtyReads: 0, takes: 0, failed: 0, state: { devices: 1 } as Record<string, unknown> };
  return {
    src,
    api: {
      get dirty() {
        src.dirtyReads++;
        return src.dirty;
      },
      take() {
        src.takes++;
        src.dirty = false;
        return { ...src.state };
      },
      failed() {
        src.failed++;
        src.dirty = true;
      },
    },
  };
}

const result = (deviceId: string, windowStart: number): WindowResult => ({ deviceId, windowStart, windowEnd: windowStart + 300_000, count: 1, final: true }) as any;

describe('sliding-window > checkpoints and Kafka commit holds', function () {
  const open: { close(): void }[] = [];
  const checkpointers: Checkpointer[] = [];
  afterEach(function () {
    for (const c of checkpointers.splice(0)) c.close(true, false, () => undefined);
    for (const c of open.splice(0)) c.close();
  });

  function make(store: ReturnType<typeof fakeStore>, opts: Partial<ConstructorParameters<typeof Checkpointer>[2]> = {}, src = source()) {
    const warnings: string[] = [];
    const cp = new Checkpointer(store.target, src.api, {
      holderId: 'win',
      hold: true,
      replay: true,
      intervalMs: 0,
      holdMs: 50,
      holdRecords: 100,
      pollMs: 10,
      warn: (key) => warnings.push(key),
      ...opts,
    });
    cp.ready = true;
    checkpointers.push(cp);
    return { cp, src: src.src, warnings };
  }

  it('holds a message acknowledged by the sink until a checkpoint is stored, then the offset commits', async function () {
    const kin = fakeConsumer();
    open.push(kin);
    const store = fakeStore('set');
    store.delayMs = 30;
    const { cp, src } = make(store);
    const msg = kin.message(10);
    cp.arrived(msg);
    src.dirty = true;
    kin.ackAll(msg);
    assert.equal(kin.committed(), 0, 'acknowledged by the sink, but held by the window');
    assert.equal(kin.tracker.inFlight, 10);
    await until(() => store.values.length === 1, 1000, 'a checkpoint within the hold period');
    assert.equal(kin.committed(), 10, 'released once the store took the checkpoint');
    assert.equal(kin.tracker.inFlight, 0);
  });

  it('checkpoints as soon as holdRecords records are held, without waiting for the hold period', async function () {
    const kin = fakeConsumer();
    open.push(kin);
    const store = fakeStore('set');
    const { cp } = make(store, { holdMs: 60_000, holdRecords: 25 });
    for (let i = 0; i < 3; i++) {
      const m = kin.message(10);
      cp.arrived(m);
      kin.ackAll(m);
      cp.handled();
    }
    assert.equal(store.values.length, 1, 'one checkpoint once 30 >= 25 records were held');
    assert.equal(kin.committed(), 30);
    assert.equal(cp.heldCount, 0);
  });

  it('spaces checkpoints by costRatio times what the last one took', async function () {
    const kin = fakeConsumer();
    open.push(kin);
    const store = fakeStore('set');
    store.delayMs = 40;
    const { cp } = make(store, { holdMs: 60_000, holdRecords: 1, costRatio: 9 });
    const a = kin.message(1);
    cp.arrived(a);
    kin.ackAll(a);
    cp.handled();
    await until(() => store.values.length === 1, 1000, 'first checkpoint');
    const firstDone = Date.now();
    const b = kin.message(1);
    cp.arrived(b);
    kin.ackAll(b);
    cp.handled();
    await until(() => store.values.length === 2, 2000, 'second checkpoint');
    assert.ok(Date.now() - firstDone >= 9 * 40 - 20, `second one ${Date.now() - firstDone} ms after the first`);
    await until(() => kin.committed() === 2, 1000, 'both released');
  });

  it('with a write-behind store, releases only when the checkpoint (or a later one) is on disk', async function () {
    const kin = fakeConsumer();
    open.push(kin);
    const store = fakeStore('file', 1000);
    const { cp } = make(store);
    const a = kin.message(5);
    cp.arrived(a);
    kin.ackAll(a);
    await until(() => store.values.length === 1, 1000, 'first checkpoint');
    const b = kin.message(5);
    cp.arrived(b);
    kin.ackAll(b);
    await until(() => store.values.length === 2, 1000, 'second checkpoint');
    const polls = store.polls;
    await until(() => store.polls >= polls + 2, 1000, 'the checkpointer asks the disk again');
    assert.equal(kin.committed(), 0, 'stored in memory only: nothing released');
    assert.equal(cp.pending, 2);
    store.onDisk = store.values[0].seq;
    await until(() => kin.committed() === 5, 1000, 'first released');
    assert.equal(cp.pending, 1);
    store.flush();
    await until(() => kin.committed() === 10, 1000, 'second released');
    assert.ok(store.values[1].seq > store.values[0].seq, 'sequence numbers grow');
  });

  it('says once when a long flush interval of the store paces the held Kafka stream', async function () {
    const kin = fakeConsumer();
    open.push(kin);
    const store = fakeStore('file', 30_000);
    const { cp, warnings } = make(store);
    for (let i = 0; i < 2; i++) {
      const m = kin.message(1);
      cp.arrived(m);
      kin.ackAll(m);
      await until(() => store.values.length === i + 1, 1000, 'checkpoint');
      store.flush();
      await until(() => kin.committed() === i + 1, 1000, 'released');
    }
    assert.deepEqual(warnings, ['slow-flush']);
  });

  it('with a write-behind store whose file is unknown, releases flushInterval (plus a margin) after the set', async function () {
    const kin = fakeConsumer();
    open.push(kin);
    const store = fakeStore('time', 100);
    const { cp } = make(store);
    const m = kin.message(3);
    cp.arrived(m);
    kin.ackAll(m);
    await until(() => store.values.length === 1, 1000, 'checkpoint');
    const setAt = Date.now();
    await until(() => kin.committed() === 3, 3000, 'released by time');
    assert.ok(Date.now() - setAt >= 1000, 'not before flushInterval + 1 s');
  });

  it('keeps holding when the store fails, and releases after the next checkpoint that succeeds', async function () {
    const kin = fakeConsumer();
    open.push(kin);
    const store = fakeStore('set');
    store.failing = true;
    const { cp, src, warnings } = make(store);
    const m = kin.message(4);
    cp.arrived(m);
    kin.ackAll(m);
    src.dirty = true;
    await until(() => src.failed >= 1, 1000, 'a failed save');
    assert.deepEqual(warnings.slice(0, 1), ['save-failed']);
    assert.equal(src.dirty, true, 'the state is dirty again');
    assert.equal(kin.committed(), 0);
    store.failing = false;
    await until(() => kin.committed() === 4, 1000, 'released after a successful retry');
  });

  it('warns once when a hold comes after the unit was complete (a node deferred the message)', function () {
    const kin = fakeConsumer();
    open.push(kin);
    const { cp, warnings } = make(fakeStore('set'));
    const a = kin.message(1);
    const b = kin.message(1);
    kin.ackAll(a);
    kin.ackAll(b);
    cp.arrived(a);
    cp.arrived(b);
    assert.deepEqual(warnings, ['hold-late']);
    assert.equal(cp.heldCount, 0);
  });

  it('holds nothing when holding is off, for messages without a token, or when kafka in is gone', async function () {
    const kin = fakeConsumer();
    open.push(kin);
    const off = make(fakeStore('set'), { hold: false });
    const m = kin.message(2);
    off.cp.arrived(m);
    kin.ackAll(m);
    assert.equal(kin.committed(), 2);
    const on = make(fakeStore('set'));
    on.cp.arrived({ payload: {} });
    on.cp.arrived({ payload: {}, kafka: { topic: 't', partition: 0, offset: 1 } });
    on.cp.arrived({ payload: {}, kafka: { ack: { consumer: 'gone', id: 1, records: 1 } } });
    assert.equal(on.cp.heldCount, 0);
  });

  it('on close, saves a final checkpoint without recent results, then releases every hold', async function () {
    const kin = fakeConsumer();
    open.push(kin);
    const store = fakeStore('file', 30_000);
    const { cp, src } = make(store, { holdMs: 60_000 });
    const m = kin.message(7);
    cp.arrived(m);
    kin.ackAll(m);
    src.dirty = true;
    cp.emitted([result('a', 0)], Date.now());
    await new Promise<void>((resolve) => cp.close(false, true, resolve));
    assert.equal(store.values.length, 1);
    assert.equal(store.values[0].recent, undefined, 'sinks drain on a clean stop: nothing to emit again');
    assert.equal(kin.committed(), 7);
  });

  it('on close of a removed node, saves nothing and releases every hold', async function () {
    const kin = fakeConsumer();
    open.push(kin);
    const store = fakeStore('set');
    const { cp } = make(store, { holdMs: 60_000 });
    const m = kin.message(2);
    cp.arrived(m);
    kin.ackAll(m);
    await new Promise<void>((resolve) => cp.close(true, true, resolve));
    assert.equal(store.values.length, 0);
    assert.equal(kin.committed(), 2);
  });

  it('takes no checkpoint before the restored state is in place', async function () {
    const kin = fakeConsumer();
    open.push(kin);
    const store = fakeStore('set');
    const { cp, src } = make(store);
    cp.ready = false;
    const m = kin.message(1);
    cp.arrived(m);
    kin.ackAll(m);
    src.dirty = true;
    // The hold timer tries (a hold period after the message, then again): wait for two tries.
    let tries = 0;
    const checkpoint = cp.checkpoint.bind(cp);
    cp.checkpoint = () => {
      tries++;
      checkpoint();
    };
    await until(() => tries >= 2, 1000, 'two checkpoint tries');
    assert.equal(store.values.length, 0);
    cp.ready = true;
    await until(() => kin.committed() === 1, 1000, 'checkpoint once ready');
  });

  it('keeps the results of the last replayMs in each checkpoint, and gives them back on restore', async function () {
    const store = fakeStore('set');
    const { cp, src } = make(store, { replayMs: 1000, intervalMs: 0 });
    const t = Date.now();
    cp.emitted([result('old', 0)], t - 5000);
    cp.emitted([result('a', 0), result('a', 60_000)], t);
    src.dirty = true;
    cp.checkpoint();
    const saved = store.values[0];
    assert.equal(typeof saved.recent, 'string', 'kept as JSON text');
    assert.deepEqual(
      JSON.parse(saved.recent).map((r: WindowResult) => [r.deviceId, r.windowStart]),
      [
        ['a', 0],
        ['a', 60_000],
      ],
    );
    const next = make(fakeStore('set')).cp;
    assert.deepEqual(next.restored(saved).map((r) => r.deviceId), ['a', 'a']);
    assert.deepEqual(next.restored({ recent: 'not json' }), []);
    assert.deepEqual(make(fakeStore('set'), { replay: false }).cp.restored(undefined), []);
  });

  it('continues the sequence numbers of the restored checkpoint', async function () {
    const store = fakeStore('set');
    const { cp, src } = make(store);
    const future = Date.now() + 3_600_000;
    cp.restored({ seq: future });
    src.dirty = true;
    cp.checkpoint();
    assert.equal(store.values[0].seq, future + 1);
  });

  it('checkpoints the changed state every intervalMs without holds', async function () {
    const store = fakeStore('set');
    const { src } = make(store, { hold: false, intervalMs: 30 });
    await until(() => src.dirtyReads >= 2, 1000, 'two periodic ticks');
    assert.equal(store.values.length, 0, 'nothing changed: nothing written');
    src.dirty = true;
    await until(() => store.values.length === 1, 1000, 'a periodic checkpoint');
  });
});

describe('sliding-window > redelivered Kafka records (OffsetGate)', function () {
  it('reads the per-item offsets of a batch, or the offset of a single record', function () {
    assert.deepEqual(kafkaPosition({ kafka: { topic: 't', partition: 2, offsets: [5, 6] } }, 2), { key: 't:2', offsets: [5, 6], offset: NaN });
    assert.deepEqual(kafkaPosition({ kafka: { topic: 't', partition: 2, offset: 9 } }, -1), { key: 't:2', offsets: null, offset: 9 });
    assert.equal(kafkaPosition({ kafka: { topic: 't', partition: 2, offsets: [5] } }, 2), null, 'offsets not aligned with the payload');
    assert.equal(kafkaPosition({ kafka: { timestamp: 1 } }, -1), null);
    assert.equal(kafkaPosition({}, 3), null);
  });

  it('remembers the highest offset per partition, and survives a checkpoint as JSON', function () {
    const g = new OffsetGate();
    assert.equal(g.highest('t:0'), -1);
    g.advance('t:0', 10);
    g.advance('t:0', 4);
    g.advance('t:1', 0);
    assert.equal(g.highest('t:0'), 10);
    const again = new OffsetGate();
    again.restore(JSON.parse(JSON.stringify(g)));
    assert.equal(again.highest('t:0'), 10);
    assert.equal(again.highest('t:1'), 0);
    again.restore({ 't:0': 'x', 't:1': -3 });
    assert.equal(again.highest('t:0'), -1, 'malformed entries are ignored');
  });
});

describe('sliding-window > context store durability', function () {
  it('tells write-through from write-behind stores and finds the node context file', function () {
    const lfs = checkpointStore({ userDir: '/u', contextStorage: { default: { module: 'localfilesystem' } } }, '');
    assert.deepEqual(lfs.writeBehind, { flushMs: 30_000, dir: path.join('/u', 'context') });
    const tuned = checkpointStore({ userDir: '/u', contextStorage: { disk: { module: 'localfilesystem', config: { flushInterval: 1, dir: '/d', base: 'ctx' } } } }, 'disk');
    assert.deepEqual(tuned.writeBehind, { flushMs: 1000, dir: path.join('/d', 'ctx') });
    assert.equal(checkpointStore({ contextStorage: { default: { module: 'localfilesystem', config: { cache: false } } } }, '').writeBehind, null);
    assert.equal(checkpointStore({ contextStorage: { default: { module: 'memory' } } }, '').writeBehind, null);
    assert.equal(nodeContextFile('/u/context', { id: 'n1', z: 'f1' }), path.join('/u/context', 'f1', 'n1.json'));
    assert.equal(nodeContextFile('/u/context', { id: 'n1', z: 'f1', _alias: 'a1' }), path.join('/u/context', 'f1', 'a1.json'));
    assert.equal(nodeContextFile('/u/context', { id: 'n1' }), undefined);
  });

  it("reads the checkpoint's seq from the head of a localfilesystem context file", async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-window-seq-'));
    try {
      const file = path.join(dir, 'n.json');
      assert.equal(await checkpointSeqInFile(file), undefined, 'no file yet');
      // as localfilesystem writes it: the context object, pretty-printed
      fs.writeFileSync(file, JSON.stringify({ slidingWindow: { seq: 1764277000123, v: 1, sig: 'x', devices: [['a', 1, 2, 3, 4, 'AAAA']] } }, null, 4));
      assert.equal(await checkpointSeqInFile(file), 1764277000123);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
