/**
 * The consumer behind `kafka in`: one kafkajs consumer at a time per node, restarted with a bounded
 * exponential backoff whenever it fails or crashes (kafkajs' own restart is turned off so there is one
 * restart path, visible in the status), joining the group with its partition tasks, the timers, and
 * a clean stop; health figures on output 3. The parts live beside it: the batch loop with its after-sink
 * backpressure (consumer-batches.ts), the messages (consumer-emit.ts), the after-sink commits
 * (consumer-commits.ts), lag and the watch for deleted or recreated topics (consumer-topics.ts), what a
 * failure stops or restarts (consumer-restarts.ts), and the status (consumer-status.ts). Its texts are
 * kafka in's (its catalogue, through the node's `RED._`).
 *
 * Model: kafkajs' runner (a `stopping` flag checked at loop boundaries, an idempotent stop that waits
 * for the handler in flight) and Node-RED's MQTT nodes (the config node pushes broker state).
 */
import type { Consumer } from 'kafkajs';
import type { BackoffOptions } from '../lib/kafka-backoff';
import { OffsetTracker } from '../lib/kafka-offsets';
import { registerConsumer, unregisterConsumer } from './ack';
import { BatchLoop } from './consumer-batches';
import { AfterSinkCommits } from './consumer-commits';
import { RecordEmitter } from './consumer-emit';
import { ConsumerRestarts } from './consumer-restarts';
import { Rate, ShownStatus, consumerStatus, type OwnState } from './consumer-status';
import { TopicMonitor } from './consumer-topics';
import type { Translate } from './i18n';
import { ClientRunner, type Deadline, disconnectWithin, errorText, type KafkaBrokerConfig, nextUnitId, settleWithin } from './kafka-client';
import type { NodeMetrics } from './metrics';
import { PartitionTasks } from './partition-tasks';
import { guardedInterval, guardedTimeout, reportTimerErrors, type TimerErrorHandler } from './timers';
import type { Node, NodeMessage } from './types';

export type { BatchMeta, RecordMeta } from './consumer-emit';

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
  /** Bytes one fetch may return in all and per partition (see lib/kafka-fetch.ts). */
  fetchMaxBytes: number;
  fetchMaxBytesPerPartition: number;
  backoff: BackoffOptions;
  /** Output 3 metrics period; 0 = off. */
  metricsIntervalMs: number;
  lagIntervalMs: number;
}

const TICK_MS = 1000;

export class KafkaInRunner extends ClientRunner {
  private readonly afterSink: boolean;
  private readonly tracker = new OffsetTracker({ nextId: nextUnitId });
  private readonly emitter: RecordEmitter;
  private readonly topics: TopicMonitor;
  private readonly batches: BatchLoop;
  private readonly commits: AfterSinkCommits;
  private readonly restartAfter: ConsumerRestarts;
  private consumer: Consumer | null = null;
  private stopping = false;
  private joined = false;
  private own: OwnState = 'connecting';
  private ownText: string;
  private assignment: Record<string, number[]> | null = null;
  /** State of the stateful nodes behind this consumer, per assigned partition. */
  private tasks: PartitionTasks | null = null;
  private memberId = '';
  private restoring = 0;
  /**
   * A partial deploy in progress (from its stop to its start: {@link deployStopping}): whether it stops
   * nodes behind this one, and whether a stateful node's tasks were lost meanwhile.
   */
  private deploy: { behind: boolean; lost: boolean } | null = null;
  private timers: NodeJS.Timeout[] = [];
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly timerError: TimerErrorHandler;
  private readonly shown: ShownStatus;
  private readonly oldestPending = (): number | undefined => (this.afterSink ? this.tracker.oldestPendingAt() : undefined);
  // health figures
  private errors = 0;
  private rebalances = 0;
  private restarts = 0;
  private readonly rate = new Rate();
  private lastMetricsAt = Date.now();

