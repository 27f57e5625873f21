import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import {
  BASELINES,
  KAGGLE_HEADERS,
  SensorSim,
  SimClock,
  deviceIds,
  fireIntensity,
  mulberry32,
  simOptionProblems,
  type SimReading,
} from '../../nodes/lib/sim';
import { NUMERIC_SENSORS, SENSOR_KEYS } from '../../nodes/lib/types';

const T0 = Date.UTC(2024, 5, 1, 12, 0, 0);

/** CONTRACT §2 valid ranges (inclusive) of the canonical keys. */
const RANGES: Record<string, [number, number]> = {
  temperature: [-50, 100],
  humidity: [0, 100],
  tvoc: [0, Infinity],
  eco2: [0, Infinity],
  rawH2: [0, Infinity],
  rawEthanol: [0, Infinity],
  pressure: [800, 1200],
  pm1_0: [0, Infinity],
  pm2_5: [0, Infinity],
  nc0_5: [0, Infinity],
  nc1_0: [0, Infinity],
  nc2_5: [0, Infinity],
  cnt: [0, Infinity],
};

/** CONTRACT §4 MEDIUM thresholds (strict): quiet air must stay below every one of them. */
const MEDIUM_ABOVE: Record<string, number> = { temperature: 40, humidity: 80, tvoc: 500, eco2: 800, pm2_5: 25 };
const MEDIUM_BELOW: Record<string, number> = { temperature: 0, humidity: 15 };

/** CONTRACT §4 fire-pattern indicators. */
const INDICATORS: Record<string, number> = { temperature: 45, tvoc: 800, eco2: 800, pm2_5: 30 };

function assertInContractRanges(r: SimReading, where: string): void {
  for (const [k, [lo, hi]] of Object.entries(RANGES)) {
    const v = r[k];
    assert.equal(typeof v, 'number', `${where}: ${k} is a number`);
    assert.ok(Number.isFinite(v as number) && (v as number) >= lo && (v as number) <= hi, `${where}: ${k}=${v} within ${lo} … ${hi}`);
  }
  assert.ok(r.fireAlarm === 0 || r.fireAlarm === 1, `${where}: fireAlarm is 0 or 1`);
  assert.ok(Number.isInteger(r.cnt), `${where}: cnt is an integer`);
}

describe('sim > mulberry32', function () {
  it('gives the same sequence for the same seed and numbers in [0, 1)', function () {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    let differs = false;
    for (let i = 0; i < 1000; i++) {
      const x = a();
      assert.equal(x, b());
      assert.ok(x >= 0 && x < 1);
      if (x !== c()) differs = true;
    }
    assert.ok(differs, 'another seed gives another sequence');
  });

  it('is close to uniform (mean ≈ 0.5 over 100,000 draws)', function () {
    const r = mulberry32(7);
    let sum = 0;
    for (let i = 0; i < 100_000; i++) sum += r();
    assert.ok(Math.abs(sum / 100_000 - 0.5) < 0.005);
  });
});

describe('sim > device ids', function () {
  it('replaces {n} by 1 … count, zero-padded on request', function () {
    assert.deepEqual(deviceIds('sensor-{n}', 3), ['sensor-1', 'sensor-2', 'sensor-3']);
    assert.deepEqual(deviceIds('room{n}/smoke', 2, 3), ['room001/smoke', 'room002/smoke']);
  });

  it('names the devices of a sim by its pattern', function () {
    const sim = new SensorSim({ devices: 12, idPattern: 'det-{n}', pad: 2, shape: 'canonical' });
    assert.deepEqual(sim.ids.slice(0, 2), ['det-01', 'det-02']);
    assert.deepEqual(
      sim.tick(T0).map((r) => r.deviceId),
      sim.ids,
    );
  });
});

