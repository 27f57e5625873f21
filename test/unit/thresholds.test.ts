import { strict as assert } from 'node:assert';
import { DEFAULT_RULES, ThresholdDetector, type ThresholdRule, compileRuleTable, defaultRules, freezeRules, parseRules } from '../../nodes/lib/thresholds';
import { type Alert, type Reading, SENSOR_KEYS, type SensorKey, type Severity } from '../../nodes/lib/types';

/** A canonical reading with every sensor null except those given. */
function reading(values: Partial<Reading> = {}): Reading {
  return {
    deviceId: 'd1',
    timestamp: 1_654_712_187_000,
    temperature: null,
    humidity: null,
    tvoc: null,
    eco2: null,
    rawH2: null,
    rawEthanol: null,
    pressure: null,
    pm1_0: null,
    pm2_5: null,
    nc0_5: null,
    nc1_0: null,
    nc2_5: null,
    cnt: null,
    fireAlarm: null,
    ...values,
  };
}

function run(d: ThresholdDetector, r: Reading, now = 0): Alert[] {
  const out: Alert[] = [];
  const n = d.process(r, now, out);
  assert.equal(n, out.length, 'process returns the number of alerts appended');
  return out;
}

type Case = [sensor: keyof Reading, value: number, severity: Severity | null, threshold?: number];

// Each bound: equal → the next rule down (or nothing); just beyond → that rule.
const DEFAULT_CASES: Case[] = [
  ['temperature', 20, null],
  ['temperature', 40, null],
  ['temperature', 40.01, 'MEDIUM', 40],
  ['temperature', 50, 'MEDIUM', 40],
  ['temperature', 50.01, 'HIGH', 50],
  ['temperature', 70, 'HIGH', 50],
  ['temperature', 70.01, 'CRITICAL', 70],
  ['temperature', 100, 'CRITICAL', 70],
  ['temperature', 0, null],
  ['temperature', -0.01, 'HIGH', 0],
  ['temperature', -20, 'HIGH', 0],
  ['temperature', -20.01, 'CRITICAL', -20],
  ['humidity', 50, null],
  ['humidity', 80, null],
  ['humidity', 80.01, 'MEDIUM', 80],
  ['humidity', 90, 'MEDIUM', 80],
  ['humidity', 90.01, 'HIGH', 90],
  ['humidity', 95, 'HIGH', 90],
  ['humidity', 95.01, 'CRITICAL', 95],
  ['humidity', 15, null],
  ['humidity', 14.99, 'HIGH', 15],
  ['humidity', 5, 'HIGH', 15],
  ['humidity', 4.99, 'CRITICAL', 5],
  ['humidity', 0, 'CRITICAL', 5],
  ['tvoc', 0, null],
  ['tvoc', 500, null],
  ['tvoc', 501, 'MEDIUM', 500],
  ['tvoc', 1000, 'MEDIUM', 500],
  ['tvoc', 1001, 'HIGH', 1000],
  ['tvoc', 2000, 'HIGH', 1000],
  ['tvoc', 2000.5, 'CRITICAL', 2000],
  ['eco2', 400, null],
  ['eco2', 800, null],
  ['eco2', 800.1, 'MEDIUM', 800],
  ['eco2', 1000, 'MEDIUM', 800],
  ['eco2', 1000.1, 'HIGH', 1000],
  ['eco2', 1500, 'HIGH', 1000],
  ['eco2', 1500.1, 'CRITICAL', 1500],
  ['pm2_5', 25, null],
  ['pm2_5', 25.01, 'MEDIUM', 25],
  ['pm2_5', 35, 'MEDIUM', 25],
  ['pm2_5', 35.01, 'HIGH', 35],
  ['pm2_5', 50, 'HIGH', 35],
  ['pm2_5', 50.01, 'CRITICAL', 50],
  // Offered but disabled by default.
  ['pm1_0', 1000, null],
  ['pressure', 800, null],
  ['pressure', 935, null],
  ['pressure', 1200, null],
  // No rule at all.
  ['rawH2', 1e9, null],
  ['cnt', 1e9, null],
];

