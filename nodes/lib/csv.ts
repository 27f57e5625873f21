/**
 * CSV rows for `csv sink` (CONTRACT §8): column layouts (presets), RFC 4180 quoting, formula-injection
 * neutralising, UTC-day file names and the check that keeps file names inside the sink's folder.
 * Framework-free and pure: no I/O, no clock (processing time is a parameter).
 *
 * Quoting is hand-written rather than csv-stringify's: on the 62,630-reading data file csv-stringify's
 * sync API formats about 77k rows/s on these machines, well below the pipeline's ~200k readings/s; this
 * formatter does the same RFC 4180 quoting (a cell is quoted when it holds `,`, `"`, CR or LF; quotes are
 * doubled) several times faster and is checked against csv-stringify by a property test.
 */
import * as path from 'node:path';
import { numberText } from './number-text';
import { SENSOR_FIELDS } from './reading';
import { toEpochMs } from './time';
import type { Reading } from './types';

/** The column presets of `csv sink`. */
export type CsvPreset = 'readings' | 'windows' | 'alerts' | 'rejects' | 'custom';
export const CSV_PRESETS: readonly CsvPreset[] = ['readings', 'windows', 'alerts', 'rejects', 'custom'];

/**
 * Header of the historical readings file, exactly as CONTRACT §8: the Kaggle headers of the sensor
 * fields (in the data file's order) between `UTC` and `device_id`.
 */
export const READINGS_HEADER: readonly string[] = ['UTC', ...SENSOR_FIELDS.map((f) => f.header), 'device_id'];

/** Window result keys (CONTRACT §5), in the contract's order. */
export const WINDOW_COLUMNS = [
  'deviceId',
  'windowStart',
  'windowEnd',
  'count',
  'fireAlarmCount',
  'avgTemperature',
  'avgHumidity',
  'avgTvoc',
  'avgEco2',
  'avgPm25',
  'avgPressure',
  'maxTemperature',
  'minTemperature',
  'stddevTemperature',
  'final',
] as const;

/**
 * Columns of the `windows` preset for a file of `item`'s kind (the first window result a sink gets): the
 * contract's {@link WINDOW_COLUMNS} when it has exactly those keys (the window's default aggregates) or is
 * no window result (no `windowStart`); otherwise the result's own keys in its order (`deviceId,
 * windowStart, windowEnd, count, fireAlarmCount`, the aggregates configured on the window, `final`), so
 * that configured aggregates are written instead of dropped. A window emits the same keys for every
 * result, so the first one decides for the node's lifetime.
 */
export function windowColumnsOf(item: unknown): readonly string[] {
  if (item === null || typeof item !== 'object' || Array.isArray(item) || !Object.prototype.hasOwnProperty.call(item, 'windowStart')) return WINDOW_COLUMNS;
  const keys = Object.keys(item);
  const same = keys.length === WINDOW_COLUMNS.length && keys.every((k) => (WINDOW_COLUMNS as readonly string[]).includes(k));
  return same ? WINDOW_COLUMNS : keys;
}

/** Alert keys (CONTRACT §4); `indicators` is written as one cell, joined with `;`. */
export const ALERT_COLUMNS = [
  'type',
  'severity',
  'sensor',
  'value',
  'threshold',
  'message',
  'deviceId',
  'timestamp',
  'zScore',
  'indicators',
  'cleared',
] as const;

/** Columns of the rejects file: when, from where, why, and the input as it arrived. */
export const REJECT_COLUMNS = ['time', 'source', 'topic', 'partition', 'offset', 'key', 'reasons', 'input'] as const;

/** Default file name pattern per preset; `{date}` becomes the row's UTC date `YYYY-MM-DD`. */
export const DEFAULT_FILE_PATTERN: Record<CsvPreset, string> = {
  readings: 'historical_smoke_data_{date}.csv',
  windows: 'window_results_{date}.csv',
  alerts: 'alerts_{date}.csv',
  rejects: 'rejects_{date}.csv',
  custom: 'smoke_data_{date}.csv',
};

/** The cell written for a `null` value (CONTRACT §8). The text "NULL" is always quoted to stay distinct. */
export const NULL_CELL = 'NULL';

