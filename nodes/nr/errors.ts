/**
 * The node's own failures (not the data's): one handler that sets a red status and reports through
 * `done(err)` so Catch nodes see it (model: home-assistant-websocket's inputErrorHandler), and the path
 * to Catch nodes for a condition that fails many messages at once, logged once by the caller.
 */
import type { Done, Node, NodeMessage } from './types';
import { shared } from './i18n';
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
  setStatus(node, 'failed', shared('smoke-kafka-broker.common.status.bad-config'));
  node.error(shared('smoke-kafka-broker.common.errors.invalid-config', { problems: problems.join('; ') }));
}

/** The part of Node-RED's flow object that `done(err)` / `node.error(err, msg)` hand an error to. */
interface CatchRouting {
  handleError(node: Node, err: Error, msg: NodeMessage): boolean;
}

/**
 * Fail one message of a condition that fails many at once (kafka out closing with records the broker
 * never acknowledged, a full queue): the flow's Catch nodes get the message with `msg.error`, exactly as
 * from `done(err)`, but nothing is logged. The caller logs the condition once, with its count.
 *
 * Why not `done(err)`: Node-RED completes it with `node.error(err, msg)`, which hands the error to the
 * flow's Catch nodes (`_flow.handleError`) and, when none took it, writes it to the log and the debug
 * sidebar: one line per message, thousands of identical lines for one condition. This calls that same
 * flow function and skips the log line. The message's `done` is not called: a Complete node, which
 * follows `done()`, never sees a message that was not delivered. On a runtime without that function
 * the message gets `done(err)`.
 */
export function failToCatch(node: Node, err: Error, msg: NodeMessage, done: Done): void {
  const flow = (node as unknown as { _flow?: Partial<CatchRouting> })._flow;
  if (typeof flow?.handleError === 'function') flow.handleError(node, err, msg);
  else done(err);
}
