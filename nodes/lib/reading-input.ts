/**
 * The input as the hot path (reading-validator.ts) reads it: by literal property names, which V8 turns
 * into fast named loads (a table of names would mean keyed loads, several times slower). The names
 * read, the check for a prototype that defines one of them, the own-value copy for that case, and the
 * one-pass size of a reading; the two per-name functions are compiled from the sensor table
 * (sensor-code.ts says why).
 */
import { SENSOR_FIELDS, type SensorHeader, type SensorKey } from './sensor-fields';
import { primitiveSize } from './reading-size';
import { compile, prop } from './sensor-code';

/** Every input property name the validator reads: canonical keys and Kaggle headers. */
export const INPUT_NAMES: readonly string[] = [
  ...new Set(['deviceId', 'device_id', 'timestamp', 'UTC', ...SENSOR_FIELDS.flatMap((f) => [f.key, f.header]), 'location']),
];

/** The input as the hot path reads it: by literal names, so that V8 uses fast named-property loads. */
export type InputRecord = { [name in 'deviceId' | 'device_id' | 'timestamp' | 'UTC' | SensorKey | SensorHeader | 'location']?: unknown };

/**
 * Whether a prototype chain defines any name the validator reads (a polluted `Object.prototype`).
 * Literal names again: one monomorphic load per name of {@link INPUT_NAMES}, far cheaper than as many
 * `Object.hasOwn` calls, which V8 does not inline.
 */
export const protoDefinesInputNames = compile<() => (p: InputRecord) => boolean>(
  'reading-input-proto',
  [],
  `return function protoDefinesInputNames(p) {
  return ${INPUT_NAMES.map((n) => `${prop('p', n)} !== undefined`).join(' ||\n    ')};
};`,
)();

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
 * not a helper call per name: as many inlined calls would exceed V8's inlining budget and stay calls.
 */
export const readingSize = compile<(valueSize: (x: unknown) => number) => (input: object, o: InputRecord) => number>(
  'reading-input-size',
  ['valueSize'],
  `return function readingSize(input, o) {
  let keys = 0;
  let size = 2;
  for (const k in input) {
    keys++;
    size += k.length + 4;
  }
  let n = 0;
  let x;
${INPUT_NAMES.map((name) => `  size += (x = ${prop('o', name)}) === undefined ? 0 : (n++, typeof x === 'number' ? 8 : valueSize(x));`).join('\n')}
  // NaN (an object value) fails the comparison too.
  return keys === n && size >= 0 ? size : -1;
};`,
)(valueSize);
