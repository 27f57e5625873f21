/**
 * The rolling z-score arithmetic of the z-score detector (CONTRACT §4, "z-score"): per device, one
 * window of the last `size` values per sensor in a ring, with running mean and sum of squared
 * deviations (Welford) updated in O(1) per value, recomputed exactly when cancellation could have
 * eaten precision. Framework-free; zscore.ts runs it per device and sensor.
 */
// Running figures of one sensor's series in the header Float64Array, at offset `o` (HDR per sensor);
// its window is `size` values from offset `w` of the ring (Int32Array of thousandths, or Float64Array).
export const MEAN = 0; // running mean of the window
export const M2 = 1; // running sum of squared deviations from the mean
export const COUNT = 2; // values in the window (≤ size)
export const HEAD = 3; // ring index the next value is written to
const SINCE = 4; // updates since the last exact recompute
const ACC = 5; // magnitude M2 accumulated since the last exact recompute (sum of |increments|)
const RUN = 6; // how many of the latest values are equal to the latest one
export const SEV = 7; // emit: change — last severity rank (0 normal)
export const HDR = 8;
/** Largest |thousandths| an Int32Array holds. */
const INT32_MAX = 0x7fffffff;

/**
 * The windows and running figures of one device (or of one `RollingZScore`). `q` holds the
 * values as thousandths until a value has no exact thousandths form; from then on `f` holds them.
 */
export class Rings {
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
export function sigma(m2: number, n: number): number {
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
 * The z of the value {@link push} scored last. The value comes in and its z goes out through typed
 * arrays, not as a parameter and a return value: a double crossing a call V8 does not inline is boxed
 * in a new 16-byte heap number, which was two per sensor and reading (about 250 bytes a reading for
 * the default sensors, `npm run bench -- --profile`).
 */
export const scored = new Float64Array(1);

/**
 * Add `values[i]` to the series with running figures at `o` and window at `w` (`size` values), and
 * score it: returns true with its z (≥ 0) in `scored[0]`, or false when the value is not scored (fewer
 * than `minValues` values, or σ = 0).
 */
export function push(r: Rings, o: number, w: number, size: number, minValues: number, values: Float64Array, i: number): boolean {
  const x = values[i];
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
    return false;
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
  if (n < minValues) return false;
  m2 = b[o + M2];
  if (m2 <= 0) return false;
  const d = x - b[o + MEAN];
  scored[0] = (d < 0 ? -d : d) / sigma(m2, n);
  return true;
}

