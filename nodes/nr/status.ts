/**
 * One status vocabulary for every node (STYLE: green dot ok/connected, yellow ring
 * connecting/rebalancing, red ring failed, blue dot counts; text under ~20 characters), and a
 * throttle so that a busy stream updates the status at most every 500 ms.
 */
import type { Node } from './types';

export type StatusKind = 'ok' | 'connecting' | 'failed' | 'count' | 'idle';

const SHAPES: Record<StatusKind, { fill: 'green' | 'yellow' | 'red' | 'blue' | 'grey'; shape: 'dot' | 'ring' }> = {
  ok: { fill: 'green', shape: 'dot' },
  connecting: { fill: 'yellow', shape: 'ring' },
  failed: { fill: 'red', shape: 'ring' },
  count: { fill: 'blue', shape: 'dot' },
  idle: { fill: 'grey', shape: 'ring' },
};

/** Shorten status text to what fits under a node in the editor. */
export function clip(text: string, max = 24): string {
  return text.length <= max ? text : text.slice(0, max - 1) + '…';
}

/** A failure's text names its cause and what waits (`disk full: 12.3k rows waiting`): a little longer. */
const FAILED_MAX = 44;

export function setStatus(node: Node, kind: StatusKind, text: string): void {
  node.status({ ...SHAPES[kind], text: clip(text, kind === 'failed' ? FAILED_MAX : undefined) });
}

/** Status text, or a function that makes it: called only when the status is actually written. */
export type StatusText = string | (() => string);

/**
 * Status updates on a hot path go through here: the latest text wins, and the node's status is
 * written at most once per `intervalMs`. `stop()` cancels a pending update (call it on close).
 *
 * On a busy stream nearly every `set` falls inside the interval and is overwritten before it is
 * shown, so callers on the hot path pass a function (one per node, reading the node's counters)
 * rather than text: it is evaluated only when the status is written, and a throttled `set` then
 * costs two field stores (no clock read while an update is pending, no allocation).
 */
export class ThrottledStatus {
  private last = 0;
  private pendingKind: StatusKind | null = null;
  private pendingText: StatusText = '';
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly node: Node,
    private readonly intervalMs = 500,
  ) {}

  set(kind: StatusKind, text: StatusText): void {
    if (this.timer === null) {
      const now = Date.now();
      if (now - this.last >= this.intervalMs) {
        this.last = now;
        setStatus(this.node, kind, typeof text === 'string' ? text : text());
        return;
      }
      this.timer = setTimeout(() => this.fire(), Math.max(0, this.intervalMs - (now - this.last)));
      this.timer.unref?.();
    }
    this.pendingKind = kind;
    this.pendingText = text;
  }

  private fire(): void {
    this.timer = null;
    this.last = Date.now();
    const kind = this.pendingKind;
    const text = this.pendingText;
    this.pendingKind = null;
    this.pendingText = '';
    if (kind !== null) setStatus(this.node, kind, typeof text === 'string' ? text : text());
  }

  /** Write immediately (errors, connection changes) and drop any pending update. */
  now(kind: StatusKind, text: string): void {
    this.stop();
    this.last = Date.now();
    setStatus(this.node, kind, text);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pendingKind = null;
    this.pendingText = '';
  }
}

/** Compact number for status text: 950, 12.3k, 4.5M. */
export function compact(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1e6) return (n / 1e3).toFixed(n < 1e4 ? 1 : 0) + 'k';
  return (n / 1e6).toFixed(1) + 'M';
}

/** Count for log lines, with thousands separators: 6,000. */
export function thousands(n: number): string {
  return n.toLocaleString('en-US');
}
