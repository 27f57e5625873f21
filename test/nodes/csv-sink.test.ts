import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import { restoreText } from '../../nodes/lib/csv-cells';
import type { Reading } from '../../nodes/lib/types';
import { KAGGLE_TO_CANONICAL, loadReadings } from '../fixtures/csv-readings';
import { helper, nodeModule, root } from './_helper';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Msg = Record<string, any>;

const sinkModule = nodeModule('csv-sink');
// The ack registry the built node uses (a process-wide module: the same file kafka in loads).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { registerConsumer, unregisterConsumer } = require(path.join(root, 'dist', 'nodes', 'nr', 'ack.js')) as typeof import('../../nodes/nr/ack');
const HEADER =
  'UTC,Temperature[C],Humidity[%],TVOC[ppb],eCO2[ppm],Raw H2,Raw Ethanol,Pressure[hPa],PM1.0,PM2.5,NC0.5,NC1.0,NC2.5,CNT,Fire Alarm,device_id';

/** A CSV file's records as text (a NULL cell stays the text NULL). */
function readCsv(file: string): (string | null)[][] {
  return parse(fs.readFileSync(file, 'utf8'));
}

/** A CSV file's data rows as header → cell (read as a spreadsheet or a script does: by column name, not position). */
function readCsvByName(file: string): Record<string, string>[] {
  const [header, ...rows] = parse(fs.readFileSync(file, 'utf8')) as string[][];
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
}

/** csv-parse keeping an unquoted NULL (null) apart from the text "NULL" (slow: small files only). */
function readCsvNulls(file: string): (string | null)[][] {
  return parse(fs.readFileSync(file, 'utf8'), {
    cast: (v: string, ctx: { quoting: boolean }) => (!ctx.quoting && v === 'NULL' ? null : v),
  });
}

function reading(over: Partial<Reading> = {}): Reading {
  return {
    deviceId: 'd1', timestamp: Date.UTC(2022, 5, 9, 12), temperature: 20, humidity: 50, tvoc: 0, eco2: 400,
    rawH2: 12000, rawEthanol: 19000, pressure: 935, pm1_0: 0, pm2_5: 0, nc0_5: 0, nc1_0: 0, nc2_5: 0, cnt: 0, fireAlarm: 0,
    ...over,
  };
}

/** A reading as it reads back from the file (numbers parsed, device id with neutralising undone). */
function fromRow(row: (string | null)[]): Record<string, unknown> {
  const r: Record<string, unknown> = { timestamp: Math.round(Number(row[0]) * 1000) };
  KAGGLE_TO_CANONICAL.forEach(([, key], i) => (r[key] = row[i + 1] === null || row[i + 1] === 'NULL' ? null : Number(row[i + 1])));
  r.deviceId = restoreText(row[15] as string);
  return r;
}

function pick(r: Reading): Record<string, unknown> {
  const out: Record<string, unknown> = { timestamp: r.timestamp };
  for (const [, key] of KAGGLE_TO_CANONICAL) out[key] = r[key];
  out.deviceId = r.deviceId;
  return out;
}

let dir: string;

function sinkFlow(cfg: Record<string, unknown> = {}): Record<string, unknown>[] {
  return [
    { id: 'sink', type: 'smoke-csv-sink', folder: dir, flushInterval: 20, ...cfg, wires: [['out']] },
    { id: 'out', type: 'helper' },
  ];
}

/**
 * Sends the messages into the sink and resolves with the messages that came out of output 1 and the
 * errors reported through done(err), once every input is accounted for.
 */
function run(msgs: Msg[]): Promise<{ out: Msg[]; errors: { err: Error; msg: Msg }[] }> {
  const sink = helper.getNode('sink');
  const out = helper.getNode('out');
  const got: Msg[] = [];
  const errors: { err: Error; msg: Msg }[] = [];
  return new Promise((resolve) => {
    const check = () => {
      if (got.length + errors.length === msgs.length) resolve({ out: got, errors });
    };
    out.on('input', (m: Msg) => {
      got.push(m);
      check();
    });
    sink.on('call:error', (call: { args: [Error | string, Msg] }) => {
      const [e, m] = call.args;
      errors.push({ err: e instanceof Error ? e : new Error(String(e)), msg: m });
      check();
    });
    for (const m of msgs) sink.receive(m);
  });
}