describe('sim > options', function () {
  it('accepts the defaults', function () {
    assert.deepEqual(simOptionProblems({}), []);
  });

  it('names every unusable option', function () {
    const cases: [Parameters<typeof simOptionProblems>[0], RegExp][] = [
      [{ devices: 0 }, /devices/],
      [{ devices: 2.5 }, /devices/],
      [{ devices: 3, idPattern: 'fixed' }, /\{n\}/],
      [{ fireEveryMs: 60_000, fireDurationMs: 60_000 }, /shorter/],
      [{ fireDurationMs: -1 }, /duration/],
      [{ fireProbability: 2 }, /probability/],
      [{ missingRate: -0.1 }, /missing/],
      [{ shape: 'xml' as never }, /shape/],
      [{ fire: 'sometimes' as never }, /fire must/],
      [{ missingAs: 'zero' as never }, /missingAs/],
    ];
    for (const [o, re] of cases) {
      const p = simOptionProblems(o);
      assert.ok(p.some((m) => re.test(m)), `${JSON.stringify(o)} → ${JSON.stringify(p)}`);
      assert.throws(() => new SensorSim(o), RangeError);
    }
  });

  it('allows one device without {n} in the pattern', function () {
    assert.deepEqual(new SensorSim({ devices: 1, idPattern: 'kitchen' }).ids, ['kitchen']);
  });
});

describe('sim > repeatability', function () {
  it('gives identical readings for the same seed and event times', function () {
    const opts = { devices: 5, seed: 1234, fireEveryMs: 60_000, fireDurationMs: 20_000, missingRate: 0.05 };
    const a = new SensorSim(opts);
    const b = new SensorSim(opts);
    for (let k = 0; k < 300; k++) assert.deepEqual(a.tick(T0 + k * 1000), b.tick(T0 + k * 1000));
  });

  it('gives other readings for another seed', function () {
    const a = new SensorSim({ seed: 1 }).tick(T0);
    const b = new SensorSim({ seed: 2 }).tick(T0);
    assert.notDeepEqual(a, b);
  });
});

describe('sim > shapes', function () {
  it('kaggle: the data file headers in its column order, UTC in seconds, then device_id', function () {
    const [r] = new SensorSim({ devices: 1, idPattern: 'x' }).tick(T0);
    const header = 'UTC,Temperature[C],Humidity[%],TVOC[ppb],eCO2[ppm],Raw H2,Raw Ethanol,Pressure[hPa],PM1.0,PM2.5,NC0.5,NC1.0,NC2.5,CNT,Fire Alarm,device_id';
    assert.deepEqual(Object.keys(r), header.split(','), 'CONTRACT §8 column order');
    assert.equal(r.UTC, T0 / 1000);
    assert.equal(r.device_id, 'x');
    for (const k of header.split(',').slice(0, -1)) assert.equal(typeof r[k], 'number', k);
  });

  it('canonical: deviceId, timestamp in ms and the CONTRACT §2 sensor keys', function () {
    const [r] = new SensorSim({ devices: 1, idPattern: 'x', shape: 'canonical' }).tick(T0);
    assert.deepEqual(Object.keys(r), ['deviceId', 'timestamp', ...SENSOR_KEYS]);
    assert.equal(r.timestamp, T0);
    assert.equal(r.deviceId, 'x');
  });

  it('both shapes carry the same values for the same seed', function () {
    const k = new SensorSim({ devices: 3, seed: 9 });
    const c = new SensorSim({ devices: 3, seed: 9, shape: 'canonical' });
    for (let s = 0; s < 50; s++) {
      const t = T0 + s * 1000;
      const kr = k.tick(t);
      const cr = c.tick(t);
      for (let i = 0; i < 3; i++) {
        for (const key of SENSOR_KEYS) assert.equal(kr[i][KAGGLE_HEADERS[key]], cr[i][key], key);
        assert.equal(kr[i].device_id, cr[i].deviceId);
      }
    }
  });

  it('counts CNT up by one per reading of each device', function () {
    const sim = new SensorSim({ devices: 2, shape: 'canonical' });
    for (let s = 0; s < 10; s++) for (const r of sim.tick(T0 + s * 1000)) assert.equal(r.cnt, s);
  });
});

