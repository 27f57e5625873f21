/**
 * Acknowledgements from sinks back to the Kafka consumer that produced a record: the link behind
 * `kafka in`'s `after-sink` commit mode (at-least-once: an offset is committed only after every record
 * up to it was durably written).
 *
 * `kafka in` stamps each message it emits with `msg.kafka.ack = { consumer, id, records }`: the id of
 * the consumer node, a sequence number of the emitted unit (one record, or one fetched batch) and the
 * number of records in it. Every node that passes records on keeps `msg.kafka` (the same object) on the
 * messages that carry them (validate's valid and invalid outputs, the detectors' pass-through). A sink
 * that has durably written `n` of those records calls `ack(msg.kafka.ack, n)`; once a unit's count is
 * reached, `kafka in` may commit up to it. Messages that carry no records (alerts, window results)
 * carry no ack token.
 *
 * A process-wide registry is enough: Node-RED loads every node of a package in one process, and the
 * consumer that stamped a token is found by its node id.
 */
export interface AckToken {
  consumer: string;
  id: number;
  records: number;
}

export type AckHandler = (id: number, records: number) => void;

const consumers = new Map<string, AckHandler>();

export function registerConsumer(consumerId: string, handler: AckHandler): void {
  consumers.set(consumerId, handler);
}

export function unregisterConsumer(consumerId: string, handler?: AckHandler): void {
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
  h(token.id, records);
  return true;
}
