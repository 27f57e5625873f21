import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inspect } from 'node:util';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { DEFAULT_DEVICE_ID } from '../../nodes/lib/devices';
import {
  DEFAULT_MAX_BYTES,
  MAX_TIMESTAMP_MS,
  WHOLE_INPUT,
  type Fallbacks,
  type ValidationResult,
  type ValidatorOptions,
} from '../../nodes/lib/reading-types';
import { INPUT_NAMES, protoDefinesInputNames, readingSize } from '../../nodes/lib/reading-input';
import { KAGGLE_HEADERS, SENSOR_FIELDS } from '../../nodes/lib/sensor-fields';
import { NUMERIC_TEXT, parseDecimal, parseIsoTimestamp } from '../../nodes/lib/reading-rules';
import { approxSize } from '../../nodes/lib/reading-size';
import { createValidator } from '../../nodes/lib/reading-validator';
import { validateWithZod } from '../../nodes/lib/reading-spec';
import { SENSOR_KEYS, type Reading } from '../../nodes/lib/types';

const DATA = path.resolve(__dirname, '../../../shared/data/smoke_detection_iot.csv');

const CODES = ['not-an-object', 'missing', 'not-a-number', 'out-of-range', 'bad-timestamp', 'bad-device-id', 'too-large'];
const READING_KEYS = ['deviceId', 'timestamp', ...SENSOR_KEYS];
const ARRIVAL = 1_700_000_000_000;
const FB: Fallbacks = { arrival: ARRIVAL };

/** A valid canonical reading (the first row of the data file, as a device would send it). */
function valid(): Record<string, unknown> {
  return {
    deviceId: 'dev-1',
    timestamp: 1654733331000,
    temperature: 20,
    humidity: 57.36,
    tvoc: 0,
    eco2: 400,
    rawH2: 12306,
    rawEthanol: 18520,
    pressure: 939.735,
    pm1_0: 0,
    pm2_5: 0,
    nc0_5: 0,
    nc1_0: 0,
    nc2_5: 0,
    cnt: 0,
    fireAlarm: 0,
  };
}

function ok(r: ValidationResult): Reading {
  if (!r.ok) assert.fail(`expected a valid reading, got ${JSON.stringify(r.errors)}`);
  return r.reading;
}

function errorsOf(r: ValidationResult): Array<[string, string]> {
  if (r.ok) assert.fail(`expected errors, got the reading ${JSON.stringify(r.reading)}`);
  return r.errors.map((e) => [e.field, e.code]);
}

const OPTION_SETS: ValidatorOptions[] = [];
for (const missing of ['reject', 'null', 'fill'] as const) {
  for (const outOfRange of ['reject', 'replace'] as const) OPTION_SETS.push({ missing, outOfRange });
}

describe('reading > sensor ranges (inclusive bounds)', function () {
  const v = createValidator();
  for (const f of SENSOR_FIELDS) {
    const at = (value: unknown) => v.validate({ ...valid(), [f.key]: value }, FB);
    it(`${f.key}: accepts ${f.min} (the lower bound) and rejects just below it`, function () {
      assert.equal(ok(at(f.min))[f.key], f.min);
      const below = f.integer ? f.min - 1 : f.min - 1e-9;
      assert.deepEqual(errorsOf(at(below)), [[f.key, 'out-of-range']]);
    });
    if (f.max !== Infinity) {
      it(`${f.key}: accepts ${f.max} (the upper bound) and rejects just above it`, function () {
        assert.equal(ok(at(f.max))[f.key], f.max);
        const above = f.integer ? f.max + 1 : f.max + 1e-9;
        assert.deepEqual(errorsOf(at(above)), [[f.key, 'out-of-range']]);
      });
    } else {
      it(`${f.key}: has no upper bound (accepts 1e300)`, function () {
        const big = f.integer ? Number.MAX_SAFE_INTEGER : 1e300;
        assert.equal(ok(at(big))[f.key], big);
      });
    }
    it(`${f.key}: accepts the Kaggle header "${f.header}" as its key`, function () {
      const input = valid();
      delete input[f.key];
      input[f.header] = f.min;
      assert.equal(ok(v.validate(input, FB))[f.key], f.min);
    });
  }

  it('cnt must be a safe whole number', function () {
    for (const bad of [1.5, -1, 2 ** 53]) {
      assert.deepEqual(errorsOf(v.validate({ ...valid(), cnt: bad }, FB)), [['cnt', 'out-of-range']], String(bad));
    }
    assert.equal(ok(v.validate({ ...valid(), cnt: '24993' }, FB)).cnt, 24993);
  });

  it('fireAlarm is 0 or 1, also as "0" / "1"; 2, 0.5, -1 are out of range and booleans are not numbers', function () {
    for (const [input, want] of [[0, 0], [1, 1], ['0', 0], ['1', 1], [' 1 ', 1], ['1.0', 1]] as const) {
      assert.equal(ok(v.validate({ ...valid(), fireAlarm: input }, FB)).fireAlarm, want);
    }
    for (const bad of [2, 0.5, -1]) assert.deepEqual(errorsOf(v.validate({ ...valid(), fireAlarm: bad }, FB)), [['fireAlarm', 'out-of-range']]);
    for (const bad of [true, false]) assert.deepEqual(errorsOf(v.validate({ ...valid(), fireAlarm: bad }, FB)), [['fireAlarm', 'not-a-number']]);
  });
});

