/**
 * The producer behind `kafka out`: messages wait in a bounded queue (in records) while the broker is
 * unreachable; each message's `done()` is called only after the broker acknowledged its records. A
 * message that cannot be sent (queue full, a record the broker refuses, the node closing first) goes to
 * the Catch nodes with its error, and the condition is logged once with its count, not once per
 * message (see failToCatch). Nothing is dropped silently.
 */
import type { Message, Producer, TopicMessages } from 'kafkajs';
import { CompressionTypes, Partitioners } from './kafkajs';
import { Backoff, type BackoffOptions } from '../lib/kafka-backoff';
import { classifyError, isRetriable } from '../lib/kafka-errors';
import { ack, type HoldRelease, NOTHING_HELD } from './ack';
import { failToCatch } from './errors';
import type { Translate } from './i18n';
import { type BrokerState, ClientRunner, type Deadline, disconnectWithin, errorText, type KafkaBrokerConfig, settleWithin } from './kafka-client';
import type { NodeMetrics } from './metrics';
import { ThrottledStatus, compact, thousands } from './status';
import type { Done, Node, NodeMessage } from './types';

export interface KafkaOutOptions {
  acks: -1 | 0 | 1;
  gzip: boolean;
  idempotent: boolean;
  /** Most records waiting for the broker; a message that does not fit fails with done(err). */
  maxQueue: number;
  /** Most records per produce request (a message's records are split only by maxSendBytes). */
  maxSendRecords: number;
  /**
   * Most bytes of keys and values (and a record's overhead) per produce request, a message's records
   * counted whole; a message larger than this goes in parts of at most this size (one record alone may
   * be larger), and is done once every part is. Below the broker's `message.max.bytes` (1 MB by default),
   * so that no partition's batch in a request is refused for its size (see takeBatch).
   */
  maxSendBytes: number;
  backoff: BackoffOptions;
  /** On close: how long queued records may still be sent before they fail, ms. */
  closeFlushMs: number;
}

interface Entry {
  topic: string;
  messages: Message[];
  /** Bytes of the messages' keys and values, with RECORD_OVERHEAD each (see takeBatch). */
  bytes: number;
  msg: NodeMessage;
  done: Done;
  /** Gives back the hold on the message's records (ack.ts holdUntilAcked), once acknowledged. */
  release: HoldRelease;
  settled: boolean;
  /** The message, when its records are split over several entries (see enqueue). */
  whole?: Whole;
}

/** A message whose records did not fit one request: settled once every part is, failed if any part failed. */
interface Whole {
  parts: number;
  records: number;
  error: Error | null;
}

/**
 * What a record adds to its batch beyond its key and value, at most: its length, attributes, timestamp
 * and offset deltas, key and value lengths and header count as varints (Kafka's record format v2).
 */
const RECORD_OVERHEAD = 24;

/** Bytes of the messages' keys and values, with RECORD_OVERHEAD each. */
function recordBytes(messages: Message[]): number {
  let n = messages.length * RECORD_OVERHEAD;
  for (const m of messages) n += messageBytes(m);
  return n;
}

/** `messages` in runs of at most `max` bytes (as recordBytes counts them), in order, with their bytes; a record larger than `max` is a run of its own. */
function splitByBytes(messages: Message[], max: number): Array<{ messages: Message[]; bytes: number }> {
  const parts: Array<{ messages: Message[]; bytes: number }> = [];
  let part: Message[] = [];
  let bytes = 0;
  for (const m of messages) {
    const b = messageBytes(m) + RECORD_OVERHEAD;
    if (part.length > 0 && bytes + b > max) {
      parts.push({ messages: part, bytes });
      part = [];
      bytes = 0;
    }
    part.push(m);
    bytes += b;
  }
  if (part.length > 0) parts.push({ messages: part, bytes });
  return parts;
}

/** Bytes of a message's key and value as the producer encodes them (text as UTF-8). */
export function messageBytes(m: Message): number {
  return sizeOf(m.key) + sizeOf(m.value);
}

function sizeOf(v: Message['value'] | Message['key']): number {
  return v === null || v === undefined ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length;
}

