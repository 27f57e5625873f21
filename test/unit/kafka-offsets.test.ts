import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { OffsetTracker } from '../../nodes/lib/kafka-offsets';

describe('kafka-offsets > contiguous commit', function () {
  it('commits nothing for a partition before anything was emitted', function () {
    const t = new OffsetTracker();
    assert.equal(t.commitOffset('a', 0), undefined);
    assert.deepEqual(t.commitable(), []);
  });

  it('holds the commit at the first unacknowledged record and moves past it once acknowledged', function () {
    const t = new OffsetTracker();
    const ids = [10, 11, 12].map((o) => t.track('a', 0, o, o, 1, 0));
    assert.equal(t.commitOffset('a', 0), 10, 'nothing acknowledged: commit stays at the first offset');
    assert.equal(t.inFlight, 3);
    t.ack(ids[0], 1);
    assert.equal(t.commitOffset('a', 0), 11);
    t.ack(ids[1], 1);
    t.ack(ids[2], 1);
    assert.equal(t.commitOffset('a', 0), 13, 'all acknowledged: last offset + 1');
    assert.equal(t.inFlight, 0);
    assert.equal(t.pendingUnits, 0);
  });

  it('completes a batch unit only when all of its records are acknowledged, in any number of acks', function () {
    const t = new OffsetTracker();
    const id = t.track('a', 0, 0, 99, 100, 0);
    assert.equal(t.ack(id, 40), false);
    assert.equal(t.commitOffset('a', 0), 0);
    assert.equal(t.inFlight, 60);
    assert.equal(t.ack(id, 60), true);
    assert.equal(t.commitOffset('a', 0), 100);
  });

  it('does not over-count: acknowledging more records than a unit holds completes it once', function () {
    const t = new OffsetTracker();
    const a = t.track('a', 0, 0, 4, 5, 0);
    t.track('a', 0, 5, 5, 1, 0);
    assert.equal(t.ack(a, 50), true);
    assert.equal(t.inFlight, 1);
    assert.equal(t.ack(a, 1), false, 'a completed unit is forgotten');
    assert.equal(t.commitOffset('a', 0), 5);
  });
});

describe('kafka-offsets > out-of-order acknowledgements', function () {
  it('does not commit past a hole: a later acknowledgement waits for the earlier record', function () {
    const t = new OffsetTracker();
    const [u0, u1, u2] = [0, 1, 2].map((o) => t.track('a', 0, o, o, 1, 0));
    t.ack(u2, 1);
    t.ack(u1, 1);
    assert.equal(t.commitOffset('a', 0), 0, 'offset 0 is still unacknowledged');
    t.ack(u0, 1);
    assert.equal(t.commitOffset('a', 0), 3);
  });

  it('handles a batch whose bad records left as separate units (non-contiguous offsets)', function () {
    const t = new OffsetTracker();
    // batch 0..4: offsets 0, 2, 3, 4 good (one unit), offset 1 bad (own unit)
    const good = t.track('a', 0, 0, 4, 4, 0);
    const bad = t.track('a', 0, 1, 1, 1, 0);
    t.ack(good, 4);
    assert.equal(t.commitOffset('a', 0), 1, 'bad record at offset 1 not yet acknowledged');
    t.ack(bad, 1);
    assert.equal(t.commitOffset('a', 0), 5);
  });

  it('keeps units ordered by offset when a redelivery brings lower offsets again', function () {
    const t = new OffsetTracker();
    const late = t.track('a', 0, 10, 19, 10, 0);
    const again = t.track('a', 0, 5, 14, 10, 0);
    t.ack(late, 10);
    assert.equal(t.commitOffset('a', 0), 5);
    t.ack(again, 10);
    assert.equal(t.commitOffset('a', 0), 20);
  });

  it('never commits an offset whose record is unacknowledged (property)', function () {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 60 }),
        (sizes, ackPicks) => {
          const t = new OffsetTracker();
          const units: { id: number; first: number; size: number; acked: boolean }[] = [];
          let offset = 0;
          for (const size of sizes) {
            units.push({ id: t.track('a', 0, offset, offset + size - 1, size, 0), first: offset, size, acked: false });
            offset += size;
          }
          for (const pick of ackPicks) {
            const u = units[pick % units.length];
            if (!u.acked) {
              t.ack(u.id, u.size);
              u.acked = true;
            }
          }
          const firstPending = units.find((u) => !u.acked);
          const expected = firstPending ? firstPending.first : offset;
          assert.equal(t.commitOffset('a', 0), expected);
          assert.equal(t.inFlight, units.filter((u) => !u.acked).reduce((s, u) => s + u.size, 0));
        },
      ),
    );
  });
});

