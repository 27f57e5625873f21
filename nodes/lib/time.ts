/**
 * Instants as they arrive in messages: epoch ms, numeric text, ISO-8601 text or a Date.
 */

/**
 * Epoch ms from a number (taken as is), a numeric string (epoch ms), an ISO-8601 string or a Date;
 * NaN when none of those. Numeric text is read as a number before `Date.parse`, which would take
 * `"2024"` for a year and `"1700000000000"` for nothing.
 */
export function toEpochMs(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const n = Number(v);
    return v.trim() !== '' && Number.isFinite(n) ? n : Date.parse(v);
  }
  if (v instanceof Date) return v.getTime();
  return NaN;
}
