/** Small numeric helpers of the bench. */

/** Nearest-rank percentile (p in 0…100) of an ascending-sorted array; NaN when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export interface LatencySummary {
  samples: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function summarise(values: Float64Array | number[]): LatencySummary {
  const s = Float64Array.from(values).sort();
  return { samples: s.length, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: s.length ? s[s.length - 1] : NaN };
}

/** A growable Float64Array (latency samples without boxing). */
export class Samples {
  private buf = new Float64Array(1 << 14);
  length = 0;
  push(v: number): void {
    if (this.length === this.buf.length) {
      const b = new Float64Array(this.buf.length * 2);
      b.set(this.buf);
      this.buf = b;
    }
    this.buf[this.length++] = v;
  }
  values(): Float64Array {
    return this.buf.subarray(0, this.length);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function nextTurn(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** Polls `cond` every `everyMs` until true; false when `timeoutMs` passes first. */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 20): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await cond()) return true;
    if (performance.now() > deadline) return false;
    await sleep(everyMs);
  }
}
