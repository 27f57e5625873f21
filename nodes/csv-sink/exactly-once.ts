/**
 * Exactly-once CSV behind `kafka in` (model: Flink's TwoPhaseCommitSinkFunction and Spark's file sink
 * log): what a csv sink has written of each source partition is a position per origin in its changelog
 * (nodes/nr/sink-positions.ts); this module is the file side: the journal and crash recovery.
 *
 * Two phases per partition and flush (the writer, csv-file.ts GroupCommit): the file sizes before the rows
 * are journaled (fsynced, renamed into place), the rows appended and fsynced, then the new positions are
 * committed to the changelog in the partition's transaction; only then are the records acknowledged
 * (`after-sink` commits). A zombie's transaction is fenced: its rows are cut off again at once. A crash
 * between the phases leaves the journal: on the next start the sink reads the partition's committed
 * state from the changelog and keeps the rows (committed) or cuts them off (not committed; the owner
 * of the partition writes them again). Whether that one commit landed is told by the writer's own entry
 * in the state (each sink instance has a random writer id and numbers its commits): positions alone
 * cannot tell, since the partition's next owner may have written the same rows and committed past them.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseSinkState, type Positions, type SinkState } from '../nr/sink-positions';
import { truncateTo } from './writer';

/** One partition's rows in the flush a journal announces. */
export interface JournalGroup {
  tp: string;
  partition: number;
  /** The task's epoch the rows were taken in under (of a partition's groups, only the newest can land). */
  epoch: number;
  /** The number of this commit of the writer (landed when the partition's state has `commits[writer] >= seq`). */
  seq: number;
  /** Positions the rows reach. */
  positions: Positions;
  /** File name (relative to the folder) → `[start, end)` of the rows. */
  ranges: Record<string, [number, number]>;
}

/** A cut to redo (see csv-file.ts TailCut): the file's first `at` bytes, then `keep` (base64). */
export interface JournalCut {
  file: string;
  at: number;
  keep: string;
}

/**
 * What a sink journals before a flush's rows are appended (phase one), or, once the flush's aborted rows
 * are to be cut out from under committed ones, the cuts (which replace the groups: see planCuts).
 */
export interface Journal {
  writer: string;
  groups: JournalGroup[];
  cuts?: JournalCut[];
}

/**
 * The cuts that leave in the files exactly the rows of a crashed flush's groups that landed. A partition's
 * group landed when its state (`states`, read from the changelog) records this writer's commit `seq` or a
 * later one; of several groups of one partition (an assignment ended during the flush) only the newest
 * epoch can have: the others were aborted unwritten to the changelog. Per file, the cut is at the first
 * range that did not land; `keep` lists the ranges after it that did, to be read from the file (when a
 * group landed, every row of the flush had been fsynced before its commit). When none landed, the rows may
 * be torn: every file is cut at its first range.
 */
export function planCuts(j: Journal, states: ReadonlyMap<string, SinkState>): { file: string; at: number; keep: [number, number][] }[] {
  const newest = new Map<string, number>();
  for (const g of j.groups) newest.set(g.tp, Math.max(newest.get(g.tp) ?? -Infinity, g.epoch));
  const landed = (g: JournalGroup): boolean => g.epoch === newest.get(g.tp) && (states.get(g.tp)?.commits[j.writer] ?? 0) >= g.seq;
  const byFile = new Map<string, { range: [number, number]; landed: boolean }[]>();
  for (const g of j.groups) {
    const ok = landed(g);
    for (const [file, range] of Object.entries(g.ranges)) {
      let list = byFile.get(file);
      if (list === undefined) byFile.set(file, (list = []));
      list.push({ range, landed: ok });
    }
  }
  const out: { file: string; at: number; keep: [number, number][] }[] = [];
  for (const [file, list] of byFile) {
    list.sort((a, b) => a.range[0] - b.range[0]);
    const first = list.findIndex((r) => !r.landed);
    if (first < 0) continue;
    out.push({ file, at: list[first].range[0], keep: list.slice(first + 1).filter((r) => r.landed).map((r) => r.range) });
  }
  return out;
}

/**
 * Crash recovery of a sink's files from its journal: the rows of groups whose commit did not land are
 * cut out (planCuts; `stateOf` reads a partition's committed state), journaled first as cuts when
 * committed rows move, so that a crash during recovery redoes the same; a journal of cuts is redone.
 * Clears the journal. Returns the files changed and the partitions of the crashed flush.
 */
export async function recoverFiles(
  folder: string,
  journal: JournalFile,
  stateOf: (tp: string, partition: number) => Promise<SinkState>,
): Promise<{ files: number; tps: string[] }> {
  const j = await journal.read();
  if (j === null) return { files: 0, tps: [] };
  let cuts = j.cuts;
  if (cuts === undefined) {
    const states = new Map<string, SinkState>();
    const tps = new Map(j.groups.map((g) => [g.tp, g.partition]));
    await Promise.all([...tps].map(async ([tp, partition]) => states.set(tp, await stateOf(tp, partition))));
    cuts = [];
    for (const c of planCuts(j, states)) cuts.push({ file: c.file, at: c.at, keep: (await readRanges(path.resolve(folder, c.file), c.keep)).toString('base64') });
    if (cuts.some((c) => c.keep.length > 0)) await journal.write({ writer: j.writer, groups: [], cuts }, true);
  }
  let files = 0;
  for (const c of cuts) if (await truncateTo(path.resolve(folder, c.file), c.at, Buffer.from(c.keep, 'base64'))) files++;
  await journal.clear(true);
  return { files, tps: [...new Set(j.groups.map((g) => g.tp))] };
}

