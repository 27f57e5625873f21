/**
 * The package's main export (nodes/lib/index.ts → package.json `main`): every export is there and
 * works, the built file that `require('@smoke-stream/node-red-smoke-stream')` loads offers the same
 * names, and every example in docs/api.md runs against the build and prints what the page says.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as api from '../../nodes/lib/index';
import type { Alert, WindowResult } from '../../nodes/lib/index';

const root = path.resolve(__dirname, '..', '..');
const DATA = path.resolve(__dirname, '../../../shared/data/smoke_detection_iot.csv');
const T0 = Date.UTC(2024, 0, 1);

/** A complete canonical reading with quiet values. */
function quiet(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    deviceId: 'd1',
    timestamp: T0,
    temperature: 21,
    humidity: 45,
    tvoc: 100,
    eco2: 420,
    rawH2: 12300,
    rawEthanol: 18500,
    pressure: 939.7,
    pm1_0: 1,
    pm2_5: 2,
    nc0_5: 10,
    nc1_0: 1,
    nc2_5: 0.1,
    cnt: 0,
    fireAlarm: 0,
    ...over,
  };
}

describe('api > the exports of nodes/lib/index', function () {
  it('validates readings: default validator, configured validator, zod specification, field tables', function () {
    const ok = api.validateReading(quiet({ temperature: '22.5' }));
    assert.ok(ok.ok && ok.reading.temperature === 22.5);
    const bad = api.validateReading(quiet({ humidity: 120 }));
    assert.ok(!bad.ok);
    assert.deepEqual(
      bad.errors.map((e) => e.code),
      ['out-of-range'],
    );
    const fill = api.createReadingValidator({ missing: 'fill' }).validate({ deviceId: 'd1' }, { arrival: T0 });
    assert.ok(fill.ok && fill.reading.pressure === 1013.25 && fill.reading.timestamp === T0);
    const schema = api.validateReadingWithSchema(quiet({ humidity: 120 }));
    assert.ok(!schema.ok && schema.errors[0].code === 'out-of-range');
    assert.equal(api.readingSchema().safeParse(quiet()).success, true);
    assert.equal(api.SENSOR_FIELDS.length, 14);
    assert.equal(api.KAGGLE_HEADERS.temperature, 'Temperature[C]');
    assert.equal(api.DEFAULT_DEVICE_ID, 'default');
    assert.equal(api.MAX_DEVICE_ID_LENGTH, 128);
    assert.equal(api.DEFAULT_MAX_READING_BYTES, 65536);
    assert.ok(api.SENSOR_KEYS.includes('pm2_5') && api.NUMERIC_SENSORS.length === 12);
    assert.deepEqual(Object.keys(api.SENSOR_TABLE), api.SENSOR_KEYS);
    assert.deepEqual(api.ZSCORE_DEFAULT_SENSORS, api.NUMERIC_SENSORS);
    assert.deepEqual(api.SEVERITIES, ['MEDIUM', 'HIGH', 'CRITICAL']);
    assert.ok(api.SEVERITY_RANK.CRITICAL > api.SEVERITY_RANK.HIGH);
  });

  it('detects: thresholds, rolling z-score, fire pattern, with their defaults and problem checks', function () {
    const r = api.validateReading(quiet({ tvoc: 1200, eco2: 900, temperature: 50.5 }));
    assert.ok(r.ok);
    const out: Alert[] = [];
    assert.equal(new api.ThresholdDetector().process(r.reading, T0, out), 3);
    assert.deepEqual(
      out.map((a) => `${a.sensor} ${a.severity}`),
      ['temperature HIGH', 'tvoc HIGH', 'eco2 MEDIUM'],
    );
    assert.equal(new api.FirePatternDetector().process(r.reading, T0, out), 1);
    assert.deepEqual(out[3].indicators, ['temperature', 'tvoc', 'eco2']);
    assert.equal(out[3].severity, 'CRITICAL');
    assert.equal(api.DEFAULT_THRESHOLD_RULES.length, api.defaultThresholdRules().length);
    assert.deepEqual(api.parseThresholdRules([{ sensor: 'tvoc', op: '>', bound: 'x', severity: 'HIGH' }]).problems.length, 1);
    assert.deepEqual(api.ZSCORE_DEFAULTS, { windowSize: 100, minValues: 30, zMedium: 3, zHigh: 4 });
    assert.ok(api.zscoreProblems({ windowSize: 1 }).length > 0);
    assert.ok(api.firePatternProblems({ bounds: { smoke: 1 } as never }).length > 0);
    assert.deepEqual(api.FIRE_INDICATORS, ['temperature', 'tvoc', 'eco2', 'pm2_5']);
    assert.equal(api.DEFAULT_FIRE_BOUNDS.tvoc, 800);
    assert.ok(api.DEFAULT_MAX_DEVICES > 0 && api.DEFAULT_IDLE_MS > 0);

    const z = new api.ZScoreDetector({ sensors: ['eco2'] });
    const series = new api.RollingZScore();
    const zs: Alert[] = [];
    let last: number | null = null;
    for (let i = 0; i <= 40; i++) {
      const eco2 = i < 40 ? 400 + (i % 5) : 650;
      z.process({ ...quiet(), eco2, timestamp: T0 + i * 1000 } as never, T0, zs);
      last = series.push(eco2);
    }
    assert.equal(zs.length, 1);
    assert.equal(zs[0].type, 'STATISTICAL');
    assert.equal(zs[0].zScore, last);
  });

  it('aggregates sliding windows and routes late readings', function () {
    assert.deepEqual(api.windowOptionProblems({ sizeMs: 90_000, slideMs: 60_000, delayMs: 0 }).length, 1);
    const w = new api.SlidingWindows({ sizeMs: 120_000, slideMs: 60_000, delayMs: 0 });
    const out: WindowResult[] = [];
    for (let s = 0; s <= 180; s += 30) assert.equal(w.add({ deviceId: 'd1', temperature: 20 + s / 60, fireAlarm: 0 }, T0 + s * 1000, 0, out), true);
    assert.equal(w.add({ deviceId: 'd1', temperature: 99 }, T0, 0, out), false, 'late');
    assert.ok(out.length > 0 && out.every((r) => r.final && r.deviceId === 'd1'));
    assert.ok(api.DEFAULT_AGGREGATES.length > 0 && api.AGGREGATE_KEYS.includes('avgTemperature'));
    assert.deepEqual(api.parseAggregates('avgTemperature, maxPm25').problems, []);
  });

  it('formats CSV rows, file names and neutralised cells', function () {
    const f = new api.CsvFormatter(api.csvLayout('readings'), false);
    const r = api.validateReading(quiet({ deviceId: '@x' }));
    assert.ok(r.ok);
    const [chunk] = f.format([r.reading], T0);
    assert.equal(chunk.rows, 1);
    assert.ok(chunk.text.endsWith(",'@x\n"));
    assert.equal(f.layout.header, api.csvHeaderLine(api.CSV_READINGS_HEADER));
    assert.equal(api.csvFileName(api.CSV_DEFAULT_FILE_PATTERN.readings, chunk.date), 'historical_smoke_data_2024-01-01.csv');
    assert.equal(api.csvLine(['a,b', null, 1]), '"a,b",NULL,1');
    assert.equal(api.csvCell('=1+1'), "'=1+1");
    assert.equal(api.neutraliseCsvText('+x'), "'+x");
    assert.ok(api.CSV_PRESETS.includes('alerts') && api.CSV_WINDOW_COLUMNS.includes('avgPm25') && api.CSV_ALERT_COLUMNS.includes('severity'));
    assert.throws(() => f.format([42], T0), api.CsvRowError);
  });

  it('simulates detectors and parses durations', function () {
    assert.deepEqual(api.simDeviceIds('s-{n}', 2, 3), ['s-001', 's-002']);
    assert.ok(api.simOptionProblems({ devices: 0 }).length > 0);
    assert.equal(api.SIM_DEFAULTS.devices, 10);
    const sim = new api.SensorSim({ devices: 2, seed: 3, shape: 'canonical' });
    const readings = sim.tick(T0);
    assert.equal(readings.length, 2);
    assert.ok(readings.every((x) => api.validateReading(x).ok));
    const clock = new api.SimClock(1, 1);
    clock.start(T0);
    assert.deepEqual(clock.due(T0 + 2000), [T0, T0 + 1000, T0 + 2000]);
    assert.equal(api.parseDuration('5 minutes'), 300_000);
  });
});