export class KafkaOutRunner extends ClientRunner {
  private readonly queue: Entry[] = [];
  private queued = 0;
  private producer: Producer | null = null;
  private connected = false;
  private stopping = false;
  private pumping: Promise<void> | null = null;
  private readonly backoff: Backoff;
  private readonly status: ThrottledStatus;
  private sleepTimer: NodeJS.Timeout | null = null;
  private sleepWake: (() => void) | null = null;
  private sent = 0;
  /** The condition of the last failure (see failed()), '' while sending works. */
  private lastError = '';
  /** The broker state the last error stands for; null for an error that says nothing about the broker. */
  private lastErrorState: BrokerState | null = null;
  /** Messages refused for a full queue since the last one that fitted (the first one logs). */
  private refusedFull = 0;
  /** The broker's reason for the last message it refused, until a send succeeds (logged once). */
  private lastRefusal = '';
  /** Send one message per request after a refusal, so one bad record fails only its own message. */
  private isolate = 0;
  /**
   * The request that failed, sent again exactly as it was: an idempotent producer numbers records per
   * partition, and only an identical retry lets the broker recognise records it already wrote.
   */
  private retryTake: Entry[] | null = null;
  /** Exactly-once: the last transaction was not committed (fenced, or for another cause), until one is. */
  private aborted: 'fenced' | 'other' | null = null;

  constructor(
    private readonly node: Node,
    private readonly broker: KafkaBrokerConfig,
    private readonly o: KafkaOutOptions,
    private readonly metrics: NodeMetrics,
    /** The kafka out node's `RED._`: its texts are in that node's catalogue. */
    private readonly t: Translate,
  ) {
    super(node.id);
    this.backoff = new Backoff(o.backoff);
    this.status = new ThrottledStatus(node);
  }

  start(): void {
    this.broker.register(this);
    this.connectAfterPredecessor();
  }

  /**
   * Queue one message's records; `done` is called once the broker acknowledged them, after they were
   * acknowledged upstream (and `release` called). A message that fails goes to the Catch nodes (see
   * failToCatch).
   */
  enqueue(topic: string, messages: Message[], msg: NodeMessage, done: Done, release: HoldRelease = NOTHING_HELD): void {
    if (messages.length === 0) {
      release();
      done();
      return;
    }
    if (this.queued + messages.length > this.o.maxQueue) {
      const err = new Error(this.t('smoke-kafka-out.errors.queue-full', { queued: thousands(this.queued), max: thousands(this.o.maxQueue) }));
      // One line per run of refusals: the first says it, the Catch nodes get every message.
      if (this.refusedFull++ === 0) this.node.error(this.t('smoke-kafka-out.errors.queue-full-log', { error: err.message }));
      failToCatch(this.node, err, msg, done);
      this.show();
      return;
    }
    this.refusedFull = 0;
    const bytes = recordBytes(messages);
    if (bytes <= this.o.maxSendBytes || messages.length === 1) this.queue.push({ topic, messages, bytes, msg, done, release, settled: false });
    else {
      // More than one request may carry: parts of at most maxSendBytes, each request within the broker's limit.
      const parts = splitByBytes(messages, this.o.maxSendBytes);
      const whole: Whole = { parts: parts.length, records: messages.length, error: null };
      for (const part of parts) this.queue.push({ topic, messages: part.messages, bytes: part.bytes, msg, done, release, settled: false, whole });
    }
    this.queued += messages.length;
    void this.pump();
  }

  /** Exactly-once (nodes/kafka-out/transactional.ts): `records` were committed in a partition's transaction. */
  committed(records: number): void {
    this.sent += records;
    this.metrics.kafkaProduced.inc(records);
    this.aborted = null;
    this.show();
  }

  /**
   * Exactly-once: `records` were in a transaction that aborted, or their partition moved first; the
   * partition's owner sends them again. Logged once per episode: the first cause, until a transaction
   * commits (a fence aborts the transactions of several partitions, and their consequences follow).
   */
  abortedTxn(records: number, why: string, fenced: boolean): void {
    if (this.aborted === null) {
      this.aborted = fenced ? 'fenced' : 'other';
      this.node.warn(this.t('smoke-kafka-out.warn.txn-aborted', { records: thousands(records), why }));
    }
    this.show();
  }