  constructor(
    private readonly node: Node,
    private readonly broker: KafkaBrokerConfig,
    private readonly o: KafkaInOptions,
    private readonly metrics: NodeMetrics,
    /** The kafka in node's `RED._`: its texts are in that node's catalogue. */
    private readonly t: Translate,
  ) {
    super(node.id);
    this.afterSink = o.commit === 'after-sink';
    this.ownText = t('smoke-kafka-in.status.connecting');
    this.timerError = reportTimerErrors(node, t('smoke-kafka-in.log.timer'));
    this.restartAfter = new ConsumerRestarts(o.backoff, node, t, (err) => this.broker.stateOf(err)?.text);
    const wires = (node as unknown as { wires?: string[][] }).wires ?? [];
    const wired = [0, 1, 2].map((i) => (wires[i]?.length ?? 0) > 0) as [boolean, boolean, boolean];
    this.emitter = new RecordEmitter(node, this.id, o, this.tracker, metrics, this.afterSink, wired);
    this.shown = new ShownStatus(node);
    this.batches = new BatchLoop(o, this.afterSink, this.tracker, this.emitter, {
      stopping: () => this.stopping,
      tasks: () => this.tasks,
    });
    this.commits = new AfterSinkCommits(this.tracker, {
      consumer: () => this.consumer,
      joined: () => this.joined,
      drained: () => this.batches.drained(),
      failed: (err) => {
        this.errors++;
        this.node.debug(this.t('smoke-kafka-in.log.commit-failed', { error: errorText(err) }));
      },
    });
    this.topics = new TopicMonitor(o, metrics, t, {
      stopping: () => this.stopping,
      joined: () => this.joined,
      brokerDown: () => this.brokerSt.kind === 'down',
      admin: () => this.broker.admin(),
      assignment: () => this.assignment,
      inGroup: () => this.restartAfter.inGroup(),
      rejoin: (why) => {
        if (this.consumer !== null) this.fail(this.consumer, why, true);
      },
      warn: (text) => this.node.warn(text),
      show: () => this.show(),
    });
  }