const MS_PER_DAY = 86_400_000;
/** Largest |epoch ms| a JavaScript Date can hold; beyond it a row has no usable event date. */
const MAX_DATE_MS = 8.64e15;

// ---------------------------------------------------------------------------------------------------
// Cells

const NEEDS_QUOTES = /[",\r\n]/;
const QUOTE_G = /"/g;
/**
 * Control characters (Unicode category Cc) other than tab, LF and CR: NUL, the rest of C0, DEL and C1.
 * Tab, LF and CR stay: RFC 4180 quoting carries them, and CSV readers read them back.
 */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
const CONTROL_G = new RegExp(CONTROL.source, 'g');
/**
 * Every character a text cell may need more than its own text for: quoting, or a control character.
 * A superset (tab too): fewer ranges keep this one test, on every text cell, about as fast as the
 * quoting test alone; a tab then takes the exact path and comes out unchanged.
 */
const SPECIAL = /[\u0000-\u001f",\u007f-\u009f]/;
/** What a control character of a text cell becomes: U+FFFD, as for bytes that are not UTF-8. */
const CONTROL_REPLACEMENT = '\ufffd';
/** First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection). */
const FORMULA_START = /^'*[=+\-@\t\r]/;
/** A plain number literal ("-5.2", "+3", "1e-3"): cannot be a formula, so it is left as it is. */
const NUMBER_LITERAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Formula-injection neutralising of a text cell: a text that starts with `=`, `+`, `-`, `@`, tab or CR
 * gets a leading `'` (spreadsheets then show it as text). Texts that already start with `'`s followed
 * by one of those characters get one more `'`, so that {@link restoreText} undoes it exactly. A plain
 * number literal in text form ("-5.2") is not touched: it cannot carry a formula. Number values are
 * never text cells, so a negative temperature is always written as `-5.2`.
 */
export function neutralise(text: string): string {
  if (text.length === 0) return text;
  const c = text.charCodeAt(0);
  // Fast exit for the common case: the first character is none of ' = + - @ TAB CR.
  if (c !== 39 && c !== 61 && c !== 43 && c !== 45 && c !== 64 && c !== 9 && c !== 13) return text;
  if (!FORMULA_START.test(text)) return text;
  if (c !== 39 && NUMBER_LITERAL.test(text)) return text;
  return "'" + text;
}

/** The inverse of {@link neutralise}, for readers of the files: drops the one `'` it added. */
export function restoreText(cell: string): string {
  return cell.charCodeAt(0) === 39 && FORMULA_START.test(cell) ? cell.slice(1) : cell;
}

/** RFC 4180 quoting of one cell's text (no neutralising): quoted when it holds `,` `"` CR or LF. */
export function quote(text: string): string {
  return NEEDS_QUOTES.test(text) ? '"' + text.replace(QUOTE_G, '""') + '"' : text;
}

/**
 * The text with each control character other than tab, LF and CR (NUL, the rest of C0, DEL, C1)
 * replaced by {@link CONTROL_REPLACEMENT}: such bytes break or silently truncate many CSV readers and
 * tools (a NUL ends a C string), and no sensor value or reason needs them. Same length as the input.
 */
export function controlFree(text: string): string {
  return CONTROL.test(text) ? text.replace(CONTROL_G, CONTROL_REPLACEMENT) : text;
}

/**
 * A text cell: control characters replaced ({@link controlFree}), neutralised, then quoted; the text
 * "NULL" is quoted so that it is not read as null.
 */
export function textCell(text: string): string {
  if (text === NULL_CELL) return '"NULL"';
  const t = neutralise(text);
  // One test for the common case (nothing to quote, nothing to replace), as many as before.
  return SPECIAL.test(t) ? quote(controlFree(t)) : t;
}

/**
 * The cell for any value: numbers as JavaScript writes them (shortest round-trip form, never
 * neutralised), `null` → `NULL`, `undefined` → empty, booleans `true`/`false`, Dates as ISO-8601 text,
 * arrays and objects as JSON text, everything else as text.
 */
export function cell(v: unknown): string {
  switch (typeof v) {
    case 'number':
      return numberText(v);
    case 'string':
      return textCell(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return String(v);
    case 'undefined':
      return '';
    case 'object':
      if (v === null) return NULL_CELL;
      if (v instanceof Date) return Number.isNaN(v.getTime()) ? '' : v.toISOString();
      return textCell(jsonText(v));
    default:
      return '';
  }
}

/** JSON text of a value; never throws (cycles and BigInts fall back to String()). */
export function jsonText(v: unknown): string {
  try {
    const s = JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
    return s === undefined ? String(v) : s;
  } catch {
    return String(v);
  }
}

/**
 * One CSV line (no line terminator) from the given values. A line of one empty cell is written as `""`
 * so that it is not an empty line, which CSV readers skip.
 */
export function formatLine(values: readonly unknown[]): string {
  let line = values.length > 0 ? cell(values[0]) : '';
  for (let i = 1; i < values.length; i++) line += ',' + cell(values[i]);
  return line === '' ? '""' : line;
}

/** The header line for column names (names are text cells: neutralised and quoted like any text). */
export function headerLine(columns: readonly string[]): string {
  return formatLine(columns);
}

/**
 * The `UTC` column: epoch ms → unix seconds, with the milliseconds as decimals when the time is not a
 * whole second (`1654712187123` → `1654712187.123`). JavaScript's shortest round-trip form of ms/1000 is
 * exactly those decimals, so `Math.round(Number(cell) * 1000)` gives the timestamp back.
 */
export function utcSeconds(ms: unknown): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return ms === undefined ? '' : NULL_CELL;
  return numberText(ms / 1000);
}

// ---------------------------------------------------------------------------------------------------
// Rows as bytes

/** 10^i for i = 0 … 15: the digit count of a whole number (from 2^31 up) below 10^15. */
const POW10: readonly number[] = Array.from({ length: 16 }, (_, i) => 10 ** i);

/** Bytes a number's text can take: "-1.2345678901234567e-308" is 24. */
const MAX_NUMBER_BYTES = 32;
/** A buffer grown past this by one large batch is let go after its text is taken. */
const KEEP_BYTES = 1 << 20;

/**
 * CSV text written as UTF-8 bytes into one growing buffer, for the rows of the readings file: the
 * 15 numbers of a row are written digit by digit, where building them as strings (and the row by
 * concatenation) would allocate some 30 strings per row, which the garbage collector then has to
 * reclaim. {@link take} reads the text back as one flat string.
 *
 * Numbers are written exactly as `String(n)` (see {@link numberText}): whole numbers up to 10^12 and
 * numbers with at most three decimals below 10^12 from their digits, anything else as String(n).
 */
export class CsvBytes {
  private buf: Buffer;
  private pos = 0;
  /** Every byte written so far is below 0x80: the text then reads back as latin1 (no decoding). */
  private ascii = true;

  constructor(private readonly initialBytes = 1 << 16) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Bytes written since the last {@link take}. */
  get length(): number {
    return this.pos;
  }

  /** The text written since the last take, as one flat string; the buffer is then empty again. */
  take(): string {
    const text = this.buf.toString(this.ascii ? 'latin1' : 'utf8', 0, this.pos);
    this.pos = 0;
    this.ascii = true;
    if (this.buf.length > KEEP_BYTES) this.buf = Buffer.allocUnsafe(this.initialBytes);
    return text;
  }

  private grow(n: number): void {
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** One ASCII character (a separator or a line end). */
  byte(c: number): void {
    if (this.pos === this.buf.length) this.grow(1);
    this.buf[this.pos++] = c;
  }

  /** Text as it is (UTF-8): a cell that is already quoted and neutralised, or a number's text. */
  text(s: string): void {
    const n = s.length;
    if (this.pos + n > this.buf.length) this.grow(n);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        this.utf8(s);
        return;
      }
      buf[p++] = c;
    }
    this.pos = p;
  }

  private utf8(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    if (this.pos + n > this.buf.length) this.grow(n);
    this.pos += this.buf.write(s, this.pos, 'utf8');
    this.ascii = false;
  }

  /** A number, exactly as `String(n)` writes it. */
  number(n: number): void {
    this.numberThen(n, -1);
  }

  /**
   * A sensor cell of the readings file and the separator after it (`sep`: a character code, or -1 for
   * none): a number as {@link number}, null as NULL, anything else as its {@link cell}.
   */
  sensor(v: unknown, sep: number): void {
    if (typeof v === 'number') this.numberThen(v, sep);
    else {
      this.text(v === null ? NULL_CELL : cell(v));
      if (sep >= 0) this.byte(sep);
    }
  }

  /** {@link number}, then the character `sep` unless it is -1 (one bounds check for both). */
  numberThen(n: number, sep: number): void {
    if (this.pos + MAX_NUMBER_BYTES > this.buf.length) this.grow(MAX_NUMBER_BYTES);
    const buf = this.buf;
    let p = this.pos;
    const a = n < 0 ? -n : n;
    // Whole numbers and numbers with up to three decimals below 10^12: m thousandths exactly (see
    // thousandthsText for why m / 1000 === a makes this String's text). -0 is written "0", as String.
    const m = a < 1e12 ? Math.round(a * 1000) : NaN;
    if (m / 1000 !== a) {
      this.text(String(n));
      if (sep >= 0) this.byte(sep);
      return;
    }
    if (n < 0) buf[p++] = 45; // '-'
    // Whole part and thousandths without %, which on doubles is a call to fmod; exact, as m < 10^15.
    const v = Math.floor(m / 1000);
    const f = m - v * 1000;
    if (v <= 0x7fffffff) {
      // Int32 arithmetic (a division by 10 becomes a multiplication); a double's % is a call to fmod.
      let x = v | 0;
      // Digits, smallest first: sensor values mostly have 1 to 5.
      const len = x < 10 ? 1 : x < 100 ? 2 : x < 1e3 ? 3 : x < 1e4 ? 4 : x < 1e5 ? 5 : x < 1e6 ? 6 : x < 1e7 ? 7 : x < 1e8 ? 8 : x < 1e9 ? 9 : 10;
      p += len;
      for (let i = p - 1; i >= p - len; i--) {
        const q = (x / 10) | 0;
        buf[i] = 48 + x - q * 10;
        x = q;
      }
    } else {
      let len = 10;
      while (len < 13 && v >= POW10[len]) len++;
      p += len;
      let x = v;
      for (let i = p - 1; i >= p - len; i--) {
        const q = Math.floor(x / 10);
        buf[i] = 48 + x - q * 10;
        x = q;
      }
    }
    if (f !== 0) {
      // The fraction's digits without trailing zeros: 500 → ".5", 50 → ".05", 945 → ".945".
      const g = f | 0;
      const d1 = (g / 100) | 0;
      const d2 = ((g / 10) | 0) - d1 * 10;
      const d3 = g - ((g / 10) | 0) * 10;
      buf[p++] = 46; // '.'
      buf[p++] = 48 + d1;
      if (d2 !== 0 || d3 !== 0) {
        buf[p++] = 48 + d2;
        if (d3 !== 0) buf[p++] = 48 + d3;
      }
    }
    if (sep >= 0) buf[p++] = sep;
    this.pos = p;
  }
}

// ---------------------------------------------------------------------------------------------------
// Layouts

/** How one item becomes one CSV line, and which time decides its file. */
export interface CsvLayout {
  readonly preset: CsvPreset;
  readonly columns: readonly string[];
  /** The header line (no line terminator). */
  readonly header: string;
  /** One CSV line for the item (an object), without line terminator. */
  line(item: object): string;
  /**
   * Optional fast path: append exactly `line(item)` and `\n`, as UTF-8, to `out`. A layout that has it
   * is formatted by {@link CsvFormatter} without a string per row.
   */
  writeRow?(item: object, out: CsvBytes): void;
  /** Event time of the item (epoch ms) that dates its file, or NaN when it has none. */
  eventTime(item: object): number;
}

/** Sensor values: a number is written as is, null → NULL; anything else (not canonical) as a cell. */
function sensor(v: unknown): string {
  return typeof v === 'number' ? numberText(v) : v === null ? NULL_CELL : cell(v);
}

function numberTime(v: unknown): number {
  return typeof v === 'number' ? v : NaN;
}

const ID_CACHE_MAX = 10_000;

class ReadingsLayout implements CsvLayout {
  readonly preset = 'readings' as const;
  readonly columns = READINGS_HEADER;
  readonly header = headerLine(READINGS_HEADER);
  // Device ids repeat reading after reading: quoting and neutralising each once saves most of a row's
  // text work. Bounded: cleared when it grows past ID_CACHE_MAX distinct ids.
  private readonly idCells = new Map<string, string>();

  private idCell(id: unknown): string {
    if (typeof id !== 'string') return cell(id);
    let c = this.idCells.get(id);
    if (c === undefined) {
      if (this.idCells.size >= ID_CACHE_MAX) this.idCells.clear();
      c = textCell(id);
      this.idCells.set(id, c);
    }
    return c;
  }

  line(item: object): string {
    const r = item as Reading;
    return (
      utcSeconds(r.timestamp) +
      ',' +
      sensor(r.temperature) +
      ',' +
      sensor(r.humidity) +
      ',' +
      sensor(r.tvoc) +
      ',' +
      sensor(r.eco2) +
      ',' +
      sensor(r.rawH2) +
      ',' +
      sensor(r.rawEthanol) +
      ',' +
      sensor(r.pressure) +
      ',' +
      sensor(r.pm1_0) +
      ',' +
      sensor(r.pm2_5) +
      ',' +
      sensor(r.nc0_5) +
      ',' +
      sensor(r.nc1_0) +
      ',' +
      sensor(r.nc2_5) +
      ',' +
      sensor(r.cnt) +
      ',' +
      sensor(r.fireAlarm) +
      ',' +
      this.idCell(r.deviceId)
    );
  }

  /** `line(item)` and `\n`, as bytes (the same text: a unit test holds them equal). */
  writeRow(item: object, out: CsvBytes): void {
    const r = item as Reading;
    const t = r.timestamp;
    if (typeof t === 'number' && t - t === 0) out.numberThen(t / 1000, 44);
    else {
      out.text(utcSeconds(t));
      out.byte(44);
    }
    out.sensor(r.temperature, 44);
    out.sensor(r.humidity, 44);
    out.sensor(r.tvoc, 44);
    out.sensor(r.eco2, 44);
    out.sensor(r.rawH2, 44);
    out.sensor(r.rawEthanol, 44);
    out.sensor(r.pressure, 44);
    out.sensor(r.pm1_0, 44);
    out.sensor(r.pm2_5, 44);
    out.sensor(r.nc0_5, 44);
    out.sensor(r.nc1_0, 44);
    out.sensor(r.nc2_5, 44);
    out.sensor(r.cnt, 44);
    out.sensor(r.fireAlarm, 44);
    out.text(this.idCell(r.deviceId));
    out.byte(10);
  }

  eventTime(item: object): number {
    return numberTime((item as Reading).timestamp);
  }
}

class KeyLayout implements CsvLayout {
  readonly header: string;

  constructor(
    readonly preset: CsvPreset,
    readonly columns: readonly string[],
    private readonly timeKey: string | null,
  ) {
    this.header = headerLine(columns);
  }

  line(item: object): string {
    const cols = this.columns;
    const it = item as Record<string, unknown>;
    let line = this.value(it, cols[0]);
    for (let i = 1; i < cols.length; i++) line += ',' + this.value(it, cols[i]);
    return line === '' ? '""' : line;
  }

  protected value(item: Record<string, unknown>, key: string): string {
    return cell(Object.prototype.hasOwnProperty.call(item, key) ? item[key] : undefined);
  }

  eventTime(item: object): number {
    return this.timeKey === null ? NaN : toEpochMs((item as Record<string, unknown>)[this.timeKey]);
  }
}

class AlertsLayout extends KeyLayout {
  constructor() {
    super('alerts', ALERT_COLUMNS, 'timestamp');
  }

  protected override value(item: Record<string, unknown>, key: string): string {
    const v = item[key];
    if (key === 'indicators' && Array.isArray(v)) return textCell(v.join(';'));
    return super.value(item, key);
  }
}

/**
 * The layout of a preset. `custom` needs `columns` (configured, or the first message's keys); its
 * event time is the item's `timeKey` (epoch ms number, ISO-8601 text or Date). `windows` takes
 * `columns` when given (see {@link windowColumnsOf}), else {@link WINDOW_COLUMNS}; other presets ignore them.
 */
export function layoutFor(preset: CsvPreset, columns: readonly string[] = [], timeKey = 'timestamp'): CsvLayout {
  switch (preset) {
    case 'readings':
      return new ReadingsLayout();
    case 'windows':
      return new KeyLayout('windows', columns.length > 0 ? columns : WINDOW_COLUMNS, 'windowStart');
    case 'alerts':
      return new AlertsLayout();
    case 'rejects':
      return new KeyLayout('rejects', REJECT_COLUMNS, null);
    case 'custom':
      if (columns.length === 0) throw new RangeError('a custom layout needs at least one column');
      return new KeyLayout('custom', columns, timeKey === '' ? null : timeKey);
  }
}

/** Parse a configured column list: comma-separated text or a JSON array of names. Empty → []. */
export function parseColumns(v: unknown): string[] | null {
  if (v === undefined || v === null || v === '') return [];
  let list: unknown = v;
  if (typeof v === 'string') {
    const t = v.trim();
    if (t.startsWith('[')) {
      try {
        list = JSON.parse(t);
      } catch {
        return null;
      }
    } else list = t.split(',').map((s) => s.trim());
  }
  if (!Array.isArray(list) || list.some((s) => typeof s !== 'string' || s === '')) return null;
  if (new Set(list).size !== list.length) return null;
  return list as string[];
}

// ---------------------------------------------------------------------------------------------------
// Rejects

/** The row of one rejected input (validate's output 2 or kafka in's output 2). */
export interface RejectRow {
  [key: string]: unknown;
  time: string;
  source: 'validate' | 'kafka' | 'unknown';
  topic: unknown;
  partition: unknown;
  offset: unknown;
  key: unknown;
  reasons: string;
  input: string;
}

interface ValidationErrorLike {
  field?: unknown;
  code?: unknown;
  message?: unknown;
  index?: unknown;
}

function reasonText(errors: unknown): string {
  if (!Array.isArray(errors)) return errors === undefined || errors === null ? '' : errorText(errors);
  const parts: string[] = [];
  for (const e of errors as ValidationErrorLike[]) {
    if (e === null || typeof e !== 'object') {
      parts.push(String(e));
      continue;
    }
    const field = e.field === undefined || e.field === '' ? '' : String(e.field) + ': ';
    const code = e.code === undefined ? '' : String(e.code);
    const message = e.message === undefined ? '' : String(e.message);
    parts.push(field + code + (code && message ? ' (' + message + ')' : message));
  }
  return parts.join('; ');
}

function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  if (e !== null && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string') {
    return (e as { message: string }).message;
  }
  return jsonText(e);
}

