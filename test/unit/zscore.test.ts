import { strict as assert } from 'node:assert';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import fc from 'fast-check';
import * as ss from 'simple-statistics';
import type { Alert, Reading } from '../../nodes/lib/types';
import { NUMERIC_SENSORS } from '../../nodes/lib/types';
import { RollingZScore, ZScoreDetector, type ZScoreOptions, zscoreProblems } from '../../nodes/lib/zscore';
import { reading } from './_reading';

function run(d: ZScoreDetector, r: Reading, now = 0): Alert[] {
  const out: Alert[] = [];
  assert.equal(d.process(r, now, out), out.length);
  return out;
}

/** The naive two-pass reference: z of the last value of `win`, or null when not scored. */
function naiveZ(win: number[], minValues: number): number | null {
  if (win.length < minValues) return null;
  const x = win[win.length - 1];
  if (win.every((v) => v === x)) return null;
  const sd = ss.standardDeviation(win); // population
  if (sd === 0) return null;
  return Math.abs(x - ss.mean(win)) / sd;
}

/** 0,1,0,1,…: mean 0.5, σ 0.5 once the window holds an even count. */
const alternating = (n: number): number[] => Array.from({ length: n }, (_, i) => i % 2);

describe('zscore > rolling series', function () {
  it('scores nothing before min values, and the min-values-th value itself', function () {
    const r = new RollingZScore(100, 30);
    const zs = [...alternating(28), 100].map((x) => r.push(x));
    assert.ok(zs.every((z) => z === null), '29 values: nothing scored, not even the outlier');
    const z30 = r.push(100);
    const win = [...alternating(28), 100, 100];
    assert.ok(z30 !== null);
    assert.ok(Math.abs(z30 - (naiveZ(win, 30) as number)) < 1e-12);
  });

  it('never scores a window whose values are all equal (σ = 0)', function () {
    const r = new RollingZScore(100, 30);
    for (let i = 0; i < 150; i++) assert.equal(r.push(0.1), null);
    assert.equal(r.std, 0);
    assert.equal(r.mean, 0.1);
  });

  it('returns to σ = 0 exactly once a varied history has left the window', function () {
    const r = new RollingZScore(100, 30);
    for (let i = 0; i < 100; i++) r.push(Math.sin(i) * 1e6);
    const zs: (number | null)[] = [];
    for (let i = 0; i < 100; i++) zs.push(r.push(7.3));
    assert.notEqual(zs[98], null, 'one varied value still in the window');
    assert.equal(zs[99], null, 'the window is all 7.3 now');
    assert.equal(r.std, 0);
  });

  it('keeps only the last window-size values (eviction after 100)', function () {
    const r = new RollingZScore(100, 30);
    const all: number[] = [1e6];
    r.push(1e6);
    for (let i = 0; i < 100; i++) {
      const x = (i * 37) % 11;
      all.push(x);
      r.push(x);
    }
    const win = all.slice(-100);
    assert.equal(r.count, 100);
    assert.ok(Math.abs(r.mean - ss.mean(win)) < 1e-12);
    assert.ok(Math.abs(r.std - ss.standardDeviation(win)) < 1e-12, 'the 1e6 outlier has left and its cancellation is repaired');
  });

  it('skips non-finite values without adding them', function () {
    const r = new RollingZScore(10, 2);
    r.push(1);
    assert.equal(r.push(NaN), null);
    assert.equal(r.push(Infinity), null);
    assert.equal(r.count, 1);
  });

  it('refuses unusable sizes', function () {
    assert.throws(() => new RollingZScore(1, 1), RangeError);
    assert.throws(() => new RollingZScore(10, 11), RangeError);
  });

  it('equals a naive two-pass reference (simple-statistics, population σ) on random streams', function () {
    this.timeout(60000);
    // Segments of repeated values make σ = 0 windows, long calm runs after spikes make the rolling
    // M2 cancel; nulls are skipped as the detector skips them.
    const value = fc.oneof(
      { weight: 4, arbitrary: fc.integer({ min: -1000, max: 1000 }) },
      { weight: 4, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((d) => Math.round(d * 1e6) / 1e6) },
      { weight: 1, arbitrary: fc.constantFrom(1e9, -1e9, 1e12, 0.1, 1e-3) },
      { weight: 1, arbitrary: fc.constant(null) },
    );
    const segment = fc.record({ v: value, repeat: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 120 })) });
    const stream = fc.array(segment, { minLength: 1, maxLength: 60 }).map((segs) => segs.flatMap((s) => Array(s.repeat).fill(s.v) as (number | null)[]));
    const params = fc.oneof(fc.constant({ size: 100, min: 30 }), fc.integer({ min: 2, max: 40 }).chain((size) => fc.record({ size: fc.constant(size), min: fc.integer({ min: 2, max: size }) })));
    let compared = 0;
    fc.assert(
      fc.property(params, stream, ({ size, min }, values) => {
        const r = new RollingZScore(size, min);
        const win: number[] = [];
        for (const v of values) {
          if (v === null) continue;
          win.push(v);
          if (win.length > size) win.shift();
          const z = r.push(v);
          const ref = naiveZ(win, min);
          if (ref === null) {
            assert.equal(z, null, `window ${JSON.stringify(win)}: expected no score`);
            continue;
          }
          assert.ok(z !== null, `window ${JSON.stringify(win)}: expected z ${ref}`);
          // Relative 1e-9; when the values are large against their spread, both computations lose
          // about eps × max|x| / σ of relative accuracy, so the bound widens with that ratio.
          const maxAbs = Math.max(...win.map(Math.abs));
          const tol = Math.max(1, ref) * (1e-9 + 1e-12 * (maxAbs / ss.standardDeviation(win)));
          assert.ok(Math.abs(z - ref) <= tol, `z ${z} vs reference ${ref} (tol ${tol}) for window of ${win.length}`);
          compared++;
        }
      }),
      { numRuns: 300 },
    );
    assert.ok(compared > 1000, `compared ${compared} scores`);
  });
});

