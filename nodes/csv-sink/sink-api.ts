/**
 * The interfaces around the sink queue (./sink-queue.ts): what it asks of where rows go (a
 * {@link SinkTarget}, and for exactly-once output the target's {@link GroupWrite} and the caller's
 * {@link SinkCommit}), its options and events, and the errors a target and the queue share.
 */

/** The error of the jobs still unwritten when close() gave up (or queued while closing). */
export class UnwrittenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnwrittenError';
  }
}

/** An error that retrying will not cure (a target throws it; its jobs fail at once). */
export class PermanentWriteError extends Error {
  readonly code?: string;
  constructor(message: string, code?: string) {
    super(message);
    this.name = 'PermanentWriteError';
    this.code = code;
  }
}

export function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** What the queue needs of a segment (one job's rows for one target name); the rest is the target's. */
export interface SinkSegment {
  rows: number;
}

/**
 * The segments queued for one target name, as the queue keeps them: the first one (the target reads its
 * settings there, such as a file's header) and what the target took of each (SinkTarget.partOf), in
 * queue order. Keeping only the parts lets the segments themselves die young.
 */
export interface Parts<S, T> {
  readonly head: S;
  readonly parts: readonly T[];
}

/** One flush's segments of a group, per target name (names in order of first appearance). */
export interface FlushGroup<S, T> {
  /** The jobs' tags (enqueue's `tag`), in queue order: handed to commit (and the target's placement). */
  readonly tags: readonly unknown[];
  /** Target name → the group's segments there. */
  readonly names: ReadonlyMap<string, Parts<S, T>>;
}

/**
 * Where rows go. `S` is the target's segment, `T` what the queue keeps of one until its flush, `P` the
 * payload of one batch (built once per flush and name, written again on a retry), `R` what a group
 * commit's prepare is told (see GroupWrite).
 */
export interface SinkTarget<S extends SinkSegment, T, P, R> {
  /** The target name a segment's rows go to: the queue batches per name. */
  nameOf(segment: S): string;
  /** What the queue keeps of a segment (its rows, say a CSV text). */
  partOf(segment: S): T;
  /** One batch: a flush's segments for `name` without group (at least one). */
  encode(name: string, batch: Parts<S, T>): P;
  /** Write a batch durably. On failure nothing of it may stay behind that a retry would duplicate. */
  write(name: string, payload: P): Promise<void>;
  /** Whether an error of this target is one retrying cannot cure (besides PermanentWriteError). */
  isPermanent(err: Error): boolean;
  /** The write of one flush's groups (in order of their first pending job); see GroupWrite. */
  groups(groups: ReadonlyMap<string, FlushGroup<S, T>>): GroupWrite<R>;
  /** Release what the target holds; `abandon` when close gave up (do not wait for writes in progress). */
  close(abandon: boolean): Promise<void>;
}

/** A target's side of one flush's groups: tried as a whole (open → prepare → write), undone on failure. */
export interface GroupWrite<R> {
  /** The target names the groups' rows go to. */
  readonly names: readonly string[];
  /** Open the names and place the rows (each group's contiguous): what prepare is told. */
  open(): Promise<R>;
  /** Write and sync every name's rows. */
  write(): Promise<void>;
  /** After a failed open, prepare or write: leave nothing of this try (a retry opens again). */
  undo(): Promise<void>;
  /** The name a failure of open or write is reported for. */
  failed(): string;
  /** Take the rows of the `failed` groups out again, after every group's commit. */
  cut(failed: ReadonlySet<string>): Promise<void>;
  /** The flush's groups ended (whatever the outcome): true when the target still owes a cut. */
  end(): Promise<boolean>;
}

/** The caller's side of the two-phase commit of a flush's groups (see the module comment). */
export interface SinkCommit<R> {
  /**
   * Called before the flush's grouped rows are written, once per attempt, with the target's placement of
   * them. The caller durably journals it, so that after a crash the rows of groups whose commit did not
   * land can be taken out again. A rejection is a failed write: retried with the queue's retry/backoff
   * policy (prepare is then called again), every job of every group fails after the last try.
   */
  prepare(placement: R): Promise<void>;
  /**
   * Called for every group of the flush at once, after all rows were written and synced. Resolves 'ok'
   * (the jobs succeed) or 'abort' (the rows are cut out, the jobs complete with `aborted`). A rejection is
   * handled like 'abort', but the jobs fail with its error (and `aborted`).
   */
  commit(group: string, tags: readonly unknown[]): Promise<'ok' | 'abort'>;
  /**
   * After the flush's groups ended (committed, aborted and cut, or failed), what is left for the journal:
   * `done` (nothing: a stale journal names only commits that landed), `cut` (rows were cut: clear it
   * durably, or a crash would cut again where later rows now are), `owed` (a cut is owed, or close gave
   * up while commits ran: it must stay for the recovery).
   */
  settled?(left: 'done' | 'cut' | 'owed'): void | Promise<void>;
}

export type SinkEvent =
  /** `name` is the target name that failed; for a group's failed prepare, the group's names joined with ', '. */
  | { kind: 'error'; name: string; error: Error; attempt: number; willRetry: boolean; group?: string }
  | { kind: 'recovered'; name: string }
  | { kind: 'idle' };

export interface SinkQueueOptions<R> {
  /** Flush at the latest this long after the first queued row (ms). */
  flushIntervalMs: number;
  /** Flush as soon as this many rows are queued. */
  flushRows: number;
  /** Attempts per write before its jobs fail (1 = no retry; Infinity: retried while the fault lasts). */
  maxTries: number;
  /** First retry delay (ms); doubles with each attempt, up to 5 s. */
  retryBaseMs: number;
  /** Rows queued at most (waiting and being written); jobs beyond are refused at once. */
  maxQueuedRows: number;
  /**
   * Names in the error texts (the csv sink's catalogue, `smoke-csv-sink.errors`): `label` names the writes
   * ("CSV write to … failed"), `sink` the node ("csv sink is closing").
   */
  label: string;
  sink: string;
  /** Events for status and logs. */
  onEvent?: (ev: SinkEvent) => void;
  /** Two-phase commit per group (jobs queued with a group); without it a job's group is ignored. */
  groupCommit?: SinkCommit<R>;
}