/**
 * The input as it arrived: kafka in's raw record text stays text (it is not JSON); anything else, and
 * any input of sensor validate, as JSON text (so a string input shows its quotes, apart from a number).
 */
function inputText(v: unknown, raw = true): string {
  if (typeof v === 'string' && raw) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8');
  return jsonText(v);
}

/**
 * The reasons of each item of a message, as a function of the item's index. `batch`: the payload is
 * an array (one row per item). Sensor validate gives a batch one list of errors per item
 * (`msg.validation.errors[i]`); also read are per-item objects (`msg.validation[i].errors`) and a
 * flat list whose errors carry an `index`. A single input's list, and anything else, applies to
 * every item. The shape is decided once per message, not per item.
 */
function errorsByItem(validation: unknown, batch: boolean): (i: number) => unknown {
  if (Array.isArray(validation)) {
    return (i) => {
      const v = validation[i] as { errors?: unknown } | undefined;
      return v && typeof v === 'object' ? v.errors : v;
    };
  }
  const errors = (validation as { errors?: unknown } | null | undefined)?.errors;
  if (!batch || !Array.isArray(errors) || errors.length === 0) return () => errors;
  if (errors.every((e) => Array.isArray(e))) return (i) => errors[i];
  const byIndex = new Map<number, unknown[]>();
  for (const e of errors) {
    const at = e && typeof e === 'object' ? (e as ValidationErrorLike).index : undefined;
    if (typeof at !== 'number') continue;
    const list = byIndex.get(at);
    if (list === undefined) byIndex.set(at, [e]);
    else list.push(e);
  }
  return byIndex.size > 0 ? (i) => byIndex.get(i) ?? [] : () => errors;
}

