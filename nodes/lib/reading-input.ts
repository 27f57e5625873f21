/**
 * The input as the hot path (reading-validator.ts) reads it: by literal property names, which V8 turns
 * into fast named loads (a table of names would mean keyed loads, several times slower). The names
 * read, the check for a prototype that defines one of them, the own-value copy for that case, and the
 * one-pass size of a reading.
 */
import { SENSOR_FIELDS } from './sensor-fields';
import { primitiveSize } from './reading-size';

/** Every input property name the validator reads: canonical keys and Kaggle headers. */
export const INPUT_NAMES: readonly string[] = [
  ...new Set(['deviceId', 'device_id', 'timestamp', 'UTC', ...SENSOR_FIELDS.flatMap((f) => [f.key, f.header]), 'location']),
];

/** The input as the hot path reads it: by literal names, so that V8 uses fast named-property loads. */
export interface InputRecord {
  deviceId?: unknown;
  device_id?: unknown;
  timestamp?: unknown;
  UTC?: unknown;
  temperature?: unknown;
  'Temperature[C]'?: unknown;
  humidity?: unknown;
  'Humidity[%]'?: unknown;
  tvoc?: unknown;
  'TVOC[ppb]'?: unknown;
  eco2?: unknown;
  'eCO2[ppm]'?: unknown;
  rawH2?: unknown;
  'Raw H2'?: unknown;
  rawEthanol?: unknown;
  'Raw Ethanol'?: unknown;
  pressure?: unknown;
  'Pressure[hPa]'?: unknown;
  pm1_0?: unknown;
  'PM1.0'?: unknown;
  pm2_5?: unknown;
  'PM2.5'?: unknown;
  nc0_5?: unknown;
  'NC0.5'?: unknown;
  nc1_0?: unknown;
  'NC1.0'?: unknown;
  nc2_5?: unknown;
  'NC2.5'?: unknown;
  cnt?: unknown;
  CNT?: unknown;
  fireAlarm?: unknown;
  'Fire Alarm'?: unknown;
  location?: unknown;
}

/**
 * Whether a prototype chain defines any name the validator reads (a polluted `Object.prototype`).
 * Literal names again: about 33 monomorphic loads, far cheaper than 33 `Object.hasOwn` calls, which
 * V8 does not inline. A test checks that it covers {@link INPUT_NAMES}.
 */
export function protoDefinesInputNames(p: InputRecord): boolean {
  return (
    p.deviceId !== undefined ||
    p.device_id !== undefined ||
    p.timestamp !== undefined ||
    p.UTC !== undefined ||
    p.temperature !== undefined ||
    p['Temperature[C]'] !== undefined ||
    p.humidity !== undefined ||
    p['Humidity[%]'] !== undefined ||
    p.tvoc !== undefined ||
    p['TVOC[ppb]'] !== undefined ||
    p.eco2 !== undefined ||
    p['eCO2[ppm]'] !== undefined ||
    p.rawH2 !== undefined ||
    p['Raw H2'] !== undefined ||
    p.rawEthanol !== undefined ||
    p['Raw Ethanol'] !== undefined ||
    p.pressure !== undefined ||
    p['Pressure[hPa]'] !== undefined ||
    p.pm1_0 !== undefined ||
    p['PM1.0'] !== undefined ||
    p.pm2_5 !== undefined ||
    p['PM2.5'] !== undefined ||
    p.nc0_5 !== undefined ||
    p['NC0.5'] !== undefined ||
    p.nc1_0 !== undefined ||
    p['NC1.0'] !== undefined ||
    p.nc2_5 !== undefined ||
    p['NC2.5'] !== undefined ||
    p.cnt !== undefined ||
    p.CNT !== undefined ||
    p.fireAlarm !== undefined ||
    p['Fire Alarm'] !== undefined ||
    p.location !== undefined
  );
}

/** The own values of the names the validator reads, on an object without a prototype (slow path). */
export function ownCopy(o: object): InputRecord {
  const c: Record<string, unknown> = Object.create(null);
  for (const name of INPUT_NAMES) if (Object.hasOwn(o, name)) c[name] = (o as Record<string, unknown>)[name];
  return c;
}

/** {@link approxSize}'s share of a non-number value: NaN for an object (the caller then walks). */
function valueSize(x: unknown): number {
  return typeof x === 'object' && x !== null ? NaN : primitiveSize(x);
}

/**
 * {@link approxSize} of a reading in one cheap pass, or -1 when the caller must walk. Loading each
 * value through a for-in key costs V8 about 15 ns (a keyed load); counting the keys in for-in without
 * loading values, and loading the known names by literal name, costs a fraction. That gives the same
 * sum as approxSize when every key of the input is a known name with a primitive value, which is what
 * a reading is; any other key (unknown, `__proto__`, inherited enumerable, an object value) means -1.
 * `o` is the input, or its own-value copy when a prototype defines a known name. One line per name,
 * not a helper call per name: 33 inlined calls would exceed V8's inlining budget and stay calls.
 */
