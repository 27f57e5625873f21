import { strict as assert } from 'node:assert';
import {
  PermanentWriteError,
  SinkQueue,
  UnwrittenError,
  type FlushGroup,
  type GroupWrite,
  type Parts,
  type SinkCommit,
  type SinkEvent,
  type SinkQueueOptions,
  type SinkTarget,
} from '../../nodes/csv-sink/sink-queue';
import { useRuntimeCatalogues } from '../nodes/_catalogues';

interface Seg {
  to: string;
  rows: number;
  text: string;
}

const seg = (to: string, text: string, rows = 1): Seg => ({ to, rows, text });

/**
 * A target in memory: `stored` holds what each name durably got; `fail(name, attempt)` decides whether
 * the attempt's write throws (and what); `log` records the calls.
 */
class FakeTarget implements SinkTarget<Seg, string, string, string[]> {
  stored = new Map<string, string>();
  log: string[] = [];
  attempts = new Map<string, number>();
  closed: boolean[] = [];
  fail: (name: string, attempt: number) => Error | 'hang' | null = () => null;
  nameOf(s: Seg): string {
    return s.to;
  }
  partOf(s: Seg): string {
    return s.text;
  }
  encode(name: string, batch: Parts<Seg, string>): string {
    this.log.push(`encode ${name} ${batch.parts.length} ${batch.head.text}`);
    return batch.parts.join('');
  }
  async write(name: string, payload: string): Promise<void> {
    const attempt = (this.attempts.get(name) ?? 0) + 1;
    this.attempts.set(name, attempt);
    this.log.push(`write ${name} ${payload}`);
    await new Promise((r) => setImmediate(r));
    const f = this.fail(name, attempt);
    if (f === 'hang') return new Promise<void>(() => undefined);
    if (f !== null) throw f;
    this.stored.set(name, (this.stored.get(name) ?? '') + payload);
  }
  isPermanent(err: Error): boolean {
    return (err as NodeJS.ErrnoException).code === 'EFOREVER';
  }
  groups(groups: ReadonlyMap<string, FlushGroup<Seg, string>>): GroupWrite<string[]> {
    const names = [...new Set([...groups.values()].flatMap((g) => [...g.names.keys()]))];
    return {
      names,
      open: async () => {
        this.log.push('open');
        return [...groups].map(([group, g]) => `${group}:${[...g.names].map(([n, s]) => `${n}=${s.parts.join('')}`).join(';')}`);
      },
      write: async () => {
        this.log.push('write groups');
        for (const g of groups.values()) for (const [n, s] of g.names) this.stored.set(n, (this.stored.get(n) ?? '') + s.parts.join(''));
      },
      undo: async () => void this.log.push('undo'),
      failed: () => names[0],
      cut: async (failed) => void this.log.push(`cut ${[...failed].join(',')}`),
      end: async () => {
        this.log.push('end');
        return false;
      },
    };
  }
  async close(abandon: boolean): Promise<void> {
    this.closed.push(abandon);
  }
}

/** A transient error with a file system code (as a full disk reports it). */
function transient(code = 'ENOSPC'): Error {
  return Object.assign(new Error(`${code}: fake`), { code });
}

interface Done {
  tag: string;
  err?: Error;
  aborted?: boolean;
}