function perItem(v: unknown, i: number, n: number): unknown {
  return n > 1 && Array.isArray(v) && v.length === n ? v[i] : v;
}

/**
 * The reject rows of one message from `sensor validate` output 2 (`msg.validation.errors`) or `kafka in`
 * output 2 (`msg.error`, `msg.payload` the raw text). A payload array gives one row per item, each with
 * its own reasons ({@link errorsByItem}, or `msg.error[i]`) and its own Kafka record: a batch of
 * `kafka in` has one topic and partition and per-record arrays, `offsets[i]` and `keys[i]` describing
 * `payload[i]` (sensor validate keeps them aligned when it splits a batch); a single record's `offset`
 * and `key` hold for every item (a record whose JSON was an array of readings). `nowMs` is the
 * processing time (the rejects file is dated by it).
 */
export function rejectRows(
  msg: { payload?: unknown; validation?: unknown; error?: unknown; kafka?: unknown },
  nowMs: number,
): RejectRow[] {
  const batch = Array.isArray(msg.payload);
  const items = batch ? (msg.payload as unknown[]) : [msg.payload];
  const n = items.length;
  const time = new Date(nowMs).toISOString();
  const source: RejectRow['source'] = msg.validation !== undefined ? 'validate' : msg.error !== undefined ? 'kafka' : 'unknown';
  const errorsOf = errorsByItem(msg.validation, batch);
  const kafka = (msg.kafka && typeof msg.kafka === 'object' ? msg.kafka : {}) as Record<string, unknown>;
  const offsets = Array.isArray(kafka.offsets) ? kafka.offsets : undefined;
  const keys = Array.isArray(kafka.keys) ? kafka.keys : undefined;
  const rows: RejectRow[] = new Array(n);
  for (let i = 0; i < n; i++) {
    rows[i] = {
      time,
      source,
      topic: kafka.topic,
      partition: kafka.partition,
      offset: offsets ? offsets[i] : kafka.offset,
      key: keyText(keys ? keys[i] : kafka.key),
      reasons: reasonText(source === 'validate' ? errorsOf(i) : perItem(msg.error, i, n)),
      input: inputText(items[i], source !== 'validate'),
    };
  }
  return rows;
}

