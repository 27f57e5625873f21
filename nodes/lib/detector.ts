/**
 * What the three detectors (threshold, z-score, fire pattern) share: the emit modes, the per-device
 * severity memory behind `emit: change`, and the common options. Framework-free: `now` is the caller's
 * clock in epoch ms (the adapter passes arrival time), used only for the idle timeout.
 */
import { DEFAULT_MAX_DEVICES, deviceKey } from './devices';
import { KeyedState } from './keyed-state';
import { significantDigits, thousandthsText } from './number-text';
import type { Alert, AlertSeverity, AlertType, ClearedDetails, EmitMode, Reading, Severity } from './types';
import { SENSOR_KEYS } from './sensor-fields';
import { compile, prop } from './sensor-code';

/** Severity by rank; index 0 (normal) is unused. */
export const SEVERITY_BY_RANK: readonly (Severity | null)[] = [null, 'MEDIUM', 'HIGH', 'CRITICAL'];

/** Options every detector takes; the defaults are the runtime defaults. */
export interface DetectorOptions {
  /** `every` (default): one alert per offending reading; `change`: only when a device's severity changes. */
  emit?: EmitMode;
  /** Devices whose state is kept (least recently used evicted beyond it); `0` = unbounded. Default 10,000. */
  maxDevices?: number;
  /** A device unseen for longer than this (ms, by the caller's clock) is forgotten by `sweep`; `0` = never. Default 1 hour. */
  idleMs?: number;
}

export { DEFAULT_MAX_DEVICES };
export const DEFAULT_IDLE_MS = 3_600_000;

/** The interface the node adapters drive. */
export interface Detector {
  /**
   * Append the alerts that one reading raises to `out` (in sensor order) and return how many were
   * appended. Values that are null or not finite numbers are skipped. `now` is the caller's clock (ms).
   */
  process(reading: Reading, now: number, out: Alert[]): number;
  /** Forget devices idle for longer than the idle timeout at `now`; returns how many were forgotten. */
  sweep(now: number): number;
  /** Forget one device's state, or every device's when `deviceId` is omitted. */
  reset(deviceId?: string): void;
  /** Number of devices with state (always 0 for a stateless detector in `every` mode). */
  readonly devices: number;
  /**
   * The whole per-device state as a JSON-safe {@link DetectorSnapshot} (cold path: for checkpoints).
   * A detector restored from it behaves exactly as this one would from here on.
   */
  snapshot(): unknown;
  /**
   * Replace the whole state by a snapshot taken by a detector of the same shape (its `sig`), after a
   * JSON round trip or not. Returns false, leaving the state as it was, when the snapshot is malformed
   * or of another shape.
   */
  restore(s: unknown): boolean;
  /**
   * A detector that needs a history before it raises anything (z-score): how far the device scored
   * last got; null once it has enough.
   */
  warmup?(): { have: number; need: number } | null;
}

/**
 * Saved state of a detector: plain JSON (strings, numbers, arrays). `sig` names the detector and the
 * options that shape its state (a z-score detector's window size and scored sensors, the sensor slots
 * of a severity memory, the byte order of the raw arrays); a snapshot restores only into a detector
 * with the same `sig`. `devices` lists every device's state, least recently used first.
 */
export interface DetectorSnapshot {
  sig: string;
  devices: DeviceSnapshot[];
}

/**
 * One device's state: its id, the caller's time (ms) it was last used (for the idle sweep), then the
 * detector's fields; typed arrays as base64 text of their bytes in the platform's byte order.
 */
export type DeviceSnapshot = [deviceId: string, lastSeen: number, ...fields: string[]];

/** Byte order of typed arrays on this platform, part of the `sig` of snapshots holding multi-byte arrays. */
export const BYTE_ORDER: 'le' | 'be' = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 'le' : 'be';

/** Base64 text of the bytes of a typed array. */
export function toBase64(a: ArrayBufferView): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decode base64 text that must hold exactly `bytes` bytes into `target` (a typed array of that many
 * bytes); returns false, leaving `target` untouched, when the text is not such base64.
 */
export function fromBase64(text: unknown, target: ArrayBufferView): boolean {
  const bytes = target.byteLength;
  if (typeof text !== 'string' || text.length !== 4 * Math.ceil(bytes / 3) || !BASE64.test(text)) return false;
  const b = Buffer.from(text, 'base64');
  if (b.length !== bytes) return false;
  new Uint8Array(target.buffer, target.byteOffset, bytes).set(b);
  return true;
}

/**
 * The device list of a snapshot whose `sig` is `sig` and whose devices carry `fields` fields each after
 * the id and time, or undefined when it is not one (wrong shape, a device listed twice).
 */
