/**
 * The demo flow's pipeline-health panel (flows/flows.json, nodes `demo-health-*`): in Node-RED started
 * with flows/settings.js, the panel's own nodes read this runtime's /smoke-stream/metrics every 2 s and
 * compute readings/s, invalid/s, alerts/min by severity and the Kafka lag of the demo pipeline. The
 * dashboard widgets are replaced by function nodes that log what they would show (a warning each, in
 * the JSON log file), so the test needs no Dashboard 2.0. Also: the figures function on its own, with
 * known counter values.
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, stopProcess } from './_process';

const root = path.resolve(__dirname, '..', '..');

/* eslint-disable @typescript-eslint/no-explicit-any */
type FlowNode = Record<string, any>;
const demo: FlowNode[] = JSON.parse(fs.readFileSync(path.join(root, 'flows', 'flows.json'), 'utf8'));
const byId = (id: string): FlowNode => {
  const n = demo.find((x) => x.id === id);
  assert.ok(n, `flows/flows.json has ${id}`);
  return n;
};

/** The demo tab without dashboard nodes; the health outputs go to loggers instead of ui-text widgets. */
function healthFlow(): FlowNode[] {
  const nodes = demo.filter((n) => (n.id === 'smoke-demo-tab' || n.z === 'smoke-demo-tab') && !String(n.type).startsWith('ui-'));
  for (const n of nodes) if (Array.isArray(n.wires)) n.wires = n.wires.map((port: string[]) => port.filter((id) => nodes.some((m) => m.id === id)));
  const figures = nodes.find((n) => n.id === 'demo-health-figures')!;
  figures.wires = [0, 1, 2, 3].map((i) => [`log-${i}`]);
  for (let i = 0; i < 4; i++) {
    nodes.push({ id: `log-${i}`, type: 'function', z: 'smoke-demo-tab', name: `panel ${i}`, func: `node.warn('panel ${i}: ' + msg.payload); return null;`, outputs: 1, x: 900, y: 700 + 40 * i, wires: [[]] });
  }
  return nodes;
}

interface Line {
  level: string;
  id?: string;
  msg: string;
}

