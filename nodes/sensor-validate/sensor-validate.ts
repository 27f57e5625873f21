/**
 * `smoke-sensor-validate`: raw sensor data in, canonical readings out (CONTRACT §2, §3, §6). Thin
 * adapter over lib/reading: output 1 valid readings, output 2 the invalid input as it arrived with
 * `msg.validation`. Both keep `msg.kafka` so that sinks can acknowledge the records; when a batch is
 * split, each part's per-record Kafka arrays are filtered to stay aligned with its payload.
 */
import { DEFAULT_MAX_BYTES, type Fallbacks, type ValidationError } from '../lib/reading-types';
import { createValidator } from '../lib/reading-validator';
import type { Reading } from '../lib/types';
import { settle } from '../nr/ack';
import { ConfigReader } from '../nr/config';
import { recordEnds } from '../nr/flow-graph';
import { afterEveryDeploy } from '../nr/flow-watch';
import { handleInputError, reportBadConfig } from '../nr/errors';
import { useCatalogues } from '../nr/i18n';
import { propertyReader } from '../nr/message-property';
import { NodeMetrics, installMetricsEndpoint } from '../nr/metrics';
import { ThrottledStatus, compact } from '../nr/status';
import type { Done, Node, NodeDef, NodeMessage, RED, Send } from '../nr/types';

const MISSING = ['reject', 'null', 'fill'] as const;
const OUT_OF_RANGE = ['reject', 'replace'] as const;

/** What the adapter reads of `msg.kafka`: a single record (`key`, `timestamp`) or a batch (parallel arrays). */
interface KafkaMeta {
  key?: unknown;
  timestamp?: unknown;
  keys?: unknown[];
  timestamps?: unknown[];
}

const PARALLEL = ['offsets', 'keys', 'timestamps'] as const;

/**
 * The batch metadata for a subset of a batch: `kafka in`'s per-record arrays (`offsets`, `keys`,
 * `timestamps`) are filtered to the items at `take` so they stay aligned with the subset's payload
 * (later nodes read `msg.kafka.timestamps[i]` for `payload[i]`). Everything else, the ack token
 * included, is shared.
 */
function kafkaSubset(kafka: Record<string, unknown>, take: number[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...kafka };
  for (const k of PARALLEL) {
    const arr = kafka[k];
    if (Array.isArray(arr)) out[k] = take.map((i) => arr[i]);
  }
  if (typeof kafka.count === 'number') out.count = take.length;
  return out;
}

/** A Kafka key as text (a Buffer key from another Kafka node is decoded as UTF-8). */
function keyOf(k: unknown): unknown {
  return Buffer.isBuffer(k) ? k.toString('utf8') : k;
}

