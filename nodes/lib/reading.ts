/**
 * Validation of incoming sensor data into the canonical {@link Reading} (CONTRACT §2, §3).
 * Framework-free: no Node-RED, no clock (the fallback time is a parameter), no I/O.
 *
 * Two implementations of one specification live here:
 * - {@link readingSchema}: the zod schema, generated from {@link SENSOR_FIELDS}. It is the readable
 *   specification and the oracle of the property tests, but costs 4–5 µs per reading (16 µs with
 *   the alias resolution of {@link validateWithZod}), too much for ~200k readings/s through a chain.
 * - {@link createValidator}: the hot path, hand-written: ranges, defaults and messages come from the
 *   same table, while the input's properties are read by literal name, which V8 turns into fast
 *   named loads (a table of names would mean keyed loads, several times slower). About 0.15 µs per
 *   canonical reading. Property tests (test/unit/reading.test.ts) check that both agree.
 *
 * Decisions where the contract is silent (they hold for both implementations):
 * - Key aliases: the canonical key is used unless it is absent or `null`; then the Kaggle header
 *   (`Temperature[C]`, `device_id`, `UTC`, …). Every other key is ignored and never copied.
 * - Numeric text is decimal only (`"12.5"`, `" 3 "`, `"-1e3"`); `""`, `"0x10"`, `"Infinity"`, booleans,
 *   objects and non-finite numbers are `not-a-number`.
 * - `deviceId`: a string with 1 to 128 characters (UTF-16 code units), at least one non-blank
 *   character and no control character (NUL, tab, line breaks, DEL, C1: a device id names a file row,
 *   a Kafka key and a state key, where such bytes only ever cause harm), kept as is (not trimmed), or a
 *   safe integer, converted with `String()`. Anything else is `bad-device-id`. `null` counts as absent;
 *   a Kafka key or topic that is no valid device id is skipped as a fallback.
 * - `timestamp`: `timestamp` is epoch ms, `UTC` is epoch seconds; both accept numbers, numeric text
 *   and ISO-8601 text (`2022-06-09`, `2022-06-09T00:08:51.250Z`, `2022-06-09 00:08:51+02:00`; a date-time
 *   without an offset is UTC, never local time). The result must lie in JavaScript's Date range
 *   (|t| ≤ 8.64e15 ms), else `bad-timestamp`. `null` counts as absent.
 * - `location`: a string is kept; any other value is dropped (it is optional metadata, not a reason
 *   to reject a reading).
 * - `cnt` must be a safe integer ≥ 0 and `fireAlarm` 0 or 1: a non-integer is `out-of-range`.
 * - Errors of the whole input (`not-an-object`, `too-large`) have the field {@link WHOLE_INPUT}.
 */
import { z } from 'zod';
import type { Reading, SensorKey } from './types';
import { DEFAULT_DEVICE_ID, deviceKey } from './devices';

/** Error codes of CONTRACT §3. */
export type ValidationCode =
  | 'not-an-object'
  | 'missing'
  | 'not-a-number'
  | 'out-of-range'
  | 'bad-timestamp'
  | 'bad-device-id'
  | 'too-large';

/** One problem of one input: `field` is the canonical key, or {@link WHOLE_INPUT}. */
export interface ValidationError {
  field: string;
  code: ValidationCode;
  message: string;
}

/** The `field` of an error about the input as a whole (`not-an-object`, `too-large`). */
export const WHOLE_INPUT = '*';

/** The outcome of one validation: exactly one of a reading or a non-empty error list. */
export type ValidationResult = { ok: true; reading: Reading } | { ok: false; errors: ValidationError[] };

/** Definition of one numeric sensor: both key spellings, the valid range and the fill default. */
export interface SensorField {
  key: SensorKey;
  /** Kaggle column header, also accepted on input. */
  header: string;
  unit: string;
  /** Inclusive lower bound. */
  min: number;
  /** Inclusive upper bound (`Infinity`: none). */
  max: number;
  /** Value must be a safe integer. */
  integer: boolean;
  /** Default used by `missing: 'fill'` and `outOfRange: 'replace'`. */
  fill: number;
}

