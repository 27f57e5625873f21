/**
 * Number → text on the hot path, giving exactly what `String(n)` gives, only faster for the numbers
 * sensor data is made of. Framework-free, pure.
 *
 * `String(n)` of a double that is not an integer runs V8's shortest round-trip algorithm, about
 * 0.1–0.2 µs; a CSV row of the readings file needs 15 of them. Sensor values have at most three
 * decimals (the data file: 20.945 °C, 57.36 %, 939.735 hPa; unix seconds with milliseconds), and for
 * those the text can be put together from two integers: `20.945` = `"20"` + `"."` + `"945"`.
 */

/** The fraction digits of 1–999 thousandths without trailing zeros: 1 → "001", 500 → "5", 945 → "945". */
const THOUSANDTHS: readonly string[] = Array.from({ length: 1000 }, (_, f) => String(1000 + f).slice(1).replace(/0+$/, ''));

/**
 * Largest magnitude taken by the three-decimal path: below it one thousandth is far more than the
 * spacing of doubles (2^-13 at 10^12), so at most one three-decimal number maps to a given double,
 * and that number is then the shortest text that reads back as it, which is what `String` prints.
 */
const MAX_THOUSANDTHS = 1e12;

/**
 * `String(n)`, exactly, for every number (a property test holds them equal). Integers and numbers with
 * at most three decimals (below 10^12 in magnitude) take a fast path; anything else is `String(n)`.
 */
export function numberText(n: number): string {
  if (Number.isInteger(n)) return String(n);
  const text = thousandthsText(n);
  return text === undefined ? String(n) : text;
}

/**
 * `String(n)` of a number that is not an integer and has at most three decimals (magnitude below
 * 10^12), put together from integers; undefined for any other number (integers included).
 *
 * `m = round(|n| · 1000)` is checked by `m / 1000 === |n|`. IEEE division is correctly rounded, so that
 * equality says the decimal m·10⁻³ reads back as n (parsing it gives the double nearest to it, which is
 * m / 1000); by {@link MAX_THOUSANDTHS} it is then the shortest such text, which is what `String`
 * prints, without trailing zeros and (from 0.001 up) in plain notation.
 */
export function thousandthsText(n: number): string | undefined {
  const a = n < 0 ? -n : n;
  if (!(a < MAX_THOUSANDTHS)) return undefined;
  const m = Math.round(a * 1000);
  if (m / 1000 !== a) return undefined;
  const f = m % 1000;
  if (f === 0) return undefined; // an integer
  const text = String((m - f) / 1000) + '.' + THOUSANDTHS[f];
  return n < 0 ? '-' + text : text;
}

/**
 * Significant digits of a number's text in plain notation ("-0.00120" → 3, "20.945" → 5): every digit
 * from the first non-zero one. (Shortest round-trip text has no trailing zeros after the point.)
 */
export function significantDigits(text: string): number {
  let d = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57 && (d > 0 || c !== 48)) d++;
  }
  return d;
}
