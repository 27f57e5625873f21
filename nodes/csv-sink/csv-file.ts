/**
 * The CSV file target of the sink queue (./sink-queue.ts): appends formatted CSV text to files under one
 * folder, one write (and one fdatasync) per file and batch, and takes rows out again when a group aborts.
 *
 * Guarantees:
 * - a batch is durable when write() resolves (synced when `fsync` is on; a new file's folder entry too);
 *   a write that fails is rolled back (cut to the size before), or else cut off as a torn record when
 *   the file is next opened, so a retry never leaves half a row in the middle of a file;
 * - the header is written once per file: a new (or empty) file gets it, an existing one is checked for it
 *   (a different header refuses the file with a PermanentWriteError, without touching it);
 * - a torn last record (a crash in the middle of a write) is cut off before appending, back to the end of
 *   the last complete record (a newline outside quotes). Appending a newline instead would keep a
 *   half-written row with wrong values; the cut-off part was never acknowledged, so nothing acknowledged
 *   is lost;
 * - files stay inside the folder: names are resolved under it, their parent folder's real path must be
 *   inside the folder's real path, and the file is opened with O_NOFOLLOW (a symlink is refused);
 * - at most `maxOpenFiles` handles stay open (least recently used closed beyond, except a group's);
 * - errors of the file system that retrying does not cure (a folder where the file should be, a name too
 *   long) are classified permanent; the others (disk full, read-only file system, permissions, I/O error)
 *   are the queue's to retry.
 *
 * Group commit (see GroupCommit): the byte ranges, the undo of a failed try and the cut of aborted rows
 * live here, not in the queue, because they are what a position in a file is: a group's rows are one
 * contiguous range per file (groups in order of their first pending job), given to `prepare` before they
 * are written. The rows of a group that aborts are cut out of its files: a file whose aborted rows are its
 * tail is cut back; one where committed rows follow them is cut at the first aborted range and the
 * committed rows after it are appended again, after `rewrite(cuts)` journaled that, so a crash in the
 * middle can finish the cut (see TailCut). A cut that fails is owed: done before the file is next written.
 */
