/**
 * The Prometheus endpoint of the runtime (`<httpNode>/smoke-stream/metrics`): a known stream of 1,000
 * readings (33 invalid ones of three kinds, 10 late ones, spikes that raise alerts of every type) goes
 * through validate → threshold → zscore → fire → window, readings and window results into CSV sinks;
 * the endpoint is then scraped over HTTP, its text parsed by a parser of the exposition format written
 * here, and every count compared with what the stream holds by construction or, for alerts and
 * windows, with the lib's detectors and windows run beside it.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { helper, nodeModule, root } from './_helper';
import { createValidator } from '../../nodes/lib/reading-validator';
import { ThresholdDetector } from '../../nodes/lib/thresholds';
import { ZScoreDetector } from '../../nodes/lib/zscore';
import { FirePatternDetector } from '../../nodes/lib/fire-pattern';
import { SlidingWindows } from '../../nodes/lib/window';
import type { Alert, Reading } from '../../nodes/lib/types';
import { find, one, parseExposition, parseNumber } from './_prometheus';

/** The metrics module the runtime under test loaded (dist/), not the TypeScript source. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const builtMetrics = (): typeof import('../../nodes/nr/metrics') => require(path.join(root, 'dist', 'nodes', 'nr', 'metrics.js'));

/* eslint-disable @typescript-eslint/no-explicit-any */
type Msg = Record<string, any>;

// ---------------------------------------------------------------- the known stream

const N = 1000;
const T0 = Date.UTC(2024, 0, 15, 8, 0, 0);
const STEP_MS = 3000;

interface Stream {
  inputs: Record<string, unknown>[];
  /** By construction: error code → invalid readings. */
  invalid: Record<string, number>;
  /** By construction: readings older than their device's watermark. */
  late: number;
}

function makeStream(): Stream {
  const inputs: Record<string, unknown>[] = [];
  const invalid: Record<string, number> = { 'not-a-number': 0, missing: 0, 'out-of-range': 0 };
  let late = 0;
  for (let i = 0; i < N; i++) {
    const r: Record<string, unknown> = {
      deviceId: i % 2 ? 'det-b' : 'det-a',
      timestamp: T0 + i * STEP_MS,
      temperature: 21 + (i % 7) * 0.3,
      humidity: 45 + (i % 5),
      tvoc: 120 + (i % 11) * 3,
      eco2: 420 + (i % 13) * 2,
      rawH2: 12800,
      rawEthanol: 19400,
      pressure: 939.7,
      pm1_0: 2 + (i % 3) * 0.1,
      pm2_5: 3 + (i % 4) * 0.2,
      nc0_5: 14,
      nc1_0: 2.1,
      nc2_5: 0.05,
      cnt: i,
      fireAlarm: 0,
    };
    // Spikes: threshold, z-score and fire-pattern alerts of several severities.
    if (i % 37 === 36) Object.assign(r, { tvoc: 1200, eco2: 900 });
    if (i % 101 === 100) Object.assign(r, { temperature: 58, pm2_5: 42, tvoc: 2500, eco2: 1600 });
    if (i % 250 === 249) r.fireAlarm = 1;
    // Invalid readings, one error each (the index sets do not overlap).
    if (i % 50 === 25) {
      r.temperature = 'abc';
      invalid['not-a-number']++;
    } else if (i % 125 === 70) {
      delete r.humidity;
      invalid.missing++;
    } else if (i % 200 === 110) {
      r.pressure = 5000;
      invalid['out-of-range']++;
    } else if (i % 97 === 50) {
      // 30 min behind its device: past the 10 min watermark.
      r.timestamp = (r.timestamp as number) - 30 * 60_000;
      late++;
    }
    inputs.push(r);
  }
  return { inputs, invalid, late };
}

/** First 500 readings one message each, the rest in batches of 50 (as from `kafka in`'s batch mode). */
const SINGLES = 500;
const BATCH = 50;

