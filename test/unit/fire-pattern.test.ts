import { strict as assert } from 'node:assert';
import { readSensors } from '../../nodes/lib/detector';
import { DEFAULT_FIRE_BOUNDS, FirePatternDetector, fireProblems } from '../../nodes/lib/fire-pattern';
import { type Alert, type Reading, SENSOR_KEYS, type Severity } from '../../nodes/lib/types';
import { quietReading } from './_reading';

function reading(values: Partial<Reading> = {}): Reading {
  return quietReading({ timestamp: 5_000, ...values }) as unknown as Reading;
}

function run(d: FirePatternDetector, r: Reading, now = 0): Alert[] {
  const out: Alert[] = [];
  assert.equal(d.process(r, now, out), out.length);
  return out;
}

const HOT = { temperature: 45.5, tvoc: 801, eco2: 801, pm2_5: 30.5 } as const;
type Ind = keyof typeof HOT;

type Case = [active: Ind[], fireAlarm: 0 | 1, severity: Severity | null, threshold: number | null];
const CASES: Case[] = [
  [[], 0, null, null],
  [['temperature'], 0, null, null],
  [['pm2_5'], 0, null, null],
  [['temperature', 'tvoc'], 0, 'HIGH', 2],
  [['temperature', 'eco2'], 0, 'HIGH', 2],
  [['temperature', 'pm2_5'], 0, 'HIGH', 2],
  [['tvoc', 'eco2'], 0, 'HIGH', 2],
  [['tvoc', 'pm2_5'], 0, 'HIGH', 2],
  [['eco2', 'pm2_5'], 0, 'HIGH', 2],
  [['temperature', 'tvoc', 'eco2'], 0, 'CRITICAL', 3],
  [['temperature', 'tvoc', 'pm2_5'], 0, 'CRITICAL', 3],
  [['temperature', 'eco2', 'pm2_5'], 0, 'CRITICAL', 3],
  [['tvoc', 'eco2', 'pm2_5'], 0, 'CRITICAL', 3],
  [['temperature', 'tvoc', 'eco2', 'pm2_5'], 0, 'CRITICAL', 3],
  [[], 1, 'CRITICAL', null],
  [['tvoc'], 1, 'CRITICAL', null],
  [['tvoc', 'eco2'], 1, 'CRITICAL', null],
  [['temperature', 'tvoc', 'eco2'], 1, 'CRITICAL', 3],
];

describe('fire-pattern > severity by active indicators', function () {
  const d = new FirePatternDetector();
  for (const [active, flag, severity, threshold] of CASES) {
    it(`${active.join(' + ') || 'no indicator'}${flag ? ' + fireAlarm' : ''} → ${severity ?? 'no alert'}`, function () {
      const values: Partial<Reading> = { fireAlarm: flag };
      for (const k of active) values[k] = HOT[k];
      const alerts = run(d, reading(values));
      if (severity === null) {
        assert.deepEqual(alerts, []);
        return;
      }
      assert.equal(alerts.length, 1, 'at most one PATTERN alert per reading');
      const a = alerts[0];
      assert.equal(a.type, 'PATTERN');
      assert.equal(a.sensor, 'firePattern');
      assert.equal(a.severity, severity);
      assert.equal(a.value, active.length);
      assert.equal(a.threshold, threshold);
      assert.deepEqual(a.indicators, flag ? [...active, 'fireAlarm'] : active);
    });
  }
});