describe('reading > numeric coercion', function () {
  const v = createValidator();
  const cases: Array<[unknown, number]> = [
    ['12.5', 12.5],
    [' 3 ', 3],
    ['\t-1e1\n', -10],
    ['+4', 4],
    ['.5', 0.5],
    ['5.', 5],
    ['1E+1', 10],
    ['007', 7],
    ['-0', -0],
  ];
  for (const [input, want] of cases) {
    it(`coerces ${JSON.stringify(input)} to ${want}`, function () {
      assert.equal(ok(v.validate({ ...valid(), temperature: input }, FB)).temperature, want);
    });
  }
  const junk: unknown[] = ['', '   ', 'abc', '12abc', 'NaN', 'Infinity', '-Infinity', '0x10', '0b1', '0o7', '1_000', '1,5', '١٢', NaN, Infinity, -Infinity, true, false, {}, [], [1], { value: 1 }];
  for (const input of junk) {
    it(`rejects ${typeof input === 'number' ? String(input) : JSON.stringify(input)} as not-a-number`, function () {
      assert.deepEqual(errorsOf(v.validate({ ...valid(), temperature: input }, FB)), [['temperature', 'not-a-number']]);
    });
  }
  it('checks the range after coercion ("120" is out of range for temperature)', function () {
    assert.deepEqual(errorsOf(v.validate({ ...valid(), temperature: '120' }, FB)), [['temperature', 'out-of-range']]);
  });
});

describe('reading > absent and null sensors in each mode', function () {
  const table: Array<[ValidatorOptions['missing'], 'absent' | 'null', 'error missing' | 'null' | 'its default']> = [
    ['reject', 'absent', 'error missing'],
    ['reject', 'null', 'null'],
    ['null', 'absent', 'null'],
    ['null', 'null', 'null'],
    ['fill', 'absent', 'its default'],
    ['fill', 'null', 'its default'],
  ];
  for (const [missing, how, want] of table) {
    it(`missing: ${missing}, a sensor that is ${how} → ${want}`, function () {
      const v = createValidator({ missing });
      for (const f of SENSOR_FIELDS) {
        const input = valid();
        if (how === 'absent') delete input[f.key];
        else input[f.key] = null;
        const r = v.validate(input, FB);
        if (want === 'error missing') assert.deepEqual(errorsOf(r), [[f.key, 'missing']]);
        else assert.equal(ok(r)[f.key], want === 'null' ? null : f.fill, f.key);
      }
    });
  }

  it('fill uses the contract defaults (20, 50, 0, 400, 0, 0, 1013.25, 0 …)', function () {
    const r = ok(createValidator({ missing: 'fill' }).validate({}, { arrival: 5 }));
    assert.deepEqual(r, {
      deviceId: 'default',
      timestamp: 5,
      temperature: 20,
      humidity: 50,
      tvoc: 0,
      eco2: 400,
      rawH2: 0,
      rawEthanol: 0,
      pressure: 1013.25,
      pm1_0: 0,
      pm2_5: 0,
      nc0_5: 0,
      nc1_0: 0,
      nc2_5: 0,
      cnt: 0,
      fireAlarm: 0,
    });
  });

  it('a null canonical key falls back to a Kaggle header that has a value', function () {
    assert.equal(ok(createValidator().validate({ ...valid(), temperature: null, 'Temperature[C]': 21 }, FB)).temperature, 21);
    assert.equal(ok(createValidator().validate({ ...valid(), temperature: 22, 'Temperature[C]': 21 }, FB)).temperature, 22);
  });

  it('reports every missing sensor, not only the first', function () {
    const r = createValidator().validate({ deviceId: 'd', timestamp: 1 }, FB);
    assert.deepEqual(errorsOf(r), SENSOR_KEYS.map((k) => [k, 'missing']));
  });
});

describe('reading > outOfRange: replace', function () {
  const v = createValidator({ outOfRange: 'replace' });
  it('replaces an out-of-range value by the field default', function () {
    const r = ok(v.validate({ ...valid(), temperature: 150, humidity: -1, pressure: 2000, cnt: 1.5, fireAlarm: 7 }, FB));
    assert.deepEqual([r.temperature, r.humidity, r.pressure, r.cnt, r.fireAlarm], [20, 50, 1013.25, 0, 0]);
  });
  it('still rejects values that are not numbers', function () {
    assert.deepEqual(errorsOf(v.validate({ ...valid(), temperature: 'hot' }, FB)), [['temperature', 'not-a-number']]);
  });
  it('keeps in-range values', function () {
    assert.equal(ok(v.validate({ ...valid(), temperature: 99.5 }, FB)).temperature, 99.5);
  });
});

