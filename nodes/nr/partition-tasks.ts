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
 */
import { randomUUID } from 'node:crypto';
import { Partitioners, type CompressionTypes, type Kafka, type Message, type Producer } from 'kafkajs';
import { changelogTopic, checkpointRecords, deleteRecords, markerKey, taskKey, ChangelogReader, type ChangelogRecord } from '../lib/changelog';
import { release, type AckToken } from './ack';
import { ensureChangelogTopics, partitionCount, readToMarkers } from './changelog-io';
import { errorText, settleWithin } from './kafka-client';
import { guardedInterval, type TimerErrorHandler } from './timers';

/** A checkpoint a store handed over: its text (null: the task holds nothing, delete it) and the ack tokens it covers. */
export interface Taken {
  text: string | null;
  tokens: AckToken[];
  /** Whatever the store wants back in {@link PartitionStore.committed}. */
  meta?: unknown;
  /**
   * Output records sent in the same transaction as the checkpoint (an exactly-once `kafka out`): they
   * become visible to `read_committed` readers with it, or never.
   */
  records?: OutputRecords[];
}

/** Records for one output topic, partitioned by key as any kafkajs producer does. */
export interface OutputRecords {
  topic: string;
  messages: Message[];
  compression?: CompressionTypes;
}

/**
 * How a checkpoint ended: written, nothing to write, or the task is gone (revoked, or given up after a
 * failed checkpoint: see commitLane).
 */
export type CommitOutcome = 'ok' | 'none' | 'gone';

/** What a stateful node gives the tasks of its `kafka in`. */
export interface PartitionStore {
  /** The node id (holder id of its ack tokens). */
  readonly id: string;
  /** Its changelog topic. */
  readonly changelog: string;
  /**
   * `fast`: small checkpoints that something waits for (a csv sink's positions, on every flush): they
   * go through a producer of their own, so that they never queue behind a large state checkpoint.
   */
  readonly lane?: 'fast';
  /**
   * Replace task `tp`'s state by its checkpoint (undefined: none, start empty); `epoch` is the task's
   * (for outputs sent again). Returns the devices restored.
   */
  restore(tp: string, text: string | undefined, epoch: number): number;
  /** Forget task `tp` (revoked, or lost to a fence). */
  drop(tp: string): void;
  /** The checkpoint of task `tp` if it changed or holds tokens since the last take; null when there is nothing to write. */
  take(tp: string): Taken | null;
  /** A taken checkpoint is committed in the changelog. */
  committed?(tp: string, taken: Taken): void;
  /**
   * A taken checkpoint's transaction was aborted (`why`: the cause, as a person reads it); the task is
   * given up and its records are processed again by the partition's next owner (this runtime after it
   * rejoins, or another).
   */
  aborted?(tp: string, taken: Taken, why: string): void;
}

export interface PartitionTasksOptions {
  groupId: string;
  /** The kafka in node id. */
  consumerId: string;
  /** Least time between two checkpoints of a task (ms). */
  intervalMs?: number;
  /** Restore read timeout (ms). */
  restoreTimeoutMs?: number;
  log(text: string): void;
  warn(text: string): void;
  /** The restoring state changed (for the status): tasks restoring now. */
  changed(restoring: number): void;
  /**
   * A task was given up: its producer was fenced (another runtime initialised its transactional id, so
   * this member's view of the group is stale) or its checkpoint failed. The consumer should rejoin the
   * group and restore what it is assigned.
   */
  lost?(): void;
  /** Where a failure of the checkpoint timer goes (nodes/nr/timers.ts); default: warn. */
  timerError?: TimerErrorHandler;
}

/** One transactional producer of a task and the checkpoint it writes now. */
interface Lane {
  /** Suffix of the transactional id ('' for the main lane). */
  suffix: string;
  producer: Producer | null;
  committing: Promise<void> | null;
  /** The checkpoint that follows the one in flight, for everyone who asked meanwhile, and their stores. */
  next: Promise<CommitOutcome> | null;
  nextStores: Set<PartitionStore>;
  lastAt: number;
  /** No checkpoint before this time: checkpoints take at most about a tenth of the time. */
  notBefore: number;
  urgent: boolean;
}

