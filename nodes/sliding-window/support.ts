/**
 * Message-side helpers of the sliding-window node: which time a reading is windowed by, which Kafka
 * records are redeliveries of ones already in the window state, and which context store holds the
 * checkpoint (and when a checkpoint handed to it is on disk).
 */
import * as path from 'node:path';
import { toEpochMs } from '../lib/time';
import { taskKey } from '../lib/changelog';
import { text } from '../nr/i18n';

/**
 * The unit of a bare-number `idleTimeout` (and of every other bare-number duration) of the sliding
 * window, as its editor states beside the field. Text with a unit ("1 hour", "90s") means what it says.
 */
export const IDLE_TIMEOUT_UNIT = 'ms';

/** Time of a reading: its event `timestamp`, the Kafka record's timestamp, or the arrival time. */
export type TimeSource = 'event' | 'kafka' | 'arrival';

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

/**
 * The Kafka position of a message's records: topic and partition, and the offset of each item (a
 * batch from `kafka in`: `msg.kafka.offsets`, aligned with `msg.payload`; a single record:
 * `msg.kafka.offset`). Null when the message carries no such metadata, or a batch's offsets do not
 * line up with its payload.
 */
export interface KafkaPosition {
  /** `topic:partition`. */
  key: string;
  /** Per item of a batch; null for a single record. */
  offsets: readonly number[] | null;
  /** The single record's offset (NaN for a batch). */
  offset: number;
}

export function kafkaPosition(msg: Record<string, unknown>, items: number): KafkaPosition | null {
  const k = msg.kafka as Record<string, unknown> | undefined;
  if (typeof k !== 'object' || k === null || Array.isArray(k)) return null;
  if (typeof k.topic !== 'string' || typeof k.partition !== 'number') return null;
  const key = taskKey(k.topic, k.partition);
  if (items < 0) return typeof k.offset === 'number' ? { key, offsets: null, offset: k.offset } : null;
  const o = k.offsets;
  return Array.isArray(o) && o.length === items ? { key, offsets: o as number[], offset: NaN } : null;
}

/**
 * The highest Kafka offset, per topic partition, whose record the window has taken (aggregated or
 * routed late). A record at or below it is a redelivery (`kafka in` reads again from the last commit
 * after a restart, a rebalance or a consumer restart) of one the state already holds: the window skips
 * it, so it does not count twice. Saved with the window state, so that the check holds across a
 * restart. Relies on the records of one partition arriving in offset order, as `kafka in` emits them
 * and the smoke nodes keep them.
 */
export class OffsetGate {
  private readonly high = new Map<string, number>();

  /** Highest offset taken from `key` (`topic:partition`), -1 when none. */
  highest(key: string): number {
    return this.high.get(key) ?? -1;
  }

  /** Record that offsets up to `offset` of `key` were taken. */
  advance(key: string, offset: number): void {
    if (offset > (this.high.get(key) ?? -1)) this.high.set(key, offset);
  }

  clear(): void {
    this.high.clear();
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries(this.high);
  }

  /** Replace the state by a saved one (a malformed entry is ignored). */
  restore(saved: unknown): void {
    this.high.clear();
    if (typeof saved !== 'object' || saved === null) return;
    for (const [k, v] of Object.entries(saved)) if (Number.isInteger(v) && (v as number) >= 0) this.high.set(k, v as number);
  }
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
  /**
   * A write-behind store: Node-RED's `localfilesystem` with its cache on (its default). `set` then only
   * updates memory, and the store writes every changed context to disk at most `flushMs` later. `dir`
   * is the folder of its files (`<dir>/<flow id>/<node id>.json`), undefined when it cannot be known.
   * Null for a store whose `set` callback comes once the value is stored (localfilesystem with
   * `cache: false`, and, by assumption, other persistent modules).
   */
  writeBehind: { flushMs: number; dir: string | undefined } | null;
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
    const known = names.length ? names.join(', ') : text('smoke-sliding-window.config.no-stores');
    return {
      name: undefined,
      configured: names.length > 0,
      persistent: false,
      writeBehind: null,
      problems: [text('smoke-sliding-window.config.no-store', { store: wanted, stores: known })],
    };
  }
  let key: string | undefined = wanted === '' ? 'default' : wanted;
  let entry = stores[key];
  if (typeof entry === 'string') {
    key = entry;
    entry = stores[entry];
  }
  if (entry === undefined && key === 'default' && names.length > 0) entry = stores[names[0]];
  const module = entry && typeof entry === 'object' ? (entry as { module?: unknown }).module : undefined;
  const config = (entry && typeof entry === 'object' ? (entry as { config?: unknown }).config : undefined) as Record<string, unknown> | undefined;
  return {
    name: wanted === '' ? undefined : wanted,
    configured: names.length > 0,
    persistent: module !== undefined && module !== 'memory',
    writeBehind: module === 'localfilesystem' ? localFileWriteBehind(config ?? {}, settings.userDir) : null,
    problems: [],
  };
}

/** localfilesystem's cache and folder, as @node-red/runtime/lib/nodes/context/localfilesystem.js reads its config. */
function localFileWriteBehind(config: Record<string, unknown>, userDir: unknown): CheckpointStore['writeBehind'] {
  if (config.cache === false) return null;
  const interval = typeof config.flushInterval === 'number' ? Math.max(0, config.flushInterval) : 30;
  const base = typeof config.base === 'string' && config.base !== '' ? config.base : 'context';
  const root = typeof config.dir === 'string' && config.dir !== '' ? config.dir : typeof userDir === 'string' && userDir !== '' ? userDir : undefined;
  return { flushMs: interval * 1000, dir: root === undefined ? undefined : path.join(root, base) };
}

/** The file of a node's context in a localfilesystem folder: as Node-RED names it (`<flow>/<node>.json`). */
export function nodeContextFile(dir: string | undefined, node: { id: string; z?: string; _alias?: string }): string | undefined {
  if (dir === undefined || typeof node.z !== 'string' || node.z === '') return undefined;
  return path.join(dir, node.z, `${node._alias ?? node.id}.json`);
}
