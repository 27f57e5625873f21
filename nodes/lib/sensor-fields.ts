/**
 * The sensor table: one row per sensor of CONTRACT §2, the single source of every place that lists
 * the sensors. From it come the canonical keys (`SENSOR_KEYS`) and the `Reading` type (types.ts), the
 * zod specification (reading-spec.ts), the validator's hot path and the input names it reads
 * (reading-validator.ts, reading-input.ts), the detectors' sensor values (`readSensors`, detector.ts),
 * the z-score's choices and defaults, the window aggregates a sliding window accepts (panes.ts), the
 * readings CSV columns (csv-layouts.ts, csv-sensors.ts), the sim's filler for sensors it does not model
 * (sim.ts) and the lists the node editors check against (nodes/nr/editor-settings.ts).
 *
 * Adding a sensor is one row below (test/nodes/sensor-table.test.ts proves it on a copy of the package).
 * Its place in the table is its place everywhere: in a reading, and in the readings CSV, whose header is
 * the table's headers between `UTC` and `device_id` (CONTRACT §8 fixes the 14 rows here; a new row goes
 * after them, so the contract's columns keep their order and `device_id` stays last).
 */

/** What a sensor measures, which decides its type, its range rule and what may score it. */
export type SensorKind =
  /** A real-valued measurement: scored by the z-score detector when chosen. */
  | 'measure'
  /** A whole number (a counter): an integer in its range, never z-scored. */
  | 'counter'
  /** 0 or 1 (typed `0 | 1` in a reading), never z-scored. */
  | 'flag';

/** One row of {@link SENSOR_TABLE} (the canonical key is the row's key). */
export interface SensorRow {
  /** Kaggle column header, also accepted on input, and the readings CSV's column name. */
  readonly header: string;
  readonly unit: string;
  /** Inclusive lower bound. */
  readonly min: number;
  /** Inclusive upper bound (`Infinity`: none). */
  readonly max: number;
  /** Default used by `missing: 'fill'` and `outOfRange: 'replace'`. */
  readonly fill: number;
  readonly kind: SensorKind;
  /** Scored by the z-score detector when its sensor list is left out (CONTRACT §4: the 12 measures). */
  readonly zscore: boolean;
}

/** The sensors of CONTRACT §2, in the order of the data file's columns. */
export const SENSOR_TABLE = {
  temperature: { header: 'Temperature[C]', unit: '°C', min: -50, max: 100, fill: 20.0, kind: 'measure', zscore: true },
  humidity: { header: 'Humidity[%]', unit: '%', min: 0, max: 100, fill: 50.0, kind: 'measure', zscore: true },
  tvoc: { header: 'TVOC[ppb]', unit: 'ppb', min: 0, max: Infinity, fill: 0, kind: 'measure', zscore: true },
  eco2: { header: 'eCO2[ppm]', unit: 'ppm', min: 0, max: Infinity, fill: 400, kind: 'measure', zscore: true },
  rawH2: { header: 'Raw H2', unit: 'raw', min: 0, max: Infinity, fill: 0, kind: 'measure', zscore: true },
  rawEthanol: { header: 'Raw Ethanol', unit: 'raw', min: 0, max: Infinity, fill: 0, kind: 'measure', zscore: true },
  pressure: { header: 'Pressure[hPa]', unit: 'hPa', min: 800, max: 1200, fill: 1013.25, kind: 'measure', zscore: true },
  pm1_0: { header: 'PM1.0', unit: 'µg/m³', min: 0, max: Infinity, fill: 0, kind: 'measure', zscore: true },
  pm2_5: { header: 'PM2.5', unit: 'µg/m³', min: 0, max: Infinity, fill: 0, kind: 'measure', zscore: true },
  nc0_5: { header: 'NC0.5', unit: '#/cm³', min: 0, max: Infinity, fill: 0, kind: 'measure', zscore: true },
  nc1_0: { header: 'NC1.0', unit: '#/cm³', min: 0, max: Infinity, fill: 0, kind: 'measure', zscore: true },
  nc2_5: { header: 'NC2.5', unit: '#/cm³', min: 0, max: Infinity, fill: 0, kind: 'measure', zscore: true },
  cnt: { header: 'CNT', unit: 'counter', min: 0, max: Infinity, fill: 0, kind: 'counter', zscore: false },
  fireAlarm: { header: 'Fire Alarm', unit: '0/1', min: 0, max: 1, fill: 0, kind: 'flag', zscore: false },
} as const satisfies Record<string, SensorRow>;

