/**
 * Message-side helpers of the sliding-window node: which time a reading is windowed by, and which
 * context store holds the checkpoint.
 */

/** Time of a reading: its event `timestamp`, the Kafka record's timestamp, or the arrival time. */
export type TimeSource = 'event' | 'kafka' | 'arrival';

/** Epoch ms from a number, a numeric string, an ISO-8601 string or a Date; NaN when none of those. */
export function toEpochMs(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const n = Number(v);
    return v.trim() !== '' && Number.isFinite(n) ? n : Date.parse(v);
  }
  if (v instanceof Date) return v.getTime();
  return NaN;
}

/**
 * The Kafka timestamp of item `i` of a message (`i = -1`: a single reading). `kafka in` puts the record
 * metadata in `msg.kafka`; for a batch it may be one object per record (`msg.kafka` an array, or
 * `msg.kafka.records`) or the batch's own metadata (then every record gets `msg.kafka.timestamp`).
 */
export function kafkaTime(msg: Record<string, unknown>, i: number): number {
  const k = msg.kafka as Record<string, unknown> | unknown[] | undefined;
  if (k === undefined || k === null || typeof k !== 'object') return NaN;
  if (Array.isArray(k)) return i >= 0 ? toEpochMs((k[i] as Record<string, unknown> | undefined)?.timestamp) : NaN;
  if (i >= 0 && Array.isArray(k.records)) return toEpochMs((k.records[i] as Record<string, unknown> | undefined)?.timestamp);
  if (i >= 0 && Array.isArray(k.timestamps)) return toEpochMs(k.timestamps[i]);
  return toEpochMs(k.timestamp);
}

/**
 * The time a reading is windowed by. Kafka time falls back to the reading's own timestamp when the
 * message carries no Kafka metadata (e.g. readings from `sensor sim`).
 */
export function readingTime(source: TimeSource, r: Record<string, unknown>, msg: Record<string, unknown>, i: number, now: number): number {
  if (source === 'arrival') return now;
  const ts = r.timestamp;
  if (source === 'event') return typeof ts === 'number' ? ts : toEpochMs(ts);
  const kt = kafkaTime(msg, i);
  return Number.isFinite(kt) ? kt : toEpochMs(ts);
}

export interface CheckpointStore {
  /** Store name for `context.get/set` (undefined: the default store). */
  name: string | undefined;
  /**
   * Whether settings.js configures context stores at all. Without any, Node-RED deletes a node's
   * context whenever the node stops (a redeploy included), so the context cannot carry a checkpoint.
   */
  configured: boolean;
  /** Whether the store outlives the process (anything but Node-RED's `memory` module). */
  persistent: boolean;
  problems: string[];
}

/**
 * Resolve the context store named in the node (empty: the default store) against
 * `settings.contextStorage`, following Node-RED's rules: the `default` entry, which may name another
 * store, else the first store listed; no `contextStorage` at all means memory only.
 */
export function checkpointStore(settings: Record<string, unknown>, name: string): CheckpointStore {
  const cs = settings.contextStorage as Record<string, unknown> | undefined;
  const stores = cs && typeof cs === 'object' ? cs : {};
  const names = Object.keys(stores);
  const wanted = name.trim();
  if (wanted !== '' && wanted !== 'default' && !(wanted in stores)) {
    const known = names.length ? names.join(', ') : 'none: settings.js has no contextStorage';
    return { name: undefined, configured: names.length > 0, persistent: false, problems: [`context store "${wanted}" is not configured (stores: ${known})`] };
  }
  let key: string | undefined = wanted === '' ? 'default' : wanted;
  let entry = stores[key];
  if (typeof entry === 'string') {
    key = entry;
    entry = stores[entry];
  }
  if (entry === undefined && key === 'default' && names.length > 0) entry = stores[names[0]];
  const module = entry && typeof entry === 'object' ? (entry as { module?: unknown }).module : undefined;
  return {
    name: wanted === '' ? undefined : wanted,
    configured: names.length > 0,
    persistent: module !== undefined && module !== 'memory',
    problems: [],
  };
}
