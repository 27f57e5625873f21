/**
 * State that follows its Kafka partition (model: Kafka Streams' TaskManager, ProcessorStateManager and
 * StoreChangelogReader). Every `kafka in` owns one PartitionTasks; each stateful node behind it (sliding
 * window, zscore anomaly, …) registers a {@link PartitionStore} that keeps its state per source
 * partition (a task, `topic:partition`).
 *
 * - **Changelog:** each store checkpoints its tasks into a compacted topic of its own
 *   (`<group>-<node id>-changelog`, partition = source partition; lib/changelog.ts has the layout).
 * - **Fencing:** the checkpoints of a task are written by a transactional producer whose transactional id
 *   is the task's (`<group>-<topic>-<partition>`). The runtime that is assigned the task next initialises
 *   the same transactional id, which aborts whatever the previous owner had open and fences it: a zombie
 *   (a paused process that lost its partitions) can no longer write a checkpoint.
 * - **Restore on assignment:** when `kafka in` is assigned a partition, the task writes a marker into
 *   every store's changelog partition (in a transaction, after fencing) and reads each from its start up
 *   to the marker; only then are the partition's records emitted (`kafka in` waits on {@link whenReady}).
 *   Every message of a task carries the task's epoch (`msg.kafka.epoch`): stores apply only messages of
 *   the current epoch, so records emitted under an earlier assignment never touch restored state.
 * - **Drop on revocation:** a revoked task's state is dropped from every store. kafkajs rejoins by itself
 *   (there is no revocation callback before the new owner starts), so what the last checkpoint lacks is
 *   recomputed by the new owner from the committed offset: `after-sink` commits wait for the checkpoint
 *   that holds their records (the stores hold their ack tokens, nodes/nr/ack.ts), and each store skips
 *   records at or below the highest offset in its restored state.
 * - **Clean stop:** a final checkpoint of every task before the consumer leaves the group.
 *
 * This module keeps the tasks' lifecycle (assignment, revocation, stores joining and leaving, the
 * checkpoint timer, close) and their producers; the restore lives in ./task-restore.ts, a checkpoint's
 * transaction in ./task-commit.ts, the shared types in ./task-types.ts.
 */
import type { Kafka, Producer } from 'kafkajs';
import { Partitioners } from './kafkajs';
import { changelogTopic, taskKey } from '../lib/changelog';
import { shared, text } from './i18n';
import { disconnectWithin, errorText, settleWithin } from './kafka-client';
import { commitLane, type CommitHost } from './task-commit';
import { TaskRestore } from './task-restore';
import { newLane, type CommitOutcome, type Lane, type PartitionStore, type PartitionTasksOptions, type Task } from './task-types';
import { guardedInterval } from './timers';

export { isFenced } from '../lib/kafka-errors';
export { WaitingMessages } from '../lib/waiting-messages';
export { type AbortCause, type CommitOutcome, type OutputRecords, type PartitionStore, type PartitionTasksOptions, type Taken } from './task-types';

/** Epochs are unique in the process: a redeployed consumer's tasks never reuse an epoch. */
let epochSeq = 0;

const TICK_MS = 100;

/** Process-wide: the tasks of each `kafka in` by node id, and stores waiting for theirs. */
const byConsumer = new Map<string, PartitionTasks>();
const waitingStores = new Map<string, Set<PartitionStore>>();

/**
 * A store joins the tasks of `kafka in` `consumerId` (now, or when that node starts). Returns the
 * function that takes it out again: it resolves after a final checkpoint of the store's tasks.
 */
export function registerStore(consumerId: string, store: PartitionStore): () => Promise<void> {
  let set = waitingStores.get(consumerId);
  if (set === undefined) waitingStores.set(consumerId, (set = new Set()));
  set.add(store);
  byConsumer.get(consumerId)?.addStore(store);
  return async () => {
    waitingStores.get(consumerId)?.delete(store);
    const t = byConsumer.get(consumerId);
    if (t) await t.removeStore(store);
  };
}

/**
 * The changelog topic of store `nodeId` behind `kafka in` `consumerId`: `<group>-<node id>-changelog`.
 * Throws when that consumer is not running (a store keeps the name once known: see TaskStore).
 */
export function changelogOf(consumerId: string, nodeId: string): string {
  const group = byConsumer.get(consumerId)?.groupId;
  if (group === undefined) throw new Error(shared('smoke-kafka-broker.common.errors.no-kafka-in', { node: nodeId }));
  return changelogTopic(group, nodeId);
}

/** The tasks of `kafka in` `consumerId`, when it runs. */
export function tasksOf(consumerId: string): PartitionTasks | undefined {
  return byConsumer.get(consumerId);
}

export class PartitionTasks {
  private readonly stores = new Map<string, PartitionStore>();
  private readonly tasks = new Map<string, Task>();
  private readonly intervalMs: number;
  private readonly timer: NodeJS.Timeout;
  private readonly restore: TaskRestore;
  /** What a checkpoint's transaction (task-commit.ts) needs of the tasks. */
  private readonly commits: CommitHost;
  private closing: Promise<void> | null = null;
  private warned = new Set<string>();

