/**
 * The hot path of reading validation (CONTRACT §2, §3): {@link createValidator}, hand-written. It does
 * what the zod specification (readingSchema, reading-spec.ts) specifies: ranges, defaults and messages
 * come from SENSOR_FIELDS, and the input's properties are read by literal name, in code compiled from
 * the table ({@link readSensorFields}; reading-input.ts for the names and the size).
 * About 0.15 µs per canonical reading; property tests (test/unit/reading.test.ts) check that both
 * implementations agree. Framework-free: no Node-RED, no clock (the fallback time is a parameter), no I/O.
 */
import type { Reading } from './types';
import { deviceKey } from './devices';
import { SENSOR_FIELDS, type SensorField } from './sensor-fields';
import { compile, prop } from './sensor-code';
import {
  MAX_DEVICE_ID_LENGTH,
  MAX_TIMESTAMP_MS,
  ValidatorOptionsSchema,
  WHOLE_INPUT,
  type Fallbacks,
  type ReadingValidator,
  type ValidationCode,
  type ValidationError,
  type ValidationResult,
  type ValidatorOptions,
} from './reading-types';
import {
  fallbackDeviceId,
  fallbackTimestamp,
  hasControlChar,
  isDeviceIdText,
  isRecordLike,
  parseDecimal,
  parseIsoTimestamp,
} from './reading-rules';
import { approxSize } from './reading-size';
import { ownCopy, protoDefinesInputNames, readingSize, type InputRecord } from './reading-input';

/** Short description of a value for an error message: never serialises a whole object. */
function describe(v: unknown): string {
  switch (typeof v) {
    case 'string':
      // JSON escapes C0 controls (\u0000, \n); DEL and C1 are escaped the same way, so that the
      // message shows every control character.
      return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v).replace(/[\u007f-\u009f]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(v);
    case 'undefined':
      return 'nothing';
    case 'object':
      if (v === null) return 'null';
      if (Array.isArray(v)) return 'an array';
      if (ArrayBuffer.isView(v)) return 'binary data';
      return 'an object';
    default:
      return `a ${typeof v}`;
  }
}

function rangeText(f: SensorField): string {
  if (f.kind === 'flag') return '0 or 1';
  const kind = f.integer ? 'a whole number ' : '';
  return f.max === Infinity ? `${kind}>= ${f.min}` : `${kind}between ${f.min} and ${f.max}`;
}

/** Reads and checks every sensor of an input and builds the reading (the per-sensor part of `run`). */
type SensorReader = (o: InputRecord, deviceId: string, timestamp: number) => Reading;

/**
 * The per-sensor part of the hot path, compiled from the table once (sensor-code.ts says why): given a
 * validator's `sensor` check and the fields, a function that reads each sensor by its literal canonical
 * and header names, in table order (the order of the errors), and returns the reading as one object
 * literal with a fixed key order (`deviceId`, `timestamp`, the sensors), so that every reading shares
 * one hidden class downstream. It builds the reading even when a check failed; the caller drops it.
 */
const sensorReader = compile<(sensor: (v: unknown, w: unknown, f: SensorField) => number | null, fields: readonly SensorField[]) => SensorReader>(
  'reading-validator',
  ['sensor', 'F'],
  // Each field a constant of the closure (f0, f1, …), as hand-written named constants would be.
  `${SENSOR_FIELDS.map((_, i) => `const f${i} = F[${i}];`).join('\n')}
return function readSensorFields(o, deviceId, timestamp) {
${SENSOR_FIELDS.map((f, i) => `  const s${i} = sensor(${prop('o', f.key)}, ${prop('o', f.header)}, f${i});`).join('\n')}
  return { deviceId, timestamp, ${SENSOR_FIELDS.map((f, i) => `${JSON.stringify(f.key)}: s${i}`).join(', ')} };
};`,
);

const NO_FALLBACK_TIME = 'timestamp is missing and there is no Kafka or arrival time to use instead';

/**
 * Build a validator. Options are checked with {@link ValidatorOptionsSchema}; invalid options throw
 * (a programming error, not a data error). The returned `validate` does per reading what
 * {@link readingSchema} specifies, without zod: named property loads, `typeof` checks and compares
 * driven by {@link SENSOR_FIELDS}, and one output object. It never throws on data (a throwing getter or
 * a revoked Proxy gives `not-an-object`) and never mutates or copies from the input.
 *
 * Own properties only: a value that the input inherits is ignored. The check costs one prototype
 * test per reading ({@link protoDefinesInputNames}); only when a prototype defines one of the names
 * are the values read through `Object.hasOwn`.
 *
 * `maxBytes` measures every input with {@link approxSize}: for a reading whose keys are all known
 * names with primitive values, in one cheap pass ({@link readingSize}, about 35 ns); otherwise (an
 * unknown key such as the data file's index column, a nested value) by the bounded walk, about
 * 0.3 µs for a reading. `maxBytes: 0` turns the check off.
 */
