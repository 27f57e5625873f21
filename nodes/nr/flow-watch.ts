/**
 * A node derives what it needs from the flows around it once, as it starts: its `kafka in` (state and
 * exactly-once), the sinks its records reach and whether it shares them (after-sink acknowledgements,
 * flow-graph.ts). Node-RED restarts a node on a deploy only when its own settings or wires change, so a
 * "Modified Nodes" or "Modified Flows" deploy can rewire what lies around it (a second sink beside its
 * own, a kafka in added upstream) and leave it running on what it derived before: a sink that now shares
 * its records would not hold them, and a commit could pass records the new sink has not written.
 *
 * watchFlowAround derives the same again after every deploy (Node-RED's `flows:started`) and, when the
 * result differs from what the node started with, warns once, so that the user deploys in full (which
 * restarts every node). Only a warning: what a node derived decides how its state and commits were set
 * up, which cannot change under a running stream.
 */
import type { Node } from 'node-red';
import { shared } from './i18n';
import type { RED } from './types';

/** Node-RED's runtime event after a deploy has started the flows (full or partial). */
const FLOWS_STARTED = 'flows:started';

/**
 * Warns once on `node` when `derive()` (what the node took from the flows at its start: anything
 * JSON can compare) gives another answer after a later deploy. Stops watching when the node closes.
 */
export function watchFlowAround(RED: RED, node: Node, derive: () => unknown): void {
  const started = JSON.stringify(derive());
  const check = (): void => {
    let now: string;
    try {
      now = JSON.stringify(derive());
    } catch {
      return; // a flow being replaced part-way: the next deploy's event asks again
    }
    if (now === started) return;
    RED.events.removeListener(FLOWS_STARTED, check);
    node.warn(shared('smoke-kafka-broker.common.warn.flow-changed'));
  };
  RED.events.on(FLOWS_STARTED, check);
  node.on('close', () => {
    RED.events.removeListener(FLOWS_STARTED, check);
  });
}