export function readingSize(input: object, o: InputRecord): number {
  let keys = 0;
  let size = 2;
  for (const k in input) {
    keys++;
    size += k.length + 4;
  }
  let n = 0;
  let x: unknown;
  size += (x = o.deviceId) === undefined ? 0 : (n++, typeof x === 'number' ? 8 : valueSize(x));
  size += (x = o.device_id) === undefined ? 0 : (n++, typeof x === 'number' ? 8 : valueSize(x));
  size += (x = o.timestamp) === undefined ? 0 : (n++, typeof x === 'number' ? 8 : valueSize(x));
  size += (x = o.UTC) === undefined ? 0 : (n++, typeof x === 'number' ? 8 : valueSize(x));
  size += (x = o.temperature) === undefined ? 0 : (n++, typeof x === 'number' ? 8 : valueSize(x));
  size += (x = o['Temperature[C]']) === undefined ? 0 : (n++, typeof x === 'number' ? 8 : valueSize(x));
  size += (x = o.humidity) === undefined ? 0 : (n++, typeof x === 'number' ? 8 : valueSize(x));
  size += (x = o['Humidity[%]']) === undefined ? 0 : (n++, typeof x === 'number' ? 8 : valueSize(x));
  size += (x = o.tvoc) === undefined ? 0 : (n++, typeof x === 'number' ? 8 : valueSize(x));
  size += (x = o['TVOC[ppb]']) === undefined ? 0 : (n++, typeof x === 'number' ? 8 : valueSize(x));
  size += (x = o.eco2) === undefined ? 0 : (n++, typeof x === 'number' ? 8 : valueSize(x));
  size += (x = o['eCO2[ppm]']) === undefined ? 0 : (n++, typeof x === 'number' ? 8 : valueSize(x));
  size += (x = o.rawH2) === undefined ? 0 : (n++, typeof x === 'number' ? 8 : valueSize(x));
  size += (x = o['Raw H2']) === undefined ? 0 : (n++, typeof x === 'number' ? 8 : valueSize(x));
  size += (x = o.rawEthanol) === undefined ? 0 : (n++, typeof x === 'number' ? 8 : valueSize(x));
  size += (x = o['Raw Ethanol']) === undefined ? 0 : (n++, typeof x === 'number' ? 8 : valueSize(x));
  size += (x = o.pressure) === undefined ? 0 : (n++, typeof x === 'number' ? 8 : valueSize(x));
  size += (x = o['Pressure[hPa]']) === undefined ? 0 : (n++, typeof x === 'number' ? 8 : valueSize(x));
  size += (x = o.pm1_0) === undefined ? 0 : (n++, typeof x === 'number' ? 8 : valueSize(x));
  size += (x = o['PM1.0']) === undefined ? 0 : (n++, typeof x === 'number' ? 8 : valueSize(x));
  size += (x = o.pm2_5) === undefined ? 0 : (n++, typeof x === 'number' ? 8 : valueSize(x));
  size += (x = o['PM2.5']) === undefined ? 0 : (n++, typeof x === 'number' ? 8 : valueSize(x));
  size += (x = o.nc0_5) === undefined ? 0 : (n++, typeof x === 'number' ? 8 : valueSize(x));
  size += (x = o['NC0.5']) === undefined ? 0 : (n++, typeof x === 'number' ? 8 : valueSize(x));
  size += (x = o.nc1_0) === undefined ? 0 : (n++, typeof x === 'number' ? 8 : valueSize(x));
  size += (x = o['NC1.0']) === undefined ? 0 : (n++, typeof x === 'number' ? 8 : valueSize(x));
  size += (x = o.nc2_5) === undefined ? 0 : (n++, typeof x === 'number' ? 8 : valueSize(x));
  size += (x = o['NC2.5']) === undefined ? 0 : (n++, typeof x === 'number' ? 8 : valueSize(x));
  size += (x = o.cnt) === undefined ? 0 : (n++, typeof x === 'number' ? 8 : valueSize(x));
  size += (x = o.CNT) === undefined ? 0 : (n++, typeof x === 'number' ? 8 : valueSize(x));
  size += (x = o.fireAlarm) === undefined ? 0 : (n++, typeof x === 'number' ? 8 : valueSize(x));
  size += (x = o['Fire Alarm']) === undefined ? 0 : (n++, typeof x === 'number' ? 8 : valueSize(x));
  size += (x = o.location) === undefined ? 0 : (n++, typeof x === 'number' ? 8 : valueSize(x));
  // NaN (an object value) fails the comparison too.
  return keys === n && size >= 0 ? size : -1;
}
