/**
 * Checks of the reliability suites: reading back the csv sinks' files, and the final windows of a
 * stream computed by brute force (every window, every reading in it), independently of lib/window.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import { DEFAULT_SHAPE, SENSOR_HEADERS, dataRows, deviceId, eventSec, kaggleReading, type StreamShape } from './_data';
import type * as Lib from '../../nodes/lib/index';

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

// ---------------------------------------------------------------------------------------------------
// Comparing the union of several runtimes' CSV files with a reference, item by item (partitions.test)

/** What comparing one kind of CSV output (readings, windows, alerts) with its reference found. */
export interface OutputDiff {
  /** Distinct items in the reference. */
  expected: number;
  /** Data rows in the files. */
  rows: number;
  /** Reference items without any row. */
  missing: number;
  /** Rows of a reference item whose values differ from it (every such row counts). */
  wrong: number;
  /** Rows beyond the first of the same item (identity), right or wrong. */
  duplicated: number;
  /** Rows of an item the reference does not hold. */
  unexpected: number;
  /** Device id → number of problems (missing items, wrong, duplicated, unexpected rows) of that device. */
  badDevices: Map<string, number>;
  /** A few examples of each kind of problem. */
  examples: string[];
}

/** `missing/wrong/dup` (+ unexpected when any) of a diff. */
export function diffText(d: OutputDiff): string {
  return `${d.missing} missing, ${d.wrong} wrong, ${d.duplicated} dup${d.unexpected > 0 ? `, ${d.unexpected} unexpected` : ''}`;
}

export function diffIsClean(d: OutputDiff): boolean {
  return d.missing === 0 && d.wrong === 0 && d.duplicated === 0 && d.unexpected === 0;
}

/**
 * The generic comparison: `identity` names the item a row is (null: not an item at all, counted as
 * unexpected), `compare` lists how a row differs from its reference item (empty: equal).
 */
export function diffRows<R>(
  content: CsvContent,
  ref: Map<string, R>,
  identity: (cell: (name: string) => string) => string | null,
  deviceOf: (key: string, cell: (name: string) => string) => string,
  compare: (cell: (name: string) => string, want: R) => string[],
  refDevice: (key: string, want: R) => string,
): OutputDiff {
  const { header, rows } = content;
  const index = new Map(header.map((h, i) => [h, i]));
  const seen = new Map<string, number>();
  const d: OutputDiff = { expected: ref.size, rows: rows.length, missing: 0, wrong: 0, duplicated: 0, unexpected: 0, badDevices: new Map(), examples: [] };
  const shown: Record<string, number> = {};
  const bad = (device: string, kind: string, text: string) => {
    d.badDevices.set(device, (d.badDevices.get(device) ?? 0) + 1);
    if ((shown[kind] = (shown[kind] ?? 0) + 1) <= 3) d.examples.push(`${kind}: ${text}`);
  };
  for (const row of rows) {
    const cell = (name: string): string => {
      const i = index.get(name);
      if (i === undefined) throw new Error(`no column ${name} in ${header.join(',')}`);
      return row[i];
    };
    const key = identity(cell);
    if (key === null) {
      d.unexpected++;
      bad('?', 'unexpected', row.join(','));
      continue;
    }
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    if (n > 1) {
      d.duplicated++;
      bad(deviceOf(key, cell), 'duplicated', `${key} (row ${n})`);
    }
    const want = ref.get(key);
    if (want === undefined) {
      if (n === 1) {
        d.unexpected++;
        bad(deviceOf(key, cell), 'unexpected', `${key}: ${row.join(',')}`);
      }
      continue;
    }
    const diffs = compare(cell, want);
    if (diffs.length > 0) {
      d.wrong++;
      bad(deviceOf(key, cell), 'wrong', `${key}: ${diffs.slice(0, 3).join(', ')}`);
    }
  }
  for (const [key, want] of ref) {
    if (seen.has(key)) continue;
    d.missing++;
    bad(refDevice(key, want), 'missing', key);
  }
  return d;
}

const readingKey = (device: string, utcSec: number): string => `${device}|${utcSec}`;

/**
 * The readings CSV (union of files) against readings 0 … n−1 of the stream. A reading's identity is
 * its device and event time (distinct for every reading the generator makes: one device never has two
 * readings at one time); its sensor values must be the ones produced.
 */
