/**
 * Prometheus metrics for every smoke-stream node (the seed's throughput, error-rate, alert-rate,
 * latency and lag figures), served in the Prometheus text format on the Node-RED runtime's HTTP
 * server: `GET <httpNodeRoot>/smoke-stream/metrics` by default.
 *
 * Settings (settings.js): `smokeStream: { metrics: false }` turns it off;
 * `smokeStream: { metrics: { path: '/metrics' } }` moves it.
 *
 * Counting must not cost on the hot path: each node binds its label values once
 * ({@link NodeMetrics}) and then only increments numbers (no label hashing, no allocation per message).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Node, RED } from './types';

export const registry = new Registry();

const NODE_LABELS = ['node_id', 'node_name', 'node_type'] as const;

const readingsIn = new Counter({ name: 'smoke_readings_in_total', help: 'Readings received by a node', labelNames: NODE_LABELS, registers: [registry] });
const readingsOut = new Counter({ name: 'smoke_readings_out_total', help: 'Readings passed on by a node', labelNames: NODE_LABELS, registers: [registry] });
const invalid = new Counter({ name: 'smoke_invalid_readings_total', help: 'Invalid readings by error code', labelNames: [...NODE_LABELS, 'code'], registers: [registry] });
const alerts = new Counter({ name: 'smoke_alerts_total', help: 'Alerts emitted by type and severity', labelNames: [...NODE_LABELS, 'type', 'severity'], registers: [registry] });
const late = new Counter({ name: 'smoke_late_readings_total', help: 'Readings routed to the late output of a sliding window', labelNames: NODE_LABELS, registers: [registry] });
const windows = new Counter({ name: 'smoke_windows_emitted_total', help: 'Window results emitted', labelNames: NODE_LABELS, registers: [registry] });
const csvRows = new Counter({ name: 'smoke_csv_rows_written_total', help: 'CSV rows durably written', labelNames: NODE_LABELS, registers: [registry] });
const csvErrors = new Counter({ name: 'smoke_csv_write_errors_total', help: 'CSV write errors', labelNames: NODE_LABELS, registers: [registry] });
const kafkaRecords = new Counter({ name: 'smoke_kafka_records_consumed_total', help: 'Kafka records consumed', labelNames: NODE_LABELS, registers: [registry] });
const kafkaProduced = new Counter({ name: 'smoke_kafka_records_produced_total', help: 'Kafka records acknowledged by the broker', labelNames: NODE_LABELS, registers: [registry] });
const kafkaLag = new Gauge({ name: 'smoke_kafka_consumer_lag', help: 'Consumer lag in records per partition', labelNames: [...NODE_LABELS, 'topic', 'partition'], registers: [registry] });
const rebalances = new Counter({ name: 'smoke_kafka_rebalances_total', help: 'Consumer group rebalances seen', labelNames: NODE_LABELS, registers: [registry] });
const reconnects = new Counter({ name: 'smoke_kafka_reconnects_total', help: 'Kafka client reconnects and consumer restarts', labelNames: NODE_LABELS, registers: [registry] });
const latency = new Histogram({
  name: 'smoke_end_to_end_latency_seconds',
  help: "End-to-end latency: reading's Kafka timestamp (or arrival) to alert emitted or CSV row written",
  labelNames: [...NODE_LABELS, 'stage'],
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

type Inc = { inc(n?: number): void };

/** The metrics of one node instance, label values bound once. */
export class NodeMetrics {
  readonly readingsIn: Inc;
  readonly readingsOut: Inc;
  readonly late: Inc;
  readonly windows: Inc;
  readonly csvRows: Inc;
  readonly csvErrors: Inc;
  readonly kafkaRecords: Inc;
  readonly kafkaProduced: Inc;
  readonly rebalances: Inc;
  readonly reconnects: Inc;
  private readonly labels: Record<(typeof NODE_LABELS)[number], string>;
  private readonly invalidByCode = new Map<string, Inc>();
  private readonly alertsByKind = new Map<string, Inc>();
  private readonly latencyByStage = new Map<string, { observe(v: number): void }>();
  private readonly lagKeys: Record<string, string>[] = [];

