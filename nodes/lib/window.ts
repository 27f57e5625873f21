/**
 * Event-time sliding windows per device with a watermark, as Spark Structured Streaming computes them
 * (CONTRACT §5), record by record. Framework-free: every time (event time, processing time) is a
 * parameter.
 *
 * Semantics, per device:
 * - Windows are `[start, start + size)` with `start` a multiple of `slide` since the epoch (negative
 *   times included), so each reading falls into `size / slide` windows.
 * - Watermark = highest event time seen before this reading − delay. A reading with `t <= watermark` is
 *   late: not aggregated, reported to the caller (`add` returns false).
 * - A window is final, and emitted once, when the watermark reaches its end (`windowEnd <= watermark`);
 *   windows of a device are emitted in ascending start order.
 * - Update mode adds one provisional result (`final: false`) when the highest event time reaches a
 *   window's end, before the final one.
 *
 * Memory: one pane (partial aggregate, see panes.ts) per slide per device, kept in a ring buffer per
 * device; a device holds at most `ceil(delay / slide) + size / slide` panes (15 by default) whatever the
 * rate of readings. Panes that no open window needs are freed as the watermark passes them.
 */
import { DEFAULT_MAX_DEVICES } from './devices';
import { COUNT, PaneLayout, parseAggregates, type ReadingLike, type WindowResult } from './panes';
import { type OutputMode, type SlidingWindowOptions, deviceIdOf, windowOptionProblems } from './window-options';
import { Device } from './window-ring';
import { type WindowSnapshot, finiteOrNull, isSnapshot } from './window-snapshot';

export type { ReadingLike, WindowResult } from './panes';
export { type OutputMode, type SlidingWindowOptions, deviceIdOf, windowOptionProblems } from './window-options';
export type { WindowSnapshot } from './window-snapshot';

export interface WindowStats {
  devices: number;
  /** Windows that hold data and are not final yet (an upper bound: windows over gaps are counted). */
  openWindows: number;
  /** Live panes over all devices. */
  panes: number;
  /** Most live panes of one device. */
  maxPanes: number;
}

/**
 * Sliding-window aggregation for many devices. Results are appended to the `out` array the caller
 * passes (no allocation besides the result objects and one pane ring per device).
 */
export class SlidingWindows {
  readonly layout: PaneLayout;
  readonly sizeMs: number;
  readonly slideMs: number;
  readonly delayMs: number;
  readonly mode: OutputMode;
  readonly arrival: boolean;
  /** Windows per reading (size / slide). */
  private readonly k: number;
  private readonly stride: number;
  /** Most panes a device can need at once (ring capacity bound). */
  private readonly maxSpan: number;
  private readonly maxDevices: number;
  private readonly idleMs: number;
  /**
   * Devices by id, plus an intrusive recency list (most recent at `newest`): moving a device to the
   * front is a few pointer writes, where re-inserting into a Map on every reading of an interleaved
   * stream churns the Map's hash table.
   */
  private readonly devices = new Map<string, Device>();
  private newest: Device | null = null;
  private oldest: Device | null = null;
  private readonly acc: Float64Array;

  /** Readings routed late since creation. */
  lateCount = 0;
  /** Window results emitted since creation. */
  emitted = 0;
  /** The watermark that made the last late reading late (ms). */
  lastWatermark = NaN;
  /** Set on every change of state; the caller clears it after a checkpoint. */
  dirty = false;

  constructor(opts: SlidingWindowOptions) {
    const problems = windowOptionProblems(opts);
    if (problems.length) throw new RangeError(problems.join('; '));
    this.sizeMs = opts.sizeMs;
    this.slideMs = opts.slideMs;
    this.arrival = opts.arrival === true;
    // Arrival time never goes backwards, so waiting for stragglers would only delay results.
    this.delayMs = this.arrival ? 0 : opts.delayMs;
    this.mode = opts.mode ?? 'append';
    this.k = this.sizeMs / this.slideMs;
    this.layout = new PaneLayout(opts.aggregates ?? parseAggregates(undefined).specs);
    this.stride = this.layout.stride;
    // Open windows start after watermark − size, and no pane lies beyond the highest event time.
    this.maxSpan = Math.ceil(this.delayMs / this.slideMs) + this.k;
    this.acc = new Float64Array(this.stride);
    this.maxDevices = opts.maxDevices ?? DEFAULT_MAX_DEVICES;
    this.idleMs = opts.idleMs ?? 0;
  }

  /** Number of devices with state. */
  get deviceCount(): number {
    return this.devices.size;
  }