export function readingsDiff(content: CsvContent, n: number, shape: StreamShape = DEFAULT_SHAPE): OutputDiff {
  const data = dataRows();
  const ref = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const key = readingKey(deviceId(i, shape), eventSec(i, shape));
    if (ref.has(key)) throw new Error(`harness: readings ${ref.get(key)} and ${i} share the identity ${key}`);
    ref.set(key, i);
  }
  return diffRows(
    content,
    ref,
    (cell) => readingKey(cell('device_id'), Number(cell('UTC'))),
    (key) => key.slice(0, key.indexOf('|')),
    (cell, i) => {
      const want = data[i % data.length];
      const diffs: string[] = [];
      SENSOR_HEADERS.forEach((h, k) => {
        if (Number(cell(h)) !== want[k]) diffs.push(`${h}: ${cell(h)} (expected ${want[k]})`);
      });
      return diffs;
    },
    (key) => key.slice(0, key.indexOf('|')),
  );
}

/** The window results CSV (union of files) against the final windows of the stream ({@link referenceWindows}). */
export function windowsDiff(content: CsvContent, ref: Map<string, WindowRef>): OutputDiff {
  return diffRows(
    content,
    ref,
    (cell) => windowKey(cell('deviceId'), Number(cell('windowStart'))),
    (key) => key.slice(0, key.lastIndexOf('@')),
    (cell, want) => {
      const row: Record<string, string> = {};
      for (const k of Object.keys(want)) row[k] = cell(k);
      const diffs = windowDiff(row, want);
      if (cell('final') !== 'true') diffs.push(`final: ${cell('final')}`);
      return diffs;
    },
    (_key, want) => want.deviceId,
  );
}

/** A z-score alert of the reference: what the csv sink's alerts preset writes of it. */
export interface AlertRef {
  deviceId: string;
  timestamp: number;
  sensor: string;
  severity: string;
  value: number;
  threshold: number;
  zScore: number;
}

export const alertKey = (deviceIdText: string, timestamp: number, sensor: string, severity: string): string => `${deviceIdText}|${timestamp}|${sensor}|${severity}`;

/** The package's built library (what the child runtimes run), for references computed by the lib. */
export function builtLib(): typeof Lib {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(path.resolve(__dirname, '..', '..'), 'dist', 'nodes', 'lib')) as typeof Lib;
}

/**
 * The z-score alerts of an uninterrupted run over readings 0 … n−1 of the stream, by the built lib:
 * each reading as kafka in decodes it (JSON), validated with sensor validate's defaults
 * (`validateReading`), scored by one `ZScoreDetector` with the default options (per device, in
 * production order: one device is one key, so one partition, read in offset order). `rejected`: the
 * readings the validator refuses (none for the generator's readings; the other references assume so).
 */
export function referenceZScoreAlerts(n: number, shape: StreamShape = DEFAULT_SHAPE): { alerts: Map<string, AlertRef>; rejected: number[] } {
  const lib = builtLib();
  const detector = new lib.ZScoreDetector();
  const out: Lib.Alert[] = [];
  const rejected: number[] = [];
  for (let i = 0; i < n; i++) {
    const input = JSON.parse(JSON.stringify(kaggleReading(i, shape))) as Record<string, unknown>;
    const v = lib.validateReading(input, { key: input.device_id as string, arrival: 0 });
    if (!v.ok) {
      rejected.push(i);
      continue;
    }
    detector.process(v.reading, 0, out);
  }
  const alerts = new Map<string, AlertRef>();
  for (const a of out) {
    const key = alertKey(a.deviceId, a.timestamp, a.sensor, a.severity);
    if (alerts.has(key)) throw new Error(`harness: two reference alerts ${key}`);
    alerts.set(key, { deviceId: a.deviceId, timestamp: a.timestamp, sensor: a.sensor, severity: a.severity, value: a.value as number, threshold: a.threshold as number, zScore: a.zScore as number });
  }
  return { alerts, rejected };
}

/** The z-score alerts CSV (alerts preset; union of files) against {@link referenceZScoreAlerts}. */
export function alertsDiff(content: CsvContent, ref: Map<string, AlertRef>): OutputDiff {
  const num = (cell: string): number | null => (cell === '' || cell === 'NULL' ? null : Number(cell));
  return diffRows(
    content,
    ref,
    (cell) => (cell('type') === 'STATISTICAL' ? alertKey(cell('deviceId'), Number(cell('timestamp')), cell('sensor'), cell('severity')) : null),
    (key) => key.slice(0, key.indexOf('|')),
    (cell, want) => {
      const diffs: string[] = [];
      for (const k of ['value', 'zScore', 'threshold'] as const) {
        if (!close(num(cell(k)), want[k])) diffs.push(`${k}: ${cell(k)} (expected ${want[k]})`);
      }
      return diffs;
    },
    (_key, want) => want.deviceId,
  );
}