interface Expected {
  valid: Reading[];
  alerts: Map<string, number>;
  /** Per detector: messages with alerts that carry a Kafka time (the `alert` latency observations). */
  alertLatency: Record<string, number>;
  windows: number;
  late: number;
}

/** What the lib computes for the stream, grouped as the messages are. */
function expectFromLib(stream: Stream): Expected {
  const validator = createValidator();
  const detectors = { threshold: new ThresholdDetector(), zscore: new ZScoreDetector(), fire: new FirePatternDetector() };
  const windows = new SlidingWindows({ sizeMs: 300_000, slideMs: 60_000, delayMs: 600_000 });
  const alerts = new Map<string, number>();
  const alertLatency: Record<string, number> = { threshold: 0, zscore: 0, fire: 0 };
  const valid: Reading[] = [];
  let nWindows = 0;
  let late = 0;
  const groups: Record<string, unknown>[][] = stream.inputs.slice(0, SINGLES).map((r) => [r]);
  for (let i = SINGLES; i < N; i += BATCH) groups.push(stream.inputs.slice(i, i + BATCH));
  groups.forEach((group, g) => {
    const batch = g >= SINGLES;
    const readings: Reading[] = [];
    for (const input of group) {
      const r = validator.validate(input, { arrival: 0 });
      if (r.ok) readings.push(r.reading);
    }
    valid.push(...readings);
    for (const [name, d] of Object.entries(detectors)) {
      const out: Alert[] = [];
      for (const r of readings) d.process(r, 0, out);
      for (const a of out) alerts.set(`${a.type}|${a.severity}`, (alerts.get(`${a.type}|${a.severity}`) ?? 0) + 1);
      if (batch && out.length > 0) alertLatency[name]++;
    }
    for (const r of readings) {
      const out: never[] = [];
      if (!windows.add(r, r.timestamp, 0, out)) late++;
      nWindows += out.length;
    }
  });
  return { valid, alerts, alertLatency, windows: nWindows, late };
}

// ---------------------------------------------------------------- the runtime

/** The HTTP app of the current runtime (the helper creates one per load but mounts none on its server). */
let nodeApp: ((req: unknown, res: unknown, next: () => void) => void) | null = null;
function captureHttpNode(RED: Msg): void {
  nodeApp = RED.httpNode;
}

const modules = ['sensor-validate', 'threshold-alert', 'zscore-anomaly', 'fire-pattern', 'sliding-window', 'csv-sink'].map(nodeModule);

async function scrape(p = '/smoke-stream/metrics'): Promise<Response> {
  return fetch(helper.url() + p);
}

