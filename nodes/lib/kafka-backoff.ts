/**
 * Bounded exponential backoff for reconnecting Kafka clients and restarting crashed consumers.
 * Framework-free: the caller owns the timer and passes the random number in (so tests are exact).
 */
export interface BackoffOptions {
  /** Delay before the first retry, ms (> 0). */
  initialMs: number;
  /** Upper bound of every delay, ms (>= initialMs). */
  maxMs: number;
  /** Growth per attempt (default 2). */
  factor?: number;
  /**
   * Fraction of the delay that is randomised away, in [0, 1] (default 0.2): a delay lies in
   * `[base * (1 - jitter), base]`, so restarts of many nodes after one broker outage do not line up.
   */
  jitter?: number;
}

/**
 * Delay in ms before retry number `attempt` (0 = first retry): `min(maxMs, initialMs * factor^attempt)`
 * reduced by up to `jitter` of itself, `rand` in [0, 1) choosing how much. Never above `maxMs`, never
 * below `initialMs * (1 - jitter)`.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions, rand = 0): number {
  const factor = opts.factor ?? 2;
  const jitter = Math.min(1, Math.max(0, opts.jitter ?? 0.2));
  const n = Math.max(0, Math.floor(attempt));
  // factor^n overflows to Infinity for large n; min() with maxMs keeps the result bounded anyway.
  const base = Math.min(opts.maxMs, opts.initialMs * Math.pow(factor, n));
  const r = Math.min(Math.max(rand, 0), 1);
  return Math.round(base * (1 - jitter * r));
}

/** The retry counter behind {@link backoffDelay}: `next()` for each failure, `reset()` after a success. */
export class Backoff {
  private attempt = 0;

  constructor(private readonly opts: BackoffOptions) {
    if (!(opts.initialMs > 0)) throw new RangeError('initialMs must be > 0');
    if (!(opts.maxMs >= opts.initialMs)) throw new RangeError('maxMs must be >= initialMs');
  }

  /** Number of failures since the last reset. */
  get failures(): number {
    return this.attempt;
  }

  /** Delay (ms) before the next retry; counts one more failure. */
  next(rand = 0): number {
    return backoffDelay(this.attempt++, this.opts, rand);
  }

  reset(): void {
    this.attempt = 0;
  }
}
