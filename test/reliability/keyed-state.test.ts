/**
 * keyed-state (the per-device state of the detectors): the linked LRU behaves like a plain model of
 * least-recently-used order (property test), and eviction does not get slower with the bound.
 */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { KeyedState } from '../../nodes/lib/keyed-state';

type Op = { kind: 'get' | 'delete' | 'peek'; key: number; now: number } | { kind: 'sweep'; now: number } | { kind: 'clear' };

/** The model: an array of [key, lastSeen], least recently used first. */
function runModel(ops: Op[], maxKeys: number, idleMs: number): { keys: string[]; evicted: string[]; values: unknown[] } {
  let list: Array<[string, number]> = [];
  const evicted: string[] = [];
  const values: unknown[] = [];
  for (const op of ops) {
    if (op.kind === 'clear') list = [];
    else if (op.kind === 'sweep') {
      if (idleMs <= 0) continue;
      while (list.length > 0 && op.now - list[0][1] > idleMs) evicted.push('idle:' + list.shift()![0]);
    } else {
      const k = `k${op.key}`;
      const i = list.findIndex((e) => e[0] === k);
      if (op.kind === 'peek') values.push(i >= 0 ? k : undefined);
      else if (op.kind === 'delete') {
        values.push(i >= 0);
        if (i >= 0) list.splice(i, 1);
      } else {
        if (i >= 0) list.splice(i, 1);
        list.push([k, op.now]);
        values.push(k);
        if (maxKeys > 0 && list.length > maxKeys) evicted.push('lru:' + list.shift()![0]);
      }
    }
  }
  return { keys: list.map((e) => e[0]), evicted, values };
}

function runState(
  ops: Op[],
  maxKeys: number,
  idleMs: number,
  reuseEvicted = false,
): { keys: string[]; evicted: string[]; values: unknown[]; size: number; evictions: number; reused: string[] } {
  const evicted: string[] = [];
  const reused: string[] = [];
  const s = new KeyedState<string>({ maxKeys, idleMs, reuseEvicted, onEvict: (k, v, why) => (assert.equal(v, k), evicted.push(`${why}:${k}`)) });
  const values: unknown[] = [];
  for (const op of ops) {
    if (op.kind === 'clear') s.clear();
    else if (op.kind === 'sweep') s.sweep(op.now);
    else if (op.kind === 'peek') values.push(s.peek(`k${op.key}`));
    else if (op.kind === 'delete') values.push(s.delete(`k${op.key}`));
    else
      values.push(
        s.get(`k${op.key}`, op.now, (old) => {
          if (old !== undefined) reused.push('lru:' + old);
          return `k${op.key}`;
        }),
      );
  }
  assert.deepEqual([...s.entries()].map(([k]) => k), [...s.keys()]);
  for (const k of s.keys()) assert.ok(s.has(k));
  return { keys: [...s.keys()], evicted, values, size: s.size, evictions: s.evictions, reused };
}

describe('reliability > keyed-state (per-device LRU state)', function () {
  it('keeps least-recently-used order, evictions and idle sweeps as a plain list model does, with and without reuse of evicted values (property)', function () {
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 6, arbitrary: fc.record({ kind: fc.constant('get' as const), key: fc.integer({ min: 0, max: 12 }), now: fc.integer({ min: 0, max: 1000 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 12 }), now: fc.constant(0) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('peek' as const), key: fc.integer({ min: 0, max: 12 }), now: fc.constant(0) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('sweep' as const), now: fc.integer({ min: 0, max: 1500 }) }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), fc.integer({ min: 0, max: 6 }), fc.constantFrom(0, 100, 400), fc.boolean(), (ops, maxKeys, idleMs, reuse) => {
        // sweeps expect a clock that does not go backwards
        let t = 0;
        const timed = ops.map((o) => ('now' in o ? { ...o, now: (t = Math.max(t, o.now)) } : o));
        const got = runState(timed, maxKeys, idleMs, reuse);
        const want = runModel(timed, maxKeys, idleMs);
        assert.deepEqual(got.keys, want.keys);
        assert.deepEqual(got.evicted, want.evicted);
        assert.deepEqual(got.values, want.values);
        assert.equal(got.size, want.keys.length);
        assert.equal(got.evictions, want.evicted.length);
        // reuseEvicted: each LRU eviction hands the evicted value to the create() of the key that caused it
        assert.deepEqual(got.reused, reuse ? want.evicted.filter((e) => e.startsWith('lru:')) : []);
      }),
      { numRuns: 500 },
    );
  });

  it('evicts in constant time: a new key per call costs no more at 50,000 keys than at 500', function () {
    const churn = (maxKeys: number, n: number): number => {
      const s = new KeyedState<number>({ maxKeys });
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) s.get(`dev-${i}`, i, () => i);
      assert.equal(s.size, maxKeys);
      return Number(process.hrtime.bigint() - t0) / 1e6;
    };
    churn(500, 50_000); // warm-up
    const small = Math.min(churn(500, 200_000), churn(500, 200_000));
    const large = Math.min(churn(50_000, 200_000), churn(50_000, 200_000));
    console.log(`      200,000 new keys: ${small.toFixed(0)} ms at 500 keys, ${large.toFixed(0)} ms at 50,000 keys`);
    // The live set costs some GC and cache misses (a few times slower at most); a cost that grew with
    // the bound (holes skipped at the front of the Map on each eviction) made it about 100 times slower.
    assert.ok(large < small * 20 + 200, `eviction cost grows with the bound (${small.toFixed(0)} ms vs ${large.toFixed(0)} ms)`);
  });
});