describe('fire-pattern > indicators', function () {
  it('uses strict bounds: a value equal to the bound is not active', function () {
    const d = new FirePatternDetector();
    assert.deepEqual(run(d, reading({ ...DEFAULT_FIRE_BOUNDS })), []);
    const [a] = run(d, reading({ ...DEFAULT_FIRE_BOUNDS, temperature: 45.01, pm2_5: 30.01 }));
    assert.deepEqual(a.indicators, ['temperature', 'pm2_5']);
  });

  it('treats null and non-finite values as inactive', function () {
    const d = new FirePatternDetector();
    assert.deepEqual(run(d, reading({ temperature: null, tvoc: null, eco2: 900, pm2_5: NaN })), []);
    assert.deepEqual(run(d, reading({ temperature: Infinity, tvoc: 900 })), []);
    assert.deepEqual(run(d, reading({ fireAlarm: null, tvoc: 900 })), []);
  });

  it('takes configured bounds, keeping the defaults of the others', function () {
    const d = new FirePatternDetector({ bounds: { temperature: 30 } });
    assert.deepEqual(d.bounds, { temperature: 30, tvoc: 800, eco2: 800, pm2_5: 30 });
    assert.equal(run(d, reading({ temperature: 35, tvoc: 900 }))[0].severity, 'HIGH');
  });

  it('gives the contract shape with a readable message', function () {
    const [a] = run(new FirePatternDetector(), reading({ deviceId: 'lab', timestamp: 9, temperature: 50, tvoc: 900, eco2: 900, fireAlarm: 1 }));
    assert.deepEqual(a, {
      type: 'PATTERN',
      severity: 'CRITICAL',
      sensor: 'firePattern',
      value: 3,
      threshold: 3,
      message: 'fire pattern: temperature, tvoc, eco2, fireAlarm (CRITICAL)',
      deviceId: 'lab',
      timestamp: 9,
      indicators: ['temperature', 'tvoc', 'eco2', 'fireAlarm'],
      details: { temperature: 50, tvoc: 900, eco2: 900, pm2_5: 0, fireAlarm: 1 },
    });
    assert.equal(Object.keys(a)[0], 'message', 'the message first: what the debug sidebar shows of it');
  });

  it('reports unusable bounds', function () {
    assert.match(fireProblems({ bounds: { tvoc: NaN } }).join(), /tvoc bound/);
    assert.match(fireProblems({ bounds: { smoke: 1 } as never }).join(), /unknown indicator "smoke"/);
    assert.throws(() => new FirePatternDetector({ bounds: { eco2: Infinity } }), RangeError);
  });
});

describe('fire-pattern > emit: change', function () {
  it('raises on a change of severity and clears on the return to normal', function () {
    const d = new FirePatternDetector({ emit: 'change' });
    const steps: Partial<Reading>[] = [
      {},
      { tvoc: 900, eco2: 900 },
      { tvoc: 950, eco2: 950 },
      { tvoc: 900, eco2: 900, pm2_5: 40 },
      { fireAlarm: 1 },
      { tvoc: 900 },
      {},
    ];
    const got = steps.map((v) => run(d, reading(v)).map((a) => `${a.severity}${a.cleared ? ' cleared' : ''}`));
    assert.deepEqual(got, [[], ['HIGH'], [], ['CRITICAL'], [], ['NORMAL cleared'], []]);
  });

  it('gives a cleared alert severity NORMAL, the indicators still active, the count it fell below and the severity it had', function () {
    const d = new FirePatternDetector({ emit: 'change' });
    run(d, reading({ tvoc: 900, eco2: 900 }));
    const [a] = run(d, reading({ tvoc: 900, timestamp: 77 }));
    assert.deepEqual(a, {
      type: 'PATTERN',
      severity: 'NORMAL',
      sensor: 'firePattern',
      value: 1,
      threshold: 2,
      message: 'fire pattern back to normal (was HIGH)',
      deviceId: 'd1',
      timestamp: 77,
      indicators: ['tvoc'],
      cleared: true,
      details: { was: 'HIGH' },
    });
  });

  it('keeps state per device, bounded by max devices, swept when idle, cleared by reset', function () {
    const d = new FirePatternDetector({ emit: 'change', maxDevices: 3, idleMs: 100 });
    for (let i = 0; i < 10; i++) run(d, reading({ deviceId: `d${i}`, fireAlarm: 1 }), i);
    assert.equal(d.devices, 3);
    assert.equal(run(d, reading({ deviceId: 'd9', fireAlarm: 1 }), 10).length, 0);
    assert.equal(d.sweep(200), 3);
    assert.equal(run(d, reading({ deviceId: 'd9', fireAlarm: 1 }), 200).length, 1);
    d.reset('d9');
    assert.equal(run(d, reading({ deviceId: 'd9', fireAlarm: 1 }), 200).length, 1);
    d.reset();
    assert.equal(d.devices, 0);
  });
});

describe('detector > readSensors', function () {
  it('writes the 14 sensors in SENSOR_KEYS order, NaN for null and non-finite values', function () {
    const r = reading();
    SENSOR_KEYS.forEach((k, i) => ((r as unknown as Record<string, unknown>)[k] = i + 0.5));
    const out = new Float64Array(SENSOR_KEYS.length);
    readSensors(r, out);
    assert.deepEqual([...out], SENSOR_KEYS.map((_, i) => i + 0.5));
    readSensors(reading({ temperature: null, humidity: NaN, tvoc: Infinity, eco2: '5' as unknown as number }), out);
    assert.deepEqual([...out.slice(0, 5)], [NaN, NaN, NaN, NaN, 12000]);
  });
});