  constructor(
    private readonly kafka: Kafka,
    private readonly o: PartitionTasksOptions,
  ) {
    this.intervalMs = o.intervalMs ?? 5000;
    this.restore = new TaskRestore(kafka, o, o.restoreTimeoutMs ?? 120_000, {
      producerOf: (t, lane) => this.producerOf(t, lane),
      replaceProducer: (lane) => this.replaceProducer(lane),
      closing: () => this.closing !== null,
      warnOnce: (kind, text) => this.warnOnce(kind, text),
    });
    this.commits = {
      producerOf: (t, lane) => this.producerOf(t, lane),
      giveUp: (t, why) => {
        this.dropTask(t, why);
        this.o.lost?.();
      },
      warnOnce: (kind, text) => this.warnOnce(kind, text),
    };
    byConsumer.set(o.consumerId, this);
    for (const s of waitingStores.get(o.consumerId) ?? []) this.stores.set(s.id, s);
    this.timer = guardedInterval(() => this.tick(), TICK_MS, o.timerError ?? ((err) => o.warn(text('smoke-kafka-in.warn.checkpoint-timer', { error: errorText(err) }))));
    this.timer.unref?.();
  }

  /** The consumer group: changelog topics and transactional ids are named after it. */
  get groupId(): string {
    return this.o.groupId;
  }

  /** Stores registered: without any, tasks are ready at once and nothing is written. */
  get active(): boolean {
    return this.stores.size > 0;
  }

  /** The epoch of task (topic, partition) when it is ready; undefined while it restores or is not assigned. */
  epochOf(topic: string, partition: number): number | undefined {
    const t = this.tasks.get(taskKey(topic, partition));
    return t !== undefined && t.state === 'ready' ? t.epoch : undefined;
  }

  /**
   * Whether `epoch` is the current epoch of task `tp`: a store applies a message only then (records
   * emitted under an earlier assignment of the partition never touch the state restored since).
   */
  current(tp: string, epoch: unknown): boolean {
    const t = this.tasks.get(tp);
    return t !== undefined && t.state !== 'gone' && t.epoch === epoch;
  }

  /** Whether partition (topic, partition) is assigned (its task restoring or ready). */
  has(topic: string, partition: number): boolean {
    return this.tasks.has(taskKey(topic, partition));
  }

  /** Resolves when task (topic, partition) is ready or no longer assigned. */
  whenReady(topic: string, partition: number): Promise<void> {
    return this.tasks.get(taskKey(topic, partition))?.ready ?? Promise.resolve();
  }

  /**
   * A new assignment (kafkajs GROUP_JOIN). `fresh`: the member is new to the group (a new member id,
   * or a new consumer), so every task is new: another member may have owned any of them meanwhile.
   */
  assigned(assignment: Record<string, number[]>, fresh: boolean): void {
    if (this.closing) return;
    const wanted = new Set<string>();
    for (const [topic, parts] of Object.entries(assignment)) for (const p of parts) wanted.add(taskKey(topic, p));
    for (const t of [...this.tasks.values()]) if (fresh || !wanted.has(t.tp)) this.dropTask(t, 'revoked');
    const added: Task[] = [];
    for (const [topic, parts] of Object.entries(assignment)) {
      for (const partition of parts) {
        const tp = taskKey(topic, partition);
        if (this.tasks.has(tp)) continue;
        const t = this.newTask(topic, partition);
        this.tasks.set(tp, t);
        added.push(t);
      }
    }
    if (added.length > 0) void this.restore.restoreRound(added, [...this.stores.values()]);
  }

  /** Every task is gone (the consumer restarts and will be assigned again). */
  revokeAll(): void {
    for (const t of [...this.tasks.values()]) this.dropTask(t, 'revoked');
  }

  /** A store asks for a checkpoint of task `tp` soon (it holds many records). */
  nudge(tp: string): void {
    const t = this.tasks.get(tp);
    if (t) t.main.urgent = true;
  }

  addStore(store: PartitionStore): void {
    if (this.closing) return;
    this.stores.set(store.id, store);
    // A store that starts while tasks run (a redeploy of that node alone): the records its predecessor
    // held back after its final checkpoint must come again, so the consumer rejoins and every task
    // restores from the committed offsets.
    if (this.tasks.size > 0) this.o.lost?.();
  }

  /**
   * A store stops: a final checkpoint of its tasks, then it is out. While the consumer keeps running
   * (that node alone redeployed or deleted), the records the store held back since are only released by
   * a rejoin (it restarts from the committed offsets).
   */
  async removeStore(store: PartitionStore): Promise<void> {
    if (!this.stores.has(store.id)) return;
    await settleWithin(Promise.all([...this.tasks.values()].map((t) => this.commit(t, [store]))), 4000, [] as CommitOutcome[]);
    this.stores.delete(store.id);
    if (!this.closing && this.tasks.size > 0) this.o.lost?.();
  }

