/**
 * `kafka out` behind an exactly-once `kafka in` (model: Kafka Streams' exactly-once RecordCollector, and
 * Flink's TwoPhaseCommitSinkFunction): the records of a message derived from partition task `tp` are
 * sent in a transaction of that task (nodes/nr/partition-tasks.ts, its `fast` lane) together with this
 * node's positions of `tp` (nodes/nr/sink-positions.ts). The transactional id is the task's, so the
 * runtime assigned the partition next fences this one: a zombie's records are aborted, never visible to
 * a `read_committed` reader. After a crash or a rebalance the partition's next owner restores the
 * positions and skips every item at or below them, which replaying the same records from the restored
 * state produces again with the same positions: each output is committed once.
 *
 * A message's `done()` (and its acknowledgement, which lets `kafka in` commit the records' offsets)
 * follows the commit. When the transaction aborts (fenced, a broker error, a timeout), `done()` is called
 * without an acknowledgement: the task is given up, and its owner processes the records again.
 * Transactions are shared: the messages that arrive while one is in flight go in the next.
 */
import type { CompressionTypes, Message } from 'kafkajs';
import { ack, type HoldRelease, NOTHING_HELD } from '../nr/ack';
import { tasksOf, type AbortCause, type OutputRecords, type Taken } from '../nr/partition-tasks';
import { SinkPositions } from '../nr/sink-positions';
import type { Done, NodeMessage } from '../nr/types';

interface Entry {
  topic: string;
  messages: Message[];
  /** The message's ack token and how many of its items to acknowledge. */
  token: unknown;
  items: number;
  done: Done;
  /** Gives back the hold on the message's records (ack.ts holdUntilAcked), once acknowledged. */
  release: HoldRelease;
  settled: boolean;
}

/**
 * Why a message's records were not committed: their transaction aborted (AbortCause), or they never
 * reached one (`not-committed`: the checkpoint wrote none; `not-staged`; `closed`: the node closed first).
 */
export type TxnAbort = AbortCause | 'not-committed' | 'not-staged' | 'closed';

export interface TransactionalOutEvents {
  /** `records` of a message are committed. */
  committed(records: number): void;
  /** `records` of a message were in a transaction that aborted (`why`), or its partition moved before it. */
  aborted(records: number, why: TxnAbort): void;
}

export class TransactionalOut extends SinkPositions {
  /** Messages staged for the next transaction of each task. */
  private readonly pending = new Map<string, Entry[]>();

  constructor(
    id: string,
    private readonly kafkaIn: string,
    private readonly compression: CompressionTypes | undefined,
    private readonly events: TransactionalOutEvents,
  ) {
    super(id, kafkaIn);
  }

  /**
   * Send `msg`'s records exactly once. `items`: the payload's array length, -1 for a single record;
   * `build(from)`: the records of the items from `from` on (earlier ones were committed before).
   * Returns false for a message that is not of this kafka in's partition tasks (no `msg.kafka`, an
   * inject): the caller sends it the ordinary way.
   */
  send(msg: NodeMessage, topic: string, items: number, build: (from: number) => Message[], done: Done, release: HoldRelease = NOTHING_HELD): boolean {
    const a = this.accept(msg as Record<string, unknown>, items);
    if (a === 'local') return false;
    if (a === 'wait') {
      this.defer(msg as Record<string, unknown>, () => void this.send(msg, topic, items, build, done, release));
      return true;
    }
    // A partition this runtime no longer owns: its owner sends these (not acknowledged here).
    if (a === 'skip') {
      done();
      return true;
    }
    const token = (msg.kafka as { ack?: unknown } | undefined)?.ack;
    const n = items < 0 ? 1 : items;
    const messages = build(a.from);
    if (messages.length === 0) {
      // Every item was committed before (a redelivery): acknowledged, not sent again.
      ack(token, n);
      release();
      done();
      return true;
    }
    this.stage(a.tp, a.top);
    const entry: Entry = { topic, messages, token, items: n, done, release, settled: false };
    const list = this.pending.get(a.tp);
    if (list !== undefined) {
      // A checkpoint is asked for already and has not taken the staged messages yet: this one rides along.
      list.push(entry);
      return true;
    }
    // The first message staged since the last take asks for a checkpoint (which may take it at once).
    const batch = [entry];
    this.pending.set(a.tp, batch);
    this.request(a.tp, (msg.kafka as { epoch?: number }).epoch, batch);
    return true;
  }

  /**
   * A checkpoint of task `tp` for the messages staged in `batch`. Once it ends, the batch was taken by
   * it (or by a checkpoint before it) and settled as committed or aborted; what is still unsettled then
   * never reached a transaction (the task went, or had another epoch).
   */
  private request(tp: string, epoch: number | undefined, batch: Entry[]): void {
    const tasks = tasksOf(this.kafkaIn);
    const commit = tasks === undefined ? Promise.resolve('gone' as const) : tasks.checkpointNow(tp, this, epoch);
    void commit.then((outcome) => {
      if (this.pending.get(tp) === batch) this.pending.delete(tp);
      for (const e of batch) if (!e.settled) this.settle(e, outcome === 'gone' ? 'moved' : 'not-committed');
    });
  }

  // PartitionStore (over SinkPositions): the staged records go in the checkpoint's transaction.

  override take(tp: string): Taken | null {
    const taken = super.take(tp);
    const entries = this.pending.get(tp);
    this.pending.delete(tp);
    if (entries === undefined || entries.length === 0) return taken;
    if (taken === null) {
      // Not reached: stage() marks the positions changed, so there is a checkpoint to carry the records.
      for (const e of entries) this.settle(e, 'not-staged');
      return null;
    }
    const byTopic = new Map<string, Message[]>();
    for (const e of entries) {
      const list = byTopic.get(e.topic);
      if (list === undefined) byTopic.set(e.topic, e.messages.slice());
      else for (const m of e.messages) list.push(m);
    }
    const records: OutputRecords[] = [...byTopic].map(([topic, messages]) => ({ topic, messages, compression: this.compression }));
    return { ...taken, records, meta: { base: taken.meta, entries } };
  }

  override committed(tp: string, taken: Taken): void {
    const m = taken.meta as { base: unknown; entries?: Entry[] } | undefined;
    super.committed(tp, m?.entries ? { ...taken, meta: m.base } : taken);
    for (const e of m?.entries ?? []) this.settle(e);
  }

  aborted(_tp: string, taken: Taken, why: AbortCause): void {
    for (const e of (taken.meta as { entries?: Entry[] } | undefined)?.entries ?? []) this.settle(e, why);
  }

  override drop(tp: string): void {
    super.drop(tp);
    const entries = this.pending.get(tp);
    this.pending.delete(tp);
    for (const e of entries ?? []) this.settle(e, 'moved');
  }

  /** The node closes: a last transaction of what is staged (within the consumer's budget), then out. */
  override async close(): Promise<void> {
    await super.close();
    for (const [tp, entries] of [...this.pending]) {
      this.pending.delete(tp);
      for (const e of entries) this.settle(e, 'closed');
    }
  }

  /** Committed (no `why`): acknowledged, then done. Aborted: done only (the records come again). */
  private settle(e: Entry, why?: TxnAbort): void {
    if (e.settled) return;
    e.settled = true;
    if (why === undefined) {
      ack(e.token, e.items);
      e.release();
      this.events.committed(e.messages.length);
    } else this.events.aborted(e.messages.length, why);
    e.done();
  }
}