describe('sim > quiet air', function () {
  this.timeout(20000);

  it('stays inside the contract ranges and below every MEDIUM threshold (20 devices, 2 h, drift on)', function () {
    const sim = new SensorSim({ devices: 20, fire: 'off', shape: 'canonical', seed: 5 });
    for (let s = 0; s < 7200; s += 1) {
      for (const r of sim.tick(T0 + s * 1000)) {
        const where = `${r.deviceId} at ${s}s`;
        assertInContractRanges(r, where);
        for (const [k, lim] of Object.entries(MEDIUM_ABOVE)) assert.ok((r[k] as number) <= lim, `${where}: ${k}=${r[k]} ≤ ${lim}`);
        for (const [k, lim] of Object.entries(MEDIUM_BELOW)) assert.ok((r[k] as number) >= lim, `${where}: ${k}=${r[k]} ≥ ${lim}`);
        assert.equal(r.fireAlarm, 0);
      }
    }
  });

  it('sits near the data set quiet levels (mean within a device spread of the median)', function () {
    const sim = new SensorSim({ devices: 50, fire: 'off', shape: 'canonical', seed: 11 });
    const sums: Record<string, number> = {};
    let n = 0;
    for (let s = 0; s < 120; s++) {
      for (const r of sim.tick(T0 + s * 1000)) {
        n++;
        for (const k of Object.keys(BASELINES)) sums[k] = (sums[k] ?? 0) + (r[k] as number);
      }
    }
    for (const [k, b] of Object.entries(BASELINES)) {
      const mean = sums[k] / n;
      assert.ok(Math.abs(mean - b.level) <= b.device, `${k}: mean ${mean} near ${b.level} ± ${b.device}`);
    }
  });

  it('drifts: a device wanders further over an hour than its reading-to-reading noise', function () {
    const sim = new SensorSim({ devices: 10, fire: 'off', shape: 'canonical', seed: 3 });
    const first = sim.tick(T0).map((r) => r.humidity as number);
    let moved = 0;
    let last: SimReading[] = [];
    for (let s = 1; s <= 3600; s++) last = sim.tick(T0 + s * 1000);
    for (let i = 0; i < 10; i++) if (Math.abs((last[i].humidity as number) - first[i]) > 6 * BASELINES.humidity.noise) moved++;
    assert.ok(moved >= 5, `${moved} of 10 devices drifted`);
    const still = new SensorSim({ devices: 10, fire: 'off', shape: 'canonical', seed: 3, drift: false });
    const a = still.tick(T0).map((r) => r.humidity as number);
    for (let s = 1; s <= 3600; s++) last = still.tick(T0 + s * 1000);
    for (let i = 0; i < 10; i++) assert.ok(Math.abs((last[i].humidity as number) - a[i]) <= 6 * BASELINES.humidity.noise, 'without drift only noise');
  });
});

