/**
 * Prometheus metrics for every smoke-stream node (the seed's throughput, error-rate, alert-rate,
 * latency and lag figures), served in the Prometheus text format on the Node-RED runtime's HTTP
 * server: `GET <httpNodeRoot>/smoke-stream/metrics` by default (behind `httpNodeAuth` /
 * `httpNodeMiddleware` like every HTTP-in route).
 *
 * Settings (settings.js): `smokeStream: { metrics: false }` turns the endpoint off (404);
 * `smokeStream: { metrics: { path: '/metrics', defaultMetrics: true } }` moves it and adds the
 * process metrics (CPU, memory, event-loop lag) with the prefix `smoke_process_`.
 * Environment: `SMOKE_METRICS=off` turns the endpoint off AND makes counting a no-op (nodes created
 * while it is set count nothing): the benchmark's "metrics off" run.
 *
 * Counting must not cost on the hot path. prom-client's bound children still hash their label set on
 * every `inc()` (a string built per call), so the nodes do not touch prom-client at all: each
 * {@link NodeMetrics} holds plain number cells that `inc()` adds to, and the registry's metrics read
 * the live cells only when scraped (the "collect on scrape" pattern).
 */
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Node, RED } from './types';

export const registry = new Registry();

/** Label names of every series, in this order: node id, node name, node type. */
export const NODE_LABELS = ['node_id', 'node_name', 'node_type'] as const;
type NodeLabels = Record<(typeof NODE_LABELS)[number], string>;

/** Upper bounds (seconds) of the end-to-end latency histogram. */
export const LATENCY_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What a counter offers the nodes: add `n` (default 1; negative or NaN is ignored). */
export interface Inc {
  inc(n?: number): void;
  readonly value: number;
}

class Cell implements Inc {
  value = 0;
  inc(n = 1): void {
    // `n > 0` is false for NaN too: a bad count must not poison the series forever.
    if (n > 0) this.value += n;
  }
}

class NoCell implements Inc {
  readonly value = 0;
  inc(): void {}
}
const NO_CELL = new NoCell();

class LatencyCell {
  readonly buckets = new Float64Array(LATENCY_BUCKETS.length);
  sum = 0;
  count = 0;
  observe(seconds: number): void {
    if (!(seconds >= 0)) seconds = 0; // clock skew between producer and runtime: count it as 0
    this.sum += seconds;
    this.count++;
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      if (seconds <= LATENCY_BUCKETS[i]) {
        this.buckets[i]++;
        return;
      }
    }
  }
}

/**
 * The Kafka record time of a message in epoch ms, the start of the end-to-end latency:
 * `msg.kafka.timestamp` (one record), else the first of `msg.kafka.timestamps` (a batch from
 * `kafka in`: its first record, so the batch's latency is that of its longest-waiting record);
 * NaN when the message has neither.
 */
export function kafkaTimeOf(msg: object): number {
  const k = (msg as { kafka?: unknown }).kafka as { timestamp?: unknown; timestamps?: unknown } | undefined | null;
  if (k === undefined || k === null) return NaN;
  if (k.timestamp !== undefined) return Number(k.timestamp);
  const ts = k.timestamps;
  return Array.isArray(ts) && ts.length > 0 ? Number(ts[0]) : NaN;
}

/** Counting is off for nodes created while `SMOKE_METRICS` is `off` (or `0`, `false`, `no`). */
export function metricsDisabledByEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(off|0|false|no)$/i.test(env.SMOKE_METRICS ?? '');
}

/** The NodeMetrics of every running node, by node id (a redeployed node replaces its predecessor). */
const live = new Map<string, NodeMetrics>();

/**
 * The metrics of closed nodes, by node id: a node deployed again under its id (a full deploy restarts
 * every node) continues its counters, so that Prometheus' `rate()` sees no reset. Bounded: the oldest
 * go first.
 */
const retired = new Map<string, NodeMetrics>();
const MAX_RETIRED = 1000;