describe('zscore > value storage', function () {
  /** The storage form of a series (internal: thousandths `q` or doubles `f`). */
  const form = (r: RollingZScore): string => {
    const rings = (r as unknown as { r: { q: unknown; f: unknown } }).r;
    return rings.q !== null ? 'thousandths' : 'doubles';
  };

  it('keeps values of up to 3 decimals as thousandths, and moves to doubles for the first value without that form', function () {
    const r = new RollingZScore(10, 3);
    for (const x of [939.735, -12.5, 0, 57.36, 2147483.647, -2147483.647]) r.push(x);
    assert.equal(form(r), 'thousandths');
    r.push(0.1 + 0.2); // 0.30000000000000004: no exact thousandths
    assert.equal(form(r), 'doubles');
    r.push(1.5);
    assert.equal(form(r), 'doubles', 'a series stays in the wide form');
    const big = new RollingZScore(10, 3);
    big.push(2147483.648);
    assert.equal(form(big), 'doubles', 'beyond ±2,147,483.647');
  });

  it('gives the same mean, σ and z-scores in either form (the stored values read back exactly)', function () {
    // The same 3-decimal stream into a series that stays in thousandths and one moved to doubles by its
    // first value (1/3 there, 0.333 in the other); once that value has left the window and the next
    // exact recompute (every window-size updates) has run, both hold the same figures.
    const values = Array.from({ length: 400 }, (_, i) => Number((20 + Math.sin(i) * 3 + (i % 7) / 1000).toFixed(3)));
    const narrow = new RollingZScore(50, 5);
    const wide = new RollingZScore(50, 5);
    narrow.push(0.333);
    wide.push(1 / 3);
    assert.equal(form(wide), 'doubles');
    const zn: (number | null)[] = [];
    const zw: (number | null)[] = [];
    for (const x of values) {
      zn.push(narrow.push(x));
      zw.push(wide.push(x));
    }
    assert.equal(form(narrow), 'thousandths');
    assert.notDeepEqual(zn.slice(0, 50), zw.slice(0, 50), 'the first value differs while it is in the window');
    assert.deepEqual(zn.slice(100), zw.slice(100));
    assert.equal(narrow.mean, wide.mean);
    assert.equal(narrow.std, wide.std);
  });

  it('a device evicted in the wide form gives a new device thousandths again', function () {
    const d = new ZScoreDetector({ maxDevices: 1, sensors: ['temperature'] });
    const r = (id: string, t: number): Reading => ({ ...reading({ deviceId: id, temperature: t }) });
    d.process(r('wide', 1 / 3), 0, []);
    const state = () => (d as unknown as { state: { peek(k: string): { q: unknown } | undefined } }).state;
    assert.equal(state().peek('wide')!.q, null);
    d.process(r('next', 21.5), 0, []);
    assert.equal(state().peek('wide'), undefined);
    assert.ok(state().peek('next')!.q instanceof Int32Array);
  });
});

