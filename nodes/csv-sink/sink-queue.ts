/**
 * The part of a sink that does not depend on where rows go: an ordered write queue that batches jobs per
 * target name (a file, a table), hands each batch to a {@link SinkTarget} as one write, and tells each
 * job when its rows are durable. Model: Node-RED's file node (10-file.js): writes go through a queue and
 * close() resolves only once the queue has drained. The target owns the medium (opening, writing,
 * syncing, undoing, classifying its errors); ./csv-file.ts is the CSV one. How a write ends (retries,
 * the two-phase group commit) is decided in ./sink-writes.ts; the interfaces are in ./sink-api.ts.
 *
 * Not in nodes/lib: it keeps time (flush timer, retry backoff, close deadline), which lib modules do not.
 *
 * Guarantees:
 * - a job's callback succeeds only after the target durably wrote all its segments, so a caller may
 *   acknowledge the input then (Kafka `after-sink` commits); callbacks run in queue order, each once;
 * - a flush writes each target name's pending segments as one batch (one payload, see SinkTarget.encode),
 *   `flushIntervalMs` after the first queued row or as soon as `flushRows` rows wait; at most
 *   `maxQueuedRows` rows wait (jobs beyond are refused at once);
 * - write errors that may pass are retried while they last; errors that cannot pass fail their jobs at
 *   once (see sink-writes.ts). Jobs never vanish: every one ends in its callback, with or without error.
 *   close() tries a failing write once more and then leaves it; those jobs, and any still unwritten when
 *   close() gives up (its timeout keeps it under Node-RED's 15 s), end with an {@link UnwrittenError}.
 *
 * Group commit (exactly-once output, with `groupCommit`): a job may belong to a group (a Kafka
 * partition, say). A flush writes the jobs without group first (as above), then all its groups together
 * in a two-phase commit (see sink-writes.ts).
 */
import { text } from '../nr/i18n';
import { UnwrittenError, asError, type FlushGroup, type Parts, type SinkQueueOptions, type SinkSegment, type SinkTarget } from './sink-api';
import { BatchWrites, type GroupOutcome } from './sink-writes';

export {
  PermanentWriteError,
  UnwrittenError,
  asError,
  type FlushGroup,
  type GroupWrite,
  type Parts,
  type SinkCommit,
  type SinkEvent,
  type SinkQueueOptions,
  type SinkSegment,
  type SinkTarget,
} from './sink-api';

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
  private readonly writes: BatchWrites<S, T, P, R>;
  /** Rows durably written since creation (of groups: committed ones only). */
  rowsWritten = 0;

  constructor(
    private readonly target: SinkTarget<S, T, P, R>,
    private readonly opts: SinkQueueOptions<R>,
  ) {
    this.writes = new BatchWrites(target, opts, (rows) => {
      this.rowsWritten += rows;
    });
  }

  /** Rows queued and being written. */
  get queuedRows(): number {
    return this.pendingRows + this.inflightRows;
  }

  /** Names whose last write failed (0 once every failed write went through). */
  get faults(): number {
    return this.writes.faults;
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
    if (this.writes.closing) {
      cb(new UnwrittenError(text('smoke-csv-sink.errors.closing', { sink: this.opts.sink })));
      return;
    }
    // A single job larger than the bound is still taken when nothing else waits.
    if (rows > 0 && this.queuedRows > 0 && this.queuedRows + rows > this.opts.maxQueuedRows) {
      cb(new Error(text('smoke-csv-sink.errors.queue-full', { label: this.opts.label, rows: this.queuedRows })));
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
    if (this.writes.closing || this.pendingRows >= this.opts.flushRows) {
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
        const err = await this.writes.writeWithRetry(name, b);
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
        const outcomes = await this.writes.runGroups(groups);
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

  /**
   * Write everything queued, wait for it, close the target. After `timeoutMs` the jobs still waiting fail
   * (callbacks with an error) so that Node-RED's close (15 s) is never exceeded.
   */
  async close(timeoutMs = 10_000): Promise<void> {
    // A write waiting to be retried is tried once more now, the last time.
    this.writes.close();
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
      const aborted = new UnwrittenError(text('smoke-csv-sink.errors.close-timeout', { sink: this.opts.sink, ms: timeoutMs }));
      this.writes.abort(aborted);
      // The write in progress cannot be cancelled; its jobs and the waiting ones fail now (a write that
      // still lands later only duplicates rows on redelivery, which at-least-once allows).
      for (const job of this.inflight) this.finish(job, aborted);
      for (const job of this.pending) this.finish(job, aborted);
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