/** Forget the counters of closed nodes: a node deployed again under its id then starts from 0. */
export function forgetClosedNodes(): void {
  retired.clear();
}

/** Metric families, by what they count. */
export type Family =
  | 'readingsIn'
  | 'readingsOut'
  | 'invalid'
  | 'alerts'
  | 'late'
  | 'windows'
  | 'csv'
  | 'kafkaIn'
  | 'kafkaOut'
  | 'latency';

/**
 * The families each node type reports (a csv sink's rows are not a sensor sim's concern): a scrape
 * shows every family of a node from its start (at 0), and no other. Types not listed report all.
 */
const FAMILIES: Record<string, readonly Family[]> = {
  'smoke-sensor-sim': ['readingsOut'],
  'smoke-sensor-validate': ['readingsIn', 'readingsOut', 'invalid'],
  'smoke-threshold-alert': ['readingsIn', 'readingsOut', 'alerts', 'latency'],
  'smoke-zscore-anomaly': ['readingsIn', 'readingsOut', 'alerts', 'latency'],
  'smoke-fire-pattern': ['readingsIn', 'readingsOut', 'alerts', 'latency'],
  'smoke-window-alert': ['readingsIn', 'readingsOut', 'alerts', 'latency'],
  'smoke-sliding-window': ['readingsIn', 'late', 'windows'],
  'smoke-csv-sink': ['csv', 'latency'],
  'smoke-kafka-in': ['kafkaIn', 'invalid'],
  'smoke-kafka-out': ['kafkaOut'],
};
const ALL_FAMILIES: readonly Family[] = ['readingsIn', 'readingsOut', 'invalid', 'alerts', 'late', 'windows', 'csv', 'kafkaIn', 'kafkaOut', 'latency'];

