/**
 * Kafka commit holds of the sliding window in a real Node-RED runtime (a child process, the
 * localfilesystem context store with a 1 s flushInterval, the built node from dist/): a fake `kafka in`
 * registered in the child's ack registry records every hold and release, and, at each release, what
 * the context file on disk holds. Then a SIGKILL mid-stream, a restart, and a redelivery from the
 * offset kafka in would have committed: the final windows are those of an uninterrupted run.
 */
import { strict as assert } from 'node:assert';
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { root } from './_helper';
import { SlidingWindows, type WindowResult } from '../../nodes/lib/window';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Msg = Record<string, any>;

/**
 * The child: Node-RED embedded (no editor, no HTTP) with the window node from dist/, a fake consumer
 * `kin` in the same ack registry the node uses, and the onSend/onComplete hooks reporting outputs and
 * finished inputs over IPC.
 */
const RUNNER = `
'use strict';
const fs = require('fs');
const path = require('path');
const RED = require(process.env.NODE_RED);
const ack = require(process.env.ACK_JS);
const settings = {
  userDir: process.env.USER_DIR,
  flowFile: 'flows.json',
  nodesDir: [process.env.NODES_DIR],
  contextStorage: { default: { module: 'localfilesystem', config: { flushInterval: 1 } } },
  httpAdminRoot: false,
  httpNodeRoot: false,
  disableEditor: true,
  credentialSecret: false,
  logging: { console: { level: 'error', metrics: false, audit: false } },
  smokeStream: { metrics: false },
};
const contextFile = path.join(process.env.USER_DIR, 'context', 'tab', 'win.json');
function onDisk() {
  try {
    return JSON.parse(fs.readFileSync(contextFile, 'utf8')).slidingWindow.offsets;
  } catch (err) {
    return null;
  }
}
ack.registerConsumer('kin', {
  ack() {},
  hold(id, holder) {
    process.send({ type: 'hold', id, holder });
    return 'held';
  },
  release(id, holder) {
    process.send({ type: 'release', id, holder, onDisk: onDisk() });
  },
});
RED.init(null, settings);
RED.hooks.add('onSend', (events) => {
  for (const e of events) if (e.source.id === 'win' && e.source.port === 0) process.send({ type: 'out', payload: e.msg.payload });
});
RED.hooks.add('onComplete', (e) => {
  if (e.node.id === 'win') process.send({ type: 'done', id: e.msg.testId });
});
process.on('message', (m) => {
  if (m.type === 'input') RED.nodes.getNode('win').receive(m.msg);
  else if (m.type === 'stop') RED.stop().then(() => process.send({ type: 'stopped' }, () => process.exit(0)));
});
RED.events.once('flows:started', () => process.send({ type: 'ready' }));
RED.start().catch((err) => { console.error(err); process.exit(1); });
`;