describe('zscore > detector', function () {
  it('raises MEDIUM above 3 and HIGH above 4 with the contract alert shape', function () {
    const d = new ZScoreDetector();
    for (const x of alternating(99)) run(d, reading({ temperature: x }));
    const [a] = run(d, reading({ temperature: 2.5, timestamp: 5 }));
    const win = [...alternating(99).slice(0), 2.5];
    const z = naiveZ(win, 30) as number;
    assert.ok(z > 3 && z < 4, `z ${z}`);
    assert.equal(a.type, 'STATISTICAL');
    assert.equal(a.severity, 'MEDIUM');
    assert.equal(a.sensor, 'temperature');
    assert.equal(a.value, 2.5);
    assert.equal(a.threshold, 3);
    assert.equal(a.deviceId, 'd1');
    assert.equal(a.timestamp, 5);
    assert.ok(Math.abs((a.zScore as number) - z) < 1e-12);
    assert.match(a.message, /^temperature 2\.5: z 3\.\d+ > 3 \(MEDIUM; mean 0\.5\d*, σ 0\.\d+\)$/);
    const [b] = run(d, reading({ temperature: 4 }));
    assert.equal(b.severity, 'HIGH');
    assert.equal(b.threshold, 4);
  });

  it('compares strictly: z equal to the threshold raises nothing', function () {
    const values = [...alternating(9), 3];
    const probe = new RollingZScore(10, 10);
    let z = 0;
    for (const x of values) z = probe.push(x) ?? 0;
    const at = new ZScoreDetector({ windowSize: 10, minValues: 10, zMedium: z, zHigh: z + 1 });
    const below = new ZScoreDetector({ windowSize: 10, minValues: 10, zMedium: z - 1e-9, zHigh: z + 1 });
    let nAt = 0;
    let nBelow = 0;
    for (const x of values) {
      nAt += run(at, reading({ humidity: x })).length;
      nBelow += run(below, reading({ humidity: x })).length;
    }
    assert.equal(nAt, 0);
    assert.equal(nBelow, 1);
  });

  it('warms up for 30 values per device and sensor', function () {
    const d = new ZScoreDetector();
    const alerts: Alert[] = [];
    const stream = [...alternating(28), 100, 100];
    stream.forEach((x) => d.process(reading({ tvoc: x, eco2: x }), 0, alerts));
    assert.deepEqual(alerts.map((a) => a.sensor), ['tvoc', 'eco2'], 'only the 30th reading scores, each sensor once');
    assert.deepEqual(run(d, reading({ deviceId: 'other', tvoc: 1e6 })), [], 'another device warms up on its own');
  });

  it('skips nulls: not scored and not counted toward the warm-up', function () {
    const d = new ZScoreDetector();
    const stream = [...alternating(28), 100];
    stream.forEach((x, i) => {
      run(d, reading({ pm2_5: x }));
      if (i % 2 === 0) run(d, reading({ pm2_5: null }));
    });
    assert.equal(run(d, reading({ pm2_5: 100 })).length, 1, 'the 30th non-null value scores');
  });

  it('raises nothing while σ = 0', function () {
    const d = new ZScoreDetector();
    for (let i = 0; i < 200; i++) assert.deepEqual(run(d, reading({ pressure: 935.5 })), []);
  });

  it('scores only the chosen sensors, in canonical order whatever the order given', function () {
    const d = new ZScoreDetector({ sensors: ['pm2_5', 'temperature'] });
    assert.deepEqual(d.sensors, ['temperature', 'pm2_5']);
    const alerts: Alert[] = [];
    for (const x of alternating(40)) d.process(reading({ temperature: x, pm2_5: x, tvoc: x }), 0, alerts);
    d.process(reading({ temperature: 9, pm2_5: 9, tvoc: 9 }), 0, alerts);
    assert.deepEqual(alerts.map((a) => a.sensor), ['temperature', 'pm2_5']);
  });

  it('scores the 12 numeric sensors by default', function () {
    assert.deepEqual(new ZScoreDetector().sensors, NUMERIC_SENSORS);
    // running figures (8 doubles) and 100 values as Int32 thousandths per sensor
    assert.equal(new ZScoreDetector().bytesPerDevice, 12 * (8 * 8 + 100 * 4));
  });

  it('reports unusable options', function () {
    const bad: [ZScoreOptions, RegExp][] = [
      [{ windowSize: 1 }, /window size/],
      [{ windowSize: 10.5 }, /window size/],
      [{ minValues: 1 }, /min values/],
      [{ windowSize: 20, minValues: 30 }, /must not exceed/],
      [{ zMedium: 0 }, /medium/],
      [{ zMedium: 3, zHigh: 3 }, /high z threshold/],
      [{ zMedium: 5 }, /high z threshold/],
      [{ sensors: [] }, /at least one sensor/],
      [{ sensors: ['cnt'] }, /unknown sensor "cnt"/],
      [{ maxDevices: -1 }, /max devices/],
      [{ idleMs: -5 }, /idle/],
    ];
    for (const [o, re] of bad) {
      const p = zscoreProblems(o);
      assert.ok(p.some((x) => re.test(x)), `${JSON.stringify(o)}: ${p.join('; ')}`);
      assert.throws(() => new ZScoreDetector(o), RangeError);
    }
    assert.deepEqual(zscoreProblems({}), []);
  });
});