/** The metrics of one node instance: plain cells, label values fixed once. */
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
  /** False when counting was turned off (`SMOKE_METRICS=off`) as this node was created. */
  readonly enabled: boolean;
  /** The families this node's type reports (see FAMILIES). */
  readonly families: ReadonlySet<Family>;
  readonly labels: Readonly<NodeLabels>;
  /** code → count. */
  readonly invalidByCode = new Map<string, Cell>();
  /** type → severity → count (nested maps: no key string built per alert). */
  readonly alertsByKind = new Map<string, Map<string, Cell>>();
  /** stage → histogram. */
  readonly latencyByStage = new Map<string, LatencyCell>();
  /** topic → partition → lag in records. */
  readonly lagByPartition = new Map<string, Map<number, number>>();

  constructor(node: Pick<Node, 'id' | 'type'> & { name?: string }) {
    this.labels = { node_id: String(node.id), node_name: node.name ?? '', node_type: String(node.type) };
    this.enabled = !metricsDisabledByEnv();
    this.families = new Set(FAMILIES[this.labels.node_type] ?? ALL_FAMILIES);
    // The same node deployed again (same id and type): its counters go on from where they were.
    const prev = retired.get(this.labels.node_id);
    const from = this.enabled && prev !== undefined && prev.labels.node_type === this.labels.node_type ? prev : undefined;
    retired.delete(this.labels.node_id);
    const make = (cell?: Inc): Inc => (!this.enabled ? NO_CELL : (cell ?? new Cell()));
    this.readingsIn = make(from?.readingsIn);
    this.readingsOut = make(from?.readingsOut);
    this.late = make(from?.late);
    this.windows = make(from?.windows);
    this.csvRows = make(from?.csvRows);
    this.csvErrors = make(from?.csvErrors);
    this.kafkaRecords = make(from?.kafkaRecords);
    this.kafkaProduced = make(from?.kafkaProduced);
    this.rebalances = make(from?.rebalances);
    this.reconnects = make(from?.reconnects);
    if (from) {
      for (const [k, v] of from.invalidByCode) this.invalidByCode.set(k, v);
      for (const [k, v] of from.alertsByKind) this.alertsByKind.set(k, v);
      for (const [k, v] of from.latencyByStage) this.latencyByStage.set(k, v);
    }
    if (this.enabled) live.set(this.labels.node_id, this);
  }

  /** Whether this node's type reports `family`. */
  reports(family: Family): boolean {
    return this.families.has(family);
  }

  /** Count `n` invalid readings with the error code `code` (CONTRACT §3 codes, `kafka-decode`, …). */
  invalid(code: string, n = 1): void {
    if (!this.enabled) return;
    let c = this.invalidByCode.get(code);
    if (c === undefined) this.invalidByCode.set(code, (c = new Cell()));
    c.inc(n);
  }

  /** Count `n` alerts of one type (`THRESHOLD`, `STATISTICAL`, `PATTERN`) and severity. */
  alert(type: string, severity: string, n = 1): void {
    if (!this.enabled) return;
    let bySeverity = this.alertsByKind.get(type);
    if (bySeverity === undefined) this.alertsByKind.set(type, (bySeverity = new Map()));
    let c = bySeverity.get(severity);
    if (c === undefined) bySeverity.set(severity, (c = new Cell()));
    c.inc(n);
  }

  /** Observe an end-to-end latency in milliseconds for a stage (`alert`, `csv`). */
  latencyMs(stage: string, ms: number): void {
    if (!this.enabled) return;
    let h = this.latencyByStage.get(stage);
    if (h === undefined) this.latencyByStage.set(stage, (h = new LatencyCell()));
    h.observe(ms / 1000);
  }

  /** Set the consumer lag (records) of one partition. */
  lag(topic: string, partition: number, value: number): void {
    if (!this.enabled) return;
    let byPartition = this.lagByPartition.get(topic);
    if (byPartition === undefined) this.lagByPartition.set(topic, (byPartition = new Map()));
    byPartition.set(partition, value);
  }

  /**
   * Replace every lag series by `lag` (topic → partition → records): partitions this node no longer
   * reads after a rebalance disappear instead of showing their last lag for ever.
   */
  replaceLag(lag: Readonly<Record<string, Readonly<Record<string, number>>>>): void {
    if (!this.enabled) return;
    this.lagByPartition.clear();
    for (const topic of Object.keys(lag)) {
      for (const partition of Object.keys(lag[topic])) this.lag(topic, Number(partition), lag[topic][partition]);
    }
  }

  /**
   * The node closed: its series leave the scrape. Its counters are kept for a node deployed again
   * under its id (the lag, a reading of now, is not).
   */
  remove(): void {
    if (live.get(this.labels.node_id) !== this) return;
    live.delete(this.labels.node_id);
    if (!this.enabled) return;
    this.lagByPartition.clear();
    retired.delete(this.labels.node_id);
    retired.set(this.labels.node_id, this);
    if (retired.size > MAX_RETIRED) retired.delete(retired.keys().next().value as string);
  }
}

// ---------------------------------------------------------------------------------------------
// Registry side: metrics that read the live cells when scraped
// ---------------------------------------------------------------------------------------------

interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/**
 * A metric in prom-client's registry shape (what `Registry.metrics()` and `getMetricsAsJSON()` read),
 * whose samples are computed from the live nodes at scrape time.
 */
class LiveMetric {
  readonly aggregator = 'sum';
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
    private readonly family: Family,
    private readonly samples: (m: NodeMetrics, out: Sample[]) => void,
  ) {
    registry.registerMetric(this as never);
  }

  async get(): Promise<{ name: string; help: string; type: string; values: Sample[]; aggregator: string }> {
    const values: Sample[] = [];
    for (const m of live.values()) if (m.reports(this.family)) this.samples(m, values);
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** For `Registry.resetMetrics()`: the cells belong to the nodes, which start from zero when redeployed. */
  reset(): void {}
}

function counter(name: string, help: string, family: Family, pick: (m: NodeMetrics) => Inc): LiveMetric {
  return new LiveMetric(name, help, 'counter', family, (m, out) => out.push({ labels: { ...m.labels }, value: pick(m).value }));
}