export = function (RED: RED) {
  useCatalogues(RED);
  installMetricsEndpoint(RED);

  function SensorValidateNode(this: Node, config: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, config);
    const node = this;
    const c = new ConfigReader(config);
    const missing = c.oneOf('missing', MISSING, 'reject');
    const outOfRange = c.oneOf('outOfRange', OUT_OF_RANGE, 'reject');
    const maxBytes = c.number('maxBytes', DEFAULT_MAX_BYTES, { min: 0, integer: true });
    const property = c.string('property', 'payload').trim();
    const problems = [...c.problems];
    const get = propertyReader(RED, property);
    if (get === null) problems.push(RED._('smoke-sensor-validate.config.property', { got: JSON.stringify(property) }));
    if (problems.length > 0 || get === null) return reportBadConfig(node, problems);

    const validator = createValidator({ missing, outOfRange, maxBytes });
    const metrics = new NodeMetrics(node as Node & { name?: string });
    const status = new ThrottledStatus(node);
    // Records sent to an output without wires end here: acknowledged, when nobody behind would
    // (flow-graph.ts); from the flow as the last deploy left it.
    let ending = recordEnds(RED, node.id, 2).outputs;
    afterEveryDeploy(RED, node, () => (ending = recordEnds(RED, node.id, 2).outputs));
    const emit = (send: Send, port: 0 | 1, m: NodeMessage): void => {
      send(port === 0 ? [m, null] : [null, m]);
      if (ending[port]) {
        const v = get(m);
        settle(m, Array.isArray(v) ? v.length : 1);
      }
    };
    const direct = property === 'payload';
    const set = (msg: NodeMessage, value: unknown): void => {
      if (direct) msg.payload = value;
      else RED.util.setMessageProperty(msg, property, value, true);
    };
    // One fallbacks object, refilled per item: the validator reads it synchronously and keeps nothing.
    const fb: Fallbacks = { key: undefined, topic: undefined, timestamp: undefined, arrival: 0 };
    let good = 0;
    let bad = 0;
    // Evaluated only when the throttled status is written (see ThrottledStatus).
    const statusText = (): string => RED._('smoke-sensor-validate.status.counts', { good: compact(good), bad: compact(bad) });

    function countInvalid(errors: ValidationError[]): void {
      // One count per invalid reading, under its first error's code: the codes then sum to the readings.
      metrics.invalid(errors[0].code);
    }

    function single(msg: NodeMessage, input: unknown, kafka: KafkaMeta | undefined, send: Send): void {
      fb.key = keyOf(kafka?.key ?? msg.key);
      fb.timestamp = kafka?.timestamp;
      const r = validator.validate(input, fb);
      if (r.ok) {
        good++;
        metrics.readingsOut.inc();
        set(msg, r.reading);
        emit(send, 0, msg);
      } else {
        bad++;
        countInvalid(r.errors);
        msg.validation = { errors: r.errors };
        emit(send, 1, msg);
      }
    }

    function batch(msg: NodeMessage, items: unknown[], kafka: KafkaMeta | undefined, send: Send): void {
      const keys = Array.isArray(kafka?.keys) ? kafka.keys : undefined;
      const stamps = Array.isArray(kafka?.timestamps) ? kafka.timestamps : undefined;
      const batchKey = keyOf(kafka?.key ?? msg.key);
      const valid: Reading[] = [];
      let invalid: unknown[] | null = null;
      let errors: ValidationError[][] | null = null;
      let index: number[] | null = null;
      for (let i = 0; i < items.length; i++) {
        fb.key = keys ? keyOf(keys[i]) : batchKey;
        fb.timestamp = stamps ? stamps[i] : kafka?.timestamp;
        const r = validator.validate(items[i], fb);
        if (r.ok) valid.push(r.reading);
        else {
          (invalid ??= []).push(items[i]);
          (errors ??= []).push(r.errors);
          (index ??= []).push(i);
          countInvalid(r.errors);
        }
      }
      good += valid.length;
      metrics.readingsOut.inc(valid.length);
      if (invalid === null || errors === null) {
        if (valid.length > 0) {
          set(msg, valid);
          emit(send, 0, msg);
        }
        return;
      }
      bad += invalid.length;
      const validation = { errors, index };
      if (valid.length === 0) {
        // Every item is invalid: the input array as it arrived is exactly the invalid items.
        msg.validation = validation;
        emit(send, 1, msg);
        return;
      }
      // Two messages: a shallow copy shares msg.kafka and the rest; a nested input property needs
      // its own parent objects, so that case clones (and puts the same msg.kafka back).
      const out2 = (direct ? { ...msg } : RED.util.cloneMessage(msg)) as NodeMessage;
      if (kafka !== undefined) {
        const invalidAt = new Set(index);
        const validIdx: number[] = [];
        for (let i = 0; i < items.length; i++) if (!invalidAt.has(i)) validIdx.push(i);
        out2.kafka = kafkaSubset(kafka as Record<string, unknown>, index!);
        msg.kafka = kafkaSubset(kafka as Record<string, unknown>, validIdx);
      }
      set(out2, invalid);
      out2.validation = validation;
      set(msg, valid);
      // Separate send calls: in one call Node-RED deep-clones every message after the first.
      emit(send, 0, msg);
      emit(send, 1, out2);
    }

    node.on('input', (msg: NodeMessage, send: Send, done: Done) => {
      try {
        const input = get(msg);
        const kafka = (typeof msg.kafka === 'object' && msg.kafka !== null ? msg.kafka : undefined) as KafkaMeta | undefined;
        fb.topic = msg.topic;
        fb.arrival = Date.now();
        if (Array.isArray(input)) {
          metrics.readingsIn.inc(input.length);
          batch(msg, input, kafka, send);
        } else {
          metrics.readingsIn.inc();
          single(msg, input, kafka, send);
        }
        status.set('count', statusText);
        done();
      } catch (err) {
        handleInputError(node, err, done);
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      status.stop();
      metrics.remove();
      done();
    });
  }

  RED.nodes.registerType('smoke-sensor-validate', SensorValidateNode);
};