const ENABLED_OPTIONAL_CASES: Case[] = [
  ['pm1_0', 20, null],
  ['pm1_0', 20.01, 'MEDIUM', 20],
  ['pm1_0', 30, 'MEDIUM', 20],
  ['pm1_0', 30.01, 'HIGH', 30],
  ['pm1_0', 45, 'HIGH', 30],
  ['pm1_0', 45.01, 'CRITICAL', 45],
  ['pressure', 1013.25, null],
  ['pressure', 950, null],
  ['pressure', 949.9, 'HIGH', 950],
  ['pressure', 900, 'HIGH', 950],
  ['pressure', 899.9, 'CRITICAL', 900],
  ['pressure', 1050, null],
  ['pressure', 1050.1, 'MEDIUM', 1050],
  ['pressure', 1100, 'MEDIUM', 1050],
  ['pressure', 1100.1, 'HIGH', 1100],
  ['pressure', 1150, 'HIGH', 1100],
  ['pressure', 1150.1, 'CRITICAL', 1150],
];

function check(d: ThresholdDetector, [sensor, value, severity, threshold]: Case): void {
  const alerts = run(d, reading({ [sensor]: value }));
  if (severity === null) {
    assert.deepEqual(alerts, []);
    return;
  }
  assert.equal(alerts.length, 1, 'at most one alert per sensor and reading');
  const a = alerts[0];
  assert.equal(a.type, 'THRESHOLD');
  assert.equal(a.sensor, sensor);
  assert.equal(a.severity, severity);
  assert.equal(a.threshold, threshold);
  assert.equal(a.value, value);
}

describe('thresholds > default rule table (strict bounds, most severe wins)', function () {
  const d = new ThresholdDetector();
  for (const c of DEFAULT_CASES) {
    const [sensor, value, severity, threshold] = c;
    it(`${sensor} ${value} → ${severity ?? 'no alert'}${threshold !== undefined ? ` (bound ${threshold})` : ''}`, function () {
      check(d, c);
    });
  }
});

describe('thresholds > PM1.0 and pressure rules once enabled', function () {
  const d = new ThresholdDetector(defaultRules().map((r) => ({ ...r, enabled: true })));
  for (const c of ENABLED_OPTIONAL_CASES) {
    const [sensor, value, severity, threshold] = c;
    it(`${sensor} ${value} → ${severity ?? 'no alert'}${threshold !== undefined ? ` (bound ${threshold})` : ''}`, function () {
      check(d, c);
    });
  }
});