counter('smoke_readings_in_total', 'Readings received by a node', 'readingsIn', (m) => m.readingsIn);
counter('smoke_readings_out_total', 'Readings passed on by a node', 'readingsOut', (m) => m.readingsOut);
new LiveMetric('smoke_invalid_readings_total', 'Invalid readings by error code', 'counter', 'invalid', (m, out) => {
  for (const [code, c] of m.invalidByCode) out.push({ labels: { ...m.labels, code }, value: c.value });
});
new LiveMetric('smoke_alerts_total', 'Alerts emitted by type and severity', 'counter', 'alerts', (m, out) => {
  for (const [type, bySeverity] of m.alertsByKind) {
    for (const [severity, c] of bySeverity) out.push({ labels: { ...m.labels, type, severity }, value: c.value });
  }
});
counter('smoke_late_readings_total', 'Readings routed to the late output of a sliding window', 'late', (m) => m.late);
counter('smoke_windows_emitted_total', 'Window results emitted', 'windows', (m) => m.windows);
counter('smoke_csv_rows_written_total', 'CSV rows durably written', 'csv', (m) => m.csvRows);
counter('smoke_csv_write_errors_total', 'CSV write errors', 'csv', (m) => m.csvErrors);
counter('smoke_kafka_records_consumed_total', 'Kafka records consumed', 'kafkaIn', (m) => m.kafkaRecords);
counter('smoke_kafka_records_produced_total', 'Kafka records acknowledged by the broker (exactly-once: committed)', 'kafkaOut', (m) => m.kafkaProduced);
new LiveMetric('smoke_kafka_consumer_lag', 'Consumer lag in records per partition', 'gauge', 'kafkaIn', (m, out) => {
  for (const [topic, byPartition] of m.lagByPartition) {
    for (const [partition, value] of byPartition) out.push({ labels: { ...m.labels, topic, partition: String(partition) }, value });
  }
});
counter('smoke_kafka_rebalances_total', 'Consumer group rebalances seen', 'kafkaIn', (m) => m.rebalances);
counter('smoke_kafka_reconnects_total', 'Kafka client reconnects and consumer restarts', 'kafkaIn', (m) => m.reconnects);
const LATENCY = 'smoke_end_to_end_latency_seconds';
new LiveMetric(LATENCY, "End-to-end latency: reading's Kafka timestamp (or arrival) to alert emitted or CSV row written", 'histogram', 'latency', (m, out) => {
  for (const [stage, h] of m.latencyByStage) {
    let acc = 0;
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      acc += h.buckets[i];
      out.push({ metricName: `${LATENCY}_bucket`, labels: { ...m.labels, stage, le: LATENCY_BUCKETS[i] }, value: acc });
    }
    out.push({ metricName: `${LATENCY}_bucket`, labels: { ...m.labels, stage, le: '+Inf' }, value: h.count });
    out.push({ metricName: `${LATENCY}_sum`, labels: { ...m.labels, stage }, value: h.sum });
    out.push({ metricName: `${LATENCY}_count`, labels: { ...m.labels, stage }, value: h.count });
  }
});

// ---------------------------------------------------------------------------------------------
// HTTP endpoint
// ---------------------------------------------------------------------------------------------

interface SmokeSettings {
  metrics?: false | { path?: string; defaultMetrics?: boolean };
}

export const DEFAULT_METRICS_PATH = '/smoke-stream/metrics';

/** HTTP apps that already serve the endpoint (one per runtime; tests start several in one process). */
const installedOn = new WeakSet<object>();
let defaultsOn = false;

/**
 * Serve the registry on the runtime's HTTP server (every node calls this; the first call per HTTP app
 * installs the route). Returns the path, or null when turned off or no HTTP server is there.
 */
export function installMetricsEndpoint(RED: RED): string | null {
  const settings = (RED.settings as unknown as { smokeStream?: SmokeSettings }).smokeStream ?? {};
  if (settings.metrics === false || metricsDisabledByEnv()) return null;
  const path = (settings.metrics && settings.metrics.path) || DEFAULT_METRICS_PATH;
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
        res.set('Cache-Control', 'no-store');
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