export function snapshotDevices(s: unknown, sig: string, fields: number): DeviceSnapshot[] | undefined {
  if (typeof s !== 'object' || s === null || Array.isArray(s)) return undefined;
  const o = s as Record<string, unknown>;
  if (o.sig !== sig || !Array.isArray(o.devices)) return undefined;
  const seen = new Set<string>();
  for (const d of o.devices as unknown[]) {
    if (!Array.isArray(d) || d.length !== 2 + fields) return undefined;
    if (typeof d[0] !== 'string' || typeof d[1] !== 'number' || seen.has(d[0])) return undefined;
    seen.add(d[0]);
  }
  return o.devices as DeviceSnapshot[];
}

/** Device id of a reading, by the rule every node shares ({@link deviceKey}: `42` is `"42"`, none is `"default"`). */
export function deviceOf(r: Reading): string {
  return deviceKey(r.deviceId);
}

/** Event time of a reading, or `now` when it has none (a reading that skipped validation). */
export function timeOf(r: Reading, now: number): number {
  const t = r.timestamp;
  return typeof t === 'number' && Number.isFinite(t) ? t : now;
}

/**
 * A new alert; every detector builds its alerts here, in the key order of {@link AlertCore} (`message`
 * first). The number fields start out null and are set after: V8 then gives them their most general
 * representation from the first alert on. With an object literal per detector, the first alert fixed
 * narrow ones (`threshold: 3` a small integer, `value` a double), a later alert (a null threshold, an
 * integer value) generalised them and deprecated the map, and every alert copied from the literal's
 * boilerplate after that paid a map migration, ~1.5 µs, on its first property access: 8 % of the batch
 * pipeline's time (measured in fire pattern's alerts). A detector adds its own keys after these, then
 * its `details`, always in the same order, so each detector's alerts share one shape.
 */
export function newAlert(
  type: AlertType,
  severity: AlertSeverity,
  sensor: string,
  value: number | null,
  threshold: number | null,
  message: string,
  deviceId: string,
  timestamp: number,
): Alert {
  const a: Alert = { message, type, severity, sensor, value: null, threshold: null, deviceId, timestamp: null as unknown as number };
  a.value = value;
  a.threshold = threshold;
  a.timestamp = timestamp;
  return a;
}

/**
 * Mark `a` (made with severity `NORMAL`) as the alert that says its sensor returned to normal from the
 * severity of rank `prevRank` (`emit: change`): `cleared: true`, `details: { was }`. Details are made
 * per alert, as every part of an alert: the alert is the receiver's to change.
 */
export function markCleared(a: Alert, prevRank: number): Alert {
  a.cleared = true;
  const details: ClearedDetails = { was: SEVERITY_BY_RANK[prevRank] as Severity };
  a.details = details;
  return a;
}

/** A value as an alert's details and a window's figures carry it: the value when it is a finite number, else null. */
export function finiteOrNull(v: unknown): number | null {
  return typeof v === 'number' && v - v === 0 ? v : null;
}

/** A usable sensor value as a double: the value when it is a finite number, else NaN (null, absent, text). */
function f(v: unknown): number {
  // v - v is 0 only for finite numbers (NaN and ±Infinity give NaN).
  return typeof v === 'number' && v - v === 0 ? v : NaN;
}

/**
 * Copy a reading's sensor values into `out` (indexed as SENSOR_KEYS, the sensor table's order: the 12
 * numeric sensors first, then cnt, fireAlarm), NaN where a value is not a finite number. Compiled from
 * the table (sensor-code.ts): fixed property names keep every load monomorphic; `reading[key]` over a
 * list of keys is a megamorphic keyed load, about ten times slower on the hot path.
 */
export const readSensors = compile<(f: (v: unknown) => number) => (r: Reading, out: Float64Array) => void>(
  'detector-read-sensors',
  ['f'],
  `return function readSensors(r, out) {
${SENSOR_KEYS.map((k, i) => `  out[${i}] = f(${prop('r', k)});`).join('\n')}
};`,
)(f);

/**
 * Per-device memory of the last severity rank (0 normal … 3 CRITICAL) of each of `slots` sensors,
 * for `emit: change`. One small typed array per device; LRU-bounded and swept when idle. A device
 * that is evicted or swept is forgotten silently: its next offending reading raises a fresh alert.
 */
export class SeverityMemory {
  private readonly state: KeyedState<Uint8Array>;
  /** Shape of the state in snapshots: the owner's `shape` and the number of slots. */
  readonly sig: string;

  /** `shape` names the owner and what its slots are (e.g. the sensors), for the snapshots' `sig`. */
  constructor(
    private readonly slots: number,
    opts: DetectorOptions,
    shape = 'severity',
  ) {
    this.state = new KeyedState<Uint8Array>({ maxKeys: opts.maxDevices ?? DEFAULT_MAX_DEVICES, idleMs: opts.idleMs ?? DEFAULT_IDLE_MS });
    this.sig = `${shape} slots=${slots}`;
  }

  /** The severity ranks of a device (created all-normal), marked as used at `now`. */
  ranks(deviceId: string, now: number): Uint8Array {
    return this.state.get(deviceId, now, () => new Uint8Array(this.slots));
  }

  sweep(now: number): number {
    return this.state.sweep(now);
  }

