/**
 * CSV layouts of `csv sink` (CONTRACT §8): the column presets, their columns and headers, and how one
 * item (a reading, a window result, an alert, a reject row, or any object) becomes one CSV line and
 * which of its times dates its file. Framework-free and pure.
 */
import { SENSOR_FIELDS } from './sensor-fields';
import { toEpochMs } from './time';
import type { Reading } from './types';
import { cell, headerLine, textCell, utcSeconds } from './csv-cells';
import { UtcTexts, utcSource, withUtcColumns } from './csv-utc';
import type { CsvBytes } from './csv-bytes';
import { REJECT_COLUMNS } from './csv-rejects';
import { sensorCells, writeSensorCells } from './csv-sensors';
import { DEFAULT_AGGREGATES, WINDOW_COUNTS } from './panes';

/** The column presets of `csv sink`. */
export type CsvPreset = 'readings' | 'windows' | 'alerts' | 'rejects' | 'custom';
export const CSV_PRESETS: readonly CsvPreset[] = ['readings', 'windows', 'alerts', 'rejects', 'custom'];

/**
 * Header of the historical readings file, exactly as CONTRACT §8: the Kaggle headers of the sensor
 * fields (in the data file's order) between `UTC` and `device_id`.
 */
export const READINGS_HEADER: readonly string[] = ['UTC', ...SENSOR_FIELDS.map((f) => f.header), 'device_id'];

/** Window result keys (CONTRACT §5), in the contract's order. */
export const WINDOW_KEYS = ['deviceId', 'windowStart', 'windowEnd', ...WINDOW_COUNTS, ...DEFAULT_AGGREGATES, 'final'] as const;

/** The times of a window result, each written twice: epoch ms (its key) and readable UTC (`<key>Utc`). */
const WINDOW_TIMES: readonly string[] = ['windowStart', 'windowEnd'];

/**
 * Columns of the windows file: the window result keys ({@link WINDOW_KEYS}), each time followed by its
 * readable UTC column (`deviceId, windowStart, windowStartUtc, windowEnd, windowEndUtc, count, …`).
 */
export const WINDOW_COLUMNS: readonly string[] = withUtcColumns(WINDOW_KEYS, WINDOW_TIMES);

/**
 * Columns of the `windows` preset for a file of `item`'s kind (the first window result a sink gets): the
 * contract's {@link WINDOW_COLUMNS} when it has exactly the keys {@link WINDOW_KEYS} (the window's default
 * aggregates) or is no window result (no `windowStart`); otherwise the result's own keys in its order
 * (`deviceId, windowStart, windowEnd, count, fireAlarmCount`, the aggregates configured on the window,
 * `final`), with the readable UTC columns of its times, so that configured aggregates are written
 * instead of dropped. A window emits the same keys for every result, so the first one decides for the
 * node's lifetime.
 */
export function windowColumnsOf(item: unknown): readonly string[] {
  if (item === null || typeof item !== 'object' || Array.isArray(item) || !Object.prototype.hasOwnProperty.call(item, 'windowStart')) return WINDOW_COLUMNS;
  const keys = Object.keys(item);
  const same = keys.length === WINDOW_KEYS.length && keys.every((k) => (WINDOW_KEYS as readonly string[]).includes(k));
  return same ? WINDOW_COLUMNS : withUtcColumns(keys, WINDOW_TIMES);
}

/**
 * Columns of the alerts file: the alert keys (CONTRACT §4), `timestampUtc`, the readable UTC form of `timestamp`,
 * then `cleared` and `details` (JSON text); `indicators` is written as one cell, joined with `;`.
 */
export const ALERT_COLUMNS = [
  'type',
  'severity',
  'sensor',
  'value',
  'threshold',
  'message',
  'deviceId',
  'timestamp',
  'timestampUtc',
  'zScore',
  'indicators',
  'cleared',
  'details',
] as const;

/** How one item becomes one CSV line, and which time decides its file. */
export interface CsvLayout {
  readonly preset: CsvPreset;
  readonly columns: readonly string[];
  /** The header line (no line terminator). */
  readonly header: string;
  /** One CSV line for the item (an object), without line terminator. */
  line(item: object): string;
  /**
   * Optional fast path: append exactly `line(item)` and `\n`, as UTF-8, to `out`. A layout that has it
   * is formatted by {@link CsvFormatter} without a string per row.
   */
  writeRow?(item: object, out: CsvBytes): void;
  /** Event time of the item (epoch ms) that dates its file, or NaN when it has none. */
  eventTime(item: object): number;
}

function hasOwn(item: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(item, key);
}

function numberTime(v: unknown): number {
  return typeof v === 'number' ? v : NaN;
}

const ID_CACHE_MAX = 10_000;

class ReadingsLayout implements CsvLayout {
  readonly preset = 'readings' as const;
  readonly columns = READINGS_HEADER;
  readonly header = headerLine(READINGS_HEADER);
  // Device ids repeat reading after reading: quoting and neutralising each once saves most of a row's
  // text work. Bounded: cleared when it grows past ID_CACHE_MAX distinct ids.
  private readonly idCells = new Map<string, string>();