function keyText(k: unknown): unknown {
  return k instanceof Uint8Array ? inputText(k) : k;
}

// ---------------------------------------------------------------------------------------------------
// Days and files

/** UTC day number (days since the epoch) of an epoch-ms time; NaN when it has no usable date. */
export function utcDay(ms: number): number {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS ? Math.floor(ms / MS_PER_DAY) : NaN;
}

/** `YYYY-MM-DD` of a UTC day number. */
export function dayDate(day: number): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

/** A file name from a pattern: every `{date}` becomes the UTC date `YYYY-MM-DD`. */
export function fileName(pattern: string, date: string): string {
  return pattern.split('{date}').join(date);
}

/**
 * Check a file name (pattern or `msg.filename`) that must stay inside the sink's folder: relative, no
 * `..` segment, no NUL, not a folder. Returns the problem, or null when it is usable. (Symbolic links
 * are checked by the writer, which can look at the disk.)
 */
export function checkRelativeName(name: unknown): string | null {
  if (typeof name !== 'string') return `file name must be text (got ${name === null ? 'null' : typeof name})`;
  if (name.trim() === '') return 'file name is empty';
  if (name.length > 4096) return 'file name is too long';
  if (name.includes('\0')) return 'file name contains a NUL character';
  if (path.posix.isAbsolute(name) || path.win32.isAbsolute(name)) return `file name "${name}" is an absolute path`;
  const segments = name.split(/[\\/]/);
  if (segments.some((s) => s === '..')) return `file name "${name}" leaves the folder ("..")`;
  const last = segments[segments.length - 1];
  if (last === '' || last === '.') return `file name "${name}" names a folder, not a file`;
  return null;
}

