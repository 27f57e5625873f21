/**
 * The part of a sink that does not depend on where rows go: an ordered write queue that batches jobs per
 * target name (a file, a table), hands each batch to a {@link SinkTarget} as one write, retries it while
 * its fault lasts, and tells each job when its rows are durable. Model: Node-RED's file node (10-file.js):
 * writes go through a queue and close() resolves only once the queue has drained. The target owns the
 * medium (opening, writing, syncing, undoing, classifying its errors); ./csv-file.ts is the CSV one.
 *
 * Not in nodes/lib: it keeps time (flush timer, retry backoff, close deadline), which lib modules do not.
 *
 * Guarantees:
 * - a job's callback succeeds only after the target durably wrote all its segments, so a caller may
 *   acknowledge the input then (Kafka `after-sink` commits); callbacks run in queue order, each once;
 * - a flush writes each target name's pending segments as one batch (one payload, see SinkTarget.encode),
 *   `flushIntervalMs` after the first queued row or as soon as `flushRows` rows wait; at most
 *   `maxQueuedRows` rows wait (jobs beyond are refused at once);
 * - write errors that may pass are retried with exponential backoff (up to 5 s apart) for as long as they
 *   last (`maxTries`, unbounded by default: the queue waits, and with it the acknowledgements); errors that
 *   cannot pass ({@link PermanentWriteError}, or what the target classifies so) fail their jobs at once.
 *   Jobs never vanish: every one ends in its callback, with or without error. close() tries a failing write
 *   once more and then leaves it; those jobs, and any still unwritten when close() gives up (its timeout
 *   keeps it under Node-RED's 15 s), end with an {@link UnwrittenError}.
 *
 * Group commit (exactly-once output, with `groupCommit`; model: Flink's TwoPhaseCommitSinkFunction): a job
 * may belong to a group (a Kafka partition, say). A flush writes the jobs without group first (as above),
 * then all its groups together, in three steps: the target places the groups' rows and `prepare` is told
 * where they will be (what the target calls a placement: byte ranges for files) → the target writes and
 * syncs them → `commit(group)` of every group at once. A group that commits 'ok' has its jobs succeed; the
 * target removes the rows of a group that aborts (GroupWrite.cut) and its jobs complete with `aborted`. A
 * flush's write is all or nothing: a failure on any name undoes the others and is retried as a whole
 * (prepare again); after the last try every job of every group fails. Placing, undoing and cutting rows is
 * the target's: only it knows what a position in its medium is and how rows are taken out again.
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
  /** Error texts: `label` names the writes ("CSV write to … failed"), `sink` the node ("csv sink is closing"). */
  label: string;
  sink: string;
  /** Events for status and logs. */
  onEvent?: (ev: SinkEvent) => void;
  /** Two-phase commit per group (jobs queued with a group); without it a job's group is ignored. */
  groupCommit?: SinkCommit<R>;
}

/**
 * Called once per job: without error after its rows are durably written (for a job of a group: and the
 * group committed), with the error otherwise. `aborted` is true when the job's group was aborted by its
 * commit and its rows were cut off again (no error when commit resolved 'abort', its error when it rejected).
 */
export type JobCallback = (err?: Error, aborted?: boolean) => void;

interface Job {
  rows: number;
  /** Batches (names) of the job not yet written; for a job of a group, 1 until the group completes. */
  remaining: number;
  error?: Error;
  cb: JobCallback;
  finished: boolean;
  aborted: boolean;
}

/** The segments queued for one name, and the jobs they belong to (a job once per segment it has there). */
interface Batch<S, T> extends Parts<S, T> {
  parts: T[];
  rows: number;
  jobs: Job[];
}

/** The pending jobs of one group (each once, in queue order) and its segments per name (jobs' order kept). */
interface GroupBatch<S, T> extends FlushGroup<S, T> {
  names: Map<string, { head: S; parts: T[] }>;
  jobs: Job[];
  tags: unknown[];
  rows: number;
  lastName: string | null;
  lastParts: T[] | null;
}

