/**
 * What the sliding window does between messages: the timers that close windows without a reading
 * (arrival time: at each slide boundary; idle devices: a periodic sweep) and the status text, throttled
 * to one update per 500 ms (counting open windows walks every device). The runner (runner.ts) owns the
 * windows and sends the results; this module only decides when, through {@link TimedWork}.
 */
import { text } from '../nr/i18n';
import { guardedInterval, guardedTimeout, type TimerErrorHandler } from '../nr/timers';
import { compact } from '../nr/status';
import type { SlidingWindows, SlidingWindowOptions, WindowResult } from '../lib/window';
import type { TimeSource } from './support';

/** What the timers and the status need of the runner. */
export interface TimedWork {
  /** The node's own windows (tp null), then each partition task's. */
  eachWindows(fn: (w: SlidingWindows, tp: string | null) => void): void;
  /** Partition task `tp`'s windows changed (its next checkpoint must hold them). */
  touch(tp: string): void;
  /** Send results that a timer closed (shaped as the last reading came: single or batch). */
  emit(out: WindowResult[]): void;
  /** Show the counts (a blue status). */
  status(text: string): void;
  timerError: TimerErrorHandler;
}

export class WindowTimers {
  private readonly timers: NodeJS.Timeout[] = [];
  private shown = '';
  private shownAt = 0;
  private statusTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly windows: Pick<SlidingWindowOptions, 'slideMs' | 'idleMs'>,
    private readonly timeSource: TimeSource,
    private readonly work: TimedWork,
  ) {}

  /** Timers: windows that close without a reading (arrival time, idle devices). */
  start(): void {
    const { slideMs, idleMs = 0 } = this.windows;
    const work = this.work;
    if (this.timeSource === 'arrival') {
      const tick = (): void => {
        const out: WindowResult[] = [];
        work.eachWindows((w, tp) => {
          const before = out.length;
          w.advance(Date.now(), out);
          if (out.length > before && tp !== null) work.touch(tp);
        });
        work.emit(out);
        if (out.length) this.showStatus();
      };
      // Rescheduled whatever the tick did (a tick that threw is reported, and the next one runs).
      const schedule = (): void => {
        this.timers[0] = guardedTimeout(
          () => {
            schedule();
            tick();
          },
          slideMs - (Date.now() % slideMs) + 1,
          work.timerError,
        );
        this.timers[0].unref?.();
      };
      schedule();
    }
    if (idleMs > 0) {
      this.timers.push(
        guardedInterval(() => {
          const out: WindowResult[] = [];
          let swept = 0;
          work.eachWindows((w, tp) => {
            const n = w.sweep(Date.now(), out);
            if (n > 0 && tp !== null) work.touch(tp);
            swept += n;
          });
          if (swept > 0) {
            work.emit(out);
            this.showStatus();
          }
        }, Math.min(Math.max(idleMs / 4, 1000), 60_000), work.timerError),
      );
    }
    for (const t of this.timers) t.unref?.();
  }

  /** Every timer off (the node stops). */
  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    if (this.statusTimer) clearTimeout(this.statusTimer);
  }

  /** Status at most every 500 ms: counting open windows walks every device. */
  showStatus(): void {
    const wait = 500 - (Date.now() - this.shownAt);
    if (wait > 0) {
      this.statusTimer ??= guardedTimeout(
        () => {
          this.statusTimer = null;
          this.showStatus();
        },
        wait,
        this.work.timerError,
      );
      return;
    }
    this.shownAt = Date.now();
    let devices = 0;
    let open = 0;
    let late = 0;
    this.work.eachWindows((w) => {
      const s = w.stats();
      devices += s.devices;
      open += s.openWindows;
      late += w.lateCount;
    });
    const counts = { devices: compact(devices), windows: compact(open), late: compact(late) };
    const shown = text(late > 0 ? 'smoke-sliding-window.status.counts-late' : 'smoke-sliding-window.status.counts', counts);
    if (shown !== this.shown) this.work.status((this.shown = shown));
  }
}
