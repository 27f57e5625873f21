/**
 * The open handles of the CSV files under one folder: opening a file safely (its name resolved inside
 * the folder, its parent's real path inside the folder's, O_NOFOLLOW: a symbolic link is refused), the
 * check of an existing file's header and the cut of a torn last record before anything is appended, and
 * at most `maxOpenFiles` handles kept (the least recently used closed beyond, except pinned ones).
 * Where a closed file was left is remembered, so that reopening it need not scan it again.
 */
import { constants as C, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { lastRecordEnd } from './file-ops';
import { text } from '../nr/i18n';
import { PermanentWriteError } from './sink-api';

export interface OpenFile {
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

export interface OpenFilesOptions {
  /** Absolute folder the files live in (created when missing). */
  folder: string;
  /** fdatasync a repaired file. */
  fsync: boolean;
  /** Open file handles kept at most (least recently used one closed beyond). */
  maxOpenFiles: number;
  /**
   * A file is being opened: do what is owed to it first (see group-files.ts) and return its size after,
   * or undefined when nothing was owed.
   */
  owed(name: string, fh: FileHandle, st: { dev: number; ino: number; size: number }): Promise<number | undefined>;
  /** A torn last record was cut off. */
  repaired(file: string, droppedBytes: number): void;
}

const OPEN_FLAGS = C.O_RDWR | C.O_APPEND | C.O_CREAT | (C.O_NOFOLLOW ?? 0);

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

export class OpenFiles {
  private readonly open = new Map<string, OpenFile>();
  private readonly known = new Map<string, KnownFile>();
  private realRoot: string | null = null;
  /** Files of the group being written: kept open (not evicted) until the group completes. */
  readonly pinned = new Set<OpenFile>();

  constructor(private readonly opts: OpenFilesOptions) {}

  /** The open file for `name`, opened (and checked / repaired) when needed, reopened if it was replaced. */
  async fileFor(name: string, header: string): Promise<OpenFile> {
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

  async closeIfOpen(name: string): Promise<void> {
    const f = this.open.get(name);
    if (f !== undefined) await this.closeFile(f, false);
  }

  /** Close the least recently used files beyond maxOpenFiles (pinned files are kept). */
  async trimOpenFiles(keep?: OpenFile): Promise<void> {
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

  /** Close `f`; `remember` where it was left (a file closed in good order), so reopening skips the scan. */
  async closeFile(f: OpenFile, remember: boolean): Promise<void> {
    if (this.open.get(f.name) === f) this.open.delete(f.name);
    if (remember) this.remember(f.name, { dev: f.dev, ino: f.ino, size: f.size });
    await f.fh.close().catch(() => undefined);
  }

  /** Close every file; `abandon`: do not wait for a pending operation (closing a handle waits for it). */
  async closeAll(abandon: boolean): Promise<void> {
    if (abandon) for (const f of [...this.open.values()]) void this.closeFile(f, false);
    else for (const f of [...this.open.values()]) await this.closeFile(f, true);
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
    if (!inside(root, wanted) || wanted === root) throw new PermanentWriteError(text('smoke-csv-sink.errors.leaves-folder', { name }));
    const dir = path.dirname(wanted);
    // mkdir follows symbolic links on its way: check the part of the path that exists before creating
    // the rest, or a link to elsewhere would get new folders created outside.
    if (!inside(root, await realExisting(dir))) throw new PermanentWriteError(text('smoke-csv-sink.errors.leaves-folder-link', { name }));
    await fsp.mkdir(dir, { recursive: true });
    const realDir = await fsp.realpath(dir);
    if (!inside(root, realDir)) throw new PermanentWriteError(text('smoke-csv-sink.errors.leaves-folder-link', { name }));
    const full = path.join(realDir, path.basename(wanted));
    let fh: FileHandle;
    try {
      fh = await fsp.open(full, OPEN_FLAGS, 0o644);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ELOOP') {
        throw new PermanentWriteError(text('smoke-csv-sink.errors.symlink', { file: name }), 'ELOOP');
      }
      throw e;
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new PermanentWriteError(text('smoke-csv-sink.errors.not-a-file', { file: name }));
      let size = st.size;
      const after = await this.opts.owed(name, fh, st);
      if (after !== undefined) {
        size = after;
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
      throw new PermanentWriteError(text('smoke-csv-sink.errors.other-header', { name }));
    }
    if (end < size) {
      await fh.truncate(end);
      if (this.opts.fsync) await fh.datasync();
      this.opts.repaired(name, size - end);
    }
    return end;
  }

  private remember(name: string, k: KnownFile): void {
    this.known.delete(name);
    this.known.set(name, k);
    if (this.known.size > 64) this.known.delete(this.known.keys().next().value as string);
  }
}