// One constant per field: the hot path refers to them by name (constant-folded by V8; a lookup
// object keyed by sensor would be in dictionary mode with 14 keys).
const F_TEMPERATURE: SensorField = { key: 'temperature', header: 'Temperature[C]', unit: '°C', min: -50, max: 100, integer: false, fill: 20.0 };
const F_HUMIDITY: SensorField = { key: 'humidity', header: 'Humidity[%]', unit: '%', min: 0, max: 100, integer: false, fill: 50.0 };
const F_TVOC: SensorField = { key: 'tvoc', header: 'TVOC[ppb]', unit: 'ppb', min: 0, max: Infinity, integer: false, fill: 0 };
const F_ECO2: SensorField = { key: 'eco2', header: 'eCO2[ppm]', unit: 'ppm', min: 0, max: Infinity, integer: false, fill: 400 };
const F_RAW_H2: SensorField = { key: 'rawH2', header: 'Raw H2', unit: 'raw', min: 0, max: Infinity, integer: false, fill: 0 };
const F_RAW_ETHANOL: SensorField = { key: 'rawEthanol', header: 'Raw Ethanol', unit: 'raw', min: 0, max: Infinity, integer: false, fill: 0 };
const F_PRESSURE: SensorField = { key: 'pressure', header: 'Pressure[hPa]', unit: 'hPa', min: 800, max: 1200, integer: false, fill: 1013.25 };
const F_PM1_0: SensorField = { key: 'pm1_0', header: 'PM1.0', unit: 'µg/m³', min: 0, max: Infinity, integer: false, fill: 0 };
const F_PM2_5: SensorField = { key: 'pm2_5', header: 'PM2.5', unit: 'µg/m³', min: 0, max: Infinity, integer: false, fill: 0 };
const F_NC0_5: SensorField = { key: 'nc0_5', header: 'NC0.5', unit: '#/cm³', min: 0, max: Infinity, integer: false, fill: 0 };
const F_NC1_0: SensorField = { key: 'nc1_0', header: 'NC1.0', unit: '#/cm³', min: 0, max: Infinity, integer: false, fill: 0 };
const F_NC2_5: SensorField = { key: 'nc2_5', header: 'NC2.5', unit: '#/cm³', min: 0, max: Infinity, integer: false, fill: 0 };
const F_CNT: SensorField = { key: 'cnt', header: 'CNT', unit: 'counter', min: 0, max: Infinity, integer: true, fill: 0 };
const F_FIRE_ALARM: SensorField = { key: 'fireAlarm', header: 'Fire Alarm', unit: '0/1', min: 0, max: 1, integer: true, fill: 0 };

/** The 14 numeric sensors of CONTRACT §2, in the order of the data file's columns. */
export const SENSOR_FIELDS: readonly SensorField[] = [
  F_TEMPERATURE,
  F_HUMIDITY,
  F_TVOC,
  F_ECO2,
  F_RAW_H2,
  F_RAW_ETHANOL,
  F_PRESSURE,
  F_PM1_0,
  F_PM2_5,
  F_NC0_5,
  F_NC1_0,
  F_NC2_5,
  F_CNT,
  F_FIRE_ALARM,
];

/** Canonical key → Kaggle header, for every field that has one (CONTRACT §2). */
export const KAGGLE_HEADERS: Readonly<Record<string, string>> = {
  deviceId: 'device_id',
  timestamp: 'UTC',
  ...Object.fromEntries(SENSOR_FIELDS.map((f) => [f.key, f.header])),
  location: 'location',
};

const SENSOR_KEY_SET: ReadonlySet<string> = new Set(SENSOR_FIELDS.map((f) => f.key));

/** Longest accepted `deviceId`, in UTF-16 code units. */
export const MAX_DEVICE_ID_LENGTH = 128;
/** Largest |timestamp| in ms: the range of a JavaScript Date. */
export const MAX_TIMESTAMP_MS = 8.64e15;
/** Default of `maxBytes`: 64 KiB, about 150 times a real reading. */
export const DEFAULT_MAX_BYTES = 65536;

/** Decimal numeric text, optionally surrounded by white space (what `Number()` trims). */
export const NUMERIC_TEXT = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;
/** ISO-8601 / RFC 3339 date or date-time, `T` or space between date and time, optional offset. */
const ISO_TEXT =
  /^\s*(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?)?\s*$/;
const NON_BLANK = /\S/;
/** Text without control characters (Unicode category Cc); the zod schema's form of hasControlChar. */
const NO_CONTROL_CHAR = /^[^\u0000-\u001f\u007f-\u009f]*$/;