interface Runtime {
  child: ChildProcess;
  /** Window results of output 1, flattened, in order. */
  out: WindowResult[];
  holds: number[];
  releases: { id: number; onDisk: Record<string, number> | null }[];
  input(msg: Msg): Promise<void>;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

let inputSeq = 0;

function startRuntime(userDir: string): Promise<Runtime> {
  const child = fork(path.join(userDir, 'runner.js'), [], {
    env: {
      ...process.env,
      NODE_RED: require.resolve('node-red'),
      ACK_JS: path.join(root, 'dist', 'nodes', 'nr', 'ack.js'),
      USER_DIR: userDir,
      NODES_DIR: path.join(root, 'dist', 'nodes', 'sliding-window'),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const rt: Runtime = { child, out: [], holds: [], releases: [], input: () => Promise.resolve(), stop: () => Promise.resolve(), kill: () => Promise.resolve() };
  const waiting = new Map<number, (err?: Error) => void>();
  let onStopped: (() => void) | null = null;
  child.once('exit', (code, signal) => {
    for (const fail of [...waiting.values()]) fail(new Error(`Node-RED exited (${code ?? signal})`));
  });
  child.on('message', (m: Msg) => {
    if (m.type === 'out') rt.out.push(...(Array.isArray(m.payload) ? m.payload : [m.payload]));
    else if (m.type === 'hold') {
      assert.equal(m.holder, 'win');
      rt.holds.push(m.id);
    } else if (m.type === 'release') rt.releases.push({ id: m.id, onDisk: m.onDisk });
    else if (m.type === 'done') waiting.get(m.id)?.();
    else if (m.type === 'stopped') onStopped?.();
  });
  rt.input = (msg) =>
    new Promise((resolve, reject) => {
      const id = ++inputSeq;
      waiting.set(id, (err) => {
        waiting.delete(id);
        if (err) reject(err);
        else resolve();
      });
      child.send({ type: 'input', msg: { ...msg, testId: id } });
    });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  rt.stop = async () => {
    const stopped = new Promise<void>((resolve) => (onStopped = resolve));
    child.send({ type: 'stop' });
    await stopped;
    await exited;
  };
  rt.kill = async () => {
    child.kill('SIGKILL');
    await exited;
  };
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`Node-RED exited (${code}) before it was ready`)));
    child.on('message', (m: Msg) => m.type === 'ready' && resolve(rt));
  });
}

function userDirWith(config: Msg = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-window-hold-'));
  fs.writeFileSync(path.join(dir, 'runner.js'), RUNNER);
  const flow = [
    { id: 'tab', type: 'tab', label: 'hold test' },
    { id: 'win', type: 'smoke-sliding-window', z: 'tab', name: 'win', x: 200, y: 100, ...config, wires: [['j1'], ['j2']] },
    { id: 'j1', type: 'junction', z: 'tab', x: 0, y: 0, wires: [] },
    { id: 'j2', type: 'junction', z: 'tab', x: 0, y: 0, wires: [] },
  ];
  fs.writeFileSync(path.join(dir, 'flows.json'), JSON.stringify(flow));
  return dir;
}

/** Six devices, one reading every 5 s each, in event-time order (record i has Kafka offset i). */
function readings(n: number): Msg[] {
  const t0 = 1_654_733_331_000;
  return Array.from({ length: n }, (_, i) => ({
    deviceId: `dev-${i % 6}`,
    timestamp: t0 + Math.floor(i / 6) * 5000,
    temperature: 20 + ((i * 37) % 100) / 10,
    humidity: i % 11 === 0 ? null : 40 + (i % 13),
    tvoc: i % 300,
    eco2: 400 + (i % 50),
    pm2_5: (i % 17) / 2,
    pressure: 935 + (i % 5) / 10,
    fireAlarm: i % 9 === 0 ? 1 : 0,
  }));
}

interface Unit {
  msg: Msg;
  /** Offsets [first, last] of its records. */
  first: number;
  last: number;
}

/** Messages as kafka in (batch mode) stamps them: batches of 60 with single records in between, one unit each. */
function units(rs: Msg[]): Unit[] {
  const out: Unit[] = [];
  for (let i = 0; i < rs.length; ) {
    const id = out.length + 1;
    if (i % 600 < 2) {
      out.push({ msg: { payload: rs[i], kafka: { topic: 't', partition: 0, offset: i, ack: { consumer: 'kin', id, records: 1 } } }, first: i, last: i });
      i++;
    } else {
      const n = Math.min(60, rs.length - i);
      const offsets = Array.from({ length: n }, (_, k) => i + k);
      out.push({ msg: { payload: rs.slice(i, i + n), kafka: { topic: 't', partition: 0, offsets, ack: { consumer: 'kin', id, records: n } } }, first: i, last: i + n - 1 });
      i += n;
    }
  }
  return out;
}

/** The final windows of an uninterrupted run, by `deviceId@windowStart`. */
function reference(rs: Msg[]): Map<string, WindowResult> {
  const w = new SlidingWindows({ sizeMs: 300_000, slideMs: 60_000, delayMs: 600_000 });
  const out: WindowResult[] = [];
  for (const r of rs) w.add(r, r.timestamp, 0, out);
  return new Map(out.map((r) => [`${r.deviceId}@${r.windowStart}`, r]));
}

