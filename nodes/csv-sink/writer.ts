/**
 * The file side of `csv sink`: a write queue that appends formatted CSV text to files under one folder,
 * flushed every `flushIntervalMs` or `flushRows` rows with one write (and one fdatasync) per file, and
 * tells each job when its rows are durably on disk. Model: Node-RED's file node (10-file.js): writes go
 * through a queue and close() resolves only once the queue has drained.
 *
 * Guarantees:
 * - a job's callback succeeds only after all its rows were written (and synced when `fsync` is on), so a
 *   caller may acknowledge the input then (Kafka `after-sink` commits);
 * - the header is written once per file: a new (or empty) file gets it, an existing one is checked for it;
 * - a torn last record (a crash in the middle of a write) is cut off before appending, back to the end of
 *   the last complete record (a newline outside quotes). Appending a newline instead would keep a
 *   half-written row with wrong values; the cut-off part was never acknowledged, so nothing acknowledged
 *   is lost;
 * - files stay inside the folder: names are resolved under it, their parent folder's real path must be
 *   inside the folder's real path, and the file is opened with O_NOFOLLOW (a symlink is refused);
 * - write errors that may pass (disk full, read-only file system, permissions, I/O error) are retried with
 *   exponential backoff (up to 5 s apart) for as long as they last (`maxTries`, unbounded by default: the
 *   queue waits, and with it the acknowledgements); errors that cannot pass (a folder where the file
 *   should be, a name too long) fail their jobs at once. Jobs never vanish: every one ends in its
 *   callback, with or without error. close() tries a failing write once more and then leaves it; those
 *   jobs, and any still unwritten when close() gives up, end with an {@link UnwrittenError}.
 *
 * Group commit (exactly-once output, with `groupCommit`; model: Flink's TwoPhaseCommitSinkFunction): a job
 * may belong to a group (a Kafka partition, say). A flush writes the rows without group first (as above),
 * then all its groups together, in three steps: `prepare(groups)` with the byte range each group is about
 * to occupy in each file (its rows are contiguous there, groups in order of their first pending job) → one
 * write and one fdatasync per file → `commit(group)` of every group at once. A group that commits 'ok'
 * has its jobs succeed. The rows of a group that aborts are cut out of its files: a file whose aborted rows
 * are its tail is cut back; one where committed rows follow them is cut at the first aborted range and the
 * committed rows after it are appended again, after `rewrite(cuts)` journaled that, so a crash in the
 * middle can finish the cut (see TailCut). The jobs of an aborted group complete with `aborted`. A flush's
 * write is all or nothing: a failure on any file rolls back the others and is retried as a whole (prepare
 * again); after the last try every job of every group fails.
 */