export function createValidator(options: ValidatorOptions = {}): ReadingValidator {
  const opts = Object.freeze(ValidatorOptionsSchema.parse(options));
  const { maxBytes } = opts;
  const replace = opts.outOfRange === 'replace';
  const rejectMissing = opts.missing === 'reject';
  const fillMissing = opts.missing === 'fill';

  // Errors of the current call; null until the first one so that a valid reading allocates no list.
  let errors: ValidationError[] | null = null;
  const fail = (field: string, code: ValidationCode, message: string): void => {
    (errors ??= []).push({ field, code, message });
  };

  /**
   * A sensor from its canonical value `v` and its Kaggle-header value `w` (used when v is absent or
   * null). The common case, an in-range number, stays in this small function so that V8 inlines it
   * into every call site of {@link sensorReader}'s function; everything else goes to {@link sensorSlow}.
   */
  function sensor(v: unknown, w: unknown, f: SensorField): number | null {
    const x = (v === undefined || v === null) && w !== undefined ? w : v;
    if (typeof x === 'number' && x - x === 0 && x >= f.min && x <= f.max && (!f.integer || Number.isSafeInteger(x))) return x;
    return sensorSlow(x, f);
  }

  function sensorSlow(v: unknown, f: SensorField): number | null {
    if (v === undefined) {
      if (rejectMissing) fail(f.key, 'missing', `${f.key} is missing (key "${f.key}" or "${f.header}")`);
      return fillMissing ? f.fill : null;
    }
    if (v === null) return fillMissing ? f.fill : null;
    const n = typeof v === 'number' ? v : typeof v === 'string' ? parseDecimal(v) : NaN;
    if (n - n !== 0) {
      fail(f.key, 'not-a-number', `${f.key} is not a number (got ${describe(v)})`);
      return null;
    }
    if (n < f.min || n > f.max || (f.integer && !Number.isSafeInteger(n))) {
      if (replace) return f.fill;
      fail(f.key, 'out-of-range', `${f.key} must be ${rangeText(f)} ${f.unit} (got ${n})`);
      return null;
    }
    return n;
  }

  const readSensors = sensorReader(sensor, SENSOR_FIELDS);

  function time(ts: unknown, utc: unknown, fb: Fallbacks | undefined): number {
    let v = ts;
    let scale = 1;
    if ((v === undefined || v === null) && utc !== undefined && utc !== null) {
      v = utc;
      scale = 1000;
    }
    if (v === undefined || v === null) {
      const t = fallbackTimestamp(fb);
      if (Number.isNaN(t)) fail('timestamp', 'bad-timestamp', NO_FALLBACK_TIME);
      return t;
    }
    let t: number;
    if (typeof v === 'number') t = v * scale;
    else if (typeof v === 'string') {
      const n = parseDecimal(v);
      t = n === n ? n * scale : parseIsoTimestamp(v);
    } else t = NaN;
    if (!(Math.abs(t) <= MAX_TIMESTAMP_MS)) {
      const key = scale === 1 ? 'timestamp (epoch ms)' : 'UTC (epoch seconds)';
      fail('timestamp', 'bad-timestamp', `${key} is not a valid time (got ${describe(v)})`);
      return NaN;
    }
    return t;
  }

  function device(v: unknown, w: unknown, fb: Fallbacks | undefined): string {
    if (v === undefined || v === null) v = w;
    if (v === undefined || v === null) return fallbackDeviceId(fb);
    if (typeof v === 'string' && isDeviceIdText(v)) return v;
    if (typeof v === 'number' && Number.isSafeInteger(v)) return deviceKey(v);
    if (typeof v === 'string' && hasControlChar(v)) {
      fail('deviceId', 'bad-device-id', `deviceId must not contain control characters such as NUL, tab or line breaks (got ${describe(v)})`);
    } else {
      fail('deviceId', 'bad-device-id', `deviceId must be text of 1 to ${MAX_DEVICE_ID_LENGTH} characters or a whole number (got ${describe(v)})`);
    }
    return '';
  }

  const tooLarge = (): ValidationResult => ({
    ok: false,
    errors: [{ field: WHOLE_INPUT, code: 'too-large', message: `input is larger than about ${maxBytes} characters` }],
  });

  function run(input: unknown, fb: Fallbacks | undefined): ValidationResult {
    errors = null;
    if (!isRecordLike(input)) {
      if (maxBytes > 0 && approxSize(input, maxBytes) > maxBytes) return tooLarge();
      return { ok: false, errors: [{ field: WHOLE_INPUT, code: 'not-an-object', message: `a reading must be an object (got ${describe(input)})` }] };
    }
    const p: InputRecord | null = Object.getPrototypeOf(input);
    const o: InputRecord = p === null || !protoDefinesInputNames(p) ? input : ownCopy(input);
    if (maxBytes > 0) {
      const size = readingSize(input, o);
      if ((size < 0 ? approxSize(input, maxBytes) : size) > maxBytes) return tooLarge();
    }
    const deviceId = device(o.deviceId, o.device_id, fb);
    const timestamp = time(o.timestamp, o.UTC, fb);
    const reading = readSensors(o, deviceId, timestamp);
    const location = o.location;
    if (errors !== null) {
      const e: ValidationError[] = errors;
      errors = null;
      return { ok: false, errors: e };
    }
    if (typeof location === 'string') reading.location = location;
    return { ok: true, reading };
  }

  return {
    options: opts,
    validate(input: unknown, fallbacks?: Fallbacks): ValidationResult {
      try {
        return run(input, fallbacks);
      } catch (err) {
        // Only a hostile input gets here (a getter that throws, a revoked Proxy).
        errors = null;
        const why = err instanceof Error ? err.message : String(err);
        return { ok: false, errors: [{ field: WHOLE_INPUT, code: 'not-an-object', message: `the input could not be read: ${why}` }] };
      }
    },
  };
}