  constructor(node: Pick<Node, 'id' | 'type'> & { name?: string }) {
    this.labels = { node_id: node.id, node_name: node.name ?? '', node_type: node.type };
    this.readingsIn = readingsIn.labels(this.labels);
    this.readingsOut = readingsOut.labels(this.labels);
    this.late = late.labels(this.labels);
    this.windows = windows.labels(this.labels);
    this.csvRows = csvRows.labels(this.labels);
    this.csvErrors = csvErrors.labels(this.labels);
    this.kafkaRecords = kafkaRecords.labels(this.labels);
    this.kafkaProduced = kafkaProduced.labels(this.labels);
    this.rebalances = rebalances.labels(this.labels);
    this.reconnects = reconnects.labels(this.labels);
  }

  invalid(code: string, n = 1): void {
    let c = this.invalidByCode.get(code);
    if (c === undefined) {
      c = invalid.labels({ ...this.labels, code });
      this.invalidByCode.set(code, c);
    }
    c.inc(n);
  }

  alert(type: string, severity: string, n = 1): void {
    const k = type + '|' + severity;
    let c = this.alertsByKind.get(k);
    if (c === undefined) {
      c = alerts.labels({ ...this.labels, type, severity });
      this.alertsByKind.set(k, c);
    }
    c.inc(n);
  }

  /** Observe an end-to-end latency in milliseconds for a stage (`alert`, `csv`). */
  latencyMs(stage: string, ms: number): void {
    let h = this.latencyByStage.get(stage);
    if (h === undefined) {
      h = latency.labels({ ...this.labels, stage });
      this.latencyByStage.set(stage, h);
    }
    h.observe(ms / 1000);
  }

  lag(topic: string, partition: number, value: number): void {
    const l = { ...this.labels, topic, partition: String(partition) };
    kafkaLag.set(l, value);
    if (!this.lagKeys.some((k) => k.topic === topic && k.partition === l.partition)) this.lagKeys.push(l);
  }

  /** Forget this node's series (on close: a redeployed node starts from zero under its id). */
  remove(): void {
    const all = [readingsIn, readingsOut, late, windows, csvRows, csvErrors, kafkaRecords, kafkaProduced, rebalances, reconnects];
    for (const m of all) m.remove(this.labels);
    for (const code of this.invalidByCode.keys()) invalid.remove({ ...this.labels, code });
    for (const k of this.alertsByKind.keys()) {
      const [type, severity] = k.split('|');
      alerts.remove({ ...this.labels, type, severity });
    }
    for (const stage of this.latencyByStage.keys()) latency.remove({ ...this.labels, stage });
    for (const l of this.lagKeys) kafkaLag.remove(l);
  }
}

interface SmokeSettings {
  metrics?: false | { path?: string; defaultMetrics?: boolean };
}

/** HTTP apps that already serve the endpoint (one per runtime; tests start several in one process). */
const installedOn = new WeakSet<object>();
let defaultsOn = false;

/**
 * Serve the registry on the runtime's HTTP server, once per process (every node calls this; the first
 * call installs the route). Returns the path, or null when turned off or no HTTP server is there.
 */
export function installMetricsEndpoint(RED: RED): string | null {
  const settings = (RED.settings as unknown as { smokeStream?: SmokeSettings }).smokeStream ?? {};
  if (settings.metrics === false) return null;
  const path = (settings.metrics && settings.metrics.path) || '/smoke-stream/metrics';
  const http = (RED as unknown as { httpNode?: { get: (p: string, h: (req: unknown, res: ResLike) => void) => void } }).httpNode;
  if (!http || typeof http.get !== 'function') return null;
  if (installedOn.has(http)) return path;
  installedOn.add(http);
  if (settings.metrics && settings.metrics.defaultMetrics && !defaultsOn) {
    defaultsOn = true;
    collectDefaultMetrics({ register: registry, prefix: 'smoke_process_' });
  }
  http.get(path, (_req, res) => {
    registry.metrics().then(
      (text) => {
        res.set('Content-Type', registry.contentType);
        res.send(text);
      },
      (err: Error) => res.status(500).send(String(err?.message ?? err)),
    );
  });
  return path;
}

interface ResLike {
  set(k: string, v: string): void;
  send(body: string): void;
  status(code: number): ResLike;
}
