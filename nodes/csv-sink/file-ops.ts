/**
 * File-system steps of the CSV files that hold no state: append all of a buffer, sync a folder entry,
 * find the end of the last complete CSV record (the torn-row repair), and cut a file back for a crash
 * recovery (truncateTo). The files themselves are open-files.ts' (handles) and csv-file.ts' (the target).
 */
import { constants as C, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { text } from '../nr/i18n';
import { PermanentWriteError } from './sink-api';

export const EMPTY = Buffer.alloc(0);
const SCAN_CHUNK = 1 << 20;

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
    if (code === 'ELOOP') throw new PermanentWriteError(text('smoke-csv-sink.errors.symlink', { file: full }), 'ELOOP');
    throw e;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new PermanentWriteError(text('smoke-csv-sink.errors.not-a-file', { file: full }));
    if (keep.length === 0 ? st.size <= size : st.size < size) return false;
    await fh.truncate(size);
    for (let off = 0; off < keep.length; ) off += (await fh.write(keep, off, keep.length - off, size + off)).bytesWritten;
    await fh.datasync();
    return true;
  } finally {
    await fh.close().catch(() => undefined);
  }
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

/** Complete CSV lines (each ending in `\n`), as text or as their UTF-8 bytes. */
export type Rows = string | Buffer;

/** The segments' rows (their texts or bytes, in order) as one buffer: one per file and flush. */
export function bytesOf(parts: readonly Rows[]): Buffer {
  if (parts.length === 1) {
    const p = parts[0];
    return typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
  }
  let texts = 0;
  for (let i = 0; i < parts.length; i++) if (typeof parts[i] === 'string') texts++;
  if (texts === parts.length) return Buffer.from(parts.join(''), 'utf8');
  return Buffer.concat(texts === 0 ? (parts as Buffer[]) : parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
}

/** Write all of `buf` (at the end: the files are opened with O_APPEND). */
export async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  for (let off = 0; off < buf.length; ) off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
}

/**
 * Write all of `bufs`, in order, with as few calls as the system allows (writev: no buffer of their
 * sum is made and copied into, which for a flush of megabytes costs more than the write). Returns the
 * bytes written.
 */
export async function writeAllOf(fh: FileHandle, bufs: readonly Buffer[]): Promise<number> {
  if (bufs.length === 1) {
    await writeAll(fh, bufs[0]);
    return bufs[0].length;
  }
  let total = 0;
  for (const b of bufs) total += b.length;
  let rest: readonly Buffer[] = bufs;
  let left = total;
  while (left > 0) {
    let n = (await fh.writev(rest as Buffer[])).bytesWritten;
    left -= n;
    if (left === 0) break;
    // A short write (rare on a file): go on after what was written.
    let i = 0;
    while (n >= rest[i].length) n -= rest[i++].length;
    rest = [rest[i].subarray(n), ...rest.slice(i + 1)];
  }
  return total;
}

/** fsync a folder so that a new file's entry survives a power loss. Best effort (not every FS allows it). */
export async function syncFolder(dir: string): Promise<void> {
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
