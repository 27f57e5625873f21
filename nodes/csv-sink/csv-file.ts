/**
 * The CSV file target of the sink queue (./sink-queue.ts): appends formatted CSV text to files under one
 * folder, one write (and one fdatasync) per file and batch, and takes rows out again when a group aborts.
 * It ties together the open handles (./open-files.ts: names kept inside the folder, header check, torn
 * record repair, at most `maxOpenFiles` handles) and the group commit (./group-files.ts: placements,
 * undo, cuts of aborted rows).
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
 */
import * as path from 'node:path';
import type { GroupRanges } from '../lib/csv-cuts';
import { bytesOf, syncFolder, writeAll, type Rows } from './file-ops';
import { GroupFiles, type GroupCommit } from './group-files';
import { OpenFiles } from './open-files';
import type { FlushGroup, GroupWrite, Parts, SinkTarget } from './sink-api';

/**
 * Rows for one file: `text` is complete lines (each ending in `\n`), as text or as their UTF-8 bytes
 * (what the sink's formatter gives: no string in between); `header` the header line without one.
 */
export interface Segment {
  file: string;
  header: string;
  text: Rows;
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

/** The CSV files under one folder, as a target of the sink queue. */
export class CsvFiles implements SinkTarget<Segment, Rows, CsvBatch, readonly GroupRanges[]> {
  private readonly files: OpenFiles;
  private readonly grouped: GroupFiles;

  constructor(private readonly opts: CsvFilesOptions) {
    if (!path.isAbsolute(opts.folder)) throw new RangeError('folder must be an absolute path');
    this.files = new OpenFiles({
      folder: opts.folder,
      fsync: opts.fsync,
      maxOpenFiles: opts.maxOpenFiles,
      owed: (name, fh, st) => this.grouped.owed(name, fh, st),
      repaired: (file, droppedBytes) => opts.onEvent?.({ kind: 'repaired', file, droppedBytes }),
    });
    this.grouped = new GroupFiles(this.files, {
      fsync: opts.fsync,
      groupCommit: opts.groupCommit,
      cutFailed: (file, error, group) => opts.onEvent?.({ kind: 'error', file, error, attempt: 1, willRetry: true, group }),
    });
  }

  nameOf(s: Segment): string {
    return s.file;
  }

  partOf(s: Segment): Rows {
    return s.text;
  }

  encode(_name: string, { head, parts }: Parts<Segment, Rows>): CsvBatch {
    return { header: head.header, data: bytesOf(parts) };
  }

  isPermanent(err: Error): boolean {
    return PERMANENT_CODES.has((err as NodeJS.ErrnoException).code ?? '');
  }

  async write(name: string, { header, data }: CsvBatch): Promise<void> {
    const f = await this.files.fileFor(name, header);
    let buf = data;
    if (f.size === 0) buf = Buffer.concat([Buffer.from(header + '\n', 'utf8'), data]);
    try {
      await writeAll(f.fh, buf);
      if (this.opts.fsync) await f.fh.datasync();
    } catch (e) {
      // Roll back a partial write so that a retry does not leave half a row in the middle of the file;
      // if even that fails, the reopen's torn-record repair cuts it off.
      await f.fh.truncate(f.size).catch(() => undefined);
      await this.files.closeFile(f, false);
      throw e;
    }
    f.size += buf.length;
    if (f.syncDir) {
      f.syncDir = false;
      await syncFolder(path.dirname(f.full));
    }
  }

  /** One flush's groups (see group-files.ts). */
  groups(groups: ReadonlyMap<string, FlushGroup<Segment, Rows>>): GroupWrite<readonly GroupRanges[]> {
    return this.grouped.write(groups);
  }

  async close(abandon: boolean): Promise<void> {
    // Closing a handle waits for its pending operation: when abandoning, do not wait for it here.
    await this.files.closeAll(abandon);
  }
}
