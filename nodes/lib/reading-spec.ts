/**
 * The zod specification of a reading (CONTRACT §2, §3), generated from SENSOR_FIELDS: the readable
 * specification and the oracle of the property tests, but 4–5 µs per reading (16 µs with the alias
 * resolution of {@link validateWithZod}), too slow for the pipeline; createValidator
 * (reading-validator.ts) implements it by hand, and property tests (test/unit/reading.test.ts) check
 * that both agree. The rules where the contract is silent are in reading-rules.ts.
 */
import { z } from 'zod';
import type { Reading, SensorKey } from './types';
import { SENSOR_FIELDS, type SensorField } from './sensor-fields';
import {
  MAX_DEVICE_ID_LENGTH,
  MAX_TIMESTAMP_MS,
  ValidatorOptionsSchema,
  WHOLE_INPUT,
  type Fallbacks,
  type ResolvedValidatorOptions,
  type ValidationCode,
  type ValidationError,
  type ValidationResult,
  type ValidatorOptions,
} from './reading-types';
import { ISO_TEXT, NON_BLANK, NUMERIC_TEXT, fallbackDeviceId, fallbackTimestamp, isRecordLike, parseIsoTimestamp } from './reading-rules';
import { approxSize } from './reading-size';

const SENSOR_KEY_SET: ReadonlySet<string> = new Set(SENSOR_FIELDS.map((f) => f.key));

/** Text without control characters (Unicode category Cc); the zod schema's form of hasControlChar. */
const NO_CONTROL_CHAR = /^[^\u0000-\u001f\u007f-\u009f]*$/;

/** Own property `key` of `o`, or undefined; never reads the prototype chain. */
function own(o: object, key: string): unknown {
  return Object.hasOwn(o, key) ? (o as Record<string, unknown>)[key] : undefined;
}

/** The canonical key's value unless it is absent or null; then the alias's (CONTRACT §2 aliases). */
function pick(o: object, key: string, alias: string): unknown {
  const v = own(o, key);
  if (v !== undefined && v !== null) return v;
  const w = own(o, alias);
  return w === undefined ? v : w;
}

/** Input keys after alias resolution, as the zod schema sees them. */
function normalise(input: unknown): unknown {
  if (!isRecordLike(input)) return input;
  const out: Record<string, unknown> = Object.create(null);
  out.deviceId = pick(input, 'deviceId', 'device_id');
  // Which key supplied the time decides its unit: `timestamp` is ms, `UTC` seconds.
  const ts = own(input, 'timestamp');
  if (ts !== undefined && ts !== null) out.timestamp = ts;
  else {
    const utc = own(input, 'UTC');
    out.UTC = utc === undefined ? ts : utc;
  }
  for (const f of SENSOR_FIELDS) out[f.key] = pick(input, f.key, f.header);
  out.location = own(input, 'location');
  return out;
}

const NAN = { error: 'not-a-number' } as const;
const zNumeric = z.union([z.number(NAN), z.string(NAN).regex(NUMERIC_TEXT, NAN).transform(Number)], NAN);

function zTime(scale: number) {
  return z
    .union([zNumeric.transform((n) => n * scale), z.string().regex(ISO_TEXT).transform(parseIsoTimestamp)], {
      error: 'bad-timestamp',
    })
    .pipe(z.number({ error: 'bad-timestamp' }).min(-MAX_TIMESTAMP_MS, { error: 'bad-timestamp' }).max(MAX_TIMESTAMP_MS, { error: 'bad-timestamp' }))
    .nullish();
}

function zSensor(f: SensorField, opts: ResolvedValidatorOptions) {
  let range = z.number({ error: 'not-a-number' });
  if (f.integer) range = range.int({ error: 'out-of-range' });
  range = range.min(f.min, { error: 'out-of-range' });
  if (f.max !== Infinity) range = range.max(f.max, { error: 'out-of-range' });
  const checked = zNumeric.pipe(opts.outOfRange === 'replace' ? range.catch(f.fill) : range);
  if (opts.missing === 'reject') return checked.nullable();
  const absent = opts.missing === 'fill' ? f.fill : null;
  return checked.nullish().transform((v) => v ?? absent);
}

