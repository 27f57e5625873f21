/**
 * Micro-benchmark of the per-sensor hot paths (issue 16 point 1: they are compiled from the sensor
 * table), over the data file's 62,630 readings: validate (the data file's headers, as the seed sends
 * them), readSensors (threshold / z-score / fire pattern), a window pane's add (default aggregates) and
 * the readings CSV row (bytes and text). No Node-RED, no Kafka; it loads the built lib (dist/, `npm run
 * build` first):
 *
 *   node --import tsx bench/sensor-paths.ts [--rounds 20] [--against <dir>]
 *
 * `--against` names another checkout with its own build (dist/), e.g. the commit before a change: both
 * run in this process, alternated round by round on the same input objects (separate processes, or
 * readings allocated apart, differ by more than the change on a shared machine). Prints the median CPU
 * time per reading of each part (CPU, not wall clock: on a busy machine the wall clock mostly measures
 * the wait for a core); the first 3 rounds warm up.
 */
import * as path from 'node:path';
import { loadDataset, readingAt } from './lib/dataset';

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-require-imports */

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const rounds = Number(arg('--rounds') ?? 20);
const against = arg('--against');
const WARMUP = 3;

const ds = loadDataset();
const inputs = Array.from({ length: ds.rows }, (_, n) => readingAt(ds, n, 10));

/** The parts of one build (the lib under `dir`/dist), run over the shared inputs. */
function parts(dir: string, canonical: readonly object[] | null): { canonical: object[]; run: Record<string, () => number> } {
  const lib = (m: string): any => require(path.join(dir, 'dist', 'nodes', 'lib', m));
  const validator = lib('reading-validator').createValidator();
  // Copies (JSON round trip) of the validated readings, kept for the other parts: keeping the validator's
  // own objects would make V8 pretenure its allocation site, and the validator measure twice as slow.
  const readings: object[] = (canonical as object[] | null) ?? inputs.map((k) => {
    const r = validator.validate(k);
    if (!r.ok) throw new Error(`data file reading rejected: ${JSON.stringify(r.errors)}`);
    return JSON.parse(JSON.stringify(r.reading));
  });
  const { readSensors } = lib('detector');
  const panes = lib('panes');
  const layout = new panes.PaneLayout(panes.parseAggregates(undefined).specs);
  const pane = new Float64Array(layout.stride);
  const vals = new Float64Array(64);
  const csv = lib('csv-layouts').layoutFor('readings');
  const bytes = new (lib('csv-bytes').CsvBytes)();
  return {
    canonical: readings,
    run: {
      validate: () => inputs.reduce((n: number, k) => n + (validator.validate(k).ok ? 1 : 0), 0),
      readSensors: () => {
        let s = 0;
        for (const r of readings) {
          readSensors(r, vals);
          s += vals[0];
        }
        return s;
      },
      'pane add': () => {
        pane.fill(0);
        for (const r of readings) layout.add(pane, 0, r);
        return pane[0];
      },
      'csv row (bytes)': () => {
        for (const r of readings) csv.writeRow(r, bytes);
        return bytes.take().length;
      },
      'csv row (text)': () => readings.reduce((n: number, r) => n + csv.line(r).length, 0),
    },
  };
}

const root = path.resolve(__dirname, '..');
const here = parts(root, null);
const sides: [string, Record<string, () => number>][] = [['this', here.run]];
if (against !== undefined) sides.push([`against`, parts(path.resolve(against), here.canonical).run]);

const times = new Map<string, number[]>();
let sink = 0;
for (let round = 0; round < rounds; round++) {
  for (const part of Object.keys(here.run)) {
    for (const [side, run] of round % 2 === 0 ? sides : [...sides].reverse()) {
      const c0 = process.cpuUsage();
      sink += run[part]();
      const c = process.cpuUsage(c0);
      const key = `${part}\t${side}`;
      if (!times.has(key)) times.set(key, []);
      times.get(key)!.push(((c.user + c.system) * 1000) / inputs.length);
    }
  }
}
const median = (xs: number[]): number => {
  const s = xs.slice(WARMUP).sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
console.log(`${inputs.length} readings, ${rounds} rounds; median CPU ns per reading${against ? ` (against: ${against})` : ''}`);
for (const part of Object.keys(here.run)) {
  const cells = sides.map(([side]) => `${side} ${median(times.get(`${part}\t${side}`)!).toFixed(1).padStart(7)}`);
  console.log(`${part.padEnd(16)} ${cells.join('   ')}`);
}
if (sink === 0.5) console.log('');
