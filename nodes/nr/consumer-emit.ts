/**
 * How `kafka in` turns fetched records into messages: one message per record (single mode) or one per
 * step of a batch (batch mode) on output 1, with `msg.kafka` (CONTRACT §7); records that do not decode
 * on output 2; and, with after-sink commits, each message's records tracked and its ack token stamped.
 * The hot path of the consumer: no allocation beyond the messages themselves.
 */
import type { KafkaMessage } from 'kafkajs';
import type { OffsetTracker } from '../lib/kafka-offsets';
import { RecordDecoder, headersToStrings, keyToString } from '../lib/kafka-records';
import type { AckToken } from './ack';
import { FetchedRecord } from './kafkajs-record-decode';
import type { NodeMetrics } from './metrics';
import type { Node, NodeMessage } from './types';

/** `msg.kafka` of a single-record message (CONTRACT §7). */
export interface RecordMeta {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  timestamp: number;
  headers: Record<string, string | string[]>;
  ack?: AckToken;
  /** The partition task's epoch (nodes/nr/partition-tasks.ts): stateful nodes apply only current ones. */
  epoch?: number;
}

/** `msg.kafka` of a batch message: parallel arrays, index i describes `msg.payload[i]`. */
export interface BatchMeta {
  topic: string;
  partition: number;
  firstOffset: number;
  lastOffset: number;
  count: number;
  offsets: number[];
  keys: (string | null)[];
  timestamps: number[];
  ack?: AckToken;
  /** The partition task's epoch (see RecordMeta). */
  epoch?: number;
}

/** The messages of one `kafka in`, and the counts of records and invalid ones emitted. */
export class RecordEmitter {
  /** Records emitted (valid and invalid). */
  records = 0;
  /** Records that did not decode (output 2). */
  invalid = 0;
  private readonly decoder: RecordDecoder;
  private readonly single: boolean;
  /** The offset, key and timestamp of the record {@link read} read last. */
  private offset = 0;
  private key: string | null = null;
  private timestamp = 0;

  constructor(
    private readonly node: Node,
    private readonly consumerId: string,
    o: { json: boolean; mode: 'single' | 'batch' },
    private readonly tracker: OffsetTracker,
    private readonly metrics: NodeMetrics,
    /** after-sink commits: track each message's records and stamp its ack token. */
    private readonly afterSink: boolean,
    /** Whether outputs 1 to 3 have wires. */
    private readonly wired: readonly [boolean, boolean, boolean],
  ) {
    this.decoder = new RecordDecoder(o.json);
    this.single = o.mode === 'single';
  }

  emit(topic: string, partition: number, messages: KafkaMessage[], from: number, to: number, epoch: number | undefined): void {
    const now = Date.now();
    const dec = this.decoder;
    const count = to - from;
    this.records += count;
    this.metrics.kafkaRecords.inc(count);
    const invalid: NodeMessage[] = [];
    if (this.single) {
      // One send() per record: in a single send() call Node-RED deep-copies every message after the
      // first (costly, and a stack overflow on a hostile value), while separate calls copy nothing.
      for (let k = from; k < to; k++) {
        const m = messages[k];
        const payload = this.read(m);
        const offset = this.offset;
        const key = this.key;
        const kafka: RecordMeta = { topic, partition, offset, key, timestamp: this.timestamp, headers: headersToStrings(m.headers) };
        if (epoch !== undefined) kafka.epoch = epoch;
        if (dec.error === null) {
          this.stamp(kafka, 0, topic, partition, offset, offset, 1, now);
          this.node.send([{ payload, topic, key, kafka } as NodeMessage, null, null]);
        } else {
          this.node.send([null, this.invalidMsg(kafka, dec.raw, dec.error, now), null]);
        }
      }
      return;
    }
    const payload: unknown[] = [];
    const keys: (string | null)[] = [];
    const offsets: number[] = [];
    const timestamps: number[] = [];
    for (let k = from; k < to; k++) {
      const m = messages[k];
      const value = this.read(m);
      if (dec.error === null) {
        payload.push(value);
        keys.push(this.key);
        offsets.push(this.offset);
        timestamps.push(this.timestamp);
      } else {
        const kafka: RecordMeta = {
          topic,
          partition,
          offset: this.offset,
          key: this.key,
          timestamp: this.timestamp,
          headers: headersToStrings(m.headers),
        };
        invalid.push(this.invalidMsg(kafka, dec.raw, dec.error, now));
      }
    }
    for (const bad of invalid) this.node.send([null, bad, null]);
    if (payload.length === 0) return;
    const first = offsets[0];
    const last = offsets[offsets.length - 1];
    const kafka: BatchMeta = { topic, partition, firstOffset: first, lastOffset: last, count: payload.length, offsets, keys, timestamps };
    if (epoch !== undefined) kafka.epoch = epoch;
    this.stamp(kafka, 0, topic, partition, first, last, payload.length, now);
    this.node.send([{ payload, topic, kafka } as NodeMessage, null, null]);
  }

  /**
   * Reads record `m` (a {@link FetchedRecord} as numbers and text, without kafkajs' views and decimal
   * texts): returns its decoded value (undefined, with the decoder's error set, when it does not
   * decode) and leaves its offset, key and timestamp in {@link offset}, {@link key}, {@link timestamp}.
   */
  private read(m: KafkaMessage | FetchedRecord): unknown {
    if (m instanceof FetchedRecord) {
      this.offset = m.offsetNumber;
      this.timestamp = m.timestampNumber;
      this.key = m.keyText();
      return this.decoder.decodeText(m.valueText());
    }
    this.offset = Number(m.offset);
    this.timestamp = Number(m.timestamp);
    this.key = keyToString(m.key);
    return this.decoder.decode(m.value);
  }

  private invalidMsg(kafka: RecordMeta, raw: string, error: string, now: number): NodeMessage {
    this.invalid++;
    this.metrics.invalid('kafka-decode');
    this.stamp(kafka, 1, kafka.topic, kafka.partition, kafka.offset, kafka.offset, 1, now);
    return { payload: raw, topic: kafka.topic, key: kafka.key, error, kafka } as NodeMessage;
  }

  /**
   * after-sink: register the unit and put its ack token on `msg.kafka`. A message sent to an output
   * with no wires can never be acknowledged: its records count as handled at once (still tracked, so
   * the commit moves past them).
   */
  private stamp(kafka: RecordMeta | BatchMeta, output: number, topic: string, partition: number, first: number, last: number, records: number, now: number): void {
    if (!this.afterSink) return;
    if (!this.wired[output]) {
      this.tracker.track(topic, partition, first, last, 0, now);
      return;
    }
    const id = this.tracker.track(topic, partition, first, last, records, now);
    kafka.ack = { consumer: this.consumerId, id, records };
  }
}
