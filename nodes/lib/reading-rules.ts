/**
 * The value rules both reading validators share (the zod specification in reading-spec.ts and the hot
 * path in reading-validator.ts): decimal numeric text, ISO-8601 times, device id text, and the
 * fallbacks for a missing device id or time.
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
 * - Errors of the whole input (`not-an-object`, `too-large`) have the field `WHOLE_INPUT` (reading-types.ts).
 */
import { DEFAULT_DEVICE_ID, deviceKey } from './devices';
import { MAX_DEVICE_ID_LENGTH, MAX_TIMESTAMP_MS, type Fallbacks } from './reading-types';

/** Decimal numeric text, optionally surrounded by white space (what `Number()` trims). */
export const NUMERIC_TEXT = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;
/** ISO-8601 / RFC 3339 date or date-time, `T` or space between date and time, optional offset. */
export const ISO_TEXT =
  /^\s*(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?)?\s*$/;
export const NON_BLANK = /\S/;

export function isRecordLike(v: unknown): v is object {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
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

export function isDeviceIdText(v: string): boolean {
  // A first character above ' ' settles "not blank" without the regular expression.
  return v.length > 0 && v.length <= MAX_DEVICE_ID_LENGTH && (v.charCodeAt(0) > 32 || NON_BLANK.test(v)) && !hasControlChar(v);
}

/**
 * Whether text holds a control character (Unicode category Cc: U+0000–U+001F, DEL, U+0080–U+009F).
 * A loop over the code units: a device id is short (measured as fast as a regular expression here).
 */
export function hasControlChar(v: string): boolean {
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

export function fallbackDeviceId(fb: Fallbacks | undefined): string {
  if (fb === undefined) return DEFAULT_DEVICE_ID;
  return deviceIdOf(fb.key) ?? deviceIdOf(fb.topic) ?? DEFAULT_DEVICE_ID;
}

/** Fallback time in ms: Kafka timestamp (number or numeric text), else arrival; NaN when neither. */
export function fallbackTimestamp(fb: Fallbacks | undefined): number {
  if (fb === undefined) return NaN;
  const k = fb.timestamp;
  const t = typeof k === 'number' ? k : typeof k === 'string' ? parseDecimal(k) : NaN;
  if (Number.isFinite(t) && Math.abs(t) <= MAX_TIMESTAMP_MS) return t;
  const a = fb.arrival;
  return typeof a === 'number' && Number.isFinite(a) && Math.abs(a) <= MAX_TIMESTAMP_MS ? a : NaN;
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
