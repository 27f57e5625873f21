/**
 * CSV cells (CONTRACT §8): a value's text, RFC 4180 quoting, NULL cells, control characters and
 * formula-injection neutralising, and the line of a row of cells. Framework-free and pure.
 *
 * Quoting is hand-written rather than csv-stringify's: on the 62,630-reading data file csv-stringify's
 * sync API formats about 77k rows/s on these machines, well below the pipeline's ~200k readings/s; this
 * module does the same RFC 4180 quoting (a cell is quoted when it holds `,`, `"`, CR or LF; quotes are
 * doubled) several times faster and is checked against csv-stringify by a property test.
 */
import { numberText } from './number-text';

/** The cell written for a `null` value (CONTRACT §8). The text "NULL" is always quoted to stay distinct. */
export const NULL_CELL = 'NULL';

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
