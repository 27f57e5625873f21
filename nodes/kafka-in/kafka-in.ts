/**
 * `kafka in`: a consumer group member. Output 1: records (parsed JSON), one message per record or per
 * fetched batch; output 2: records that could not be decoded (CONTRACT §3); output 3: health metrics.
 * Offsets are committed by kafkajs after emission (`auto`) or only once sinks acknowledged every record
 * up to them (`after-sink`, at-least-once; see nodes/nr/ack.ts). Processing `exactly-once`: after-sink
 * commits, and every kafka out behind it sends in its partition tasks' transactions (nodes/kafka-out).
 */
import { defaultFetchSizes, fetchSizeProblems } from '../lib/kafka-fetch';
import { isValidTopic, splitList } from '../lib/kafka-records';
import { ConfigReader } from '../nr/config';
import { editorSettings } from '../nr/editor-settings';
import { nodesBehind } from '../nr/flow-graph';
import { watchDeploys } from '../nr/flow-watch';
import { closeWith, usableBroker } from '../nr/kafka-client';
import { KafkaInRunner, type KafkaInOptions } from '../nr/kafka-consumer';
import { NodeMetrics, installMetricsEndpoint } from '../nr/metrics';
import { shared, text, useCatalogues, type Translate } from '../nr/i18n';
import type { Node, NodeDef, RED } from '../nr/types';

/**
 * Parse the node's settings (every default per CONTRACT §7); problems are collected, not thrown. Their
 * texts come through nr/i18n's `text` / `shared`: this runs before the node has a `RED._` at hand.
 */
function readOptions(def: Record<string, unknown>): { options: KafkaInOptions; problems: string[] } {
  const cfg = new ConfigReader(def);
  const topics = splitList(cfg.string('topics', 'smoke_stream'));
  // Read here for the commit mode; the sinks behind this node read it from the flow (nr/flow-graph.ts).
  const processing = cfg.oneOf('processing', ['at-least-once', 'exactly-once'] as const, 'at-least-once');
  const mode = cfg.oneOf('mode', ['single', 'batch'] as const, 'single');
  const fetch = defaultFetchSizes(mode);
  const options: KafkaInOptions = {
    topics,
    groupId: cfg.string('groupId', 'smoke_detection_group').trim(),
    fromBeginning: cfg.oneOf('start', ['earliest', 'latest'] as const, 'earliest') === 'earliest',
    json: cfg.boolean('json', true),
    mode,
    maxBatch: cfg.number('maxBatch', 1000, { min: 1, max: 100000, integer: true }),
    // Exactly-once processing acknowledges through its sinks' transactions: after-sink commits, always.
    commit: processing === 'exactly-once' ? 'after-sink' : cfg.oneOf('commit', ['auto', 'after-sink'] as const, 'auto'),
    readUncommitted: cfg.oneOf('isolation', ['read_committed', 'read_uncommitted'] as const, 'read_committed') === 'read_uncommitted',
    commitIntervalMs: cfg.duration('commitInterval', 1000, 'ms'),
    checkpointIntervalMs: cfg.duration('checkpointInterval', 5000, 'ms'),
    maxInFlight: cfg.number('maxInFlight', 30000, { min: 1, integer: true }),
    sinkWarnMs: cfg.duration('sinkWarn', 30000, 's'),
    sessionTimeout: cfg.duration('sessionTimeout', 30000, 'ms'),
    heartbeatInterval: cfg.duration('heartbeatInterval', 3000, 'ms'),
    // Unset (the editor's default): the mode's sizes (see lib/kafka-fetch.ts).
    fetchMaxBytes: cfg.number('fetchMaxBytes', fetch.maxBytes, { min: 1024, integer: true }),
    fetchMaxBytesPerPartition: cfg.number('fetchMaxBytesPerPartition', fetch.maxBytesPerPartition, { min: 1024, integer: true }),
    backoff: { initialMs: cfg.duration('backoffInitial', 1000, 'ms'), maxMs: cfg.duration('backoffMax', 15000, 'ms') },
    metricsIntervalMs: cfg.duration('metricsInterval', 0, 's', { min: 0 }),
    lagIntervalMs: cfg.duration('lagInterval', 5000, 'ms'),
  };
  const problems = [...cfg.problems];
  if (topics.length === 0) problems.push(text('smoke-kafka-in.config.no-topics'));
  for (const topic of topics) if (!isValidTopic(topic)) problems.push(shared('smoke-kafka-broker.common.config.bad-topic', { topic }));
  if (options.groupId.length === 0) problems.push(text('smoke-kafka-in.config.no-group'));
  if (options.heartbeatInterval >= options.sessionTimeout) problems.push(text('smoke-kafka-in.config.heartbeat'));
  if (options.backoff.maxMs < options.backoff.initialMs) problems.push(shared('smoke-kafka-broker.common.config.backoff'));
  problems.push(...fetchSizeProblems(options.fetchMaxBytes, options.fetchMaxBytesPerPartition));
  return { options, problems };
}

export = function (RED: RED) {
  useCatalogues(RED);
  const t: Translate = (key, substitutions) => RED._(key, substitutions);
  function KafkaInNode(this: Node, def: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, def);
    const node = this;
    installMetricsEndpoint(RED);
    const { options, problems } = readOptions(def);
    const broker = usableBroker(RED, node, def.broker, problems);
    if (broker === null) return;
    const metrics = new NodeMetrics({ id: node.id, type: node.type, name: node.name });
    const runner = new KafkaInRunner(node, broker, options, metrics, t);
    runner.start();
    watchDeploys(RED, node, () => nodesBehind(RED, node.id), { stopping: (behind) => runner.deployStopping(behind), started: () => runner.deployStarted() });
    closeWith(node, runner, metrics);
  }
  RED.nodes.registerType('smoke-kafka-in', KafkaInNode, editorSettings('smoke-kafka-in'));
};