/** Validator options. Every one is optional; the defaults are the contract's. */
export const ValidatorOptionsSchema = z
  .object({
    /**
     * An absent sensor key: `reject` (error `missing`, the default), `null` (keep as null) or `fill`
     * (use the default of {@link SENSOR_FIELDS}; in this mode a `null` value is filled too).
     */
    missing: z.enum(['reject', 'null', 'fill']).default('reject'),
    /** A value outside its range: `reject` (error `out-of-range`, the default) or `replace` by its default. */
    outOfRange: z.enum(['reject', 'replace']).default('reject'),
    /** Approximate size limit of an input in characters (see {@link approxSize}); `0` = no limit. */
    maxBytes: z.number().int().min(0).default(DEFAULT_MAX_BYTES),
  })
  .strict();

export type ValidatorOptions = z.input<typeof ValidatorOptionsSchema>;
export type ResolvedValidatorOptions = z.output<typeof ValidatorOptionsSchema>;

/**
 * Values used when the input has no `deviceId` / `timestamp` (or has them as `null`). The lib never
 * reads a clock: the caller passes its arrival time.
 */
export interface Fallbacks {
  /** Kafka record key (first choice for `deviceId`): a valid device id (string or safe integer) or ignored. */
  key?: unknown;
  /** `msg.topic` (second choice for `deviceId`, before `"default"`). */
  topic?: unknown;
  /** Kafka record timestamp, epoch ms as a number or numeric text (first choice for `timestamp`). */
  timestamp?: unknown;
  /** Arrival time, epoch ms (second choice for `timestamp`). */
  arrival?: number;
}

export { DEFAULT_DEVICE_ID };

export interface ReadingValidator {
  readonly options: Readonly<ResolvedValidatorOptions>;
  /** Validate one input. Never throws on data, never mutates `input`. */
  validate(input: unknown, fallbacks?: Fallbacks): ValidationResult;
}

// ---------------------------------------------------------------------------------------------
// Shared helpers (used by both implementations)
// ---------------------------------------------------------------------------------------------

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

function isRecordLike(v: unknown): v is object {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

function primitiveSize(v: unknown): number {
  return typeof v === 'string' ? v.length + 2 : typeof v === 'number' ? 8 : typeof v === 'boolean' ? 5 : 4;
}

/**
 * Approximate JSON size of `value` in characters, for the `maxBytes` check. It walks the value
 * without recursion and stops as soon as the count passes `limit`, so its cost is bounded by the
 * limit, never by the input (a 10 MB string costs one `length`). Counts: string = length + 2,
 * number = 8, boolean = 5, null/other = 4, each object key = its length + 4, each array item + 1,
 * a typed array / Buffer = its byteLength; keys are those for-in visits (own and inherited
 * enumerable). Characters, not UTF-8 bytes: it is an abuse guard, not a byte-exact limit. A cyclic
 * object counts as larger than any limit.
 */
export function approxSize(value: unknown, limit: number): number {
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value)) {
    return objectSize(value, limit);
  }
  return walkSize(value, limit);
}

/**
 * Size of an object whose values are all primitives (a reading), in one for-in pass; a nested value
 * hands over to {@link walkSize}. for-in allocates no key array (Object.keys costs 4 times as much)
 * and visits inherited enumerable keys too, which only a polluted or unusual prototype has: counting
 * them errs on the safe side, and an own-key test would double the cost of the pass.
 */
function objectSize(o: object, limit: number): number {
  let size = 2;
  for (const k in o) {
    const e: unknown = (o as Record<string, unknown>)[k];
    if (typeof e === 'object' && e !== null) return walkSize(o, limit);
    size += k.length + 4 + primitiveSize(e);
    if (size > limit) break;
  }
  return size;
}