describe('health panel > in Node-RED with flows/settings.js', function () {
  this.timeout(120_000);
  let tmp: string;
  let child: ChildProcess | null = null;
  let out = '';

  before(function () {
    assert.ok(fs.existsSync(path.join(root, 'dist', 'nodes', 'sensor-sim', 'sensor-sim.js')), 'build first (node scripts/build.js)');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-health-'));
  });

  afterEach(async function () {
    if (child) await stopProcess(child, 10_000);
    child = null;
  });

  after(function () {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** Start the runtime; resolve with the panel's latest figures once `until` holds for them. */
  async function run(name: string, extraEnv: Record<string, string>, until: (panel: string[]) => boolean): Promise<string[]> {
    const userDir = path.join(tmp, name);
    fs.mkdirSync(path.join(userDir, 'node_modules', '@smoke-stream'), { recursive: true });
    fs.symlinkSync(root, path.join(userDir, 'node_modules', '@smoke-stream', 'node-red-smoke-stream'), 'dir');
    fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(healthFlow()));
    const logFile = path.join(tmp, `${name}.log`);
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_FILE: logFile, LOG_LEVEL: 'warn', SMOKE_ROOT: tmp, ...extraEnv };
    delete env.SMOKE_NODES_DIR;
    delete env.NODE_OPTIONS;
    out = '';
    child = spawn(process.execPath, [require.resolve('node-red/red.js'), '--userDir', userDir, '--settings', path.join(root, 'flows', 'settings.js')], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (c) => (out += String(c)));
    child.stderr!.on('data', (c) => (out += String(c)));
    const end = Date.now() + 90_000;
    let panel: string[] = [];
    for (;;) {
      assert.equal(child.exitCode, null, `Node-RED exited early:\n${out.slice(-3000)}`);
      const lines: Line[] = fs.existsSync(logFile)
        ? fs
            .readFileSync(logFile, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l))
        : [];
      panel = [0, 1, 2, 3].map((i) => {
        const last = lines.filter((l) => l.id === `log-${i}`).pop();
        return last ? last.msg.replace(`panel ${i}: `, '') : '';
      });
      if (until(panel)) return panel;
      assert.ok(Date.now() < end, `the panel's figures within 90 s; last: ${JSON.stringify(panel)}\n${out.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  it('shows the readings per second of the running demo (5 simulated detectors at 1 Hz), invalid/s, alerts/min and no Kafka', async function () {
    const panel = await run('on', {}, (p) => Number(p[0]) > 0 && p.every((x) => x !== ''));
    const perSec = Number(panel[0]);
    assert.ok(perSec > 0 && perSec < 50, `readings/s ${panel[0]}`);
    assert.match(panel[1], /^\d+\.\d\d( \(\d+\.\d %\))?$/);
    assert.match(panel[2], /^\d+ · \d+ · \d+$/);
    assert.equal(panel[3], 'no Kafka consumer');
  });

  it('says the metrics are off under SMOKE_METRICS=off', async function () {
    // the four figures are logged one after another: wait for all of them, not just the first
    const panel = await run('off', { SMOKE_METRICS: 'off' }, (p) => p.every((x) => x !== ''));
    assert.deepEqual(panel, ['metrics are off', '–', '–', '–']);
  });
});

describe('health panel > the figures function', function () {
  const func = byId('demo-health-figures').func as string;

  function runner() {
    const store: Record<string, unknown> = {};
    let clock = 1_000_000;
    const statuses: unknown[] = [];
    const fn = new Function('msg', 'context', 'node', 'env', 'Date', func);
    const FakeDate = { now: () => clock };
    return {
      statuses,
      advance(ms: number) {
        clock += ms;
      },
      call(msg: Record<string, unknown>): { payload: string }[] {
        return fn(msg, { get: (k: string) => store[k], set: (k: string, v: unknown) => (store[k] = v) }, { status: (s: unknown) => statuses.push(s) }, { get: () => undefined }, FakeDate);
      },
    };
  }

  const text = (readings: number, invalid: number, high: number, lag: number[] = []) =>
    [
      '# TYPE smoke_readings_in_total counter',
      `smoke_readings_in_total{node_id="v",node_name="a } b",node_type="smoke-sensor-validate"} ${readings}`,
      `smoke_readings_in_total{node_id="t",node_name="",node_type="smoke-threshold-alert"} ${readings * 9}`,
      `smoke_invalid_readings_total{node_id="v",node_name="",node_type="smoke-sensor-validate",code="missing"} ${invalid}`,
      `smoke_alerts_total{node_id="t",node_name="",node_type="smoke-threshold-alert",type="THRESHOLD",severity="HIGH"} ${high}`,
      ...lag.map((l, p) => `smoke_kafka_consumer_lag{node_id="k",node_name="",node_type="smoke-kafka-in",topic="smoke_stream",partition="${p}"} ${l}`),
      '',
    ].join('\n');

  it('turns counters into rates between scrapes: validate inputs per second, invalid share, alerts per minute, lag summed', function () {
    const r = runner();
    r.call({ statusCode: 200, payload: text(100, 0, 0) });
    r.advance(2000);
    const out = r.call({ statusCode: 200, payload: text(120, 1, 2, [5, 7]) });
    assert.deepEqual(
      out.map((m) => m.payload),
      ['10.0', '0.50 (5.0 %)', '0 · 60 · 0', '12 records (2 partitions)'],
    );
  });

  it('counts a counter that went down (a redeploy) from zero, never as a negative rate', function () {
    const r = runner();
    r.call({ statusCode: 200, payload: text(1000, 0, 0) });
    r.advance(2000);
    const out = r.call({ statusCode: 200, payload: text(10, 0, 0) });
    assert.equal(out[0].payload, '5.0');
  });

  it('says why when the endpoint does not answer 200', function () {
    const r = runner();
    assert.equal(r.call({ statusCode: 404, payload: 'Cannot GET' })[0].payload, 'metrics are off');
    assert.equal(r.call({ statusCode: 500, payload: '' })[0].payload, 'no metrics (500)');
  });
});
