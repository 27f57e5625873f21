/**
 * The node's own failures (not the data's): one handler that sets a red status and reports through
 * `done(err)` so Catch nodes see it (model: home-assistant-websocket's inputErrorHandler).
 */
import type { Done, Node } from './types';
import { setStatus } from './status';

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

export function handleInputError(node: Node, err: unknown, done: Done, statusText?: string): void {
  const e = err instanceof Error ? err : new Error(String(err));
  setStatus(node, 'failed', statusText ?? e.message);
  done(e);
}

/**
 * A configuration that cannot be used: red status, one `node.error` with the reasons, and the caller
 * registers no input handler (STYLE: bad config → error status, no input handler).
 */
export function reportBadConfig(node: Node, problems: string[]): void {
  setStatus(node, 'failed', 'bad config');
  node.error(`Invalid configuration: ${problems.join('; ')}`);
}
