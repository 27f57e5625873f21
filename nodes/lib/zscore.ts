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
  readSensors,
  newAlert,
  snapshotDevices,
  timeOf,
  toBase64,
} from './detector';
import { type Alert, NUMERIC_SENSORS, type Reading, SENSOR_KEYS, type Severity } from './types';
import { ZSCORE_DEFAULT_SENSORS } from './sensor-fields';

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

// Running figures of one sensor's series in the header Float64Array, at offset `o` (HDR per sensor);
// its window is `size` values from offset `w` of the ring (Int32Array of thousandths, or Float64Array).
const MEAN = 0; // running mean of the window
const M2 = 1; // running sum of squared deviations from the mean
const COUNT = 2; // values in the window (≤ size)
const HEAD = 3; // ring index the next value is written to
const SINCE = 4; // updates since the last exact recompute
const ACC = 5; // magnitude M2 accumulated since the last exact recompute (sum of |increments|)
const RUN = 6; // how many of the latest values are equal to the latest one
const SEV = 7; // emit: change — last severity rank (0 normal)
const HDR = 8;
/** Largest |thousandths| an Int32Array holds. */
const INT32_MAX = 0x7fffffff;

/**
 * The windows and running figures of one device (or of one {@link RollingZScore}). `q` holds the
 * values as thousandths until a value has no exact thousandths form; from then on `f` holds them.
 */
class Rings {
  q: Int32Array | null;
  f: Float64Array | null = null;

  constructor(
    readonly h: Float64Array,
    values: number,
  ) {
    this.q = new Int32Array(values);
  }

  /** Zero everything, as a new device (reused for the device that evicts this one). */
  clear(): this {
    this.h.fill(0);
    if (this.q !== null) this.q.fill(0);
    else {
      // Back to thousandths: the new device has shown no value that needs the wide form.
      this.q = new Int32Array(this.f!.length);
      this.f = null;
    }
    return this;
  }

  /** Rings with the given arrays (restored from a snapshot): thousandths `q`, or else doubles `f`. */
  static of(h: Float64Array, q: Int32Array | null, f: Float64Array | null): Rings {
    const r = new Rings(h, 0);
    r.q = q;
    r.f = f;
    return r;
  }

  /** Move every window to a Float64Array (a value with no exact thousandths form arrived). */
  widen(): void {
    const q = this.q!;
    const f = new Float64Array(q.length);
    for (let i = 0; i < q.length; i++) f[i] = q[i] / 1000;
    this.f = f;
    this.q = null;
  }
}
/** Population standard deviation of `n` values whose sum of squared deviations is `m2`. */
function sigma(m2: number, n: number): number {
  return Math.sqrt(m2 / n);
}

/** M2 below this fraction of its accumulated magnitude has lost too many bits: recompute exactly. */
const CANCELLATION = 1e-4;

/** Exact mean and M2 of the window (corrected two-pass: the second pass also fixes the mean). */
function recompute(r: Rings, o: number, w: number, n: number): void {
  const b = r.h;
  const q = r.q;
  const f = r.f!;
  let s = 0;
  if (q !== null) for (let i = 0; i < n; i++) s += q[w + i] / 1000;
  else for (let i = 0; i < n; i++) s += f[w + i];
  const mean = s / n;
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const d = (q !== null ? q[w + i] / 1000 : f[w + i]) - mean;
    s1 += d;
    s2 += d * d;
  }
  const m2 = s2 - (s1 * s1) / n;
  b[o + MEAN] = mean + s1 / n;
  b[o + M2] = m2 > 0 ? m2 : 0;
  b[o + ACC] = b[o + M2];
  b[o + SINCE] = 0;
}

/**
 * Add `x` to the series with running figures at `o` and window at `w` (`size` values), and score it:
 * returns z (≥ 0), or -1 when the value is not scored (fewer than `minValues` values, or σ = 0).
 */
function push(r: Rings, o: number, w: number, size: number, minValues: number, x: number): number {
  const b = r.h;
  // The window's storage: thousandths (m, exact) until a value has no such form, then doubles for good.
  let q = r.q;
  let m = 0;
  if (q !== null) {
    m = Math.round(x * 1000);
    if (m / 1000 !== x || m > INT32_MAX || m < -INT32_MAX) {
      r.widen();
      q = null;
    }
  }
  const f = r.f!;
  let n = b[o + COUNT];
  let head = b[o + HEAD];
  const last = w + (head === 0 ? size - 1 : head - 1);
  const run = n > 0 && (q !== null ? q[last] === m : f[last] === x) ? b[o + RUN] + 1 : 1;
  let mean = b[o + MEAN];
  let m2 = b[o + M2];
  let t: number;
  if (n < size) {
    n++;
    const d = x - mean;
    mean += d / n;
    t = d * (x - mean);
    b[o + COUNT] = n;
  } else {
    const y = q !== null ? q[w + head] / 1000 : f[w + head];
    const old = mean;
    mean += (x - y) / n;
    t = (x - y) * (x - mean + y - old);
  }
  m2 += t;
  if (q !== null) q[w + head] = m;
  else f[w + head] = x;
  head++;
  b[o + HEAD] = head === size ? 0 : head;
  b[o + RUN] = run;
  if (run >= n) {
    // Every value in the window is x: σ is exactly 0, whatever rounding the running figures carry.
    b[o + MEAN] = x;
    b[o + M2] = 0;
    b[o + ACC] = 0;
    b[o + SINCE] = 0;
    return -1;
  }
  const acc = b[o + ACC] + (t < 0 ? -t : t);
  const since = b[o + SINCE] + 1;
  if (since >= size || m2 < acc * CANCELLATION) {
    recompute(r, o, w, n);
  } else {
    b[o + MEAN] = mean;
    b[o + M2] = m2 > 0 ? m2 : 0;
    b[o + ACC] = acc;
    b[o + SINCE] = since;
  }
  if (n < minValues) return -1;
  m2 = b[o + M2];
  if (m2 <= 0) return -1;
  const d = x - b[o + MEAN];
  return (d < 0 ? -d : d) / sigma(m2, n);
}

/**
 * One rolling series (the same arithmetic the detector runs per device and sensor), for tests and
 * for callers that score a single stream.
 */
export class RollingZScore {
  private readonly r: Rings;
  private readonly b: Float64Array;

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
    const z = push(this.r, 0, 0, this.size, this.minValues, x);
    return z < 0 ? null : z;
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
      const x = vals[idx[s]];
      if (x !== x) continue; // NaN: null or not a finite number
      const o = s * HDR;
      const z = push(r, o, s * size, size, this.minValues, x);
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
    return a;
  }

  private cleared(s: number, prevRank: number, x: number, z: number, reading: Reading, deviceId: string, now: number): Alert {
    const severity = SEVERITY_BY_RANK[prevRank] as Severity;
    const message = `${this.prefixes[s]}${fmt(x)} back to normal (was ${severity})`;
    const a = newAlert('STATISTICAL', severity, this.sensors[s], x, null, message, deviceId, timeOf(reading, now));
    // Not scored (σ = 0) leaves zScore out: there is no z to report.
    if (z >= 0) a.zScore = z;
    a.cleared = true;
    return a;
  }
}
