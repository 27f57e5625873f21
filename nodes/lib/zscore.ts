/**
 * Rolling z-score per device and sensor (CONTRACT §4, "z-score").
 *
 * For each device and sensor the last `windowSize` non-null values are kept (the current one
 * included). From the `minValues`-th value on, each value is scored:
 * `z = |x − mean| / σ`, with mean and σ (POPULATION standard deviation) of the window including x.
 * σ = 0 (every value in the window equal) never scores. `z > zHigh` is HIGH, else `z > zMedium` is
 * MEDIUM (strict).
 *
 * Cost is O(1) per value: a ring buffer plus a running mean and M2 (sum of squared deviations)
 * updated with Welford's add / replace steps, never a raw sum of squares. Rolling updates drift
 * slowly and lose precision when a large value leaves the window (M2 then falls by orders of
 * magnitude and the difference cancels), so M2 and the mean are recomputed exactly from the window
 * (corrected two-pass) every `windowSize` updates and whenever M2 has fallen below 1e-4 of the
 * magnitude it accumulated since the last exact pass: O(windowSize) amortised over at least that
 * many updates in steady data.
 *
 * Memory: per device, the running figures of every watched sensor in a Float64Array (8 numbers a
 * sensor) and the windows' values as whole thousandths in an Int32Array, `sensors × (64 + 4 ×
 * windowSize)` bytes (5,568 bytes for 12 sensors × 100 values) plus the map entry and two array
 * headers. Sensor readings carry at most three decimals, so a value is stored exactly as `x × 1000`
 * and read back as the same double (`m / 1000 === x` is checked on every store). A device that sends
 * a value without such a form (more decimals, or beyond ±2,147,483.647) has its windows moved to a
 * Float64Array, `8 × windowSize` bytes a sensor, and keeps it: the arithmetic is the same either way.
 *
 * `snapshot()` / `restore()` save and restore these arrays as raw bytes (base64), with each device's
 * place in the least-recently-used order and its last-used time, so a restored detector continues bit
 * for bit: same form, same rounding of the running figures, same evictions and idle sweeps.
 */
import { KeyedState } from './keyed-state';
import {
  BYTE_ORDER,
  DEFAULT_IDLE_MS,
  DEFAULT_MAX_DEVICES,
  type Detector,
  type DetectorOptions,
  type DetectorSnapshot,
  type DeviceSnapshot,
  SEVERITY_BY_RANK,
  changeAction,
  deviceOf,
  fmt,
  fromBase64,
  markCleared,
  readSensors,
  newAlert,
  snapshotDevices,
  timeOf,
  toBase64,
} from './detector';
import { COUNT, HDR, HEAD, M2, MEAN, Rings, SEV, push, scored, sigma } from './zscore-rings';
import { ZSCORE_DEFAULT_SENSORS } from './sensor-fields';
import { type Alert, type AlertOf, type ClearedDetails, NUMERIC_SENSORS, type Reading, SENSOR_KEYS, type Severity } from './types';

/**
 * Details of a STATISTICAL alert: the figures its z-score (the alert's `zScore`, CONTRACT §4) came from.
 * `value` is a raw sensor value and `threshold` a z bound: `mean ± threshold × stdDev` is the raw bound.
 */
export interface ZScoreDetails {
  /** Mean and population standard deviation of the device's window, the value included. */
  mean: number;
  stdDev: number;
  /** Values in the window. */
  count: number;
  /** The raw value the z bound `threshold` stands for on the value's side of the mean. */
  bound: number;
}

/** A STATISTICAL alert; a cleared one has {@link ClearedDetails}. */
export type StatisticalAlert = AlertOf<'STATISTICAL', ZScoreDetails | ClearedDetails> & { zScore?: number };

export type NumericSensor = (typeof NUMERIC_SENSORS)[number];

export interface ZScoreOptions extends DetectorOptions {
  /** Values kept per device and sensor, the current one included. Integer 2 … 100,000. Default 100. */
  windowSize?: number;
  /** Values needed (the current one included) before a value is scored. Integer 2 … windowSize. Default 30. */
  minValues?: number;
  /** `z > zMedium` is MEDIUM. Default 3.0; must be > 0. */
  zMedium?: number;
  /** `z > zHigh` is HIGH. Default 4.0; must be > zMedium. */
  zHigh?: number;
  /** Sensors scored, among the numeric ones. Default: the sensor table's z-scored ones (all 12). Scored in canonical order whatever the order given. */
  sensors?: readonly string[];
}

