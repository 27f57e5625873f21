/**
 * The options of the sliding windows (CONTRACT §5) and their checks, and the device key a window
 * result belongs to. Framework-free.
 */
import { deviceKey } from './devices';
import type { AggregateSpec, ReadingLike } from './panes';

/** `append`: final results only (Spark's append mode). `update`: also a provisional result per window. */
export type OutputMode = 'append' | 'update';

export interface SlidingWindowOptions {
  /** Window length in ms (> 0, a multiple of `slideMs`). */
  sizeMs: number;
  /** Distance between window starts in ms (a whole number > 0). */
  slideMs: number;
  /** Watermark delay in ms (>= 0): how far behind the highest event time a reading may still arrive. */
  delayMs: number;
  /** Result columns; default: the contract's set ({@link DEFAULT_AGGREGATES}). */
  aggregates?: readonly AggregateSpec[];
  mode?: OutputMode;
  /**
   * Time is arrival time: it never goes backwards, so nothing is late and the delay is not applied;
   * windows close when time (a reading's, or {@link SlidingWindows.advance}'s) reaches their end.
   */
  arrival?: boolean;
  /** Most devices kept; the least recently seen is evicted (its open windows emitted first). 0 = no bound. Default 10,000 (as the detectors). */
  maxDevices?: number;
  /** A device without a reading for this long (processing time, ms) is evicted by `sweep`. 0 = never. */
  idleMs?: number;
}

/** Problems with a set of options (empty when usable). */
export function windowOptionProblems(o: SlidingWindowOptions): string[] {
  const p: string[] = [];
  if (!Number.isInteger(o.slideMs) || o.slideMs <= 0) p.push(`slide must be a whole number of ms > 0 (got ${o.slideMs})`);
  if (!Number.isFinite(o.sizeMs) || o.sizeMs <= 0) p.push(`window size must be > 0 (got ${o.sizeMs})`);
  else if (o.slideMs > 0 && o.sizeMs % o.slideMs !== 0) p.push(`window size (${o.sizeMs} ms) must be a multiple of the slide (${o.slideMs} ms)`);
  if (!Number.isFinite(o.delayMs) || o.delayMs < 0) p.push(`watermark delay must be >= 0 (got ${o.delayMs})`);
  if (o.maxDevices !== undefined && (!Number.isInteger(o.maxDevices) || o.maxDevices < 0)) p.push(`max devices must be a whole number >= 0`);
  if (o.idleMs !== undefined && (!Number.isFinite(o.idleMs) || o.idleMs < 0)) p.push(`idle timeout must be >= 0`);
  if (o.aggregates !== undefined && o.aggregates.length === 0) p.push('the aggregate list is empty');
  return p;
}

/** The device key of a reading, by the rule every node shares ({@link deviceKey}: `42` is `"42"`, none is `"default"`). */
export function deviceIdOf(r: ReadingLike): string {
  return deviceKey(r.deviceId);
}