  /**
   * Aggregate one reading at time `t` (ms; event, Kafka or arrival time as the caller chose). `now` is
   * processing time (ms), used only for the least-recently-used bound and idle timeout. Windows this
   * reading closes (and devices it evicts) are appended to `out`. Returns false when the reading is
   * late (`t <= watermark`, see {@link lastWatermark}); it is then not aggregated.
   */
  add(r: ReadingLike, t: number, now: number, out: WindowResult[]): boolean {
    const dev = this.device(deviceIdOf(r), now, out);
    if (this.arrival) {
      // A wall clock stepped back must not reopen windows that were already emitted.
      if (t < dev.maxT) t = dev.maxT;
    } else if (t <= dev.maxT - this.delayMs) {
      this.lateCount++;
      this.lastWatermark = dev.maxT - this.delayMs;
      return false;
    }
    if (t > dev.maxT) {
      dev.maxT = t;
      // Close first: the reading's own windows end after t, so they stay open, and the ring slots of
      // the closed windows' panes are free for the new pane.
      if (dev.len > 0) {
        this.finalise(dev, out);
        if (this.mode === 'update') this.provisional(dev, out);
      }
    }
    // paneBase may grow (replace) dev.buf, so it runs before dev.buf is read.
    const base = dev.paneBase(Math.floor(t / this.slideMs), this.k, this.maxSpan);
    this.layout.add(dev.buf, base, r);
    this.dirty = true;
    return true;
  }

  /**
   * Arrival-time mode: time has reached `now` for every device, so windows ending at or before it are
   * emitted (final) even when no reading comes. Does nothing in event-time mode.
   */
  advance(now: number, out: WindowResult[]): void {
    if (!this.arrival) return;
    for (let dev = this.oldest; dev !== null; dev = dev.newer) {
      if (now > dev.maxT) dev.maxT = now;
      if (dev.len > 0) {
        const before = out.length;
        this.finalise(dev, out);
        if (out.length > before) this.dirty = true;
      }
    }
  }

  /** Evict devices idle for longer than the idle timeout at processing time `now`; their open windows go to `out` (final: false). */
  sweep(now: number, out: WindowResult[]): number {
    if (this.idleMs <= 0) return 0;
    let n = 0;
    // Oldest first: the sweep stops at the first device seen recently enough.
    while (this.oldest !== null && now - this.oldest.lastSeen > this.idleMs) {
      this.evict(this.oldest, out);
      n++;
    }
    if (n > 0) this.dirty = true;
    return n;
  }

  /**
   * Emit every open window (final: false) of all devices, or of one, and clear them. Watermarks are
   * kept: a reading at or before a device's watermark stays late.
   */
  flush(out: WindowResult[], deviceId?: string): void {
    if (deviceId !== undefined) {
      const dev = this.devices.get(deviceId);
      if (dev) this.flushDevice(dev, out);
    } else {
      for (let dev = this.oldest; dev !== null; dev = dev.newer) this.flushDevice(dev, out);
    }
    this.dirty = true;
  }

  /** Forget all state (windows and watermarks), or one device's, without emitting anything. */
  reset(deviceId?: string): void {
    if (deviceId === undefined) {
      this.devices.clear();
      this.newest = this.oldest = null;
    } else {
      const dev = this.devices.get(deviceId);
      if (dev) this.remove(dev);
    }
    this.dirty = true;
  }

  /** A device's current watermark (ms), or -Infinity for an unknown device. */
  watermark(deviceId: string): number {
    const dev = this.devices.get(deviceId);
    return dev === undefined ? -Infinity : dev.maxT - this.delayMs;
  }

  stats(): WindowStats {
    let openWindows = 0;
    let panes = 0;
    let maxPanes = 0;
    for (const dev of this.devices.values()) {
      if (dev.len === 0) continue;
      panes += dev.len;
      if (dev.len > maxPanes) maxPanes = dev.len;
      openWindows += dev.lo + dev.len - Math.max(dev.nextWin, dev.lo - this.k + 1);
    }
    return { devices: this.devices.size, openWindows, panes, maxPanes };
  }

  /** The whole state, for a checkpoint. */
  snapshot(): WindowSnapshot {
    const devices: WindowSnapshot['devices'] = [];
    const S = this.stride;
    for (let dev = this.oldest; dev !== null; dev = dev.newer) {
      const flat = new Float64Array(dev.len * S);
      for (let i = 0; i < dev.len; i++) {
        const slot = (dev.head + i) % dev.cap;
        flat.set(dev.buf.subarray(slot * S, slot * S + S), i * S);
      }
      const panes = dev.len === 0 ? '' : Buffer.from(flat.buffer).toString('base64');
      devices.push([dev.id, finiteOrNull(dev.maxT), finiteOrNull(dev.nextWin), finiteOrNull(dev.nextProv), dev.lo, panes]);
    }
    return { v: 1, sig: this.signature(), devices };
  }

  /**
   * Replace the state by a snapshot taken with the same slide, size, time mode and aggregates.
   * Returns false (and changes nothing) when the snapshot does not fit. Devices beyond `maxDevices`
   * are evicted into `out`.
   */
  restore(s: unknown, now: number, out: WindowResult[]): boolean {
    const S = this.stride;
    if (!isSnapshot(s, S) || s.sig !== this.signature()) return false;
    this.reset();
    for (const [id, maxT, nextWin, nextProv, lo, panes] of s.devices) {
      const dev = this.device(id, now, out);
      dev.maxT = maxT ?? -Infinity;
      dev.nextWin = nextWin ?? -Infinity;
      dev.nextProv = nextProv ?? -Infinity;
      dev.lo = lo;
      const bytes = Buffer.from(panes, 'base64');
      // Copy into a fresh, aligned buffer (a decoded Buffer may sit at any offset of a shared pool).
      const flat = new Float64Array(bytes.length / 8);
      new Uint8Array(flat.buffer).set(bytes);
      dev.len = flat.length / S;
      dev.cap = Math.max(dev.len, Math.min(4, this.maxSpan));
      dev.buf = new Float64Array(dev.cap * S);
      dev.buf.set(flat);
      dev.head = 0;
    }
    this.dirty = false;
    return true;
  }

