/**
 * `kafka out`: sends `msg.payload` to Kafka (objects as JSON; an array as one batch of records), keyed
 * by `msg.key` or a configured property such as `payload.deviceId`, to the configured topic or
 * `msg.topic`. `done()` follows the broker's acknowledgement (CONTRACT §7).
 */
import type { Message } from 'kafkajs';
import { CompressionTypes } from '../nr/kafkajs';
import { isValidTopic } from '../lib/kafka-records';
import { ConfigReader } from '../nr/config';
import { failToCatch, handleInputError } from '../nr/errors';
import { holdUntilAcked, NOTHING_HELD } from '../nr/ack';
import { exactlyOnceSource, sinkRole } from '../nr/flow-graph';
import { afterEveryDeploy, watchFlowAround } from '../nr/flow-watch';
import { Deadline, closeWith, settleWithin, usableBroker } from '../nr/kafka-client';
import { KafkaOutRunner } from '../nr/kafka-producer';
import { propertyReader } from '../nr/message-property';
import { NodeMetrics, installMetricsEndpoint } from '../nr/metrics';
import { shared, useCatalogues, type Translate } from '../nr/i18n';
import type { Done, Node, NodeDef, NodeMessage, RED, Send } from '../nr/types';
import { TransactionalOut, type TxnAbort } from './transactional';

/** The catalogue keys of the causes of an uncommitted transaction (TxnAbort; an error says itself). */
const WHY: Record<Exclude<TxnAbort, { error: string }>, string> = {
  fenced: 'smoke-kafka-out.why.fenced',
  moved: 'smoke-kafka-out.why.moved',
  'not-committed': 'smoke-kafka-out.why.not-committed',
  'not-staged': 'smoke-kafka-out.why.not-staged',
  closed: 'smoke-kafka-out.why.closed',
};