/** Rows of one UTC day of a batch: the text to append (lines each ending in `\n`) and their count. */
export interface DayChunk {
  /** UTC day number. */
  day: number;
  /** `YYYY-MM-DD`. */
  date: string;
  /** The lines, each ending in `\n`. */
  text: string;
  rows: number;
}

interface OpenChunk {
  day: number;
  items: object[];
}

/** An item of a batch that cannot be written (not an object). */
export class CsvRowError extends Error {
  constructor(
    message: string,
    readonly index: number,
  ) {
    super(message);
    this.name = 'CsvRowError';
  }
}

/**
 * Formats a batch into per-day chunks, in order of first appearance. Each item is dated by its event
 * time, or by `nowMs` when `byProcessingTime` is set or it has none. Throws {@link CsvRowError} (and
 * formats nothing) when an item is not an object.
 */
export class CsvFormatter {
  private readonly dates = new Map<number, string>();
  /** The byte buffer of layouts with {@link CsvLayout.writeRow}, reused batch after batch. */
  private bytes: CsvBytes | null = null;

  constructor(
    readonly layout: CsvLayout,
    private readonly byProcessingTime: boolean,
  ) {}

  /** `YYYY-MM-DD` of a day, cached (dates repeat batch after batch). */
  date(day: number): string {
    let d = this.dates.get(day);
    if (d === undefined) {
      if (this.dates.size >= 64) this.dates.clear();
      d = dayDate(day);
      this.dates.set(day, d);
    }
    return d;
  }

