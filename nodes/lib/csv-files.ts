/**
 * Which file a CSV row goes to: the UTC day of a time, the default file name pattern per preset, the
 * name of a day's file, and the check that keeps a file name inside the sink's folder. Pure: no I/O.
 */
import * as path from 'node:path';
import type { CsvPreset } from './csv-layouts';

/** Default file name pattern per preset; `{date}` becomes the row's UTC date `YYYY-MM-DD`. */
export const DEFAULT_FILE_PATTERN: Record<CsvPreset, string> = {
  readings: 'historical_smoke_data_{date}.csv',
  windows: 'window_results_{date}.csv',
  alerts: 'alerts_{date}.csv',
  rejects: 'rejects_{date}.csv',
  custom: 'smoke_data_{date}.csv',
};

export const MS_PER_DAY = 86_400_000;
/** Largest |epoch ms| a JavaScript Date can hold; beyond it a row has no usable event date. */
const MAX_DATE_MS = 8.64e15;

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