describe('api > the built package (package.json main)', function () {
  it('requires the package root and finds the same exports as the TypeScript source', function () {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    assert.equal(pkg.main, 'dist/nodes/lib/index.js');
    assert.ok(fs.existsSync(path.join(root, pkg.main)), 'build first (node scripts/build.js)');
    assert.ok(fs.existsSync(path.join(root, pkg.types)), 'type declarations are built');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const built = require(root);
    assert.deepEqual(Object.keys(built).sort(), Object.keys(api).sort());
    assert.equal(built.validateReading({ deviceId: 'x' }).ok, false);
  });
});

describe('api > docs/api.md examples run against the build', function () {
  this.timeout(60_000);
  let dir: string;

  before(function () {
    assert.ok(fs.existsSync(path.join(root, 'dist', 'nodes', 'lib', 'index.js')), 'build first (node scripts/build.js)');
    // A folder where the package is installed (a link, as npm link makes) and the data file is at data/.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-api-'));
    fs.mkdirSync(path.join(dir, 'node_modules', '@smoke-stream'), { recursive: true });
    fs.symlinkSync(root, path.join(dir, 'node_modules', '@smoke-stream', 'node-red-smoke-stream'), 'dir');
    fs.mkdirSync(path.join(dir, 'data'));
    fs.symlinkSync(DATA, path.join(dir, 'data', 'smoke_detection_iot.csv'));
  });

  after(function () {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Fenced blocks: `sh` and `js` ones are examples; a `text` block right after one is its output. */
  const doc = fs.readFileSync(path.join(root, 'docs', 'api.md'), 'utf8');
  const blocks = [...doc.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1], body: m[2] }));
  const examples = blocks.flatMap((b, i) => (b.lang === 'sh' || b.lang === 'js' ? [{ ...b, output: blocks[i + 1]?.lang === 'text' ? blocks[i + 1].body : null }] : []));

  it('has examples, each with its output', function () {
    assert.ok(examples.length >= 6);
    for (const e of examples) assert.notEqual(e.output, null, `an output block after:\n${e.body}`);
  });

  examples.forEach((e, i) => {
    it(`example ${i + 1} (${e.lang}: ${e.body.split('\n').find((l) => /\S/.test(l) && !/^(node -e "|const s = require)/.test(l))?.slice(0, 60)})`, function () {
      const env = { ...process.env };
      delete env.NODE_OPTIONS; // run as a user would, without the test runner's loader
      let stdout: string;
      if (e.lang === 'sh') stdout = execFileSync('bash', ['-e', '-c', e.body], { cwd: dir, env, encoding: 'utf8' });
      else {
        const file = path.join(dir, `example-${i}.js`);
        fs.writeFileSync(file, e.body);
        stdout = execFileSync(process.execPath, [file], { cwd: dir, env, encoding: 'utf8' });
      }
      assert.equal(stdout, e.output);
    });
  });
});