import { constants as C, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';

/** One group's rows in a flush: the byte range `[start, end)` they occupy in each file they go to. */
export interface GroupRanges {
  group: string;
  /** The jobs' tags (enqueue's `tag`), in queue order. */
  tags: readonly unknown[];
  /** File name (as given in the segments) → `[start, end)`; `{}` for a group whose jobs have no rows. */
  ranges: Record<string, [number, number]>;
}

/**
 * The cut of one file after aborted groups: keep its first `at` bytes, then append `keep` (the rows of
 * committed groups that followed the first aborted range; empty when the aborted rows were the tail).
 */
export interface TailCut {
  file: string;
  at: number;
  keep: Buffer;
}

/** The caller's side of the two-phase commit of a flush's groups (see CsvWriter). */
export interface GroupCommit {
  /**
   * Called before the flush's grouped rows are appended, once per attempt. The caller durably journals
   * the ranges, so that after a crash the rows of groups whose commit did not land can be cut out again.
   * A rejection is a failed write: retried with the writer's retry/backoff policy (prepare is then called
   * again), every job of every group fails after the last try.
   */
  prepare(groups: readonly GroupRanges[]): Promise<void>;
  /**
   * Called for every group of the flush at once, after all rows were written and fsynced. Resolves 'ok'
   * (the jobs succeed) or 'abort' (the rows are cut out, the jobs complete with `aborted`). A rejection is
   * handled like 'abort', but the jobs fail with its error (and `aborted`).
   */
  commit(group: string, tags: readonly unknown[]): Promise<'ok' | 'abort'>;
  /**
   * Called before cutting when committed rows follow aborted ones in some file, with the cut of every file
   * that has aborted rows: the caller durably journals them (replacing the prepared ranges atomically), so
   * that a crash between the cut and the append of `keep` can redo both. A rejection leaves the cut owed:
   * asked again, and done, before the file is next written.
   */
  rewrite(cuts: readonly TailCut[]): Promise<void>;
  /**
   * After the flush's groups ended (committed, aborted and cut, or failed), what is left for the journal:
   * `done` (nothing: a stale journal names only commits that landed), `cut` (rows were cut: clear it
   * durably, or a crash would cut again where later rows now are), `owed` (a cut is owed, or close gave
   * up while commits ran: it must stay for the recovery).
   */
  settled?(left: 'done' | 'cut' | 'owed'): void | Promise<void>;
}

export interface WriterOptions {
  /** Absolute folder the files live in (created when missing). */
  folder: string;
  /** Flush at the latest this long after the first queued row (ms). */
  flushIntervalMs: number;
  /** Flush as soon as this many rows are queued. */
  flushRows: number;
  /** fdatasync each file after writing (and the folder after creating a file). */
  fsync: boolean;
  /** Open file handles kept at most (least recently used one closed beyond). */
  maxOpenFiles: number;
  /** Attempts per write before its jobs fail (1 = no retry; default unbounded: retried while the fault lasts). */
  maxTries: number;
  /** First retry delay (ms); doubles with each attempt, up to 5 s. */
  retryBaseMs: number;
  /** Rows queued at most (waiting and being written); jobs beyond are refused at once. */
  maxQueuedRows: number;
  /** Events for status and logs. */
  onEvent?: (ev: WriterEvent) => void;
  /** Two-phase commit per group (jobs queued with a group); without it a job's group is ignored. */
  groupCommit?: GroupCommit;
}

export type WriterEvent =
  /**
   * `file` is the file that failed; for a group's failed prepare, the group's files joined with ', '.
   * `group` is set for errors of a group's write (a failed cut-back after an abort has willRetry: the cut
   * is done again before the file's next write).
   */
  | { kind: 'error'; file: string; error: Error; attempt: number; willRetry: boolean; group?: string }
  | { kind: 'recovered'; file: string }
  | { kind: 'repaired'; file: string; droppedBytes: number }
  | { kind: 'idle' };

export const WRITER_DEFAULTS: Omit<WriterOptions, 'folder' | 'onEvent'> = {
  flushIntervalMs: 200,
  flushRows: 1000,
  fsync: true,
  maxOpenFiles: 2,
  maxTries: Infinity,
  retryBaseMs: 200,
  maxQueuedRows: 500_000,
};

/** Rows for one file: `text` is complete lines (each ending in `\n`), `header` the header line without one. */
export interface Segment {
  file: string;
  header: string;
  text: string;
  rows: number;
}

/**
 * Called once per job: without error after its rows are durably written (for a job of a group: and the
 * group committed), with the error otherwise. `aborted` is true when the job's group was aborted by its
 * commit and its rows were cut off again (no error when commit resolved 'abort', its error when it rejected).
 */
export type JobCallback = (err?: Error, aborted?: boolean) => void;

interface Job {
  rows: number;
  /** Segments (files) of the job not yet written; for a job of a group, 1 until the group completes. */
  remaining: number;
  error?: Error;
  cb: JobCallback;
  finished: boolean;
  aborted: boolean;
}

/** The text queued for one file, and the jobs it belongs to (a job once per segment it has there). */
interface FileBatch {
  header: string;
  parts: string[];
  rows: number;
  jobs: Job[];
}

/** The pending jobs of one group (each once, in queue order) and its text per file (jobs' order kept). */
interface GroupBatch {
  files: Map<string, FileBatch>;
  jobs: Job[];
  /** The jobs' tags (enqueue's `tag`), in queue order: handed to prepare and commit. */
  tags: unknown[];
  rows: number;
  lastFile: string | null;
  lastBatch: FileBatch | null;
}

/** How a group's flush ended. */
interface GroupOutcome {
  error?: Error;
  aborted: boolean;
}

/** The error of the jobs still unwritten when close() gave up (or queued while closing). */
export class UnwrittenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnwrittenError';
  }
}

/**
 * A fault that lasts into close(): the write was tried once more when close began; its rows are left
 * unwritten (not acknowledged, so a Kafka source delivers them again) rather than waited for.
 */
function unwrittenOnClose(err: Error): UnwrittenError {
  const out = new UnwrittenError(`csv sink closed while writes failed: ${err.message}`);
  (out as NodeJS.ErrnoException).code = (err as NodeJS.ErrnoException).code;
  return out;
}

/** An error that retrying will not cure. */
export class PermanentWriteError extends Error {
  readonly code?: string;
  constructor(message: string, code?: string) {
    super(message);
    this.name = 'PermanentWriteError';
    this.code = code;
  }
}

/** Longest wait between two tries (ms): the queue behind a failing write waits that long at most. */
const MAX_RETRY_DELAY_MS = 5000;

/** Error codes of the file system that retrying does not cure. */
const PERMANENT_CODES = new Set(['EISDIR', 'ENAMETOOLONG', 'EINVAL', 'ELOOP', 'EFBIG']);

function isPermanent(err: Error): boolean {
  return err instanceof PermanentWriteError || PERMANENT_CODES.has((err as NodeJS.ErrnoException).code ?? '');
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

function inside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..' + path.sep) && rel !== '..' && !path.isAbsolute(rel));
}

