/**
 * The Kafka pipeline of the reliability suites as a Node-RED flow (for a child runtime):
 *
 *   kafka in (batch, after-sink commits) → sensor validate → threshold alert → zscore anomaly → fire pattern
 *     → csv sink (readings: acknowledges the records)           fire output 1
 *     → sliding window → csv sink (window results)              fire output 1
 *   kafka in output 2 and sensor validate output 2 → csv sink (rejects: acknowledges those records)
 *   alerts of the three detectors → kafka out (optional) and/or nowhere
 *   window results → kafka out as well (optional: `windowsTopic`)
 *   zscore anomaly output 2 → csv sink (alerts preset, files `zscore_alerts_*.csv`; optional)
 */
import { bootstrap, kafkaClient } from '../kafka/broker';
import type { FlowNode } from './_runtime';

export interface PipelineOptions {
  topic: string;
  groupId: string;
  /** Absolute folder of the three csv sinks. */
  folder: string;
  /** Sliding window checkpoint interval (a duration text; default: the node's default). */
  checkpoint?: string;
  /** kafka in maxBatch. */
  maxBatch?: number;
  /** Alerts to this topic through kafka out (absent: alerts are not wired). */
  alertsTopic?: string;
  /** Window results also to this topic through a kafka out of their own (absent: only to their csv sink). */
  windowsTopic?: string;
  /** Extra settings of the kafka out nodes (alerts and windows). */
  kafkaOut?: Record<string, unknown>;
  /** Extra settings of the kafka in node. */
  kafkaIn?: Record<string, unknown>;
  /**
   * Also write the zscore anomaly node's alerts (output 2) to a csv sink of their own (`alerts` preset)
   * in `folder`: `true` for the file name pattern {@link ZSCORE_ALERTS_FILE}, or a pattern of one's own.
   */
  zscoreAlertsCsv?: boolean | string;
  /** The kafka broker config node's client id (default `smoke-reliability`): tells group members apart. */
  clientId?: string;
  /**
   * Window results reach their csv sink through a core `change` node (it sets `msg.topic`), as in a flow
   * that enriches or routes them: the sink's guarantees must not depend on being wired to the window.
   */
  windowsThroughChange?: boolean;
}

/** The kafka broker node of the reliability flows (id `broker`): the project's broker, short timeouts and retries. */
export function reliabilityBroker(clientId: string): FlowNode {
  return {
    id: 'broker',
    type: 'smoke-kafka-broker',
    brokers: bootstrap().join(','),
    clientId,
    connectionTimeout: 1000,
    requestTimeout: 10000,
    retryInitial: 100,
    retryMax: 1000,
    retries: 3,
  };
}

/**
 * The kafka in node of the reliability flows (id `kin`, on `broker`): batch mode, after-sink commits,
 * `extra` on top (its batch size, commit interval, wires).
 */
export function reliabilityKafkaIn(topic: string, groupId: string, extra: Record<string, unknown>): FlowNode {
  return {
    id: 'kin',
    type: 'smoke-kafka-in',
    broker: 'broker',
    topics: topic,
    groupId,
    start: 'earliest',
    mode: 'batch',
    commit: 'after-sink',
    // checkpoints more often than the default 5 s: more of them between the faults, and shorter waits for the end
    checkpointInterval: 1000,
    // a SIGKILLed member stays in the group until its session expires: keep that short
    sessionTimeout: 6000,
    heartbeatInterval: 1000,
    backoffInitial: 200,
    backoffMax: 2000,
    ...extra,
  };
}

/** File name pattern of the z-score alerts sink (`zscoreAlertsCsv: true`); read back with prefix `zscore_alerts_`. */
export const ZSCORE_ALERTS_FILE = 'zscore_alerts_{date}.csv';

