/**
 * A real Node-RED runtime started in-process (`require('node-red')`), headless: a temp userDir with the
 * package linked into its node_modules (as scripts/start.js and the palette manager do), the bench-only
 * node types from bench/nodes through settings.nodesDir, and a flow JSON written by the bench.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
const BENCH_NODES = path.resolve(__dirname, '..', 'nodes');

/** The object the bench-only nodes and the bench share (see bench/nodes/bench-nodes.js). */
export interface TapState {
  records: number;
  messages: number;
  first: number;
  last: number;
}
export interface SourceNode {
  send(msg: unknown): void;
}
export interface BenchGlobal {
  sources: Map<string, SourceNode>;
  taps: Map<string, TapState>;
  listeners: Map<string, (records: number, msg: Record<string, unknown>, now: number) => void>;
}

export function benchGlobal(): BenchGlobal {
  const g = globalThis as { __smokeBench?: BenchGlobal };
  return (g.__smokeBench ??= { sources: new Map(), taps: new Map(), listeners: new Map() });
}

export interface FlowNode {
  id: string;
  type: string;
  z?: string;
  name?: string;
  wires?: string[][];
  [key: string]: unknown;
}

export interface SendEvent {
  msg: Record<string, unknown>;
  source: { id: string; node: { type: string }; port: number };
  destination: { id: string };
}

/** An onComplete hook's event: a node called done() for `msg` (with `error` when it failed). */
export interface CompleteEvent {
  msg: Record<string, unknown>;
  error?: unknown;
  node: { id: string };
}

/** The part of the node-red module the bench uses. */
export interface NodeRedApi {
  init(settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  hooks: {
    add(id: `onComplete.${string}`, fn: (ev: CompleteEvent) => void): void;
    add(id: string, fn: (ev: SendEvent[]) => void): void;
    remove(id: string): void;
  };
  events: { on(ev: string, fn: (e: { id?: string; payload?: { error?: string; types?: string[] } }) => void): void };
  nodes: { getNode(id: string): unknown };
}

export interface RunningNodeRed {
  RED: NodeRedApi;
  userDir: string;
  /** Node-RED log lines at warn level and above (node errors, bad configs). */
  problems: string[];
  stop(): Promise<void>;
}

/**
 * A tab holding `nodes`. Flow nodes get z and x/y (Node-RED treats a node without x/y as a config
 * node); nodes listed in `configTypes` stay global config nodes.
 */
export function tab(nodes: FlowNode[], configTypes: string[] = ['smoke-kafka-broker'], id = 'bench-tab'): FlowNode[] {
  return [
    { id, type: 'tab', label: 'bench' },
    ...nodes.map((n, i) => (configTypes.includes(n.type) ? n : { x: 100 + 150 * i, y: 100, ...n, z: id })),
  ];
}

/** Log lines Node-RED prints at warn level on every headless start: not problems of the run. */
const NOISE = [/^-+$/, /^Projects disabled/, /^Using unencrypted credentials/, /^Communication server error/];

export interface StartOptions {
  /** Link the package (dist/nodes) into the userDir's node_modules; off for bench-only flows. */
  withPackage?: boolean;
  extraSettings?: Record<string, unknown>;
  quiet?: boolean;
}

export async function startNodeRed(flows: FlowNode[], opts: StartOptions = {}): Promise<RunningNodeRed> {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-bench-'));
  if (opts.withPackage !== false) {
    const link = path.join(userDir, 'node_modules', '@smoke-stream', 'node-red-smoke-stream');
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(ROOT, link, 'dir');
    fs.writeFileSync(
      path.join(userDir, 'package.json'),
      JSON.stringify({ name: 'smoke-bench', private: true, dependencies: { '@smoke-stream/node-red-smoke-stream': 'file:' + ROOT } }),
    );
  }
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows));

  const problems: string[] = [];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED = require('node-red') as NodeRedApi;
  const started = new Promise<void>((resolve, reject) => {
    RED.events.on('flows:started', () => resolve());
    RED.events.on('runtime-event', (e) => {
      if (e.id === 'runtime-state' && e.payload?.error) {
        reject(new Error(`Node-RED did not start the flow: ${e.payload.error} ${(e.payload.types ?? []).join(', ')}`));
      }
    });
  });
  RED.init({
    userDir,
    flowFile: 'flows.json',
    credentialSecret: false,
    httpAdminRoot: false,
    httpNodeRoot: false,
    disableEditor: true,
    nodesDir: [BENCH_NODES],
    // Core nodes are not used by the bench flows; not loading them saves startup time.
    coreNodesDir: '',
    logging: {
      bench: {
        level: 'warn',
        metrics: false,
        audit: false,
        handler: () => (m: { level: number; msg: unknown; type?: string; id?: string }) => {
          const body = typeof m.msg === 'string' ? m.msg : m.msg instanceof Error ? m.msg.message : JSON.stringify(m.msg);
          if (NOISE.some((re) => re.test(body))) return;
          const text = `${m.type ? `[${m.type}${m.id ? ':' + m.id : ''}] ` : ''}${body}`;
          problems.push(text);
          if (!opts.quiet && problems.length <= 20) process.stderr.write(`  node-red: ${text}\n`);
        },
      },
    },
    editorTheme: { projects: { enabled: false } },
    ...opts.extraSettings,
  });
  await RED.start();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    started,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Node-RED flows did not start within 30 s${problems.length ? ': ' + problems.join('; ') : ''}`)), 30_000);
    }),
  ]).finally(() => clearTimeout(timer));
  for (const n of flows) {
    if (n.type !== 'tab' && !RED.nodes.getNode(n.id)) throw new Error(`node ${n.id} (${n.type}) was not created${problems.length ? ': ' + problems.join('; ') : ''}`);
  }
  let stopping: Promise<void> | undefined;
  return {
    RED,
    userDir,
    problems,
    stop() {
      stopping ??= RED.stop().finally(() => fs.rmSync(userDir, { recursive: true, force: true }));
      return stopping;
    },
  };
}

/** Pass-through chain for the runtime ceiling: source → `hops` bench-pass nodes, the last one a tap. */
export function passThroughFlow(hops: number): FlowNode[] {
  const nodes: FlowNode[] = [];
  const ids = Array.from({ length: hops }, (_, i) => `pass-${i + 1}`);
  nodes.push({ id: 'src', type: 'bench-source', name: 'src', wires: [[ids[0]]] });
  for (let i = 0; i < hops - 1; i++) nodes.push({ id: ids[i], type: 'bench-pass', wires: [[ids[i + 1]]] });
  nodes.push({ id: ids[hops - 1], type: 'bench-tap', name: 'end', wires: [[]] });
  return tab(nodes);
}