describe('thresholds > rule table', function () {
  it('has the contract table enabled and PM1.0 / pressure disabled', function () {
    const enabled = new Set(DEFAULT_RULES.filter((r) => r.enabled).map((r) => r.sensor));
    assert.deepEqual([...enabled].sort(), ['eco2', 'humidity', 'pm2_5', 'temperature', 'tvoc']);
    const disabled = DEFAULT_RULES.filter((r) => !r.enabled);
    assert.deepEqual(
      disabled.map((r) => `${r.sensor}${r.op}${r.bound}:${r.severity}`),
      ['pm1_0>45:CRITICAL', 'pm1_0>30:HIGH', 'pm1_0>20:MEDIUM', 'pressure<900:CRITICAL', 'pressure<950:HIGH', 'pressure>1150:CRITICAL', 'pressure>1100:HIGH', 'pressure>1050:MEDIUM'],
    );
    assert.deepEqual(new ThresholdDetector().watched, ['temperature', 'humidity', 'tvoc', 'eco2', 'pm2_5']);
  });

  it('lists the contract table by sensor and direction, most severe first, every rule frozen', function () {
    assert.deepEqual(
      DEFAULT_RULES.filter((r) => r.enabled).map((r) => `${r.sensor}${r.op}${r.bound}:${r.severity}`),
      [
        'temperature>70:CRITICAL', 'temperature>50:HIGH', 'temperature>40:MEDIUM', 'temperature<-20:CRITICAL', 'temperature<0:HIGH',
        'humidity>95:CRITICAL', 'humidity>90:HIGH', 'humidity>80:MEDIUM', 'humidity<5:CRITICAL', 'humidity<15:HIGH',
        'tvoc>2000:CRITICAL', 'tvoc>1000:HIGH', 'tvoc>500:MEDIUM',
        'eco2>1500:CRITICAL', 'eco2>1000:HIGH', 'eco2>800:MEDIUM',
        'pm2_5>50:CRITICAL', 'pm2_5>35:HIGH', 'pm2_5>25:MEDIUM',
      ],
    );
    assert.ok(Object.isFrozen(DEFAULT_RULES) && DEFAULT_RULES.every((r) => Object.isFrozen(r)));
    assert.deepEqual(Object.keys(DEFAULT_RULES[0]), ['sensor', 'op', 'bound', 'severity', 'enabled']);
  });

  it('keeps the most severe applicable rule whatever the table order', function () {
    const rules: ThresholdRule[] = [
      { sensor: 'tvoc', op: '>', bound: 10, severity: 'MEDIUM', enabled: true },
      { sensor: 'tvoc', op: '>', bound: 30, severity: 'CRITICAL', enabled: true },
      { sensor: 'tvoc', op: '>', bound: 20, severity: 'HIGH', enabled: true },
    ];
    const d = new ThresholdDetector(rules);
    assert.deepEqual(run(d, reading({ tvoc: 25 })).map((a) => [a.severity, a.threshold]), [['HIGH', 20]]);
    assert.deepEqual(run(d, reading({ tvoc: 31 })).map((a) => [a.severity, a.threshold]), [['CRITICAL', 30]]);
    assert.deepEqual(run(d, reading({ tvoc: 11 })).map((a) => [a.severity, a.threshold]), [['MEDIUM', 10]]);
  });

  it('ignores a disabled rule and falls back to the next one that applies', function () {
    const rules = defaultRules().map((r) => (r.sensor === 'temperature' && r.severity === 'CRITICAL' && r.op === '>' ? { ...r, enabled: false } : r));
    const alerts = run(new ThresholdDetector(rules), reading({ temperature: 72 }));
    assert.deepEqual(alerts.map((a) => [a.severity, a.threshold]), [['HIGH', 50]]);
  });

  it('takes the first rule in table order among rules of equal severity', function () {
    const rules: ThresholdRule[] = [
      { sensor: 'humidity', op: '<', bound: 60, severity: 'HIGH', enabled: true },
      { sensor: 'humidity', op: '>', bound: 40, severity: 'HIGH', enabled: true },
    ];
    assert.deepEqual(run(new ThresholdDetector(rules), reading({ humidity: 50 })).map((a) => a.threshold), [60]);
  });

  it('raises nothing with an empty table', function () {
    assert.deepEqual(run(new ThresholdDetector([]), reading({ temperature: 1000 })), []);
  });
});