export const ZSCORE_DEFAULTS = { windowSize: 100, minValues: 30, zMedium: 3.0, zHigh: 4.0 } as const;
export const MAX_WINDOW_SIZE = 100_000;

/** Problems with a set of options (empty when usable). */
export function zscoreProblems(o: ZScoreOptions): string[] {
  const p: string[] = [];
  const size = o.windowSize ?? ZSCORE_DEFAULTS.windowSize;
  const min = o.minValues ?? ZSCORE_DEFAULTS.minValues;
  const zm = o.zMedium ?? ZSCORE_DEFAULTS.zMedium;
  const zh = o.zHigh ?? ZSCORE_DEFAULTS.zHigh;
  if (!Number.isInteger(size) || size < 2 || size > MAX_WINDOW_SIZE) p.push(`window size must be a whole number from 2 to ${MAX_WINDOW_SIZE} (got ${size})`);
  if (!Number.isInteger(min) || min < 2) p.push(`min values must be a whole number >= 2 (got ${min})`);
  else if (Number.isInteger(size) && min > size) p.push(`min values (${min}) must not exceed the window size (${size})`);
  if (!Number.isFinite(zm) || zm <= 0) p.push(`medium z threshold must be a number > 0 (got ${zm})`);
  if (!Number.isFinite(zh) || !(zh > zm)) p.push(`high z threshold must be a number > the medium one (got ${zh}, medium ${zm})`);
  if (o.sensors !== undefined) {
    if (o.sensors.length === 0) p.push('at least one sensor must be scored');
    for (const s of o.sensors) if (!(NUMERIC_SENSORS as readonly string[]).includes(s)) p.push(`unknown sensor ${JSON.stringify(s)}`);
  }
  const devices = o.maxDevices ?? DEFAULT_MAX_DEVICES;
  if (!Number.isInteger(devices) || devices < 0) p.push(`max devices must be a whole number >= 0 (got ${devices})`);
  const idle = o.idleMs ?? DEFAULT_IDLE_MS;
  if (!Number.isFinite(idle) || idle < 0) p.push(`idle timeout must be >= 0 (got ${idle})`);
  return p;
}

/**
 * One rolling series (the same arithmetic the detector runs per device and sensor), for tests and
 * for callers that score a single stream.
 */
export class RollingZScore {
  private readonly r: Rings;
  private readonly b: Float64Array;
  /** The value being pushed (push's way in, see zscore-rings.ts). */
  private readonly x = new Float64Array(1);

  constructor(
    readonly size: number = ZSCORE_DEFAULTS.windowSize,
    readonly minValues: number = ZSCORE_DEFAULTS.minValues,
  ) {
    const p = zscoreProblems({ windowSize: size, minValues });
    if (p.length > 0) throw new RangeError(p.join('; '));
    this.b = new Float64Array(HDR);
    this.r = new Rings(this.b, size);
  }

  /** Add a value; returns its z-score, or null when not scored (warm-up, σ = 0). Non-finite values are skipped (null). */
  push(x: number): number | null {
    if (!Number.isFinite(x)) return null;
    this.x[0] = x;
    return push(this.r, 0, 0, this.size, this.minValues, this.x, 0) ? scored[0] : null;
  }

  get count(): number {
    return this.b[COUNT];
  }

  /** Mean of the window (0 when empty). */
  get mean(): number {
    return this.b[MEAN];
  }

  /** Population standard deviation of the window (0 when empty). */
  get std(): number {
    const n = this.b[COUNT];
    return n > 0 ? sigma(this.b[M2], n) : 0;
  }
}

/**
 * Scores every watched sensor of every reading against its device's rolling window and raises
 * STATISTICAL alerts.
 */
export class ZScoreDetector implements Detector {
  readonly sensors: NumericSensor[];
  /** Index of each scored sensor in the values {@link readSensors} writes. */
  private readonly idx: Uint8Array;
  private readonly vals = new Float64Array(SENSOR_KEYS.length);
  private readonly size: number;
  private readonly minValues: number;
  private readonly zMedium: number;
  private readonly zHigh: number;
  private readonly thresholds: readonly number[];
  /** Alert message parts, made once: per scored sensor `"<sensor> "`, per rank `" > <z> (<severity>; mean "`. */
  private readonly prefixes: string[];
  private readonly middles: string[];
  private readonly change: boolean;
  private readonly state: KeyedState<Rings>;
  private readonly create: (evicted?: Rings) => Rings;
  /** Shape of the state in snapshots: window size, scored sensors, byte order of the raw arrays. */
  private readonly sig: string;
  /** The rings of the device scored last (for {@link warmup}). */
  private last: Rings | null = null;