/** How a group's flush ended. */
interface GroupOutcome {
  error?: Error;
  aborted: boolean;
}

/** Longest wait between two tries (ms): the queue behind a failing write waits that long at most. */
const MAX_RETRY_DELAY_MS = 5000;

export class SinkQueue<S extends SinkSegment, T, P, R> {
  private pending: Job[] = [];
  /**
   * The pending jobs' segments per name, in order of first appearance, built as jobs arrive: a flush then
   * finds them ready instead of sorting thousands of one-row jobs (single messages) into names.
   */
  private pendingBatches = new Map<string, Batch<S, T>>();
  /** The name of the last queued segment and its batch: consecutive segments nearly always share it. */
  private lastName: string | null = null;
  private lastBatch: Batch<S, T> | null = null;
  /** The pending jobs of groups (with `groupCommit`), in order of each group's first pending job. */
  private pendingGroups = new Map<string, GroupBatch<S, T>>();
  private inflight: Job[] = [];
  private pendingRows = 0;
  private inflightRows = 0;
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private firstPendingAt = 0;
  private closing = false;
  private aborted: Error | null = null;
  private wake: (() => void) | null = null;
  /** Names that failed their last write (cleared by a success: 'recovered' event). */
  private readonly failing = new Set<string>();
  /** Rows durably written since creation (of groups: committed ones only). */
  rowsWritten = 0;

  constructor(
    private readonly target: SinkTarget<S, T, P, R>,
    private readonly opts: SinkQueueOptions<R>,
  ) {}

  /** Rows queued and being written. */
  get queuedRows(): number {
    return this.pendingRows + this.inflightRows;
  }

  /** Names whose last write failed (0 once every failed write went through). */
  get faults(): number {
    return this.failing.size;
  }

  get idle(): boolean {
    return this.pending.length === 0 && this.flushing === null;
  }

  /**
   * Queue the segments of one input message; `cb` is called once, after all of them are durably written
   * (or with the error that stopped them). A job without segments completes with the next flush, in order.
   * With `group` (and `groupCommit` configured) the job is written and committed with its group's other
   * pending jobs (see SinkCommit); without `groupCommit` the group is ignored.
   */
  enqueue(segments: readonly S[], cb: JobCallback, group?: string, tag?: unknown): void {
    let rows = 0;
    for (const s of segments) rows += s.rows;
    if (this.closing) {
      cb(new UnwrittenError(`${this.opts.sink} is closing: rows not written`));
      return;
    }
    // A single job larger than the bound is still taken when nothing else waits.
    if (rows > 0 && this.queuedRows > 0 && this.queuedRows + rows > this.opts.maxQueuedRows) {
      cb(new Error(`${this.opts.label} write queue full (${this.queuedRows} rows waiting): the disk is too slow or failing`));
      return;
    }
    const job: Job = { rows, remaining: segments.length, cb, finished: false, aborted: false };
    if (this.pending.length === 0) this.firstPendingAt = Date.now();
    this.pending.push(job);
    this.pendingRows += rows;
    if (group !== undefined && this.opts.groupCommit !== undefined) {
      this.enqueueGrouped(group, job, segments, tag);
      this.schedule();
      return;
    }
    for (let i = 0; i < segments.length; i++) {
      const s = segments[i];
      const name = this.target.nameOf(s);
      let b = name === this.lastName ? this.lastBatch : null;
      if (b === null) {
        b = this.pendingBatches.get(name) ?? null;
        if (b === null) {
          b = { head: s, parts: [], rows: 0, jobs: [] };
          this.pendingBatches.set(name, b);
        }
        this.lastName = name;
        this.lastBatch = b;
      }
      b.parts.push(this.target.partOf(s));
      b.rows += s.rows;
      b.jobs.push(job);
    }
    this.schedule();
  }