  format(items: readonly unknown[], nowMs: number): DayChunk[] {
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      if (it === null || typeof it !== 'object' || Array.isArray(it)) {
        throw new CsvRowError(`item ${i} of the payload is not an object (${it === null ? 'null' : Array.isArray(it) ? 'array' : typeof it})`, i);
      }
    }
    const nowDay = Math.floor(nowMs / MS_PER_DAY);
    if (items.length === 1) {
      // A single message's reading: one chunk, without the grouping below.
      const day = this.dayOf(items[0] as object, nowDay);
      return [{ day, date: this.date(day), text: this.text(items as readonly object[]), rows: 1 }];
    }
    const open: OpenChunk[] = [];
    // Batches are nearly always one day: keep the current chunk at hand, look up others only on change.
    let cur: OpenChunk | null = null;
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as object;
      const day = this.dayOf(item, nowDay);
      if (cur === null || cur.day !== day) {
        cur = null;
        for (const c of open) if (c.day === day) cur = c;
        if (cur === null) {
          cur = { day, items: [] };
          open.push(cur);
        }
      }
      cur.items.push(item);
    }
    const chunks: DayChunk[] = new Array(open.length);
    for (let i = 0; i < open.length; i++) {
      const c = open[i];
      chunks[i] = { day: c.day, date: this.date(c.day), text: this.text(c.items), rows: c.items.length };
    }
    return chunks;
  }

  /** UTC day of an item: by its event time, else (or when dating by processing time) `nowDay`. */
  private dayOf(item: object, nowDay: number): number {
    if (this.byProcessingTime) return nowDay;
    const d = utcDay(this.layout.eventTime(item));
    return d === d ? d : nowDay;
  }

  /** The lines of `items`, each ending in `\n`, as one flat string. */
  private text(items: readonly object[]): string {
    const layout = this.layout;
    if (layout.writeRow !== undefined) {
      const out = (this.bytes ??= new CsvBytes());
      for (let i = 0; i < items.length; i++) layout.writeRow(items[i], out);
      return out.take();
    }
    // One join gives a flat string: a line built by `+` is a tree of string pieces, and thousands of
    // those kept until the next flush would cost the garbage collector far more.
    const lines: string[] = new Array(items.length);
    for (let i = 0; i < items.length; i++) lines[i] = layout.line(items[i]);
    return lines.join('\n') + '\n';
  }
}