  /** Throws a RangeError on unusable options (see {@link zscoreProblems}). */
  constructor(opts: ZScoreOptions = {}) {
    const p = zscoreProblems(opts);
    if (p.length > 0) throw new RangeError(p.join('; '));
    this.size = opts.windowSize ?? ZSCORE_DEFAULTS.windowSize;
    this.minValues = opts.minValues ?? ZSCORE_DEFAULTS.minValues;
    this.zMedium = opts.zMedium ?? ZSCORE_DEFAULTS.zMedium;
    this.zHigh = opts.zHigh ?? ZSCORE_DEFAULTS.zHigh;
    this.thresholds = [0, this.zMedium, this.zHigh];
    const wanted = opts.sensors ?? ZSCORE_DEFAULT_SENSORS;
    this.sensors = NUMERIC_SENSORS.filter((k) => wanted.includes(k));
    this.idx = Uint8Array.from(this.sensors, (k) => SENSOR_KEYS.indexOf(k));
    this.prefixes = this.sensors.map((k) => `${k} `);
    this.middles = this.thresholds.map((t, rank) => ` > ${fmt(t)} (${SEVERITY_BY_RANK[rank]}; mean `);
    this.change = opts.emit === 'change';
    this.sig = `zscore/1 window=${this.size} sensors=${this.sensors.join(',')} bytes=${BYTE_ORDER}`;
    const headers = this.sensors.length * HDR;
    const values = this.sensors.length * this.size;
    // A device evicted at the bound gives its rings to the new one: zeroed, exactly a fresh state.
    this.create = (evicted) => (evicted === undefined ? new Rings(new Float64Array(headers), values) : evicted.clear());
    this.state = new KeyedState<Rings>({
      maxKeys: opts.maxDevices ?? DEFAULT_MAX_DEVICES,
      idleMs: opts.idleMs ?? DEFAULT_IDLE_MS,
      reuseEvicted: true,
    });
  }

  get devices(): number {
    return this.state.size;
  }

  /**
   * Warm-up of the device scored last: the values its first scored sensor holds against the
   * `minValues` it needs before anything is scored; null once it has them (or before any reading).
   */
  warmup(): { have: number; need: number } | null {
    const r = this.last;
    if (r === null) return null;
    const have = Math.min(r.h[COUNT], this.minValues);
    return have >= this.minValues ? null : { have, need: this.minValues };
  }

  /** Devices evicted (LRU) or swept (idle) since creation. */
  get evictions(): number {
    return this.state.evictions;
  }

  /**
   * Bytes of window storage per device: running figures and thousandths (the map entry, the key and
   * the arrays' headers come on top; a device whose values need the wide form takes 4 × windowSize
   * more a sensor).
   */
  get bytesPerDevice(): number {
    return this.sensors.length * (HDR * 8 + this.size * 4);
  }

  process(reading: Reading, now: number, out: Alert[]): number {
    const before = out.length;
    const deviceId = deviceOf(reading);
    const r = this.state.get(deviceId, now, this.create);
    this.last = r;
    const b = r.h;
    const sensors = this.sensors;
    const size = this.size;
    const idx = this.idx;
    const vals = this.vals;
    readSensors(reading, vals);
    for (let s = 0; s < sensors.length; s++) {
      const i = idx[s];
      const x = vals[i];
      if (x !== x) continue; // NaN: null or not a finite number
      const o = s * HDR;
      const z = push(r, o, s * size, size, this.minValues, vals, i) ? scored[0] : -1;
      const rank = z > this.zHigh ? 2 : z > this.zMedium ? 1 : 0;
      if (!this.change) {
        if (rank > 0) out.push(this.alert(s, rank, x, z, b, o, reading, deviceId, now));
        continue;
      }
      const prev = b[o + SEV];
      const action = changeAction(prev, rank);
      if (action === 'none') continue;
      b[o + SEV] = rank;
      if (action === 'raise') out.push(this.alert(s, rank, x, z, b, o, reading, deviceId, now));
      else out.push(this.cleared(s, prev, x, z, reading, deviceId, now));
    }
    return out.length - before;
  }

  sweep(now: number): number {
    return this.state.sweep(now);
  }

  reset(deviceId?: string): void {
    this.last = null;
    if (deviceId === undefined) this.state.clear();
    else this.state.delete(deviceId);
  }