  private enqueueGrouped(group: string, job: Job, segments: readonly S[], tag: unknown): void {
    // Done when its group completes (committed or aborted), whatever its segments.
    job.remaining = 1;
    let g = this.pendingGroups.get(group);
    if (g === undefined) {
      g = { names: new Map(), jobs: [], tags: [], rows: 0, lastName: null, lastParts: null };
      this.pendingGroups.set(group, g);
    }
    g.jobs.push(job);
    if (tag !== undefined) g.tags.push(tag);
    g.rows += job.rows;
    for (let i = 0; i < segments.length; i++) {
      const s = segments[i];
      const name = this.target.nameOf(s);
      let parts = name === g.lastName ? g.lastParts : null;
      if (parts === null) {
        let b = g.names.get(name);
        if (b === undefined) {
          b = { head: s, parts: [] };
          g.names.set(name, b);
        }
        parts = b.parts;
        g.lastName = name;
        g.lastParts = parts;
      }
      parts.push(this.target.partOf(s));
    }
  }

  private schedule(): void {
    if (this.flushing !== null || this.pending.length === 0) return;
    if (this.closing || this.pendingRows >= this.opts.flushRows) {
      this.clearTimer();
      this.flushing = this.flush();
      return;
    }
    if (this.timer === null) {
      const wait = Math.max(0, this.firstPendingAt + this.opts.flushIntervalMs - Date.now());
      this.timer = setTimeout(() => {
        this.timer = null;
        if (this.flushing === null && this.pending.length > 0) this.flushing = this.flush();
      }, wait);
    }
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * Write everything pending now: per name one batch for the jobs without group, then all groups
   * together (prepare, write, commit each); jobs completed in queue order.
   */
  private async flush(): Promise<void> {
    const jobs = this.pending;
    // Per name, in order of first appearance; a name's segments keep the jobs' order.
    const batches = this.takePendingBatches();
    const groups = this.pendingGroups.size === 0 ? null : this.takePendingGroups();
    this.inflight = jobs;
    this.pending = [];
    this.inflightRows = this.pendingRows;
    this.pendingRows = 0;
    try {
      let next = 0;
      const completeInOrder = (): void => {
        while (next < jobs.length && jobs[next].remaining === 0) this.finish(jobs[next++]);
      };
      completeInOrder();
      for (const [name, b] of batches) {
        const err = await this.writeWithRetry(name, b);
        if (err === null) this.rowsWritten += b.rows;
        for (const job of b.jobs) {
          if (err !== null && job.error === undefined) job.error = err;
          job.remaining--;
        }
        this.inflightRows -= b.rows;
        completeInOrder();
      }
      completeInOrder();
      if (groups !== null) {
        const outcomes = await this.runGroups(groups);
        for (const [group, g] of groups) {
          const out = outcomes.get(group) as GroupOutcome;
          for (const job of g.jobs) {
            if (out.error !== undefined && job.error === undefined) job.error = out.error;
            if (out.aborted) job.aborted = true;
            job.remaining--;
          }
          this.inflightRows -= g.rows;
        }
        completeInOrder();
      }
    } catch (e) {
      // Not expected (writeWithRetry reports errors as values); never leave a job without its callback.
      for (const job of jobs) if (!job.finished) this.finish(job, asError(e));
    } finally {
      this.inflightRows = 0;
      this.inflight = [];
      this.flushing = null;
      if (this.pending.length > 0) this.schedule();
      else this.opts.onEvent?.({ kind: 'idle' });
    }
  }

  private takePendingBatches(): Map<string, Batch<S, T>> {
    const batches = this.pendingBatches;
    this.pendingBatches = new Map();
    this.lastName = null;
    this.lastBatch = null;
    return batches;
  }

  private takePendingGroups(): Map<string, GroupBatch<S, T>> {
    const groups = this.pendingGroups;
    this.pendingGroups = new Map();
    return groups;
  }

  private finish(job: Job, err?: Error): void {
    if (job.finished) return;
    job.finished = true;
    const e = err ?? job.error;
    try {
      if (job.aborted && err === undefined) job.cb(e, true);
      else job.cb(e);
    } catch {
      // A callback's own failure must not stop the other jobs from completing.
    }
  }

  private isPermanent(err: Error): boolean {
    return err instanceof PermanentWriteError || this.target.isPermanent(err);
  }

  /**
   * A fault that lasts into close(): the write was tried once more when close began; its rows are left
   * unwritten (not acknowledged, so a Kafka source delivers them again) rather than waited for.
   */
  private unwrittenOnClose(err: Error): UnwrittenError {
    const out = new UnwrittenError(`${this.opts.sink} closed while writes failed: ${err.message}`);
    (out as NodeJS.ErrnoException).code = (err as NodeJS.ErrnoException).code;
    return out;
  }

  /** Attempts the write up to maxTries times; returns null on success, else the last error. */
  private async writeWithRetry(name: string, batch: Parts<S, T>): Promise<Error | null> {
    const payload = this.target.encode(name, batch);
    for (let attempt = 1; ; attempt++) {
      if (this.aborted) return this.aborted;
      try {
        await this.target.write(name, payload);
        if (this.failing.delete(name)) this.opts.onEvent?.({ kind: 'recovered', name });
        return null;
      } catch (e) {
        const err = asError(e);
        this.failing.add(name);
        const willRetry = !this.isPermanent(err) && attempt < this.opts.maxTries && !this.aborted && !this.closing;
        this.opts.onEvent?.({ kind: 'error', name, error: err, attempt, willRetry });
        if (!willRetry) {
          if (this.closing && !this.isPermanent(err)) return this.unwrittenOnClose(err);
          const tries = attempt > 1 ? ` after ${attempt} attempts` : '';
          const out = new Error(`${this.opts.label} write to ${name} failed${tries}: ${err.message}`);
          (out as NodeJS.ErrnoException).code = (err as NodeJS.ErrnoException).code;
          return out;
        }
        await this.sleep(Math.min(this.opts.retryBaseMs * 2 ** (attempt - 1), MAX_RETRY_DELAY_MS));
      }
    }
  }

  /**
   * The flush's groups: prepare, write and sync (retried as a whole), commit every group at once, then
   * have the target cut out the rows of those that aborted. Nothing else is written meanwhile, so the
   * groups' rows stay where they were placed until they complete.
   */
  private async runGroups(groups: Map<string, GroupBatch<S, T>>): Promise<Map<string, GroupOutcome>> {
    const gc = this.opts.groupCommit as SinkCommit<R>;
    const outcomes = new Map<string, GroupOutcome>();
    const all = (out: GroupOutcome): Map<string, GroupOutcome> => {
      for (const group of groups.keys()) outcomes.set(group, out);
      return outcomes;
    };
    const gw = this.target.groups(groups);
    let cut = false;
    try {
      const err = await this.writeGroups(gc, gw, [...groups.keys()].join(', '));
      if (err !== null) return all({ error: err, aborted: false });
      if (this.aborted) return all({ error: this.aborted, aborted: false });
      const verdicts = await Promise.all(
        [...groups].map(([group, g]) =>
          gc.commit(group, g.tags).then(
            (v): Error | 'ok' | 'abort' => (v === 'ok' || v === 'abort' ? v : new Error(`group commit of ${group} resolved ${String(v)}, not 'ok' or 'abort'`)),
            (e: unknown) => asError(e),
          ),
        ),
      );
      // close() gave up while the commits ran: their jobs failed already; the target's rows stay as they
      // are (the caller's recovery takes out what did not land).
      if (this.aborted) return all({ error: this.aborted, aborted: false });
      const failed = new Set<string>();
      let i = 0;
      for (const [group, g] of groups) {
        const v = verdicts[i++];
        if (v === 'ok') {
          this.rowsWritten += g.rows;
          outcomes.set(group, { aborted: false });
        } else {
          failed.add(group);
          outcomes.set(group, { error: v === 'abort' ? undefined : v, aborted: true });
        }
      }
      if (failed.size > 0) {
        cut = true;
        await gw.cut(failed);
      }
      return outcomes;
    } finally {
      const owed = await gw.end();
      try {
        await gc.settled?.(owed || this.aborted !== null ? 'owed' : cut ? 'cut' : 'done');
      } catch {
        // the caller's bookkeeping must not stop the flush
      }
    }
  }

  /**
   * Open, prepare, write and sync the groups' rows; a failure anywhere undoes this attempt and retries the
   * whole (backoff as writeWithRetry). Returns null once written, or the error that ended the tries.
   */
  private async writeGroups(gc: SinkCommit<R>, gw: GroupWrite<R>, group: string): Promise<Error | null> {
    const names = gw.names;
    for (let attempt = 1; ; attempt++) {
      if (this.aborted) return this.aborted;
      let stage: 'open' | 'prepare' | 'write' = 'open';
      try {
        const placement = await gw.open();
        stage = 'prepare';
        await gc.prepare(placement);
        if (this.aborted) return this.aborted;
        stage = 'write';
        await gw.write();
      } catch (e) {
        const err = asError(e);
        // Nothing of this attempt may stay: the target undoes what it wrote (or owes it), reopens on the retry.
        await gw.undo();
        const name = stage === 'prepare' ? names.join(', ') : gw.failed();
        // A failed prepare (the journal) holds every name of the flush back.
        for (const n of stage === 'prepare' ? names : [name]) this.failing.add(n);
        const willRetry = !this.isPermanent(err) && attempt < this.opts.maxTries && !this.aborted && !this.closing;
        this.opts.onEvent?.({ kind: 'error', name, error: err, attempt, willRetry, group });
        if (!willRetry) {
          if (this.closing && !this.isPermanent(err)) return this.unwrittenOnClose(err);
          const tries = attempt > 1 ? ` after ${attempt} attempts` : '';
          const out =
            stage === 'prepare'
              ? new Error(`${this.opts.label} group ${group}: prepare failed${tries}: ${err.message}`)
              : new Error(`${this.opts.label} write to ${name} failed${tries}: ${err.message}`);
          (out as NodeJS.ErrnoException).code = (err as NodeJS.ErrnoException).code;
          return out;
        }
        await this.sleep(Math.min(this.opts.retryBaseMs * 2 ** (attempt - 1), MAX_RETRY_DELAY_MS));
        continue;
      }
      for (const name of names) if (this.failing.delete(name)) this.opts.onEvent?.({ kind: 'recovered', name });
      return null;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    }).then(() => {
      this.wake = null;
    });
  }