interface Task {
  tp: string;
  topic: string;
  partition: number;
  epoch: number;
  state: 'restoring' | 'ready' | 'gone';
  /** Why the task is gone (the first cause: what a transaction in flight then fails with is its consequence). */
  gone?: 'revoked' | 'closed' | 'fenced' | 'failed';
  ready: Promise<void>;
  resolve: () => void;
  /** Chunk counts of each store's last checkpoint (for tombstones of a shorter one). */
  chunks: Map<string, number>;
  main: Lane;
  fast: Lane;
}

function newLane(suffix: string): Lane {
  return { suffix, producer: null, committing: null, next: null, nextStores: new Set(), lastAt: Date.now(), notBefore: 0, urgent: false };
}

/** Epochs are unique in the process: a redeployed consumer's tasks never reuse an epoch. */
let epochSeq = 0;

const TICK_MS = 100;
const COST_RATIO = 9;
/** Bytes of records per send inside a transaction (each send is one batch; the broker's default limit is 1 MB). */
const SEND_BYTES = 512 * 1024;

/** Why a transaction aborted, as a person reads it (PartitionStore.aborted). */
export const FENCED = 'fenced: another runtime took the partition over';
export const MOVED = 'its partition moved to another runtime';

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
  if (group === undefined) throw new Error(`${nodeId}: its kafka in is not running`);
  return changelogTopic(group, nodeId);
}

/** Messages of partition tasks not restored in a store yet: run in arrival order once restored (or dropped). */
export class WaitingMessages {
  private readonly byTask = new Map<string, (() => void)[]>();

  add(tp: string, fn: () => void): void {
    let q = this.byTask.get(tp);
    if (q === undefined) this.byTask.set(tp, (q = []));
    q.push(fn);
  }

  /** Run (and forget) the messages of `tp`. */
  run(tp: string): void {
    const q = this.byTask.get(tp);
    this.byTask.delete(tp);
    if (q) for (const fn of q) fn();
  }

  runAll(): void {
    for (const tp of [...this.byTask.keys()]) this.run(tp);
  }
}

/** The tasks of `kafka in` `consumerId`, when it runs. */
export function tasksOf(consumerId: string): PartitionTasks | undefined {
  return byConsumer.get(consumerId);
}

export class PartitionTasks {
  private readonly stores = new Map<string, PartitionStore>();
  private readonly tasks = new Map<string, Task>();
  private readonly intervalMs: number;
  private readonly restoreTimeoutMs: number;
  private readonly timer: NodeJS.Timeout;
  private readonly topicsReady = new Set<string>();
  private readonly partitions = new Map<string, number>();
  private closing: Promise<void> | null = null;
  private restoring = 0;
  private warned = new Set<string>();

  constructor(
    private readonly kafka: Kafka,
    private readonly o: PartitionTasksOptions,
  ) {
    this.intervalMs = o.intervalMs ?? 5000;
    this.restoreTimeoutMs = o.restoreTimeoutMs ?? 120_000;
    byConsumer.set(o.consumerId, this);
    for (const s of waitingStores.get(o.consumerId) ?? []) this.stores.set(s.id, s);
    this.timer = guardedInterval(() => this.tick(), TICK_MS, o.timerError ?? ((err) => o.warn(`checkpoint timer: ${errorText(err)}`)));
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
    if (added.length > 0) void this.restoreRound(added, [...this.stores.values()]);
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
    if (why === 'fenced') this.warnOnce('fenced', `partition ${t.tp} (and any other fenced within a minute): another runtime took it over (fenced); its state here is dropped and the consumer rejoins`);
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
    if (p) void settleWithin(p.disconnect().catch(() => undefined), 5000, undefined);
  }