describe('reading > timestamp', function () {
  const v = createValidator();
  const at = (extra: Record<string, unknown>, fb: Fallbacks = FB) => {
    const input = valid();
    delete input.timestamp;
    return v.validate({ ...input, ...extra }, fb);
  };
  const goodCases: Array<[string, Record<string, unknown>, number]> = [
    ['timestamp in epoch ms', { timestamp: 1654733331000 }, 1654733331000],
    ['timestamp as numeric text (ms)', { timestamp: '1654733331000' }, 1654733331000],
    ['UTC in epoch seconds', { UTC: 1654733331 }, 1654733331000],
    ['UTC as numeric text (seconds, as in the CSV)', { UTC: '1654733331' }, 1654733331000],
    ['UTC with a fraction of a second', { UTC: 1654733331.25 }, 1654733331250],
    ['ISO-8601 with Z', { timestamp: '2022-06-09T00:08:51Z' }, Date.UTC(2022, 5, 9, 0, 8, 51)],
    ['ISO-8601 with milliseconds', { timestamp: '2022-06-09T00:08:51.250Z' }, Date.UTC(2022, 5, 9, 0, 8, 51, 250)],
    ['ISO-8601 with an offset', { timestamp: '2022-06-09T02:08:51+02:00' }, Date.UTC(2022, 5, 9, 0, 8, 51)],
    ['ISO-8601 with a negative offset without colon', { timestamp: '2022-06-08T22:08:51-0200' }, Date.UTC(2022, 5, 9, 0, 8, 51)],
    ['ISO-8601 without an offset (taken as UTC)', { timestamp: '2022-06-09T00:08:51' }, Date.UTC(2022, 5, 9, 0, 8, 51)],
    ['ISO-8601 with a space instead of T', { timestamp: '2022-06-09 00:08:51' }, Date.UTC(2022, 5, 9, 0, 8, 51)],
    ['an ISO-8601 date (midnight UTC)', { timestamp: '2022-06-09' }, Date.UTC(2022, 5, 9)],
    ['ISO-8601 in UTC', { UTC: '2022-06-09T00:08:51Z' }, Date.UTC(2022, 5, 9, 0, 8, 51)],
    ['29 February of a leap year', { timestamp: '2024-02-29T00:00:00Z' }, Date.UTC(2024, 1, 29)],
    ['timestamp over UTC when both are present', { timestamp: 5000, UTC: 9 }, 5000],
    ['UTC when timestamp is null', { timestamp: null, UTC: 9 }, 9000],
    ['0 (the epoch)', { timestamp: 0 }, 0],
    ['the end of the Date range', { timestamp: MAX_TIMESTAMP_MS }, MAX_TIMESTAMP_MS],
  ];
  for (const [name, extra, want] of goodCases) {
    it(`reads ${name}`, function () {
      assert.equal(ok(at(extra)).timestamp, want);
    });
  }
  const badCases: Array<[string, Record<string, unknown>]> = [
    ['text that is no time', { timestamp: 'yesterday' }],
    ['month 13', { timestamp: '2022-13-01T00:00:00Z' }],
    ['30 February', { timestamp: '2022-02-30' }],
    ['29 February of a common year', { timestamp: '2023-02-29' }],
    ['hour 24', { timestamp: '2022-06-09T24:00:00Z' }],
    ['NaN', { timestamp: NaN }],
    ['Infinity', { timestamp: Infinity }],
    ['"Infinity"', { timestamp: 'Infinity' }],
    ['a value beyond the Date range', { timestamp: MAX_TIMESTAMP_MS + 1 }],
    ['UTC seconds beyond the Date range', { UTC: 1e13 }],
    ['an object', { timestamp: { at: 1 } }],
    ['a boolean', { timestamp: true }],
    ['an empty string', { timestamp: '' }],
  ];
  for (const [name, extra] of badCases) {
    it(`rejects ${name} as bad-timestamp`, function () {
      assert.deepEqual(errorsOf(at(extra)), [['timestamp', 'bad-timestamp']]);
    });
  }
  it('falls back to the Kafka timestamp (number or numeric text), then the arrival time', function () {
    assert.equal(ok(at({}, { timestamp: 1234, arrival: ARRIVAL })).timestamp, 1234);
    assert.equal(ok(at({}, { timestamp: '1234', arrival: ARRIVAL })).timestamp, 1234);
    assert.equal(ok(at({}, { timestamp: 'bogus', arrival: ARRIVAL })).timestamp, ARRIVAL);
    assert.equal(ok(at({ timestamp: null }, { arrival: ARRIVAL })).timestamp, ARRIVAL);
  });
  it('is bad-timestamp when there is no time and no fallback', function () {
    const input = valid();
    delete input.timestamp;
    assert.deepEqual(errorsOf(v.validate(input, {})), [['timestamp', 'bad-timestamp']]);
    assert.deepEqual(errorsOf(v.validate(input)), [['timestamp', 'bad-timestamp']]);
    assert.deepEqual(errorsOf(v.validate(input, { arrival: NaN })), [['timestamp', 'bad-timestamp']]);
  });
  it('parseIsoTimestamp agrees with Date.parse on offset-qualified times', function () {
    fc.assert(
      fc.property(fc.date({ min: new Date('0100-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }), (d) => {
        const iso = d.toISOString();
        assert.equal(parseIsoTimestamp(iso), Date.parse(iso));
      }),
    );
  });
});

describe('reading > deviceId', function () {
  const v = createValidator();
  const at = (extra: Record<string, unknown>, fb: Fallbacks = FB) => {
    const input = valid();
    delete input.deviceId;
    return v.validate({ ...input, ...extra }, fb);
  };
  it('reads deviceId, or device_id (the Kaggle spelling)', function () {
    assert.equal(ok(at({ deviceId: 'kitchen' })).deviceId, 'kitchen');
    assert.equal(ok(at({ device_id: 'hall' })).deviceId, 'hall');
    assert.equal(ok(at({ deviceId: 'a', device_id: 'b' })).deviceId, 'a');
  });
  it('keeps the text as is (no trimming) and accepts 128 characters', function () {
    assert.equal(ok(at({ deviceId: ' dev 1 ' })).deviceId, ' dev 1 ');
    assert.equal(ok(at({ deviceId: 'x'.repeat(128) })).deviceId, 'x'.repeat(128));
  });
  it('turns a whole number into text', function () {
    assert.equal(ok(at({ deviceId: 42 })).deviceId, '42');
    assert.equal(ok(at({ device_id: -7 })).deviceId, '-7');
  });
  for (const bad of ['', '   ', 'x'.repeat(129), 1.5, NaN, 2 ** 53, true, {}, ['a']]) {
    it(`rejects ${typeof bad === 'string' && bad.length > 10 ? `${bad.length} characters` : JSON.stringify(bad) ?? String(bad)} as bad-device-id`, function () {
      assert.deepEqual(errorsOf(at({ deviceId: bad })), [['deviceId', 'bad-device-id']]);
    });
  }
  const controls: [string, string][] = [
    ['a NUL inside', 'dev\u00001'],
    ['only a NUL', '\u0000'],
    ['a tab', 'a\tb'],
    ['a line break', 'line\n'],
    ['an escape sequence', 'x\u001b[0m'],
    ['DEL', 'del\u007f'],
    ['a C1 control (NEL)', 'c1\u0085'],
  ];
  for (const [what, bad] of controls) {
    it(`rejects a device id with ${what} as bad-device-id, saying why`, function () {
      const r = at({ deviceId: bad });
      assert.deepEqual(errorsOf(r), [['deviceId', 'bad-device-id']]);
      const { message } = (r as { errors: { message: string }[] }).errors[0];
      assert.match(message, /^deviceId must not contain control characters/);
      assert.doesNotMatch(message, /[\u0000-\u001f\u007f-\u009f]/, 'the message shows the control characters escaped');
    });
  }
  it('skips a Kafka key or topic with a control character as the fallback', function () {
    assert.equal(ok(at({}, { key: 'k\u00001', topic: 't', arrival: 1 })).deviceId, 't');
    assert.equal(ok(at({}, { key: 'k\n', topic: 't\u0000', arrival: 1 })).deviceId, DEFAULT_DEVICE_ID);
  });
  it('falls back to the Kafka key, then msg.topic, then "default"', function () {
    assert.equal(ok(at({}, { key: 'k1', topic: 't', arrival: 1 })).deviceId, 'k1');
    assert.equal(ok(at({}, { key: 17, topic: 't', arrival: 1 })).deviceId, '17');
    assert.equal(ok(at({}, { key: null, topic: 't', arrival: 1 })).deviceId, 't');
    assert.equal(ok(at({}, { key: '', topic: 't', arrival: 1 })).deviceId, 't');
    assert.equal(ok(at({}, { key: 'k'.repeat(200), topic: 't', arrival: 1 })).deviceId, 't');
    assert.equal(ok(at({}, { arrival: 1 })).deviceId, DEFAULT_DEVICE_ID);
    assert.equal(ok(at({ deviceId: null }, { key: 'k', arrival: 1 })).deviceId, 'k');
  });
});

describe('reading > shape of the output', function () {
  const v = createValidator();
  it('has exactly the canonical keys in a fixed order, whatever the input order', function () {
    const shuffled = Object.fromEntries(Object.entries(valid()).reverse());
    assert.deepEqual(Object.keys(ok(v.validate(shuffled, FB))), READING_KEYS);
  });
  it('drops unknown keys, including the data file index column', function () {
    const r = ok(v.validate({ ...valid(), '': '0', 'Unnamed: 0': 0, extra: { big: true }, constructor: 'x' }, FB));
    assert.deepEqual(Object.keys(r), READING_KEYS);
  });
  it('keeps a location text at the end, and drops a location that is not text', function () {
    assert.deepEqual(Object.keys(ok(v.validate({ location: 'lab', ...valid() }, FB))), [...READING_KEYS, 'location']);
    assert.equal(ok(v.validate({ ...valid(), location: 'lab' }, FB)).location, 'lab');
    assert.equal('location' in ok(v.validate({ ...valid(), location: 12 }, FB)), false);
  });
  it('returns a new object and leaves the input as it was', function () {
    const input = { ...valid(), temperature: '20', extra: [1, { a: 2 }] };
    const before = structuredClone(input);
    const r = ok(v.validate(input, FB));
    assert.notEqual(r as unknown, input);
    assert.deepEqual(input, before);
  });
  it('reports all bad fields of one input together, with canonical field names', function () {
    const r = v.validate({ ...valid(), 'Temperature[C]': 'x', temperature: undefined, humidity: 101, deviceId: '' }, FB);
    assert.deepEqual(errorsOf(r), [
      ['deviceId', 'bad-device-id'],
      ['temperature', 'not-a-number'],
      ['humidity', 'out-of-range'],
    ]);
    if (!r.ok) for (const e of r.errors) assert.ok(typeof e.message === 'string' && e.message.length > 0);
  });
});

describe('reading > not an object', function () {
  const v = createValidator();
  for (const input of [null, undefined, 'text', '{"temperature": 1}', 42, true, [], [valid()], Buffer.from('{}'), new Uint8Array(3)]) {
    it(`rejects ${Buffer.isBuffer(input) ? 'a Buffer' : input instanceof Uint8Array ? 'a Uint8Array' : JSON.stringify(input) ?? 'undefined'} as not-an-object`, function () {
      assert.deepEqual(errorsOf(v.validate(input, FB)), [[WHOLE_INPUT, 'not-an-object']]);
    });
  }
  it('turns a throwing getter into not-an-object instead of throwing', function () {
    const input = valid();
    Object.defineProperty(input, 'humidity', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    assert.deepEqual(errorsOf(v.validate(input, FB)), [[WHOLE_INPUT, 'not-an-object']]);
  });
  it('turns a revoked Proxy into not-an-object instead of throwing', function () {
    const { proxy, revoke } = Proxy.revocable(valid(), {});
    revoke();
    assert.deepEqual(errorsOf(v.validate(proxy, FB)), [[WHOLE_INPUT, 'not-an-object']]);
  });
});

describe('reading > prototype safety', function () {
  const v = createValidator();
  it('a "__proto__" key from JSON.parse neither pollutes Object.prototype nor reaches the reading', function () {
    const input = JSON.parse(`{"__proto__": {"polluted": 1, "temperature": 99}, ${JSON.stringify(valid()).slice(1)}`);
    const r = ok(v.validate(input, FB));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal((r as unknown as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.getPrototypeOf(r), Object.prototype);
    assert.equal(Object.hasOwn(r, '__proto__'), false);
    assert.equal(r.temperature, 20);
    assert.deepEqual(Object.keys(r), READING_KEYS);
  });
  it('a "__proto__" key that holds the only temperature does not count as one', function () {
    const rest = valid();
    delete rest.temperature;
    const input = JSON.parse(`{"__proto__": {"temperature": 99}, ${JSON.stringify(rest).slice(1)}`);
    assert.deepEqual(errorsOf(v.validate(input, FB)), [['temperature', 'missing']]);
  });
  it('ignores values that the input only inherits', function () {
    const proto = { temperature: 21, 'Humidity[%]': 40, deviceId: 'inherited' };
    const own = valid();
    delete own.temperature;
    delete own.humidity;
    delete own.deviceId;
    const input = Object.assign(Object.create(proto), own);
    assert.deepEqual(errorsOf(v.validate(input, FB)), [
      ['temperature', 'missing'],
      ['humidity', 'missing'],
    ]);
    assert.equal(ok(createValidator({ missing: 'null' }).validate(input, FB)).deviceId, DEFAULT_DEVICE_ID);
  });
  it('ignores a polluted Object.prototype', function () {
    const input = valid();
    delete input.pressure;
    const proto = Object.prototype as Record<string, unknown>;
    proto.pressure = 950;
    try {
      assert.deepEqual(errorsOf(v.validate(input, FB)), [['pressure', 'missing']]);
      assert.equal(ok(v.validate({ ...input, pressure: 960 }, FB)).pressure, 960);
    } finally {
      delete proto.pressure;
    }
  });
  it('accepts objects without a prototype', function () {
    const input = Object.assign(Object.create(null), valid());
    assert.deepEqual(ok(v.validate(input, FB)), valid());
  });
  it('the prototype check covers every name the validator reads', function () {
    assert.deepEqual(new Set(INPUT_NAMES), new Set([...Object.keys(KAGGLE_HEADERS), ...Object.values(KAGGLE_HEADERS)]));
    assert.equal(protoDefinesInputNames({}), false);
    for (const name of INPUT_NAMES) assert.equal(protoDefinesInputNames({ [name]: 1 }), true, name);
  });
});

describe('reading > maxBytes (too-large)', function () {
  it(`defaults to ${DEFAULT_MAX_BYTES} characters`, function () {
    assert.equal(createValidator().options.maxBytes, DEFAULT_MAX_BYTES);
  });
  it('rejects an input whose approximate size passes the limit, at the exact edge', function () {
    const input = { ...valid(), location: 'x'.repeat(100) };
    const size = approxSize(input, Infinity);
    assert.ok(ok(createValidator({ maxBytes: size }).validate(input, FB)));
    assert.deepEqual(errorsOf(createValidator({ maxBytes: size - 1 }).validate(input, FB)), [[WHOLE_INPUT, 'too-large']]);
  });
  it('counts unknown keys and nested values, which the reading would drop', function () {
    const v = createValidator({ maxBytes: 1000 });
    assert.deepEqual(errorsOf(v.validate({ ...valid(), junk: 'x'.repeat(2000) }, FB)), [[WHOLE_INPUT, 'too-large']]);
    assert.deepEqual(errorsOf(v.validate({ ...valid(), junk: { deeper: Array.from({ length: 500 }, (_, i) => i) } }, FB)), [[WHOLE_INPUT, 'too-large']]);
  });
  it('rejects long text and binary data as too-large before not-an-object', function () {
    const v = createValidator({ maxBytes: 100 });
    assert.deepEqual(errorsOf(v.validate('x'.repeat(200), FB)), [[WHOLE_INPUT, 'too-large']]);
    assert.deepEqual(errorsOf(v.validate(Buffer.alloc(200), FB)), [[WHOLE_INPUT, 'too-large']]);
    assert.deepEqual(errorsOf(v.validate('short', FB)), [[WHOLE_INPUT, 'not-an-object']]);
  });
  it('walks deep nesting without recursion and cycles without hanging', function () {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = { d: deep };
    assert.deepEqual(errorsOf(createValidator().validate({ ...valid(), deep }, FB)), [[WHOLE_INPUT, 'too-large']]);
    const cyclic: Record<string, unknown> = valid();
    cyclic.self = cyclic;
    assert.deepEqual(errorsOf(createValidator().validate(cyclic, FB)), [[WHOLE_INPUT, 'too-large']]);
  });
  it('maxBytes: 0 turns the check off', function () {
    assert.ok(ok(createValidator({ maxBytes: 0 }).validate({ ...valid(), junk: 'x'.repeat(100_000) }, FB)));
  });
  it('the one-pass size of a reading equals the walk', function () {
    fc.assert(
      fc.property(readingLike(), (input) => {
        const fast = readingSize(input, input);
        if (fast >= 0) assert.equal(fast, approxSize(input, Infinity));
      }),
      { numRuns: 500 },
    );
    assert.equal(readingSize(valid(), valid()), approxSize(valid(), Infinity));
    const extra: Record<string, unknown> = { ...valid(), other: 1 };
    assert.equal(readingSize(extra, extra), -1);
  });
});

describe('reading > options', function () {
  it('rejects unusable options (a programming error, so it throws)', function () {
    assert.throws(() => createValidator({ missing: 'bogus' as never }));
    assert.throws(() => createValidator({ outOfRange: 'clip' as never }));
    assert.throws(() => createValidator({ maxBytes: -1 }));
    assert.throws(() => createValidator({ maxBytes: 1.5 }));
    assert.throws(() => createValidator({ missng: 'fill' } as never));
  });
  it('defaults to missing: reject, outOfRange: reject', function () {
    assert.deepEqual({ ...createValidator().options }, { missing: 'reject', outOfRange: 'reject', maxBytes: DEFAULT_MAX_BYTES });
  });
});

// ---------------------------------------------------------------------------------------------
// Property-based tests
// ---------------------------------------------------------------------------------------------

/** Values that probe every branch: in and out of range, edges, numeric and junk text, null… */
function fieldValue(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom(undefined, null, 0, -0, 1, -1, 0.5, 2, 100, 100.0001, -50, -50.0001, 800, 1200, 1200.5, 1e300, NaN, Infinity, -Infinity, 2 ** 53, true, false),
    fc.constantFrom('', ' ', '12.5', ' 3 ', '0x10', 'abc', '1e3', '-0', '.5', '5.', 'Infinity', '1', '0', '2022-06-09T00:08:51Z', '2022-06-09', '2022-02-30', '1654733331', 'd\u00001', '\t', 'x\u007f', 'y\u0085'),
    fc.double(),
    fc.integer(),
    fc.double().map(String),
    fc.integer({ min: -1e6, max: 1e6 }).map((n) => `${n}`),
    fc.string({ maxLength: 6 }),
    fc.constantFrom({}, [], [1], { a: 1 }),
  );
}

/** Objects built from the names the validator reads (both spellings) plus, at times, unknown keys. */
function readingLike(): fc.Arbitrary<Record<string, unknown>> {
  const names = [...INPUT_NAMES];
  return fc
    .tuple(
      fc.dictionary(fc.constantFrom(...names), fieldValue(), { maxKeys: names.length }),
      fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }),
      fc.boolean(),
    )
    .map(([known, unknown, withUnknown]) => (withUnknown ? { ...unknown, ...known } : known));
}

/** A valid reading, then one field replaced by any value, set to null or deleted. */
function mutatedReading(): fc.Arbitrary<Record<string, unknown>> {
  return fc.tuple(fc.constantFrom(...READING_KEYS, 'location'), fc.oneof(fc.anything(), fieldValue(), fc.constant('delete'))).map(([key, value]) => {
    const r = valid();
    if (value === 'delete') delete r[key];
    else r[key] = value;
    return r;
  });
}

function fallbacks(): fc.Arbitrary<Fallbacks | undefined> {
  return fc.oneof(
    fc.constant(undefined),
    fc.record(
      {
        key: fc.oneof(fc.constant(undefined), fc.constant(null), fc.string({ maxLength: 4 }), fc.integer(), fc.double()),
        topic: fc.oneof(fc.constant(undefined), fc.string({ maxLength: 4 })),
        timestamp: fc.oneof(fc.constant(undefined), fc.integer(), fc.double(), fc.constantFrom('1234', 'x', '')),
        arrival: fc.oneof(fc.constant(undefined), fc.integer({ min: 0, max: 2e12 })),
      },
      { requiredKeys: [] },
    ),
  );
}

function options(): fc.Arbitrary<ValidatorOptions> {
  return fc.record({
    missing: fc.constantFrom('reject' as const, 'null' as const, 'fill' as const),
    outOfRange: fc.constantFrom('reject' as const, 'replace' as const),
    maxBytes: fc.constantFrom(0, 300, DEFAULT_MAX_BYTES),
  });
}

function assertWellFormed(r: ValidationResult): void {
  if (r.ok) {
    assert.equal((r as { errors?: unknown }).errors, undefined);
    assert.deepEqual(Object.keys(r.reading).slice(0, READING_KEYS.length), READING_KEYS);
    assert.equal(typeof r.reading.deviceId, 'string');
    assert.ok(Number.isFinite(r.reading.timestamp));
  } else {
    assert.equal((r as { reading?: unknown }).reading, undefined);
    assert.ok(Array.isArray(r.errors) && r.errors.length > 0);
    for (const e of r.errors) {
      assert.ok(CODES.includes(e.code), e.code);
      assert.equal(typeof e.field, 'string');
      assert.equal(typeof e.message, 'string');
    }
  }
}

/** Comparable form: the reading, or the set of (field, code) pairs. */
function outcome(r: ValidationResult): unknown {
  return r.ok ? { reading: r.reading } : { errors: r.errors.map((e) => `${e.field}:${e.code}`).sort() };
}

describe('reading > properties', function () {
  this.timeout(60000);
  const validators = new Map(OPTION_SETS.map((o) => [JSON.stringify(o), createValidator(o)]));

  it('never throws and gives exactly one of reading / errors, on fc.anything()', function () {
    fc.assert(
      fc.property(fc.anything({ withNullPrototype: true, withBigInt: true, withBoxedValues: true, withSparseArray: true, withTypedArray: true }), fallbacks(), options(), (input, fb, opts) => {
        assertWellFormed(createValidator(opts).validate(input, fb));
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws on fc.jsonValue() and on JSON objects of the known names', function () {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), readingLike()), fallbacks(), (input, fb) => {
        for (const v of validators.values()) assertWellFormed(v.validate(input, fb));
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on mutated valid readings, and a reading stays valid unless the mutated field is bad', function () {
    const v = createValidator();
    fc.assert(
      fc.property(mutatedReading(), (input) => {
        const r = v.validate(input, FB);
        assertWellFormed(r);
        if (!r.ok) for (const e of r.errors) assert.ok(READING_KEYS.includes(e.field) || e.field === WHOLE_INPUT, e.field);
      }),
      { numRuns: 1000 },
    );
  });

  it('never mutates its input', function () {
    fc.assert(
      fc.property(fc.oneof(readingLike(), mutatedReading()), options(), (input, opts) => {
        // inspect, not structuredClone: it keeps null prototypes, -0 and undefined values visible.
        const before = inspect(input, { depth: null });
        createValidator(opts).validate(input, FB);
        assert.equal(inspect(input, { depth: null }), before);
      }),
      { numRuns: 300 },
    );
  });

  it('the hand-written hot path and the zod schema agree (readings of known names)', function () {
    fc.assert(
      fc.property(readingLike(), fallbacks(), options(), (input, fb, opts) => {
        const hot = createValidator(opts).validate(input, fb);
        const zod = validateWithZod(input, fb, opts);
        assert.deepEqual(outcome(hot), outcome(zod));
      }),
      { numRuns: 3000 },
    );
  });

  it('the hand-written hot path and the zod schema agree (mutated readings and arbitrary values)', function () {
    fc.assert(
      fc.property(fc.oneof(mutatedReading(), fc.anything(), fc.jsonValue()), fallbacks(), options(), (input, fb, opts) => {
        const hot = createValidator(opts).validate(input, fb);
        const zod = validateWithZod(input, fb, opts);
        assert.deepEqual(outcome(hot), outcome(zod));
      }),
      { numRuns: 2000 },
    );
  });

  it('parseDecimal accepts exactly the NUMERIC_TEXT language, with Number()\'s value', function () {
    const numericish = fc
      .array(fc.constantFrom('0', '1', '9', '.', 'e', 'E', '+', '-', ' ', 'x', 'b', 'o', 'X', '\t', 'I', '_', '\u00a0'), { maxLength: 8 })
      .map((cs) => cs.join(''));
    fc.assert(
      fc.property(fc.oneof(numericish, fc.string(), fc.double().map(String), fc.integer().map(String)), (s) => {
        const want = NUMERIC_TEXT.test(s) ? Number(s) : NaN;
        assert.ok(Object.is(parseDecimal(s), Number.isFinite(want) ? want : NaN), JSON.stringify(s));
      }),
      { numRuns: 5000 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The real data file
// ---------------------------------------------------------------------------------------------

describe('reading > the real data file (62,630 rows, Kaggle headers, CRLF)', function () {
  this.timeout(120000);
  let rows: Record<string, string>[];
  let readings: Reading[];

  before(function () {
    rows = parse(fs.readFileSync(DATA), { columns: true });
    const v = createValidator();
    readings = rows.map((row, i) => {
      const r = v.validate(row, FB);
      if (!r.ok) assert.fail(`row ${i} rejected: ${JSON.stringify(r.errors)}`);
      return r.reading;
    });
  });

  it('accepts every one of the 62,630 rows', function () {
    assert.equal(rows.length, 62630);
    assert.equal(readings.length, 62630);
  });

  it('reads the first row exactly (UTC seconds → ms, index column dropped, deviceId from the fallback)', function () {
    assert.deepEqual(readings[0], {
      deviceId: DEFAULT_DEVICE_ID,
      timestamp: 1654733331000,
      temperature: 20,
      humidity: 57.36,
      tvoc: 0,
      eco2: 400,
      rawH2: 12306,
      rawEthanol: 18520,
      pressure: 939.735,
      pm1_0: 0,
      pm2_5: 0,
      nc0_5: 0,
      nc1_0: 0,
      nc2_5: 0,
      cnt: 0,
      fireAlarm: 0,
    });
  });

  it('matches the minimum and maximum of every column from the data README', function () {
    const want: Record<string, [number, number]> = {
      timestamp: [1654712187000, 1655130051000],
      temperature: [-22.01, 59.93],
      humidity: [10.74, 75.2],
      tvoc: [0, 60000],
      eco2: [400, 60000],
      rawH2: [10668, 13803],
      rawEthanol: [15317, 21410],
      pressure: [930.852, 939.861],
      pm1_0: [0, 14333.69],
      pm2_5: [0, 45432.26],
      nc0_5: [0, 61482.03],
      nc1_0: [0, 51914.68],
      nc2_5: [0, 30026.438],
      cnt: [0, 24993],
      fireAlarm: [0, 1],
    };
    for (const [key, [min, max]] of Object.entries(want)) {
      let lo = Infinity;
      let hi = -Infinity;
      for (const r of readings) {
        const x = r[key as keyof Reading] as number;
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
      assert.deepEqual([lo, hi], [min, max], key);
    }
  });

  it('counts 44,757 fire alarms and no nulls', function () {
    assert.equal(readings.filter((r) => r.fireAlarm === 1).length, 44757);
    for (const r of readings) for (const k of SENSOR_KEYS) assert.notEqual(r[k], null);
  });

  it('gives the same readings through the zod schema (every 50th row)', function () {
    for (let i = 0; i < rows.length; i += 50) assert.deepEqual(validateWithZod(rows[i], FB), { ok: true, reading: readings[i] }, `row ${i}`);
  });

  it('gives the same readings from canonical JSON (the shape kafka in delivers)', function () {
    const v = createValidator();
    for (let i = 0; i < readings.length; i += 7) {
      const json = JSON.parse(JSON.stringify({ ...readings[i], deviceId: `dev-${i % 5}` }));
      assert.deepEqual(ok(v.validate(json, FB)), json);
    }
  });
});
