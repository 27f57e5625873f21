/**
 * The consumer behind `kafka in`: one kafkajs consumer at a time per node, restarted with a bounded
 * exponential backoff whenever it fails or crashes (kafkajs' own restart is turned off so there is one
 * restart path, visible in the status), after-sink offset commits with backpressure, health figures
 * (records/s, lag) in the status and on output 3, and a watch on the topics' offsets that notices a
 * topic deleted or recreated under it (records not yet read went with the old log).
 *
 * Model: kafkajs' runner (a `stopping` flag checked at loop boundaries, an idempotent stop that waits
 * for the handler in flight) and Node-RED's MQTT nodes (the config node pushes broker state).
 */
import type { Admin, Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { Backoff, type BackoffOptions } from '../lib/kafka-backoff';
import { fatalConsumerError, isTransientMetadataError, isUnknownTopic } from '../lib/kafka-errors';
import { OffsetTracker } from '../lib/kafka-offsets';
import { RecordDecoder, headersToStrings, keyToString } from '../lib/kafka-records';
import { TopicWatch, type PartitionOffsets, type TopicEvent } from '../lib/topic-watch';
import { registerConsumer, unregisterConsumer, type AckToken, type ConsumerHandler } from './ack';
import {
  Deadline,
  errorText,
  nextUnitId,
  previousShutdown,
  rejectAfter,
  settleWithin,
  trackShutdown,
  type BrokerState,
  type BrokerUser,
  type KafkaBrokerConfig,
} from './kafka-client';
import type { NodeMetrics } from './metrics';
import { PartitionTasks } from './partition-tasks';
import { compact, setStatus, thousands, type StatusKind } from './status';
import { guardedInterval, guardedTimeout, reportTimerErrors, type TimerErrorHandler } from './timers';
import type { Node, NodeMessage } from './types';

/**
 * Records that sinks acknowledged but a stateful node holds until its next checkpoint may be in flight
 * up to this many times `maxInFlight`: they occupy nothing downstream (the records were processed), only
 * their commit waits, and checkpoints come about every second.
 */
const HELD_FACTOR = 50;

/** Records emitted per step in single mode (measured: steps of 100 vs 1,000 cut alert p99 from ~1 s to ~60 ms at 5k/s). */
const SINGLE_STEP = 100;

export interface KafkaInOptions {
  topics: string[];
  groupId: string;
  fromBeginning: boolean;
  json: boolean;
  mode: 'single' | 'batch';
  /** Most records per emitted message (batch mode) and per emission step (both modes). */
  maxBatch: number;
  commit: 'auto' | 'after-sink';
  /**
   * Read records of open and aborted transactions too (`read_uncommitted`); the default reads only
   * committed ones (`read_committed`: what a consumer of an exactly-once pipeline's outputs wants).
   */
  readUncommitted: boolean;
  commitIntervalMs: number;
  /** How often the partition tasks checkpoint the state of the stores behind this consumer (see PartitionTasks). */
  checkpointIntervalMs: number;
  /** after-sink: fetching waits while this many records are emitted and not acknowledged (or held). */
  maxInFlight: number;
  /** after-sink: warn in the status when the oldest unacknowledged message is older than this. */
  sinkWarnMs: number;
  sessionTimeout: number;
  heartbeatInterval: number;
  backoff: BackoffOptions;
  /** Output 3 metrics period; 0 = off. */
  metricsIntervalMs: number;
  lagIntervalMs: number;
}

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

type OwnState = 'connecting' | 'rebalancing' | 'running' | 'failed' | 'stopped';

const TICK_MS = 1000;

/**
 * A topic that was just created (or recreated) has no known leader for a moment, and the consumer's
 * first fetch fails with "This server does not host this topic-partition": such errors restart the
 * consumer quietly (debug log, yellow status) for this long; if they last longer they are reported.
 */
const TRANSIENT_QUIET_MS = 10_000;

/** How long the status says "topic recreated" after the log line that tells what happened. */
const TOPIC_ALERT_MS = 60_000;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export class KafkaInRunner implements BrokerUser {
  readonly id: string;
  private readonly afterSink: boolean;
  private readonly tracker = new OffsetTracker({ nextId: nextUnitId });
  private readonly decoder: RecordDecoder;
  private readonly backoff: Backoff;
  private readonly wired: [boolean, boolean, boolean];
  private consumer: Consumer | null = null;
  private starting: Promise<void> = Promise.resolve();
  private stopping = false;
  private joined = false;
  private own: OwnState = 'connecting';
  private ownText = 'connecting';
  private brokerSt: BrokerState = { kind: 'unknown', text: '' };
  private lastWarned = '';
  private assignment: Record<string, number[]> | null = null;
  /** State of the stateful nodes behind this consumer, per assigned partition. */
  private tasks: PartitionTasks | null = null;
  private memberId = '';
  private restoring = 0;
  private committing: Promise<void> | null = null;
  private lagBusy = false;
  private drainWake: (() => void) | null = null;
  private timers: NodeJS.Timeout[] = [];
  private retryTimer: NodeJS.Timeout | null = null;
  private stopped: Promise<void> | null = null;
  private readonly timerError: TimerErrorHandler;
  private shownKey = '';
  // health figures
  private records = 0;
  private invalid = 0;
  private errors = 0;
  private rebalances = 0;
  private restarts = 0;
  private rate = 0;
  private rateAt = Date.now();
  private rateRecords = 0;
  private lag: Record<string, Record<string, number>> | null = null;
  private lagTotal: number | null = null;
  private lastMetricsAt = Date.now();
  /** When the current run of transient metadata errors began (0: none); see TRANSIENT_QUIET_MS. */
  private transientSince = 0;
  private readonly topicWatch = new TopicWatch();
  /** A deleted or recreated topic, shown in the status (red while it is missing, then yellow for a minute). */
  private topicAlert: { kind: StatusKind; text: string; until: number } | null = null;
  /** Sinks' acknowledgements and stateful nodes' holds (see ack.ts). */
  private readonly handler: ConsumerHandler = {
    ack: (id, n) => {
      this.tracker.ack(id, n);
      this.drained();
    },
    hold: (id, holder) => this.tracker.hold(id, holder),
    release: (id, holder) => {
      this.tracker.release(id, holder);
      this.drained();
    },
  };

  constructor(
    private readonly node: Node,
    private readonly broker: KafkaBrokerConfig,
    private readonly o: KafkaInOptions,
    private readonly metrics: NodeMetrics,
  ) {
    this.id = node.id;
    this.afterSink = o.commit === 'after-sink';
    this.timerError = reportTimerErrors(node, 'kafka in');
    this.decoder = new RecordDecoder(o.json);
    this.backoff = new Backoff(o.backoff);
    const wires = (node as unknown as { wires?: string[][] }).wires ?? [];
    this.wired = [0, 1, 2].map((i) => (wires[i]?.length ?? 0) > 0) as [boolean, boolean, boolean];
  }

  start(): void {
    if (this.afterSink) registerConsumer(this.id, this.handler);
    this.broker.register(this);
    this.timers.push(guardedInterval(() => this.tick(), TICK_MS, this.timerError));
    this.timers.push(guardedInterval(() => this.refreshLag(), this.o.lagIntervalMs, this.timerError));
    if (this.afterSink) this.timers.push(guardedInterval(() => this.commit(), this.o.commitIntervalMs, this.timerError));
    const kafka = this.broker.kafka;
    if (kafka) {
      this.tasks = new PartitionTasks(kafka, {
        groupId: this.o.groupId,
        consumerId: this.id,
        intervalMs: this.o.checkpointIntervalMs,
        log: (t) => this.node.log(t),
        warn: (t) => this.node.warn(t),
        timerError: this.timerError,
        changed: (n) => {
          this.restoring = n;
          this.show();
        },
        // As Kafka Streams on a TaskMigratedException: leave and rejoin the group, restoring what it assigns.
        lost: () => {
          if (this.consumer !== null) this.fail(this.consumer, new Error('a partition task was lost (fenced by another runtime, or its checkpoint failed); rejoining the group'));
        },
      });
    }
    this.show();
    // A redeployed node waits for its predecessor to leave the group before it joins.
    this.starting = previousShutdown(this.id).then(() => this.connect());
  }

  /** Leave the group and release everything, once however often it is asked; within Node-RED's 15 s close timeout. */
  stop(): Promise<void> {
    return (this.stopped ??= trackShutdown(this.id, this.shutdown()));
  }

  brokerState(state: BrokerState): void {
    this.brokerSt = state;
    this.show();
  }

  private async connect(): Promise<void> {
    if (this.stopping) return;
    this.setOwn('connecting', 'connecting');
    const kafka = this.broker.kafka;
    if (!kafka) return;
    let c: Consumer;
    try {
      c = kafka.consumer({
        groupId: this.o.groupId,
        sessionTimeout: this.o.sessionTimeout,
        heartbeatInterval: this.o.heartbeatInterval,
        maxWaitTimeInMs: 1000,
        readUncommitted: this.o.readUncommitted,
        retry: { restartOnFailure: async () => false },
      });
    } catch (err) {
      this.fail(null, err);
      return;
    }
    this.consumer = c;
    c.on(c.events.GROUP_JOIN, (e) => {
      if (c !== this.consumer) return;
      this.joined = true;
      this.assignment = e.payload.memberAssignment;
      this.tracker.retain(e.payload.memberAssignment);
      // A new member id: this member was out of the group (a new consumer, or one that lost its session),
      // so any partition may have had another owner meanwhile: every task restores.
      const fresh = e.payload.memberId !== this.memberId;
      this.memberId = e.payload.memberId;
      this.tasks?.assigned(e.payload.memberAssignment, fresh);
      this.backoff.reset();
      this.broker.report(true);
      if (this.lastWarned) this.node.log('consuming again');
      this.lastWarned = '';
      this.setOwn('running', '');
    });
    c.on(c.events.REBALANCING, () => {
      if (c !== this.consumer) return;
      this.joined = false;
      this.rebalances++;
      this.metrics.rebalances.inc();
      this.setOwn('rebalancing', 'rebalancing');
    });
    c.on(c.events.CRASH, (e) => this.fail(c, e.payload.error));
    try {
      await c.connect();
      if (this.stopping) return;
      await c.subscribe({ topics: this.o.topics, fromBeginning: this.o.fromBeginning });
      if (this.stopping) return;
      await c.run({
        autoCommit: !this.afterSink,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 1,
        eachBatch: (p) => this.onBatch(p),
      });
    } catch (err) {
      this.fail(c, err);
    }
  }

  /**
   * The consumer `c` failed or crashed: drop it, show why, and start a new one after a backoff. A
   * `quiet` restart (a topic recreated under it), and the passing errors of a topic just created, only
   * log at debug level and keep the status yellow.
   */
  private fail(c: Consumer | null, err: unknown, quiet = false): void {
    if (c !== this.consumer || this.stopping) return;
    this.consumer = null;
    this.joined = false;
    this.errors++;
    // The next consumer reads from the committed offsets again: forget what was in flight.
    this.tracker.clear();
    this.tasks?.revokeAll();
    this.wakeDrain();
    this.broker.report(false, err);
    const text = errorText(err);
    const fatal = fatalConsumerError(err);
    if (fatal !== null) {
      // Restarting cannot cure it (kafkajs gives up on it too): stop, and say what to fix.
      this.setOwn('failed', `stopped: ${fatal}`);
      this.node.error(`consumer stopped (${text}): ${FATAL_HINTS[fatal] ?? 'the broker refuses this client or its settings'}; fix it and deploy again`);
      if (c) void settleWithin(c.disconnect().catch(() => undefined), 5000, undefined);
      return;
    }
    this.restarts++;
    this.metrics.reconnects.inc();
    const delay = this.backoff.next(Math.random());
    const restart = `restarting in ${Math.round(delay / 100) / 10} s`;
    if (quiet || this.passing(err)) {
      this.setOwn('connecting', 'connecting');
      this.node.debug(`consumer ${restart} (${text})`);
    } else {
      // One warning per condition: a broker problem by its cause, anything else by its text.
      const condition = this.broker.stateOf(err)?.text ?? text;
      this.setOwn('failed', condition);
      if (condition !== this.lastWarned) {
        this.lastWarned = condition;
        this.node.warn(`consumer stopped (${text}); ${restart}`);
      }
    }
    const disconnected = c ? settleWithin(c.disconnect().catch(() => undefined), 5000, undefined) : Promise.resolve();
    void disconnected.then(() => {
      if (this.stopping) return;
      this.retryTimer = guardedTimeout(
        () => {
          this.retryTimer = null;
          this.starting = this.connect();
        },
        delay,
        this.timerError,
      );
    });
  }

  /** Whether `err` is a passing error of a topic just created, within TRANSIENT_QUIET_MS of the first one. */
  private passing(err: unknown): boolean {
    if (!isTransientMetadataError(err)) return false;
    const now = Date.now();
    if (this.transientSince === 0) this.transientSince = now;
    return now - this.transientSince < TRANSIENT_QUIET_MS;
  }

  private async onBatch(p: EachBatchPayload): Promise<void> {
    const { topic, partition, messages } = p.batch;
    const n = messages.length;
    let i = 0;
    const epoch = await this.taskEpoch(p, topic, partition);
    if (epoch === null) return;
    while (i < n) {
      if (this.stopping || !p.isRunning() || p.isStale()) return;
      // Single mode: Node-RED delivers one step breadth-first (every message passes a hop before the
      // first moves on), so the first alert of a step waits for the whole step. Small steps keep the
      // latency low and the messages young for the garbage collector.
      let room = this.o.mode === 'single' ? Math.min(this.o.maxBatch, SINGLE_STEP) : this.o.maxBatch;
      if (this.afterSink) {
        const t = this.tracker;
        const heldMax = this.o.maxInFlight * HELD_FACTOR;
        if (t.unacknowledged >= this.o.maxInFlight || t.inFlight >= heldMax) {
          await this.waitForDrain(p);
          continue;
        }
        room = Math.min(room, this.o.maxInFlight - t.unacknowledged, heldMax - t.inFlight);
      }
      const end = Math.min(n, i + room);
      this.emit(topic, partition, messages, i, end, epoch);
      // Only what was emitted counts as read: an early return (stop, rebalance) leaves the rest to be
      // fetched again, and in auto mode kafkajs commits exactly the resolved offsets.
      p.resolveOffset(messages[end - 1].offset);
      i = end;
      // Let Node-RED deliver what was just sent before the next step, then keep the session alive.
      await yieldToEventLoop();
      await p.heartbeat();
    }
  }

  /**
   * The epoch of the partition's task once the stateful nodes behind have restored its state (kafkajs
   * keeps the session alive meanwhile); null when the batch is no longer ours to emit.
   */
  private async taskEpoch(p: EachBatchPayload, topic: string, partition: number): Promise<number | undefined | null> {
    const tasks = this.tasks;
    if (tasks === null) return undefined;
    for (;;) {
      if (this.stopping || !p.isRunning() || p.isStale()) return null;
      if (!tasks.has(topic, partition)) return null;
      const epoch = tasks.epochOf(topic, partition);
      if (epoch !== undefined) return epoch;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(1000, this.o.heartbeatInterval));
        void tasks.whenReady(topic, partition).then(() => {
          clearTimeout(t);
          resolve();
        });
      });
      await p.heartbeat();
    }
  }

  /** Whether in-flight records fell to half their limits (unacknowledged, and held as well). */
  private drainedEnough(): boolean {
    return this.tracker.unacknowledged <= this.o.maxInFlight / 2 && this.tracker.inFlight <= (this.o.maxInFlight * HELD_FACTOR) / 2;
  }

  private async waitForDrain(p: EachBatchPayload): Promise<void> {
    while (!this.stopping && p.isRunning() && !p.isStale() && !this.drainedEnough()) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => this.wakeDrain(), Math.min(1000, this.o.heartbeatInterval));
        this.drainWake = () => {
          clearTimeout(t);
          this.drainWake = null;
          resolve();
        };
      });
      await p.heartbeat();
    }
  }

  private wakeDrain(): void {
    this.drainWake?.();
  }

  /** Resume fetching once in-flight records (unacknowledged or held) fell to half the limit. */
  private drained(): void {
    if (this.drainWake && this.drainedEnough()) this.wakeDrain();
  }

  private emit(topic: string, partition: number, messages: KafkaMessage[], from: number, to: number, epoch: number | undefined): void {
    const now = Date.now();
    const dec = this.decoder;
    const count = to - from;
    this.records += count;
    this.metrics.kafkaRecords.inc(count);
    const invalid: NodeMessage[] = [];
    if (this.o.mode === 'single') {
      // One send() per record: in a single send() call Node-RED deep-copies every message after the
      // first (costly, and a stack overflow on a hostile value), while separate calls copy nothing.
      for (let k = from; k < to; k++) {
        const m = messages[k];
        const offset = Number(m.offset);
        const key = keyToString(m.key);
        const payload = dec.decode(m.value);
        const kafka: RecordMeta = { topic, partition, offset, key, timestamp: Number(m.timestamp), headers: headersToStrings(m.headers) };
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
      const offset = Number(m.offset);
      const value = dec.decode(m.value);
      if (dec.error === null) {
        payload.push(value);
        keys.push(keyToString(m.key));
        offsets.push(offset);
        timestamps.push(Number(m.timestamp));
      } else {
        const kafka: RecordMeta = {
          topic,
          partition,
          offset,
          key: keyToString(m.key),
          timestamp: Number(m.timestamp),
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
    kafka.ack = { consumer: this.id, id, records };
  }

  private commit(): Promise<void> {
    if (this.committing) return this.committing;
    const c = this.consumer;
    if (!c || !this.joined) return Promise.resolve();
    const list = this.tracker.commitable();
    if (list.length === 0) return Promise.resolve();
    this.committing = c
      .commitOffsets(list.map((e) => ({ topic: e.topic, partition: e.partition, offset: String(e.offset) })))
      .then(() => {
        for (const e of list) this.tracker.markCommitted(e.topic, e.partition, e.offset);
      })
      .catch((err: unknown) => {
        // Retried on the next interval; a rebalance in between makes kafkajs refuse it, which is fine.
        this.errors++;
        this.node.debug(`commit failed: ${errorText(err)}`);
      })
      .finally(() => {
        this.committing = null;
      });
    return this.committing;
  }

  /**
   * Lag of this member's partitions (log end minus committed offset), and the watch on every partition
   * of the topics: a topic that disappeared or whose offsets went back is reported (see noticeTopic).
   */
  private async refreshLag(): Promise<void> {
    if (this.lagBusy || this.stopping || this.brokerSt.kind === 'down') return;
    this.lagBusy = true;
    try {
      const admin = await this.broker.admin();
      const budget = Math.max(1000, this.o.lagIntervalMs);
      const lag: Record<string, Record<string, number>> = {};
      let total = 0;
      for (const topic of this.o.topics) {
        const offsets = await this.topicOffsets(admin, topic, budget);
        if (this.stopping) return;
        this.noticeTopic(topic, offsets);
        const mine = this.assignment?.[topic];
        for (const e of offsets ?? []) {
          if (mine && !mine.includes(e.partition)) continue;
          const l = Math.max(0, e.high - (e.committed >= 0 ? e.committed : e.low));
          (lag[topic] ??= {})[e.partition] = l;
          total += l;
        }
      }
      if (!this.stopping && this.joined) {
        this.lag = lag;
        this.lagTotal = total;
        // Replace, not add: partitions lost in a rebalance must not keep their last lag.
        this.metrics.replaceLag(lag);
        // A member that is in the group and sees its topics is past any passing metadata errors.
        this.transientSince = 0;
      }
    } catch {
      // lag is a nice-to-have; the broker probe reports reachability
    } finally {
      this.lagBusy = false;
    }
  }

  /** Every partition of `topic` with the group's committed offset; null when the topic does not exist. */
  private async topicOffsets(admin: Admin, topic: string, budget: number): Promise<PartitionOffsets[] | null> {
    try {
      // Committed offsets first: offsets only grow, so a committed offset above a log end read after it
      // belongs to an older log of the topic.
      const committed = await rejectAfter(admin.fetchOffsets({ groupId: this.o.groupId, topics: [topic] }), budget, 'fetchOffsets');
      const ends = await rejectAfter(admin.fetchTopicOffsets(topic), budget, 'fetchTopicOffsets');
      const done = committed.find((t) => t.topic === topic)?.partitions ?? [];
      return ends.map((e) => ({
        partition: e.partition,
        high: Number(e.high),
        low: Number(e.low),
        committed: Number(done.find((d) => d.partition === e.partition)?.offset ?? -1),
      }));
    } catch (err) {
      if (isUnknownTopic(err)) return null;
      throw err;
    }
  }

  /**
   * Report a deleted or recreated topic once (a warning, and the status), and rejoin the group when it
   * exists again: the consumer's positions and the offsets held for commits belong to the old log, and
   * the new one may have other partitions.
   */
  private noticeTopic(topic: string, offsets: PartitionOffsets[] | null): void {
    const ev = this.topicWatch.observe(topic, offsets);
    if (ev === null) return;
    if (ev.kind === 'deleted') {
      this.node.warn(`topic "${topic}" was deleted; ${unreadText(ev.unread)}`);
      this.topicAlert = { kind: 'failed', text: 'topic deleted', until: Infinity };
    } else {
      if (ev.kind === 'recreated') this.node.warn(`topic "${topic}" was deleted and created again: ${backText(ev)}; ${unreadText(ev.unread)}`);
      this.topicAlert = { kind: 'connecting', text: 'topic recreated', until: Date.now() + TOPIC_ALERT_MS };
      if (this.consumer !== null) this.fail(this.consumer, new Error(`topic "${topic}" was recreated: rejoining the group`), true);
    }
    this.show();
  }

  private tick(): void {
    const now = Date.now();
    const dt = now - this.rateAt;
    if (dt > 0) {
      this.rate = ((this.records - this.rateRecords) * 1000) / dt;
      this.rateAt = now;
      this.rateRecords = this.records;
    }
    this.show();
    if (this.o.metricsIntervalMs > 0 && now - this.lastMetricsAt >= this.o.metricsIntervalMs - TICK_MS / 2) {
      this.lastMetricsAt = now;
      this.node.send([null, null, { topic: this.o.topics.join(','), payload: this.health() } as NodeMessage]);
    }
  }

  /** The figures of output 3. */
  health(): Record<string, unknown> {
    return {
      state: this.own,
      recordsPerSec: Math.round(this.rate * 10) / 10,
      records: this.records,
      invalid: this.invalid,
      lag: this.lag ?? {},
      lagTotal: this.lagTotal,
      inFlight: this.tracker.inFlight,
      errors: this.errors,
      rebalances: this.rebalances,
      restarts: this.restarts,
    };
  }

  private setOwn(state: OwnState, text: string): void {
    this.own = state;
    this.ownText = text;
    this.show();
  }

  /** Status: broker problems first, then the consumer's own state, then throughput and lag. */
  private show(): void {
    let kind: StatusKind;
    let text: string;
    const b = this.brokerSt.kind;
    if (b === 'down' || b === 'auth' || b === 'bad-config') {
      kind = 'failed';
      text = this.brokerSt.text;
    } else if (this.own === 'failed') {
      kind = 'failed';
      text = this.ownText;
    } else if (this.topicAlert !== null && Date.now() < this.topicAlert.until && this.own !== 'stopped') {
      kind = this.topicAlert.kind;
      text = this.topicAlert.text;
    } else if (this.own === 'connecting' || this.own === 'rebalancing') {
      kind = 'connecting';
      text = this.ownText;
    } else if (this.own === 'running' && this.restoring > 0) {
      kind = 'connecting';
      text = `restoring ${this.restoring} part.`;
    } else if (this.own === 'stopped') {
      return;
    } else {
      const oldest = this.afterSink ? this.tracker.oldestPendingAt() : undefined;
      if (oldest !== undefined && Date.now() - oldest > this.o.sinkWarnMs) {
        kind = 'connecting';
        text = 'waiting for sink';
      } else {
        kind = 'ok';
        text = `${compact(Math.round(this.rate))}/s` + (this.lagTotal === null ? '' : ` lag ${compact(this.lagTotal)}`);
      }
    }
    const key = kind + text;
    if (key === this.shownKey) return;
    this.shownKey = key;
    setStatus(this.node, kind, text);
  }

  private async shutdown(): Promise<void> {
    this.stopping = true;
    this.own = 'stopped';
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.wakeDrain();
    this.broker.deregister(this);
    // One budget within Node-RED's 15 s close, each step capped so that the later ones keep their
    // share: up to 3 s to let a connect in progress reach a point where disconnect() really stops it
    // (kafkajs leaks a consumer disconnected half-way through joining), 3 s for the tasks' final
    // checkpoints, 2 s for the last commit, the rest (at least 4 s) to leave the group.
    const budget = new Deadline();
    await settleWithin(this.starting, budget.left(3000), undefined);
    if (this.tasks) await settleWithin(this.tasks.close(budget.left(2500)), budget.left(3000), undefined);
    const c = this.consumer;
    if (c && this.afterSink) await settleWithin(this.commit(), budget.left(2000), undefined);
    if (this.afterSink) unregisterConsumer(this.id, this.handler);
    this.consumer = null;
    if (c) await settleWithin(c.disconnect().catch(() => undefined), budget.left(), undefined);
    this.tracker.clear();
  }
}

/** What to fix for each fatal consumer error (lib/kafka-errors.ts fatalConsumerError). */
const FATAL_HINTS: Record<string, string> = {
  TOPIC_AUTHORIZATION_FAILED: "the broker's ACLs do not let this client read the topic",
  GROUP_AUTHORIZATION_FAILED: "the broker's ACLs do not let this client use the group id",
  CLUSTER_AUTHORIZATION_FAILED: "the broker's ACLs do not let this client act on the cluster",
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: "the broker's ACLs do not let this client use transactional ids starting with the group id",
  INVALID_SESSION_TIMEOUT: "the session timeout is outside the broker's group.min.session.timeout.ms … group.max.session.timeout.ms (6 s … 30 min by default)",
  INVALID_GROUP_ID: 'the broker refuses the group id',
  INVALID_TOPIC_EXCEPTION: 'the broker refuses a topic name',
  INCONSISTENT_GROUP_PROTOCOL: 'another member of the group uses another protocol (a consumer of another kind with the same group id)',
  UNSUPPORTED_VERSION: 'the broker is too old for this client',
};

/** What a deleted topic took with it, from the group's lag at the last check. */
function unreadText(unread: number): string {
  return unread > 0
    ? `${thousands(unread)} records not yet consumed at the last check went with it`
    : 'no records were waiting to be consumed at the last check';
}

/** "offsets went back on partition 0 (260 → 18), partition 1 (140 → 6); 2 → 4 partitions". */
function backText(ev: Extract<TopicEvent, { kind: 'recreated' }>): string {
  const shown = ev.back.slice(0, 3).map((b) => `partition ${b.partition} (${thousands(b.from)} → ${thousands(b.to)})`);
  if (ev.back.length > 3) shown.push(`${ev.back.length - 3} more`);
  const parts = ev.partitionsNow !== ev.partitionsBefore ? `; ${ev.partitionsBefore} → ${ev.partitionsNow} partitions` : '';
  return `offsets went back on ${shown.join(', ')}${parts}`;
}
