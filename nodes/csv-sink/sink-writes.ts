/**
 * How the sink queue's writes end (./sink-queue.ts keeps the jobs and their order): a batch is written
 * with retries and exponential backoff (up to 5 s apart) for as long as its fault lasts (`maxTries`,
 * unbounded by default); an error that cannot pass ({@link PermanentWriteError}, or what the target
 * classifies so) ends it at once, and so does close(), after one more try (UnwrittenError).
 *
 * Group commit (exactly-once output; model: Flink's TwoPhaseCommitSinkFunction): a flush's groups are
 * written together, in three steps: the target places the groups' rows and `prepare` is told where they
 * will be (what the target calls a placement: byte ranges for files) → the target writes and syncs them
 * → `commit(group)` of every group at once. A group that commits 'ok' has its jobs succeed; the target
 * removes the rows of a group that aborts (GroupWrite.cut) and its jobs complete with `aborted`. The
 * write is all or nothing: a failure on any name undoes the others and is retried as a whole (prepare
 * again); after the last try every job of every group fails. Placing, undoing and cutting rows is the
 * target's: only it knows what a position in its medium is and how rows are taken out again.
 */
import { text } from '../nr/i18n';
import { PermanentWriteError, UnwrittenError, asError, type FlushGroup, type GroupWrite, type Parts, type SinkCommit, type SinkQueueOptions, type SinkSegment, type SinkTarget } from './sink-api';

/** How a group's flush ended. */
export interface GroupOutcome {
  error?: Error;
  aborted: boolean;
}

/** Longest wait between two tries (ms): the queue behind a failing write waits that long at most. */
const MAX_RETRY_DELAY_MS = 5000;

/** The writes of one sink queue: retries, the group commit, and which names are failing. */
export class BatchWrites<S extends SinkSegment, T, P, R> {
  /** Names that failed their last write (cleared by a success: 'recovered' event). */
  private readonly failing = new Set<string>();
  private wake: (() => void) | null = null;
  /** close() began: a failing write is not retried any more. */
  closing = false;
  /** close() gave up: the error every write in progress ends with. */
  aborted: Error | null = null;

  constructor(
    private readonly target: SinkTarget<S, T, P, R>,
    private readonly opts: SinkQueueOptions<R>,
    /** Rows of a group whose commit landed (a batch's the queue counts itself). */
    private readonly written: (rows: number) => void,
  ) {}

  /** Names whose last write failed (0 once every failed write went through). */
  get faults(): number {
    return this.failing.size;
  }

  /** close() began: a write waiting to be retried is tried once more now, the last time (see unwrittenOnClose). */
  close(): void {
    this.closing = true;
    this.wake?.();
  }

  /** close() gave up: writes in progress end with `err`, a retry waiting wakes up to see it. */
  abort(err: Error): void {
    this.aborted = err;
    this.wake?.();
  }

  private isPermanent(err: Error): boolean {
    return err instanceof PermanentWriteError || this.target.isPermanent(err);
  }

  /**
   * A fault that lasts into close(): the write was tried once more when close began; its rows are left
   * unwritten (not acknowledged, so a Kafka source delivers them again) rather than waited for.
   */
  private unwrittenOnClose(err: Error): UnwrittenError {
    const out = new UnwrittenError(text('smoke-csv-sink.errors.closed-failing', { sink: this.opts.sink, error: err.message }));
    (out as NodeJS.ErrnoException).code = (err as NodeJS.ErrnoException).code;
    return out;
  }

  /** Attempts the write up to maxTries times; returns null on success, else the last error. */
  async writeWithRetry(name: string, batch: Parts<S, T>): Promise<Error | null> {
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
        const willRetry = this.willRetry(err, attempt);
        this.opts.onEvent?.({ kind: 'error', name, error: err, attempt, willRetry });
        const end = await this.afterFailure(err, attempt, willRetry, 'write', name);
        if (end !== null) return end;
      }
    }
  }

  /**
   * The flush's groups: prepare, write and sync (retried as a whole), commit every group at once, then
   * have the target cut out the rows of those that aborted. Nothing else is written meanwhile, so the
   * groups' rows stay where they were placed until they complete.
   */
  async runGroups(groups: ReadonlyMap<string, FlushGroup<S, T> & { readonly rows: number }>): Promise<Map<string, GroupOutcome>> {
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
          this.written(g.rows);
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
        const willRetry = this.willRetry(err, attempt);
        this.opts.onEvent?.({ kind: 'error', name, error: err, attempt, willRetry, group });
        const end = await this.afterFailure(err, attempt, willRetry, stage === 'prepare' ? 'prepare' : 'write', stage === 'prepare' ? group : name);
        if (end !== null) return end;
        continue;
      }
      for (const name of names) if (this.failing.delete(name)) this.opts.onEvent?.({ kind: 'recovered', name });
      return null;
    }
  }

  /** Whether a failed attempt is tried again: a passing error, tries left, and neither aborted nor closing. */
  private willRetry(err: Error, attempt: number): boolean {
    return !this.isPermanent(err) && attempt < this.opts.maxTries && !this.aborted && !this.closing;
  }

  /**
   * After a failed attempt (its event sent): the error that ends the tries when it is not retried (the
   * close's UnwrittenError for a passing error, else the failure with the cause's code), or null once the
   * backoff before the next try has passed.
   */
  private async afterFailure(err: Error, attempt: number, willRetry: boolean, step: 'write' | 'prepare', what: string): Promise<Error | null> {
    if (!willRetry) {
      if (this.closing && !this.isPermanent(err)) return this.unwrittenOnClose(err);
      const out = new Error(this.failedText(step, what, attempt, err));
      (out as NodeJS.ErrnoException).code = (err as NodeJS.ErrnoException).code;
      return out;
    }
    await this.sleep(Math.min(this.opts.retryBaseMs * 2 ** (attempt - 1), MAX_RETRY_DELAY_MS));
    return null;
  }

  /** The error of a write (to target name `what`) or a group's prepare (`what`: the groups) that failed for good. */
  private failedText(step: 'write' | 'prepare', what: string, attempts: number, err: Error): string {
    const subs = { label: this.opts.label, name: what, group: what, attempts, error: err.message };
    if (step === 'write') return text(attempts > 1 ? 'smoke-csv-sink.errors.write-failed-tries' : 'smoke-csv-sink.errors.write-failed', subs);
    return text(attempts > 1 ? 'smoke-csv-sink.errors.prepare-failed-tries' : 'smoke-csv-sink.errors.prepare-failed', subs);
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
}