/** The general walk of {@link approxSize}: any nesting, no recursion, stops past `limit`. */
function walkSize(value: unknown, limit: number): number {
  let size = 0;
  let stack: object[] | undefined;
  let v: unknown = value;
  for (;;) {
    if (typeof v !== 'object' || v === null) {
      size += primitiveSize(v);
    } else if (ArrayBuffer.isView(v)) {
      size += v.byteLength + 2;
    } else if (Array.isArray(v)) {
      size += 2;
      for (let i = 0; i < v.length && size <= limit; i++) {
        const e: unknown = v[i];
        if (typeof e === 'object' && e !== null) {
          size += 1;
          (stack ??= []).push(e);
        } else size += 1 + primitiveSize(e);
      }
    } else {
      size += 2;
      const o = v;
      for (const k in o) {
        const e: unknown = (o as Record<string, unknown>)[k];
        size += k.length + 4;
        if (typeof e === 'object' && e !== null) (stack ??= []).push(e);
        else size += primitiveSize(e);
        if (size > limit) break;
      }
    }
    if (size > limit || stack === undefined || stack.length === 0) return size;
    v = stack.pop();
  }
}

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
  const kind = f.key === 'fireAlarm' ? '0 or 1' : f.integer ? 'a whole number ' : '';
  if (f.key === 'fireAlarm') return kind;
  return f.max === Infinity ? `${kind}>= ${f.min}` : `${kind}between ${f.min} and ${f.max}`;
}

/** Days in `month` (1–12) of `year` (proleptic Gregorian). */
function daysIn(year: number, month: number): number {
  return month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * Epoch ms of an ISO-8601 text, or NaN. Computed from the fields (not `Date.parse`, whose treatment of
 * date-times without an offset depends on the machine's time zone): no offset means UTC.
 */
export function parseIsoTimestamp(text: string): number {
  const m = ISO_TEXT.exec(text);
  if (m === null) return NaN;
  const year = +m[1];
  const month = +m[2];
  const day = +m[3];
  const hour = m[4] === undefined ? 0 : +m[4];
  const minute = m[5] === undefined ? 0 : +m[5];
  const second = m[6] === undefined ? 0 : +m[6];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59) return NaN;
  const ms = m[7] === undefined ? 0 : Math.floor(+(m[7] + '000').slice(0, 3));
  let offsetMin = 0;
  if (m[9] !== undefined) {
    const oh = +m[10];
    const om = +m[11];
    if (oh > 23 || om > 59) return NaN;
    offsetMin = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const d = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 to 1900–1999.
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, ms);
  return d.getTime() - offsetMin * 60_000;
}

function isDeviceIdText(v: string): boolean {
  // A first character above ' ' settles "not blank" without the regular expression.
  return v.length > 0 && v.length <= MAX_DEVICE_ID_LENGTH && (v.charCodeAt(0) > 32 || NON_BLANK.test(v)) && !hasControlChar(v);
}

/**
 * Whether text holds a control character (Unicode category Cc: U+0000–U+001F, DEL, U+0080–U+009F).
 * A loop over the code units: a device id is short (measured as fast as a regular expression here).
 */
function hasControlChar(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 32 || (c >= 127 && c <= 159)) return true;
  }
  return false;
}

/** A usable device id from a fallback value, or undefined. */
function deviceIdOf(v: unknown): string | undefined {
  if (typeof v === 'string') return isDeviceIdText(v) ? v : undefined;
  // A number: the rule every node applies to a reading's deviceId (nodes/lib/devices.ts).
  if (typeof v === 'number' && Number.isSafeInteger(v)) return deviceKey(v);
  return undefined;
}

function fallbackDeviceId(fb: Fallbacks | undefined): string {
  if (fb === undefined) return DEFAULT_DEVICE_ID;
  return deviceIdOf(fb.key) ?? deviceIdOf(fb.topic) ?? DEFAULT_DEVICE_ID;
}

/** Fallback time in ms: Kafka timestamp (number or numeric text), else arrival; NaN when neither. */
function fallbackTimestamp(fb: Fallbacks | undefined): number {
  if (fb === undefined) return NaN;
  const k = fb.timestamp;
  const t = typeof k === 'number' ? k : typeof k === 'string' ? parseDecimal(k) : NaN;
  if (Number.isFinite(t) && Math.abs(t) <= MAX_TIMESTAMP_MS) return t;
  const a = fb.arrival;
  return typeof a === 'number' && Number.isFinite(a) && Math.abs(a) <= MAX_TIMESTAMP_MS ? a : NaN;
}

const NO_FALLBACK_TIME = 'timestamp is missing and there is no Kafka or arrival time to use instead';

