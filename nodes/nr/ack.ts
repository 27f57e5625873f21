/**
 * Acknowledgements from sinks, and holds from stateful nodes, back to the Kafka consumer that produced
 * a record: the link behind `kafka in`'s `after-sink` commit mode (at-least-once: an offset is committed
 * only after every record up to it was durably written, and is durably in the state of every stateful
 * node that holds it).
 *
 * `kafka in` stamps each message it emits with `msg.kafka.ack = { consumer, id, records }`: the id of
 * the consumer node, a sequence number of the emitted unit (one record, or one fetched batch) and the
 * number of records in it. Every node that passes records on keeps `msg.kafka` (the same object) on the
 * messages that carry them (validate's valid and invalid outputs, the detectors' pass-through). A sink
 * that has durably written `n` of those records calls `ack(msg.kafka.ack, n)`. Messages that carry no
 * records (alerts, window results) carry no such token. Records that end where no sink is behind them
 * (kept in a window's state, or sent to an output without wires) are acknowledged by that node
 * ({@link settle}).
 *
 * Sinks that share records (a fan-out of the same records to two csv sinks, or to a csv sink and a
 * kafka out: flow-graph.ts `sinkRole`) each hold the unit from the message's arrival until they
 * acknowledged it ({@link holdUntilAcked}): the acknowledgements of one sink alone reach the record
 * count, and would complete the unit before the other sink wrote it.
 *
 * Holds: a node that keeps records in state and checkpoints that state now and then (the sliding
 * window with a persistent context store) calls `hold(msg.kafka.ack, itsNodeId)` when the message
 * arrives, and `release(token, itsNodeId)` once a checkpoint that contains those records is durable.
 * A unit is complete, and `kafka in` may commit up to it, when the acks reached its record count AND
 * every hold on it was released. Otherwise a crash would restore state older than the committed offset,
 * and the records in between would never come again.
 *
 * Timing assumption (why a hold arrives in time): a hold must reach the consumer before the unit's last
 * ack. The holder calls `hold()` synchronously in its input handler. Node-RED delivers the messages of
 * one `send()` to every wired node in the same event-loop phase (one setImmediate each, or synchronously
 * with `runtimeSyncDelivery`), so a message that fans out to a sink and to a holder (fire pattern →
 * csv sink and → sliding window) reaches the holder before the sink's write, let alone its fsync, has
 * completed: sinks acknowledge from an I/O callback, never from their input handler. A node that defers
 * delivery to the holder (a delay, rate limit or batch node between the fan-out and the window, or a
 * link to another process) breaks this: the sink may ack first and the offset be committed before the
 * hold. `hold()` then answers `late`, and the holder should say so (the window warns once).
 *
 * A process-wide registry is enough: Node-RED loads every node of a package in one process, and the
 * consumer that stamped a token is found by its node id.
 */
export interface AckToken {
  consumer: string;
  id: number;
  records: number;
}

/** What `hold()` did: `held`; `late`: the unit was already complete (see the timing assumption); `none`: nothing to hold. */
export type HoldOutcome = 'held' | 'late' | 'none';

/** A consumer's side of the link: unit ids are the ones it put in its tokens. */
export interface ConsumerHandler {
  ack(id: number, records: number): void;
  /** Returns `held`, `late` (unit already complete) or `unknown` (not one of its pending units). */
  hold?(id: number, holder: string): 'held' | 'late' | 'unknown';
  release?(id: number, holder: string): void;
  /** Ends one hold of `holder` with the next hold of another holder (lib/kafka-offsets.ts `handOn`). */
  handOn?(id: number, holder: string): void;
}

/** An acknowledgement-only consumer (no holds). */
export type AckHandler = (id: number, records: number) => void;

const consumers = new Map<string, ConsumerHandler | AckHandler>();

export function registerConsumer(consumerId: string, handler: ConsumerHandler | AckHandler): void {
  consumers.set(consumerId, handler);
}

export function unregisterConsumer(consumerId: string, handler?: ConsumerHandler | AckHandler): void {
  if (handler === undefined || consumers.get(consumerId) === handler) consumers.delete(consumerId);
}

export function isAckToken(v: unknown): v is AckToken {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as AckToken).consumer === 'string' &&
    typeof (v as AckToken).id === 'number' &&
    typeof (v as AckToken).records === 'number'
  );
}