describe('thresholds > compileRuleTable', function () {
  const rule = (sensor: ThresholdRule['sensor'], op: '>' | '<', bound: number, severity: ThresholdRule['severity'], enabled = true): ThresholdRule => ({ sensor, op, bound, severity, enabled });

  it('groups the enabled rules by key in the keys\' order, most severe first, with their bounds and ranks', function () {
    const rules = [
      rule('tvoc', '>', 10, 'MEDIUM'),
      rule('temperature', '<', -5, 'HIGH'),
      rule('tvoc', '>', 30, 'CRITICAL'),
      rule('temperature', '>', 60, 'HIGH'),
      rule('temperature', '>', 90, 'CRITICAL', false),
      rule('eco2', '>', 900, 'HIGH', false),
    ];
    const compiled = compileRuleTable(rules, SENSOR_KEYS, 'sensor');
    assert.deepEqual(compiled.map((c) => c.key), ['temperature', 'tvoc']);
    const [temperature, tvoc] = compiled;
    assert.deepEqual(temperature.rules, [rules[1], rules[3]]);
    assert.equal(temperature.rules[0], rules[1], 'the rules themselves, not copies');
    assert.deepEqual([...temperature.bounds], [-5, 60]);
    assert.deepEqual([...temperature.ranks], [2, 2], 'HIGH is rank 2');
    assert.ok(temperature.bounds instanceof Float64Array && temperature.ranks instanceof Uint8Array);
    assert.deepEqual(tvoc.rules, [rules[2], rules[0]]);
    assert.deepEqual([...tvoc.bounds], [30, 10]);
    assert.deepEqual([...tvoc.ranks], [3, 1], 'CRITICAL 3, MEDIUM 1');
  });

  it('gives nothing for an empty table and throws a RangeError naming the problems of an unclean one', function () {
    assert.deepEqual(compileRuleTable([], SENSOR_KEYS, 'sensor'), []);
    assert.throws(
      () => compileRuleTable<SensorKey, ThresholdRule>([rule('pressure', '>', 1, 'HIGH'), { ...rule('tvoc', '>', 1, 'HIGH'), bound: NaN }], ['tvoc'], 'gauge'),
      (e: unknown) => e instanceof RangeError && e.message === 'rule 1: unknown gauge "pressure"; rule 2: bound must be a finite number (got null)',
    );
  });

  it('freezes a default table and each of its rules', function () {
    const table = freezeRules([rule('tvoc', '>', 10, 'MEDIUM')]);
    assert.ok(Object.isFrozen(table) && Object.isFrozen(table[0]));
  });
});

describe('thresholds > alerts', function () {
  it('gives the contract shape with a readable message', function () {
    const [a] = run(new ThresholdDetector(), reading({ deviceId: 'kitchen', timestamp: 42, temperature: 72.1 }));
    assert.deepEqual(a, {
      type: 'THRESHOLD',
      severity: 'CRITICAL',
      sensor: 'temperature',
      value: 72.1,
      threshold: 70,
      message: 'temperature 72.1 > 70 (CRITICAL)',
      deviceId: 'kitchen',
      timestamp: 42,
      details: { op: '>', unit: '°C' },
    });
    assert.equal(Object.keys(a)[0], 'message', 'the message first: what the debug sidebar shows of it');
    const [low] = run(new ThresholdDetector(), reading({ humidity: 3 }));
    assert.equal(low.message, 'humidity 3 < 5 (CRITICAL)');
  });

  it('raises one alert per offending sensor, in canonical sensor order', function () {
    const alerts = run(new ThresholdDetector(), reading({ pm2_5: 60, eco2: 900, temperature: 45, humidity: 50, tvoc: 1500 }));
    assert.deepEqual(
      alerts.map((a) => [a.sensor, a.severity]),
      [
        ['temperature', 'MEDIUM'],
        ['tvoc', 'HIGH'],
        ['eco2', 'MEDIUM'],
        ['pm2_5', 'CRITICAL'],
      ],
    );
  });

  it('skips null, NaN, infinite and non-number values', function () {
    const d = new ThresholdDetector();
    assert.deepEqual(run(d, reading({ temperature: null })), []);
    assert.deepEqual(run(d, reading({ temperature: NaN })), []);
    assert.deepEqual(run(d, reading({ temperature: Infinity, humidity: -Infinity })), []);
    assert.deepEqual(run(d, reading({ temperature: '99' as unknown as number })), []);
  });

  it('uses "default" for a reading without device id and the caller clock without timestamp', function () {
    const r = reading({ tvoc: 600 }) as Partial<Reading>;
    delete r.deviceId;
    delete r.timestamp;
    const [a] = run(new ThresholdDetector(), r as Reading, 777);
    assert.equal(a.deviceId, 'default');
    assert.equal(a.timestamp, 777);
  });

  it('appends to the caller array without clearing it', function () {
    const out: Alert[] = [];
    const d = new ThresholdDetector();
    d.process(reading({ tvoc: 600 }), 0, out);
    d.process(reading({ tvoc: 1600 }), 0, out);
    assert.deepEqual(out.map((a) => a.severity), ['MEDIUM', 'HIGH']);
  });
});