describe('kafka-offsets > multiple partitions', function () {
  it('tracks each topic-partition separately and lists only the ones that moved', function () {
    const t = new OffsetTracker();
    const a0 = t.track('a', 0, 0, 9, 10, 0);
    const a1 = t.track('a', 1, 100, 109, 10, 0);
    const b0 = t.track('b', 0, 7, 7, 1, 0);
    t.ack(a1, 10);
    t.ack(b0, 1);
    assert.deepEqual(
      t.commitable().sort((x, y) => (x.topic + x.partition).localeCompare(y.topic + y.partition)),
      [
        { topic: 'a', partition: 0, offset: 0 },
        { topic: 'a', partition: 1, offset: 110 },
        { topic: 'b', partition: 0, offset: 8 },
      ],
    );
    t.markCommitted('a', 0, 0);
    t.markCommitted('a', 1, 110);
    t.markCommitted('b', 0, 8);
    assert.deepEqual(t.commitable(), [], 'nothing moved since the last commit');
    t.ack(a0, 10);
    assert.deepEqual(t.commitable(), [{ topic: 'a', partition: 0, offset: 10 }]);
  });

  it('reports the emission time of the oldest pending unit over all partitions', function () {
    const t = new OffsetTracker();
    const x = t.track('a', 0, 0, 0, 1, 1000);
    t.track('a', 0, 1, 1, 1, 1500);
    t.track('a', 1, 0, 0, 1, 1200);
    assert.equal(t.oldestPendingAt(), 1000);
    t.ack(x, 1);
    assert.equal(t.oldestPendingAt(), 1200);
  });
});

describe('kafka-offsets > rebalance revocation', function () {
  it('forgets revoked partitions: their acks are ignored and their records leave the in-flight count', function () {
    const t = new OffsetTracker();
    const a0 = t.track('a', 0, 0, 9, 10, 0);
    const a1 = t.track('a', 1, 0, 4, 5, 0);
    assert.equal(t.inFlight, 15);
    assert.equal(t.retain({ a: [0] }), 1, 'one pending unit of partition 1 dropped');
    assert.equal(t.inFlight, 10);
    assert.equal(t.ack(a1, 5), false, 'an ack for a revoked partition changes nothing');
    assert.equal(t.commitOffset('a', 1), undefined);
    assert.deepEqual(t.commitable(), [{ topic: 'a', partition: 0, offset: 0 }]);
    t.ack(a0, 10);
    assert.equal(t.commitOffset('a', 0), 10, 'a kept partition continues');
  });

  it('clear() forgets every partition (consumer restart)', function () {
    const t = new OffsetTracker();
    t.track('a', 0, 0, 0, 1, 0);
    t.track('b', 3, 5, 5, 1, 0);
    assert.equal(t.clear(), 2);
    assert.equal(t.inFlight, 0);
    assert.equal(t.pendingUnits, 0);
    assert.deepEqual(t.commitable(), []);
    assert.equal(t.oldestPendingAt(), undefined);
  });

  it('uses the injected id source, so ids stay unique across trackers of one process', function () {
    let seq = 0;
    const next = () => ++seq;
    const old = new OffsetTracker({ nextId: next });
    const oldId = old.track('a', 0, 0, 0, 1, 0);
    const fresh = new OffsetTracker({ nextId: next });
    const freshId = fresh.track('a', 0, 0, 0, 1, 0);
    assert.notEqual(oldId, freshId);
    assert.equal(fresh.ack(oldId, 1), false, "the predecessor's token does not complete the new unit");
    assert.equal(fresh.inFlight, 1);
  });
});