function statuses(): { fill?: string; text?: string }[] {
  const sink = helper.getNode('sink');
  return sink.status.getCalls().map((c: { args: [{ fill?: string; text?: string }] }) => c.args[0]);
}

describe('csv-sink > real data', function () {
  this.timeout(120000);
  const readings = loadReadings();

  before(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csv-sink-'));
  });
  after(async function () {
    await helper.unload();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes all 62,630 readings in batches; they read back equal, one file per UTC day, one header each', async function () {
    await helper.load(sinkModule, sinkFlow());
    const batches: Msg[] = [];
    for (let i = 0; i < readings.length; i += 1000) batches.push({ payload: readings.slice(i, i + 1000), seq: i });
    const t0 = process.hrtime.bigint();
    const { out, errors } = await run(batches);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    assert.deepEqual(errors, []);
    assert.deepEqual(out.map((m) => m.seq), batches.map((b) => b.seq), 'every batch passed on once, in order');
    assert.equal(out[0], batches[0], 'the input message itself');

    // Expected rows per UTC day, in input order.
    const byDay = new Map<string, Reading[]>();
    for (const r of readings) {
      const d = new Date(r.timestamp).toISOString().slice(0, 10);
      if (!byDay.has(d)) byDay.set(d, []);
      byDay.get(d)!.push(r);
    }
    const files = fs.readdirSync(dir).sort();
    assert.deepEqual(files, [...byDay.keys()].sort().map((d) => `historical_smoke_data_${d}.csv`));
    let total = 0;
    for (const [d, expected] of byDay) {
      const rows = readCsv(path.join(dir, `historical_smoke_data_${d}.csv`));
      assert.equal(rows[0].join(','), HEADER);
      assert.equal(rows.filter((r) => r[0] === 'UTC').length, 1, 'one header');
      const back = rows.slice(1).map(fromRow);
      assert.equal(back.length, expected.length);
      // Compare as JSON text (same key order) and report the first differences: 62,630 deepEqual calls are slow.
      const diffs: string[] = [];
      back.forEach((r, i) => {
        const [a, b] = [JSON.stringify(r), JSON.stringify(pick(expected[i]))];
        if (a !== b && diffs.length < 5) diffs.push(`${d} row ${i}: ${a} != ${b}`);
      });
      assert.deepEqual(diffs, []);
      total += back.length;
    }
    assert.equal(total, 62630);
    console.log(`      csv sink node: ${readings.length} readings in ${ms.toFixed(0)} ms = ${Math.round(readings.length / (ms / 1000))} rows/s (fsync on)`);
  });
});