  /** Restore `tasks` for `stores`: fence, mark, read to the marks, hand each store its state. Retried until done or gone. */
  private async restoreRound(tasks: Task[], stores: PartitionStore[]): Promise<void> {
    this.restoring += tasks.length;
    this.o.changed(this.restoring);
    const started = Date.now();
    let delay = 500;
    try {
      for (;;) {
        const live = tasks.filter((t) => t.state === 'restoring');
        if (live.length === 0 || this.closing) return;
        try {
          const devices = stores.length === 0 ? 0 : await this.restoreOnce(live, stores);
          for (const t of live) {
            if (t.state !== 'restoring') continue;
            t.state = 'ready';
            t.main.lastAt = t.fast.lastAt = Date.now();
            t.resolve();
          }
          if (stores.length > 0) {
            this.o.log(`restored ${live.map((t) => t.tp).join(', ')}: ${devices} devices from ${stores.length} changelog${stores.length === 1 ? '' : 's'} in ${Date.now() - started} ms`);
          }
          return;
        } catch (err) {
          this.warnOnce('restore', `restore of ${live.map((t) => t.tp).join(', ')} failed (${errorText(err)}); retrying`);
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 10_000);
        }
      }
    } finally {
      this.restoring -= tasks.length;
      this.o.changed(this.restoring);
    }
  }

  /** Create the stores' changelog topics when missing: as many partitions as the largest source topic has. */
  private async prepareTopics(sources: { topic: string; partition: number }[], stores: PartitionStore[]): Promise<void> {
    const missing = stores.map((s) => s.changelog).filter((c) => !this.topicsReady.has(c));
    if (missing.length === 0) return;
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      let need = 1;
      for (const t of sources) {
        let n = this.partitions.get(t.topic);
        if (n === undefined) this.partitions.set(t.topic, (n = await partitionCount(admin, t.topic)));
        need = Math.max(need, n, t.partition + 1);
      }
      await ensureChangelogTopics(admin, missing, need);
      for (const c of missing) this.topicsReady.add(c);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private async restoreOnce(tasks: Task[], stores: PartitionStore[]): Promise<number> {
    await this.prepareTopics(tasks, stores);
    // Fence the previous owner and mark where this restore ends, one task at a time in parallel.
    const marks = new Map<string, string>();
    await Promise.all(
      tasks.map(async (t) => {
        // Fence both lanes' previous owners (initialising a transactional id aborts what they left open),
        // then write the marks through the main lane.
        const fast = await this.producerOf(t, t.fast);
        const fence = await fast.transaction();
        await fence.commit();
        const producer = await this.producerOf(t, t.main);
        const mark = randomUUID();
        const txn = await producer.transaction();
        try {
          for (const s of stores) await txn.send({ topic: s.changelog, messages: [{ key: markerKey(t.tp), value: mark, partition: t.partition }] });
          await txn.commit();
        } catch (err) {
          await txn.abort().catch(() => undefined);
          this.replaceProducer(t.main);
          throw err;
        }
        marks.set(t.tp, mark);
      }),
    );
    const readers = new Map<string, Map<number, ChangelogReader>>();
    for (const s of stores) {
      const parts = new Map<number, ChangelogReader>();
      for (const t of tasks) {
        const byPart = new Map(tasks.filter((u) => u.partition === t.partition).map((u) => [u.tp, marks.get(u.tp)!]));
        if (!parts.has(t.partition)) parts.set(t.partition, new ChangelogReader(byPart));
      }
      readers.set(s.changelog, parts);
    }
    await readToMarkers(this.kafka, this.o.groupId, readers, this.restoreTimeoutMs);
    let devices = 0;
    for (const s of stores) {
      for (const t of tasks) {
        if (t.state !== 'restoring') continue;
        const cp = readers.get(s.changelog)!.get(t.partition)!.checkpoint(t.tp);
        t.chunks.set(s.id, cp?.chunks ?? 0);
        devices += s.restore(t.tp, cp?.text, t.epoch);
      }
    }
    return devices;
  }

  private tick(): void {
    if (this.closing || this.stores.size === 0) return;
    const now = Date.now();
    for (const t of this.tasks.values()) {
      if (t.state !== 'ready') continue;
      for (const lane of [t.main, t.fast]) {
        if (lane.committing !== null || now < lane.notBefore) continue;
        if (lane.urgent || now - lane.lastAt >= this.intervalMs) void this.commitLane(t, lane, this.storesOf(lane));
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
    if (main.length > 0) runs.push(this.commitLane(t, t.main, main));
    if (fast.length > 0) runs.push(this.commitLane(t, t.fast, fast));
    return Promise.all(runs).then((r) => (r.includes('gone') ? 'gone' : r.includes('ok') ? 'ok' : 'none'));
  }

  /**
   * Checkpoint `stores`' state of task `t` in one transaction of `lane`, then release the ack tokens it
   * covers. A checkpoint in flight on the lane is waited for and followed by one more, shared by all who
   * asked meanwhile (the flushes of several sinks, say): one transaction for all their stores.
   */
  private commitLane(t: Task, lane: Lane, stores: PartitionStore[]): Promise<CommitOutcome> {
    if (lane.committing) {
      for (const s of stores) lane.nextStores.add(s);
      return (lane.next ??= lane.committing.then(() => {
        const next = [...lane.nextStores];
        lane.nextStores.clear();
        lane.next = null;
        return t.state === 'ready' ? this.commitLane(t, lane, next) : 'gone';
      }));
    }
    // Restoring again (a store joined): commit once it is ready.
    if (t.state === 'restoring') return t.ready.then(() => (t.state === 'ready' ? this.commitLane(t, lane, stores) : 'gone'));
    if (t.state !== 'ready') return Promise.resolve('gone');
    const taken: { store: PartitionStore; taken: Taken; records: ChangelogRecord[]; chunks: number }[] = [];
    for (const store of stores) {
      const tk = store.take(t.tp);
      if (tk === null) continue;
      const prev = t.chunks.get(store.id) ?? 0;
      if (tk.text === null) {
        taken.push({ store, taken: tk, records: prev > 0 ? deleteRecords(t.tp, prev) : [], chunks: 0 });
      } else {
        const { records, chunks } = checkpointRecords(t.tp, tk.text, prev);
        taken.push({ store, taken: tk, records, chunks });
      }
    }
    lane.urgent = false;
    lane.lastAt = Date.now();
    if (taken.length === 0) return Promise.resolve('none');
    if (taken.every((e) => e.records.length === 0 && (e.taken.records?.length ?? 0) === 0)) {
      // Nothing to write (an empty task that never had a checkpoint): the tokens are covered as they are.
      for (const e of taken) {
        e.store.committed?.(t.tp, e.taken);
        for (const token of e.taken.tokens) release(token, e.store.id);
      }
      return Promise.resolve('ok');
    }
    const started = Date.now();
    const run = (async (): Promise<CommitOutcome> => {
      let ok = false;
      try {
        const producer = await this.producerOf(t, lane);
        const txn = await producer.transaction();
        try {
          const all: OutputRecords[] = [];
          for (const e of taken) {
            all.push({ topic: e.store.changelog, messages: e.records.map((r) => ({ key: r.key, value: r.value, partition: t.partition })) });
            for (const out of e.taken.records ?? []) all.push(out);
          }
          await sendAll(txn, all);
          await txn.commit();
          ok = true;
        } catch (err) {
          await txn.abort().catch(() => undefined);
          throw err;
        }
      } catch (err) {
        // A task already given up (fenced, revoked) fails its transaction in flight as a consequence (a
        // closed connection, a disconnected producer): reported by the first cause.
        const fenced = isFenced(err) || t.gone === 'fenced';
        const why = fenced ? FENCED : t.gone === 'revoked' || t.gone === 'closed' ? MOVED : errorText(err);
        for (const e of taken) e.store.aborted?.(t.tp, e.taken, why);
        // A fenced producer: the partition moved. Any other failure leaves kafkajs' producer unable to
        // start another transaction, and a new one (initialising the transactional id again) is only
        // safe for an owner that was just assigned the partition: a zombie would fence the real owner
        // and then overwrite its checkpoint. So either way the task is given up and the consumer
        // rejoins the group, restoring what it is assigned (as Kafka Streams on a TaskMigratedException).
        if (t.state !== 'gone') {
          if (!fenced) this.warnOnce('checkpoint', `checkpoint of ${t.tp} failed (${errorText(err)}); rejoining the group to restore it`);
          this.dropTask(t, fenced ? 'fenced' : 'failed');
          this.o.lost?.();
        }
      }
      // On failure the task is gone: what it held is dropped with it (the consumer reads again).
      if (ok) {
        for (const e of taken) {
          t.chunks.set(e.store.id, e.chunks);
          e.store.committed?.(t.tp, e.taken);
          for (const token of e.taken.tokens) release(token, e.store.id);
        }
      }
      const end = Date.now();
      lane.notBefore = end + (end - started) * COST_RATIO;
      return ok ? 'ok' : 'gone';
    })().finally(() => {
      lane.committing = null;
    });
    lane.committing = run.then(() => undefined);
    return run;
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
  async readLatest(store: PartitionStore, tp: string, partition: number): Promise<string | undefined> {
    await this.prepareTopics([{ topic: tp.slice(0, tp.lastIndexOf(':')), partition }], [store]);
    const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const mark = randomUUID();
    try {
      await producer.send({ topic: store.changelog, acks: -1, messages: [{ key: markerKey(tp), value: mark, partition }] });
    } finally {
      await producer.disconnect().catch(() => undefined);
    }
    const reader = new ChangelogReader(new Map([[tp, mark]]));
    await readToMarkers(this.kafka, this.o.groupId, new Map([[store.changelog, new Map([[partition, reader]])]]), this.restoreTimeoutMs);
    return reader.checkpoint(tp)?.text;
  }

  private warnOnce(kind: string, text: string): void {
    if (this.warned.has(kind)) return;
    this.warned.add(kind);
    this.o.warn(text);
    // Say it again if it happens again in a minute.
    setTimeout(() => this.warned.delete(kind), 60_000).unref?.();
  }
}

/**
 * Send every record of a transaction in as few requests as the broker takes: one `sendBatch` (one
 * AddPartitionsToTxn and one produce round trip) per compression and ~{@link SEND_BYTES} (the broker
 * refuses requests over 1 MB by default). Each round trip inside a transaction is latency that every
 * output of the transaction waits for.
 */
async function sendAll(txn: Pick<Producer, 'sendBatch'>, lists: OutputRecords[]): Promise<void> {
  const byCompression = new Map<CompressionTypes | undefined, OutputRecords[]>();
  for (const l of lists) {
    if (l.messages.length === 0) continue;
    let g = byCompression.get(l.compression);
    if (g === undefined) byCompression.set(l.compression, (g = []));
    g.push(l);
  }
  for (const [compression, group] of byCompression) {
    let batch = new Map<string, Message[]>();
    let bytes = 0;
    const flush = async () => {
      if (batch.size === 0) return;
      await txn.sendBatch({ topicMessages: [...batch].map(([topic, messages]) => ({ topic, messages })), compression });
      batch = new Map();
      bytes = 0;
    };
    for (const l of group) {
      for (const m of l.messages) {
        const size = sizeOf(m.key) + sizeOf(m.value);
        if (bytes > 0 && bytes + size > SEND_BYTES) await flush();
        let list = batch.get(l.topic);
        if (list === undefined) batch.set(l.topic, (list = []));
        list.push(m);
        bytes += size;
      }
    }
    await flush();
  }
}

function sizeOf(v: Message['key'] | Message['value']): number {
  return v === null || v === undefined ? 0 : typeof v === 'string' ? v.length : v.length;
}

/** The producer was fenced: another producer initialised the same transactional id (the task moved). */
export function isFenced(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const type = (e as { type?: string }).type ?? '';
    if (type === 'INVALID_PRODUCER_EPOCH' || type === 'PRODUCER_FENCED' || type === 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED') return true;
    if (/fenced|INVALID_PRODUCER_EPOCH/i.test((e as Error).message ?? '')) return true;
  }
  return false;
}
