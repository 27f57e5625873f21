/**
 * What `kafka in` shows in its status, by priority: broker problems first, then the consumer's own
 * state (failed, a deleted or recreated topic, connecting, rebalancing, restoring partition tasks),
 * then a sink that lags behind (after-sink), else throughput and lag. Decided here from a view of the
 * consumer, set only when it changed; and the throughput it shows. The texts are kafka in's (its
 * catalogue); the status is decided about once a second (kafka-consumer.ts), not per record.
 */
import type { Translate } from './i18n';
import type { BrokerState } from './kafka-client';
import { compact, setStatus, type StatusKind } from './status';
import type { Node } from './types';

export type OwnState = 'connecting' | 'rebalancing' | 'running' | 'failed' | 'stopped';

/** The consumer as its status sees it. */
export interface ConsumerView {
  broker: BrokerState;
  own: OwnState;
  ownText: string;
  /** A deleted or recreated topic (consumer-topics.ts), shown until `until`. */
  alert: { kind: StatusKind; text: string; until: number } | null;
  /** Partition tasks restoring now. */
  restoring: number;
  /** When the oldest unacknowledged message was emitted (after-sink); undefined: none. */
  oldestPending(): number | undefined;
  sinkWarnMs: number;
  /** Records per second. */
  rate: number;
  lagTotal: number | null;
}

/** The status of a consumer at `now`, in kafka in's words (`t`); null when it shows none (stopped). */
export function consumerStatus(v: ConsumerView, now: number, t: Translate): { kind: StatusKind; text: string } | null {
  const b = v.broker.kind;
  if (b === 'down' || b === 'auth' || b === 'bad-config') return { kind: 'failed', text: v.broker.text };
  if (v.own === 'failed') return { kind: 'failed', text: v.ownText };
  const alert = v.alert;
  if (alert !== null && now < alert.until && v.own !== 'stopped') return { kind: alert.kind, text: alert.text };
  if (v.own === 'connecting' || v.own === 'rebalancing') return { kind: 'connecting', text: v.ownText };
  if (v.own === 'running' && v.restoring > 0) return { kind: 'connecting', text: t('smoke-kafka-in.status.restoring', { count: v.restoring }) };
  if (v.own === 'stopped') return null;
  const oldest = v.oldestPending();
  if (oldest !== undefined && now - oldest > v.sinkWarnMs) return { kind: 'connecting', text: t('smoke-kafka-in.status.waiting-for-sink') };
  const rate = compact(Math.round(v.rate));
  return { kind: 'ok', text: v.lagTotal === null ? t('smoke-kafka-in.status.rate', { rate }) : t('smoke-kafka-in.status.rate-lag', { rate, lag: compact(v.lagTotal) }) };
}

/** A node's status, set only when it changed. */
export class ShownStatus {
  private key = '';

  constructor(private readonly node: Node) {}

  set(kind: StatusKind, text: string): void {
    const key = kind + text;
    if (key === this.key) return;
    this.key = key;
    setStatus(this.node, kind, text);
  }
}

/** Records per second between two updates (the status and output 3's `recordsPerSec`). */
export class Rate {
  value = 0;
  private at = Date.now();
  private seen = 0;

  /** Update from the count of records so far. */
  update(records: number, now: number): void {
    const dt = now - this.at;
    if (dt > 0) {
      this.value = ((records - this.seen) * 1000) / dt;
      this.at = now;
      this.seen = records;
    }
  }
}
