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
import { shared } from './i18n';
import type { RED } from './types';

interface FlowNodeDef {
  id: string;
  type: string;
  wires?: string[][];
  links?: string[];
  d?: boolean;
  /** kafka in's processing guarantee, kafka in's and kafka out's broker node. */
  processing?: string;
  broker?: string;
}

/** Ids of the enabled `smoke-kafka-in` nodes upstream of `nodeId` (nearest first). */
export function upstreamKafkaIns(RED: RED, nodeId: string, defs = flowDefs(RED)): string[] {
  const found: string[] = [];
  upstream(defs, nodeId, (def) => {
    if (def.type !== KAFKA_IN) return true;
    found.push(def.id);
    return false;
  });
  return found;
}

/**
 * The `kafka in` whose partitions the state of stateful node `nodeId` follows (its changelog), in state
 * mode `mode`: with `auto` or `changelog` the one kafka in upstream, when there is exactly one; with any
 * other mode, or none or several upstream, none (the state stays in memory or its own store). With
 * `changelog` and not exactly one upstream, the problem goes to `problems`.
 */
export function changelogSource(RED: RED, nodeId: string, mode: string, problems: string[] = []): string | undefined {
  if (mode !== 'auto' && mode !== 'changelog') return undefined;
  const ins = upstreamKafkaIns(RED, nodeId);
  if (mode === 'changelog' && ins.length !== 1) problems.push(shared('smoke-kafka-broker.common.config.changelog-upstream', { found: ins.length }));
  return ins.length === 1 ? ins[0] : undefined;
}

/**
 * How many acknowledging sinks a stateful node with changelog `changelogOf` tracks the results of its
 * output `port` for ({@link ackingSinks}), keeping them in its checkpoints until written (exactly-once);
 * none without a changelog.
 */
export function trackedSinks(RED: RED, nodeId: string, port: number, changelogOf: string | undefined): number {
  return changelogOf === undefined ? 0 : ackingSinks(RED, nodeId, port);
}

/**
 * Whether Kafka records that end at `nodeId` (kept in its state, as the sliding window keeps readings, or
 * sent to an output without wires) have nobody to acknowledge them but this node: some enabled `kafka
 * in` is upstream, no csv sink or kafka out lies on the way, and none can get the same records on a
 * branch beside the way (a fan-out: `fire → csv sink` beside `fire → sliding window`). Then the node
 * acknowledges them itself (nodes/nr/ack.ts `settle`), as `kafka in` counts a message to an output
 * without wires as handled; otherwise nothing would ever acknowledge them and an after-sink `kafka in`
 * would stop at its in-flight limit. Where a sink gets the records, the sink acknowledges and the node
 * does not: an acknowledgement of its own would let the commit pass records the sink has not written.
 * Sensor validate's outputs and a sliding window's late output carry other records than the rest (a
 * rejects sink does not get the valid readings); any other node may send a record on every output.
 */
export function recordsEndHere(RED: RED, nodeId: string, defs = flowDefs(RED)): boolean {
  const p = recordPaths(defs, nodeId);
  return p.fromKafka && !p.otherSink;
}

/**
 * What sink `nodeId` (a csv sink or kafka out) does with the Kafka records it writes:
 * - `acknowledges`: it acknowledges them (nodes/nr/ack.ts), unless it is a csv sink whose output leads
 *   to another sink (`csv sink → kafka out`: archive, then publish). That one passes each message on once
 *   written and the sink behind acknowledges the records once it has them too; were both to acknowledge,
 *   the first one's acknowledgement would complete the records before the second got them, and a crash
 *   in between would lose the second one's copy.
 * - `holds`: it acknowledges them, and another csv sink or kafka out may get the same records, on the
 *   way from the kafka in or on a branch beside it (`validate → csv sink` and `validate → kafka out`, or
 *   two csv sinks of the same readings). Each acknowledges all of them, and a unit counts as acknowledged
 *   once its records are, so the first sink's write would let the commit pass rows the other has not
 *   written: such a sink holds each message's token from its arrival until it acknowledged it
 *   (ack.ts `holdUntilAcked`). A sink that passes its records on instead holds them until the sink behind
 *   it holds them (ack.ts `holdUntilHandedOn`), where another sink shares them.
 */
export function sinkRole(RED: RED, nodeId: string, defs = flowDefs(RED)): { acknowledges: boolean; holds: boolean } {
  const def = defs.get(nodeId);
  const acknowledges = def === undefined || !passesRecordsOn(defs, def);
  const p = recordPaths(defs, nodeId);
  return { acknowledges, holds: p.fromKafka && p.otherSink };
}