import { constants as C, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { PermanentWriteError, asError, type FlushGroup, type GroupWrite, type Parts, type SinkCommit, type SinkTarget } from './sink-queue';

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

/**
 * The caller's side of the two-phase commit of a flush's groups, for CSV files: what `prepare` is told
 * is the byte range each group's rows are about to occupy in each file; see SinkCommit for the rest.
 */
export interface GroupCommit extends SinkCommit<readonly GroupRanges[]> {
  /**
   * Called before cutting when committed rows follow aborted ones in some file, with the cut of every file
   * that has aborted rows: the caller durably journals them (replacing the prepared ranges atomically), so
   * that a crash between the cut and the append of `keep` can redo both. A rejection leaves the cut owed:
   * asked again, and done, before the file is next written.
   */
  rewrite(cuts: readonly TailCut[]): Promise<void>;
}

/** Rows for one file: `text` is complete lines (each ending in `\n`), `header` the header line without one. */
export interface Segment {
  file: string;
  header: string;
  text: string;
  rows: number;
}

/** Events of the files themselves (the queue reports the writes' errors and recoveries). */
export type FileEvent =
  | { kind: 'error'; file: string; error: Error; attempt: number; willRetry: boolean; group?: string }
  | { kind: 'repaired'; file: string; droppedBytes: number };

export interface CsvFilesOptions {
  /** Absolute folder the files live in (created when missing). */
  folder: string;
  /** fdatasync each file after writing (and the folder after creating a file). */
  fsync: boolean;
  /** Open file handles kept at most (least recently used one closed beyond). */
  maxOpenFiles: number;
  /** For `rewrite`, when aborted rows are cut out from under committed ones. */
  groupCommit?: GroupCommit;
  onEvent?: (ev: FileEvent) => void;
}

/** One flush's rows for one file: its header and the rows' bytes. */
export interface CsvBatch {
  header: string;
  data: Buffer;
}

/** Error codes of the file system that retrying does not cure. */
const PERMANENT_CODES = new Set(['EISDIR', 'ENAMETOOLONG', 'EINVAL', 'ELOOP', 'EFBIG']);

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

/** The CSV files under one folder, as a target of the sink queue. */
export class CsvFiles implements SinkTarget<Segment, string, CsvBatch, readonly GroupRanges[]> {
  private readonly open = new Map<string, OpenFile>();
  private readonly known = new Map<string, KnownFile>();
  private realRoot: string | null = null;
  /** Files of the group being written: kept open (not evicted) until the group completes. */
  private readonly pinned = new Set<OpenFile>();
  /** Cut-backs of aborted groups that failed, per file name: done when the file is opened next. */
  private readonly owedCuts = new Map<string, OwedCut>();

  constructor(private readonly opts: CsvFilesOptions) {
    if (!path.isAbsolute(opts.folder)) throw new RangeError('folder must be an absolute path');
  }

  nameOf(s: Segment): string {
    return s.file;
  }

  partOf(s: Segment): string {
    return s.text;
  }

  encode(_name: string, { head, parts }: Parts<Segment, string>): CsvBatch {
    return { header: head.header, data: bytesOf(parts) };
  }

  isPermanent(err: Error): boolean {
    return PERMANENT_CODES.has((err as NodeJS.ErrnoException).code ?? '');
  }

  async write(name: string, { header, data }: CsvBatch): Promise<void> {
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

  /**
   * One flush's groups: per attempt, open the files (cuts owed by an earlier flush first), place each
   * group's rows after the file's end, write them and fdatasync; undo cuts back what the attempt wrote.
   */
  groups(groups: ReadonlyMap<string, FlushGroup<Segment, string>>): GroupWrite<readonly GroupRanges[]> {
    // Per file, each group's text once (a group's jobs keep their order).
    const plan = new Map<string, { header: string; parts: { group: string; buf: Buffer }[] }>();
    for (const [group, g] of groups) {
      for (const [name, b] of g.names) {
        let p = plan.get(name);
        if (p === undefined) plan.set(name, (p = { header: b.head.header, parts: [] }));
        p.parts.push({ group, buf: bytesOf(b.parts) });
      }
    }
    const names = [...plan.keys()];
    let files: GroupFile[] = [];
    let written = 0;
    let at = 0;
    return {
      names,
      open: async () => {
        files = [];
        written = 0;
        at = 0;
        // Cuts owed by an earlier flush come first: the prepare after this replaces the journal that holds them.
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
        return rangesOf(groups, files);
      },
      write: async () => {
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
      },
      undo: async () => {
        for (let i = 0; i < written; i++) {
          await this.cut(files[i].f, files[i].before, EMPTY, true, false);
          await this.closeFile(files[i].f, false);
        }
        // The file whose open or write failed, unless it was written (then cut above); after a failed
        // prepare `at` is past the last file.
        if (at < names.length && written <= at) await this.closeIfOpen(names[at]);
        this.pinned.clear();
      },
      failed: () => names[at],
      cut: (failed) => this.cutAborted(files, failed),
      end: async () => {
        this.pinned.clear();
        await this.trimOpenFiles();
        return this.owedCuts.size > 0;
      },
    };
  }

  /**
   * Cut the rows of the `failed` groups out of their files (see TailCut): journaled first through
   * `rewrite` when committed rows move. A cut that fails is owed (done before the file's next write).
   */
  private async cutAborted(files: GroupFile[], failed: ReadonlySet<string>): Promise<void> {
    const gc = this.opts.groupCommit as GroupCommit;
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

  async close(abandon: boolean): Promise<void> {
    // Closing a handle waits for its pending operation: when abandoning, do not wait for it here.
    if (abandon) for (const f of [...this.open.values()]) void this.closeFile(f, false);
    else for (const f of [...this.open.values()]) await this.closeFile(f, true);
  }
}

/** The segments' rows (their texts, in order) as one buffer: one per file and flush. */
function bytesOf(texts: readonly string[]): Buffer {
  return Buffer.from(texts.length === 1 ? texts[0] : texts.join(''), 'utf8');
}

/** Write all of `buf` (at the end: the files are opened with O_APPEND). */
async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  for (let off = 0; off < buf.length; ) off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
}

/** Each group's ranges in the files written for it (`{}` for a group without rows). */
function rangesOf(groups: ReadonlyMap<string, FlushGroup<Segment, string>>, files: GroupFile[]): GroupRanges[] {
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
