import { strict as assert } from 'node:assert';
import {
  DEFAULT_WINDOW_RULES,
  WindowAlertDetector,
  type WindowRule,
  defaultWindowRules,
  parseWindowRules,
} from '../../nodes/lib/window-alert';
import type { Alert, Reading, Severity } from '../../nodes/lib/types';

const START = 1_654_712_100_000;
const END = START + 300_000;

/** A window result (CONTRACT §5) with quiet aggregates, overridden by `values`. */
function result(values: Record<string, unknown> = {}): Reading {
  return {
    deviceId: 'd1',
    windowStart: START,
    windowEnd: END,
    count: 300,
    fireAlarmCount: 0,
    avgTemperature: 20,
    avgHumidity: 50,
    avgTvoc: 100,
    avgEco2: 400,
    avgPm25: 1,
    avgPressure: 935,
    maxTemperature: 21,
    minTemperature: 19,
    stddevTemperature: 0.5,
    final: true,
    ...values,
  } as unknown as Reading;
}

function run(d: WindowAlertDetector, r: Reading, now = 0): Alert[] {
  const out: Alert[] = [];
  const n = d.process(r, now, out);
  assert.equal(n, out.length, 'process returns the number of alerts appended');
  return out;
}

type Case = [aggregate: string, value: number, severity: Severity | null, threshold?: number];

// The seed's rules: equal to the bound is normal, just beyond raises.
const CASES: Case[] = [
  ['avgTemperature', 50, null],
  ['avgTemperature', 50.01, 'HIGH', 50],
  ['avgTemperature', -10, null],
  ['avgTemperature', -10.01, 'HIGH', -10],
  ['avgTvoc', 1000, null],
  ['avgTvoc', 1000.5, 'HIGH', 1000],
  ['avgEco2', 1000, null],
  ['avgEco2', 1001, 'HIGH', 1000],
  ['avgPm25', 35, null],
  ['avgPm25', 35.1, 'HIGH', 35],
  ['avgHumidity', 90, null],
  ['avgHumidity', 90.5, 'HIGH', 90],
  ['avgHumidity', 10, null],
  ['avgHumidity', 9.99, 'HIGH', 10],
  ['avgHumidity', 0, 'HIGH', 10],
  ['fireAlarmCount', 0, null],
  ['fireAlarmCount', 1, 'CRITICAL', 0],
  ['fireAlarmCount', 300, 'CRITICAL', 0],
];