export function pipelineFlow(o: PipelineOptions): FlowNode[] {
  const tab = 'rel-tab';
  let y = 40;
  const at = (n: Record<string, unknown> & { id: string; type: string }): FlowNode => ({ z: tab, x: 200, y: (y += 40), ...n });
  const alerts = o.alertsTopic ? ['kout'] : [];
  const zAlerts = o.zscoreAlertsCsv ? [...alerts, 'csvZAlerts'] : alerts;
  const flow: FlowNode[] = [
    { id: tab, type: 'tab', label: 'reliability pipeline' },
    reliabilityBroker(o.clientId ?? 'smoke-reliability'),
    at(reliabilityKafkaIn(o.topic, o.groupId, { maxBatch: o.maxBatch ?? 1000, commitInterval: 500, lagInterval: 1000, ...(o.kafkaIn ?? {}), wires: [['validate'], ['sinkRejects'], []] })),
    at({ id: 'validate', type: 'smoke-sensor-validate', wires: [['threshold'], ['sinkRejects']] }),
    at({ id: 'threshold', type: 'smoke-threshold-alert', wires: [['zscore'], alerts] }),
    at({ id: 'zscore', type: 'smoke-zscore-anomaly', wires: [['fire'], zAlerts] }),
    // the readings sink first: Node-RED sends the original message to the first wire, a clone to the others
    at({ id: 'fire', type: 'smoke-fire-pattern', wires: [['csvReadings', 'window'], alerts] }),
    // no checkpoint setting: the node's default interval (10 s)
    at({
      id: 'window',
      type: 'smoke-sliding-window',
      ...(o.checkpoint ? { checkpoint: o.checkpoint } : {}),
      wires: [[o.windowsThroughChange ? 'windowsTopic' : 'csvWindows', ...(o.windowsTopic ? ['koutWindows'] : [])], []],
    }),
    ...(o.windowsThroughChange
      ? [at({ id: 'windowsTopic', type: 'change', rules: [{ t: 'set', p: 'topic', pt: 'msg', to: 'smoke_windows', tot: 'str' }], wires: [['csvWindows']] })]
      : []),
    at({ id: 'csvReadings', type: 'smoke-csv-sink', preset: 'readings', folder: o.folder, wires: [[]] }),
    at({ id: 'csvWindows', type: 'smoke-csv-sink', preset: 'windows', folder: o.folder, wires: [[]] }),
    at({ id: 'sinkRejects', type: 'smoke-csv-sink', preset: 'rejects', folder: o.folder, wires: [[]] }),
  ];
  if (o.zscoreAlertsCsv) {
    const filename = typeof o.zscoreAlertsCsv === 'string' ? o.zscoreAlertsCsv : ZSCORE_ALERTS_FILE;
    flow.push(at({ id: 'csvZAlerts', type: 'smoke-csv-sink', preset: 'alerts', folder: o.folder, filename, wires: [[]] }));
  }
  if (o.alertsTopic) {
    flow.push(at({ id: 'kout', type: 'smoke-kafka-out', broker: 'broker', topic: o.alertsTopic, keyProperty: 'payload.deviceId', idempotent: true, backoffInitial: 200, backoffMax: 2000, ...(o.kafkaOut ?? {}), wires: [] }));
  }
  if (o.windowsTopic) {
    flow.push(at({ id: 'koutWindows', type: 'smoke-kafka-out', broker: 'broker', topic: o.windowsTopic, keyProperty: 'payload.deviceId', idempotent: true, backoffInitial: 200, backoffMax: 2000, ...(o.kafkaOut ?? {}), wires: [] }));
  }
  return flow;
}

/** Delete a test's topic and the topics its nodes made for its consumer group (`<group>-<node id>-changelog`). */
export async function deleteTopics(topic: string, groupId: string): Promise<void> {
  const admin = kafkaClient({ clientId: 'smoke-reliability-cleanup' }).admin();
  await admin.connect();
  try {
    const ours = (await admin.listTopics()).filter((t) => t === topic || t.startsWith(`${groupId}-`));
    await admin.deleteTopics({ topics: ours, timeout: 5000 }).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}