  /** The device `id`, created when new, marked as the most recently seen at `now`. */
  private device(id: string, now: number, out: WindowResult[]): Device {
    let dev = this.devices.get(id);
    if (dev === undefined) {
      dev = new Device(id, this.stride, Math.min(4, this.maxSpan));
      this.devices.set(id, dev);
      this.link(dev);
      if (this.maxDevices > 0 && this.devices.size > this.maxDevices && this.oldest !== null) this.evict(this.oldest, out);
    } else if (dev !== this.newest) {
      this.unlink(dev);
      this.link(dev);
    }
    dev.lastSeen = now;
    return dev;
  }

  /** Emit a device's open windows (final: false), then forget it: never lost silently. */
  private evict(dev: Device, out: WindowResult[]): void {
    this.flushDevice(dev, out);
    this.remove(dev);
  }

  private remove(dev: Device): void {
    this.unlink(dev);
    this.devices.delete(dev.id);
  }

  private link(dev: Device): void {
    dev.older = this.newest;
    dev.newer = null;
    if (this.newest !== null) this.newest.newer = dev;
    this.newest = dev;
    if (this.oldest === null) this.oldest = dev;
  }

  private unlink(dev: Device): void {
    if (dev.older !== null) dev.older.newer = dev.newer;
    else this.oldest = dev.newer;
    if (dev.newer !== null) dev.newer.older = dev.older;
    else this.newest = dev.older;
    dev.older = dev.newer = null;
  }

  private signature(): string {
    return `${this.slideMs}/${this.sizeMs}/${this.arrival ? 'arrival' : 'event'}/${this.layout.signature}`;
  }

  /**
   * Emit, in order, the windows of `dev` whose end is at or before its watermark, freeing their panes.
   * (The watermark is derived here rather than passed in: a double argument to a call that is not
   * inlined is boxed, an allocation per reading.)
   */
  private finalise(dev: Device, out: WindowResult[]): void {
    const k = this.k;
    const w = dev.maxT - this.delayMs;
    while (dev.len > 0) {
      // Empty panes at the front (gaps) belong to no window with data: skip them.
      while (dev.len > 0 && dev.buf[dev.head * this.stride + COUNT] === 0) dev.dropFront();
      if (dev.len === 0) return;
      const q = Math.max(dev.nextWin, dev.lo - k + 1);
      if ((q + k) * this.slideMs > w) {
        dev.nextWin = q;
        return;
      }
      // Window q holds pane lo (q <= lo < q + k), which has data: never an empty result.
      this.emit(dev, q, true, out);
      dev.nextWin = q + 1;
      if (dev.lo === q) dev.dropFront();
    }
  }

  /** Update mode: one provisional result per window whose end the highest event time reached. */
  private provisional(dev: Device, out: WindowResult[]): void {
    const k = this.k;
    const t = dev.maxT;
    // Windows q < qEnd end at or before t.
    const qEnd = Math.floor(t / this.slideMs) - k + 1;
    const hi = dev.lo + dev.len - 1;
    let q = Math.max(dev.nextProv, dev.nextWin, dev.lo - k + 1);
    for (; q < qEnd && q <= hi; q++) this.emit(dev, q, false, out);
    if (qEnd > dev.nextProv) dev.nextProv = qEnd;
  }

  /** Emit every window of `dev` that holds data (final: false) and drop its panes. */
  private flushDevice(dev: Device, out: WindowResult[]): void {
    if (dev.len === 0) return;
    const hi = dev.lo + dev.len - 1;
    for (let q = Math.max(dev.nextWin, dev.lo - this.k + 1); q <= hi; q++) this.emit(dev, q, false, out);
    dev.len = 0;
    dev.head = 0;
  }

  /** Merge the panes of window q (start q·slide) and append its result unless it holds no reading. */
  private emit(dev: Device, q: number, final: boolean, out: WindowResult[]): void {
    const acc = this.acc;
    const S = this.stride;
    acc.fill(0);
    const from = Math.max(q, dev.lo);
    const to = Math.min(q + this.k - 1, dev.lo + dev.len - 1);
    for (let p = from; p <= to; p++) {
      let slot = dev.head + (p - dev.lo);
      if (slot >= dev.cap) slot -= dev.cap;
      this.layout.merge(acc, 0, dev.buf, slot * S);
    }
    if (acc[COUNT] === 0) return;
    out.push(this.layout.result(acc, 0, dev.id, q * this.slideMs, (q + this.k) * this.slideMs, final));
    this.emitted++;
  }
}