describe('zscore > alert details', function () {
  it('says where the z bound lies in the sensor unit: mean ± threshold × σ on the value side, the window figures', function () {
    const d = new ZScoreDetector();
    for (const x of alternating(99)) run(d, reading({ humidity: x }));
    const [a] = run(d, reading({ humidity: 8 }));
    const win = [...alternating(99), 8];
    const det = a.details as { mean: number; stdDev: number; count: number; bound: number };
    assert.equal(a.threshold, 4);
    assert.equal(det.count, 100);
    assert.ok(Math.abs(det.mean - ss.mean(win)) < 1e-12);
    assert.ok(Math.abs(det.stdDev - ss.standardDeviation(win)) < 1e-12);
    assert.ok(Math.abs(det.bound - (det.mean + 4 * det.stdDev)) < 1e-12);
    assert.ok((a.value as number) > det.bound, 'the value is past the bound its z crossed');
    const [low] = run(d, reading({ humidity: -8 }));
    const dl = low.details as { mean: number; stdDev: number; bound: number };
    assert.ok(Math.abs(dl.bound - (dl.mean - (low.threshold as number) * dl.stdDev)) < 1e-12, 'below the mean: mean − threshold × σ');
  });
});

describe('zscore > emit: change', function () {
  it('raises on a change of severity, and clears with the severity cleared', function () {
    const d = new ZScoreDetector({ emit: 'change' });
    for (const x of alternating(99)) run(d, reading({ humidity: x }));
    // z of each value against the window it joins: 3.70, 3.60, 5.15, 0.86, 0.64, 2.76, then 8 far above 4
    const got = [2.5, 2.6, 4, 0, 1, 2.5, 8].map((x) => run(d, reading({ humidity: x })).map((a) => `${a.severity}${a.cleared ? ' cleared' : ''}`));
    assert.deepEqual(got, [['MEDIUM'], [], ['HIGH'], ['NORMAL cleared'], [], [], ['HIGH']]);
  });

  it('gives a cleared alert severity NORMAL, the current value and z, the z bound it returned within and the severity it had', function () {
    const d = new ZScoreDetector({ emit: 'change' });
    for (const x of alternating(99)) run(d, reading({ humidity: x }));
    run(d, reading({ humidity: 4 }));
    const [a] = run(d, reading({ humidity: 1, timestamp: 7 }));
    assert.equal(a.cleared, true);
    assert.equal(a.severity, 'NORMAL');
    assert.deepEqual(a.details, { was: 'HIGH' });
    assert.equal(a.value, 1);
    assert.equal(a.threshold, 4);
    assert.equal(a.timestamp, 7);
    assert.equal(typeof a.zScore, 'number');
    assert.equal(a.message, 'humidity 1 back to normal (was HIGH)');
  });
});

