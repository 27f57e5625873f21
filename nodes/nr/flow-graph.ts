/**
 * Where a node sits in the deployed flows: the `kafka in` nodes whose records can reach it. A stateful
 * node behind a `kafka in` keeps its state per source partition in a changelog topic of that consumer's
 * group, restored when the consumer is assigned the partition (nodes/nr/partition-tasks.ts); it finds its
 * consumer here, from the wires, so that nothing needs configuring.
 *
 * Wires are followed backwards, through every node, including `link in` / `link out` pairs (a `link out`
 * lists the `link in` nodes it sends to; a `link call` returns to its caller, which this does not
 * follow).
 */
import type { RED } from './types';

interface FlowNodeDef {
  id: string;
  type: string;
  wires?: string[][];
  links?: string[];
  d?: boolean;
}

/** Ids of the enabled `smoke-kafka-in` nodes upstream of `nodeId` (nearest first). */
export function upstreamKafkaIns(RED: RED, nodeId: string): string[] {
  const defs = new Map<string, FlowNodeDef>();
  const into = new Map<string, string[]>();
  const edge = (from: string, to: string) => {
    let list = into.get(to);
    if (list === undefined) into.set(to, (list = []));
    list.push(from);
  };
  (RED.nodes as unknown as { eachNode(cb: (n: FlowNodeDef) => void): void }).eachNode((n) => {
    defs.set(n.id, n);
    for (const port of n.wires ?? []) for (const to of port ?? []) edge(n.id, to);
    if (n.type === 'link out') for (const to of n.links ?? []) edge(n.id, to);
  });
  const found: string[] = [];
  const seen = new Set<string>([nodeId]);
  let frontier = [nodeId];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const id of frontier) {
      for (const from of into.get(id) ?? []) {
        if (seen.has(from)) continue;
        seen.add(from);
        const def = defs.get(from);
        if (def === undefined || def.d === true) continue;
        if (def.type === 'smoke-kafka-in') found.push(from);
        else next.push(from);
      }
    }
    frontier = next;
  }
  return found;
}

/**
 * Whether messages sent on output `port` of `nodeId` can reach a node of type `type` (following wires
 * through every node, and `link out` → `link in`).
 */
export function outputReaches(RED: RED, nodeId: string, port: number, type: string): boolean {
  const defs = new Map<string, FlowNodeDef>();
  (RED.nodes as unknown as { eachNode(cb: (n: FlowNodeDef) => void): void }).eachNode((n) => defs.set(n.id, n));
  const start = defs.get(nodeId)?.wires?.[port] ?? [];
  const seen = new Set<string>([nodeId]);
  const stack = [...start];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const def = defs.get(id);
    if (def === undefined || def.d === true) continue;
    if (def.type === type) return true;
    for (const p of def.wires ?? []) for (const to of p ?? []) stack.push(to);
    if (def.type === 'link out') for (const to of def.links ?? []) stack.push(to);
  }
  return false;
}