/** The real path of the deepest ancestor of `dir` (itself included) that exists. */
async function realExisting(dir: string): Promise<string> {
  for (let d = dir; ; d = path.dirname(d)) {
    try {
      return await fsp.realpath(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || path.dirname(d) === d) throw e;
    }
  }
}

interface OpenFile {
  name: string;
  header: string;
  full: string;
  fh: FileHandle;
  dev: number;
  ino: number;
  /** Bytes known to be good (everything up to here is complete records). */
  size: number;
  /** The folder entry of a newly created file still needs an fsync. */
  syncDir: boolean;
}

/** Where a closed file was left, so reopening it need not scan it again. */
interface KnownFile {
  dev: number;
  ino: number;
  size: number;
  /** The file was refused (e.g. a different header): refuse again without reading it. */
  error?: Error;
}

/**
 * A cut of aborted rows that failed (see TailCut): done before the file (the same one) is written again,
 * after the caller journaled it when it moves committed rows (`keep`).
 */
interface OwedCut {
  header: string;
  dev: number;
  ino: number;
  at: number;
  keep: Buffer;
  journaled: boolean;
}

/** A file of a flush's groups: the size it had before, and each group's rows in it with their offset. */
interface GroupFile {
  f: OpenFile;
  before: number;
  parts: { group: string; start: number; buf: Buffer }[];
}

const SCAN_CHUNK = 1 << 20;
const EMPTY = Buffer.alloc(0);
const OPEN_FLAGS = C.O_RDWR | C.O_APPEND | C.O_CREAT | (C.O_NOFOLLOW ?? 0);

/**
 * Cut the file at `full` back to `size` bytes if it is larger, then write `keep` after them (for a
 * caller's crash recovery: the rows of groups whose commit did not land are cut out, the committed rows
 * that followed them are kept, see TailCut), and fdatasync it. With `keep`, a file of exactly `size`
 * bytes (cut, but `keep` not written yet) gets it too, and a file holding the result already is written
 * the same again: a cut can be redone after a crash in the middle. Does not follow a symbolic link
 * (refused with an error, as a folder is). Returns true when it changed something, false when the file is
 * not larger (without `keep`), smaller than `size`, or missing. Only safe while nothing else appends to
 * the file; a CsvWriter notices the change of size at the file's next write and reopens it.
 */
export async function truncateTo(full: string, size: number, keep: Buffer = EMPTY): Promise<boolean> {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`truncateTo: bad size ${size}`);
  let fh: FileHandle;
  try {
    fh = await fsp.open(full, C.O_RDWR | (C.O_NOFOLLOW ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    if (code === 'ELOOP') throw new PermanentWriteError(`file "${full}" is a symbolic link: refused`, 'ELOOP');
    throw e;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new PermanentWriteError(`"${full}" is not a regular file`);
    if (keep.length === 0 ? st.size <= size : st.size < size) return false;
    await fh.truncate(size);
    for (let off = 0; off < keep.length; ) off += (await fh.write(keep, off, keep.length - off, size + off)).bytesWritten;
    await fh.datasync();
    return true;
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** `o[name] = value`, also for a name such as "__proto__" (an own property, not the prototype). */
function setOwn<T>(o: Record<string, T>, name: string, value: T): void {
  if (name === '__proto__') Object.defineProperty(o, name, { value, enumerable: true, writable: true, configurable: true });
  else o[name] = value;
}

/**
 * Offset just after the last complete record of a CSV file of `size` bytes: the last LF outside quotes
 * (RFC 4180: quotes toggle a quoted field, doubled quotes toggle twice). Reads the file once, in chunks
 * of `chunkSize` bytes; a file with no quote costs one memchr pass.
 */
export async function lastRecordEnd(fh: FileHandle, size: number, chunkSize = SCAN_CHUNK): Promise<number> {
  const buf = Buffer.allocUnsafe(Math.min(chunkSize, Math.max(size, 1)));
  let inQuotes = false;
  let end = 0;
  for (let base = 0; base < size; ) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - base), base);
    if (bytesRead <= 0) break;
    const chunk = bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
    let pos = 0;
    while (pos < bytesRead) {
      const q = chunk.indexOf(0x22, pos);
      const stop = q < 0 ? bytesRead : q;
      if (!inQuotes && stop > pos) {
        const nl = chunk.lastIndexOf(0x0a, stop - 1);
        if (nl >= pos) end = base + nl + 1;
      }
      if (q < 0) break;
      inQuotes = !inQuotes;
      pos = q + 1;
    }
    base += bytesRead;
  }
  return end;
}

