/**
 * Checks of the reliability suites: reading back the csv sinks' files, and the final windows of a
 * stream computed by brute force (every window, every reading in it), independently of lib/window.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import { DEFAULT_SHAPE, dataRows, deviceId, eventSec, type StreamShape } from './_data';

export interface CsvContent {
  header: string[];
  /** Every data row of every file, file by file (sorted by name). */
  rows: string[][];
  /** Data rows per file. */
  counts: Record<string, number>;
  /** Whether row i of `rows` was written after a snapshot of the counts (the rows beyond it in its file). */
  after(counts: Record<string, number>): boolean[];
}

/** Rows of every CSV file in `folder` whose name starts with `prefix` (one header per file, checked). */
export function readCsv(folder: string, prefix: string): CsvContent {
  const files = fs.existsSync(folder) ? fs.readdirSync(folder).filter((f) => f.startsWith(prefix) && f.endsWith('.csv')).sort() : [];
  let header: string[] = [];
  const rows: string[][] = [];
  const fileOf: string[] = [];
  const lineOf: number[] = [];
  const counts: Record<string, number> = {};
  for (const f of files) {
    const all: string[][] = parse(fs.readFileSync(path.join(folder, f), 'utf8'), { relax_column_count: false });
    if (all.length === 0) continue;
    header = all[0];
    counts[f] = all.length - 1;
    for (let i = 1; i < all.length; i++) {
      if (all[i][0] === header[0]) throw new Error(`${f}: a second header at row ${i + 1}`);
      rows.push(all[i]);
      fileOf.push(f);
      lineOf.push(i - 1);
    }
  }
  return { header, rows, counts, after: (snap) => rows.map((_, i) => lineOf[i] >= (snap[fileOf[i]] ?? 0)) };
}

export interface WindowRef {
  deviceId: string;
  windowStart: number;
  windowEnd: number;
  count: number;
  fireAlarmCount: number;
  avgTemperature: number | null;
  avgHumidity: number | null;
  avgTvoc: number | null;
  avgEco2: number | null;
  avgPm25: number | null;
  avgPressure: number | null;
  maxTemperature: number | null;
  minTemperature: number | null;
  stddevTemperature: number | null;
}

export const windowKey = (deviceIdText: string, start: number): string => `${deviceIdText}@${start}`;

/**
 * The final windows (CONTRACT §5: `[start, start + size)`, start a multiple of slide, final when
 * windowEnd <= highest event time − delay) of readings 0 … n−1 of the stream, by brute force.
 */
export function referenceWindows(n: number, shape: StreamShape = DEFAULT_SHAPE, sizeMs = 300_000, slideMs = 60_000, delayMs = 600_000): Map<string, WindowRef> {
  const rows = dataRows();
  // column indexes in SENSOR_HEADERS order
  const T = 0, H = 1, TVOC = 2, ECO2 = 3, P = 6, PM25 = 8, FIRE = 13;
  const byDevice = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    const d = deviceId(i, shape);
    let list = byDevice.get(d);
    if (!list) byDevice.set(d, (list = []));
    list.push(i);
  }
  const out = new Map<string, WindowRef>();
  for (const [dev, idx] of byDevice) {
    const times = idx.map((i) => eventSec(i, shape) * 1000);
    if (times.some((t, k) => k > 0 && t < times[k - 1])) throw new Error(`${dev}: readings out of event-time order`);
    const maxT = Math.max(...times);
    const watermark = maxT - delayMs;
    const firstStart = Math.floor(Math.min(...times) / slideMs) * slideMs - sizeMs + slideMs;
    // readings of one device come in event-time order: two pointers find each window's readings
    let lo = 0;
    let hi = 0;
    for (let start = firstStart; start + sizeMs <= watermark; start += slideMs) {
      while (lo < times.length && times[lo] < start) lo++;
      while (hi < times.length && times[hi] < start + sizeMs) hi++;
      const inside = idx.slice(lo, hi);
      if (inside.length === 0) continue;
      const v = (c: number) => inside.map((i) => rows[i % rows.length][c]);
      const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const temps = v(T);
      const mean = avg(temps);
      const sd = temps.length < 2 ? null : Math.sqrt(temps.reduce((a, x) => a + (x - mean) ** 2, 0) / (temps.length - 1));
      out.set(windowKey(dev, start), {
        deviceId: dev,
        windowStart: start,
        windowEnd: start + sizeMs,
        count: inside.length,
        fireAlarmCount: v(FIRE).reduce((a, b) => a + b, 0),
        avgTemperature: mean,
        avgHumidity: avg(v(H)),
        avgTvoc: avg(v(TVOC)),
        avgEco2: avg(v(ECO2)),
        avgPm25: avg(v(PM25)),
        avgPressure: avg(v(P)),
        maxTemperature: Math.max(...temps),
        minTemperature: Math.min(...temps),
        stddevTemperature: sd,
      });
    }
  }
  return out;
}

const close = (a: number | null, b: number | null) =>
  a === null || b === null ? a === b : Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

/** Differences between a window result row (header → cell) and its reference; empty when they agree. */
export function windowDiff(row: Record<string, string>, ref: WindowRef): string[] {
  const diffs: string[] = [];
  for (const k of Object.keys(ref) as (keyof WindowRef)[]) {
    if (k === 'deviceId') continue;
    const cell = row[k];
    const got = cell === undefined || cell === '' || cell === 'NULL' ? null : Number(cell);
    const want = ref[k] as number | null;
    if (!close(got, want)) diffs.push(`${k}: ${cell} (expected ${want})`);
  }
  return diffs;
}

/** Heap used after a full GC (needs --expose-gc, else v8's flag set at run time). */
export function heapAfterGc(): number {
  const g = globalThis.gc ?? exposeGc();
  g();
  g();
  return process.memoryUsage().heapUsed;
}

function exposeGc(): () => void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const v8 = require('node:v8') as typeof import('node:v8');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const vm = require('node:vm') as typeof import('node:vm');
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  globalThis.gc = gc as typeof globalThis.gc;
  return gc;
}

export const mb = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MB`;

/**
 * node-red-node-test-helper spies on Node.prototype.send/status/log… with sinon, which records every
 * call's arguments: a long stream would keep every message alive. Heap measurements clear that
 * history as they go.
 */
export function forgetSpyCalls(helper: unknown): void {
  (helper as { _sandbox?: { resetHistory(): void } })._sandbox?.resetHistory();
}