describe('sim > fire episodes', function () {
  this.timeout(20000);

  it('fireIntensity climbs, holds at 1 and fades within [0, 1)', function () {
    assert.equal(fireIntensity(0), 0);
    assert.equal(fireIntensity(0.5), 1);
    assert.equal(fireIntensity(1), 0);
    assert.equal(fireIntensity(-0.1), 0);
    assert.ok(fireIntensity(0.1) < fireIntensity(0.2));
    assert.ok(Math.abs(fireIntensity(0.15) - fireIntensity(0.85)) < 1e-12);
  });

  it('on a schedule: the first one interval after the first reading, then one device after the other', function () {
    const every = 120_000;
    const duration = 60_000;
    const sim = new SensorSim({ devices: 3, fireEveryMs: every, fireDurationMs: duration, shape: 'canonical' });
    const onFire: string[][] = [];
    for (let s = 0; s < 600; s++) {
      const t = T0 + s * 1000;
      sim.tick(t);
      onFire.push(sim.ids.filter((_, i) => sim.isBurning(i, t)));
    }
    for (let s = 0; s < 600; s++) {
      const episode = Math.floor((s * 1000) / every);
      const inEpisode = episode >= 1 && (s * 1000) % every < duration;
      assert.deepEqual(onFire[s], inEpisode ? [sim.ids[(episode - 1) % 3]] : [], `at ${s}s`);
    }
  });

  it('raises temperature, TVOC, eCO2 and PM2.5 above the fire-pattern indicators and sets Fire Alarm (any seed)', function () {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (seed) => {
        const sim = new SensorSim({ devices: 2, seed, fireEveryMs: 100_000, fireDurationMs: 50_000, shape: 'canonical' });
        for (let s = 0; s < 160; s++) {
          const t = T0 + s * 1000;
          const rs = sim.tick(t);
          // Episode 1: device 1 from 100 s to 150 s; its full-intensity plateau is 115 s … 135 s.
          if (s >= 115 && s <= 135) {
            const r = rs[0];
            for (const [k, lim] of Object.entries(INDICATORS)) assert.ok((r[k] as number) > lim, `seed ${seed} at ${s}s: ${k}=${r[k]} > ${lim}`);
            assert.equal(r.fireAlarm, 1);
            assert.equal(rs[1].fireAlarm, 0, 'the other device is quiet');
          }
        }
      }),
      { numRuns: 50 },
    );
  });

  it('stays inside the contract ranges during a fire, so sensor validate passes it on', function () {
    const sim = new SensorSim({ devices: 4, seed: 77, fireEveryMs: 90_000, fireDurationMs: 80_000, shape: 'canonical' });
    let burning = 0;
    for (let s = 0; s < 3600; s++) {
      const t = T0 + s * 1000;
      const rs = sim.tick(t);
      rs.forEach((r, i) => {
        assertInContractRanges(r, `${r.deviceId} at ${s}s`);
        if (sim.isBurning(i, t)) burning++;
      });
    }
    assert.ok(burning > 2000, 'many readings were on fire');
  });

  it('a fire command (ignite) sets one device on fire for the configured duration', function () {
    const sim = new SensorSim({ devices: 3, fire: 'off', fireDurationMs: 30_000, shape: 'canonical' });
    sim.tick(T0);
    sim.ignite(2, T0 + 1000);
    assert.equal(sim.burning(T0 + 1000), 1);
    assert.ok(sim.isBurning(2, T0 + 15_000));
    assert.ok(!sim.isBurning(2, T0 + 31_000));
    let maxT = 0;
    for (let s = 1; s <= 31; s++) maxT = Math.max(maxT, sim.tick(T0 + s * 1000)[2].temperature as number);
    assert.ok(maxT > INDICATORS.temperature);
    assert.throws(() => sim.ignite(3, T0), RangeError);
  });

  it('at random: episodes start at about the given probability per device per minute', function () {
    const p = 0.05;
    const devices = 40;
    const sim = new SensorSim({ devices, fire: 'random', fireProbability: p, fireDurationMs: 60_000, shape: 'canonical', seed: 21 });
    const was = new Array<boolean>(devices).fill(false);
    let starts = 0;
    let quietMinutes = 0;
    const stepS = 10;
    for (let s = 0; s < 300 * 60; s += stepS) {
      const t = T0 + s * 1000;
      sim.tick(t);
      for (let i = 0; i < devices; i++) {
        const b = sim.isBurning(i, t);
        if (b && !was[i]) starts++;
        if (!b) quietMinutes += stepS / 60;
        was[i] = b;
      }
    }
    const expected = p * quietMinutes;
    assert.ok(Math.abs(starts - expected) < 0.2 * expected, `${starts} starts, about ${expected.toFixed(0)} expected`);
  });
});