describe('sink-queue > ordered jobs, retry, close (fake target)', function () {
  // Its error texts come from the csv sink's catalogue, as a node's runtime gives them (nodes/nr/i18n.ts).
  before(async function () {
    await useRuntimeCatalogues();
  });

  let events: SinkEvent[];
  let done: Done[];
  let target: FakeTarget;

  function queue(over: Partial<SinkQueueOptions<string[]>> = {}): SinkQueue<Seg, string, string, string[]> {
    return new SinkQueue(target, {
      flushIntervalMs: 5,
      flushRows: 1000,
      maxTries: Infinity,
      retryBaseMs: 5,
      maxQueuedRows: 1000,
      label: 'FAKE',
      sink: 'fake sink',
      onEvent: (ev) => events.push(ev),
      ...over,
    });
  }
  /** Enqueue a job; resolves when its callback ran (rejects when it runs twice). */
  function put(q: SinkQueue<Seg, string, string, string[]>, tag: string, segments: Seg[], group?: string): Promise<Done> {
    return new Promise((resolve, reject) => {
      let calls = 0;
      q.enqueue(
        segments,
        (err, aborted) => {
          if (++calls > 1) reject(new Error(`callback of ${tag} called twice`));
          const d: Done = { tag, err, aborted };
          done.push(d);
          resolve(d);
        },
        group,
      );
    });
  }
  /** Resolves once `ok()` holds (checked every 2 ms): waits for what a test means, not for a fixed time. */
  const until = (ok: () => boolean): Promise<void> =>
    new Promise((resolve) => {
      const poll = (): void => (ok() ? resolve() : void setTimeout(poll, 2));
      poll();
    });

  beforeEach(function () {
    events = [];
    done = [];
    target = new FakeTarget();
  });

  it('one payload per name per flush (segments in queue order); callbacks in queue order, not in order of the writes', async function () {
    const q = queue();
    const all = Promise.all([put(q, 'j1', [seg('a', 'a1,')]), put(q, 'j2', [seg('b', 'b1,')]), put(q, 'j3', [seg('a', 'a2,')]), put(q, 'j4', [])]);
    assert.equal(q.queuedRows, 3);
    await all;
    assert.deepEqual(target.log, ['encode a 2 a1,', 'write a a1,a2,', 'encode b 1 b1,', 'write b b1,']);
    assert.deepEqual(done.map((d) => d.tag), ['j1', 'j2', 'j3', 'j4'], 'j3 was written with j1, but completes after j2');
    assert.ok(done.every((d) => d.err === undefined));
    assert.equal(q.rowsWritten, 3);
    assert.equal(q.queuedRows, 0);
    await q.close(1000);
    assert.deepEqual(target.closed, [false]);
  });

  it('retries a transient fault for as long as it lasts (backoff), then writes the batch once and reports recovered', async function () {
    target.fail = (_name, attempt) => (attempt <= 4 ? transient() : null);
    const q = queue();
    const p = put(q, 'j1', [seg('a', 'x,', 1)]);
    await until(() => events.some((e) => e.kind === 'error'));
    assert.equal(q.faults, 1, 'the name is failing while the fault lasts');
    assert.equal(q.queuedRows, 1, 'its rows wait');
    assert.deepEqual(await p, { tag: 'j1', err: undefined, aborted: undefined });
    assert.equal(target.stored.get('a'), 'x,');
    assert.deepEqual(
      events.filter((e) => e.kind !== 'idle').map((e) => (e.kind === 'error' ? `error ${e.attempt} ${e.willRetry}` : e.kind)),
      ['error 1 true', 'error 2 true', 'error 3 true', 'error 4 true', 'recovered'],
    );
    assert.equal(q.faults, 0);
    assert.deepEqual(target.log.filter((l) => l.startsWith('encode')), ['encode a 1 x,'], 'the payload is built once, written again');
    await q.close(1000);
  });

  it('a permanent error (PermanentWriteError, or one the target classifies) fails its jobs at once; other names are written', async function () {
    target.fail = (name) => (name === 'p' ? new PermanentWriteError('never', 'EX') : name === 'c' ? transient('EFOREVER') : null);
    const q = queue();
    const [p, c, ok] = await Promise.all([put(q, 'p', [seg('p', '1')]), put(q, 'c', [seg('c', '2')]), put(q, 'ok', [seg('ok', '3')])]);
    assert.match(p.err?.message ?? '', /^FAKE write to p failed: never$/);
    assert.equal((p.err as NodeJS.ErrnoException).code, 'EX');
    assert.match(c.err?.message ?? '', /^FAKE write to c failed: EFOREVER: fake$/);
    assert.equal(ok.err, undefined);
    assert.deepEqual([target.attempts.get('p'), target.attempts.get('c')], [1, 1], 'tried once each');
    assert.ok(events.filter((e) => e.kind === 'error').every((e) => e.kind === 'error' && !e.willRetry));
    assert.equal(q.rowsWritten, 1);
    await q.close(1000);
  });

  it('maxTries bounds the attempts: the jobs fail with the last error and the count', async function () {
    target.fail = () => transient('EIO');
    const q = queue({ maxTries: 3 });
    const d = await put(q, 'j', [seg('a', '1')]);
    assert.match(d.err?.message ?? '', /^FAKE write to a failed after 3 attempts: EIO: fake$/);
    assert.equal((d.err as NodeJS.ErrnoException).code, 'EIO');
    assert.equal(target.attempts.get('a'), 3);
    await q.close(1000);
  });

  it('close() with a write that keeps failing: one more try, then the jobs end with UnwrittenError; jobs queued while closing too', async function () {
    target.fail = () => transient();
    const q = queue({ retryBaseMs: 60_000 });
    const p = put(q, 'j1', [seg('a', '1')]);
    await until(() => events.some((e) => e.kind === 'error'));
    assert.equal(target.attempts.get('a'), 1, 'waiting for its retry (a minute away)');
    const t0 = Date.now();
    const closed = q.close(5000);
    const late = await put(q, 'late', [seg('a', '2')]);
    assert.ok(late.err instanceof UnwrittenError);
    assert.match(late.err.message, /^fake sink is closing: rows not written$/);
    const d = await p;
    await closed;
    assert.ok(Date.now() - t0 < 1000, 'the retry was not waited for');
    assert.equal(target.attempts.get('a'), 2, 'tried once more on close');
    assert.ok(d.err instanceof UnwrittenError, String(d.err));
    assert.match(d.err.message, /^fake sink closed while writes failed: ENOSPC: fake$/);
    assert.equal((d.err as NodeJS.ErrnoException).code, 'ENOSPC');
    assert.deepEqual(target.closed, [false]);
    assert.equal(target.stored.size, 0);
  });

  it('close() with a write that never ends: resolves after its timeout, the jobs (in flight and waiting) end with UnwrittenError', async function () {
    target.fail = () => 'hang';
    const q = queue({ flushRows: 1 });
    const p1 = put(q, 'j1', [seg('a', '1')]);
    await until(() => target.attempts.get('a') === 1);
    const p2 = put(q, 'j2', [seg('b', '2')]);
    const t0 = Date.now();
    await q.close(100);
    const took = Date.now() - t0;
    assert.ok(took >= 90 && took < 1000, `took ${took} ms`);
    for (const d of await Promise.all([p1, p2])) {
      assert.ok(d.err instanceof UnwrittenError, String(d.err));
      assert.match(d.err.message, /^fake sink closed before the rows could be written \(waited 100 ms\)$/);
    }
    assert.deepEqual(target.closed, [true], 'abandoned, not waited for');
  });

  it('refuses a job beyond maxQueuedRows at once (a single large job is taken when nothing waits)', async function () {
    target.fail = () => 'hang';
    const q = queue({ maxQueuedRows: 10, flushIntervalMs: 1000 });
    void put(q, 'big', [seg('a', 'x', 12)]);
    const d = await put(q, 'more', [seg('a', 'y', 1)]);
    assert.match(d.err?.message ?? '', /^FAKE write queue full \(12 rows waiting\)/);
    await q.close(50);
  });

  it('groups: open → prepare (the placement) → write → commit of each at once; an abort is cut, its jobs complete aborted, in queue order', async function () {
    const calls: string[] = [];
    const left: string[] = [];
    const gc: SinkCommit<string[]> = {
      prepare: async (placement) => void calls.push(`prepare ${placement.join(' ')}`),
      commit: async (group) => {
        calls.push(`commit ${group}`);
        return group === 'g2' ? 'abort' : 'ok';
      },
      settled: (l) => void left.push(l),
    };
    const q = queue({ groupCommit: gc });
    const all = Promise.all([put(q, 'a', [seg('f', 'a')], 'g1'), put(q, 'b', [seg('f', 'b')], 'g2'), put(q, 'u', [seg('u', 'u')]), put(q, 'c', [seg('f', 'c')], 'g1')]);
    await all;
    assert.deepEqual(target.log, ['encode u 1 u', 'write u u', 'open', 'write groups', 'cut g2', 'end']);
    assert.deepEqual(calls, ['prepare g1:f=ac g2:f=b', 'commit g1', 'commit g2']);
    assert.deepEqual(done.map((d) => `${d.tag}${d.aborted ? ' aborted' : ''}${d.err ? ' ' + d.err.message : ''}`), ['a', 'b aborted', 'u', 'c']);
    assert.deepEqual(left, ['cut']);
    assert.equal(q.rowsWritten, 3, 'the aborted group\'s row is not counted');
    await q.close(1000);
  });

  it('groups: a prepare that rejects is retried as a whole (undo, open again), then written once', async function () {
    let n = 0;
    const gc: SinkCommit<string[]> = {
      prepare: async () => {
        if (++n === 1) throw new Error('journal down');
      },
      commit: async () => 'ok',
    };
    const q = queue({ groupCommit: gc });
    const d = await put(q, 'a', [seg('f', 'a')], 'g1');
    assert.equal(d.err, undefined);
    assert.deepEqual(target.log, ['open', 'undo', 'open', 'write groups', 'end']);
    const errs = events.filter((e) => e.kind === 'error');
    assert.deepEqual(errs.map((e) => e.kind === 'error' && [e.name, e.group, e.willRetry]), [['f', 'g1', true]]);
    assert.ok(events.some((e) => e.kind === 'recovered' && e.name === 'f'));
    assert.equal(target.stored.get('f'), 'a');
    await q.close(1000);
  });
});
