/**
 * The readable UTC time of the CSV files: one form, `YYYY-MM-DD HH:MM:SS` (UTC, whole seconds), for every
 * readable time column (`windowStartUtc`, `windowEndUtc`, `timestampUtc` of alerts, `timeUtc` of rejects).
 * Framework-free and pure.
 *
 * Why this form: it is the date-time text that Excel and LibreOffice Calc (its CSV import detecting
 * special numbers) open as a date and time, a value they sort, filter and compute with, whatever the
 * locale (ISO-8601's date order, a space, 24-hour time). ISO-8601 with `T`, `Z` and milliseconds
 * (`2022-06-08T18:16:27.123Z`, what `Date.toISOString` writes) is not recognised by Excel: it stays text.
 * Whole seconds: window bounds are whole minutes and the data's readings whole seconds, and a fixed
 * width keeps one form in a column; the exact epoch-ms value stays in the column beside it
 * (`windowStart`, `timestamp`), which machines read.
 */
import { toEpochMs } from './time';
import { NULL_CELL } from './csv-cells';

/** Name of the readable UTC column of a time key: `windowStart` → `windowStartUtc`. */
export function utcColumn(key: string): string {
  return key + UTC_SUFFIX;
}

/** The suffix of a readable UTC column's name. */
export const UTC_SUFFIX = 'Utc';

/** The time key a readable UTC column shows (`windowStartUtc` → `windowStart`), or null for other names. */
export function utcSource(column: string): string | null {
  return column.length > UTC_SUFFIX.length && column.endsWith(UTC_SUFFIX) ? column.slice(0, -UTC_SUFFIX.length) : null;
}

/**
 * `keys` with the readable UTC column of each of `times` right after it (`windowStart,
 * windowStartUtc, windowEnd, windowEndUtc`), unless `keys` already has a column of that name.
 */
export function withUtcColumns(keys: readonly string[], times: readonly string[]): string[] {
  const out: string[] = [];
  for (const k of keys) {
    out.push(k);
    if (times.includes(k) && !keys.includes(utcColumn(k))) out.push(utcColumn(k));
  }
  return out;
}

const MS_PER_SECOND = 1000;
const SECONDS_PER_DAY = 86_400;
/** First and last second of the years 0000 … 9999: outside them the form has no 4-digit year. */
const MIN_SECOND = new Date(0).setUTCFullYear(0, 0, 1) / MS_PER_SECOND;
const MAX_SECOND = Date.UTC(9999, 11, 31, 23, 59, 59) / MS_PER_SECOND;
/** `00` … `59`. */
const TWO_DIGITS: readonly string[] = Array.from({ length: 60 }, (_, i) => (i < 10 ? '0' : '') + i);

/** `YYYY-MM-DD` of a UTC day number (days since the epoch), years 0000 … 9999. */
function dayText(day: number): string {
  const d = new Date(day * SECONDS_PER_DAY * MS_PER_SECOND);
  const y = d.getUTCFullYear();
  return String(y).padStart(4, '0') + '-' + TWO_DIGITS[d.getUTCMonth() + 1] + '-' + TWO_DIGITS[d.getUTCDate()];
}

/** Second since the epoch of a time (epoch ms, numeric text, ISO-8601 text or Date), or NaN outside 0000 … 9999. */
function secondOf(v: unknown): number {
  const ms = toEpochMs(v);
  if (ms !== ms) return NaN;
  const s = Math.floor(ms / MS_PER_SECOND);
  return s >= MIN_SECOND && s <= MAX_SECOND ? s : NaN;
}

/** The text of a second since the epoch (a whole number in range). */
function secondText(s: number, day: number, dayPart: string): string {
  let r = s - day * SECONDS_PER_DAY;
  const h = Math.floor(r / 3600);
  r -= h * 3600;
  const m = Math.floor(r / 60);
  return dayPart + ' ' + TWO_DIGITS[h] + ':' + TWO_DIGITS[m] + ':' + TWO_DIGITS[r - m * 60];
}

/**
 * The readable UTC cell of a time: `YYYY-MM-DD HH:MM:SS`, the second it falls in (milliseconds cut,
 * also before 1970: -1 ms is `1969-12-31 23:59:59`). `null` → `NULL` (as its epoch column), anything
 * that is no time (absent, text that is no date, a year outside 0000 … 9999) → empty. Uncached: see
 * {@link UtcTexts} for rows.
 */
export function utcText(v: unknown): string {
  if (v === null) return NULL_CELL;
  const s = secondOf(v);
  if (s !== s) return '';
  const day = Math.floor(s / SECONDS_PER_DAY);
  return secondText(s, day, dayText(day));
}

/** Slots of the {@link UtcTexts} cache (a power of two). */
const SLOTS = 1024;

/**
 * {@link utcText} for row after row, without a Date or a new string for a time seen lately: window
 * starts and ends repeat for every device (one per slide), and alerts come in bursts per second. A
 * direct-mapped cache of the last texts by second (slot = second mod 1024, so a stream moving forward
 * in time evicts only seconds it has left), and the last day's `YYYY-MM-DD`: a miss costs one string
 * concatenation and no Date.
 */
export class UtcTexts {
  private readonly seconds = new Float64Array(SLOTS).fill(NaN);
  private readonly texts: string[] = new Array<string>(SLOTS).fill('');
  private day = NaN;
  private dayPart = '';

  /** The same text as {@link utcText}. */
  text(v: unknown): string {
    if (v === null) return NULL_CELL;
    const s = typeof v === 'number' ? Math.floor(v / MS_PER_SECOND) : secondOf(v);
    if (!(s >= MIN_SECOND && s <= MAX_SECOND)) return '';
    const slot = s & (SLOTS - 1);
    if (this.seconds[slot] === s) return this.texts[slot];
    const day = Math.floor(s / SECONDS_PER_DAY);
    if (day !== this.day) {
      this.day = day;
      this.dayPart = dayText(day);
    }
    const text = secondText(s, day, this.dayPart);
    this.seconds[slot] = s;
    this.texts[slot] = text;
    return text;
  }
}