export class CsvWriter {
  private readonly opts: WriterOptions;
  private pending: Job[] = [];
  /**
   * The pending jobs' text per file, in order of first appearance, built as jobs arrive: a flush then
   * finds it ready instead of sorting thousands of one-row jobs (single messages) into files.
   */
  private pendingFiles = new Map<string, FileBatch>();
  /** The file of the last queued segment and its batch: consecutive segments nearly always share it. */
  private lastFile: string | null = null;
  private lastBatch: FileBatch | null = null;
  /** The pending jobs of groups (with `groupCommit`), in order of each group's first pending job. */
  private pendingGroups = new Map<string, GroupBatch>();
  private inflight: Job[] = [];
  private pendingRows = 0;
  private inflightRows = 0;
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private firstPendingAt = 0;
  private readonly open = new Map<string, OpenFile>();
  private readonly known = new Map<string, KnownFile>();
  private realRoot: string | null = null;
  private closing = false;
  private aborted: Error | null = null;
  private wake: (() => void) | null = null;
  /** Files that failed their last write (cleared by a success: 'recovered' event). */
  private readonly failing = new Set<string>();
  /** Files of the group being written: kept open (not evicted) until the group completes. */
  private readonly pinned = new Set<OpenFile>();
  /** Cut-backs of aborted groups that failed, per file name: done when the file is opened next. */
  private readonly owedCuts = new Map<string, OwedCut>();
  /** Rows durably written since creation (of groups: committed ones only). */
  rowsWritten = 0;

  constructor(opts: Partial<WriterOptions> & { folder: string }) {
    this.opts = { ...WRITER_DEFAULTS, ...opts };
    if (!path.isAbsolute(this.opts.folder)) throw new RangeError('folder must be an absolute path');
  }

  /** Rows queued and being written. */
  get queuedRows(): number {
    return this.pendingRows + this.inflightRows;
  }

  /** Files whose last write failed (0 once every failed write went through). */
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
   * pending jobs (see GroupCommit); without `groupCommit` the group is ignored.
   */
  enqueue(segments: Segment[], cb: JobCallback, group?: string, tag?: unknown): void {
    let rows = 0;
    for (const s of segments) rows += s.rows;
    if (this.closing) {
      cb(new UnwrittenError('csv sink is closing: rows not written'));
      return;
    }
    // A single job larger than the bound is still taken when nothing else waits.
    if (rows > 0 && this.queuedRows > 0 && this.queuedRows + rows > this.opts.maxQueuedRows) {
      cb(new Error(`CSV write queue full (${this.queuedRows} rows waiting): the disk is too slow or failing`));
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
      let f = s.file === this.lastFile ? this.lastBatch : null;
      if (f === null) {
        f = this.pendingFiles.get(s.file) ?? null;
        if (f === null) {
          f = { header: s.header, parts: [], rows: 0, jobs: [] };
          this.pendingFiles.set(s.file, f);
        }
        this.lastFile = s.file;
        this.lastBatch = f;
      }
      f.parts.push(s.text);
      f.rows += s.rows;
      f.jobs.push(job);
    }
    this.schedule();
  }