/**
 * The ways of the Kafka records that reach `nodeId`: `fromKafka`, some enabled `kafka in` is upstream;
 * `otherSink`, a csv sink or kafka out lies on the way from it, or can get the same records on a branch
 * beside the way (see {@link recordsEndHere}).
 */
function recordPaths(defs: Map<string, FlowNodeDef>, nodeId: string): { fromKafka: boolean; otherSink: boolean } {
  // The nodes on the way from a kafka in to this one (its ancestors, kafka in included).
  const way = new Set<string>();
  let sinkOnTheWay = false;
  upstream(defs, nodeId, (def) => {
    if (def.type === CSV_SINK || def.type === KAFKA_OUT) sinkOnTheWay = true;
    way.add(def.id);
    return def.type !== KAFKA_IN;
  });
  const ways = [...way].map((id) => defs.get(id)!);
  const fromKafka = ways.some((d) => d.type === KAFKA_IN);
  if (sinkOnTheWay || !fromKafka) return { fromKafka, otherSink: sinkOnTheWay };
  const onTheWay = (to: string) => to === nodeId || way.has(to);
  for (const d of ways) {
    // A link out's links are one more port (it has no wires of its own).
    const ports = d.type === 'link out' ? [...(d.wires ?? []), d.links ?? []] : (d.wires ?? []);
    const disjoint = DISJOINT_PORTS.has(d.type);
    for (let p = 0; p < ports.length; p++) {
      const port = ports[p] ?? [];
      // Beside the way: the other targets of a port that leads toward this node, and for a node that may
      // send one record on several outputs, every other output's targets (not a result output).
      if (!port.some(onTheWay) && (disjoint || p === RESULT_PORTS[d.type])) continue;
      if (port.some((to) => !onTheWay(to) && recordsReachSink(defs, to))) return { fromKafka, otherSink: true };
    }
  }
  return { fromKafka, otherSink: false };
}

/**
 * Where records end at `nodeId` with nobody to acknowledge them but the node, so that it settles them:
 * `here`, records it keeps ({@link recordsEndHere}); `outputs`, for each of its `outputs` ports, records
 * it sends there (no wires).
 */
export function recordEnds(RED: RED, nodeId: string, outputs: number, defs = flowDefs(RED)): { here: boolean; outputs: boolean[] } {
  const here = recordsEndHere(RED, nodeId, defs);
  const wires = defs.get(nodeId)?.wires ?? [];
  return { here, outputs: Array.from({ length: outputs }, (_, p) => here && (wires[p]?.length ?? 0) === 0) };
}

/** Node types that acknowledge what they write (nodes/nr/ack.ts): a csv sink its rows, a kafka out its records. */
const CSV_SINK = 'smoke-csv-sink';
const KAFKA_IN = 'smoke-kafka-in';
const KAFKA_OUT = 'smoke-kafka-out';

/**
 * How many sinks messages sent on output `port` of `nodeId` reach that acknowledge them: csv sinks and
 * kafka outs that acknowledge ({@link sinkRole}). A node that tracks its outputs until written waits for that
 * many acknowledgements of each (nodes/nr/task-store.ts).
 */
export function ackingSinks(RED: RED, nodeId: string, port: number): number {
  const defs = flowDefs(RED);
  let n = 0;
  downstream(defs, defs.get(nodeId)?.wires?.[port] ?? [], nodeId, (def) => {
    if (def.type === KAFKA_OUT || (def.type === CSV_SINK && !passesRecordsOn(defs, def))) n++;
    return targetsOf(def);
  });
  return n;
}

/**
 * Ids of the enabled nodes behind `nodeId`: every node its messages can reach, along the wires of all its
 * outputs and through `link out` / `link in` pairs.
 */
export function nodesBehind(RED: RED, nodeId: string): Set<string> {
  const defs = flowDefs(RED);
  const behind = new Set<string>();
  const start = defs.get(nodeId);
  if (start === undefined) return behind;
  downstream(defs, targetsOf(start), nodeId, (def) => {
    behind.add(def.id);
    return targetsOf(def);
  });
  return behind;
}

/** Whether a sink's output leads its records to another csv sink or kafka out. */
function passesRecordsOn(defs: Map<string, FlowNodeDef>, def: FlowNodeDef): boolean {
  return def.type === CSV_SINK && targetsOf(def).some((to) => recordsReachSink(defs, to));
}

/**
 * The `kafka in` whose partition tasks kafka out `nodeId` sends exactly-once in: the one `kafka in`
 * upstream, when its processing is `exactly-once` and it uses the same broker node (a transaction spans
 * one cluster). Otherwise `why` says why not (undefined when no exactly-once kafka in is upstream at all):
 * `several` kafka in nodes upstream (`ins` of them), or one on `another-broker`.
 */