  /** The consumer stops: a final checkpoint of every task (bounded by `budgetMs`), then the producers go. */
  close(budgetMs: number): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.timer);
      const tasks = [...this.tasks.values()];
      await settleWithin(Promise.all(tasks.map((t) => this.commit(t))), budgetMs, [] as CommitOutcome[]);
      for (const t of tasks) this.dropTask(t, 'closed');
      // Only now: stores find their topic and their tasks through this entry until the last checkpoint.
      if (byConsumer.get(this.o.consumerId) === this) byConsumer.delete(this.o.consumerId);
    })();
    return this.closing;
  }

  private newTask(topic: string, partition: number): Task {
    let resolve: () => void = () => undefined;
    const ready = new Promise<void>((r) => (resolve = r));
    return {
      tp: taskKey(topic, partition),
      topic,
      partition,
      epoch: ++epochSeq,
      state: 'restoring',
      ready,
      resolve,
      chunks: new Map(),
      main: newLane(''),
      fast: newLane('-fast'),
    };
  }

  private dropTask(t: Task, why: 'revoked' | 'closed' | 'fenced' | 'failed'): void {
    if (this.tasks.get(t.tp) === t) this.tasks.delete(t.tp);
    if (t.state === 'gone') return;
    t.state = 'gone';
    t.gone = why;
    t.resolve();
    for (const s of this.stores.values()) s.drop(t.tp);
    this.replaceProducer(t.main);
    this.replaceProducer(t.fast);
    // One line per episode (a fence takes every partition the other runtime got, at about once).
    if (why === 'fenced') this.warnOnce('fenced', text('smoke-kafka-in.warn.fenced', { tp: t.tp }));
  }

  /** The task's transactional ids: `<group>-<topic>-<partition>`, and the fast lane's with `-fast`. */
  private transactionalId(t: Task, lane: Lane): string {
    return `${this.o.groupId}-${t.topic}-${t.partition}${lane.suffix}`;
  }

  /** A lane's transactional producer, connected (a new one after a failure: see commitLane). */
  private async producerOf(t: Task, lane: Lane): Promise<Producer> {
    if (lane.producer === null) {
      // The default partitioner (Java's murmur2), named: output records land where kafka out's would.
      const p = this.kafka.producer({
        transactionalId: this.transactionalId(t, lane),
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      lane.producer = p;
      try {
        await p.connect();
      } catch (err) {
        if (lane.producer === p) lane.producer = null;
        void p.disconnect().catch(() => undefined);
        throw err;
      }
    }
    return lane.producer;
  }

  private replaceProducer(lane: Lane): void {
    const p = lane.producer;
    lane.producer = null;
    if (p) void disconnectWithin(p, 5000);
  }

  private tick(): void {
    if (this.closing || this.stores.size === 0) return;
    const now = Date.now();
    for (const t of this.tasks.values()) {
      if (t.state !== 'ready') continue;
      for (const lane of [t.main, t.fast]) {
        if (lane.committing !== null || now < lane.notBefore) continue;
        if (lane.urgent || now - lane.lastAt >= this.intervalMs) void commitLane(this.commits, t, lane, this.storesOf(lane));
      }
    }
  }

  private storesOf(lane: Lane): PartitionStore[] {
    const fast = lane.suffix !== '';
    return [...this.stores.values()].filter((s) => (s.lane === 'fast') === fast);
  }

  /** Checkpoint task `t` of `only` stores (default: all), each lane in one transaction of its own. */
  private commit(t: Task, only?: PartitionStore[]): Promise<CommitOutcome> {
    const stores = only ?? [...this.stores.values()];
    const fast = stores.filter((s) => s.lane === 'fast');
    const main = stores.filter((s) => s.lane !== 'fast');
    const runs: Promise<CommitOutcome>[] = [];
    if (main.length > 0) runs.push(commitLane(this.commits, t, t.main, main));
    if (fast.length > 0) runs.push(commitLane(this.commits, t, t.fast, fast));
    return Promise.all(runs).then((r) => (r.includes('gone') ? 'gone' : r.includes('ok') ? 'ok' : 'none'));
  }

  /** Checkpoint `store`'s state of task `tp` now (after a checkpoint in flight); `gone` when the task is not of `epoch` (when given). */
  checkpointNow(tp: string, store: PartitionStore, epoch?: number): Promise<CommitOutcome> {
    const t = this.tasks.get(tp);
    if (t === undefined || !this.stores.has(store.id) || (epoch !== undefined && t.epoch !== epoch)) return Promise.resolve('gone');
    return this.commit(t, [store]);
  }

  /**
   * The last checkpoint of `tp` in `store`'s changelog, whoever owns the partition now (read-only: a
   * plain marker write, no fencing). For a store's crash recovery.
   */
  readLatest(store: PartitionStore, tp: string, partition: number): Promise<string | undefined> {
    return this.restore.readLatest(store, tp, partition);
  }

  private warnOnce(kind: string, text: string): void {
    if (this.warned.has(kind)) return;
    this.warned.add(kind);
    this.o.warn(text);
    // Say it again if it happens again in a minute.
    setTimeout(() => this.warned.delete(kind), 60_000).unref?.();
  }
}
