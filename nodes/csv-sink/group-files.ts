/**
 * The group commit side of the CSV files (the sink queue's GroupWrite, see ./sink-queue.ts): a group's
 * rows are one contiguous range per file (groups in order of their first pending job), placed after the
 * file's end and given to `prepare` before they are written; a failed try is undone (each file cut back);
 * the rows of a group that aborts are cut out of its files: a file whose aborted rows are its tail is cut
 * back; one where committed rows follow them is cut at the first aborted range and the committed rows
 * after it are appended again, after `rewrite(cuts)` journaled that, so a crash in the middle can finish
 * the cut (see TailCut). A cut that fails is owed: done before the file is next written (on its open).
 * The byte arithmetic is lib/csv-cuts.ts'; the handles are open-files.ts'.
 */
import * as path from 'node:path';
import type { FileHandle } from 'node:fs/promises';
import { cutOf, groupRanges, placeRows, type GroupRanges, type PlacedRows, type TailCut } from '../lib/csv-cuts';
import { EMPTY, bytesOf, syncFolder, writeAll, writeAllOf, type Rows } from './file-ops';
import type { OpenFile, OpenFiles } from './open-files';
import { asError, type FlushGroup, type GroupWrite, type SinkCommit } from './sink-api';

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

/** What the group writes need besides the handles. */
export interface GroupFilesOptions {
  fsync: boolean;
  groupCommit?: GroupCommit;
  /** A cut of aborted rows (or its journaling) failed: it is owed. */
  cutFailed(file: string, error: Error, group: string): void;
}

/** Rows for one file, as the sink queue keeps them: only the header is read here. */
interface HeadSegment {
  header: string;
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
  name: string;
  before: number;
  parts: PlacedRows[];
}

export class GroupFiles {
  /** Cut-backs of aborted groups that failed, per file name: done when the file is opened next. */
  private readonly owedCuts = new Map<string, OwedCut>();

  constructor(
    private readonly files: OpenFiles,
    private readonly opts: GroupFilesOptions,
  ) {}

  /**
   * One flush's groups: per attempt, open the files (cuts owed by an earlier flush first), place each
   * group's rows after the file's end, write them and fdatasync; undo cuts back what the attempt wrote.
   */
  write<S extends HeadSegment>(groups: ReadonlyMap<string, FlushGroup<S, Rows>>): GroupWrite<readonly GroupRanges[]> {
    const handles = this.files;
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
        for (const [name, o] of [...this.owedCuts]) if (!plan.has(name)) await handles.fileFor(name, o.header);
        for (; at < names.length; at++) {
          const { header, parts } = plan.get(names[at])!;
          const f = await handles.fileFor(names[at], header);
          handles.pinned.add(f);
          files.push({ f, name: f.name, before: f.size, parts: placeRows(f.size, header, parts) });
        }
        return groupRanges(groups, files);
      },
      write: async () => {
        for (at = 0; at < files.length; at++) {
          const { f, parts } = files[at];
          const bufs = parts.map((p) => p.buf);
          if (f.size === 0) bufs.unshift(Buffer.from(plan.get(f.name)!.header + '\n', 'utf8'));
          written = at + 1;
          f.size += await writeAllOf(f.fh, bufs);
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
          await handles.closeFile(files[i].f, false);
        }
        // The file whose open or write failed, unless it was written (then cut above); after a failed
        // prepare `at` is past the last file.
        if (at < names.length && written <= at) await handles.closeIfOpen(names[at]);
        handles.pinned.clear();
      },
      failed: () => names[at],
      cut: (failed) => this.cutAborted(files, failed),
      end: async () => {
        handles.pinned.clear();
        await handles.trimOpenFiles();
        return this.owedCuts.size > 0;
      },
    };
  }

  /**
   * A file is being opened (OpenFilesOptions.owed): an aborted group's rows whose cut failed are cut
   * now (the same file only). Returns the file's size after, or undefined when no cut was owed.
   */
  async owed(name: string, fh: FileHandle, st: { dev: number; ino: number; size: number }): Promise<number | undefined> {
    const owed = this.owedCuts.get(name);
    if (owed === undefined) return undefined;
    let size = st.size;
    if (owed.dev === st.dev && owed.ino === st.ino && size > owed.at) {
      if (!owed.journaled) await this.journalOwedCuts();
      await fh.truncate(owed.at);
      if (owed.keep.length > 0) await writeAll(fh, owed.keep);
      if (this.opts.fsync) await fh.datasync();
      size = owed.at + owed.keep.length;
    }
    this.owedCuts.delete(name);
    return size;
  }

  /**
   * Cut the rows of the `failed` groups out of their files (see TailCut): journaled first through
   * `rewrite` when committed rows move. A cut that fails is owed (done before the file's next write).
   */
  private async cutAborted(files: GroupFile[], failed: ReadonlySet<string>): Promise<void> {
    const gc = this.opts.groupCommit as GroupCommit;
    const cuts: { f: OpenFile; cut: TailCut }[] = [];
    for (const { f, before, parts } of files) {
      const c = cutOf(parts, before, failed);
      if (c !== null) cuts.push({ f, cut: { file: f.name, at: c.at, keep: c.keep } });
    }
    const group = [...failed].join(', ');
    let journaled = true;
    if (cuts.some((c) => c.cut.keep.length > 0)) {
      try {
        await gc.rewrite(cuts.map((c) => c.cut));
      } catch (e) {
        journaled = false;
        this.opts.cutFailed(cuts.map((c) => c.f.name).join(', '), asError(e), group);
      }
    }
    for (const { f, cut } of cuts) {
      if (!journaled) {
        this.owedCuts.set(f.name, { header: f.header, dev: f.dev, ino: f.ino, at: cut.at, keep: cut.keep, journaled: cut.keep.length === 0 });
        await this.files.closeFile(f, false);
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
      if (report) this.opts.cutFailed(f.name, asError(e), group as string);
      await this.files.closeFile(f, false);
    }
  }

  /** Journal the owed cuts that move committed rows (see GroupCommit.rewrite), all in one. */
  private async journalOwedCuts(): Promise<void> {
    const owed = [...this.owedCuts];
    await (this.opts.groupCommit as GroupCommit).rewrite(owed.map(([file, o]) => ({ file, at: o.at, keep: o.keep })));
    for (const [, o] of owed) o.journaled = true;
  }
}
