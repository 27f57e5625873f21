/**
 * Timers whose callbacks cannot fail unnoticed (model: node-red-contrib-home-assistant-websocket's
 * `setIntervalWithErrorHandling`): a bare timer callback that throws, or returns a promise that
 * rejects, would be an uncaught exception that takes the whole runtime down, or vanish. Here it goes
 * to the node's handler: a log line and a red status, once per distinct message, and the timer keeps
 * running.
 */
import { shared } from './i18n';
import { setStatus } from './status';
import type { Node } from './types';

export type TimerErrorHandler = (err: unknown) => void;

function guard(fn: () => unknown, onError: TimerErrorHandler): () => void {
  return () => {
    try {
      const r = fn();
      if (r instanceof Promise) r.catch(onError);
    } catch (err) {
      onError(err);
    }
  };
}

/** `setInterval` whose callback's throw or rejection goes to `onError`. */
export function guardedInterval(fn: () => unknown, ms: number, onError: TimerErrorHandler): NodeJS.Timeout {
  return setInterval(guard(fn, onError), ms);
}

/** `setTimeout` whose callback's throw or rejection goes to `onError`. */
export function guardedTimeout(fn: () => unknown, ms: number, onError: TimerErrorHandler): NodeJS.Timeout {
  return setTimeout(guard(fn, onError), ms);
}

/**
 * The handler for a node's timers: `node.error` with what failed (once per distinct message, so a
 * timer that fails every 100 ms does not flood the log) and a red `internal error` status.
 */
export function reportTimerErrors(node: Pick<Node, 'error' | 'status'>, what: string): TimerErrorHandler {
  const said = new Set<string>();
  return (err) => {
    const text = err instanceof Error ? err.message : String(err);
    if (!said.has(text)) {
      if (said.size > 20) said.clear();
      said.add(text);
      node.error(shared('smoke-kafka-broker.common.errors.timer', { what, error: text }));
    }
    setStatus(node as Node, 'failed', shared('smoke-kafka-broker.common.status.internal-error'));
  };
}
