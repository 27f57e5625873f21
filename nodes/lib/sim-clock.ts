/**
 * The sensor sim's clock (sim.ts): which readings are due at a wall-clock time. Framework-free: the
 * caller passes the time.
 */

/**
 * The sim's clock: maps wall-clock time to the event times of the readings that are due. Readings are
 * `stepMs = 1000 / rateHz` apart on a grid aligned to the epoch (at 1 Hz: whole seconds, like the
 * data file), event time runs `speed` times as fast as the wall clock (1 = event time is wall time;
 * 60 = one simulated minute per second), and after a stop/start the event time never goes back.
 */
export class SimClock {
  readonly stepMs: number;
  private running = false;
  private wallAnchor = 0;
  private simAnchor = 0;
  /** Grid index of the next reading. */
  private next = 0;
  /** Event time of the last reading handed out (NaN: none yet). */
  last = NaN;
  /** Readings skipped because the clock fell more than `maxLagMs` of event time behind. */
  skipped = 0;

  /**
   * @param rateHz readings per device per second of event time (> 0)
   * @param speed event time per wall time (> 0)
   * @param maxLagMs event time the clock may fall behind before it skips ahead (default 60 s × speed)
   */
  constructor(
    readonly rateHz: number,
    readonly speed = 1,
    readonly maxLagMs = 60_000 * speed,
  ) {
    if (!(rateHz > 0 && Number.isFinite(rateHz))) throw new RangeError('rateHz must be > 0');
    if (!(speed > 0 && Number.isFinite(speed))) throw new RangeError('speed must be > 0');
    this.stepMs = 1000 / rateHz;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Start (or restart) at wall time `wallNow`; the first reading is due at once. */
  start(wallNow: number): void {
    const first = Math.max(Math.floor(wallNow / this.stepMs), this.last === this.last ? Math.round(this.last / this.stepMs) + 1 : -Infinity);
    this.next = first;
    this.wallAnchor = wallNow;
    this.simAnchor = Math.max(wallNow, first * this.stepMs);
    this.running = true;
  }

  stop(): void {
    this.running = false;
  }

  /** Event time the clock has reached at wall time `wallNow`. */
  now(wallNow: number): number {
    return this.simAnchor + (wallNow - this.wallAnchor) * this.speed;
  }

  /**
   * Event times (epoch ms, integers, ascending) of the readings due at wall time `wallNow`, at most
   * `max` of them (the rest stay due for the next call).
   */
  due(wallNow: number, max = Infinity): number[] {
    const times: number[] = [];
    if (!this.running) return times;
    const simNow = this.now(wallNow);
    const lastDue = Math.floor(simNow / this.stepMs + 1e-9);
    const oldest = Math.ceil((simNow - this.maxLagMs) / this.stepMs);
    if (this.next < oldest) {
      this.skipped += oldest - this.next;
      this.next = oldest;
    }
    while (this.next <= lastDue && times.length < max) {
      const t = Math.round(this.next * this.stepMs);
      times.push(t);
      this.last = t;
      this.next++;
    }
    return times;
  }
}
