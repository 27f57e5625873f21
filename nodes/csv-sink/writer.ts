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
 * - write errors are retried with exponential backoff (`maxTries` attempts) when they may pass (disk
 *   full, I/O error, permissions), and fail their jobs at once when they cannot (a folder where the file
 *   should be, a name too long). Jobs never vanish: every one ends in its callback, with or without error.
 */
import { constants as C, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';

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
  /** Attempts per write before its jobs fail (1 = no retry). */
  maxTries: number;
  /** First retry delay (ms); doubles with each attempt, up to 5 s. */
  retryBaseMs: number;
  /** Rows queued at most (waiting and being written); jobs beyond are refused at once. */
  maxQueuedRows: number;
  /** Events for status and logs. */
  onEvent?: (ev: WriterEvent) => void;
}

export type WriterEvent =
  | { kind: 'error'; file: string; error: Error; attempt: number; willRetry: boolean }
  | { kind: 'recovered'; file: string }
  | { kind: 'repaired'; file: string; droppedBytes: number }
  | { kind: 'idle' };

export const WRITER_DEFAULTS: Omit<WriterOptions, 'folder' | 'onEvent'> = {
  flushIntervalMs: 200,
  flushRows: 1000,
  fsync: true,
  maxOpenFiles: 2,
  maxTries: 5,
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

/** Called once per job: without error after its rows are durably written, with the error otherwise. */
export type JobCallback = (err?: Error) => void;

interface Job {
  rows: number;
  /** Segments (files) of the job not yet written. */
  remaining: number;
  error?: Error;
  cb: JobCallback;
  finished: boolean;
}

/** The text queued for one file, and the jobs it belongs to (a job once per segment it has there). */
interface FileBatch {
  header: string;
  parts: string[];
  rows: number;
  jobs: Job[];
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

const SCAN_CHUNK = 1 << 20;
const OPEN_FLAGS = C.O_RDWR | C.O_APPEND | C.O_CREAT | (C.O_NOFOLLOW ?? 0);

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
  /** Rows durably written since creation. */
  rowsWritten = 0;

  constructor(opts: Partial<WriterOptions> & { folder: string }) {
    this.opts = { ...WRITER_DEFAULTS, ...opts };
    if (!path.isAbsolute(this.opts.folder)) throw new RangeError('folder must be an absolute path');
  }

  /** Rows queued and being written. */
  get queuedRows(): number {
    return this.pendingRows + this.inflightRows;
  }

  get idle(): boolean {
    return this.pending.length === 0 && this.flushing === null;
  }

  /**
   * Queue the segments of one input message; `cb` is called once, after all of them are durably written
   * (or with the error that stopped them). A job without segments completes with the next flush, in order.
   */
  enqueue(segments: Segment[], cb: JobCallback): void {
    let rows = 0;
    for (const s of segments) rows += s.rows;
    if (this.closing) {
      cb(new Error('csv sink is closing: rows not written'));
      return;
    }
    // A single job larger than the bound is still taken when nothing else waits.
    if (rows > 0 && this.queuedRows > 0 && this.queuedRows + rows > this.opts.maxQueuedRows) {
      cb(new Error(`CSV write queue full (${this.queuedRows} rows waiting): the disk is too slow or failing`));
      return;
    }
    const job: Job = { rows, remaining: segments.length, cb, finished: false };
    if (this.pending.length === 0) this.firstPendingAt = Date.now();
    this.pending.push(job);
    this.pendingRows += rows;
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

  /** Write everything pending now: per file one write (+ fdatasync), jobs completed in queue order. */
  private async flush(): Promise<void> {
    const jobs = this.pending;
    // Per file, in order of first appearance; a file's text keeps the jobs' order.
    const files = this.takePendingFiles();
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

  private finish(job: Job, err?: Error): void {
    if (job.finished) return;
    job.finished = true;
    const e = err ?? job.error;
    try {
      job.cb(e);
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
        const willRetry = !isPermanent(err) && attempt < this.opts.maxTries && !this.aborted;
        this.opts.onEvent?.({ kind: 'error', file: name, error: err, attempt, willRetry });
        if (!willRetry) {
          const tries = attempt > 1 ? ` after ${attempt} attempts` : '';
          const out = new Error(`CSV write to ${name} failed${tries}: ${err.message}`);
          (out as NodeJS.ErrnoException).code = (err as NodeJS.ErrnoException).code;
          return out;
        }
        await this.sleep(Math.min(this.opts.retryBaseMs * 2 ** (attempt - 1), MAX_RETRY_DELAY_MS));
      }
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
      let off = 0;
      while (off < buf.length) {
        const { bytesWritten } = await f.fh.write(buf, off, buf.length - off);
        off += bytesWritten;
      }
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
      const st = await fsp.stat(f.full).catch(() => null);
      if (st !== null && st.ino === f.ino && st.dev === f.dev) {
        this.open.delete(name);
        this.open.set(name, f);
        return f;
      }
      this.known.delete(name);
      await this.closeFile(f, false);
    }
    f = await this.openFile(name, header);
    this.open.set(name, f);
    while (this.open.size > this.opts.maxOpenFiles) {
      const oldest = this.open.values().next().value as OpenFile;
      await this.closeFile(oldest, true);
    }
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
      return { name, full, fh, dev: st.dev, ino: st.ino, size, syncDir: st.size === 0 && this.opts.fsync };
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
      this.aborted = new Error(`csv sink closed before the rows could be written (waited ${timeoutMs} ms)`);
      this.wake?.();
      // The write in progress cannot be cancelled; its jobs and the waiting ones fail now (a write that
      // still lands later only duplicates rows on redelivery, which at-least-once allows).
      for (const job of this.inflight) this.finish(job, this.aborted);
      for (const job of this.pending) this.finish(job, this.aborted);
      this.pending = [];
      this.pendingRows = 0;
      this.takePendingFiles();
      // Closing a handle waits for its pending operation: do not wait for it here.
      for (const f of [...this.open.values()]) void this.closeFile(f, false);
      return;
    }
    for (const f of [...this.open.values()]) await this.closeFile(f, true);
  }
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
