/**
 * The sliding window's per-message unit (nodes/sliding-window/runner.ts) without Node-RED: a host
 * double records what the node would send, show, warn and log, and a context double stands in for the
 * node's context. What the flow tests cannot easily reach: messages that arrive before the restore
 * answers, redelivered Kafka records, and what a stop keeps.
 */
import { strict as assert } from 'node:assert';
import { NodeMetrics } from '../../nodes/nr/metrics';
import { WindowRunner, type CheckpointContext, type WindowHost } from '../../nodes/sliding-window/runner';
import { checkpointStore, type CheckpointStore } from '../../nodes/sliding-window/support';
import { useRuntimeCatalogues } from './_catalogues';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Msg = Record<string, any>;

const MIN = 60_000;
const WINDOW = { sizeMs: 5 * MIN, slideMs: MIN, delayMs: 10 * MIN };
/** settings.js with a (non-persistent) context store, and without any. */
const MEMORY_STORE = checkpointStore({ contextStorage: { default: { module: 'memory' } } }, '');
const NO_STORE = checkpointStore({}, '');

const reading = (deviceId: string, timestamp: number): Msg => ({ deviceId, timestamp, temperature: 20, pm2_5: 1, fireAlarm: 0 });

/** A node context double; with `defer`, get answers only when `answer()` is called. */
function context(defer = false) {
  const c = {
    data: new Map<string, unknown>(),
    sets: 0,
    waiting: [] as (() => void)[],
    answer(): void {
      for (const a of c.waiting.splice(0)) a();
    },
    api: {
      get(key, _store, cb) {
        const answer = (): void => cb(undefined as unknown as Error, c.data.get(key));
        if (defer) c.waiting.push(answer);
        else answer();
      },
      set(key, value, _store, cb) {
        c.sets++;
        c.data.set(key, JSON.parse(JSON.stringify(value)));
        cb?.(undefined as unknown as Error);
      },
    } as CheckpointContext,
  };
  return c;
}

/** Every message sent, on the node's own account (`own`) or for an input message, in order. */
interface Sent {
  own: boolean;
  msg: (Msg | null)[];
}

const runners: WindowRunner[] = [];

function runner(id: string, store: CheckpointStore, ctx: CheckpointContext, stash = new Map<string, unknown>()) {
  const sent: Sent[] = [];
  const calls = { sent, statuses: [] as string[], warnings: [] as string[], logs: [] as Msg[], failures: [] as unknown[] };
  const host: WindowHost = {
    id,
    context: ctx,
    metrics: new NodeMetrics({ id, type: 'smoke-sliding-window' }),
    send: (m) => sent.push({ own: true, msg: m as (Msg | null)[] }),
    status: (text) => calls.statuses.push(text),
    warn: (key) => calls.warnings.push(key),
    log: (_key, info) => calls.logs.push(info),
    fail: (err, done) => {
      calls.failures.push(err);
      done(err as Error);
    },
    timerError: (err) => calls.failures.push(err),
  };
  const r = new WindowRunner({ windows: WINDOW, timeSource: 'event', store, contextFile: undefined, holdCommits: true, checkpointMs: 0, stash }, host);
  runners.push(r);
  const done: (number | string)[] = [];
  let n = 0;
  /** Hand a message in, as Node-RED's input event does; `done` records its number once called. */
  const input = (msg: Msg): number => {
    const k = ++n;
    r.handle(
      msg,
      (m) => sent.push({ own: false, msg: m as (Msg | null)[] }),
      (err) => done.push(err ? `${k}: ${err.message}` : k),
    );
    return k;
  };
  return { r, calls, input, done };
}

const results = (sent: Sent[]): Msg[] => sent.filter((s) => s.msg[0]).flatMap((s) => (Array.isArray(s.msg[0]!.payload) ? s.msg[0]!.payload : [s.msg[0]!.payload]));
const late = (sent: Sent[]): Msg[] => sent.filter((s) => s.msg[1]).map((s) => s.msg[1]!);