describe('sim > missing values', function () {
  this.timeout(20000);

  for (const missingAs of ['null', 'absent'] as const) {
    it(`leaves one sensor value out of about 5 % of readings (${missingAs})`, function () {
      const sim = new SensorSim({ devices: 20, missingRate: 0.05, missingAs, shape: 'canonical', seed: 99 });
      let readings = 0;
      let missing = 0;
      for (let s = 0; s < 1000; s++) {
        for (const r of sim.tick(T0 + s * 1000)) {
          readings++;
          const gone = NUMERIC_SENSORS.filter((k) => (missingAs === 'null' ? r[k] === null : !(k in r)));
          assert.ok(gone.length <= 1, 'at most one value per reading');
          if (missingAs === 'null') assert.equal(Object.keys(r).length, 16, 'null keeps the key');
          for (const k of ['deviceId', 'timestamp', 'cnt', 'fireAlarm']) assert.notEqual(r[k], null, `${k} is never missing`);
          missing += gone.length;
        }
      }
      // 20,000 readings at 5 %: 1,000 expected, sd ≈ 31; ± 15 % is about 5 sd.
      assert.ok(Math.abs(missing / readings - 0.05) < 0.0075, `${missing} of ${readings}`);
    });
  }

  it('in the kaggle shape the header key is the one left out', function () {
    const sim = new SensorSim({ devices: 50, missingRate: 1, missingAs: 'absent' });
    for (const r of sim.tick(T0)) assert.equal(Object.keys(r).length, 15);
  });
});

describe('sim > clock', function () {
  it('at speed 1 the first reading is due at once, on the whole-second grid, then one per second', function () {
    const c = new SimClock(1);
    const wall = T0 + 400;
    c.start(wall);
    assert.deepEqual(c.due(wall), [T0]);
    assert.deepEqual(c.due(wall + 500), []);
    assert.deepEqual(c.due(wall + 600), [T0 + 1000]);
    assert.deepEqual(c.due(wall + 3600), [T0 + 2000, T0 + 3000, T0 + 4000]);
  });

  it('hands out at most max readings per call and keeps the rest due', function () {
    const c = new SimClock(10);
    c.start(T0);
    c.due(T0);
    assert.equal(c.due(T0 + 1000, 4).length, 4);
    assert.equal(c.due(T0 + 1000).length, 6);
  });

  it('fast-forward: speed 60 covers a simulated minute per wall second', function () {
    const c = new SimClock(1, 60);
    c.start(T0);
    const times = [...c.due(T0), ...c.due(T0 + 1000)];
    assert.equal(times.length, 61);
    assert.equal(times[60] - times[0], 60_000);
  });

  it('never goes back in event time after stop and start', function () {
    const c = new SimClock(1, 100);
    c.start(T0);
    c.due(T0 + 1000);
    const last = c.last;
    c.stop();
    assert.deepEqual(c.due(T0 + 2000), [], 'nothing is due while stopped');
    c.start(T0 + 2000);
    const next = c.due(T0 + 2000);
    assert.deepEqual(next, [last + 1000]);
  });

  it('skips ahead instead of flooding after a long stall, and counts what it skipped', function () {
    const c = new SimClock(1, 1, 10_000);
    c.start(T0);
    c.due(T0);
    const times = c.due(T0 + 100_000);
    assert.ok(times.length <= 11);
    assert.equal(times[times.length - 1], T0 + 100_000);
    assert.equal(c.skipped + times.length, 100);
  });

  it('rejects a rate or speed that is not > 0', function () {
    assert.throws(() => new SimClock(0), RangeError);
    assert.throws(() => new SimClock(1, -1), RangeError);
  });
});

describe('sim > cost', function () {
  it('generates 100,000 readings in well under a second', function () {
    const sim = new SensorSim({ devices: 1000, missingRate: 0.05, fire: 'random', fireProbability: 0.05 });
    const start = process.hrtime.bigint();
    let n = 0;
    for (let s = 0; s < 100; s++) n += sim.tick(T0 + s * 1000).length;
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    assert.equal(n, 100_000);
    assert.ok(ms < 1000, `${ms.toFixed(0)} ms`);
  });
});