  start(): void {
    if (this.afterSink) registerConsumer(this.id, this.commits.handler);
    this.broker.register(this);
    this.timers.push(guardedInterval(() => this.tick(), TICK_MS, this.timerError));
    this.timers.push(guardedInterval(() => this.topics.refreshLag(), this.o.lagIntervalMs, this.timerError));
    if (this.afterSink) this.timers.push(guardedInterval(() => this.commits.commit(), this.o.commitIntervalMs, this.timerError));
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
          // A stateful node stopped or started by a deploy: rejoined once the deploy is done (deployStarted).
          if (this.deploy !== null) this.deploy.lost = true;
          else if (this.consumer !== null) this.fail(this.consumer, new Error(this.t('smoke-kafka-in.errors.task-lost')));
        },
      });
    }
    this.show();
    // A redeployed node waits for its predecessor to leave the group before it joins.
    this.connectAfterPredecessor();
  }

  /** A partial deploy begins to stop nodes (`behind`: some of them behind this one); see {@link deployStarted}. */
  deployStopping(behind: boolean): void {
    this.deploy = { behind: behind || this.deploy?.behind === true, lost: this.deploy?.lost === true };
  }

  /**
   * The partial deploy's flows started. Node-RED drops the messages a node it stopped had not finished
   * (a delay node's queue, a sink's unwritten rows) and those sent to it while it was down: under
   * after-sink commits their records would never be acknowledged, and the commits would stay behind
   * them for good. A stateful node it stopped or started needs its tasks restored. Either way the
   * consumer rejoins and reads again from the committed offsets, as after a rebalance: exactly-once sinks
   * and stateful nodes skip what they have, at-least-once sinks may write a record twice.
   */
  deployStarted(): void {
    const d = this.deploy;
    this.deploy = null;
    if (d === null || this.consumer === null || this.stopping) return;
    if (!d.lost && !(d.behind && this.tracker.pendingUnits > 0)) return;
    this.node.log(this.t('smoke-kafka-in.log.redeliver', { records: this.tracker.inFlight }));
    this.fail(this.consumer, new Error(this.t('smoke-kafka-in.errors.redeploy')), true);
  }

  protected async connect(): Promise<void> {
    if (this.stopping) return;
    this.setOwn('connecting', this.t('smoke-kafka-in.status.connecting'));
    const kafka = this.broker.kafka;
    if (!kafka) return;
    let c: Consumer;
    try {
      c = kafka.consumer({
        groupId: this.o.groupId,
        sessionTimeout: this.o.sessionTimeout,
        heartbeatInterval: this.o.heartbeatInterval,
        maxWaitTimeInMs: 1000,
        maxBytes: this.o.fetchMaxBytes,
        maxBytesPerPartition: this.o.fetchMaxBytesPerPartition,
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
      this.broker.report(true);
      this.restartAfter.joined();
      this.setOwn('running', '');
    });
    c.on(c.events.REBALANCING, () => {
      if (c !== this.consumer) return;
      this.joined = false;
      this.rebalances++;
      this.metrics.rebalances.inc();
      this.setOwn('rebalancing', this.t('smoke-kafka-in.status.rebalancing'));
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
        eachBatch: (p) => this.batches.onBatch(p),
      });
    } catch (err) {
      this.fail(c, err);
    }
  }

  /**
   * The consumer `c` failed or crashed: drop it, show why, and start a new one after a backoff (or stop,
   * see ConsumerRestarts). A `quiet` restart (a topic recreated under it), and the passing errors of a
   * topic just created, only log at debug level and keep the status yellow.
   */
  private fail(c: Consumer | null, err: unknown, quiet = false): void {
    if (c !== this.consumer || this.stopping) return;
    this.consumer = null;
    this.joined = false;
    this.errors++;
    // The next consumer reads from the committed offsets again: forget what was in flight.
    this.tracker.clear();
    this.tasks?.revokeAll();
    this.batches.wakeDrain();
    this.broker.report(false, err);
    const { own, text, delay } = this.restartAfter.failed(err, quiet);
    this.setOwn(own, text);
    if (delay === null) {
      if (c) void disconnectWithin(c, 5000);
      return;
    }
    this.restarts++;
    this.metrics.reconnects.inc();
    const disconnected = c ? disconnectWithin(c, 5000) : Promise.resolve();
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

  private tick(): void {
    const now = Date.now();
    this.rate.update(this.emitter.records, now);
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
      recordsPerSec: Math.round(this.rate.value * 10) / 10,
      records: this.emitter.records,
      invalid: this.emitter.invalid,
      lag: this.topics.lag ?? {},
      lagTotal: this.topics.lagTotal,
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

  /** Status: see consumer-status.ts; set only when it changed. */
  protected show(): void {
    const st = consumerStatus(
      {
        broker: this.brokerSt,
        own: this.own,
        ownText: this.ownText,
        alert: this.topics.topicAlert,
        restoring: this.restoring,
        oldestPending: this.oldestPending,
        sinkWarnMs: this.o.sinkWarnMs,
        rate: this.rate.value,
        lagTotal: this.topics.lagTotal,
      },
      Date.now(),
      this.t,
    );
    if (st !== null) this.shown.set(st.kind, st.text);
  }

  /** Leave the group and release everything. */
  protected async shutdown(budget: Deadline): Promise<void> {
    this.stopping = true;
    this.own = 'stopped';
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.batches.wakeDrain();
    this.broker.deregister(this);
    // One budget within Node-RED's 15 s close, each step capped so that the later ones keep their
    // share: up to 3 s to let a connect in progress reach a point where disconnect() really stops it
    // (kafkajs leaks a consumer disconnected half-way through joining), 3 s for the tasks' final
    // checkpoints, 2 s for the last commit, the rest (at least 4 s) to leave the group.
    await settleWithin(this.starting, budget.left(3000), undefined);
    if (this.tasks) await settleWithin(this.tasks.close(budget.left(2500)), budget.left(3000), undefined);
    const c = this.consumer;
    if (c && this.afterSink) await settleWithin(this.commits.commit(), budget.left(2000), undefined);
    if (this.afterSink) unregisterConsumer(this.id, this.commits.handler);
    this.consumer = null;
    if (c) await disconnectWithin(c, budget.left());
    this.tracker.clear();
  }
}