  private idCell(id: unknown): string {
    if (typeof id !== 'string') return cell(id);
    let c = this.idCells.get(id);
    if (c === undefined) {
      if (this.idCells.size >= ID_CACHE_MAX) this.idCells.clear();
      c = textCell(id);
      this.idCells.set(id, c);
    }
    return c;
  }

  line(item: object): string {
    const r = item as Reading;
    return (
      utcSeconds(r.timestamp) +
      ',' +
      sensorCells(r) +
      this.idCell(r.deviceId)
    );
  }

  /** `line(item)` and `\n`, as bytes (the same text: a unit test holds them equal). */
  writeRow(item: object, out: CsvBytes): void {
    const r = item as Reading;
    const t = r.timestamp;
    if (typeof t === 'number' && t - t === 0) out.numberThen(t / 1000, 44);
    else {
      out.text(utcSeconds(t));
      out.byte(44);
    }
    writeSensorCells(r, out);
    out.text(this.idCell(r.deviceId));
    out.byte(10);
  }

  eventTime(item: object): number {
    return numberTime((item as Reading).timestamp);
  }
}

/**
 * A layout of named keys as columns. A column named `<key>Utc` that the item has no own key for shows
 * `<key>`'s time in the readable UTC form (csv-utc.ts): `windowStartUtc`, `timestampUtc`, and any such
 * column of the custom preset.
 */
class KeyLayout implements CsvLayout {
  readonly header: string;
  /** Per column: the key whose time it shows when the item has no key of the column's name, else null. */
  private readonly utcOf: readonly (string | null)[];
  /** Readable times, cached by second: window bounds repeat for every device, alerts come in bursts. */
  private readonly utc = new UtcTexts();

  constructor(
    readonly preset: CsvPreset,
    readonly columns: readonly string[],
    private readonly timeKey: string | null,
  ) {
    this.header = headerLine(columns);
    this.utcOf = columns.map(utcSource);
  }

  line(item: object): string {
    const n = this.columns.length;
    const it = item as Record<string, unknown>;
    let line = this.value(it, 0);
    for (let i = 1; i < n; i++) line += ',' + this.value(it, i);
    return line === '' ? '""' : line;
  }

  /** The cell of column `i`. */
  protected value(item: Record<string, unknown>, i: number): string {
    const key = this.columns[i];
    if (hasOwn(item, key)) return cell(item[key]);
    const time = this.utcOf[i];
    return time === null || !hasOwn(item, time) ? '' : this.utc.text(item[time]);
  }

  eventTime(item: object): number {
    return this.timeKey === null ? NaN : toEpochMs((item as Record<string, unknown>)[this.timeKey]);
  }
}

class AlertsLayout extends KeyLayout {
  constructor() {
    super('alerts', ALERT_COLUMNS, 'timestamp');
  }

  private readonly indicators = ALERT_COLUMNS.indexOf('indicators');

  protected override value(item: Record<string, unknown>, i: number): string {
    if (i === this.indicators) {
      const v = item.indicators;
      if (Array.isArray(v)) return textCell(v.join(';'));
    }
    return super.value(item, i);
  }
}

/**
 * The layout of a preset. `custom` needs `columns` (configured, or the first message's keys); its
 * event time is the item's `timeKey` (epoch ms number, ISO-8601 text or Date). `windows` takes
 * `columns` when given (see {@link windowColumnsOf}), else {@link WINDOW_COLUMNS}; other presets ignore them.
 */
export function layoutFor(preset: CsvPreset, columns: readonly string[] = [], timeKey = 'timestamp'): CsvLayout {
  switch (preset) {
    case 'readings':
      return new ReadingsLayout();
    case 'windows':
      return new KeyLayout('windows', columns.length > 0 ? columns : WINDOW_COLUMNS, 'windowStart');
    case 'alerts':
      return new AlertsLayout();
    case 'rejects':
      return new KeyLayout('rejects', REJECT_COLUMNS, null);
    case 'custom':
      if (columns.length === 0) throw new RangeError('a custom layout needs at least one column');
      return new KeyLayout('custom', columns, timeKey === '' ? null : timeKey);
  }
}

/** Parse a configured column list: comma-separated text or a JSON array of names. Empty → []. */
export function parseColumns(v: unknown): string[] | null {
  if (v === undefined || v === null || v === '') return [];
  let list: unknown = v;
  if (typeof v === 'string') {
    const t = v.trim();
    if (t.startsWith('[')) {
      try {
        list = JSON.parse(t);
      } catch {
        return null;
      }
    } else list = t.split(',').map((s) => s.trim());
  }
  if (!Array.isArray(list) || list.some((s) => typeof s !== 'string' || s === '')) return null;
  if (new Set(list).size !== list.length) return null;
  return list as string[];
}