type Table = typeof SENSOR_TABLE;

/** A canonical sensor key (a row of {@link SENSOR_TABLE}). */
export type SensorKey = keyof Table;
/** A sensor's Kaggle header. */
export type SensorHeader = Table[SensorKey]['header'];
/** The sensors of kind `measure`: those the z-score detector may score. */
export type NumericSensor = { [K in SensorKey]: Table[K]['kind'] extends 'measure' ? K : never }[SensorKey];
/** A sensor's value in a reading: `0 | 1` for a flag, a number otherwise; `null` when it did not report. */
export type SensorValue<K extends SensorKey> = (Table[K]['kind'] extends 'flag' ? 0 | 1 : number) | null;

/** Definition of one sensor: a row of {@link SENSOR_TABLE} with its key, and whether it must be a whole number. */
export interface SensorField extends SensorRow {
  readonly key: SensorKey;
  /** Value must be a safe integer (a counter or a flag). */
  readonly integer: boolean;
}

/** Names the generated code uses for a reading's other properties, and the pattern of a usable key. */
const RESERVED_KEYS: ReadonlySet<string> = new Set(['deviceId', 'timestamp', 'location', 'device_id', 'UTC']);
const KEY_PATTERN = /^[a-z][A-Za-z0-9_]*$/;

/**
 * A sensor table as a list, in table order, after the checks the code generated from it relies on (a
 * key is a plain identifier and no other reading property, no name is used twice, min ≤ max, only a
 * measure is z-scored): a bad row throws when the module loads, not on the first reading.
 */
export function sensorFields(table: Readonly<Record<string, SensorRow>>): readonly SensorField[] {
  const fields = Object.entries(table).map(([key, row]): SensorField => {
    if (!KEY_PATTERN.test(key) || RESERVED_KEYS.has(key)) throw new Error(`sensor table: "${key}" is not a usable sensor key`);
    if (!(row.min <= row.max)) throw new Error(`sensor table: ${key} has min ${row.min} above max ${row.max}`);
    if (row.zscore && row.kind !== 'measure') throw new Error(`sensor table: ${key} is a ${row.kind}, which the z-score does not score`);
    return Object.freeze({ key: key as SensorKey, ...row, integer: row.kind !== 'measure' });
  });
  const names = ['deviceId', 'device_id', 'timestamp', 'UTC', 'location', ...fields.flatMap((f) => [f.key, f.header])];
  const twice = names.filter((n, i) => names.indexOf(n) !== i);
  if (twice.length > 0) throw new Error(`sensor table: ${twice.map((n) => JSON.stringify(n)).join(', ')} used twice`);
  return Object.freeze(fields);
}

/** Every sensor of {@link SENSOR_TABLE} with its key, in table order. */
export const SENSOR_FIELDS: readonly SensorField[] = sensorFields(SENSOR_TABLE);

/** Canonical sensor keys, in table order. */
export const SENSOR_KEYS: readonly SensorKey[] = SENSOR_FIELDS.map((f) => f.key);

/** The sensors the z-score detector may score (kind `measure`), in table order. */
export const NUMERIC_SENSORS: readonly NumericSensor[] = SENSOR_FIELDS.filter((f) => f.kind === 'measure').map((f) => f.key as NumericSensor);

/** The sensors the z-score detector scores when its list is left out (column `zscore`), in table order. */
export const ZSCORE_DEFAULT_SENSORS: readonly NumericSensor[] = SENSOR_FIELDS.filter((f) => f.kind === 'measure' && f.zscore).map((f) => f.key as NumericSensor);

/** Canonical key → Kaggle header, for every field that has one (CONTRACT §2). */
export const KAGGLE_HEADERS: Readonly<Record<string, string>> = {
  deviceId: 'device_id',
  timestamp: 'UTC',
  ...Object.fromEntries(SENSOR_FIELDS.map((f) => [f.key, f.header])),
  location: 'location',
};