describe('kafka-offsets > holds of stateful nodes', function () {
  it('does not commit a unit that is fully acknowledged but still held, and commits it once released', function () {
    const t = new OffsetTracker();
    const id = t.track('a', 0, 0, 9, 10, 0);
    assert.equal(t.hold(id, 'window'), 'held');
    assert.equal(t.ack(id, 10), false, 'acknowledged, but held: not complete');
    assert.equal(t.commitOffset('a', 0), 0);
    assert.equal(t.inFlight, 10, 'held records stay in flight');
    assert.equal(t.pendingUnits, 1);
    assert.equal(t.release(id, 'window'), true, 'the release completed it');
    assert.equal(t.commitOffset('a', 0), 10);
    assert.deepEqual(t.commitable(), [{ topic: 'a', partition: 0, offset: 10 }]);
    assert.equal(t.inFlight, 0);
    assert.equal(t.pendingUnits, 0);
  });

  it('a hold handed on ends with the next hold of another holder, not before; one of the same holder does not end it', function () {
    const t = new OffsetTracker();
    const id = t.track('a', 0, 0, 9, 10, 0);
    // archive (a csv sink passing the records on to publish) and backup (another csv sink) share them
    t.hold(id, 'archive');
    t.hold(id, 'backup');
    t.handOn(id, 'archive');
    t.ack(id, 10);
    assert.equal(t.release(id, 'backup'), false, 'backup wrote them: the records are still on their way to publish');
    t.hold(id, 'archive');
    assert.equal(t.release(id, 'archive'), false, 'a hold of the same holder does not take the one handed on');
    assert.equal(t.commitOffset('a', 0), 0);
    assert.equal(t.hold(id, 'publish'), 'held');
    assert.equal(t.commitOffset('a', 0), 0, 'publish holds them now');
    assert.equal(t.release(id, 'publish'), true, "publish sent them: archive's handed-on hold ended when publish took its own");
    assert.equal(t.commitOffset('a', 0), 10);
    assert.equal(t.inFlight, 0);
    t.handOn(id, 'archive');
    const other = t.track('a', 0, 10, 10, 1, 0);
    t.handOn(other, 'archive');
    assert.equal(t.ack(other, 1), true, 'handing on what the holder does not hold does nothing');
  });

  it('waits for the acknowledgements when the release comes first', function () {
    const t = new OffsetTracker();
    const id = t.track('a', 0, 5, 9, 5, 0);
    t.hold(id, 'window');
    t.ack(id, 2);
    assert.equal(t.inFlight, 5, 'a held unit counts with all its records');
    assert.equal(t.release(id, 'window'), false);
    assert.equal(t.inFlight, 3, 'released: only the unacknowledged records are in flight');
    assert.equal(t.commitOffset('a', 0), 5);
    assert.equal(t.ack(id, 3), true);
    assert.equal(t.commitOffset('a', 0), 10);
  });

  it('needs every holder to release, and each hold of one holder its own release', function () {
    const t = new OffsetTracker();
    const id = t.track('a', 0, 0, 0, 1, 0);
    t.hold(id, 'w1');
    t.hold(id, 'w1');
    t.hold(id, 'w2');
    t.ack(id, 1);
    assert.equal(t.release(id, 'w1'), false);
    assert.equal(t.release(id, 'w2'), false);
    assert.equal(t.release(id, 'other'), false, 'a holder that never held releases nothing');
    assert.equal(t.commitOffset('a', 0), 0, 'w1 still holds it once');
    assert.equal(t.release(id, 'w1'), true);
    assert.equal(t.commitOffset('a', 0), 1);
  });

  it('holds on several units: the commit stops at the first held one, releases in any order', function () {
    const t = new OffsetTracker();
    const ids = [0, 10, 20, 30].map((o) => t.track('a', 0, o, o + 9, 10, 0));
    for (const id of ids) {
      t.hold(id, 'window');
      t.ack(id, 10);
    }
    assert.equal(t.commitOffset('a', 0), 0);
    t.release(ids[2], 'window');
    t.release(ids[1], 'window');
    assert.equal(t.commitOffset('a', 0), 0, 'unit 0 still held');
    t.release(ids[0], 'window');
    assert.equal(t.commitOffset('a', 0), 30, 'up to the still held unit 3');
    t.release(ids[3], 'window');
    assert.equal(t.commitOffset('a', 0), 40);
    assert.equal(t.inFlight, 0);
  });

  it('answers late for a unit that was complete before the hold, unknown for one it never had', function () {
    let seq = 100;
    const t = new OffsetTracker({ nextId: () => ++seq });
    const done = t.track('a', 0, 0, 0, 1, 0);
    t.track('a', 0, 1, 1, 1, 0);
    t.ack(done, 1);
    assert.equal(t.hold(done, 'window'), 'late');
    assert.equal(t.hold(7, 'window'), 'unknown', "an id below this tracker's first: a predecessor's");
    assert.equal(t.hold(seq + 5, 'window'), 'unknown', 'an id not issued yet');
    assert.equal(t.commitOffset('a', 0), 1, 'a late hold changes nothing');
  });

  it('a rebalance clears the holds of revoked partitions; their releases are ignored afterwards', function () {
    const t = new OffsetTracker();
    const a0 = t.track('a', 0, 0, 9, 10, 0);
    const a1 = t.track('a', 1, 0, 9, 10, 0);
    t.hold(a0, 'window');
    t.hold(a1, 'window');
    t.ack(a1, 10);
    assert.equal(t.inFlight, 20);
    assert.equal(t.retain({ a: [0] }), 1);
    assert.equal(t.inFlight, 10, 'the revoked held unit left the in-flight count with all its records');
    assert.equal(t.release(a1, 'window'), false);
    assert.equal(t.hold(a1, 'window'), 'unknown', 'dropped, not completed: its records come again');
    assert.equal(t.commitOffset('a', 1), undefined);
    t.ack(a0, 10);
    t.release(a0, 'window');
    assert.equal(t.commitOffset('a', 0), 10);
    assert.equal(t.clear(), 0);
  });

  it('clear() drops held units too (consumer restart)', function () {
    const t = new OffsetTracker();
    const id = t.track('a', 0, 0, 4, 5, 0);
    t.hold(id, 'window');
    t.ack(id, 5);
    assert.equal(t.clear(), 1);
    assert.equal(t.inFlight, 0);
    assert.equal(t.release(id, 'window'), false);
  });

  it('commits only offsets whose records are acknowledged and released (property)', function () {
    fc.assert(
      fc.property(
        fc.array(fc.record({ size: fc.integer({ min: 1, max: 5 }), held: fc.boolean() }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.tuple(fc.nat(), fc.boolean()), { maxLength: 80 }),
        (specs, steps) => {
          const t = new OffsetTracker();
          const units: { id: number; first: number; size: number; acked: boolean; held: boolean }[] = [];
          let offset = 0;
          for (const { size, held } of specs) {
            const id = t.track('a', 0, offset, offset + size - 1, size, 0);
            if (held) t.hold(id, 'window');
            units.push({ id, first: offset, size, acked: false, held });
            offset += size;
          }
          for (const [pick, isRelease] of steps) {
            const u = units[pick % units.length];
            if (isRelease && u.held) {
              t.release(u.id, 'window');
              u.held = false;
            } else if (!isRelease && !u.acked) {
              t.ack(u.id, u.size);
              u.acked = true;
            }
          }
          const firstPending = units.find((u) => !u.acked || u.held);
          assert.equal(t.commitOffset('a', 0), firstPending ? firstPending.first : offset);
          const inFlight = units.filter((u) => !u.acked || u.held).reduce((s, u) => s + u.size, 0);
          assert.equal(t.inFlight, inFlight);
        },
      ),
    );
  });
});

describe('kafka-offsets > holds and partitions against a model', function () {
  it('holds of several holders, each any number of times, over partitions that are revoked and come back (property)', function () {
    type Op =
      | { op: 'track'; p: number; size: number }
      | { op: 'ack'; u: number }
      | { op: 'hold' | 'release'; u: number; h: string }
      | { op: 'retain'; keep: number };
    const holder = fc.constantFrom('window', 'zscore', 'sink');
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ op: fc.constant('track' as const), p: fc.integer({ min: 0, max: 2 }), size: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ op: fc.constant('ack' as const), u: fc.nat() }),
      fc.record({ op: fc.constantFrom('hold' as const, 'release' as const), u: fc.nat(), h: holder }),
      fc.record({ op: fc.constant('retain' as const), keep: fc.integer({ min: 0, max: 2 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 120 }), (ops) => {
        const t = new OffsetTracker();
        interface M { id: number; p: number; first: number; size: number; acked: boolean; holds: string[]; gone: boolean }
        const units: M[] = [];
        const next = [0, 0, 0];
        /** Partitions dropped by the last retain and not tracked since. */
        const revoked = new Set<number>();
        const complete = (u: M) => u.acked && u.holds.length === 0;
        for (const o of ops) {
          if (o.op === 'track') {
            const first = next[o.p];
            next[o.p] += o.size;
            revoked.delete(o.p);
            units.push({ id: t.track('t', o.p, first, first + o.size - 1, o.size, 0), p: o.p, first, size: o.size, acked: false, holds: [], gone: false });
          } else if (o.op === 'retain') {
            t.retain({ t: [o.keep] });
            for (const u of units) if (u.p !== o.keep) u.gone = true;
            for (const p of [0, 1, 2]) if (p !== o.keep) revoked.add(p);
          } else if (units.length > 0) {
            const u = units[o.u % units.length];
            const live = !u.gone && !complete(u);
            if (o.op === 'ack') {
              assert.equal(t.ack(u.id, u.size), live && !u.acked && u.holds.length === 0);
              if (live) u.acked = true;
            } else if (o.op === 'hold') {
              const r = t.hold(u.id, o.h);
              if (live) {
                assert.equal(r, 'held');
                u.holds.push(o.h);
              } else assert.notEqual(r, 'held');
            } else {
              const i = live ? u.holds.indexOf(o.h) : -1;
              if (i >= 0) u.holds.splice(i, 1);
              assert.equal(t.release(u.id, o.h), i >= 0 && complete(u));
            }
          }
          for (const p of [0, 1, 2]) {
            const mine = units.filter((u) => u.p === p && !u.gone);
            const pending = mine.find((u) => !complete(u));
            const want = revoked.has(p) || mine.length === 0 ? undefined : pending ? pending.first : Math.max(...mine.map((u) => u.first + u.size));
            assert.equal(t.commitOffset('t', p), want, `partition ${p} after ${JSON.stringify(o)}`);
          }
          assert.equal(t.inFlight, units.filter((u) => !u.gone && !complete(u)).reduce((s, u) => s + u.size, 0));
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('kafka-offsets > many units', function () {
  it('stays linear over 100,000 single-record units acknowledged in order', function () {
    const t = new OffsetTracker();
    const ids: number[] = [];
    for (let o = 0; o < 100_000; o++) ids.push(t.track('a', 0, o, o, 1, 0));
    const t0 = process.hrtime.bigint();
    for (const id of ids) t.ack(id, 1);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    assert.equal(t.commitOffset('a', 0), 100_000);
    assert.ok(ms < 1000, `100k acks took ${ms.toFixed(0)} ms`);
  });
});
