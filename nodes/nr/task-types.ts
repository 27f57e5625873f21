/**
 * What partition tasks (./partition-tasks.ts) and the stores behind a `kafka in` exchange: the store
 * interface ({@link PartitionStore}) with its checkpoints ({@link Taken}) and their outcome, the tasks'
 * options, and the task and lane records the task modules share (task-commit.ts, task-restore.ts).
 */
import type { CompressionTypes, Message, Producer } from 'kafkajs';
import type { AckToken } from './ack';
import type { TimerErrorHandler } from './timers';

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
   * A taken checkpoint's transaction was aborted (`why`: its cause); the task is given up and its
   * records are processed again by the partition's next owner (this runtime after it rejoins, or another).
   */
  aborted?(tp: string, taken: Taken, why: AbortCause): void;
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
export interface Lane {
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

export interface Task {
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

export function newLane(suffix: string): Lane {
  return { suffix, producer: null, committing: null, next: null, nextStores: new Set(), lastAt: Date.now(), notBefore: 0, urgent: false };
}

/**
 * Why a checkpoint's transaction aborted (PartitionStore.aborted): `fenced` (another runtime took the
 * partition over), `moved` (the partition was revoked or the tasks closed first), or the error that
 * failed it. The store words it in its own catalogue.
 */
export type AbortCause = 'fenced' | 'moved' | { error: string };