  /**
   * Every device's windows and running figures, least recently used first, as
   * `[deviceId, lastSeen, form, figures, windows]`: `form` is `"q"` when the windows hold thousandths
   * (`windows` the bytes of an Int32Array of sensors × windowSize) or `"f"` once they hold doubles (a
   * Float64Array); `figures` the bytes of the Float64Array of running figures, 8 a sensor. Raw bytes,
   * so a restored detector continues bit for bit (rounding of the running figures, the form).
   */
  snapshot(): DetectorSnapshot {
    const devices: DeviceSnapshot[] = [];
    for (const [id, r, lastSeen] of this.state.entriesWithTime()) {
      devices.push(r.q !== null ? [id, lastSeen, 'q', toBase64(r.h), toBase64(r.q)] : [id, lastSeen, 'f', toBase64(r.h), toBase64(r.f!)]);
    }
    return { sig: this.sig, devices };
  }

  /**
   * Replace every device's state by a snapshot's (see {@link snapshot}), in its least-recently-used
   * order and with its last-used times. Returns false, changing nothing, when the snapshot is malformed
   * or from a detector with another window size, other sensors or another byte order.
   */
  restore(s: unknown): boolean {
    const devices = snapshotDevices(s, this.sig, 3);
    if (devices === undefined) return false;
    const headers = this.sensors.length * HDR;
    const values = this.sensors.length * this.size;
    const rings: Rings[] = [];
    for (const d of devices) {
      const h = new Float64Array(headers);
      if (!fromBase64(d[3], h) || !this.figuresUsable(h)) return false;
      let q: Int32Array | null = null;
      let f: Float64Array | null = null;
      if (d[2] === 'q') q = new Int32Array(values);
      else if (d[2] === 'f') f = new Float64Array(values);
      else return false;
      if (!fromBase64(d[4], (q ?? f)!)) return false;
      rings.push(Rings.of(h, q, f));
    }
    this.state.clear();
    for (let i = 0; i < devices.length; i++) this.state.set(devices[i][0], rings[i], devices[i][1]);
    return true;
  }

  /** Whether restored running figures index the windows as the detector's own do (count, head, severity). */
  private figuresUsable(h: Float64Array): boolean {
    const size = this.size;
    for (let o = 0; o < h.length; o += HDR) {
      const n = h[o + COUNT];
      const head = h[o + HEAD];
      const sev = h[o + SEV];
      if (!(Number.isInteger(n) && n >= 0 && n <= size)) return false;
      // Until the window is full, the next value goes right after the last one.
      if (!(Number.isInteger(head) && head >= 0 && head < size && (n === size || head === n))) return false;
      if (!(sev === 0 || sev === 1 || sev === 2)) return false;
    }
    return true;
  }

  /** The alert of scored sensor `s` (index in {@link sensors}). */
  private alert(s: number, rank: number, x: number, z: number, b: Float64Array, o: number, reading: Reading, deviceId: string, now: number): Alert {
    const severity = SEVERITY_BY_RANK[rank] as Severity;
    const threshold = this.thresholds[rank];
    const sd = sigma(b[o + M2], b[o + COUNT]);
    // "<sensor> <x>: z <z> > <threshold> (<severity>; mean <mean>, σ <sd>)"
    const message = this.prefixes[s] + fmt(x) + ': z ' + fmt(z) + this.middles[rank] + fmt(b[o + MEAN]) + ', σ ' + fmt(sd) + ')';
    const a = newAlert('STATISTICAL', severity, this.sensors[s], x, threshold, message, deviceId, timeOf(reading, now));
    a.zScore = z;
    const mean = b[o + MEAN];
    const details: ZScoreDetails = { mean, stdDev: sd, count: b[o + COUNT], bound: x >= mean ? mean + threshold * sd : mean - threshold * sd };
    a.details = details;
    return a;
  }

  private cleared(s: number, prevRank: number, x: number, z: number, reading: Reading, deviceId: string, now: number): Alert {
    const was = SEVERITY_BY_RANK[prevRank] as Severity;
    const message = `${this.prefixes[s]}${fmt(x)} back to normal (was ${was})`;
    const a = newAlert('STATISTICAL', 'NORMAL', this.sensors[s], x, this.thresholds[prevRank], message, deviceId, timeOf(reading, now));
    // Not scored (σ = 0) leaves zScore out: there is no z to report.
    if (z >= 0) a.zScore = z;
    return markCleared(a, prevRank);
  }
}
