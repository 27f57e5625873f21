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

export function setStatus(node: Node, kind: StatusKind, text: string): void {
  node.status({ ...SHAPES[kind], text: clip(text) });
}

export function clearStatus(node: Node): void {
  node.status({});
}

/**
 * Status updates on a hot path go through here: the latest text wins, and the node's status is
 * written at most once per `intervalMs`. `stop()` cancels a pending update (call it on close).
 */
export class ThrottledStatus {
  private last = 0;
  private pending: { kind: StatusKind; text: string } | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly node: Node,
    private readonly intervalMs = 500,
  ) {}

  set(kind: StatusKind, text: string): void {
    const now = Date.now();
    if (now - this.last >= this.intervalMs && this.timer === null) {
      this.last = now;
      setStatus(this.node, kind, text);
      return;
    }
    this.pending = { kind, text };
    if (this.timer === null) {
      this.timer = setTimeout(
        () => {
          this.timer = null;
          this.last = Date.now();
          const p = this.pending;
          this.pending = null;
          if (p) setStatus(this.node, p.kind, p.text);
        },
        Math.max(0, this.intervalMs - (now - this.last)),
      );
      this.timer.unref?.();
    }
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
    this.pending = null;
  }
}

/** Compact number for status text: 950, 12.3k, 4.5M. */
export function compact(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1e6) return (n / 1e3).toFixed(n < 1e4 ? 1 : 0) + 'k';
  return (n / 1e6).toFixed(1) + 'M';
}