async function waitFor(cond: () => boolean, ms: number, what: () => string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`not within ${ms} ms: ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('sliding-window > Kafka commit holds in a real runtime (localfilesystem store)', function () {
  this.timeout(120_000);
  const dirs: string[] = [];
  const running: Runtime[] = [];
  after(function () {
    for (const rt of running) if (rt.child.exitCode === null) rt.child.kill('SIGKILL');
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  const rs = readings(3600);
  const us = units(rs);
  const ref = reference(rs);

  it('holds every Kafka message and releases it only once a checkpoint with its records is on disk', async function () {
    const dir = userDirWith();
    dirs.push(dir);
    const rt = await startRuntime(dir);
    running.push(rt);
    for (const u of us) await rt.input(u.msg);
    assert.deepEqual(rt.holds, us.map((_, k) => k + 1), 'one hold per message, in the input handler');
    await waitFor(() => rt.releases.length === us.length, 10_000, () => `${rt.releases.length}/${us.length} released`);
    const byId = new Map(us.map((u, k) => [k + 1, u]));
    for (const r of rt.releases) {
      const u = byId.get(r.id)!;
      assert.ok(r.onDisk !== null && r.onDisk['t:0'] >= u.last, `unit ${r.id} (offsets ${u.first}..${u.last}) released with ${JSON.stringify(r.onDisk)} on disk`);
    }
    assert.equal(new Set(rt.releases.map((r) => r.id)).size, us.length, 'each released once');
    await rt.stop();
  });

  it('holds nothing when "hold Kafka commits" is off', async function () {
    const dir = userDirWith({ holdCommits: false });
    dirs.push(dir);
    const rt = await startRuntime(dir);
    running.push(rt);
    for (const u of us.slice(0, 5)) await rt.input(u.msg);
    await rt.stop();
    assert.deepEqual(rt.holds, []);
    assert.deepEqual(rt.releases, []);
  });

  it('after a SIGKILL, redelivery from the commit offset gives every final window of an uninterrupted run', async function () {
    const dir = userDirWith();
    dirs.push(dir);
    const first = await startRuntime(dir);
    running.push(first);
    // A paced stream, killed a few messages after the first release: some released, the last ones held.
    let cut = 0;
    let after = -1;
    while (cut < us.length && after !== 0) {
      await first.input(us[cut++].msg);
      if (after < 0 && first.releases.length > 0) after = 3;
      else if (after > 0) after--;
      await new Promise((r) => setTimeout(r, 50));
    }
    await first.kill();
    const released = new Set(first.releases.map((r) => r.id));
    assert.ok(cut < us.length, 'killed mid-stream');
    assert.ok(released.size > 0 && released.size < cut, `killed with messages still held (${released.size}/${cut} released)`);

    // What kafka in would have committed (the sink acknowledged everything): up to the first unit still held.
    const from = us.findIndex((_, k) => !released.has(k + 1));
    const second = await startRuntime(dir);
    running.push(second);
    for (const u of us.slice(from)) await second.input(u.msg);
    await second.stop();

    const got = [...first.out, ...second.out];
    const seen = new Set<string>();
    const wrong: string[] = [];
    for (const r of got) {
      const key = `${r.deviceId}@${r.windowStart}`;
      seen.add(key);
      if (!ref.has(key)) wrong.push(`${key}: not a final window of the stream`);
      else if (JSON.stringify(r) !== JSON.stringify(ref.get(key))) wrong.push(`${key}: ${JSON.stringify(r)} != ${JSON.stringify(ref.get(key))}`);
    }
    const missing = [...ref.keys()].filter((k) => !seen.has(k));
    assert.deepEqual(missing, [], 'no final window missing');
    assert.deepEqual(wrong, [], 'every result as in the uninterrupted run (duplicates allowed)');
    assert.ok(from < cut, 'some messages were delivered again');
  });
});