  private enqueueGrouped(group: string, job: Job, segments: Segment[], tag: unknown): void {
    // Done when its group completes (committed or aborted), whatever its segments.
    job.remaining = 1;
    let g = this.pendingGroups.get(group);
    if (g === undefined) {
      g = { files: new Map(), jobs: [], tags: [], rows: 0, lastFile: null, lastBatch: null };
      this.pendingGroups.set(group, g);
    }
    g.jobs.push(job);
    if (tag !== undefined) g.tags.push(tag);
    g.rows += job.rows;
    for (let i = 0; i < segments.length; i++) {
      const s = segments[i];
      let f = s.file === g.lastFile ? g.lastBatch : null;
      if (f === null) {
        f = g.files.get(s.file) ?? null;
        if (f === null) {
          f = { header: s.header, parts: [], rows: 0, jobs: [] };
          g.files.set(s.file, f);
        }
        g.lastFile = s.file;
        g.lastBatch = f;
      }
      f.parts.push(s.text);
      f.rows += s.rows;
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
   * Write everything pending now: per file one write (+ fdatasync) for the rows without group, then all
   * groups together (prepare, write, fdatasync, commit each); jobs completed in queue order.
   */
  private async flush(): Promise<void> {
    const jobs = this.pending;
    // Per file, in order of first appearance; a file's text keeps the jobs' order.
    const files = this.takePendingFiles();
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
      for (const [name, f] of files) {
        const err = await this.writeWithRetry(name, f.header, f.parts.join(''));
        if (err === null) this.rowsWritten += f.rows;
        for (const job of f.jobs) {
          if (err !== null && job.error === undefined) job.error = err;
          job.remaining--;
        }
        this.inflightRows -= f.rows;
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

  private takePendingFiles(): Map<string, FileBatch> {
    const files = this.pendingFiles;
    this.pendingFiles = new Map();
    this.lastFile = null;
    this.lastBatch = null;
    return files;
  }

  private takePendingGroups(): Map<string, GroupBatch> {
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

  /** Attempts the write up to maxTries times; returns null on success, else the last error. */
  private async writeWithRetry(name: string, header: string, text: string): Promise<Error | null> {
    const buf = Buffer.from(text, 'utf8');
    for (let attempt = 1; ; attempt++) {
      if (this.aborted) return this.aborted;
      try {
        await this.append(name, header, buf);
        if (this.failing.delete(name)) this.opts.onEvent?.({ kind: 'recovered', file: name });
        return null;
      } catch (e) {
        const err = asError(e);
        this.failing.add(name);
        const willRetry = !isPermanent(err) && attempt < this.opts.maxTries && !this.aborted && !this.closing;
        this.opts.onEvent?.({ kind: 'error', file: name, error: err, attempt, willRetry });
        if (!willRetry) {
          if (this.closing && !isPermanent(err)) return unwrittenOnClose(err);
          const tries = attempt > 1 ? ` after ${attempt} attempts` : '';
          const out = new Error(`CSV write to ${name} failed${tries}: ${err.message}`);
          (out as NodeJS.ErrnoException).code = (err as NodeJS.ErrnoException).code;
          return out;
        }
        await this.sleep(Math.min(this.opts.retryBaseMs * 2 ** (attempt - 1), MAX_RETRY_DELAY_MS));
      }
    }
  }

  /**
   * The flush's groups: prepare, write and fdatasync every file (retried as a whole), commit every group
   * at once, then cut out the rows of those that aborted. Nothing else is written meanwhile, so the
   * groups' rows stay the tail of their files until they complete.
   */
  private async runGroups(groups: Map<string, GroupBatch>): Promise<Map<string, GroupOutcome>> {
    const gc = this.opts.groupCommit as GroupCommit;
    const outcomes = new Map<string, GroupOutcome>();
    const all = (out: GroupOutcome): Map<string, GroupOutcome> => {
      for (const group of groups.keys()) outcomes.set(group, out);
      return outcomes;
    };
    let cut = false;
    try {
      const files = await this.writeGroups(gc, groups);
      if (files instanceof Error) return all({ error: files, aborted: false });
      if (this.aborted) return all({ error: this.aborted, aborted: false });
      const verdicts = await Promise.all(
        [...groups].map(([group, g]) =>
          gc.commit(group, g.tags).then(
            (v): Error | 'ok' | 'abort' => (v === 'ok' || v === 'abort' ? v : new Error(`group commit of ${group} resolved ${String(v)}, not 'ok' or 'abort'`)),
            (e: unknown) => asError(e),
          ),
        ),
      );
      // close() gave up while the commits ran: their jobs failed already; the files stay as they are (the
      // caller's recovery cuts what did not land), their handles are being closed.
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
        await this.cutAborted(gc, files, failed);
      }
      return outcomes;
    } finally {
      this.pinned.clear();
      await this.trimOpenFiles();
      try {
        await gc.settled?.(this.owedCuts.size > 0 || this.aborted !== null ? 'owed' : cut ? 'cut' : 'done');
      } catch {
        // the caller's bookkeeping must not stop the flush
      }
    }
  }

  /**
   * Open the groups' files, prepare, write each file's rows (groups in order, each contiguous) and
   * fdatasync them; a failure anywhere cuts back what this attempt wrote and retries the whole (backoff as
   * writeWithRetry). Returns the files (open and pinned) with each group's offsets, or the error that
   * ended the tries.
   */
  private async writeGroups(gc: GroupCommit, groups: Map<string, GroupBatch>): Promise<GroupFile[] | Error> {
    // Per file, each group's text once (a group's jobs keep their order).
    const plan = new Map<string, { header: string; parts: { group: string; buf: Buffer }[] }>();
    for (const [group, g] of groups) {
      for (const [name, fb] of g.files) {
        let p = plan.get(name);
        if (p === undefined) plan.set(name, (p = { header: fb.header, parts: [] }));
        p.parts.push({ group, buf: Buffer.from(fb.parts.length === 1 ? fb.parts[0] : fb.parts.join(''), 'utf8') });
      }
    }
    const names = [...plan.keys()];
    for (let attempt = 1; ; attempt++) {
      if (this.aborted) return this.aborted;
      const files: GroupFile[] = [];
      let written = 0;
      let stage: 'open' | 'prepare' | 'write' = 'open';
      let at = 0;
      let done = false;
      try {
        // Cuts owed by an earlier flush come first: the prepare below replaces the journal that holds them.
        for (const [name, o] of [...this.owedCuts]) if (!plan.has(name)) await this.fileFor(name, o.header);
        for (; at < names.length; at++) {
          const { header, parts } = plan.get(names[at])!;
          const f = await this.fileFor(names[at], header);
          this.pinned.add(f);
          let pos = f.size === 0 ? Buffer.byteLength(header + '\n', 'utf8') : f.size;
          files.push({
            f,
            before: f.size,
            parts: parts.map((p) => {
              const start = pos;
              pos += p.buf.length;
              return { group: p.group, start, buf: p.buf };
            }),
          });
        }
        stage = 'prepare';
        await gc.prepare(rangesOf(groups, files));
        if (this.aborted) return this.aborted;
        stage = 'write';
        for (at = 0; at < files.length; at++) {
          const { f, parts } = files[at];
          const bufs = parts.map((p) => p.buf);
          if (f.size === 0) bufs.unshift(Buffer.from(plan.get(f.name)!.header + '\n', 'utf8'));
          const buf = bufs.length === 1 ? bufs[0] : Buffer.concat(bufs);
          written = at + 1;
          await writeAll(f.fh, buf);
          f.size += buf.length;
        }
        if (this.opts.fsync) for (at = 0; at < files.length; at++) await files[at].f.fh.datasync();
        for (at = 0; at < files.length; at++) {
          const f = files[at].f;
          if (f.syncDir) {
            f.syncDir = false;
            await syncFolder(path.dirname(f.full));
          }
        }
        done = true;
      } catch (e) {
        const err = asError(e);
        // Nothing of this attempt may stay: cut back what it wrote (or owe the cut), reopen on the retry.
        for (let i = 0; i < written; i++) {
          await this.cut(files[i].f, files[i].before, EMPTY, true, false);
          await this.closeFile(files[i].f, false);
        }
        if (stage !== 'prepare' && at < names.length && written <= at) await this.closeIfOpen(names[at]);
        this.pinned.clear();
        const file = stage === 'prepare' ? names.join(', ') : names[at];
        const group = [...groups.keys()].join(', ');
        // A failed prepare (the journal) holds every file of the flush back.
        for (const name of stage === 'prepare' ? names : [file]) this.failing.add(name);
        const willRetry = !isPermanent(err) && attempt < this.opts.maxTries && !this.aborted && !this.closing;
        this.opts.onEvent?.({ kind: 'error', file, error: err, attempt, willRetry, group });
        if (!willRetry) {
          if (this.closing && !isPermanent(err)) return unwrittenOnClose(err);
          const tries = attempt > 1 ? ` after ${attempt} attempts` : '';
          const out =
            stage === 'prepare'
              ? new Error(`CSV group ${group}: prepare failed${tries}: ${err.message}`)
              : new Error(`CSV write to ${file} failed${tries}: ${err.message}`);
          (out as NodeJS.ErrnoException).code = (err as NodeJS.ErrnoException).code;
          return out;
        }
        await this.sleep(Math.min(this.opts.retryBaseMs * 2 ** (attempt - 1), MAX_RETRY_DELAY_MS));
      }
      if (done) {
        for (const name of names) if (this.failing.delete(name)) this.opts.onEvent?.({ kind: 'recovered', file: name });
        return files;
      }
    }
  }

  /**
   * Cut the rows of the `failed` groups out of their files (see TailCut): journaled first through
   * `rewrite` when committed rows move. A cut that fails is owed (done before the file's next write).
   */
  private async cutAborted(gc: GroupCommit, files: GroupFile[], failed: Set<string>): Promise<void> {
    const cuts: { f: OpenFile; cut: TailCut }[] = [];
    for (const { f, before, parts } of files) {
      const first = parts.findIndex((p) => failed.has(p.group));
      if (first < 0) continue;
      const kept = parts.slice(first + 1).filter((p) => !failed.has(p.group));
      const keep = kept.length === 0 ? EMPTY : kept.length === 1 ? kept[0].buf : Buffer.concat(kept.map((p) => p.buf));
      // Nothing of the flush stays in the file: back to its size before (a new file's header goes too).
      const at = first === 0 && kept.length === 0 ? before : parts[first].start;
      cuts.push({ f, cut: { file: f.name, at, keep } });
    }
    const group = [...failed].join(', ');
    let journaled = true;
    if (cuts.some((c) => c.cut.keep.length > 0)) {
      try {
        await gc.rewrite(cuts.map((c) => c.cut));
      } catch (e) {
        journaled = false;
        this.opts.onEvent?.({ kind: 'error', file: cuts.map((c) => c.f.name).join(', '), error: asError(e), attempt: 1, willRetry: true, group });
      }
    }
    for (const { f, cut } of cuts) {
      if (!journaled) {
        this.owedCuts.set(f.name, { header: f.header, dev: f.dev, ino: f.ino, at: cut.at, keep: cut.keep, journaled: cut.keep.length === 0 });
        await this.closeFile(f, false);
      } else await this.cut(f, cut.at, cut.keep, true, true, group);
    }
  }

  /**
   * Cut a file back to `at` and append `keep` (+ fdatasync), fixing its size. When that fails, the cut is
   * owed: done when the file is opened next (the handle is closed now so that it is), before anything else
   * is appended to it.
   */
  private async cut(f: OpenFile, at: number, keep: Buffer, journaled: boolean, report: boolean, group?: string): Promise<void> {
    try {
      await f.fh.truncate(at);
      f.size = at;
      if (keep.length > 0) {
        await writeAll(f.fh, keep);
        f.size += keep.length;
      }
      if (this.opts.fsync) await f.fh.datasync();
    } catch (e) {
      this.owedCuts.set(f.name, { header: f.header, dev: f.dev, ino: f.ino, at, keep, journaled });
      if (report) this.opts.onEvent?.({ kind: 'error', file: f.name, error: asError(e), attempt: 1, willRetry: true, group });
      await this.closeFile(f, false);
    }
  }

  /** Journal the owed cuts that move committed rows (see GroupCommit.rewrite), all in one. */
  private async journalOwedCuts(): Promise<void> {
    const owed = [...this.owedCuts];
    await (this.opts.groupCommit as GroupCommit).rewrite(owed.map(([file, o]) => ({ file, at: o.at, keep: o.keep })));
    for (const [, o] of owed) o.journaled = true;
  }

  private async closeIfOpen(name: string): Promise<void> {
    const f = this.open.get(name);
    if (f !== undefined) await this.closeFile(f, false);
  }

  /** Close the least recently used files beyond maxOpenFiles (a group's pinned files are kept). */
  private async trimOpenFiles(keep?: OpenFile): Promise<void> {
    while (this.open.size > this.opts.maxOpenFiles) {
      let victim: OpenFile | null = null;
      for (const o of this.open.values()) {
        if (o !== keep && !this.pinned.has(o)) {
          victim = o;
          break;
        }
      }
      if (victim === null) return;
      await this.closeFile(victim, true);
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

  private async append(name: string, header: string, data: Buffer): Promise<void> {
    const f = await this.fileFor(name, header);
    let buf = data;
    if (f.size === 0) buf = Buffer.concat([Buffer.from(header + '\n', 'utf8'), data]);
    try {
      await writeAll(f.fh, buf);
      if (this.opts.fsync) await f.fh.datasync();
    } catch (e) {
      // Roll back a partial write so that a retry does not leave half a row in the middle of the file;
      // if even that fails, the reopen's torn-record repair cuts it off.
      await f.fh.truncate(f.size).catch(() => undefined);
      await this.closeFile(f, false);
      throw e;
    }
    f.size += buf.length;
    if (f.syncDir) {
      f.syncDir = false;
      await syncFolder(path.dirname(f.full));
    }
  }

  /** The open file for `name`, opened (and checked / repaired) when needed, reopened if it was replaced. */
  private async fileFor(name: string, header: string): Promise<OpenFile> {
    let f = this.open.get(name);
    if (f !== undefined) {
      // Reuse the handle only while the path still names the same file (not deleted or rotated away).
      // A different size means someone else changed it (a caller's truncateTo, say): reopen, check again.
      const st = await fsp.stat(f.full).catch(() => null);
      if (st !== null && st.ino === f.ino && st.dev === f.dev && st.size === f.size) {
        this.open.delete(name);
        this.open.set(name, f);
        return f;
      }
      this.known.delete(name);
      await this.closeFile(f, false);
    }
    f = await this.openFile(name, header);
    this.open.set(name, f);
    await this.trimOpenFiles(f);
    return f;
  }

  private async root(): Promise<string> {
    if (this.realRoot === null) {
      await fsp.mkdir(this.opts.folder, { recursive: true });
      this.realRoot = await fsp.realpath(this.opts.folder);
    }
    return this.realRoot;
  }

  private async openFile(name: string, header: string): Promise<OpenFile> {
    const root = await this.root();
    const wanted = path.resolve(root, name);
    if (!inside(root, wanted) || wanted === root) throw new PermanentWriteError(`file name "${name}" leaves the folder`);
    const dir = path.dirname(wanted);
    // mkdir follows symbolic links on its way: check the part of the path that exists before creating
    // the rest, or a link to elsewhere would get new folders created outside.
    if (!inside(root, await realExisting(dir))) throw new PermanentWriteError(`file name "${name}" leaves the folder through a symbolic link`);
    await fsp.mkdir(dir, { recursive: true });
    const realDir = await fsp.realpath(dir);
    if (!inside(root, realDir)) throw new PermanentWriteError(`file name "${name}" leaves the folder through a symbolic link`);
    const full = path.join(realDir, path.basename(wanted));
    let fh: FileHandle;
    try {
      fh = await fsp.open(full, OPEN_FLAGS, 0o644);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ELOOP') {
        throw new PermanentWriteError(`file "${name}" is a symbolic link: refused`, 'ELOOP');
      }
      throw e;
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new PermanentWriteError(`"${name}" is not a regular file`);
      let size = st.size;
      const owed = this.owedCuts.get(name);
      if (owed !== undefined) {
        // An aborted group's rows whose cut failed: cut them now (the same file only), check it afresh.
        if (owed.dev === st.dev && owed.ino === st.ino && size > owed.at) {
          if (!owed.journaled) await this.journalOwedCuts();
          await fh.truncate(owed.at);
          if (owed.keep.length > 0) await writeAll(fh, owed.keep);
          if (this.opts.fsync) await fh.datasync();
          size = owed.at + owed.keep.length;
        }
        this.owedCuts.delete(name);
        this.known.delete(name);
      }
      const k = this.known.get(name);
      this.known.delete(name);
      const unchanged = k !== undefined && k.dev === st.dev && k.ino === st.ino && k.size === size;
      if (unchanged && k.error) {
        this.known.set(name, k);
        throw k.error;
      }
      if (size > 0 && !unchanged) {
        try {
          size = await this.repairAndCheck(fh, name, header, size);
        } catch (e) {
          if (e instanceof PermanentWriteError) this.remember(name, { dev: st.dev, ino: st.ino, size, error: e });
          throw e;
        }
      }
      return { name, header, full, fh, dev: st.dev, ino: st.ino, size, syncDir: st.size === 0 && this.opts.fsync };
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw e;
    }
  }

  /**
   * Check that an existing file starts with our header (else refuse it, untouched), then cut a torn last
   * record. A file holding only a torn header is emptied. Returns the size of the good part.
   */
  private async repairAndCheck(fh: FileHandle, name: string, header: string, size: number): Promise<number> {
    const want = Buffer.from(header + '\n', 'utf8');
    const got = Buffer.alloc(Math.min(want.length, size));
    const { bytesRead } = await fh.read(got, 0, got.length, 0);
    const head = got.subarray(0, bytesRead);
    let end: number;
    if (head.length === want.length && head.equals(want)) end = await lastRecordEnd(fh, size);
    else if (size < want.length && head.equals(want.subarray(0, head.length))) end = 0;
    else {
      throw new PermanentWriteError(
        `existing file "${name}" has a different header: not appending (move it away, or choose another file name)`,
      );
    }
    if (end < size) {
      await fh.truncate(end);
      if (this.opts.fsync) await fh.datasync();
      this.opts.onEvent?.({ kind: 'repaired', file: name, droppedBytes: size - end });
    }
    return end;
  }

  private async closeFile(f: OpenFile, remember: boolean): Promise<void> {
    if (this.open.get(f.name) === f) this.open.delete(f.name);
    if (remember) this.remember(f.name, { dev: f.dev, ino: f.ino, size: f.size });
    await f.fh.close().catch(() => undefined);
  }

  private remember(name: string, k: KnownFile): void {
    this.known.delete(name);
    this.known.set(name, k);
    if (this.known.size > 64) this.known.delete(this.known.keys().next().value as string);
  }

  /**
   * Write everything queued, wait for it, close the files. After `timeoutMs` the jobs still waiting fail
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
      this.aborted = new UnwrittenError(`csv sink closed before the rows could be written (waited ${timeoutMs} ms)`);
      this.wake?.();
      // The write in progress cannot be cancelled; its jobs and the waiting ones fail now (a write that
      // still lands later only duplicates rows on redelivery, which at-least-once allows).
      for (const job of this.inflight) this.finish(job, this.aborted);
      for (const job of this.pending) this.finish(job, this.aborted);
      this.pending = [];
      this.pendingRows = 0;
      this.takePendingFiles();
      this.takePendingGroups();
      // Closing a handle waits for its pending operation: do not wait for it here.
      for (const f of [...this.open.values()]) void this.closeFile(f, false);
      return;
    }
    for (const f of [...this.open.values()]) await this.closeFile(f, true);
  }
}

/** Write all of `buf` (at the end: the files are opened with O_APPEND). */
async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  for (let off = 0; off < buf.length; ) off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
}

/** Each group's ranges in the files written for it (`{}` for a group without rows). */
function rangesOf(groups: Map<string, GroupBatch>, files: GroupFile[]): GroupRanges[] {
  const out = new Map<string, GroupRanges>();
  for (const [group, g] of groups) out.set(group, { group, tags: g.tags, ranges: {} });
  for (const { f, parts } of files) {
    for (const p of parts) setOwn(out.get(p.group)!.ranges, f.name, [p.start, p.start + p.buf.length]);
  }
  return [...out.values()];
}

/** fsync a folder so that a new file's entry survives a power loss. Best effort (not every FS allows it). */
async function syncFolder(dir: string): Promise<void> {
  let d: FileHandle | null = null;
  try {
    d = await fsp.open(dir, 'r');
    await d.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the data itself is synced already.
  } finally {
    await d?.close().catch(() => undefined);
  }
}