/** The output of {@link readingSchema}: a reading whose device id and time may still be missing. */
export type ParsedReading = Omit<Reading, 'deviceId' | 'timestamp'> & { deviceId?: string; timestamp?: number };

/**
 * The zod schema of a reading for the given options: the specification that {@link createValidator}
 * implements by hand. It takes the output of the alias resolution (canonical keys, `UTC` kept apart)
 * and returns the reading before fallbacks (`deviceId` and `timestamp` absent when the input has
 * none). Issue messages are the {@link ValidationCode}s. {@link validateWithZod} runs it on raw input.
 */
export function readingSchema(options: ValidatorOptions = {}) {
  const opts = ValidatorOptionsSchema.parse(options);
  const sensors = Object.fromEntries(SENSOR_FIELDS.map((f) => [f.key, zSensor(f, opts)])) as Record<SensorKey, ReturnType<typeof zSensor>>;
  return z
    .object({
      deviceId: z
        .union([z.string().max(MAX_DEVICE_ID_LENGTH).regex(NON_BLANK).regex(NO_CONTROL_CHAR), z.number().int()], { error: 'bad-device-id' })
        .transform(String)
        .nullish(),
      timestamp: zTime(1),
      UTC: zTime(1000),
      ...sensors,
      location: z.string().optional().catch(undefined),
    })
    .transform((o): ParsedReading => {
      // Key order: deviceId, timestamp, the sensors in table order (then location), as the hot path.
      const reading = { deviceId: o.deviceId ?? undefined, timestamp: o.timestamp ?? o.UTC ?? undefined } as ParsedReading;
      const values = reading as unknown as Record<SensorKey, number | null>;
      for (const f of SENSOR_FIELDS) values[f.key] = o[f.key];
      if (o.location !== undefined) reading.location = o.location;
      return reading;
    });
}

const schemaCache = new Map<string, ReturnType<typeof readingSchema>>();

/**
 * Validate with the zod schema (slow: the reference for tests and documentation). Same result
 * shape as {@link ReadingValidator.validate}; messages are the codes themselves.
 */
export function validateWithZod(input: unknown, fallbacks?: Fallbacks, options: ValidatorOptions = {}): ValidationResult {
  const opts = ValidatorOptionsSchema.parse(options);
  if (opts.maxBytes > 0 && approxSize(input, opts.maxBytes) > opts.maxBytes) {
    return { ok: false, errors: [{ field: WHOLE_INPUT, code: 'too-large', message: 'too-large' }] };
  }
  const cacheKey = `${opts.missing}/${opts.outOfRange}`;
  let schema = schemaCache.get(cacheKey);
  if (schema === undefined) schemaCache.set(cacheKey, (schema = readingSchema(opts)));
  const normalised = normalise(input) as Record<string, unknown>;
  const r = schema.safeParse(normalised);
  const errors: ValidationError[] = [];
  if (!r.success) {
    for (const issue of r.error.issues) {
      if (issue.path.length === 0) {
        errors.push({ field: WHOLE_INPUT, code: 'not-an-object', message: 'not-an-object' });
        continue;
      }
      const key = String(issue.path[0]);
      const field = key === 'UTC' ? 'timestamp' : key;
      // The field decides the code of deviceId and time issues; a sensor's issue carries its code as
      // its message, except an absent key, which zod reports as a type issue.
      let code = issue.message as ValidationCode;
      if (field === 'deviceId') code = 'bad-device-id';
      else if (field === 'timestamp') code = 'bad-timestamp';
      else if (SENSOR_KEY_SET.has(field) && normalised[key] === undefined) code = 'missing';
      if (!errors.some((e) => e.field === field)) errors.push({ field, code, message: code });
    }
  }
  if (isRecordLike(input) && normalised.timestamp == null && normalised.UTC == null && Number.isNaN(fallbackTimestamp(fallbacks))) {
    errors.push({ field: 'timestamp', code: 'bad-timestamp', message: 'bad-timestamp' });
  }
  if (!r.success || errors.length > 0) return { ok: false, errors };
  const { deviceId, timestamp, ...rest } = r.data;
  const reading: Reading = { deviceId: deviceId ?? fallbackDeviceId(fallbacks), timestamp: timestamp ?? fallbackTimestamp(fallbacks), ...rest };
  return { ok: true, reading };
}
