/**
 * Final window results of two engines, compared (the peer section, issue 17): the same windows (device,
 * start, end) on both sides, and in each the same count, fireAlarmCount and aggregates (CONTRACT §5),
 * equal up to floating-point rounding only. Both engines sum in their own order (and Spark's stddev
 * merges its partial moments in another order than our panes do), so the last bits may differ.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_AGGREGATES, WINDOW_COUNTS } from '../../nodes/lib/panes';

/** A window result as both engines write it: `deviceId`, `windowStart`, `windowEnd` (epoch ms), then the values. */
export type WindowRow = Record<string, unknown> & { deviceId: string; windowStart: number; windowEnd: number };

/** The compared values: the counts and the default aggregates, as CONTRACT §5 names them. */
export const COMPARED_FIELDS: readonly string[] = [...WINDOW_COUNTS, ...DEFAULT_AGGREGATES];

/**
 * Two values are equal when both are null (absent counts as null: Spark's JSON writer leaves nulls
 * out) or `|a − b| ≤ REL_TOLERANCE × max(1, |a|, |b|)`: relative above 1, absolute below (a standard
 * deviation near 0 has no relative precision to speak of). Counts are integers far below 10⁹, so for
 * them this is exact.
 */
export const REL_TOLERANCE = 1e-9;

export interface WindowsComparison {
  /** Final windows on each side. */
  ours: number;
  peer: number;
  /** Windows on both sides, and of those how many hold equal values, and how many do not. */
  both: number;
  equal: number;
  mismatched: number;
  /** Windows on one side only. */
  onlyOurs: number;
  onlyPeer: number;
  /** A window (device, start) that one side emitted more than once. */
  duplicates: number;
  /** Largest relative difference among the equal windows' values (how close "equal" was). */
  maxRelDiff: number;
  /** Up to 5 differences, for the report. */
  examples: string[];
}

function key(w: WindowRow): string {
  return `${w.deviceId}|${w.windowStart}|${w.windowEnd}`;
}

function valueOf(w: WindowRow, field: string): number | null {
  const v = w[field];
  return v === undefined || v === null ? null : Number(v);
}

/** The relative difference of two values as {@link REL_TOLERANCE} measures it; Infinity when only one is null. */
export function relDiff(a: number | null, b: number | null): number {
  if (a === null || b === null) return a === b ? 0 : Infinity;
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b) ? 0 : Infinity;
  return Math.abs(a - b) / Math.max(1, Math.abs(a), Math.abs(b));
}

function index(rows: WindowRow[]): { byKey: Map<string, WindowRow>; duplicates: number } {
  const byKey = new Map<string, WindowRow>();
  let duplicates = 0;
  for (const w of rows) {
    const k = key(w);
    if (byKey.has(k)) duplicates++;
    else byKey.set(k, w);
  }
  return { byKey, duplicates };
}

/** Compares our final windows with the peer's (see {@link REL_TOLERANCE}). */
export function compareWindows(ours: WindowRow[], peer: WindowRow[]): WindowsComparison {
  const a = index(ours);
  const b = index(peer);
  const c: WindowsComparison = { ours: ours.length, peer: peer.length, both: 0, equal: 0, mismatched: 0, onlyOurs: 0, onlyPeer: 0, duplicates: a.duplicates + b.duplicates, maxRelDiff: 0, examples: [] };
  const example = (s: string) => {
    if (c.examples.length < 5) c.examples.push(s);
  };
  for (const [k, w] of a.byKey) {
    const p = b.byKey.get(k);
    if (!p) {
      c.onlyOurs++;
      example(`only ours: ${k}`);
      continue;
    }
    c.both++;
    const bad: string[] = [];
    let worst = 0;
    for (const f of COMPARED_FIELDS) {
      const d = relDiff(valueOf(w, f), valueOf(p, f));
      if (d > REL_TOLERANCE) bad.push(`${f} ${String(w[f])} ≠ ${String(p[f])}`);
      else worst = Math.max(worst, d);
    }
    if (bad.length) {
      c.mismatched++;
      example(`${k}: ${bad.join(', ')}`);
    } else {
      c.equal++;
      c.maxRelDiff = Math.max(c.maxRelDiff, worst);
    }
  }
  for (const k of b.byKey.keys()) {
    if (!a.byKey.has(k)) {
      c.onlyPeer++;
      example(`only the peer's: ${k}`);
    }
  }
  return c;
}

/** Whether the comparison found the same windows with the same values on both sides. */
export function sameWindows(c: WindowsComparison): boolean {
  return c.ours > 0 && c.mismatched === 0 && c.onlyOurs === 0 && c.onlyPeer === 0 && c.duplicates === 0;
}

/** One JSON object per line. */
export function readJsonLines(file: string): WindowRow[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as WindowRow);
}

/**
 * The rows of a Spark file sink (JSON format): the files its `_spark_metadata` log committed (a part
 * file of a batch that failed is not in the log and is not read). Each log file is `v1` and then one
 * JSON entry per line, `{ path, action: "add" | "delete", ... }`.
 */
export function readSparkFileSink(dir: string): WindowRow[] {
  const log = path.join(dir, '_spark_metadata');
  const files = new Set<string>();
  const entries = fs.readdirSync(log).filter((f) => /^\d+(\.compact)?$/.test(f)).sort((x, y) => parseInt(x, 10) - parseInt(y, 10));
  for (const f of entries) {
    for (const line of fs.readFileSync(path.join(log, f), 'utf8').split('\n').slice(1)) {
      if (!line.trim()) continue;
      const e = JSON.parse(line) as { path: string; action: string };
      const p = decodeURIComponent(new URL(e.path).pathname);
      if (e.action === 'delete') files.delete(p);
      else files.add(p);
    }
  }
  return [...files].flatMap((f) => readJsonLines(f));
}