describe('metrics > Prometheus endpoint', function () {
  this.timeout(60_000);
  let tmp: string;

  before(async function () {
    assert.ok(fs.existsSync(path.join(root, 'dist', 'nodes', 'nr', 'metrics.js')), 'build first (node scripts/build.js)');
    await helper.startServer();
    (helper as any)._app.use((req: unknown, res: unknown, next: () => void) => (nodeApp ? nodeApp(req, res, next) : next()));
  });

  after(async function () {
    await helper.stopServer();
  });

  beforeEach(function () {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-metrics-'));
  });

  afterEach(async function () {
    await helper.unload();
    helper.settings({});
    delete process.env.SMOKE_METRICS;
    nodeApp = null;
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  function flow(): Msg[] {
    return [
      { id: 'v', type: 'smoke-sensor-validate', name: 'validate', wires: [['t'], ['invalid']] },
      { id: 't', type: 'smoke-threshold-alert', name: 'threshold', wires: [['z'], ['alerts']] },
      { id: 'z', type: 'smoke-zscore-anomaly', name: 'zscore', wires: [['f'], ['alerts']] },
      { id: 'f', type: 'smoke-fire-pattern', name: 'fire', wires: [['w', 'cr'], ['alerts']] },
      { id: 'w', type: 'smoke-sliding-window', name: 'window', wires: [['cw'], ['late']] },
      { id: 'cr', type: 'smoke-csv-sink', name: 'readings csv', preset: 'readings', folder: tmp, fsync: false, wires: [['readingsDone']] },
      { id: 'cw', type: 'smoke-csv-sink', name: 'windows csv', preset: 'windows', folder: tmp, fsync: false, wires: [['windowsDone']] },
      { id: 'invalid', type: 'helper' },
      { id: 'alerts', type: 'helper' },
      { id: 'late', type: 'helper' },
      { id: 'readingsDone', type: 'helper' },
      { id: 'windowsDone', type: 'helper' },
    ];
  }

  it('counts a known stream exactly: readings in/out, invalid by code, alerts by type and severity, late, windows, CSV rows, latency', async function () {
    const stream = makeStream();
    const exp = expectFromLib(stream);
    assert.equal(exp.late, stream.late, 'the lib finds the late readings the stream was built with');
    const nInvalid = Object.values(stream.invalid).reduce((a, b) => a + b, 0);
    assert.equal(exp.valid.length, N - nInvalid);
    assert.ok(exp.windows > 0 && exp.alerts.size >= 5, 'the stream raises windows and alerts of several kinds');

    // Earlier tests deployed nodes of these ids: their counters would go on (see the redeploy test).
    builtMetrics().forgetClosedNodes();
    await helper.load([...modules, captureHttpNode], flow());
    const count = (id: string) => {
      let items = 0;
      let msgs = 0;
      helper.getNode(id).on('input', (m: Msg) => {
        msgs++;
        items += Array.isArray(m.payload) ? m.payload.length : 1;
      });
      return () => ({ items, msgs });
    };
    const alerts = count('alerts');
    const late = count('late');
    const readingsDone = count('readingsDone');
    const windowsDone = count('windowsDone');
    const v = helper.getNode('v');
    for (let i = 0; i < SINGLES; i++) v.receive({ payload: { ...stream.inputs[i] } });
    for (let i = SINGLES; i < N; i += BATCH) {
      const batch = stream.inputs.slice(i, i + BATCH).map((r) => ({ ...r }));
      // Batches carry Kafka record times, as `kafka in` batch messages do: the latency's start.
      v.receive({ payload: batch, kafka: { timestamps: batch.map(() => Date.now() - 5) } });
    }
    const end = Date.now() + 30_000;
    while (readingsDone().items < exp.valid.length || windowsDone().items < exp.windows) {
      assert.ok(Date.now() < end, `the stream reaches the sinks (readings ${readingsDone().items}/${exp.valid.length}, windows ${windowsDone().items}/${exp.windows})`);
      await new Promise((r) => setTimeout(r, 20));
    }

    const res = await scrape();
    assert.equal(res.status, 200);
    // Express orders the parameters (charset first); Prometheus reads them in any order.
    const [type, ...params] = (res.headers.get('content-type') ?? '').split(';').map((p) => p.trim());
    assert.equal(type, 'text/plain');
    assert.ok(params.includes('version=0.0.4'), `version=0.0.4 in ${params}`);
    const m = parseExposition(await res.text());
    const node = (id: string) => ({ node_id: id });

    // sensor validate
    assert.equal(one(m, 'smoke_readings_in_total', node('v')), N);
    assert.equal(one(m, 'smoke_readings_out_total', node('v')), exp.valid.length);
    for (const [code, n] of Object.entries(stream.invalid)) assert.equal(one(m, 'smoke_invalid_readings_total', { node_id: 'v', code }), n, code);
    assert.equal(find(m, 'smoke_invalid_readings_total', node('v')).length, 3, 'no other invalid code');
    assert.deepEqual(find(m, 'smoke_readings_in_total', node('v'))[0].labels, { node_id: 'v', node_name: 'validate', node_type: 'smoke-sensor-validate' });

    // detectors: readings, alerts by type and severity, alert latency from the batches' Kafka times
    const byKind = new Map<string, number>();
    for (const [id, name] of [['t', 'threshold'], ['z', 'zscore'], ['f', 'fire']]) {
      assert.equal(one(m, 'smoke_readings_in_total', node(id)), exp.valid.length);
      assert.equal(one(m, 'smoke_readings_out_total', node(id)), exp.valid.length);
      for (const s of find(m, 'smoke_alerts_total', node(id))) byKind.set(`${s.labels.type}|${s.labels.severity}`, s.value);
      assert.equal(one(m, 'smoke_end_to_end_latency_seconds_count', { node_id: id, stage: 'alert' }), exp.alertLatency[name], `${name} alert latency observations`);
    }
    assert.deepEqual([...byKind].sort(), [...exp.alerts].sort());
    assert.equal(alerts().items, [...exp.alerts.values()].reduce((a, b) => a + b, 0), 'the alerts counted are the alerts sent');

    // sliding window
    assert.equal(one(m, 'smoke_readings_in_total', node('w')), exp.valid.length);
    assert.equal(one(m, 'smoke_late_readings_total', node('w')), stream.late);
    assert.equal(late().items, stream.late);
    assert.equal(one(m, 'smoke_windows_emitted_total', node('w')), exp.windows);

    // csv sinks: rows, no errors, one latency observation per message written
    assert.equal(one(m, 'smoke_csv_rows_written_total', node('cr')), exp.valid.length);
    assert.equal(one(m, 'smoke_csv_rows_written_total', node('cw')), exp.windows);
    assert.equal(one(m, 'smoke_csv_write_errors_total', node('cr')), 0);
    const singlesValid = exp.valid.filter((r) => r.cnt! < SINGLES).length;
    assert.equal(one(m, 'smoke_end_to_end_latency_seconds_count', { node_id: 'cr', stage: 'csv' }), singlesValid + (N - SINGLES) / BATCH);
    assert.equal(one(m, 'smoke_end_to_end_latency_seconds_count', { node_id: 'cw', stage: 'csv' }), windowsDone().msgs);

    // histogram shape: cumulative buckets ending in +Inf = count, a sum that is a plausible time
    for (const id of ['cr', 't']) {
      const buckets = find(m, 'smoke_end_to_end_latency_seconds_bucket', node(id));
      const le = buckets.map((b) => parseNumber(b.labels.le, b.labels.le));
      assert.deepEqual(le, [...le].sort((a, b) => a - b), 'buckets in order');
      for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i].value >= buckets[i - 1].value, 'cumulative');
      assert.equal(le[le.length - 1], Infinity);
      assert.equal(buckets[buckets.length - 1].value, one(m, 'smoke_end_to_end_latency_seconds_count', node(id)));
      const sum = one(m, 'smoke_end_to_end_latency_seconds_sum', node(id));
      assert.ok(sum >= 0 && sum < 60 * buckets[buckets.length - 1].value, `latency sum ${sum}`);
    }
    assert.equal(m.get('smoke_end_to_end_latency_seconds')!.type, 'histogram');
    assert.equal(m.get('smoke_alerts_total')!.type, 'counter');
    assert.equal(m.get('smoke_kafka_consumer_lag')!.type, 'gauge');
  });

  it('a node deployed again under its id continues its counters (no reset for rate()); a node deleted leaves the scrape', async function () {
    await helper.load(
      [...modules, captureHttpNode],
      [
        { id: 'vr', type: 'smoke-sensor-validate', name: 'validate', wires: [[], ['rejected']] },
        { id: 'rejected', type: 'helper' },
      ],
    );
    // Counted before the node sends the rejected item on: wait for it, not for a time.
    const sent1 = new Promise((r) => helper.getNode('rejected').once('input', r));
    helper.getNode('vr').receive({ payload: [{ temperature: 'x' }] });
    await sent1;
    let m = parseExposition(await (await scrape()).text());
    assert.equal(one(m, 'smoke_readings_in_total', { node_id: 'vr' }), 1);
    await helper.unload();
    await helper.load([...modules, captureHttpNode], [{ id: 'vr', type: 'smoke-sensor-validate', name: 'validate', wires: [[], []] }]);
    m = parseExposition(await (await scrape()).text());
    assert.equal(one(m, 'smoke_readings_in_total', { node_id: 'vr' }), 1);
    assert.equal(find(m, 'smoke_invalid_readings_total', { node_id: 'vr' }).length, 1);
    await helper.unload();
    await helper.load([...modules, captureHttpNode], [{ id: 'w', type: 'smoke-sensor-validate', name: 'other', wires: [[], []] }]);
    m = parseExposition(await (await scrape()).text());
    assert.equal(find(m, 'smoke_readings_in_total', { node_id: 'vr' }).length, 0, 'a node no longer deployed is not scraped');
  });

  it('exports for each node type only the families it counts (no CSV rows on a sensor validate), each from 0', async function () {
    await helper.load([...modules, captureHttpNode], [{ id: 'v2', type: 'smoke-sensor-validate', name: 'validate', wires: [[], []] }]);
    const m = parseExposition(await (await scrape()).text());
    const families = [...m.values()].filter((f) => f.samples.some((x) => x.labels.node_id === 'v2')).map((f) => f.name);
    assert.deepEqual(families.sort(), ['smoke_readings_in_total', 'smoke_readings_out_total']);
    assert.equal(one(m, 'smoke_readings_in_total', { node_id: 'v2' }), 0);
  });

  it('escapes label values (a node name with quotes, backslash and line feed) so that they parse back', async function () {
    const name = 'a "quoted" \\ name\nline 2';
    await helper.load([...modules, captureHttpNode], [{ id: 'v', type: 'smoke-sensor-validate', name, wires: [[], []] }]);
    const m = parseExposition(await (await scrape()).text());
    assert.equal(find(m, 'smoke_readings_in_total', { node_id: 'v' })[0].labels.node_name, name);
  });

  it('moves to the path set in settings (smokeStream.metrics.path)', async function () {
    helper.settings({ smokeStream: { metrics: { path: '/custom/metrics' } } });
    await helper.load([...modules, captureHttpNode], [{ id: 'v', type: 'smoke-sensor-validate', wires: [[], []] }]);
    assert.equal((await scrape('/custom/metrics')).status, 200);
    assert.equal((await scrape()).status, 404);
  });

  it('answers 404 when turned off in settings (smokeStream: { metrics: false })', async function () {
    helper.settings({ smokeStream: { metrics: false } });
    await helper.load([...modules, captureHttpNode], [{ id: 'v', type: 'smoke-sensor-validate', wires: [[], []] }]);
    assert.ok(nodeApp, 'the runtime has an HTTP app');
    assert.equal((await scrape()).status, 404);
  });

  it('SMOKE_METRICS=off: 404, and the nodes count nothing', async function () {
    process.env.SMOKE_METRICS = 'off';
    await helper.load(
      [...modules, captureHttpNode],
      [
        { id: 'v', type: 'smoke-sensor-validate', wires: [[], ['rejected']] },
        { id: 'rejected', type: 'helper' },
      ],
    );
    assert.equal((await scrape()).status, 404);
    const sent = new Promise((r) => helper.getNode('rejected').once('input', r));
    helper.getNode('v').receive({ payload: { temperature: 'x' } });
    await sent;
    // The registry of the built module (the one Node-RED loaded).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { registry } = require(path.join(root, 'dist', 'nodes', 'nr', 'metrics.js'));
    const m = parseExposition(await registry.metrics());
    assert.equal(find(m, 'smoke_readings_in_total', { node_id: 'v' }).length, 0);
  });
});

