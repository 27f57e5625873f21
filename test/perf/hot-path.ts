/**
 * Per-reading costs of the lib's hot paths on the real data file, for a person to read (not a mocha
 * suite; timings on a shared 2-core machine vary, so each figure is the best of several rounds):
 * - CSV: readings rows formatted in batches of 1,000 (bytes path) and one by one (single messages);
 * - fmt: alert-message numbers, sensor values (≤ 3 decimals) and full doubles (z, mean, σ);
 * - detectors: threshold, z-score and fire pattern per reading (every mode, 100 devices);
 * - csv sink queue: single-row jobs through the writer (format + queue + write, fsync off), 1,000
 *   jobs per macrotask as kafka in's steps deliver them.
 *
 *   node scripts/build.js && node --import tsx test/perf/hot-path.ts
 *
 * Runs against the built files in dist/ (what Node-RED loads), not through tsx's transform.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';

const ROOT = path.resolve(__dirname, '..', '..');
const DATA_FILE = path.resolve(ROOT, '../shared/data/smoke_detection_iot.csv');
/* eslint-disable @typescript-eslint/no-require-imports */
const csv = {
  ...(require(path.join(ROOT, 'dist/nodes/lib/csv-formatter')) as typeof import('../../nodes/lib/csv-formatter')),
  ...(require(path.join(ROOT, 'dist/nodes/lib/csv-layouts')) as typeof import('../../nodes/lib/csv-layouts')),
  ...(require(path.join(ROOT, 'dist/nodes/lib/csv-files')) as typeof import('../../nodes/lib/csv-files')),
};
const detector = require(path.join(ROOT, 'dist/nodes/lib/detector')) as typeof import('../../nodes/lib/detector');
const reading = require(path.join(ROOT, 'dist/nodes/lib/reading-validator')) as typeof import('../../nodes/lib/reading-validator');
const thresholds = require(path.join(ROOT, 'dist/nodes/lib/thresholds')) as typeof import('../../nodes/lib/thresholds');
const zscore = require(path.join(ROOT, 'dist/nodes/lib/zscore')) as typeof import('../../nodes/lib/zscore');
const fire = require(path.join(ROOT, 'dist/nodes/lib/fire-pattern')) as typeof import('../../nodes/lib/fire-pattern');
const { CsvWriter } = require(path.join(ROOT, 'dist/nodes/csv-sink/writer')) as typeof import('../../nodes/csv-sink/writer');
import type { Alert, Reading } from '../../nodes/lib/types';

/** The data file as the pipeline sees it: Kaggle JSON records through sensor validate, 100 devices. */
function loadReadings(): Reading[] {
  const rows: Record<string, string>[] = parse(fs.readFileSync(DATA_FILE, 'utf8'), { columns: true });
  const v = reading.createValidator();
  const out: Reading[] = [];
  rows.forEach((row, i) => {
    const rec: Record<string, unknown> = { device_id: `sensor-${(i % 100) + 1}` };
    for (const [k, x] of Object.entries(row)) if (k !== '') rec[k] = Number(x);
    const r = v.validate(JSON.parse(JSON.stringify(rec)), {});
    if (r.ok) out.push(r.reading);
  });
  return out;
}

/** Best of `rounds` timings of `f`, in ns per unit (`units` per call). */
function best(units: number, f: () => void, rounds = 7): number {
  f();
  f();
  let min = Infinity;
  for (let i = 0; i < rounds; i++) {
    const t0 = process.hrtime.bigint();
    f();
    min = Math.min(min, Number(process.hrtime.bigint() - t0) / units);
  }
  return min;
}

function line(label: string, value: number, unit: string): void {
  console.log(`${label.padEnd(58)} ${value.toFixed(value < 10 ? 2 : 0).padStart(8)} ${unit}`);
}

async function writerJobs(readings: Reading[]): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hot-path-'));
  try {
    const w = new CsvWriter({ folder: dir, fsync: false });
    const f = new csv.CsvFormatter(csv.layoutFor('readings'), false);
    const names = new Map<string, string>();
    const c0 = process.cpuUsage();
    await new Promise<void>((resolve) => {
      let left = readings.length;
      let i = 0;
      const step = (): void => {
        for (let k = 0; k < 1000 && i < readings.length; k++, i++) {
          const segments = f.format([readings[i]], 0).map((c) => {
            let file = names.get(c.date);
            if (file === undefined) names.set(c.date, (file = csv.fileName('readings_{date}.csv', c.date)));
            return { file, header: f.layout.header, text: c.text, rows: c.rows };
          });
          w.enqueue(segments, () => {
            if (--left === 0) resolve();
          });
        }
        if (i < readings.length) setImmediate(step);
      };
      step();
    });
    const c = process.cpuUsage(c0);
    await w.close();
    return ((c.user + c.system) * 1000) / readings.length;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const readings = loadReadings();
  const n = readings.length;
  console.log(`${n.toLocaleString('en')} readings of ${path.basename(DATA_FILE)}, 100 devices; best of 7 rounds`);

  const f = new csv.CsvFormatter(csv.layoutFor('readings'), false);
  const batches: Reading[][] = [];
  for (let i = 0; i < n; i += 1000) batches.push(readings.slice(i, i + 1000));
  line('csv: readings rows, batches of 1,000', best(n, () => batches.forEach((b) => f.format(b, 0))), 'ns/row');
  line('csv: readings rows, one per format() (single messages)', best(n, () => readings.forEach((r) => f.format([r], 0))), 'ns/row');
  const layout = csv.layoutFor('readings');
  line('csv: line() per row (string path, other layouts)', best(n, () => readings.forEach((r) => layout.line(r))), 'ns/row');

  const sensorValues = readings.flatMap((r) => [r.temperature, r.humidity, r.pressure, r.nc1_0] as number[]);
  const doubles = sensorValues.map((x, i) => x / 7 + i * 1e-9);
  line('fmt: sensor values (≤ 3 decimals)', best(sensorValues.length, () => sensorValues.forEach((x) => detector.fmt(x))), 'ns/call');
  line('fmt: full doubles (z, mean, σ)', best(doubles.length, () => doubles.forEach((x) => detector.fmt(x))), 'ns/call');

  const out: Alert[] = [];
  const each = (d: { process(r: Reading, now: number, out: Alert[]): number }) => () => {
    for (let i = 0; i < n; i++) {
      d.process(readings[i], 0, out);
      if (out.length >= 1000) out.length = 0;
    }
    out.length = 0;
  };
  line('detector: threshold alert', best(n, each(new thresholds.ThresholdDetector())), 'ns/reading');
  line('detector: zscore anomaly', best(n, each(new zscore.ZScoreDetector())), 'ns/reading');
  line('detector: fire pattern', best(n, each(new fire.FirePatternDetector())), 'ns/reading');

  const jobs: number[] = [];
  for (let i = 0; i < 5; i++) jobs.push(await writerJobs(readings));
  line('csv sink queue: single-row jobs (format + queue + write)', Math.min(...jobs) / 1000, 'µs CPU/row');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
