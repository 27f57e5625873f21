/**
 * The file side of `csv sink`: the sink queue (./sink-queue.ts: ordered jobs, batching, retry with backoff
 * while a fault lasts, acknowledgement once durable, bounded close, the two-phase group commit) with the
 * CSV files under one folder as its target (./csv-file.ts: append + fdatasync; ./open-files.ts: safe
 * opening, header check, torn-row repair; ./group-files.ts: byte ranges and cuts of groups). This module
 * joins the two under the options and events csv-sink.ts uses, and re-exports what callers and tests
 * import from here; the guarantees are in the comments of those modules.
 */
import type { GroupRanges } from '../lib/csv-cuts';
import { CsvFiles, type CsvBatch, type FileEvent, type Segment } from './csv-file';
import type { Rows } from './file-ops';
import type { GroupCommit } from './group-files';
import { SinkQueue, type SinkEvent } from './sink-queue';

export type { GroupRanges, TailCut } from '../lib/csv-cuts';
export { lastRecordEnd, truncateTo } from './file-ops';
export type { GroupCommit } from './group-files';
export type { Segment } from './csv-file';
export { PermanentWriteError, UnwrittenError, type JobCallback } from './sink-queue';

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
  | FileEvent
  | { kind: 'recovered'; file: string }
  | { kind: 'idle' };

export const WRITER_DEFAULTS: Omit<WriterOptions, 'folder' | 'onEvent'> = {
  flushIntervalMs: 200,
  flushRows: 10_000,
  fsync: true,
  maxOpenFiles: 2,
  maxTries: Infinity,
  retryBaseMs: 200,
  maxQueuedRows: 500_000,
};

/** The queue's event with its target name as the file it is. */
function writerEvent(ev: SinkEvent): WriterEvent {
  if (ev.kind === 'idle') return ev;
  if (ev.kind === 'recovered') return { kind: 'recovered', file: ev.name };
  const { kind, name, ...rest } = ev;
  return { kind, file: name, ...rest };
}

/** A write queue that appends formatted CSV text (segments) to files under one folder; see the modules above. */
export class CsvWriter extends SinkQueue<Segment, Rows, CsvBatch, readonly GroupRanges[]> {
  constructor(options: Partial<WriterOptions> & { folder: string }) {
    const opts: WriterOptions = { ...WRITER_DEFAULTS, ...options };
    const onEvent = opts.onEvent;
    const files = new CsvFiles({ folder: opts.folder, fsync: opts.fsync, maxOpenFiles: opts.maxOpenFiles, groupCommit: opts.groupCommit, onEvent });
    super(files, {
      flushIntervalMs: opts.flushIntervalMs,
      flushRows: opts.flushRows,
      maxTries: opts.maxTries,
      retryBaseMs: opts.retryBaseMs,
      maxQueuedRows: opts.maxQueuedRows,
      label: 'CSV',
      sink: 'csv sink',
      onEvent: onEvent === undefined ? undefined : (ev) => onEvent(writerEvent(ev)),
      groupCommit: opts.groupCommit,
    });
  }
}