  reset(deviceId?: string): void {
    if (deviceId === undefined) this.state.clear();
    else this.state.delete(deviceId);
  }

  get size(): number {
    return this.state.size;
  }

  /** Every device's ranks (`[deviceId, lastSeen, base64 of the ranks]`), least recently used first. */
  snapshot(): DetectorSnapshot {
    const devices: DeviceSnapshot[] = [];
    for (const [id, ranks, lastSeen] of this.state.entriesWithTime()) devices.push([id, lastSeen, toBase64(ranks)]);
    return { sig: this.sig, devices };
  }

  /** Replace every device's ranks by a snapshot's; false (nothing changed) when malformed or of another shape. */
  restore(s: unknown): boolean {
    const devices = snapshotDevices(s, this.sig, 1);
    if (devices === undefined) return false;
    const ranks: Uint8Array[] = [];
    for (const d of devices) {
      const r = new Uint8Array(this.slots);
      if (!fromBase64(d[2], r)) return false;
      for (let i = 0; i < r.length; i++) if (r[i] >= SEVERITY_BY_RANK.length) return false;
      ranks.push(r);
    }
    this.state.clear();
    for (let i = 0; i < devices.length; i++) this.state.set(devices[i][0], ranks[i], devices[i][1]);
    return true;
  }
}

/**
 * What `emit: change` does when a sensor's severity goes from rank `prev` to rank `next`:
 * nothing when equal, raise an alert at `next` when it is above normal, or clear `prev` when `next` is
 * normal.
 */
export function changeAction(prev: number, next: number): 'none' | 'raise' | 'clear' {
  if (prev === next) return 'none';
  return next === 0 ? 'clear' : 'raise';
}

/**
 * Shortest readable text of a number in alert messages (full precision is in `value`): integers as
 * they are; other numbers from 0.001 to 10^15 rounded to 6 significant digits (trailing zeros
 * dropped); smaller or larger ones with 4 significant digits (`toPrecision(4)`).
 *
 * The 6-digit text is `String(Number(n.toPrecision(6)))`, computed without the round trip through
 * Number and String (a unit test holds the two equal):
 * - a sensor value with at most three decimals and at most 6 significant digits (20.945, 939.735) is
 *   its own shortest text, which {@link thousandthsText} puts together from integers;
 * - otherwise toPrecision's text in plain notation with its trailing fraction zeros dropped is the
 *   shortest text of the rounded number (a decimal of at most 6 digits reads back as a double whose
 *   shortest text is that decimal); exponent notation (from 999,999.5 up) still takes the round trip.
 */
export function fmt(n: number): string {
  if (Number.isInteger(n)) return String(n);
  const a = Math.abs(n);
  if (!(a >= 1e-3 && a < 1e15)) return n.toPrecision(4);
  const text = thousandthsText(n);
  if (text !== undefined && (text.length <= 7 || significantDigits(text) <= 6)) return text;
  const p = n.toPrecision(6);
  if (p.indexOf('e') >= 0) return String(Number(p));
  if (p.indexOf('.') < 0) return p;
  let end = p.length;
  while (p.charCodeAt(end - 1) === 48) end--;
  if (p.charCodeAt(end - 1) === 46) end--;
  return end === p.length ? p : p.slice(0, end);
}

/**
 * The state side of a detector whose only state is a {@link SeverityMemory} in `emit: change` (none in
 * `emit: every`): threshold alert, fire pattern and window alert extend it and implement `process`.
 * A subclass sets `memory` in its constructor.
 */
export abstract class SeverityDetector implements Detector {
  protected memory: SeverityMemory | null = null;

  /** `everySig`: the snapshot `sig` of the stateless `emit: every` form. */
  protected constructor(private readonly everySig: string) {}

  /**
   * For `emit: change` (`opts.emit`), a memory per device of the severity of each of `slots` watched
   * things (sensors, aggregates, the pattern); `shape` names them in the snapshots' `sig`. Stateless otherwise.
   */
  protected watchChanges(opts: DetectorOptions, slots: number, shape: string): void {
    this.memory = opts.emit === 'change' ? new SeverityMemory(slots, opts, shape) : null;
  }

  abstract process(reading: Reading, now: number, out: Alert[]): number;

  get devices(): number {
    return this.memory?.size ?? 0;
  }

  sweep(now: number): number {
    return this.memory?.sweep(now) ?? 0;
  }

  reset(deviceId?: string): void {
    this.memory?.reset(deviceId);
  }

  /** Every device's severities (`emit: change`); no devices in `emit: every`. */
  snapshot(): DetectorSnapshot {
    return this.memory?.snapshot() ?? { sig: this.everySig, devices: [] };
  }

  /** Replace the state by a snapshot of a detector of the same shape (emit mode and, in `change`, its slots). */
  restore(s: unknown): boolean {
    if (this.memory !== null) return this.memory.restore(s);
    return snapshotDevices(s, this.everySig, 1)?.length === 0;
  }
}