/**
 * Acknowledge `records` durably written records of the unit behind `token` (usually `msg.kafka?.ack`).
 * Returns false when there is nothing to acknowledge (no token, or its consumer is gone: after a
 * redeploy the records will be redelivered, which at-least-once allows).
 */
export function ack(token: unknown, records: number): boolean {
  if (!isAckToken(token) || records <= 0) return false;
  const h = consumers.get(token.consumer);
  if (!h) return false;
  if (typeof h === 'function') h(token.id, records);
  else h.ack(token.id, records);
  return true;
}

/**
 * Records that end at a node with nobody behind it to acknowledge them (flow-graph.ts
 * `recordsEndHere`): kept in its state, or sent to an output without wires. Acknowledges the records of
 * `msg` (its payload's items, or 1) when it carries a `kafka in`'s token; a holder holds the token first
 * (on arrival), so the commit still waits for its checkpoint. A token of a node's own outputs (window
 * results, alerts tracked by their partition task) is left alone: those count the sinks they reach.
 */
export function settle(msg: { payload?: unknown; kafka?: unknown }, records = Array.isArray(msg.payload) ? msg.payload.length : 1): void {
  const token = (msg.kafka as { ack?: unknown } | null | undefined)?.ack;
  if (!isAckToken(token) || records <= 0) return;
  const h = consumers.get(token.consumer);
  if (h !== undefined && typeof h !== 'function') h.ack(token.id, records);
}

/**
 * Hold the unit behind `token` for `holderId` (a node id): it is not committed until released. Call it
 * synchronously in the input handler (see the timing assumption above). `none` when there is nothing to
 * hold: no token, the consumer is gone or takes no holds, or the unit was forgotten by a rebalance (its
 * records come again).
 */
export function hold(token: unknown, holderId: string): HoldOutcome {
  if (!isAckToken(token)) return 'none';
  const h = consumers.get(token.consumer);
  if (!h || typeof h === 'function' || !h.hold) return 'none';
  const r = h.hold(token.id, holderId);
  return r === 'unknown' ? 'none' : r;
}

/** Release one hold of `holderId` on the unit behind `token`. Returns false when its consumer is gone. */
export function release(token: AckToken, holderId: string): boolean {
  const h = consumers.get(token.consumer);
  if (!h || typeof h === 'function' || !h.release) return false;
  h.release(token.id, holderId);
  return true;
}

/** What a sink calls once it acknowledged a message's records: gives back the hold taken on arrival. */
export type HoldRelease = () => void;

/** The release of a message nothing was held for. */
export const NOTHING_HELD: HoldRelease = () => {};

/**
 * A sink that shares records with another sink (flow-graph.ts `sinkRole`) holds the unit behind
 * the message's token from the message's arrival (call this synchronously in the input handler) until it
 * has acknowledged the records: call the function it returns right after `ack`. Without the hold the
 * first sink's acknowledgement would complete the unit. A message whose records are never written
 * (a failed write) keeps its hold, and the commit stays behind it, as it stays behind the missing
 * acknowledgement.
 */
export function holdUntilAcked(msg: { payload?: unknown; kafka?: unknown }, holderId: string): HoldRelease {
  const token = (msg.kafka as { ack?: unknown } | null | undefined)?.ack;
  if (hold(token, holderId) !== 'held') return NOTHING_HELD;
  return () => {
    release(token as AckToken, holderId);
  };
}

/**
 * The hold of a sink that shares records with another sink and passes them on to a third instead of
 * acknowledging them (a csv sink → kafka out: archive, then publish; flow-graph.ts `sinkRole`): taken on
 * arrival, like {@link holdUntilAcked}; call the function it returns right before passing the message
 * on. The hold then lasts until the sink behind takes its own (on arrival, as it shares the records
 * too): released at once, the other sink's acknowledgement could complete the unit while the message
 * is on its way, and the commit pass records the sink behind never got.
 */
export function holdUntilHandedOn(msg: { payload?: unknown; kafka?: unknown }, holderId: string): HoldRelease {
  const token = (msg.kafka as { ack?: unknown } | null | undefined)?.ack;
  if (hold(token, holderId) !== 'held') return NOTHING_HELD;
  return () => {
    const h = consumers.get((token as AckToken).consumer);
    if (h !== undefined && typeof h !== 'function') h.handOn?.((token as AckToken).id, holderId);
  };
}
