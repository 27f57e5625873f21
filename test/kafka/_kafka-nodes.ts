/**
 * Shared pieces of the kafka node suites: the built node modules, flow builders, readings from the
 * real data file, a kafkajs producer for test input, and waiting on conditions (not sleeps).
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Partitioners, type Message } from 'kafkajs';
import { bootstrap, kafkaClient } from './broker';
import { withCatalogues } from '../nodes/_catalogues';

export const root = path.resolve(__dirname, '..', '..');
export const DATA = path.resolve(__dirname, '../../../shared/data/smoke_detection_iot.csv');

/* eslint-disable @typescript-eslint/no-require-imports */
export const helper = require('node-red-node-test-helper');
helper.init(require.resolve('node-red'));

/** A built node module, with Node-RED's real message catalogues (test/nodes/_catalogues.ts). */
export function nodeModule(name: string): unknown {
  return withCatalogues(path.join(root, 'dist', 'nodes', name, `${name}.js`));
}
export const brokerModule = nodeModule('kafka-broker');
export const inModule = nodeModule('kafka-in');
export const outModule = nodeModule('kafka-out');

/** The ack registry as the built nodes see it (the dist module, not the TypeScript source). */
export const ackRegistry = require(path.join(root, 'dist', 'nodes', 'nr', 'ack.js')) as {
  ack(token: unknown, records: number): boolean;
};
/* eslint-enable @typescript-eslint/no-require-imports */

export type FlowNode = Record<string, unknown> & { id: string; type: string };

/** A broker config node for the test broker with short retries (tests want fast failure detection). */
export function brokerNode(id = 'broker', extra: Record<string, unknown> = {}): FlowNode {
  return {
    id,
    type: 'smoke-kafka-broker',
    brokers: bootstrap().join(','),
    clientId: 'smoke-test',
    connectionTimeout: 1000,
    requestTimeout: 10000,
    retryInitial: 100,
    retryMax: 1000,
    retries: 3,
    ...extra,
  };
}

/** A kafka in node wired to helper nodes `out1`, `out2`, `out3`. */
export function kafkaInNode(topic: string, extra: Record<string, unknown> = {}, id = 'in'): FlowNode {
  return {
    id,
    type: 'smoke-kafka-in',
    broker: 'broker',
    topics: topic,
    groupId: `${topic}-group`,
    start: 'earliest',
    sessionTimeout: 10000,
    heartbeatInterval: 1000,
    backoffInitial: 200,
    backoffMax: 2000,
    lagInterval: 1000,
    wires: [['out1'], ['out2'], ['out3']],
    ...extra,
  };
}

export function sinks(): FlowNode[] {
  return ['out1', 'out2', 'out3'].map((id) => ({ id, type: 'helper' }));
}

/** The first `n` readings of the data file as Kaggle-header objects, with a device id (20 devices). */
export function readings(n: number, devices = 20): Record<string, unknown>[] {
  const text = fs.readFileSync(DATA, 'utf8');
  const lines = text.split(/\r?\n/);
  const header = lines[0].split(',');
  const out: Record<string, unknown>[] = [];
  for (let i = 1; i < lines.length && out.length < n; i++) {
    if (!lines[i]) continue;
    const cells = lines[i].split(',');
    const r: Record<string, unknown> = {};
    for (let c = 1; c < header.length; c++) r[header[c]] = Number(cells[c]);
    r.device_id = `dev-${String(out.length % devices).padStart(2, '0')}`;
    r.seq = out.length;
    out.push(r);
  }
  return out;
}

/** Produce records (value objects are sent as JSON) in chunks; returns when the broker acknowledged all. */
export async function produce(topic: string, messages: Message[]): Promise<void> {
  const producer = kafkaClient().producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 2000) {
      await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 2000) });
    }
  } finally {
    await producer.disconnect();
  }
}

export function jsonMessages(items: Record<string, unknown>[], key = 'device_id'): Message[] {
  return items.map((r) => ({ key: String(r[key]), value: JSON.stringify(r) }));
}

/** Resolves when `cond()` holds (checked every `everyMs`), rejects with `what()` after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs: number, what: () => string, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what()}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Node status changes of a node, recorded through the helper's `call:status` events. */
export function recordStatus(node: { on(ev: string, fn: (call: { args: unknown[] }) => void): void }): Array<{ fill?: string; shape?: string; text?: string }> {
  const seen: Array<{ fill?: string; shape?: string; text?: string }> = [];
  node.on('call:status', (call) => seen.push(call.args[0] as { fill?: string; text?: string }));
  return seen;
}

