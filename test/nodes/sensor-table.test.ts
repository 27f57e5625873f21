/**
 * Adding a sensor is one line in the sensor table (issue 16 point 1). The proof: the package's nodes/
 * sources are copied to a temporary folder, ONE row is added to SENSOR_TABLE (nodes/lib/sensor-fields.ts)
 * and nothing else, the copy is built with the package's build (tsc, type check included: the `Reading`
 * type and every exhaustive use of it follow the table; the help pages that name the sensors list it),
 * and readings that carry the new sensor run through the copy's
 * real nodes in Node-RED: sensor validate range-checks it (an out-of-range or absent value goes to
 * output 2), z-score anomaly scores it by default (an outlier alerts on it), sliding window averages it
 * when its aggregate is configured (`avgCo`: the contract's default result columns are fixed, CONTRACT
 * §5), and csv sink writes its column in the readings file (after the contract's 14 sensors, before
 * `device_id`: table order). The sim, which models the contract's sensors only, sends the new one's
 * fill default. The build of the copy takes about 10 s.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { DEFAULT_AGGREGATES } from '../../nodes/lib/panes';
import { KAGGLE_HEADERS } from '../../nodes/lib/sensor-fields';
import { helper, root } from './_helper';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Msg = Record<string, any>;

/** The one line the proof adds: a carbon monoxide sensor, z-scored by default. */
const NEW_ROW = "  co: { header: 'CO[ppm]', unit: 'ppm', min: 0, max: 1000, fill: 0, kind: 'measure', zscore: true },";
const TABLE_FILE = path.join('nodes', 'lib', 'sensor-fields.ts');

/** Every file under `dir`, as paths relative to it. */
function filesUnder(dir: string, rel = ''): string[] {
  return fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    const p = path.join(rel, e.name);
    return e.isDirectory() ? filesUnder(dir, p) : [p];
  });
}

/** A quiet reading with every contract sensor constant (σ = 0: never an alert), at second `i` after noon. */
function quiet(i: number, co: unknown): Record<string, unknown> {
  const r: Record<string, unknown> = {
    deviceId: 'd1', timestamp: Date.UTC(2022, 5, 9, 12) + i * 1000, temperature: 20, humidity: 50, tvoc: 0, eco2: 400, rawH2: 12000,
    rawEthanol: 19000, pressure: 935, pm1_0: 0, pm2_5: 0, nc0_5: 0, nc1_0: 0, nc2_5: 0, cnt: i, fireAlarm: 0,
  };
  if (co !== undefined) r.co = co;
  return r;
}

/** The same reading as the seed sends it: the data file's headers (and `CO[ppm]`), UTC in seconds. */
function kaggle(r: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) out[k === 'co' ? 'CO[ppm]' : k === 'timestamp' ? 'UTC' : KAGGLE_HEADERS[k]] = k === 'timestamp' ? (v as number) / 1000 : v;
  return out;
}

