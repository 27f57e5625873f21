/**
 * What counting metrics costs: the detector chain (sensor validate → threshold alert → zscore anomaly →
 * fire pattern → sliding window) in a real Node-RED runtime started in-process, metrics on against
 * metrics off (`SMOKE_METRICS=off`: NodeMetrics become no-ops), each configuration in its own child
 * process, alternating, several rounds; medians of readings per CPU-second (the process's user +
 * system time: steadier than wall time on a shared machine) and of readings per wall-clock second.
 *
 *   node --import tsx test/perf/metrics-overhead.ts [--rounds 5] [--readings 200000] [--single-readings 50000] [--devices 100]
 *   (--rounds 0: only the cost of the increments themselves, in ns per message)
 *
 * Not a mocha suite (no *.test.ts): timings on a shared 2-core machine are for a person to read.
 * Build first (node scripts/build.js).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const args = process.argv.slice(2);
const arg = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};

interface Result {
  mode: 'batch' | 'single';
  metrics: boolean;
  readings: number;
  seconds: number;
  readingsPerSec: number;
  /** Readings per second of this process's CPU time (user + system): steadier on a busy machine. */
  readingsPerCpuSec: number;
}

async function child(mode: 'batch' | 'single', readings: number, devices: number): Promise<void> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { SensorSim } = require(path.join(ROOT, 'dist', 'nodes', 'lib', 'index.js'));
  const RED = require('node-red');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-mo-'));
  const link = path.join(userDir, 'node_modules', '@smoke-stream', 'node-red-smoke-stream');
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.symlinkSync(ROOT, link, 'dir');
  const chain = ['smoke-sensor-validate', 'smoke-threshold-alert', 'smoke-zscore-anomaly', 'smoke-fire-pattern', 'smoke-sliding-window'];
  const flow = [
    { id: 'tab', type: 'tab', label: 'overhead' },
    ...chain.map((type, i) => ({ id: `n${i}`, type, z: 'tab', x: 100 + 150 * i, y: 100, wires: i < chain.length - 1 ? [[`n${i + 1}`], []] : [[], []] })),
  ];
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flow));
  const started = new Promise<void>((resolve) => RED.events.on('flows:started', () => resolve()));
  RED.init({ userDir, flowFile: 'flows.json', credentialSecret: false, httpAdminRoot: false, httpNodeRoot: false, disableEditor: true, coreNodesDir: '', logging: { console: { level: 'error' } } });
  await RED.start();
  await started;
  const head = RED.nodes.getNode('n0');
  const tail = RED.nodes.getNode(`n${chain.length - 1}`);

  const sim = new SensorSim({ devices, seed: 11, shape: 'canonical', fire: 'random', fireProbability: 0.05 });
  let t = Date.UTC(2024, 0, 1);
  /** One pass: `n` readings in event-time order, as batches of 500 or single messages. */
  const pass = async (n: number): Promise<{ wall: number; cpu: number }> => {
    const items: unknown[] = [];
    while (items.length < n) {
      for (const r of sim.tick(t)) items.push(r);
      t += 1000;
    }
    const msgs: Record<string, unknown>[] = [];
    if (mode === 'batch') for (let i = 0; i < items.length; i += 500) msgs.push({ payload: items.slice(i, i + 500) });
    else for (const p of items) msgs.push({ payload: p });
    let arrived = 0;
    const done = new Promise<void>((resolve) => {
      const on = () => {
        if (++arrived === msgs.length) {
          tail.removeListener('input', on);
          resolve();
        }
      };
      tail.on('input', on);
    });
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    // In slices, as a source would hand them over, so that the runtime's queue stays short.
    for (let i = 0; i < msgs.length; i += 100) {
      for (let k = i; k < Math.min(i + 100, msgs.length); k++) head.receive(msgs[k]);
      await new Promise((r) => setImmediate(r));
    }
    await done;
    const c = process.cpuUsage(c0);
    return { wall: Number(process.hrtime.bigint() - t0) / 1e9, cpu: (c.user + c.system) / 1e6 };
  };
  await pass(Math.min(readings, 50_000)); // warm-up: JIT, device state
  const { wall, cpu } = await pass(readings);
  const res: Result = { mode, metrics: process.env.SMOKE_METRICS !== 'off', readings, seconds: wall, readingsPerSec: readings / wall, readingsPerCpuSec: readings / cpu };
  process.stdout.write(JSON.stringify(res) + '\n');
  await RED.stop();
  fs.rmSync(userDir, { recursive: true, force: true });
  process.exit(0);
}