describe('csv-sink > rows and messages', function () {
  this.timeout(20000);
  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csv-sink-'));
  });
  afterEach(async function () {
    await helper.unload();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('round-trips device ids with commas, quotes, newlines, unicode and formula-like text', async function () {
    const ids = ['plain', 'a,b', 'say "hi"', 'two\nlines', 'cr\r\nlf', 'héllo 🔥 中文', '=SUM(A1)', '+1+2', '-cmd', '@x', '\tx', "'=x", 'NULL', ''];
    await helper.load(sinkModule, sinkFlow());
    const msgs = ids.map((id, i) => ({ payload: reading({ deviceId: id, cnt: i, temperature: -5.2 + i, humidity: i % 2 ? null : 50 }) }));
    const { out, errors } = await run(msgs);
    assert.deepEqual(errors, []);
    assert.equal(out.length, ids.length);
    const rows = readCsvNulls(path.join(dir, 'historical_smoke_data_2022-06-09.csv'));
    assert.equal(rows.length, ids.length + 1);
    rows.slice(1).forEach((row, i) => assert.deepEqual(fromRow(row), pick(msgs[i].payload)));
    const text = fs.readFileSync(path.join(dir, 'historical_smoke_data_2022-06-09.csv'), 'utf8');
    assert.match(text, /\n1654776000,-5\.2,50,/, 'a negative number is written as is');
    assert.match(text, /,'=SUM\(A1\)\n/, 'formula-like text gets a leading quote');
  });

  it('rolls over at UTC midnight inside a batch, and passes the batch on once after both files are written', async function () {
    await helper.load(sinkModule, sinkFlow());
    const mid = Date.UTC(2022, 5, 10);
    const batch = [-2000, -1000, -1, 0, 1000, 2500].map((d, i) => reading({ timestamp: mid + d, cnt: i }));
    const { out, errors } = await run([{ payload: batch }]);
    assert.deepEqual(errors, []);
    assert.equal(out.length, 1);
    assert.equal(out[0].payload, batch);
    const before = readCsv(path.join(dir, 'historical_smoke_data_2022-06-09.csv'));
    const after = readCsv(path.join(dir, 'historical_smoke_data_2022-06-10.csv'));
    assert.equal(before[0].join(','), HEADER);
    assert.equal(after[0].join(','), HEADER);
    assert.deepEqual(before.slice(1).map((r) => r[0]), ['1654819198', '1654819199', '1654819199.999']);
    assert.deepEqual(after.slice(1).map((r) => r[0]), ['1654819200', '1654819201', '1654819202.5']);
  });

  it('appends after a restart without repeating the header', async function () {
    await helper.load(sinkModule, sinkFlow());
    await run([{ payload: [reading({ cnt: 1 }), reading({ cnt: 2 })] }]);
    await helper.unload();
    await helper.load(sinkModule, sinkFlow());
    await run([{ payload: reading({ cnt: 3 }) }]);
    const rows = readCsv(path.join(dir, 'historical_smoke_data_2022-06-09.csv'));
    assert.equal(rows.filter((r) => r[0] === 'UTC').length, 1);
    assert.deepEqual(rows.slice(1).map((r) => r[13]), ['1', '2', '3']);
  });

  it('cuts a torn last row (an interrupted write) before appending, also one torn inside a quoted newline', async function () {
    const file = path.join(dir, 'historical_smoke_data_2022-06-09.csv');
    const good = `${HEADER}\n1654776000,20,50,0,400,12000,19000,935,0,0,0,0,0,1,0,d1\n`;
    fs.writeFileSync(file, good + '1654776001,20,50,0,400,12000,19000,935,0,0,0,0,0,2,0,"two\nli');
    await helper.load(sinkModule, sinkFlow());
    const warned = new Promise<string>((resolve) => helper.getNode('sink').on('call:warn', (c: { args: [string] }) => resolve(c.args[0])));
    await run([{ payload: reading({ cnt: 3 }) }]);
    assert.match(await warned, /torn last row/);
    const rows = readCsv(file);
    assert.equal(rows.filter((r) => r[0] === 'UTC').length, 1);
    assert.deepEqual(rows.slice(1).map((r) => r[13]), ['1', '3']);
  });

  it('refuses to append to an existing file with a different header', async function () {
    fs.writeFileSync(path.join(dir, 'historical_smoke_data_2022-06-09.csv'), 'a,b\n1,2\n');
    await helper.load(sinkModule, sinkFlow());
    const { out, errors } = await run([{ payload: reading() }]);
    assert.equal(out.length, 0);
    assert.match(errors[0].err.message, /different header/);
    assert.equal(fs.readFileSync(path.join(dir, 'historical_smoke_data_2022-06-09.csv'), 'utf8'), 'a,b\n1,2\n', 'left untouched');
  });

  it('acknowledges the Kafka records of a message once its rows are in the file', async function () {
    const file = path.join(dir, 'historical_smoke_data_2022-06-09.csv');
    const acks: { id: number; records: number; rowsInFile: number }[] = [];
    const handler = (id: number, records: number) => acks.push({ id, records, rowsInFile: readCsv(file).length - 1 });
    registerConsumer('consumer-1', handler);
    try {
      await helper.load(sinkModule, sinkFlow());
      const kafka = { topic: 'smoke_stream', ack: { consumer: 'consumer-1', id: 7, records: 3 } };
      const { out } = await run([{ payload: [reading(), reading(), reading()], kafka }, { payload: reading() }]);
      assert.equal(out.length, 2);
      assert.equal(out[0].kafka, kafka, 'msg.kafka kept');
      assert.deepEqual(acks, [{ id: 7, records: 3, rowsInFile: 4 }]);
    } finally {
      unregisterConsumer('consumer-1', handler);
    }
  });

  it('passes an empty batch on in order without writing', async function () {
    await helper.load(sinkModule, sinkFlow());
    const { out } = await run([{ payload: [reading()], n: 1 }, { payload: [], n: 2 }, { payload: [reading()], n: 3 }]);
    assert.deepEqual(out.map((m) => m.n), [1, 2, 3]);
    assert.equal(readCsv(path.join(dir, 'historical_smoke_data_2022-06-09.csv')).length, 3);
  });

  it('refuses a payload that is not an object, with done(err)', async function () {
    await helper.load(sinkModule, sinkFlow());
    const { out, errors } = await run([{ payload: 'text' }, { payload: [reading(), 42] }]);
    assert.equal(out.length, 0);
    assert.match(errors[0].err.message, /msg.payload is not an object/);
    assert.match(errors[1].err.message, /item 1 of the payload is not an object/);
    assert.deepEqual(fs.readdirSync(dir), [], 'nothing written for a refused batch');
  });

  it('writes everything queued before it closes', async function () {
    await helper.load(sinkModule, sinkFlow({ flushInterval: 60000, flushRows: 1000000 }));
    const sink = helper.getNode('sink');
    for (let i = 0; i < 5; i++) sink.receive({ payload: reading({ cnt: i }) });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(fs.readdirSync(dir), [], 'still queued');
    await helper.unload();
    const rows = readCsv(path.join(dir, 'historical_smoke_data_2022-06-09.csv'));
    assert.deepEqual(rows.slice(1).map((r) => r[13]), ['0', '1', '2', '3', '4']);
  });

  it('shows the rows written: blue while writing, green when idle', async function () {
    await helper.load(sinkModule, sinkFlow());
    await run([{ payload: [reading(), reading()] }]);
    // The throttled status turns green once the queue is idle: wait for that write, not for a time.
    const isIdle = (x: { fill?: string; text?: string }): boolean => x.fill === 'green' && x.text === 'rows 2';
    if (!statuses().some(isIdle)) {
      await new Promise<void>((resolve) =>
        helper.getNode('sink').on('call:status', (c: { args: [{ fill?: string; text?: string }] }) => {
          if (isIdle(c.args[0])) resolve();
        }),
      );
    }
    const s = statuses();
    assert.deepEqual(s[0], { fill: 'green', shape: 'dot', text: 'rows 0' });
    assert.ok(s.some((x) => x.fill === 'blue' && x.text === 'rows 2'), JSON.stringify(s));
    assert.deepEqual(s[s.length - 1], { fill: 'green', shape: 'dot', text: 'rows 2' });
  });
});

describe('csv-sink > presets', function () {
  this.timeout(20000);
  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csv-sink-'));
  });
  afterEach(async function () {
    await helper.unload();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('windows: window results dated by windowStart', async function () {
    await helper.load(sinkModule, sinkFlow({ preset: 'windows' }));
    const w = {
      deviceId: 'd1', windowStart: Date.UTC(2022, 5, 9, 23, 58), windowEnd: Date.UTC(2022, 5, 10, 0, 3), count: 2, fireAlarmCount: 1,
      avgTemperature: 20.5, avgHumidity: 50, avgTvoc: 0, avgEco2: 400, avgPm25: 1.5, avgPressure: 935, maxTemperature: 21,
      minTemperature: 20, stddevTemperature: 0.7071067811865476, final: true,
    };
    await run([{ payload: [w] }]);
    const rows = readCsv(path.join(dir, 'window_results_2022-06-09.csv'));
    assert.deepEqual(rows[0].slice(0, 6), ['deviceId', 'windowStart', 'windowStartUtc', 'windowEnd', 'windowEndUtc', 'count']);
    assert.deepEqual(rows[1], ['d1', String(w.windowStart), '2022-06-09 23:58:00', String(w.windowEnd), '2022-06-10 00:03:00', '2', '1', '20.5', '50', '0', '400', '1.5', '935', '21', '20', '0.7071067811865476', 'true']);
  });

  it('windows: writes the aggregates configured on the window, none dropped', async function () {
    const t0 = Date.UTC(2022, 5, 9, 12, 0);
    await helper.load(
      [nodeModule('sliding-window'), sinkModule],
      [
        { id: 'win', type: 'smoke-sliding-window', size: '1 minute', slide: '1 minute', aggregates: 'maxPm25, avgTemperature, sumTvoc', state: 'none', wires: [['sink'], []] },
        ...sinkFlow({ preset: 'windows' }),
      ],
    );
    const written = new Promise<void>((resolve) => helper.getNode('out').on('input', () => resolve()));
    const win = helper.getNode('win');
    for (const [i, pm2_5] of [3, 7].entries()) win.receive({ payload: { ...reading({ pm2_5, tvoc: 10 }), deviceId: 'd1', timestamp: t0 + i * 1000 } });
    win.receive({ flush: true });
    await written;
    const rows = readCsv(path.join(dir, 'window_results_2022-06-09.csv'));
    assert.deepEqual(rows[0], ['deviceId', 'windowStart', 'windowStartUtc', 'windowEnd', 'windowEndUtc', 'count', 'fireAlarmCount', 'maxPm25', 'avgTemperature', 'sumTvoc', 'final']);
    assert.deepEqual(rows[1], ['d1', String(t0), '2022-06-09 12:00:00', String(t0 + 60_000), '2022-06-09 12:01:00', '2', '0', '7', '20', '20', 'false']);
  });

  it('alerts: dated by the alert timestamp, indicators joined', async function () {
    await helper.load(sinkModule, sinkFlow({ preset: 'alerts' }));
    const a = { type: 'PATTERN', severity: 'HIGH', sensor: 'firePattern', value: 2, threshold: 2, message: 'fire, 2 indicators', deviceId: 'd1', timestamp: Date.UTC(2022, 5, 8, 1, 2, 3, 456), indicators: ['tvoc', 'eco2'] };
    await run([{ payload: a }]);
    const [row] = readCsvByName(path.join(dir, 'alerts_2022-06-08.csv'));
    assert.deepEqual(row, {
      type: 'PATTERN', severity: 'HIGH', sensor: 'firePattern', value: '2', threshold: '2', message: 'fire, 2 indicators', deviceId: 'd1',
      timestamp: String(a.timestamp), timestampUtc: '2022-06-08 01:02:03', zScore: '', indicators: 'tvoc;eco2', cleared: '', details: '',
    });
  });

  it('rejects: sensor validate and kafka in output 2, dated by processing time', async function () {
    await helper.load(sinkModule, sinkFlow({ preset: 'rejects' }));
    const before = Math.floor(Date.now() / 1000) * 1000;
    const today = new Date().toISOString().slice(0, 10);
    await run([
      { payload: { 'Temperature[C]': '=1+1' }, validation: { errors: [{ field: 'temperature', code: 'not-a-number', message: 'not a number' }] } },
      { payload: 'not json, "at all"', error: 'Unexpected token', kafka: { topic: 'smoke_stream', partition: 1, offset: '9' } },
    ]);
    const rows = readCsv(path.join(dir, `rejects_${today}.csv`));
    assert.deepEqual(rows[0], ['timeUtc', 'source', 'topic', 'partition', 'offset', 'key', 'reasons', 'input']);
    for (const r of rows.slice(1)) {
      // The processing time in the readable form of every CSV file (YYYY-MM-DD HH:MM:SS, UTC).
      assert.match(r[0]!, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
      const at = Date.parse(r[0]!.replace(' ', 'T') + 'Z');
      assert.ok(at >= before && at <= Date.now(), `${r[0]} is the time of the write`);
    }
    assert.deepEqual(rows[1].slice(1), ['validate', '', '', '', '', 'temperature: not-a-number (not a number)', '{"Temperature[C]":"=1+1"}']);
    assert.deepEqual(rows[2].slice(1), ['kafka', 'smoke_stream', '1', '9', '', 'Unexpected token', 'not json, "at all"']);
  });

  it('custom: columns from the first message, a configured file name pattern', async function () {
    await helper.load(sinkModule, sinkFlow({ preset: 'custom', filename: 'sub/{date}-events.csv' }));
    await run([{ payload: { a: 1, b: 'x', timestamp: Date.UTC(2022, 0, 2) } }, { payload: { b: 'y', c: 3, timestamp: Date.UTC(2022, 0, 2) } }]);
    const rows = readCsv(path.join(dir, 'sub', '2022-01-02-events.csv'));
    assert.deepEqual(rows, [['a', 'b', 'timestamp'], ['1', 'x', String(Date.UTC(2022, 0, 2))], ['', 'y', String(Date.UTC(2022, 0, 2))]]);
  });
});

describe('csv-sink > files stay inside the folder', function () {
  this.timeout(20000);
  let outside: string;
  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csv-sink-'));
    outside = fs.mkdtempSync(path.join(os.tmpdir(), 'csv-outside-'));
  });
  afterEach(async function () {
    await helper.unload();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
  });

  it('with no settings, writes the readings file under data/ of the working directory (fileWorkingDirectory)', async function () {
    helper.settings({ fileWorkingDirectory: dir });
    try {
      await helper.load(sinkModule, [{ id: 'sink', type: 'smoke-csv-sink', wires: [['out']] }, { id: 'out', type: 'helper' }]);
      const { errors } = await run([{ payload: reading() }]);
      assert.deepEqual(errors, []);
      assert.equal(readCsv(path.join(dir, 'data', 'historical_smoke_data_2022-06-09.csv'))[0].join(','), HEADER);
    } finally {
      helper.settings({});
    }
  });

  it('ignores msg.filename unless allowed', async function () {
    await helper.load(sinkModule, sinkFlow());
    await run([{ payload: reading(), filename: 'other.csv' }]);
    assert.deepEqual(fs.readdirSync(dir), ['historical_smoke_data_2022-06-09.csv']);
  });

  it('uses msg.filename inside the folder when allowed', async function () {
    await helper.load(sinkModule, sinkFlow({ allowMsgFilename: true }));
    const { errors } = await run([{ payload: reading(), filename: 'dev/d1_{date}.csv' }]);
    assert.deepEqual(errors, []);
    assert.equal(readCsv(path.join(dir, 'dev', 'd1_2022-06-09.csv')).length, 2);
  });

  it('refuses a path-traversal, absolute or symlinked file name with a clear error', async function () {
    fs.symlinkSync(outside, path.join(dir, 'escape'));
    fs.symlinkSync(path.join(outside, 'target.csv'), path.join(dir, 'link.csv'));
    await helper.load(sinkModule, sinkFlow({ allowMsgFilename: true }));
    const names = ['../evil.csv', 'a/../../evil.csv', path.join(outside, 'abs.csv'), 'escape/x.csv', 'link.csv'];
    const { out, errors } = await run(names.map((filename) => ({ payload: reading(), filename })));
    assert.equal(out.length, 0);
    assert.equal(errors.length, names.length);
    const byName = new Map(errors.map((e) => [e.msg.filename, e.err.message]));
    assert.match(byName.get('../evil.csv')!, /msg.filename refused: .*leaves the folder/);
    assert.match(byName.get('a/../../evil.csv')!, /leaves the folder/);
    assert.match(byName.get(path.join(outside, 'abs.csv'))!, /absolute path/);
    assert.match(byName.get('escape/x.csv')!, /leaves the folder through a symbolic link/);
    assert.match(byName.get('link.csv')!, /symbolic link: refused/);
    assert.deepEqual(fs.readdirSync(outside), [], 'nothing written outside');
    assert.equal(fs.existsSync(path.join(dir, '..', 'evil.csv')), false);
  });

  it('refuses a configured file name that leaves the folder: red status, no input handler', async function () {
    await helper.load(sinkModule, sinkFlow({ filename: '../x_{date}.csv' }));
    const sink = helper.getNode('sink');
    assert.deepEqual(statuses().pop(), { fill: 'red', shape: 'ring', text: 'bad config' });
    assert.match(sink.error.getCall(0).args[0], /filename: file name "..\/x_\{date\}.csv" leaves the folder/);
    // No input handler (Node-RED keeps them in _inputCallback / _inputCallbacks): a message cannot write.
    assert.equal(sink._inputCallback, null);
    assert.equal(sink._inputCallbacks, null);
    sink.receive({ payload: reading() });
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it('refuses an unknown preset and a bad flush setting at deploy', async function () {
    await helper.load(sinkModule, sinkFlow({ preset: 'nope', flushRows: 0 }));
    const msg = helper.getNode('sink').error.getCall(0).args[0];
    assert.match(msg, /preset must be one of readings, windows, alerts, rejects, custom/);
    assert.match(msg, /flushRows must be >= 1/);
  });
});

describe('csv-sink > write errors', function () {
  this.timeout(20000);
  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csv-sink-'));
  });
  afterEach(async function () {
    await helper.unload();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a folder where the file should be: done(err) at once for each message, red status', async function () {
    fs.mkdirSync(path.join(dir, 'historical_smoke_data_2022-06-09.csv'));
    await helper.load(sinkModule, sinkFlow());
    const { out, errors } = await run([{ payload: reading() }, { payload: [reading(), reading()] }]);
    assert.equal(out.length, 0);
    assert.equal(errors.length, 2);
    for (const e of errors) assert.match(e.err.message, /CSV write to historical_smoke_data_2022-06-09.csv failed: .*EISDIR/);
    assert.ok(statuses().some((s) => s.fill === 'red' && s.text === 'EISDIR'), JSON.stringify(statuses()));
  });

  it('a file name too long (ENAMETOOLONG): done(err), red status', async function () {
    await helper.load(sinkModule, sinkFlow({ filename: 'x'.repeat(300) + '_{date}.csv' }));
    const { errors } = await run([{ payload: reading() }]);
    assert.match(errors[0].err.message, /ENAMETOOLONG/);
    assert.ok(statuses().some((s) => s.fill === 'red'));
  });

  it('retries a failing write for as long as the fault lasts: red status with the cause and the rows waiting, one warning; green and one log line once it passes, the message passed on once', async function () {
    // The folder cannot be created while a file stands in its place (ENOTDIR): an error that may pass.
    const blocker = path.join(dir, 'blocked');
    fs.writeFileSync(blocker, '');
    await helper.load(sinkModule, [
      { id: 'sink', type: 'smoke-csv-sink', folder: path.join(blocker, 'csv'), flushInterval: 10, retryDelay: 10, wires: [['out']] },
      { id: 'out', type: 'helper' },
    ]);
    const sink = helper.getNode('sink');
    const out = helper.getNode('out');
    let passed = 0;
    out.on('input', () => passed++);
    sink.receive({ payload: [reading(), reading()] });
    // Seven tries (10, 20, 40 … ms apart): more than the five after which the node used to give up.
    while (sink.status.getCalls().filter((c: { args: [{ fill?: string }] }) => c.args[0].fill === "red").length < 7) await new Promise((r) => setTimeout(r, 20));
    assert.equal(passed, 0, 'nothing passed on (so nothing acknowledged) while the rows wait');
    assert.equal(sink.error.callCount, 0, 'no error: the rows wait');
    assert.equal(sink.warn.callCount, 1, 'the fault is logged once, not per try');
    assert.match(String(sink.warn.firstCall.args[0]), /fail \(.*ENOTDIR.*\); retrying until they work/);
    const red = statuses().filter((x) => x.fill === 'red');
    assert.ok(red.every((x) => x.text === 'ENOTDIR: 2 rows waiting'), JSON.stringify(red));
    fs.rmSync(blocker);
    while (passed === 0) await new Promise((r) => setTimeout(r, 10));
    const last = statuses().at(-1);
    assert.equal(last?.fill, 'green', JSON.stringify(statuses().slice(-3)));
    assert.equal(sink.warn.callCount, 1);
    assert.ok(sink.log.getCalls().some((c: { args: [string] }) => /work again after .* s \(\d+ failed tries\); nothing was lost/.test(String(c.args[0]))));
    assert.equal(readCsv(path.join(blocker, 'csv', 'historical_smoke_data_2022-06-09.csv')).length, 3);
    assert.equal(passed, 1);
  });

  it('closed while a fault lasts: one warning with the rows and messages left unwritten and the cause, no error per message, nothing passed on', async function () {
    const blocker = path.join(dir, 'blocked');
    fs.writeFileSync(blocker, '');
    await helper.load(sinkModule, [
      { id: 'sink', type: 'smoke-csv-sink', folder: path.join(blocker, 'csv'), flushInterval: 10, retryDelay: 10, wires: [['out']] },
      { id: 'out', type: 'helper' },
    ]);
    const sink = helper.getNode('sink');
    let passed = 0;
    helper.getNode('out').on('input', () => passed++);
    sink.receive({ payload: [reading(), reading(), reading()] });
    sink.receive({ payload: reading() });
    while (sink.warn.callCount === 0) await new Promise((r) => setTimeout(r, 10));
    const warn = sink.warn;
    const error = sink.error;
    const t0 = Date.now();
    // The node's close as a redeploy runs it (the helper's unload would drop the spies before it ends).
    await sink.close(false);
    assert.ok(Date.now() - t0 < 14_000, 'closed within Node-RED\'s 15 s');
    assert.equal(passed, 0);
    assert.equal(error.callCount, 0, 'no error per message');
    const lines = warn.getCalls().map((c: { args: [string] }) => String(c.args[0]));
    assert.equal(lines.length, 2, JSON.stringify(lines));
    assert.match(lines[1], /^closed with 4 rows of 2 messages not written \(ENOTDIR\): not acknowledged/);
  });
});
