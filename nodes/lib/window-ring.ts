/**
 * One device of the sliding windows: its highest event time and its panes (partial aggregates, see
 * panes.ts) in a ring buffer that grows up to the most panes a device can need at once. Framework-free.
 */

/** One device: its highest event time and its panes in a ring buffer. */
export class Device {
  /** Highest event time of an aggregated reading (ms); -Infinity before the first. */
  maxT = -Infinity;
  /** Ring of `cap` panes of `stride` doubles; the pane with index `lo` is at slot `head`. */
  buf: Float64Array;
  cap: number;
  head = 0;
  /** Pane index (`floor(t / slide)`) of the first live pane, and the number of live panes. */
  lo = 0;
  len = 0;
  /** Start (in panes) of the first window not yet final: panes before it are freed. */
  nextWin = -Infinity;
  /** Start (in panes) of the first window without a provisional result yet (update mode). */
  nextProv = -Infinity;
  /** Processing time of the last reading (ms), for the idle timeout. */
  lastSeen = 0;
  /** Neighbours in the recency list: `newer` towards the most recently seen device. */
  newer: Device | null = null;
  older: Device | null = null;

  constructor(
    readonly id: string,
    /** Doubles per pane (the pane layout's stride). */
    readonly stride: number,
    cap: number,
  ) {
    this.cap = cap;
    this.buf = new Float64Array(cap * stride);
  }

  /**
   * Offset in `buf` of pane p, creating it (and any panes between) as empty panes. `k` is the number of
   * windows per reading, `maxSpan` the most panes a device can need at once (the ring's capacity bound).
   */
  paneBase(p: number, k: number, maxSpan: number): number {
    const S = this.stride;
    if (this.len === 0) {
      this.lo = p;
      this.head = 0;
      this.len = 1;
      this.nextWin = p - k + 1;
      this.buf.fill(0, 0, S);
      return 0;
    }
    const hi = this.lo + this.len - 1;
    if (p > hi) {
      const need = p - this.lo + 1;
      if (need > this.cap) this.grow(need, maxSpan);
      for (let i = this.len; i < need; i++) this.clearSlot((this.head + i) % this.cap);
      this.len = need;
    } else if (p < this.lo) {
      const need = hi - p + 1;
      if (need > this.cap) this.grow(need, maxSpan);
      const add = this.lo - p;
      this.head = (this.head - add + this.cap) % this.cap;
      for (let i = 0; i < add; i++) this.clearSlot((this.head + i) % this.cap);
      this.lo = p;
      this.len = need;
    }
    // An out-of-order reading may open windows before the first open one. None of them can be final
    // yet (they end after the reading, which is after the watermark), and no window before them was.
    if (p - k + 1 < this.nextWin) this.nextWin = p - k + 1;
    let slot = this.head + (p - this.lo);
    if (slot >= this.cap) slot -= this.cap;
    return slot * S;
  }

  private clearSlot(slot: number): void {
    this.buf.fill(0, slot * this.stride, slot * this.stride + this.stride);
  }

  /** Free the first live pane. */
  dropFront(): void {
    this.lo++;
    this.len--;
    this.head = this.head + 1 === this.cap ? 0 : this.head + 1;
  }

  /** Re-lay the ring in a larger buffer with the live panes first. */
  private grow(need: number, maxSpan: number): void {
    const S = this.stride;
    const cap = Math.max(need, Math.min(maxSpan, this.cap * 2));
    const buf = new Float64Array(cap * S);
    for (let i = 0; i < this.len; i++) {
      const slot = (this.head + i) % this.cap;
      buf.set(this.buf.subarray(slot * S, slot * S + S), i * S);
    }
    this.buf = buf;
    this.cap = cap;
    this.head = 0;
  }
}
