/**
 * The bench's flows. Settings the contract gives as defaults are left out on purpose (a flow JSON
 * that omits a setting behaves per the contract), so the bench runs the nodes as users get them.
 *
 *   kafka in ─► sensor validate ─► threshold ─► zscore ─► fire ─► csv sink (readings) ─► [tap] ─► sliding window ─► csv sink (windows)
 *                     │ 2             │ 2          │ 2      │ 2                                      │ 2
 *                     └► csv sink (rejects)        └────────┴──► [tap alerts]                        └► [tap late]
 *
 * The readings sink sits before the window (not beside it) because Node-RED clones a message for every
 * extra wire on an output: a fan-out would deep-copy every batch. Its output 1 passes a message on
 * only once its rows are on disk, so the tap behind it counts durable readings.
 *
 * Behind `kafka in` the defaults keep the window's and the z-score detector's state per source partition,
 * checkpointed into changelog topics, and make the readings and windows sinks exactly-once (issue 13).
 * `checkpoints: false` runs the same flow as before that: window and detectors `state: 'none'` (memory
 * only, no context-store checkpoints either), sinks `exactlyOnce: 'off'`: the bench's baseline for what
 * the checkpoints cost.
 *
 * `outputs` (the exactly-once section, issue 18) adds two `kafka out` nodes, keyed by `payload.deviceId`:
 * the detectors' alerts go on from their tap to one (no extra wire on the detectors' outputs, so no clone),
 * and the window results fan out to the windows sink and, through a tap, to the other (window results are
 * few). `kafka.processing` sets kafka in's processing: behind `exactly-once` both kafka outs send in the
 * partition tasks' transactions.
 *
 *   [tap alerts] ─► kafka out (alerts topic)      sliding window ─┬► csv sink (windows) ─► [tap windows]
 *                                                                └► [tap windows-out] ─► kafka out (windows topic)
 *
 * `query: 'window'` (the peer section's like-for-like run, issue 17) is the seed's Spark query in our
 * nodes: parse, validate, the sliding window and its results to the windows CSV, nothing else (no
 * detectors, no readings CSV). The nodes keep their defaults, so behind `kafka in` the window's state is
 * in its changelog and the windows CSV is exactly-once, as in the full pipeline. The taps keep their
 * names so that the scenario reads this flow as it reads the full one: `durable` now sits between
 * validate and the window (a reading validated and handed to the window, not one on disk: there is no
 * readings CSV), and `alerts` is wired to nothing. kafka in commits after-sink, as in the full
 * pipeline: the readings end in the window, which acknowledges them itself and holds them until the
 * checkpoint that contains them (nodes/nr/ack.ts settle), so an offset is committed only once the
 * window's state holds its reading, the guarantee Spark's checkpointed offsets give.
 *
 *   kafka in ─► sensor validate ─► [tap durable] ─► sliding window ─► csv sink (windows) ─► [tap windows]
 *                     │ 2                               │ 2
 *                     └► csv sink (rejects) ─► [tap rejected]   └► [tap late]          [tap alerts]: unwired
 */
import { tab, type FlowNode } from './nodered';

export interface PipelineFlowOptions {
  /** Kafka source (throughput and latency runs); absent: an in-process bench-source (device sweep). */
  kafka?: {
    brokers: string[];
    topic: string;
    groupId: string;
    mode: 'single' | 'batch';
    maxBatch?: number;
    /** kafka in's `processing`; absent: left out of the flow (the node's default, at-least-once). */
    processing?: 'at-least-once' | 'exactly-once';
  };
  csvDir: string;
  /**
   * The device sweep leaves the CSV sinks out: they hold no per-device state, and the sweep's
   * compressed event time (see bench/scenarios/devices.ts) makes windows close many times faster
   * than at 1 Hz, which would measure the disk instead. Window results then go to a tap.
   */
  sinks?: boolean;
  /**
   * false: no changelog checkpoints and no exactly-once CSV (window and detectors `state: 'none'`, csv
   * sinks `exactlyOnce: 'off'`). Default (absent or true): the nodes' defaults, which behind one
   * `kafka in` are changelog state and exactly-once sinks.
   */
  checkpoints?: boolean;
  /**
   * What the flow computes: `full` (absent: the default), the pipeline above; `window`, the seed's Spark
   * query (validate → sliding window → windows CSV) for the like-for-like comparison with the peer.
   */
  query?: PipelineQuery;
  /** Alerts (and window results) also to Kafka, through kafka out nodes `alerts-out` and `windows-out`. Needs `kafka`. */
  outputs?: { alertsTopic: string; windowsTopic?: string; maxQueue?: number };
}

/** The pipeline's full work, or only the seed's windowed query (see the module comment). */
export type PipelineQuery = 'full' | 'window';

/** Node ids of the kafka out nodes `outputs` adds. */
export const ALERTS_OUT = 'alerts-out';
export const WINDOWS_OUT = 'windows-out';

export const DETECTOR_TYPES = ['smoke-threshold-alert', 'smoke-zscore-anomaly', 'smoke-fire-pattern'];