// ---------------------------------------------------------------------------------------------
// The zod schema: the specification and the oracle of the property tests
// ---------------------------------------------------------------------------------------------

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
      const reading: ParsedReading = {
        deviceId: o.deviceId ?? undefined,
        timestamp: o.timestamp ?? o.UTC ?? undefined,
        temperature: o.temperature,
        humidity: o.humidity,
        tvoc: o.tvoc,
        eco2: o.eco2,
        rawH2: o.rawH2,
        rawEthanol: o.rawEthanol,
        pressure: o.pressure,
        pm1_0: o.pm1_0,
        pm2_5: o.pm2_5,
        nc0_5: o.nc0_5,
        nc1_0: o.nc1_0,
        nc2_5: o.nc2_5,
        cnt: o.cnt,
        fireAlarm: o.fireAlarm as 0 | 1 | null,
      };
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

// ---------------------------------------------------------------------------------------------
// The hot path
// ---------------------------------------------------------------------------------------------

/** Every input property name the validator reads: canonical keys and Kaggle headers. */
export const INPUT_NAMES: readonly string[] = [
  ...new Set(['deviceId', 'device_id', 'timestamp', 'UTC', ...SENSOR_FIELDS.flatMap((f) => [f.key, f.header]), 'location']),
];

/** The input as the hot path reads it: by literal names, so that V8 uses fast named-property loads. */
interface InputRecord {
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
function ownCopy(o: object): InputRecord {
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

/**
 * Decimal numeric text to a number, NaN otherwise; the same language as {@link NUMERIC_TEXT} (a
 * property test holds them equal) at a fraction of the cost. `Number()` does the parsing; what it
 * accepts beyond decimal text is ruled out after: blank text (read as 0), the prefixes 0x / 0o / 0b,
 * and Infinity.
 */
export function parseDecimal(s: string): number {
  const n = +s;
  if (n - n !== 0) return NaN;
  const c0 = s.charCodeAt(0);
  if (c0 >= 48 && c0 <= 57) {
    if (c0 !== 48 || s.length === 1) return n;
    // "0x10": after a leading 0, decimal text continues with a digit, '.', 'e' or the end.
    const c1 = s.charCodeAt(1) | 0x20;
    return c1 === 120 || c1 === 111 || c1 === 98 ? NaN : n;
  }
  if (c0 === 45 || c0 === 43 || c0 === 46) return n; // '-', '+', '.': Number() takes no prefix after them
  return NUMERIC_TEXT.test(s) ? n : NaN; // leading blanks, or blank text
}

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
   * into all 14 call sites; everything else goes to {@link sensorSlow}.
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
    const temperature = sensor(o.temperature, o['Temperature[C]'], F_TEMPERATURE);
    const humidity = sensor(o.humidity, o['Humidity[%]'], F_HUMIDITY);
    const tvoc = sensor(o.tvoc, o['TVOC[ppb]'], F_TVOC);
    const eco2 = sensor(o.eco2, o['eCO2[ppm]'], F_ECO2);
    const rawH2 = sensor(o.rawH2, o['Raw H2'], F_RAW_H2);
    const rawEthanol = sensor(o.rawEthanol, o['Raw Ethanol'], F_RAW_ETHANOL);
    const pressure = sensor(o.pressure, o['Pressure[hPa]'], F_PRESSURE);
    const pm1_0 = sensor(o.pm1_0, o['PM1.0'], F_PM1_0);
    const pm2_5 = sensor(o.pm2_5, o['PM2.5'], F_PM2_5);
    const nc0_5 = sensor(o.nc0_5, o['NC0.5'], F_NC0_5);
    const nc1_0 = sensor(o.nc1_0, o['NC1.0'], F_NC1_0);
    const nc2_5 = sensor(o.nc2_5, o['NC2.5'], F_NC2_5);
    const cnt = sensor(o.cnt, o.CNT, F_CNT);
    const fireAlarm = sensor(o.fireAlarm, o['Fire Alarm'], F_FIRE_ALARM) as 0 | 1 | null;
    const location = o.location;
    if (errors !== null) {
      const e: ValidationError[] = errors;
      errors = null;
      return { ok: false, errors: e };
    }
    // A literal with a fixed key order: every reading shares one hidden class downstream.
    const reading: Reading = {
      deviceId,
      timestamp,
      temperature,
      humidity,
      tvoc,
      eco2,
      rawH2,
      rawEthanol,
      pressure,
      pm1_0,
      pm2_5,
      nc0_5,
      nc1_0,
      nc2_5,
      cnt,
      fireAlarm,
    };
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
