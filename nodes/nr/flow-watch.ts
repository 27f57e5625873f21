/**
 * A node derives what it needs from the flows around it as it starts: its `kafka in` (state and
 * exactly-once), the sinks its records reach and whether it shares them (after-sink acknowledgements,
 * flow-graph.ts). Node-RED restarts a node on a deploy only when its own settings or wires change, so a
 * "Modified Nodes" or "Modified Flows" deploy can rewire what lies around it (a second sink beside its
 * own, a kafka in added upstream) and leave it running.
 *
 * What a node decides per message (whether a sink holds or acknowledges a message's records, whether
 * records end at an output) it derives again after every deploy: {@link afterEveryDeploy}. What set up
 * its state or its exactly-once positions cannot change under a running stream: for that,
 * {@link watchFlowAround} warns once, so that the user deploys in full (which restarts every node).
 */
import type { Node } from 'node-red';
import { shared } from './i18n';
import type { RED } from './types';

/** Node-RED's runtime event once a deploy (full or partial) has started the flows. */
const FLOWS_STARTED = 'flows:started';

/**
 * The callbacks of the nodes that watch deploys, by the runtime's event emitter: one listener on it for
 * all of them (Node.js warns of a leak past 10 listeners of one event, and a flow has more nodes).
 */
const watchers = new WeakMap<RED['events'], Set<() => void>>();

/** The callbacks run after every deploy on `events`, with the one listener that runs them. */
function deployCallbacks(events: RED['events']): Set<() => void> {
  let all = watchers.get(events);
  if (all === undefined) {
    const callbacks = new Set<() => void>();
    events.on(FLOWS_STARTED, () => {
      for (const f of [...callbacks]) {
        try {
          f();
        } catch {
          // a flow being replaced part-way: the next deploy's event asks again
        }
      }
    });
    watchers.set(events, (all = callbacks));
  }
  return all;
}

/** Calls `fn` after every later deploy (Node-RED's `flows:started`), until the node closes. */
export function afterEveryDeploy(RED: RED, node: Node, fn: () => void): () => void {
  const callbacks = deployCallbacks(RED.events);
  const stop = (): void => {
    callbacks.delete(fn);
  };
  callbacks.add(fn);
  node.on('close', stop);
  return stop;
}

/**
 * Warns once on `node` when `derive()` (what the node took from the flows at its start, anything JSON
 * can compare) gives another answer after a later deploy.
 */
export function watchFlowAround(RED: RED, node: Node, derive: () => unknown): void {
  const started = JSON.stringify(derive());
  const stop = afterEveryDeploy(RED, node, () => {
    if (JSON.stringify(derive()) === started) return;
    stop();
    node.warn(shared('smoke-kafka-broker.common.warn.flow-changed'));
  });
}