export function pipelineFlow(o: PipelineFlowOptions): FlowNode[] {
  const nodes: FlowNode[] = [];
  if (o.kafka) {
    nodes.push({ id: 'broker', type: 'smoke-kafka-broker', name: 'bench broker', brokers: o.kafka.brokers.join(','), clientId: 'smoke-bench' });
    nodes.push({
      id: 'kin',
      type: 'smoke-kafka-in',
      name: 'readings',
      broker: 'broker',
      topics: o.kafka.topic,
      groupId: o.kafka.groupId,
      start: 'earliest',
      mode: o.kafka.mode,
      ...(o.kafka.maxBatch !== undefined ? { maxBatch: o.kafka.maxBatch } : {}),
      ...(o.kafka.processing !== undefined ? { processing: o.kafka.processing } : {}),
      // The node's defaults unless a measurement of other fetch sizes asks (see bench/run.ts KAFKA_IN_CONSUMER).
      ...(process.env.BENCH_FETCH_MAX_BYTES ? { fetchMaxBytes: Number(process.env.BENCH_FETCH_MAX_BYTES) } : {}),
      ...(process.env.BENCH_FETCH_MAX_BYTES_PER_PARTITION ? { fetchMaxBytesPerPartition: Number(process.env.BENCH_FETCH_MAX_BYTES_PER_PARTITION) } : {}),
      commit: 'after-sink',
      wires: [['validate'], ['rejects-sink'], []],
    });
  } else {
    nodes.push({ id: 'src', type: 'bench-source', name: 'src', wires: [['validate']] });
  }
  const sinks = o.sinks !== false;
  const afterFire = sinks ? 'readings-sink' : 'durable';
  // Without checkpoints: every stateful node in memory only, every sink at-least-once. (Threshold and
  // fire pattern keep no state in their default `emit: every`; `none` there only makes it explicit.)
  const state = o.checkpoints === false ? { state: 'none' } : {};
  const eo = o.checkpoints === false ? { exactlyOnce: 'off' } : {};
  const out = o.kafka ? o.outputs : undefined;
  const windowsOut = out?.windowsTopic !== undefined && sinks;
  const rejects = sinks ? 'rejects-sink' : 'rejected';
  if (o.query === 'window') {
    nodes.push({ id: 'validate', type: 'smoke-sensor-validate', name: 'validate', wires: [['durable'], [rejects]] });
  } else {
    nodes.push(
      { id: 'validate', type: 'smoke-sensor-validate', name: 'validate', wires: [['threshold'], [rejects]] },
      { id: 'threshold', type: 'smoke-threshold-alert', name: 'threshold', ...state, wires: [['zscore'], ['alerts']] },
      { id: 'zscore', type: 'smoke-zscore-anomaly', name: 'zscore', ...state, wires: [['fire'], ['alerts']] },
      { id: 'fire', type: 'smoke-fire-pattern', name: 'fire', ...state, wires: [[afterFire], ['alerts']] },
    );
    if (sinks) nodes.push({ id: 'readings-sink', type: 'smoke-csv-sink', name: 'readings', preset: 'readings', folder: o.csvDir, ...eo, wires: [['durable']] });
  }
  if (sinks) {
    nodes.push(
      { id: 'windows-sink', type: 'smoke-csv-sink', name: 'windows', preset: 'windows', folder: o.csvDir, ...eo, wires: [['windows']] },
      { id: 'rejects-sink', type: 'smoke-csv-sink', name: 'rejects', preset: 'rejects', folder: o.csvDir, ...eo, wires: [['rejected']] },
    );
  }
  nodes.push(
    { id: 'durable', type: 'bench-tap', name: 'durable', wires: [['window']] },
    { id: 'window', type: 'smoke-sliding-window', name: 'window', ...state, wires: [[sinks ? 'windows-sink' : 'windows', ...(windowsOut ? ['windows-to-kafka'] : [])], ['late']] },
    { id: 'alerts', type: 'bench-tap', name: 'alerts', wires: [out ? [ALERTS_OUT] : []] },
    { id: 'late', type: 'bench-tap', name: 'late', wires: [[]] },
    { id: 'windows', type: 'bench-tap', name: 'windows', wires: [[]] },
    { id: 'rejected', type: 'bench-tap', name: 'rejected', wires: [[]] },
  );
  if (out) {
    const kafkaOut = (id: string, topic: string): FlowNode => ({
      id,
      type: 'smoke-kafka-out',
      name: id,
      broker: 'broker',
      topic,
      keyProperty: 'payload.deviceId',
      ...(out.maxQueue !== undefined ? { maxQueue: out.maxQueue } : {}),
    });
    nodes.push(kafkaOut(ALERTS_OUT, out.alertsTopic));
    if (windowsOut) nodes.push({ id: 'windows-to-kafka', type: 'bench-tap', name: 'windows-to-kafka', wires: [[WINDOWS_OUT]] }, kafkaOut(WINDOWS_OUT, out.windowsTopic!));
  }
  return tab(nodes);
}