describe('thresholds > parseRules', function () {
  const good = { sensor: 'tvoc', op: '>', bound: 5, severity: 'HIGH' };
  const bad: [string, unknown, RegExp][] = [
    ['not a list', { a: 1 }, /list/],
    ['a rule that is not an object', [1], /not an object/],
    ['an unknown sensor', [{ ...good, sensor: 'smoke' }], /unknown sensor "smoke"/],
    ['an unknown comparison', [{ ...good, op: '>=' }], /comparison/],
    ['a non-finite bound', [{ ...good, bound: Infinity }], /bound/],
    ['a non-numeric bound', [{ ...good, bound: 'high' }], /bound/],
    ['an empty bound', [{ ...good, bound: '' }], /bound/],
    ['an unknown severity', [{ ...good, severity: 'LOW' }], /unknown severity "LOW"/],
    ['a bad enabled flag', [{ ...good, enabled: 'yes' }], /enabled/],
  ];
  for (const [what, input, re] of bad) {
    it(`reports ${what}`, function () {
      const { problems } = parseRules(input);
      assert.ok(problems.some((p) => re.test(p)), problems.join('; '));
    });
  }

  it('accepts numeric-string bounds, "false" flags and an absent flag (enabled)', function () {
    const { rules, problems } = parseRules([
      { ...good, bound: ' 12.5 ' },
      { ...good, enabled: 'false' },
      { ...good, enabled: false },
    ]);
    assert.deepEqual(problems, []);
    assert.deepEqual(rules.map((r) => [r.bound, r.enabled]), [
      [12.5, true],
      [5, false],
      [5, false],
    ]);
  });

  it('accepts the default table as it is', function () {
    assert.deepEqual(parseRules(defaultRules()), { rules: defaultRules(), problems: [] });
  });

  it('refuses to build a detector from a bad table', function () {
    assert.throws(() => new ThresholdDetector([{ ...good, severity: 'LOW' } as unknown as ThresholdRule]), RangeError);
  });
});

