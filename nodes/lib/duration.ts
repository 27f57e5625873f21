/**
 * Durations as the seed writes them (`WINDOW_DURATION="5 minutes"`, Spark interval strings) or as
 * plain numbers. Returns milliseconds, or `null` when the text is not a duration.
 *
 * Accepted: a number (taken in `defaultUnit`), a numeric string, `"<n> <unit>"` or `"<n><unit>"` with
 * unit ms/millisecond(s), s/sec/second(s), m/min/minute(s), h/hour(s), d/day(s).
 */
const UNITS: Record<string, number> = {
  ms: 1,
  millisecond: 1,
  milliseconds: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
};

export function parseDuration(value: unknown, defaultUnit: 'ms' | 's' | 'min' = 'ms'): number | null {
  const unitMs = UNITS[defaultUnit];
  if (typeof value === 'number') return Number.isFinite(value) ? value * unitMs : null;
  if (typeof value !== 'string') return null;
  const text = value.trim().toLowerCase();
  if (text === '') return null;
  const m = /^(-?\d+(?:\.\d+)?)\s*([a-z]*)$/.exec(text);
  if (!m) return null;
  const n = Number(m[1]);
  if (m[2] === '') return n * unitMs;
  const u = UNITS[m[2]];
  return u === undefined ? null : n * u;
}
