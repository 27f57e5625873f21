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
 * A partial deploy that stops nodes behind a node left running (`kafka in`) is told to it as it
 * begins and once it is done: {@link watchDeploys}.
 */
import type { Node } from 'node-red';
import { shared } from './i18n';
import type { RED } from './types';

/** Node-RED's runtime event once a deploy (full or partial) has started the flows. */
const FLOWS_STARTED = 'flows:started';
/** Node-RED's runtime event as a deploy begins to stop nodes, with the deploy's type and diff. */
const FLOWS_STOPPING = 'flows:stopping';

/** What Node-RED passes with `flows:stopping` (the parts read here). */
interface StoppingEvent {
  type?: string;
  diff?: { changed?: string[]; removed?: string[]; rewired?: string[]; linked?: string[] };
}

type Callback = (event: unknown) => void;

/**
 * The callbacks of the nodes that watch deploys, by the runtime's event emitter and event: one listener
 * on it for all of them (Node.js warns of a leak past 10 listeners of one event, and a flow has more nodes).
 */
const watchers = new WeakMap<RED['events'], Map<string, Set<Callback>>>();

/** The callbacks run on every `event` of `events`, with the one listener that runs them. */
function runtimeCallbacks(events: RED['events'], event: string): Set<Callback> {
  let byEvent = watchers.get(events);
  if (byEvent === undefined) watchers.set(events, (byEvent = new Map()));
  let all = byEvent.get(event);
  if (all === undefined) {
    const callbacks = new Set<Callback>();
    events.on(event, (e: unknown) => {
      for (const f of [...callbacks]) {
        try {
          f(e);
        } catch {
          // a flow being replaced part-way: the next deploy's event asks again
        }
      }
    });
    byEvent.set(event, (all = callbacks));
  }
  return all;
}

/** Calls `fn` on every later `event` of the runtime, until the node closes. */
function onEvery(RED: RED, node: Node, event: string, fn: Callback): () => void {
  const callbacks = runtimeCallbacks(RED.events, event);
  const stop = (): void => {
    callbacks.delete(fn);
  };
  callbacks.add(fn);
  node.on('close', stop);
  return stop;
}

/** Calls `fn` after every later deploy (Node-RED's `flows:started`), until the node closes. */
export function afterEveryDeploy(RED: RED, node: Node, fn: () => void): () => void {
  return onEvery(RED, node, FLOWS_STARTED, () => fn());
}

/**
 * The nodes a deploy stops, as Node-RED's flows.stop chooses them: all of them in a full deploy (or one
 * whose type is unknown), the changed and removed ones in a "Modified Nodes" deploy, and also the ones
 * rewired or linked to them in a "Modified Flows" deploy.
 */
export function stoppedBy(e: StoppingEvent): 'all' | string[] {
  const d = e.diff;
  if (d === undefined || (e.type !== 'nodes' && e.type !== 'flows')) return 'all';
  const ids = [...(d.changed ?? []), ...(d.removed ?? [])];
  if (e.type === 'flows') ids.push(...(d.rewired ?? []), ...(d.linked ?? []));
  return ids;
}

/** What a node that outlives a partial deploy hears of it: {@link watchDeploys}. */
export interface DeployWatch {
  /** The deploy begins to stop nodes; `behind`: some of them are behind this node (flow-graph.ts `nodesBehind`). */
  stopping(behind: boolean): void;
  /** The deploy's flows have started (the stopped nodes' replacements with them). */
  started(): void;
}

/**
 * Tells `node` of every later partial deploy that leaves it running: as it begins to stop nodes (whether
 * any of them is behind `node` in the flows it stops, `behind()` asked before it and after every deploy),
 * and once its flows have started. A deploy that stops `node` itself is not told: the node closes.
 */
export function watchDeploys(RED: RED, node: Node, behind: () => Set<string>, watch: DeployWatch): void {
  let ids = behind();
  let told = false;
  onEvery(RED, node, FLOWS_STOPPING, (e) => {
    const stopped = stoppedBy((e ?? {}) as StoppingEvent);
    if (stopped === 'all' || stopped.includes(node.id)) return;
    told = true;
    watch.stopping(stopped.some((id) => ids.has(id)));
  });
  onEvery(RED, node, FLOWS_STARTED, () => {
    ids = behind();
    if (!told) return;
    told = false;
    watch.started();
  });
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
