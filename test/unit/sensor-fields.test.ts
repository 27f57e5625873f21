import { strict as assert } from 'node:assert';
import {
  NUMERIC_SENSORS,
  SENSOR_FIELDS,
  SENSOR_KEYS,
  SENSOR_TABLE,
  ZSCORE_DEFAULT_SENSORS,
  sensorFields,
  type SensorRow,
} from '../../nodes/lib/sensor-fields';

/** CONTRACT §2's table, written out here (not taken from the code): key, Kaggle header, unit, range, default. */
const CONTRACT: [string, string, string, number, number, number][] = [
  ['temperature', 'Temperature[C]', '°C', -50, 100, 20.0],
  ['humidity', 'Humidity[%]', '%', 0, 100, 50.0],
  ['tvoc', 'TVOC[ppb]', 'ppb', 0, Infinity, 0],
  ['eco2', 'eCO2[ppm]', 'ppm', 0, Infinity, 400],
  ['rawH2', 'Raw H2', 'raw', 0, Infinity, 0],
  ['rawEthanol', 'Raw Ethanol', 'raw', 0, Infinity, 0],
  ['pressure', 'Pressure[hPa]', 'hPa', 800, 1200, 1013.25],
  ['pm1_0', 'PM1.0', 'µg/m³', 0, Infinity, 0],
  ['pm2_5', 'PM2.5', 'µg/m³', 0, Infinity, 0],
  ['nc0_5', 'NC0.5', '#/cm³', 0, Infinity, 0],
  ['nc1_0', 'NC1.0', '#/cm³', 0, Infinity, 0],
  ['nc2_5', 'NC2.5', '#/cm³', 0, Infinity, 0],
  ['cnt', 'CNT', 'counter', 0, Infinity, 0],
  ['fireAlarm', 'Fire Alarm', '0/1', 0, 1, 0],
];

const row = (over: Partial<SensorRow> = {}): SensorRow => ({ header: 'X', unit: 'u', min: 0, max: 1, fill: 0, kind: 'measure', zscore: true, ...over });

describe('sensor table > the rows', function () {
  it("are CONTRACT §2's sensors in the data file's order, with their headers, units, ranges and defaults", function () {
    assert.deepEqual(
      SENSOR_FIELDS.map((f) => [f.key, f.header, f.unit, f.min, f.max, f.fill]),
      CONTRACT,
    );
    assert.deepEqual(SENSOR_KEYS, Object.keys(SENSOR_TABLE));
  });

  it('make cnt a whole-number counter and fireAlarm a 0/1 flag; the 12 others are measures, z-scored by default (CONTRACT §4)', function () {
    assert.deepEqual(
      SENSOR_FIELDS.filter((f) => f.integer).map((f) => [f.key, f.kind]),
      [
        ['cnt', 'counter'],
        ['fireAlarm', 'flag'],
      ],
    );
    assert.deepEqual(NUMERIC_SENSORS, CONTRACT.slice(0, 12).map((c) => c[0]));
    assert.deepEqual(ZSCORE_DEFAULT_SENSORS, NUMERIC_SENSORS);
  });
});

describe('sensor table > a row the generated code cannot use fails at load', function () {
  it('accepts a usable row and gives it its key, in table order', function () {
    assert.deepEqual(
      sensorFields({ a: row({ header: 'A' }), co: row({ header: 'CO[ppm]', kind: 'counter', zscore: false }) }).map((f) => [f.key, f.integer]),
      [
        ['a', false],
        ['co', true],
      ],
    );
  });

  for (const key of ['deviceId', 'timestamp', 'location', 'device_id', 'UTC', 'Bad', 'two words', '__proto__', '1st', 'co-2']) {
    it(`refuses the key ${JSON.stringify(key)}`, function () {
      assert.throws(() => sensorFields({ [key]: row() }), /not a usable sensor key/);
    });
  }

  it('refuses a header used twice, or that is another input name', function () {
    assert.throws(() => sensorFields({ a: row({ header: 'H' }), b: row({ header: 'H' }) }), /"H" used twice/);
    assert.throws(() => sensorFields({ a: row({ header: 'device_id' }) }), /"device_id" used twice/);
    assert.throws(() => sensorFields({ a: row({ header: 'b' }), b: row({ header: 'B' }) }), /"b" used twice/);
  });

  it('refuses min above max, and a z-scored counter or flag', function () {
    assert.throws(() => sensorFields({ a: row({ min: 2, max: 1 }) }), /min 2 above max 1/);
    assert.throws(() => sensorFields({ a: row({ kind: 'flag', zscore: true }) }), /flag, which the z-score does not score/);
  });
});