  protected async connect(): Promise<void> {
    while (!this.stopping && !this.connected) {
      const kafka = this.broker.kafka;
      if (!kafka) return;
      this.show();
      const p = kafka.producer({
        idempotent: this.o.idempotent,
        maxInFlightRequests: this.o.idempotent ? 1 : undefined,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      this.producer = p;
      try {
        await p.connect();
        if (this.stopping) return;
        this.connected = true;
        this.backoff.reset();
        this.broker.report(true);
        this.show();
        void this.pump();
      } catch (err) {
        this.producer = null;
        await disconnectWithin(p, 3000);
        this.failed(err);
        await this.sleep(this.backoff.next(Math.random()));
      }
    }
  }

  private failed(err: unknown): void {
    this.broker.report(false, err);
    const text = errorText(err);
    this.lastErrorState = this.broker.stateOf(err);
    // One line per condition: a broker problem by its cause (retries and other brokers of the cluster
    // word it differently), anything else by its text.
    const condition = this.lastErrorState?.text ?? text;
    if (condition !== this.lastError) {
      this.lastError = condition;
      this.node.warn(this.t('smoke-kafka-out.warn.failing', { error: text, queued: thousands(this.queued) }));
    }
    this.show();
  }

  private pump(): Promise<void> {
    if (this.pumping) return this.pumping;
    if (!this.connected) return Promise.resolve();
    // Assigned before the run can finish: a run that ends at once (empty queue) must not leave a
    // settled promise behind as "pumping", or nothing would ever be sent again.
    const run = this.send();
    this.pumping = run;
    const clear = () => {
      if (this.pumping === run) this.pumping = null;
    };
    run.then(clear, clear);
    return run;
  }

  private async send(): Promise<void> {
    while (this.queue.length > 0 && this.connected && this.producer && !this.stopping) {
      const take = this.retryTake ?? this.takeBatch();
      this.retryTake = null;
      const byTopic = new Map<string, Message[]>();
      for (const e of take) {
        const list = byTopic.get(e.topic);
        if (list) for (const m of e.messages) list.push(m);
        else byTopic.set(e.topic, e.messages.slice());
      }
      const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
      try {
        await this.producer.sendBatch({
          topicMessages,
          acks: this.o.acks,
          compression: this.o.gzip ? CompressionTypes.GZIP : CompressionTypes.None,
        });
        this.settle(take);
        if (this.isolate > 0) this.isolate--;
        this.backoff.reset();
        if (this.lastError) this.node.log(this.t('smoke-kafka-out.log.sending-again'));
        this.lastError = '';
        this.lastRefusal = '';
        this.show();
      } catch (err) {
        if (isProducerStateError(err)) {
          // The idempotent producer's sequence numbers no longer match the broker's: start a new
          // producer (a new producer id) and send the same records again (at-least-once).
          this.retryTake = take;
          this.failed(err);
          await this.resetProducer();
          return;
        }
        if (isRetriable(err) || classifyError(err) === 'auth') {
          this.retryTake = take;
          this.failed(err);
          if (this.stopping) return;
          await this.sleep(this.backoff.next(Math.random()));
        } else if (take.length > 1) {
          this.isolate = take.length;
        } else {
          const text = errorText(err);
          // Logged once per reason until a send succeeds; the Catch nodes get every refused message.
          if (text !== this.lastRefusal) this.node.error(this.t('smoke-kafka-out.errors.refused', { error: text }));
          this.lastRefusal = text;
          this.settle(take, err instanceof Error ? err : new Error(text));
        }
      }
    }
  }

  private async resetProducer(): Promise<void> {
    const p = this.producer;
    this.producer = null;
    this.connected = false;
    if (p) await disconnectWithin(p, 3000);
    if (!this.stopping) this.starting = this.connect();
  }

  /**
   * The head of the queue up to maxSendRecords and maxSendBytes (at least one message, whole messages
   * only). The bytes bound the request as a whole because the partitioner places the records only in
   * kafkajs: the broker refuses a partition's batch larger than its `message.max.bytes` while it writes
   * the other partitions' batches of the same request, and the request sent again (one message at a
   * time, see send) would write those twice.
   */
  private takeBatch(): Entry[] {
    if (this.isolate > 0) return [this.queue[0]];
    const out: Entry[] = [];
    let n = 0;
    let bytes = 0;
    for (const e of this.queue) {
      if (out.length > 0 && (n + e.messages.length > this.o.maxSendRecords || bytes + e.bytes > this.o.maxSendBytes)) break;
      out.push(e);
      n += e.messages.length;
      bytes += e.bytes;
    }
    return out;
  }

  private settle(entries: Entry[], err?: Error): void {
    // Entries are nearly always the head of the queue (takeBatch); remove them in one step.
    const k = entries.length;
    if (k > 0 && this.queue[0] === entries[0] && this.queue[k - 1] === entries[k - 1]) this.queue.splice(0, k);
    else {
      const gone = new Set(entries);
      const keep = this.queue.filter((e) => !gone.has(e));
      this.queue.length = 0;
      this.queue.push(...keep);
    }
    for (const e of entries) {
      if (e.settled) continue;
      this.queued -= e.messages.length;
      e.settled = true;
      if (!err) {
        this.sent += e.messages.length;
        this.metrics.kafkaProduced.inc(e.messages.length);
      }
      // A message in parts: once, when its last part is settled.
      const w = e.whole;
      if (w !== undefined) {
        w.error ??= err ?? null;
        if (--w.parts > 0) continue;
      }
      const failed = w !== undefined ? w.error : err;
      if (failed) failToCatch(this.node, failed, e.msg, e.done);
      else {
        // The broker has the records: acknowledged to an after-sink kafka in (or a detector's outbox)
        // upstream, as a csv sink acknowledges its written rows.
        ack((e.msg.kafka as { ack?: unknown } | undefined)?.ack, w !== undefined ? w.records : e.messages.length);
        e.release();
        e.done();
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.sleepWake = () => {
        if (this.sleepTimer) clearTimeout(this.sleepTimer);
        this.sleepTimer = null;
        this.sleepWake = null;
        resolve();
      };
      this.sleepTimer = setTimeout(() => this.sleepWake?.(), ms);
    });
  }

  /** The broker's problem, else this producer's own last error, as status texts; null when there is none. */
  private problem(): Pick<BrokerState, 'text' | 'short'> | null {
    const b = this.brokerSt;
    if (b.kind === 'down' || b.kind === 'auth' || b.kind === 'bad-config') return b;
    // A send that failed for a reason that is not the broker's state.
    if (this.lastError) return this.lastErrorState ?? { text: this.t('smoke-kafka-out.status.send-failed') };
    return null;
  }

  /** Records waiting for the broker, for the status: "1.2k queued", '' when none. */
  private queuedText(): string {
    return this.queued > 0 ? this.t('smoke-kafka-out.status.queued', { count: compact(this.queued) }) : '';
  }

  /** Status text stays under ~20 characters: "broker down: refused", "refused, 1.2k queued", "12.3k sent". */
  protected show(): void {
    const problem = this.problem();
    if (problem) {
      const q = this.queuedText();
      this.status.now('failed', q ? this.t('smoke-kafka-out.status.problem-queued', { problem: problem.short ?? problem.text, queued: q }) : problem.text);
    } else if (!this.connected) this.status.set('connecting', this.connectingText);
    else if (this.aborted !== null) this.status.now('connecting', this.t(this.aborted === 'fenced' ? 'smoke-kafka-out.status.txn-fenced' : 'smoke-kafka-out.status.txn-aborted'));
    else this.status.set('ok', this.sentText);
  }

  // Evaluated only when the throttled status is written (see ThrottledStatus): one function each.
  private readonly connectingText = (q = this.queuedText()): string =>
    q ? this.t('smoke-kafka-out.status.connecting-queued', { queued: q }) : this.t('smoke-kafka-out.status.connecting');
  private readonly sentText = (q = this.queuedText(), count = compact(this.sent)): string =>
    q ? this.t('smoke-kafka-out.status.sent-queued', { count, queued: q }) : this.t('smoke-kafka-out.status.sent', { count });

  /** Send what is queued (briefly), fail the rest loudly, close. */
  protected async shutdown(budget: Deadline): Promise<void> {
    this.broker.deregister(this);
    // Records already queued get a last chance while the broker answers, then fail loudly; the
    // producer keeps at least 3 s of the budget to disconnect.
    if (this.queue.length > 0 && this.connected && !this.lastError) {
      await settleWithin(this.drained(), Math.min(this.o.closeFlushMs, budget.left() - 3000), undefined);
    }
    this.stopping = true;
    this.sleepWake?.();
    await settleWithin(this.starting, budget.left(3000), undefined);
    const left = this.queue.slice();
    if (left.length > 0) {
      // One condition, one line: the count and the cause; the Catch nodes get every message.
      const n = left.reduce((s, e) => s + e.messages.length, 0);
      const messages = new Set(left.map((e) => e.msg)).size;
      const err = new Error(this.t('smoke-kafka-out.errors.closed', { records: thousands(n), messages: thousands(messages), cause: this.closeCause() }));
      this.node.error(err.message);
      this.settle(left, err);
    }
    const p = this.producer;
    this.producer = null;
    this.connected = false;
    this.status.stop();
    if (p) await disconnectWithin(p, budget.left(5000));
  }

  /** Why queued records were not acknowledged before the close. */
  private closeCause(): string {
    const problem = this.problem();
    if (problem) return problem.text;
    if (!this.connected) return this.t('smoke-kafka-out.errors.closed-not-connected');
    return this.t('smoke-kafka-out.errors.closed-timeout', { seconds: this.o.closeFlushMs / 1000 });
  }

  private async drained(): Promise<void> {
    while (this.queue.length > 0 && this.connected && !this.lastError) {
      await this.pump();
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

const PRODUCER_STATE_ERRORS = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH', 'INVALID_PRODUCER_ID_MAPPING']);

function isProducerStateError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (PRODUCER_STATE_ERRORS.has((e as { type?: string }).type ?? '')) return true;
  }
  return false;
}