describe('thresholds > emit: change', function () {
  it('raises on each change of severity and clears on the return to normal', function () {
    const d = new ThresholdDetector(DEFAULT_RULES, { emit: 'change' });
    const seq = [20, 45, 46, 55, 75, 60, 20, 20, 45];
    const got = seq.map((t) => run(d, reading({ temperature: t })).map((a) => `${a.severity}${a.cleared ? ' cleared' : ''}`));
    assert.deepEqual(got, [[], ['MEDIUM'], [], ['HIGH'], ['CRITICAL'], ['HIGH'], ['NORMAL cleared'], [], ['MEDIUM']]);
  });

  it('gives a cleared alert severity NORMAL, the current value, the bound it returned within and the severity it had', function () {
    const d = new ThresholdDetector(DEFAULT_RULES, { emit: 'change' });
    run(d, reading({ tvoc: 1500 }));
    const [a] = run(d, reading({ tvoc: 100, timestamp: 99 }));
    assert.deepEqual(a, {
      type: 'THRESHOLD',
      severity: 'NORMAL',
      sensor: 'tvoc',
      value: 100,
      threshold: 1000,
      message: 'tvoc 100 back to normal (was HIGH)',
      deviceId: 'd1',
      timestamp: 99,
      cleared: true,
      details: { was: 'HIGH' },
    });
  });

  it('gives a cleared alert of a sensor with a high and a low rule of its severity the bound nearer the value', function () {
    const d = new ThresholdDetector(DEFAULT_RULES, { emit: 'change' });
    run(d, reading({ temperature: -5 })); // HIGH: < 0
    const [up] = run(d, reading({ temperature: 20 }));
    assert.deepEqual([up.severity, up.threshold], ['NORMAL', 0]);
    run(d, reading({ temperature: 55 })); // HIGH: > 50
    const [down] = run(d, reading({ temperature: 30 }));
    assert.deepEqual([down.severity, down.threshold], ['NORMAL', 50]);
  });

  it('keeps the state per device and per sensor, and a null value changes nothing', function () {
    const d = new ThresholdDetector(DEFAULT_RULES, { emit: 'change' });
    assert.equal(run(d, reading({ deviceId: 'a', tvoc: 600, eco2: 900 })).length, 2);
    assert.equal(run(d, reading({ deviceId: 'b', tvoc: 600 })).length, 1);
    assert.deepEqual(run(d, reading({ deviceId: 'a', tvoc: 600, eco2: null })), []);
    assert.deepEqual(run(d, reading({ deviceId: 'a', tvoc: 600, eco2: 900 })), []);
    assert.deepEqual(run(d, reading({ deviceId: 'a', tvoc: 100 })).map((a) => [a.sensor, a.cleared]), [['tvoc', true]]);
    assert.equal(d.devices, 2);
  });

  it('forgets one device or all on reset', function () {
    const d = new ThresholdDetector(DEFAULT_RULES, { emit: 'change' });
    run(d, reading({ deviceId: 'a', tvoc: 600 }));
    run(d, reading({ deviceId: 'b', tvoc: 600 }));
    d.reset('a');
    assert.equal(run(d, reading({ deviceId: 'a', tvoc: 600 })).length, 1, 'a starts from normal again');
    assert.equal(run(d, reading({ deviceId: 'b', tvoc: 600 })).length, 0, 'b is unchanged');
    d.reset();
    assert.equal(d.devices, 0);
    assert.equal(run(d, reading({ deviceId: 'b', tvoc: 600 })).length, 1);
  });

  it('evicts the least recently used device beyond max devices', function () {
    const d = new ThresholdDetector(DEFAULT_RULES, { emit: 'change', maxDevices: 2 });
    for (const id of ['a', 'b', 'c']) run(d, reading({ deviceId: id, tvoc: 600 }));
    assert.equal(d.devices, 2);
    assert.equal(run(d, reading({ deviceId: 'c', tvoc: 600 })).length, 0, 'c is remembered');
    assert.equal(run(d, reading({ deviceId: 'a', tvoc: 600 })).length, 1, 'a was evicted, so it alerts again');
  });

  it('forgets devices idle for longer than the idle timeout on sweep', function () {
    const d = new ThresholdDetector(DEFAULT_RULES, { emit: 'change', idleMs: 1000 });
    run(d, reading({ deviceId: 'a', tvoc: 600 }), 0);
    run(d, reading({ deviceId: 'b', tvoc: 600 }), 800);
    assert.equal(d.sweep(1000), 0, 'exactly the timeout is not idle yet');
    assert.equal(d.sweep(1001), 1);
    assert.equal(d.devices, 1);
    assert.equal(run(d, reading({ deviceId: 'a', tvoc: 600 }), 1001).length, 1);
    assert.equal(run(d, reading({ deviceId: 'b', tvoc: 600 }), 1001).length, 0);
  });

  it('keeps no state in every mode', function () {
    const d = new ThresholdDetector();
    for (let i = 0; i < 10; i++) run(d, reading({ deviceId: `d${i}`, tvoc: 600 }));
    assert.equal(d.devices, 0);
    assert.equal(run(d, reading({ deviceId: 'd1', tvoc: 600 })).length, 1, 'every offending reading alerts');
  });
});