export function exactlyOnceSource(RED: RED, nodeId: string, defs = flowDefs(RED)): { kafkaIn?: string; why?: 'several' | 'another-broker'; ins?: number } {
  const ins = upstreamKafkaIns(RED, nodeId, defs).map((id) => defs.get(id)!);
  const eo = ins.filter((d) => d.processing === 'exactly-once');
  if (eo.length === 0) return {};
  if (ins.length > 1) return { why: 'several', ins: ins.length };
  if (eo[0].broker !== defs.get(nodeId)?.broker) return { why: 'another-broker' };
  return { kafkaIn: eo[0].id };
}

/** Whether `kafka in` `kafkaInId` processes exactly-once (its `processing` setting). */
export function isExactlyOnce(RED: RED, kafkaInId: string): boolean {
  return flowDefs(RED).get(kafkaInId)?.processing === 'exactly-once';
}

/** Where a node's messages go: its wires' targets (but those of output `skip`), and a `link out`'s `link in` nodes. */
function targetsOf(n: FlowNodeDef, skip?: number): string[] {
  const out: string[] = [];
  (n.wires ?? []).forEach((port, p) => {
    if (p !== skip) for (const to of port ?? []) out.push(to);
  });
  if (n.type === 'link out') for (const to of n.links ?? []) out.push(to);
  return out;
}

/**
 * Visits the enabled nodes upstream of `nodeId` once each, nearest first (breadth-first along the wires
 * backwards); `visit` returns whether to go on past a node.
 */
function upstream(defs: Map<string, FlowNodeDef>, nodeId: string, visit: (def: FlowNodeDef) => boolean): void {
  const into = sourcesOf(defs);
  const seen = new Set<string>([nodeId]);
  let frontier = [nodeId];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const id of frontier) {
      for (const from of into.get(id) ?? []) {
        if (seen.has(from)) continue;
        seen.add(from);
        const def = defs.get(from);
        if (def !== undefined && def.d !== true && visit(def)) next.push(from);
      }
    }
    frontier = next;
  }
}

/**
 * Outputs that carry no Kafka records (so no record's ack token): a sliding window's results (output 1)
 * and a detector's alerts (output 2). Every other output of every node may pass records on.
 */
const RESULT_PORTS: Record<string, number> = {
  'smoke-sliding-window': 0,
  'smoke-threshold-alert': 1,
  'smoke-zscore-anomaly': 1,
  'smoke-fire-pattern': 1,
  'smoke-window-alert': 1,
};

/** Nodes whose outputs carry different records (a record leaves on one of them only). */
const DISJOINT_PORTS = new Set(['smoke-sensor-validate', 'smoke-sliding-window', 'smoke-kafka-in']);

/** Whether records sent to node `start` can reach a csv sink or a kafka out (which acknowledge them). */
function recordsReachSink(defs: Map<string, FlowNodeDef>, start: string): boolean {
  let found = false;
  downstream(defs, [start], undefined, (def) => {
    if (found || def.type === CSV_SINK || def.type === KAFKA_OUT) {
      found = true;
      return [];
    }
    // Every output but one that carries results instead of records.
    return targetsOf(def, RESULT_PORTS[def.type]);
  });
  return found;
}

/**
 * Visits the enabled nodes reachable from `starts` once each (depth first along the wires, `from` not
 * visited); `visit` returns where to go on from a node.
 */
function downstream(defs: Map<string, FlowNodeDef>, starts: readonly string[], from: string | undefined, visit: (def: FlowNodeDef) => readonly string[]): void {
  const seen = new Set<string>(from === undefined ? [] : [from]);
  const stack = [...starts];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const def = defs.get(id);
    if (def !== undefined && def.d !== true) stack.push(...visit(def));
  }
}

/** Where each node's messages come from: the inverse of {@link targetsOf}. */
function sourcesOf(defs: Map<string, FlowNodeDef>): Map<string, string[]> {
  const into = new Map<string, string[]>();
  for (const n of defs.values()) {
    for (const to of targetsOf(n)) {
      let list = into.get(to);
      if (list === undefined) into.set(to, (list = []));
      list.push(n.id);
    }
  }
  return into;
}

function flowDefs(RED: RED): Map<string, FlowNodeDef> {
  const defs = new Map<string, FlowNodeDef>();
  (RED.nodes as unknown as { eachNode(cb: (n: FlowNodeDef) => void): void }).eachNode((n) => defs.set(n.id, n));
  return defs;
}