export interface Collected {
  records: Array<{ payload: unknown; kafka: Record<string, unknown>; key?: unknown; topic?: unknown }>;
  batches: Array<{ payload: unknown[]; kafka: Record<string, unknown>; topic?: unknown }>;
  invalid: Array<{ payload: unknown; error: unknown; kafka: Record<string, unknown> }>;
  metrics: Array<{ payload: Record<string, unknown> }>;
  count(): number;
}

/** Listen on the three helper outputs of a loaded flow. */
export function collect(): Collected {
  const c: Collected = {
    records: [],
    batches: [],
    invalid: [],
    metrics: [],
    count() {
      return c.records.length + c.batches.reduce((s, b) => s + b.payload.length, 0);
    },
  };
  helper.getNode('out1').on('input', (msg: { payload: unknown; kafka: Record<string, unknown> }) => {
    if (Array.isArray(msg.payload)) c.batches.push(msg as Collected['batches'][number]);
    else c.records.push(msg);
  });
  helper.getNode('out2').on('input', (msg: Collected['invalid'][number]) => c.invalid.push(msg));
  helper.getNode('out3').on('input', (msg: Collected['metrics'][number]) => c.metrics.push(msg));
  return c;
}

/** The members of a consumer group, as the broker sees them. */
export async function groupMembers(groupId: string): Promise<{ state: string; members: number }> {
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([groupId]);
    return { state: groups[0]?.state ?? 'Unknown', members: groups[0]?.members.length ?? 0 };
  } finally {
    await admin.disconnect();
  }
}

/** Committed offsets of a group for a topic, by partition. */
export async function committedOffsets(groupId: string, topic: string): Promise<Record<number, number>> {
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    const res = await admin.fetchOffsets({ groupId, topics: [topic] });
    const out: Record<number, number> = {};
    for (const p of res[0]?.partitions ?? []) out[p.partition] = Number(p.offset);
    return out;
  } finally {
    await admin.disconnect();
  }
}

/** Log-end offsets of a topic, by partition. */
export async function endOffsets(topic: string): Promise<Record<number, number>> {
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    const out: Record<number, number> = {};
    for (const p of await admin.fetchTopicOffsets(topic)) out[p.partition] = Number(p.high);
    return out;
  } finally {
    await admin.disconnect();
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls the group's committed offsets until they equal `expected` (by partition). */
export async function waitForCommitted(groupId: string, topic: string, expected: Record<number, number>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: Record<number, number> = {};
  for (;;) {
    last = await committedOffsets(groupId, topic);
    if (Object.keys(expected).every((p) => last[Number(p)] === expected[Number(p)])) return;
    if (Date.now() > deadline) throw new Error(`committed offsets ${JSON.stringify(last)}, expected ${JSON.stringify(expected)}`);
    await sleep(200);
  }
}

/** Node-RED keeps close and input handlers outside EventEmitter: whether a node registered them. */
export function hasCloseHandler(node: { _closeCallbacks?: unknown[] }): boolean {
  return (node._closeCallbacks?.length ?? 0) > 0;
}
export function hasInputHandler(node: { _inputCallback?: unknown; _inputCallbacks?: unknown[] | null }): boolean {
  return Boolean(node._inputCallback) || (node._inputCallbacks?.length ?? 0) > 0;
}

/** A local port where nothing listens (a connection to it is refused): bound once, then released. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Catch and Complete nodes of Node-RED's core palette, for flows that check what a node reports; its delay node. */
/* eslint-disable @typescript-eslint/no-require-imports */
export const catchModule = require('@node-red/nodes/core/common/25-catch.js');
export const completeModule = require('@node-red/nodes/core/common/24-complete.js');
export const delayModule = require('@node-red/nodes/core/function/89-delay.js');
/* eslint-enable @typescript-eslint/no-require-imports */

export interface LogLine {
  level: number;
  id?: string;
  msg?: unknown;
}

/**
 * The lines the runtime logged for node `id` since the flow was loaded, at the levels its console shows
 * by default (info, warn, error; warn and error also go to the debug sidebar).
 */
export function loggedLines(id: string): string[] {
  const log = helper.log();
  return log.args
    .map((a: unknown[]) => a[0] as LogLine)
    .filter((e: LogLine) => e.id === id && e.level <= log.INFO)
    .map((e: LogLine) => String(e.msg));
}