/**
 * The counting alone: the increments the five nodes make per single-reading message (validate in/out,
 * three detectors in/out, window in), timed over many messages; the figure to set against the chain's
 * CPU time per reading, which no wall-clock comparison on a busy machine resolves.
 */
function micro(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { NodeMetrics } = require(path.join(ROOT, 'dist', 'nodes', 'nr', 'metrics.js'));
  const nodes = ['v', 't', 'z', 'f', 'w'].map((id) => new NodeMetrics({ id: `micro-${id}`, type: 'x' }));
  const [v, t, z, f, w] = nodes;
  const N = 5_000_000;
  const round = (): number => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) {
      v.readingsIn.inc();
      v.readingsOut.inc();
      t.readingsIn.inc(1);
      t.readingsOut.inc(1);
      z.readingsIn.inc(1);
      z.readingsOut.inc(1);
      f.readingsIn.inc(1);
      f.readingsOut.inc(1);
      w.readingsIn.inc();
    }
    return Number(process.hrtime.bigint() - t0) / N;
  };
  round();
  const ns = Math.min(round(), round(), round());
  if (w.readingsIn.value !== 4 * N) throw new Error('the increments did not happen');
  for (const m of nodes) m.remove();
  return `counting per single-reading message through the chain (9 increments): ${ns.toFixed(1)} ns`;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function parent(): void {
  const rounds = arg('rounds', 5);
  const devices = arg('devices', 100);
  const out: string[] = [];
  for (const [mode, readings] of [
    ['batch', arg('readings', 200_000)],
    ['single', arg('single-readings', 50_000)],
  ] as const) {
    if (rounds <= 0) break; // --rounds 0: only the counting figure
    const rates: Record<'on' | 'off', number[]> = { on: [], off: [] };
    const wall: Record<'on' | 'off', number[]> = { on: [], off: [] };
    for (let r = 0; r < rounds; r++) {
      // Alternate the order each round: neither configuration always runs on a warmer machine.
      for (const cfg of r % 2 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
        const env = { ...process.env, SMOKE_METRICS: cfg === 'off' ? 'off' : '' };
        const c = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--child', mode, String(readings), String(devices)], { env, encoding: 'utf8', cwd: ROOT });
        const line = c.stdout.trim().split('\n').pop() ?? '';
        if (c.status !== 0 || !line.startsWith('{')) throw new Error(`child failed (${c.status}): ${c.stderr.slice(-2000)}`);
        const res = JSON.parse(line) as Result;
        rates[cfg].push(res.readingsPerCpuSec);
        wall[cfg].push(res.readingsPerSec);
        process.stderr.write(`${mode} metrics ${cfg}: ${Math.round(res.readingsPerCpuSec).toLocaleString('en')} readings per CPU-s (${Math.round(res.readingsPerSec).toLocaleString('en')}/s wall)\n`);
      }
    }
    const on = median(rates.on);
    const off = median(rates.off);
    const wOn = median(wall.on);
    const wOff = median(wall.off);
    const n = (x: number) => Math.round(x).toLocaleString('en');
    out.push(
      `${mode.padEnd(6)} (${n(readings)} readings, ${devices} devices, ${rounds} rounds, medians): ` +
        `per CPU-second on ${n(on)}, off ${n(off)}, on/off ${((on / off) * 100).toFixed(1)} %; ` +
        `wall on ${n(wOn)}/s, off ${n(wOff)}/s, on/off ${((wOn / wOff) * 100).toFixed(1)} %`,
    );
  }
  out.push(micro());
  console.log('\n' + out.join('\n'));
}

const ci = args.indexOf('--child');
if (ci >= 0) void child(args[ci + 1] as 'batch' | 'single', Number(args[ci + 2]), Number(args[ci + 3]));
else parent();