describe('sensor table > adding a sensor is one line in the table', function () {
  this.timeout(180000);
  let tmp: string;
  let load: (name: string) => unknown;
  let lib: (name: string) => any;

  before(async function () {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sensor-table-'));
    fs.cpSync(path.join(root, 'nodes'), path.join(tmp, 'nodes'), { recursive: true });
    for (const f of ['tsconfig.json', 'tsconfig.build.json']) fs.copyFileSync(path.join(root, f), path.join(tmp, f));
    fs.symlinkSync(fs.realpathSync(path.join(root, 'node_modules')), path.join(tmp, 'node_modules'), 'dir');
    const table = path.join(tmp, TABLE_FILE);
    const lines = fs.readFileSync(table, 'utf8').split('\n');
    const last = lines.findIndex((l) => l.startsWith('  fireAlarm: {'));
    assert.ok(last > 0, 'the table has its fireAlarm row');
    lines.splice(last + 1, 0, NEW_ROW);
    fs.writeFileSync(table, lines.join('\n'));
    // The package's own build (tsc, then the editors, locales and help pages next to the code).
    fs.mkdirSync(path.join(tmp, 'scripts'));
    for (const f of ['build.js', 'editor-parts.js']) fs.copyFileSync(path.join(root, 'scripts', f), path.join(tmp, 'scripts', f));
    await promisify(execFile)(process.execPath, [path.join('scripts', 'build.js')], { cwd: tmp }).catch((err) => {
      throw new Error(`the build failed on the copy with the new row:\n${err.stdout}${err.stderr}`);
    });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    load = (name) => require(path.join(tmp, 'dist', 'nodes', name, `${name}.js`));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    lib = (name) => require(path.join(tmp, 'dist', 'nodes', 'lib', `${name}.js`));
  });

  after(async function () {
    await helper.unload();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('changes one line of one file: the row', function () {
    const changed = filesUnder(path.join(tmp, 'nodes')).filter(
      (f) => !fs.readFileSync(path.join(tmp, 'nodes', f)).equals(fs.readFileSync(path.join(root, 'nodes', f))),
    );
    assert.deepEqual(changed, [path.relative('nodes', TABLE_FILE)]);
    const before = fs.readFileSync(path.join(root, TABLE_FILE), 'utf8').split('\n');
    const after = fs.readFileSync(path.join(tmp, TABLE_FILE), 'utf8').split('\n');
    assert.deepEqual(after.filter((l) => !before.includes(l)), [NEW_ROW]);
    assert.equal(after.length, before.length + 1);
  });

  it("lists it in the help pages that name the reading's sensors (sensor validate's output, the sim's canonical shape)", function () {
    const help = (node: string) => fs.readFileSync(path.join(tmp, 'dist', 'nodes', node, 'locales', 'en-US', `${node}.html`), 'utf8');
    assert.match(help('sensor-validate'), /\{ deviceId, timestamp, temperature, [^}]*, fireAlarm, co, location\? \}/);
    assert.match(help('sensor-sim'), /<code>fireAlarm<\/code>, <code>co<\/code>\./);
    for (const node of ['sensor-validate', 'sensor-sim']) assert.doesNotMatch(help(node), /sensor-keys/, `${node}: a marker left unfilled`);
  });

  it('the sim, which does not model it, sends its fill default: its readings stay valid in both shapes', function () {
    const validator = lib('reading-validator').createValidator();
    for (const shape of ['kaggle', 'canonical']) {
      const readings = new (lib('sim').SensorSim)({ devices: 3, shape, seed: 7 }).tick(Date.UTC(2022, 5, 9, 12));
      assert.deepEqual(
        readings.map((r: Msg) => r[shape === 'kaggle' ? 'CO[ppm]' : 'co']),
        [0, 0, 0],
      );
      for (const r of readings) assert.equal(validator.validate(r).ok, true, JSON.stringify(r));
    }
  });

  it('validates, z-scores, windows and writes the new sensor in the built nodes', async function () {
    const csvDir = path.join(tmp, 'csv');
    const flow = [
      { id: 'val', type: 'smoke-sensor-validate', wires: [['z'], ['rejects']] },
      { id: 'z', type: 'smoke-zscore-anomaly', state: 'none', wires: [['win', 'sink'], ['alerts']] },
      { id: 'win', type: 'smoke-sliding-window', size: '1 minute', slide: '1 minute', state: 'none', aggregates: `${DEFAULT_AGGREGATES.join(', ')}, avgCo, maxCo`, wires: [['windows'], []] },
      { id: 'sink', type: 'smoke-csv-sink', folder: csvDir, flushInterval: 20, exactlyOnce: 'off', wires: [['written']] },
      { id: 'rejects', type: 'helper' },
      { id: 'alerts', type: 'helper' },
      { id: 'windows', type: 'helper' },
      { id: 'written', type: 'helper' },
    ];
    await helper.load(['sensor-validate', 'zscore-anomaly', 'sliding-window', 'csv-sink'].map(load), flow);
    const got: Record<string, Msg[]> = { rejects: [], alerts: [], windows: [], written: [] };
    for (const id of Object.keys(got)) helper.getNode(id).on('input', (m: Msg) => got[id].push(m));

    // 40 quiet readings with a varying CO level, then an outlier, then one out of range and one without CO;
    // every other one in the data file's shape (the header CO[ppm]), the rest with canonical keys.
    const co = Array.from({ length: 40 }, (_, i) => 5 + (i % 4) * 0.25);
    co.push(60);
    const inputs = [...co.map((v, i) => quiet(i, v)), quiet(41, 5000), quiet(42, undefined)].map((r, i) => (i % 2 === 0 ? kaggle(r) : r));
    const valid = co.length;
    const allWritten = new Promise<void>((resolve) => helper.getNode('written').on('input', () => got.written.length === valid && resolve()));
    for (const payload of inputs) helper.getNode('val').receive({ payload });
    await allWritten;

    // validate: the new sensor's range and presence are checked like any other.
    assert.deepEqual(
      got.rejects.map((m) => m.validation.errors.map((e: Msg) => [e.field, e.code])),
      [[['co', 'out-of-range']], [['co', 'missing']]],
    );
    assert.match(got.rejects[0].validation.errors[0].message, /co must be between 0 and 1000 ppm \(got 5000\)/);

    // z-score: scored by default (the row says zscore: true); the outlier alerts on it and on nothing else.
    assert.deepEqual(
      got.alerts.map((m) => [m.payload.type, m.payload.sensor, m.payload.value, m.payload.severity]),
      [['STATISTICAL', 'co', 60, 'HIGH']],
    );

    // sliding window: its aggregates are accepted and computed (flush emits the open window).
    const windowed = new Promise<void>((resolve) => helper.getNode('windows').on('input', () => resolve()));
    helper.getNode('win').receive({ flush: true });
    await windowed;
    const w = got.windows[0].payload;
    assert.equal(w.count, valid);
    assert.equal(w.maxCo, 60);
    assert.ok(Math.abs(w.avgCo - co.reduce((a, b) => a + b, 0) / valid) < 1e-9, `avgCo ${w.avgCo}`);

    // csv sink: the readings file has the new column, after the contract's 14 sensors, before device_id.
    const lines = fs.readFileSync(path.join(csvDir, 'historical_smoke_data_2022-06-09.csv'), 'utf8').trim().split('\n');
    assert.equal(
      lines[0],
      'UTC,Temperature[C],Humidity[%],TVOC[ppb],eCO2[ppm],Raw H2,Raw Ethanol,Pressure[hPa],PM1.0,PM2.5,NC0.5,NC1.0,NC2.5,CNT,Fire Alarm,CO[ppm],device_id',
    );
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(',').slice(-2)),
      co.map((v) => [String(v), 'd1']),
    );
  });
});
