import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { Backoff, backoffDelay } from '../../nodes/lib/kafka-backoff';

describe('kafka-backoff > schedule', function () {
  it('doubles from the initial delay and stops at the maximum (no jitter)', function () {
    const opts = { initialMs: 1000, maxMs: 15000, jitter: 0 };
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, opts)),
      [1000, 2000, 4000, 8000, 15000, 15000, 15000],
    );
  });

  it('honours a custom factor', function () {
    assert.deepEqual(
      [0, 1, 2].map((a) => backoffDelay(a, { initialMs: 100, maxMs: 10000, factor: 3, jitter: 0 })),
      [100, 300, 900],
    );
  });

  it('jitter only shortens a delay, by at most its fraction', function () {
    const opts = { initialMs: 1000, maxMs: 8000, jitter: 0.25 };
    assert.equal(backoffDelay(2, opts, 0), 4000);
    assert.equal(backoffDelay(2, opts, 0.999999), 3000);
    assert.equal(backoffDelay(2, opts, 0.5), 3500);
  });

  it('stays within [initial * (1 - jitter), max] for any attempt and random number (property)', function () {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 10000 }),
        fc.integer({ min: 0, max: 100000 }),
        (attempt, rand, initialMs, extra) => {
          const opts = { initialMs, maxMs: initialMs + extra, jitter: 0.2 };
          const d = backoffDelay(attempt, opts, rand);
          assert.ok(Number.isFinite(d));
          assert.ok(d <= opts.maxMs, `${d} > max ${opts.maxMs}`);
          assert.ok(d >= Math.floor(initialMs * 0.8), `${d} < ${initialMs * 0.8}`);
        },
      ),
    );
  });
});

describe('kafka-backoff > counter', function () {
  it('counts failures and starts over after reset()', function () {
    const b = new Backoff({ initialMs: 500, maxMs: 4000, jitter: 0 });
    assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next()], [500, 1000, 2000, 4000, 4000]);
    assert.equal(b.failures, 5);
    b.reset();
    assert.equal(b.failures, 0);
    assert.equal(b.next(), 500);
  });

  it('rejects a schedule that cannot work', function () {
    assert.throws(() => new Backoff({ initialMs: 0, maxMs: 10 }), RangeError);
    assert.throws(() => new Backoff({ initialMs: 100, maxMs: 10 }), RangeError);
  });
});