  /**
   * Write everything queued, wait for it, close the target. After `timeoutMs` the jobs still waiting fail
   * (callbacks with an error) so that Node-RED's close (15 s) is never exceeded.
   */
  async close(timeoutMs = 10_000): Promise<void> {
    this.closing = true;
    // A write waiting to be retried is tried once more now, the last time (see unwrittenOnClose).
    this.wake?.();
    this.clearTimer();
    this.schedule();
    let timer: NodeJS.Timeout | null = null;
    const drained = (async () => {
      while (this.flushing !== null) {
        await this.flushing;
        this.schedule();
      }
    })();
    const expired = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), timeoutMs);
    });
    const timedOut = await Promise.race([drained.then(() => false), expired]);
    if (timer) clearTimeout(timer);
    if (timedOut) {
      this.aborted = new UnwrittenError(`${this.opts.sink} closed before the rows could be written (waited ${timeoutMs} ms)`);
      this.wake?.();
      // The write in progress cannot be cancelled; its jobs and the waiting ones fail now (a write that
      // still lands later only duplicates rows on redelivery, which at-least-once allows).
      for (const job of this.inflight) this.finish(job, this.aborted);
      for (const job of this.pending) this.finish(job, this.aborted);
      this.pending = [];
      this.pendingRows = 0;
      this.takePendingBatches();
      this.takePendingGroups();
      await this.target.close(true);
      return;
    }
    await this.target.close(false);
  }
}