describe('metrics > exposition parser (the test tool itself)', function () {
  it('parses labels with escapes and rejects malformed lines', function () {
    const m = parseExposition('# HELP x_total help\n# TYPE x_total counter\nx_total{a="1\\"2",b="\\\\"} 3\n');
    assert.deepEqual(m.get('x_total')!.samples, [{ name: 'x_total', labels: { a: '1"2', b: '\\' }, value: 3 }]);
    assert.throws(() => parseExposition('# TYPE y gauge\ny{a=1} 2\n'));
    assert.throws(() => parseExposition('# TYPE y gauge\ny 2 3 4\n'));
    assert.throws(() => parseExposition('z 1\n'), /without a declared family/);
    assert.throws(() => parseExposition('# TYPE y gauge\ny 1\ny 2\n'), /repeated series/);
  });
});

describe('metrics > NodeMetrics (the TypeScript source, its own registry)', function () {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const src = require('../../nodes/nr/metrics') as typeof import('../../nodes/nr/metrics');
  const scrapeSrc = async () => parseExposition(await src.registry.metrics());

  afterEach(function () {
    delete process.env.SMOKE_METRICS;
  });

  it('replaces the lag series: a partition no longer read disappears', async function () {
    const m = new src.NodeMetrics({ id: 'k1', type: 'smoke-kafka-in', name: 'in' });
    try {
      m.lag('smoke_stream', 0, 5);
      m.lag('smoke_stream', 1, 7);
      let p = await scrapeSrc();
      assert.equal(find(p, 'smoke_kafka_consumer_lag', { node_id: 'k1' }).length, 2);
      m.replaceLag({ smoke_stream: { 1: 3 } });
      p = await scrapeSrc();
      assert.deepEqual(
        find(p, 'smoke_kafka_consumer_lag', { node_id: 'k1' }).map((s) => [s.labels.topic, s.labels.partition, s.value]),
        [['smoke_stream', '1', 3]],
      );
    } finally {
      m.remove();
    }
  });

  it('puts a latency on its bucket bound in that bucket (le is inclusive), a negative one at 0, and ignores bad counts', async function () {
    const m = new src.NodeMetrics({ id: 'c1', type: 'smoke-csv-sink' });
    try {
      m.latencyMs('csv', 10); // exactly 0.01 s
      m.latencyMs('csv', -50); // producer clock ahead of ours
      m.latencyMs('csv', 60_000); // beyond the last bound: only +Inf
      m.csvRows.inc(NaN);
      m.csvRows.inc(-3);
      m.csvRows.inc(4);
      const p = await scrapeSrc();
      const bucket = (le: string) => one(p, 'smoke_end_to_end_latency_seconds_bucket', { node_id: 'c1', le });
      assert.equal(bucket('0.005'), 1);
      assert.equal(bucket('0.01'), 2);
      assert.equal(bucket('10'), 2);
      assert.equal(bucket('+Inf'), 3);
      assert.equal(one(p, 'smoke_end_to_end_latency_seconds_sum', { node_id: 'c1' }), 60.01);
      assert.equal(one(p, 'smoke_csv_rows_written_total', { node_id: 'c1' }), 4);
    } finally {
      m.remove();
    }
  });

  it('with SMOKE_METRICS=off counts nothing and exports no series', async function () {
    process.env.SMOKE_METRICS = 'off';
    const m = new src.NodeMetrics({ id: 'x1', type: 'smoke-fire-pattern' });
    m.readingsIn.inc(5);
    m.alert('PATTERN', 'HIGH');
    m.invalid('missing');
    m.latencyMs('alert', 3);
    assert.equal(m.enabled, false);
    assert.equal(m.readingsIn.value, 0);
    const p = await scrapeSrc();
    assert.equal(find(p, 'smoke_readings_in_total', { node_id: 'x1' }).length, 0);
    m.remove();
  });

  it('takes the Kafka time of a record or of a batch (its first record), else NaN', function () {
    assert.equal(src.kafkaTimeOf({ kafka: { timestamp: 5 } }), 5);
    assert.equal(src.kafkaTimeOf({ kafka: { timestamps: [7, 9] } }), 7);
    assert.ok(Number.isNaN(src.kafkaTimeOf({})));
    assert.ok(Number.isNaN(src.kafkaTimeOf({ kafka: { timestamps: [] } })));
  });
});