describe('window-alert > default rules (the seed)', function () {
  it('are the seed thresholds: fire alarm CRITICAL, every other rule HIGH (the seed logs them as warnings)', function () {
    assert.deepEqual(
      DEFAULT_WINDOW_RULES.map((x) => `${x.sensor} ${x.op} ${x.bound} ${x.severity} ${x.enabled}`),
      [
        'avgTemperature > 50 HIGH true',
        'avgTemperature < -10 HIGH true',
        'avgTvoc > 1000 HIGH true',
        'avgEco2 > 1000 HIGH true',
        'avgPm25 > 35 HIGH true',
        'avgHumidity > 90 HIGH true',
        'avgHumidity < 10 HIGH true',
        'fireAlarmCount > 0 CRITICAL true',
      ],
    );
    assert.ok(Object.isFrozen(DEFAULT_WINDOW_RULES[0]));
    const copy = defaultWindowRules();
    copy[0].bound = 1;
    assert.equal(DEFAULT_WINDOW_RULES[0].bound, 50, 'defaultWindowRules() is a copy');
  });

  it('a quiet window raises nothing', function () {
    assert.deepEqual(run(new WindowAlertDetector(), result()), []);
  });

  for (const [key, value, severity, threshold] of CASES) {
    it(`${key} = ${value} → ${severity ?? 'no alert'}`, function () {
      const alerts = run(new WindowAlertDetector(), result({ [key]: value }));
      if (severity === null) {
        assert.deepEqual(alerts, []);
        return;
      }
      assert.equal(alerts.length, 1);
      const a = alerts[0];
      assert.equal(a.type, 'THRESHOLD');
      assert.equal(a.severity, severity);
      assert.equal(a.sensor, key);
      assert.equal(a.value, value);
      assert.equal(a.threshold, threshold);
      assert.equal(a.deviceId, 'd1');
      assert.equal(a.timestamp, END, 'timestamp is the window end');
    });
  }

  it('the fire-alarm alert carries the count and says it in words', function () {
    const [a] = run(new WindowAlertDetector(), result({ fireAlarmCount: 42 }));
    assert.equal(a.value, 42);
    assert.equal(a.severity, 'CRITICAL');
    assert.equal(a.sensor, 'fireAlarmCount');
    assert.equal(a.message, '42 fire alarms (fireAlarmCount > 0, CRITICAL) in window 2022-06-08T18:15:00.000Z – 2022-06-08T18:20:00.000Z');
    const [one] = run(new WindowAlertDetector(), result({ fireAlarmCount: 1 }));
    assert.match(one.message, /^1 fire alarm \(/);
  });

  it('an aggregate alert message names the aggregate, value, rule and window', function () {
    const [a] = run(new WindowAlertDetector(), result({ avgTemperature: 52.345 }));
    assert.equal(a.message, 'avgTemperature 52.345 > 50 (HIGH) in window 2022-06-08T18:15:00.000Z – 2022-06-08T18:20:00.000Z');
  });

  it('has exactly the alert keys of CONTRACT §4, message first, then typed details: the rule, the unit and the window', function () {
    const r = result({ avgTvoc: 5000, fireAlarmCount: 2 });
    const [fire, a] = run(new WindowAlertDetector(), r);
    assert.deepEqual(Object.keys(a), ['message', 'type', 'severity', 'sensor', 'value', 'threshold', 'deviceId', 'timestamp', 'details']);
    assert.deepEqual(a.details, { op: '>', unit: 'ppb', windowStart: START, windowEnd: END });
    assert.deepEqual(fire.details, { op: '>', unit: 'count', windowStart: START, windowEnd: END });
  });

  it('raises one alert per offending aggregate, in the result key order', function () {
    const alerts = run(new WindowAlertDetector(), result({ fireAlarmCount: 5, avgTemperature: 60, avgTvoc: 2000, avgEco2: 2000, avgPm25: 50, avgHumidity: 95 }));
    assert.deepEqual(
      alerts.map((a) => `${a.sensor} ${a.severity}`),
      ['fireAlarmCount CRITICAL', 'avgTemperature HIGH', 'avgHumidity HIGH', 'avgTvoc HIGH', 'avgEco2 HIGH', 'avgPm25 HIGH'],
    );
  });
});

describe('window-alert > a window result that lacks an aggregate', function () {
  it('skips an absent, null or non-numeric aggregate and evaluates the others', function () {
    const r = result({ avgTemperature: null, avgTvoc: 'high', avgEco2: Number.NaN, avgPm25: 99 }) as unknown as Record<string, unknown>;
    delete r.avgHumidity;
    delete r.fireAlarmCount;
    const alerts = run(new WindowAlertDetector(), r as unknown as Reading);
    assert.deepEqual(alerts.map((a) => a.sensor), ['avgPm25']);
  });

  it('uses `now` as the timestamp and `default` as the device when the result has no window end or device', function () {
    const r = { avgTemperature: 70 } as unknown as Reading;
    const [a] = run(new WindowAlertDetector(), r, 1234);
    assert.equal(a.timestamp, 1234);
    assert.equal(a.deviceId, 'default');
    assert.equal(a.message, 'avgTemperature 70 > 50 (HIGH)');
  });
});

describe('window-alert > rule table', function () {
  it('raises the most severe rule that applies, and only one per aggregate', function () {
    const rules: WindowRule[] = [
      { sensor: 'avgTemperature', op: '>', bound: 40, severity: 'MEDIUM', enabled: true },
      { sensor: 'avgTemperature', op: '>', bound: 60, severity: 'CRITICAL', enabled: true },
      { sensor: 'avgTemperature', op: '>', bound: 50, severity: 'HIGH', enabled: true },
    ];
    const d = new WindowAlertDetector(rules);
    assert.deepEqual(run(d, result({ avgTemperature: 45 })).map((a) => a.severity), ['MEDIUM']);
    assert.deepEqual(run(d, result({ avgTemperature: 55 })).map((a) => a.severity), ['HIGH']);
    assert.deepEqual(run(d, result({ avgTemperature: 65 })).map((a) => [a.severity, a.threshold]), [['CRITICAL', 60]]);
  });

  it('ignores disabled rules', function () {
    const rules = defaultWindowRules().map((x) => (x.sensor === 'fireAlarmCount' ? { ...x, enabled: false } : x));
    const d = new WindowAlertDetector(rules);
    assert.deepEqual(run(d, result({ fireAlarmCount: 3 })), []);
    assert.ok(!d.watched.includes('fireAlarmCount'));
  });

  it('parses a table from the editor (numeric strings, absent enabled) and reports bad rows', function () {
    const ok = parseWindowRules([{ sensor: 'maxTemperature', op: '>', bound: '80', severity: 'CRITICAL' }]);
    assert.deepEqual(ok, { rules: [{ sensor: 'maxTemperature', op: '>', bound: 80, severity: 'CRITICAL', enabled: true }], problems: [] });
    const bad = parseWindowRules([
      { sensor: 'temperature', op: '>', bound: 1, severity: 'HIGH' },
      { sensor: 'avgTvoc', op: '>=', bound: 1, severity: 'HIGH' },
      { sensor: 'avgTvoc', op: '>', bound: '', severity: 'HIGH' },
      { sensor: 'avgTvoc', op: '>', bound: 1, severity: 'LOW' },
      { sensor: 'avgTvoc', op: '>', bound: 1, severity: 'HIGH', enabled: 'yes' },
      7,
    ]);
    assert.equal(bad.rules.length, 0);
    assert.equal(bad.problems.length, 6);
    assert.match(bad.problems[0], /rule 1: unknown aggregate "temperature"/);
    assert.match(bad.problems[3], /unknown severity "LOW"/);
    assert.deepEqual(parseWindowRules({}).problems, ['rules must be a list of rules']);
    assert.throws(() => new WindowAlertDetector([{ sensor: 'nope' } as unknown as WindowRule]), RangeError);
  });
});

describe('window-alert > emit on change', function () {
  it('alerts when a device aggregate severity changes, then clears when it returns to normal', function () {
    const d = new WindowAlertDetector(undefined, { emit: 'change' });
    assert.equal(run(d, result({ avgTemperature: 55 })).length, 1);
    assert.equal(run(d, result({ avgTemperature: 56 })).length, 0, 'same severity: nothing');
    assert.equal(run(d, result({ deviceId: 'd2', avgTemperature: 56 })).length, 1, 'another device has its own state');
    assert.equal(run(d, result({ avgTemperature: null })).length, 0, 'a missing aggregate keeps the severity');
    const [c] = run(d, result({ avgTemperature: 20 }));
    assert.equal(c.cleared, true);
    assert.equal(c.severity, 'NORMAL');
    assert.deepEqual(c.details, { was: 'HIGH' });
    assert.equal(c.threshold, 50, 'the bound it returned within');
    assert.match(c.message, /^avgTemperature 20 back to normal \(was HIGH\) in window /);
    assert.equal(d.devices, 2);
  });

  it('snapshots and restores the per-device state', function () {
    const d = new WindowAlertDetector(undefined, { emit: 'change' });
    run(d, result({ fireAlarmCount: 2 }));
    const copy = new WindowAlertDetector(undefined, { emit: 'change' });
    assert.ok(copy.restore(JSON.parse(JSON.stringify(d.snapshot()))));
    assert.equal(run(copy, result({ fireAlarmCount: 3 })).length, 0, 'still CRITICAL: nothing new');
    assert.equal(run(copy, result({ fireAlarmCount: 0 }))[0].cleared, true);
    const every = new WindowAlertDetector();
    assert.ok(every.restore(every.snapshot()));
    assert.ok(!every.restore(d.snapshot()), 'a change-mode snapshot does not restore into emit: every');
  });
});
