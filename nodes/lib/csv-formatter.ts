/**
 * A batch of items formatted into CSV text per UTC day (CONTRACT §8): each item dated by its event
 * time or by the processing time (a parameter), the days' lines through a layout, each day one chunk.
 * Framework-free and pure: no I/O, no clock.
 */
import { CsvBytes } from './csv-bytes';
import { MS_PER_DAY, dayDate, utcDay } from './csv-files';
import type { CsvLayout } from './csv-layouts';

/** Rows of one UTC day of a batch: the text to append (lines each ending in `\n`) and their count. */
export interface DayChunk {
  /** UTC day number. */
  day: number;
  /** `YYYY-MM-DD`. */
  date: string;
  /** The lines, each ending in `\n`. */
  text: string;
  rows: number;
}

/** A {@link DayChunk} with its lines as UTF-8 bytes, for a file (CsvFormatter.formatBytes). */
export interface DayBytes {
  day: number;
  date: string;
  /** The lines, each ending in `\n`, as UTF-8. */
  bytes: Buffer;
  rows: number;
}

interface OpenChunk {
  day: number;
  items: object[];
}

/** An item of a batch that cannot be written (not an object). */
export class CsvRowError extends Error {
  constructor(
    message: string,
    readonly index: number,
  ) {
    super(message);
    this.name = 'CsvRowError';
  }
}

/**
 * Formats a batch into per-day chunks, in order of first appearance. Each item is dated by its event
 * time, or by `nowMs` when `byProcessingTime` is set or it has none. Throws {@link CsvRowError} (and
 * formats nothing) when an item is not an object.
 */
export class CsvFormatter {
  private readonly dates = new Map<number, string>();
  /** The byte buffer of layouts with {@link CsvLayout.writeRow}, reused batch after batch. */
  private bytes: CsvBytes | null = null;

  constructor(
    readonly layout: CsvLayout,
    private readonly byProcessingTime: boolean,
  ) {}

  /** `YYYY-MM-DD` of a day, cached (dates repeat batch after batch). */
  date(day: number): string {
    let d = this.dates.get(day);
    if (d === undefined) {
      if (this.dates.size >= 64) this.dates.clear();
      d = dayDate(day);
      this.dates.set(day, d);
    }
    return d;
  }

  format(items: readonly unknown[], nowMs: number): DayChunk[] {
    return this.chunks(items, nowMs, (day, date, its) => ({ day, date, text: this.text(its), rows: its.length }));
  }

  /** {@link format}, each day's lines as UTF-8 bytes: what a file gets, without a string in between. */
  formatBytes(items: readonly unknown[], nowMs: number): DayBytes[] {
    return this.chunks(items, nowMs, (day, date, its) => ({ day, date, bytes: this.bytesOf(its), rows: its.length }));
  }

  private chunks<C>(items: readonly unknown[], nowMs: number, chunk: (day: number, date: string, items: readonly object[]) => C): C[] {
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      if (it === null || typeof it !== 'object' || Array.isArray(it)) {
        throw new CsvRowError(`item ${i} of the payload is not an object (${it === null ? 'null' : Array.isArray(it) ? 'array' : typeof it})`, i);
      }
    }
    const nowDay = Math.floor(nowMs / MS_PER_DAY);
    if (items.length === 1) {
      // A single message's reading: one chunk, without the grouping below.
      const day = this.dayOf(items[0] as object, nowDay);
      return [chunk(day, this.date(day), items as readonly object[])];
    }
    const open: OpenChunk[] = [];
    // Batches are nearly always one day: keep the current chunk at hand, look up others only on change.
    let cur: OpenChunk | null = null;
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as object;
      const day = this.dayOf(item, nowDay);
      if (cur === null || cur.day !== day) {
        cur = null;
        for (const c of open) if (c.day === day) cur = c;
        if (cur === null) {
          cur = { day, items: [] };
          open.push(cur);
        }
      }
      cur.items.push(item);
    }
    const chunks: C[] = new Array(open.length);
    for (let i = 0; i < open.length; i++) chunks[i] = chunk(open[i].day, this.date(open[i].day), open[i].items);
    return chunks;
  }

  /** UTC day of an item: by its event time, else (or when dating by processing time) `nowDay`. */
  private dayOf(item: object, nowDay: number): number {
    if (this.byProcessingTime) return nowDay;
    const d = utcDay(this.layout.eventTime(item));
    return d === d ? d : nowDay;
  }

  /** The lines of `items`, each ending in `\n`, as one flat string. */
  private text(items: readonly object[]): string {
    return this.written(items)?.take() ?? this.lines(items);
  }

  /** The lines of `items`, each ending in `\n`, as UTF-8 bytes. */
  private bytesOf(items: readonly object[]): Buffer {
    return this.written(items)?.takeBytes() ?? Buffer.from(this.lines(items), 'utf8');
  }

  /** The byte writer with the rows of `items` in it, for a layout that has one ({@link CsvLayout.writeRow}). */
  private written(items: readonly object[]): CsvBytes | null {
    const layout = this.layout;
    if (layout.writeRow === undefined) return null;
    const out = (this.bytes ??= new CsvBytes());
    for (let i = 0; i < items.length; i++) layout.writeRow(items[i], out);
    return out;
  }

  /** The lines of a layout without a byte writer. */
  private lines(items: readonly object[]): string {
    const layout = this.layout;
    // One join gives a flat string: a line built by `+` is a tree of string pieces, and thousands of
    // those kept until the next flush would cost the garbage collector far more.
    const lines: string[] = new Array(items.length);
    for (let i = 0; i < items.length; i++) lines[i] = layout.line(items[i]);
    return lines.join('\n') + '\n';
  }
}