/** The bytes of `ranges` of the file at `full`, concatenated (a range past its end is an error). */
export async function readRanges(full: string, ranges: readonly [number, number][]): Promise<Buffer> {
  if (ranges.length === 0) return Buffer.alloc(0);
  const fh = await fs.promises.open(full, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0));
  try {
    const out = Buffer.allocUnsafe(ranges.reduce((n, [a, b]) => n + b - a, 0));
    let at = 0;
    for (const [start, end] of ranges) {
      for (let pos = start; pos < end; ) {
        const { bytesRead } = await fh.read(out, at, end - pos, pos);
        if (bytesRead === 0) throw new Error(`${full} ends at ${pos}, before the rows it should hold (to ${end})`);
        pos += bytesRead;
        at += bytesRead;
      }
    }
    return out;
  } finally {
    await fh.close();
  }
}

/** The journal of a sink node in its folder. */
export function journalPath(folder: string, nodeId: string): string {
  return path.join(folder, `.smoke-csv-${nodeId.replace(/[^a-zA-Z0-9._-]/g, '_')}.journal`);
}

const isRange = (r: unknown): r is [number, number] => Array.isArray(r) && r.length === 2 && Number.isSafeInteger(r[0]) && Number.isSafeInteger(r[1]) && r[0] >= 0 && r[1] >= r[0];

/** The journal in `text` (see JournalFile), or null when it holds none, or a torn or foreign one. */
export function parseJournal(text: string): Journal | null {
  const nl = text.indexOf('\n');
  if (nl < 0) return null;
  const json = text.slice(0, nl);
  if (text.slice(nl + 1, nl + 41) !== createHash('sha1').update(json).digest('hex')) return null;
  let v: Journal;
  try {
    v = JSON.parse(json) as Journal;
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || typeof v.writer !== 'string' || !Array.isArray(v.groups)) return null;
  for (const g of v.groups) {
    if (typeof g.tp !== 'string' || !Number.isInteger(g.partition) || !Number.isInteger(g.epoch) || !Number.isInteger(g.seq)) return null;
    if (typeof g.ranges !== 'object' || g.ranges === null || !Object.values(g.ranges).every(isRange)) return null;
  }
  if (v.cuts !== undefined && !(Array.isArray(v.cuts) && v.cuts.every((c) => typeof c.file === 'string' && Number.isSafeInteger(c.at) && c.at >= 0 && typeof c.keep === 'string'))) return null;
  return v;
}

const BLOCK = 4096;
const OPEN_JOURNAL = fs.constants.O_RDWR | fs.constants.O_CREAT | (fs.constants.O_NOFOLLOW ?? 0);

/**
 * A sink's journal file. Its content is `<journal JSON>\n<SHA-1 of it>\n`, padded with spaces to whole
 * blocks of 4 KiB, overwritten in place through a handle kept open: the file's size rarely changes, so
 * an fdatasync flushes a block or two and no file-system metadata (a truncate-and-write journal costs a
 * metadata commit each time, tens of ms on a busy disk, and a flush's commits wait for it). A crash in the
 * middle of a write leaves a mix of old and new blocks, which the checksum refuses: the journal then
 * counts as empty, which is right, since the rows it was about to announce are appended only after the
 * write resolved.
 */
export class JournalFile {
  private fh: fs.promises.FileHandle | null = null;
  private size = 0;
  /** The folder entry is known to be on disk. */
  private synced = false;

  constructor(readonly file: string) {}

  async read(): Promise<Journal | null> {
    try {
      return parseJournal(await fs.promises.readFile(this.file, 'utf8'));
    } catch {
      return null;
    }
  }

  /**
   * Write `j` durably. `atomic` (for cuts, which replace a journal still needed until they are done):
   * through a temporary file renamed over it, so that a crash leaves either journal whole.
   */
  async write(j: Journal, atomic = false): Promise<void> {
    const json = JSON.stringify(j);
    const text = `${json}\n${createHash('sha1').update(json).digest('hex')}\n`;
    if (atomic) {
      await this.close();
      const tmp = this.file + '.tmp';
      const fh = await fs.promises.open(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | (fs.constants.O_NOFOLLOW ?? 0), 0o644);
      try {
        await fh.writeFile(text, 'utf8');
        await fh.datasync();
      } finally {
        await fh.close();
      }
      await fs.promises.rename(tmp, this.file);
      await this.syncFolder();
      return;
    }
    await this.put(text, true);
  }

  /** Empty it (`durable`: synced, when a journal left over would do harm; see GroupCommit.settled). */
  async clear(durable: boolean): Promise<void> {
    if (this.fh === null && !(await fs.promises.stat(this.file).then(() => true, () => false))) return;
    await this.put('', durable);
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    await fh?.close().catch(() => undefined);
  }

  private async put(text: string, durable: boolean): Promise<void> {
    if (this.fh === null) {
      this.fh = await fs.promises.open(this.file, OPEN_JOURNAL, 0o644);
      this.size = (await this.fh.stat()).size;
    }
    const need = Math.max(BLOCK, Math.ceil(Buffer.byteLength(text) / BLOCK) * BLOCK);
    const buf = Buffer.alloc(Math.max(need, this.size), 0x20);
    buf.write(text, 0, 'utf8');
    try {
      for (let off = 0; off < buf.length; ) off += (await this.fh.write(buf, off, buf.length - off, off)).bytesWritten;
      this.size = buf.length;
      if (durable) await this.fh.datasync();
    } catch (e) {
      await this.close();
      throw e;
    }
    if (!this.synced) await this.syncFolder();
  }

  private async syncFolder(): Promise<void> {
    const dir = await fs.promises.open(path.dirname(this.file), 'r').catch(() => null);
    if (dir) {
      await dir.sync().catch(() => undefined);
      await dir.close().catch(() => undefined);
    }
    this.synced = true;
  }
}
