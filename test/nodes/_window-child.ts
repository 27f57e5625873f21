/**
 * A real Node-RED runtime in a child process for the sliding window's restart and commit-hold tests:
 * Node-RED embedded (no editor, no HTTP) with its own user directory, the localfilesystem context
 * store (1 s flushInterval) and the built window node from dist/. The child reports every message the
 * window sends (onSend hook) and every input it completes (onComplete hook), and takes inputs over
 * IPC. With `holds`, a fake consumer `kin` in the node's ack registry reports each hold and release,
 * with the offsets the context file on disk holds at that release.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { root } from './_helper';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Msg = Record<string, any>;

const RUNNER = `
'use strict';
const fs = require('fs');
const path = require('path');
const RED = require(process.env.NODE_RED);
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
if (process.env.ACK_JS) {
  const contextFile = path.join(process.env.USER_DIR, 'context', 'tab', 'win.json');
  const onDisk = () => {
    try {
      return JSON.parse(fs.readFileSync(contextFile, 'utf8')).slidingWindow.offsets;
    } catch (err) {
      return null;
    }
  };
  require(process.env.ACK_JS).registerConsumer('kin', {
    ack() {},
    hold(id, holder) {
      process.send({ type: 'hold', id, holder });
      return 'held';
    },
    release(id, holder) {
      process.send({ type: 'release', id, holder, onDisk: onDisk() });
    },
  });
}
RED.init(null, settings);
RED.hooks.add('onSend', (events) => {
  for (const e of events) {
    if (e.source.id !== 'win') continue;
    process.send({ type: 'out', port: e.source.port, payload: e.msg.payload, late: e.msg.late });
  }
});
RED.hooks.add('onComplete', (e) => {
  if (e.node.id === 'win') process.send({ type: 'done', id: e.msg.testId });
});
process.on('message', (m) => {
  if (m.type === 'input') RED.nodes.getNode('win').receive(m.msg);
  else if (m.type === 'stop') RED.stop().then(() => process.send({ type: 'stopped' }, () => process.exit(0)));
});
// RED.start() resolves before the flows run: 'ready' waits for them.
RED.events.once('flows:started', () => process.send({ type: 'ready' }));
RED.start().catch((err) => { console.error(err); process.exit(1); });
`;

export interface WindowRuntime {
  child: ChildProcess;
  /** Output 1 messages of the window ({ port, payload }), in order. */
  out: Msg[];
  /** Output 2 messages (late readings). */
  late: Msg[];
  /** With `holds`: the ack ids held and released (with the offsets on disk at that release). */
  holds: { id: number; holder: string }[];
  releases: { id: number; holder: string; onDisk: Record<string, number> | null }[];
  /** Send a message to the window node and wait until it is done with it. */
  input(msg: Msg): Promise<void>;
  /** Stop Node-RED (close handlers run) and wait for the process to exit. */
  stop(): Promise<void>;
  kill(): Promise<void>;
}

let inputSeq = 0;
/** What the fixture made, for {@link cleanUpWindowRuntimes}. */
const made = { dirs: [] as string[], runtimes: [] as WindowRuntime[] };

/** For a suite's `after`: kill runtimes still running and delete the user directories made. */
export function cleanUpWindowRuntimes(): void {
  for (const rt of made.runtimes.splice(0)) if (rt.child.exitCode === null) rt.child.kill('SIGKILL');
  for (const d of made.dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

/** A user directory with the child's script and a flow of one window node `win` (tab `tab`) given `config`. */
export function windowUserDir(prefix: string, config: Msg = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.dirs.push(dir);
  fs.writeFileSync(path.join(dir, 'runner.js'), RUNNER);
  const flow = [
    { id: 'tab', type: 'tab', label: prefix },
    // x and y: without them Node-RED takes a node for a config node
    { id: 'win', type: 'smoke-sliding-window', z: 'tab', name: 'win', x: 200, y: 100, ...config, wires: [['j1'], ['j2']] },
    { id: 'j1', type: 'junction', z: 'tab', x: 0, y: 0, wires: [] },
    { id: 'j2', type: 'junction', z: 'tab', x: 0, y: 0, wires: [] },
  ];
  fs.writeFileSync(path.join(dir, 'flows.json'), JSON.stringify(flow));
  return dir;
}

/** Start the runtime of `userDir`; resolves once its flows run. */
export function startWindowRuntime(userDir: string, opts: { holds?: boolean } = {}): Promise<WindowRuntime> {
  const child = fork(path.join(userDir, 'runner.js'), [], {
    env: {
      ...process.env,
      NODE_RED: require.resolve('node-red'),
      USER_DIR: userDir,
      NODES_DIR: path.join(root, 'dist', 'nodes', 'sliding-window'),
      ...(opts.holds ? { ACK_JS: path.join(root, 'dist', 'nodes', 'nr', 'ack.js') } : {}),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map<number, (err?: Error) => void>();
  let onStopped: (() => void) | null = null;
  // A child that dies fails whatever waits on it instead of leaving the test to time out.
  child.once('exit', (code, signal) => {
    for (const fail of [...waiting.values()]) fail(new Error(`Node-RED exited (${code ?? signal})`));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const rt: WindowRuntime = {
    child,
    out: [],
    late: [],
    holds: [],
    releases: [],
    input: (msg) =>
      new Promise((resolve, reject) => {
        const id = ++inputSeq;
        waiting.set(id, (err) => {
          waiting.delete(id);
          if (err) reject(err);
          else resolve();
        });
        child.send({ type: 'input', msg: { ...msg, testId: id } });
      }),
    stop: async () => {
      const stopped = new Promise<void>((resolve) => (onStopped = resolve));
      child.send({ type: 'stop' });
      await stopped;
      await exited;
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
  made.runtimes.push(rt);
  child.on('message', (m: Msg) => {
    if (m.type === 'out') (m.port === 0 ? rt.out : rt.late).push(m);
    else if (m.type === 'hold') rt.holds.push({ id: m.id, holder: m.holder });
    else if (m.type === 'release') rt.releases.push({ id: m.id, holder: m.holder, onDisk: m.onDisk });
    else if (m.type === 'done') waiting.get(m.id)?.();
    else if (m.type === 'stopped') onStopped?.();
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`Node-RED exited (${code}) before it was ready`)));
    child.on('message', (m: Msg) => m.type === 'ready' && resolve(rt));
  });
}