describe('zscore > device state', function () {
  it('keeps at most max devices, evicting the least recently used (12,000 devices, max 1,000)', function () {
    const d = new ZScoreDetector({ maxDevices: 1000 });
    for (let i = 0; i < 12_000; i++) {
      run(d, reading({ deviceId: `dev-${i}`, temperature: i }));
      assert.ok(d.devices <= 1000);
    }
    assert.equal(d.devices, 1000);
    assert.equal(d.evictions, 11_000);
  });

  it("gives a device that takes an evicted device's place a fresh state (same alerts as a new detector)", function () {
    // the evicted device's rings are reused for the new one: nothing of its history may leak through
    const bounded = new ZScoreDetector({ maxDevices: 1 });
    for (const x of alternating(60)) run(bounded, reading({ deviceId: 'old', eco2: x * 1000 }));
    const fresh = new ZScoreDetector();
    const series = [...alternating(45), 50_000];
    const a = series.flatMap((x) => run(bounded, reading({ deviceId: 'new', eco2: x })));
    const b = series.flatMap((x) => run(fresh, reading({ deviceId: 'new', eco2: x })));
    assert.equal(bounded.evictions, 1);
    assert.ok(b.length > 0, 'the reference raises an alert');
    assert.deepEqual(a, b);
  });

  it('forgets devices idle longer than the idle timeout on sweep', function () {
    const d = new ZScoreDetector({ idleMs: 60_000 });
    run(d, reading({ deviceId: 'a', temperature: 1 }), 0);
    run(d, reading({ deviceId: 'b', temperature: 1 }), 30_000);
    assert.equal(d.sweep(60_000), 0);
    assert.equal(d.sweep(60_001), 1);
    assert.equal(d.devices, 1);
    assert.equal(d.sweep(90_001), 1);
    assert.equal(d.devices, 0);
  });

  it('forgets one device or every device on reset, which then warm up again', function () {
    const d = new ZScoreDetector();
    for (const id of ['a', 'b']) for (const x of alternating(40)) run(d, reading({ deviceId: id, eco2: x }));
    d.reset('a');
    assert.equal(d.devices, 1);
    assert.deepEqual(run(d, reading({ deviceId: 'a', eco2: 50 })), [], 'a warms up again');
    assert.equal(run(d, reading({ deviceId: 'b', eco2: 50 })).length, 1, 'b keeps its window');
    d.reset();
    assert.equal(d.devices, 0);
  });

  it('takes about 5.6 kB per device at the defaults (10,000 devices × 100 readings of up to 3 decimals)', function () {
    this.timeout(120000);
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const used = () => {
      gc();
      gc();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const devices = 10_000;
    const ids = Array.from({ length: devices }, (_, i) => `device-${String(i).padStart(5, '0')}`);
    const r = reading();
    const before = used();
    const d = new ZScoreDetector();
    const out: Alert[] = [];
    for (let k = 0; k < 100; k++) {
      for (let i = 0; i < devices; i++) {
        r.deviceId = ids[i];
        // as a sensor sends them: decimal text parsed to the nearest double
        for (const s of NUMERIC_SENSORS) r[s] = Number((((i * 7 + k * 13) % 17) + k / 100).toFixed(2));
        d.process(r, k, out);
        out.length = 0;
      }
    }
    const perDevice = (used() - before) / devices;
    assert.equal(d.devices, devices);
    console.log(`      zscore memory: ${Math.round(perDevice)} bytes/device (window storage ${d.bytesPerDevice} bytes)`);
    assert.ok(perDevice >= d.bytesPerDevice, `${perDevice} < the typed arrays themselves`);
    assert.ok(perDevice < d.bytesPerDevice + 1024, `${perDevice} bytes per device is more than storage + 1 kB`);
  });
});