export = function (RED: RED) {
  useCatalogues(RED);
  const t: Translate = (key, substitutions) => RED._(key, substitutions);

  /** A record value: text and buffers as they are, null as a tombstone, anything else as JSON. */
  function toValue(v: unknown): string | Buffer | null {
    if (v === null) return null;
    if (typeof v === 'string' || Buffer.isBuffer(v)) return v;
    const json = JSON.stringify(v);
    if (json === undefined) throw new Error(t('smoke-kafka-out.errors.bad-value', { type: typeof v }));
    return json;
  }

  /** Why a transaction's records were not committed, as kafka out's warning says it. */
  const whyText = (why: TxnAbort): string => (typeof why === 'string' ? t(WHY[why]) : why.error);

  function KafkaOutNode(this: Node, def: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, def);
    const node = this;
    installMetricsEndpoint(RED);
    const cfg = new ConfigReader(def);
    const topic = cfg.string('topic', '').trim();
    const keyProperty = cfg.string('keyProperty', '').trim();
    const acks = Number(cfg.oneOf('acks', ['-1', '1', '0'] as const, '-1')) as -1 | 0 | 1;
    const idempotent = cfg.boolean('idempotent', false);
    const options = {
      acks,
      idempotent,
      gzip: cfg.oneOf('compression', ['none', 'gzip'] as const, 'none') === 'gzip',
      maxQueue: cfg.number('maxQueue', 10000, { min: 1, integer: true }),
      maxSendRecords: cfg.number('maxSendRecords', 5000, { min: 1, integer: true }),
      // Below the broker's default message.max.bytes (1,048,588), which bounds each partition's batch.
      maxSendBytes: cfg.number('maxSendBytes', 1_000_000, { min: 1024, integer: true }),
      backoff: { initialMs: cfg.duration('backoffInitial', 1000, 'ms'), maxMs: cfg.duration('backoffMax', 15000, 'ms') },
      closeFlushMs: 5000,
    };
    const problems = [...cfg.problems];
    if (topic && !isValidTopic(topic)) problems.push(shared('smoke-kafka-broker.common.config.bad-topic', { topic }));
    if (idempotent && acks !== -1) problems.push(t('smoke-kafka-out.config.idempotent-acks'));
    const messageKey = keyProperty ? propertyReader(RED, keyProperty) : null;
    if (keyProperty && messageKey === null) problems.push(t('smoke-kafka-out.config.key-property', { got: JSON.stringify(keyProperty) }));
    if (options.backoff.maxMs < options.backoff.initialMs) problems.push(shared('smoke-kafka-broker.common.config.backoff'));
    const broker = usableBroker(RED, node, def.broker, problems);
    if (broker === null) return;
    // For an array payload, a key property under `payload.` is read from each element.
    const elementKey = keyProperty.startsWith('payload.') ? propertyReader(RED, keyProperty.slice('payload.'.length), 'payload') : null;
    const keyOf = (msg: NodeMessage, element?: unknown): string | null => {
      const v = element !== undefined && elementKey !== null ? elementKey(element as object) : messageKey !== null ? messageKey(msg) : msg.key;
      if (v === undefined || v === null) return null;
      return typeof v === 'object' ? JSON.stringify(v) : String(v);
    };
    const metrics = new NodeMetrics({ id: node.id, type: node.type, name: node.name });
    const runner = new KafkaOutRunner(node, broker, options, metrics, t);
    runner.start();
    // Behind an exactly-once kafka in: records derived from its partitions go in their transactions.
    const eo = exactlyOnceSource(RED, node.id);
    if (eo.why === 'several') node.warn(t('smoke-kafka-out.warn.not-exactly-once-several', { count: eo.ins ?? 0 }));
    else if (eo.why === 'another-broker') node.warn(t('smoke-kafka-out.warn.not-exactly-once-broker'));
    const tx =
      eo.kafkaIn === undefined
        ? null
        : new TransactionalOut(node.id, eo.kafkaIn, options.gzip ? CompressionTypes.GZIP : undefined, {
            committed: (n) => runner.committed(n),
            aborted: (n, why) => runner.abortedTxn(n, whyText(why), why === 'fenced'),
          });

    // Messages failing one after another for the same reason (a stream without msg.topic) are one
    // condition: the first goes through done(err), the others to the Catch nodes only (no log line each),
    // until a message is accepted.
    let lastInputError = '';
    // Records another sink gets too are held here until the broker has them (ack.ts holdUntilAcked);
    // from the flow as the last deploy left it.
    let { holds } = sinkRole(RED, node.id);
    afterEveryDeploy(RED, node, () => ({ holds } = sinkRole(RED, node.id)));
    watchFlowAround(RED, node, () => exactlyOnceSource(RED, node.id));
    node.on('input', (msg: NodeMessage, _send: Send, done: Done) => {
      // Before anything can fail: a message that fails keeps its records from being committed.
      const release = holds ? holdUntilAcked(msg, node.id) : NOTHING_HELD;
      try {
        const to = topic || (typeof msg.topic === 'string' ? msg.topic.trim() : '');
        if (!to) throw new Error(t('smoke-kafka-out.errors.no-topic'));
        if (!isValidTopic(to)) throw new Error(shared('smoke-kafka-broker.common.config.bad-topic', { topic: to }));
        if (msg.payload === undefined) throw new Error(t('smoke-kafka-out.errors.no-payload'));
        const items = Array.isArray(msg.payload) ? (msg.payload as unknown[]) : null;
        // Built before it is queued or staged: a value that cannot be sent fails its message here.
        const messages: Message[] = items
          ? items.map((el) => ({ key: keyOf(msg, el), value: toValue(el) }))
          : [{ key: keyOf(msg), value: toValue(msg.payload) }];
        lastInputError = '';
        // Exactly-once: the items from `from` on (the earlier ones were committed before).
        if (tx !== null && tx.send(msg, to, items ? items.length : -1, (from) => (from === 0 ? messages : messages.slice(from)), done, release)) return;
        runner.enqueue(to, messages, msg, done, release);
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        if (e.message === lastInputError) failToCatch(node, e, msg, done);
        else {
          lastInputError = e.message;
          handleInputError(node, e, done);
        }
      }
    });
    // Staged records go in a last transaction before the producer closes, within one close budget.
    closeWith(node, {
      stop: async () => {
        const budget = new Deadline();
        if (tx) await settleWithin(tx.close(), budget.left(4500), undefined);
        await runner.stop(budget);
      },
    }, metrics);
  }
  RED.nodes.registerType('smoke-kafka-out', KafkaOutNode);
};