describe('sliding-window > runner (per-message work, without Node-RED)', function () {
  // Its status and error texts come from the window's catalogue, as a node's runtime gives them.
  before(async function () {
    await useRuntimeCatalogues();
  });

  afterEach(async function () {
    for (const r of runners.splice(0)) await r.close(true);
  });

  it('handles messages that arrive before the restore answers after it, on the restored state, in order', async function () {
    const ctx = context(true);
    const before = runner('w', MEMORY_STORE, ctx.api);
    before.r.start();
    ctx.answer();
    before.input({ payload: reading('a', 20 * MIN) });
    await before.r.close(false);
    assert.equal(ctx.sets, 1, 'a final checkpoint on close');

    const after = runner('w', MEMORY_STORE, ctx.api);
    after.r.start();
    after.input({ payload: reading('a', 5 * MIN) });
    after.input({ flush: true });
    assert.deepEqual(after.done, [], 'waiting for the restore');
    assert.equal(after.calls.sent.length, 0);

    ctx.answer();
    assert.deepEqual(after.done, [1, 2]);
    assert.deepEqual(
      late(after.calls.sent).map((m) => m.late),
      [{ watermark: 10 * MIN }],
      'late against the restored watermark',
    );
    assert.deepEqual(
      results(after.calls.sent).map((w) => [w.windowStart / MIN, w.count]),
      [16, 17, 18, 19, 20].map((s) => [s, 1]),
      'the flush emits the restored windows',
    );
    assert.deepEqual(after.calls.warnings, []);
  });

  it('skips Kafka records at or below the highest offset taken and logs how many; a full reset forgets the offsets', function () {
    const { r, calls, input, done } = runner('w', NO_STORE, context().api);
    r.start();
    const kafka = (offsets: number[]) => ({ topic: 't', partition: 0, offsets });
    input({ payload: [reading('a', 0), reading('a', 1000), reading('a', 2000)], kafka: kafka([0, 1, 2]) });
    // redelivery from offset 1 after a rebalance: 1 and 2 are in the state already
    input({ payload: [reading('a', 1000), reading('a', 2000), reading('a', 3000)], kafka: kafka([1, 2, 3]) });
    assert.deepEqual(calls.logs, [{ count: 2, partition: 't:0' }]);
    const skippedAt = input({ payload: reading('a', 3000), kafka: { topic: 't', partition: 0, offset: 3 } });
    assert.ok(done.includes(skippedAt), 'a skipped record is done');
    input({ payload: reading('a', 4000), kafka: { topic: 't', partition: 0, offset: 4 } });
    assert.deepEqual(calls.logs, [{ count: 2, partition: 't:0' }, { count: 1, partition: 't:0' }]);

    input({ flush: true });
    const flushed = calls.sent.filter((s) => s.msg[0]);
    assert.equal(flushed.length, 5, 'after a single reading: one message per result');
    assert.ok(flushed.every((s) => !s.own && s.msg[1] === null && s.msg[0]!.key === 'a'));
    assert.deepEqual(
      flushed.map((s) => s.msg[0]!.payload.count),
      [5, 5, 5, 5, 5],
      'offsets 0 to 4, each once',
    );

    calls.sent.length = 0;
    input({ reset: true });
    input({ payload: [reading('a', 0)], kafka: kafka([0]) });
    input({ flush: true });
    assert.equal(calls.sent.length, 1, 'after a batch: one message with an array');
    assert.deepEqual(
      results(calls.sent).map((w) => w.count),
      [1, 1, 1, 1, 1],
      'offset 0 is taken again after the reset',
    );
    assert.equal(done.length, 8, 'every message done');
    assert.deepEqual(calls.failures, []);
  });

  it('keeps the open windows in the stash on stop without context stores, for the next runner with its id; a removed node keeps nothing', async function () {
    const stash = new Map<string, unknown>();
    const first = runner('w', NO_STORE, context().api, stash);
    first.r.start();
    first.input({ payload: reading('a', 20 * MIN) });
    await first.r.close(false);
    assert.ok(stash.has('w'));

    const second = runner('w', NO_STORE, context().api, stash);
    second.r.start();
    assert.equal(stash.has('w'), false, 'taken by the next start');
    second.input({ payload: reading('a', 5 * MIN) });
    assert.equal(late(second.calls.sent).length, 1, 'the watermark came along');
    await second.r.close(true);
    assert.equal(stash.has('w'), false);
  });

  it('saves nothing when stopped before the restore answered (an empty state must not replace the checkpoint)', async function () {
    const ctx = context(true);
    ctx.data.set('slidingWindow', { kept: true });
    const { r, input } = runner('w', MEMORY_STORE, ctx.api);
    r.start();
    input({ payload: reading('a', 0) });
    await r.close(false);
    assert.equal(ctx.sets, 0);
    assert.deepEqual(ctx.data.get('slidingWindow'), { kept: true });
  });

  it('ends the messages that waited for a restore that never came before the stop with an error, and sends nothing when the restore answers late', async function () {
    const ctx = context(true);
    ctx.data.set('slidingWindow', { kept: true });
    const { r, calls, input, done } = runner('w', MEMORY_STORE, ctx.api);
    r.start();
    input({ payload: reading('a', 0) });
    input({ payload: [reading('b', 0)], flush: true });
    assert.deepEqual(done, [], 'waiting for the restore');
    await r.close(false);
    assert.deepEqual(done, [
      '1: stopped before the saved windows were restored: message not processed',
      '2: stopped before the saved windows were restored: message not processed',
    ]);
    ctx.answer();
    assert.deepEqual(calls.sent, [], 'nothing sent after the stop');
    assert.equal(ctx.sets, 0);
  });

  it('shows devices and open windows at once, then at most every 500 ms', async function () {
    const { r, calls, input } = runner('w', NO_STORE, context().api);
    const t0 = Date.now();
    r.start();
    assert.deepEqual(calls.statuses, ['0 dev / 0 win']);
    input({ payload: reading('a', 0) });
    input({ payload: reading('b', 20 * MIN) });
    input({ payload: reading('b', 0) });
    assert.equal(calls.statuses.length, 1, 'throttled');
    while (calls.statuses.length < 2 && Date.now() - t0 < 2000) await new Promise((res) => setTimeout(res, 20));
    assert.ok(Date.now() - t0 >= 490, `after ${Date.now() - t0} ms`);
    assert.deepEqual(calls.statuses, ['0 dev / 0 win', '2 dev / 10 win 1 late']);
  });
});
