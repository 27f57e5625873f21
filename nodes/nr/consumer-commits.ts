/**
 * The after-sink commits of `kafka in`: sinks acknowledge the records they wrote and stateful nodes hold
 * the ones their next checkpoint must cover (nodes/nr/ack.ts); the offset tracker (lib/kafka-offsets.ts)
 * knows what is commitable, and it is committed every `commitIntervalMs` (and on stop).
 */
import type { Consumer } from 'kafkajs';
import type { OffsetTracker } from '../lib/kafka-offsets';
import type { ConsumerHandler } from './ack';

/** What the commits need of the consumer. */
export interface CommitsHost {
  /** The running kafkajs consumer, if any. */
  consumer(): Consumer | null;
  /** In the group (a commit meanwhile would be refused). */
  joined(): boolean;
  /** Fewer records in flight: fetching may resume (see consumer-batches.ts). */
  drained(): void;
  /** A commit failed with `err` (retried on the next interval). */
  failed(err: unknown): void;
}

export class AfterSinkCommits {
  private committing: Promise<void> | null = null;
  /** Sinks' acknowledgements and stateful nodes' holds (see ack.ts). */
  readonly handler: ConsumerHandler = {
    ack: (id, n) => {
      this.tracker.ack(id, n);
      this.host.drained();
    },
    hold: (id, holder) => this.tracker.hold(id, holder),
    handOn: (id, holder) => this.tracker.handOn(id, holder),
    release: (id, holder) => {
      this.tracker.release(id, holder);
      this.host.drained();
    },
  };

  constructor(
    private readonly tracker: OffsetTracker,
    private readonly host: CommitsHost,
  ) {}

  /** Commit what every sink acknowledged (one commit at a time: a call meanwhile shares it). */
  commit(): Promise<void> {
    if (this.committing) return this.committing;
    const c = this.host.consumer();
    if (!c || !this.host.joined()) return Promise.resolve();
    const list = this.tracker.commitable();
    if (list.length === 0) return Promise.resolve();
    this.committing = c
      .commitOffsets(list.map((e) => ({ topic: e.topic, partition: e.partition, offset: String(e.offset) })))
      .then(() => {
        for (const e of list) this.tracker.markCommitted(e.topic, e.partition, e.offset);
      })
      .catch((err: unknown) => {
        // Retried on the next interval; a rebalance in between makes kafkajs refuse it, which is fine.
        this.host.failed(err);
      })
      .finally(() => {
        this.committing = null;
      });
    return this.committing;
  }
}
