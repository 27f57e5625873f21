/**
 * The store side of partition tasks (nodes/nr/partition-tasks.ts) for one stateful node: its state per
 * source partition (one `S` per task), the highest offset each task's state holds (redeliveries at or
 * below it are skipped), the Kafka ack tokens its state holds until a checkpoint, and the messages that
 * wait for the node's restore. The node keeps its own logic; per message it asks {@link accept} which
 * state applies and from which item on.
 */
import type { AckToken } from './ack';
import { hold, registerConsumer, unregisterConsumer } from './ack';
import { shared } from './i18n';
import { splitTaskKey, taskKey } from '../lib/changelog';
import { WaitingMessages, changelogOf, registerStore, tasksOf, type PartitionStore, type Taken } from './partition-tasks';

/** The position of item `i` of an outputs' meta, for a message of its own (they share the ack token). */
export function itemMeta(meta: OutputMeta, i: number): OutputMeta {
  const k: OutputMeta = { topic: meta.topic, partition: meta.partition, epoch: meta.epoch, origin: meta.origin, offset: meta.offsets![i], seq: meta.seqs![i] };
  if (meta.ack) k.ack = meta.ack;
  return k;
}

/** How a node's state becomes text and back. */
export interface StateCodec<S> {
  create(): S;
  /** JSON-safe snapshot. */
  snapshot(s: S): unknown;
  /** Load a snapshot into a fresh state; false when it does not fit (other settings). */
  restore(s: S, saved: unknown): boolean;
  /** Devices held (for logs and status). */
  devices(s: S): number;
}

interface Part<S> {
  /** The task's source partition (its key parsed once, for the outputs' `msg.kafka`). */
  topic: string;
  partition: number;
  state: S;
  /** Highest source offset the state holds (-1: none). */
  gate: number;
  held: AckToken[];
  heldRecords: number;
  dirty: boolean;
  /** Outputs sent and not yet acknowledged by their sink, by unit id (see {@link TaskStore.outputs}). */
  outbox: Map<number, OutEntry>;
}

interface OutEntry {
  items: unknown[];
  offsets: number[];
  seqs: number[];
  acked: number;
}

/**
 * `msg.kafka` of an output (a window result, an alert) derived from the records of a partition: where it
 * came from, so that a sink can write it exactly once. `origin` is the node that made it; `offset` /
 * `offsets` the offset of the record that triggered it (per item for an array payload) and `seq` / `seqs`
 * its rank among the outputs of that record: replaying the same records from the same state makes the
 * same outputs with the same positions.
 */
export interface OutputMeta {
  topic: string;
  partition: number;
  epoch: unknown;
  origin: string;
  offset?: number;
  seq?: number;
  offsets?: number[];
  seqs?: number[];
  ack?: AckToken;
}

/** A message's access to a task's state: apply items from `from` on (earlier ones are redeliveries). */
export interface Access<S> {
  tp: string;
  state: S;
  from: number;
}

interface KafkaMeta {
  topic?: unknown;
  partition?: unknown;
  offset?: unknown;
  offsets?: unknown;
  epoch?: unknown;
  ack?: AckToken;
}

/**
 * Checkpoint before the interval when a task holds this many records: kafka in stops fetching at 50 ×
 * its maxInFlight held records (500,000 by default), and a checkpoint writes the task's whole state, so
 * not much more often than every interval at high rates.
 */
const NUDGE_RECORDS = 50_000;

export class TaskStore<S> implements PartitionStore {
  private readonly parts = new Map<string, Part<S>>();
  /** Ack tokens held for messages that waited for the restore, per task. */
  private readonly preHeld = new Map<string, AckToken[]>();
  /** Messages of tasks whose state is not restored here yet, per task. */
  private readonly waiting = new WaitingMessages();
  private readonly unregister: () => Promise<void>;
  private closed = false;
  /** Consumer id of this store's outputs in the ack registry (a sink acknowledges them there). */
  private readonly outConsumer: string;
  private outSeq = 0;
  /** Unit id → its task, for acknowledgements. */
  private readonly outTask = new Map<number, string>();

  constructor(
    readonly id: string,
    private readonly consumerId: string,
    private readonly codec: StateCodec<S>,
    private readonly o: {
      hold: boolean;
      warn(text: string): void;
      /**
       * Track outputs until a sink acknowledges them, keep the unacknowledged ones in checkpoints and
       * send them again after a restore (`reemit`): without it, an output whose records a checkpoint
       * already holds is lost if the process dies before its sink wrote it.
       */
      outputs?: {
        /** Acknowledging sinks each output reaches (nodes/nr/flow-graph.ts ackingSinks): it is written when all of them acknowledged it. */
        sinks: number;
        reemit(tp: string, items: unknown[], meta: OutputMeta): void;
      };
    },
  ) {
    this.outConsumer = `${id}/out`;
    if (o.outputs) registerConsumer(this.outConsumer, (unit, n) => this.acked(unit, n));
    this.unregister = registerStore(consumerId, this);
  }

  /**
   * The `msg.kafka` for outputs of task `tp`: `items` sent as one message (an array payload, `single`
   * false) or as one message each, `offsets[i]` / `seqs[i]` their positions. Tracked in the outbox
   * (with an ack token) when the node sends outputs to a sink.
   */
  outputs(tp: string, epoch: unknown, items: unknown[], offsets: number[], seqs: number[], single: boolean): OutputMeta {
    const part = this.parts.get(tp);
    let topic: string;
    let partition: number;
    if (part !== undefined) ({ topic, partition } = part);
    else ({ topic, partition } = splitTaskKey(tp));
    const meta: OutputMeta = { topic, partition, epoch, origin: this.id };
    if (single) {
      meta.offset = offsets[0];
      meta.seq = seqs[0];
    } else {
      meta.offsets = offsets;
      meta.seqs = seqs;
    }
    if (this.o.outputs && part !== undefined && items.length > 0) {
      const unit = ++this.outSeq;
      part.outbox.set(unit, { items, offsets, seqs, acked: 0 });
      this.outTask.set(unit, tp);
      part.dirty = true;
      meta.ack = { consumer: this.outConsumer, id: unit, records: items.length };
    }
    return meta;
  }

  private acked(unit: number, n: number): void {
    const tp = this.outTask.get(unit);
    const part = tp === undefined ? undefined : this.parts.get(tp);
    const e = part?.outbox.get(unit);
    if (e === undefined || part === undefined) {
      this.outTask.delete(unit);
      return;
    }
    e.acked += n;
    if (e.acked >= e.items.length * this.o.outputs!.sinks) {
      part.outbox.delete(unit);
      this.outTask.delete(unit);
      part.dirty = true;
    }
  }

  /**
   * The changelog topic: `<group>-<node id>-changelog`, the group being the consumer's. Fixed once known:
   * a final checkpoint written while the consumer closes must go to the same topic.
   */
  get changelog(): string {
    return (this.topic ??= changelogOf(this.consumerId, this.id));
  }
  private topic: string | undefined;

  /**
   * What to do with a message: `local` when it carries no task of this store's consumer (no Kafka
   * metadata, or another consumer's); `skip` when its task is not current (emitted before the partition
   * was assigned again, or revoked since: the state must not see it); `wait` when the task is current
   * but not restored here yet (call {@link defer}); else the task's state and the first new item
   * (`items`: the batch length, -1 for a single record). Holds the message's ack token for the next
   * checkpoint.
   */
  accept(msg: Record<string, unknown>, items: number): Access<S> | 'local' | 'skip' | 'wait' {
    const k = msg.kafka as KafkaMeta | undefined;
    if (typeof k !== 'object' || k === null || typeof k.topic !== 'string' || typeof k.partition !== 'number' || k.epoch === undefined) return 'local';
    const tasks = tasksOf(this.consumerId);
    const tp = taskKey(k.topic, k.partition);
    if (tasks === undefined || !tasks.current(tp, k.epoch)) return 'skip';
    if (this.closed) {
      // After the final checkpoint: the records must not be committed on the strength of the sinks
      // alone. Held for good; the consumer rejoins (see PartitionTasks.removeStore) and they come again.
      if (this.o.hold && k.ack !== undefined) hold(k.ack, this.id);
      return 'skip';
    }
    const part = this.parts.get(tp);
    if (part === undefined) {
      // Held now (a sink may acknowledge the records soon); the hold is released with the first
      // checkpoint after the restore.
      if (this.o.hold && k.ack !== undefined && hold(k.ack, this.id) === 'held') {
        let pre = this.preHeld.get(tp);
        if (pre === undefined) this.preHeld.set(tp, (pre = []));
        pre.push(k.ack);
      }
      return 'wait';
    }
    let from = 0;
    let top = -1;
    if (items < 0) {
      const off = typeof k.offset === 'number' ? k.offset : -1;
      if (off >= 0 && off <= part.gate) return { tp, state: part.state, from: 1 };
      top = off;
    } else if (Array.isArray(k.offsets) && k.offsets.length === items) {
      const offs = k.offsets as number[];
      while (from < items && offs[from] <= part.gate) from++;
      top = items > 0 ? offs[items - 1] : -1;
    }
    if (top > part.gate) part.gate = top;
    if (from < Math.max(items, 1)) part.dirty = true;
    if (this.o.hold && k.ack !== undefined && hold(k.ack, this.id) === 'held') {
      part.held.push(k.ack);
      part.heldRecords += k.ack.records;
      if (part.heldRecords >= NUDGE_RECORDS) tasks.nudge(tp);
    }
    return { tp, state: part.state, from };
  }

  /** Run `fn` once task `tp`'s state is restored here (in arrival order), or at once when it is dropped. */
  defer(msg: Record<string, unknown>, fn: () => void): void {
    const k = msg.kafka as KafkaMeta;
    const tp = taskKey(k.topic as string, k.partition as number);
    this.waiting.add(tp, fn);
  }

  /** Every task's state here (for timers and status that walk them all). */
  forEach(fn: (state: S, tp: string) => void): void {
    for (const [tp, p] of this.parts) fn(p.state, tp);
  }

  /** Mark task `tp` changed outside {@link accept} (a timer emitted from it, a reset). */
  touch(tp: string): void {
    const p = this.parts.get(tp);
    if (p) p.dirty = true;
  }

  // PartitionStore

  restore(tp: string, text: string | undefined, epoch?: unknown): number {
    const state = this.codec.create();
    let gate = -1;
    let outbox: unknown = undefined;
    if (text !== undefined) {
      try {
        const saved = JSON.parse(text) as { gate?: unknown; state?: unknown; outbox?: unknown };
        if (this.codec.restore(state, saved.state)) {
          gate = typeof saved.gate === 'number' ? saved.gate : -1;
          outbox = saved.outbox;
        } else this.o.warn(shared('smoke-kafka-broker.common.warn.checkpoint-mismatch', { tp }));
      } catch (err) {
        this.o.warn(shared('smoke-kafka-broker.common.warn.checkpoint-unreadable', { tp, error: (err as Error).message }));
      }
    }
    const held = [...(this.parts.get(tp)?.held ?? []), ...(this.preHeld.get(tp) ?? [])];
    this.preHeld.delete(tp);
    let heldRecords = 0;
    for (const t of held) heldRecords += t.records;
    this.parts.set(tp, { ...splitTaskKey(tp), state, gate, held, heldRecords, dirty: false, outbox: new Map() });
    // Outputs sent before the checkpoint and not known to be written: again (their sink skips the ones it has).
    const out = this.o.outputs;
    if (out && Array.isArray(outbox)) {
      for (const e of outbox as unknown[]) {
        if (!Array.isArray(e) || e.length !== 3 || !Array.isArray(e[0]) || !Array.isArray(e[1]) || !Array.isArray(e[2])) continue;
        const [offsets, seqs, items] = e as [number[], number[], unknown[]];
        out.reemit(tp, items, this.outputs(tp, epoch, items, offsets, seqs, false));
      }
    }
    this.waiting.run(tp);
    return this.codec.devices(state);
  }

  drop(tp: string): void {
    this.parts.delete(tp);
    // Held tokens are not released: the consumer forgets a revoked partition's units, and they must not
    // be committed on the strength of this state.
    this.preHeld.delete(tp);
    // Their task is gone: run them now; accept() answers `skip`.
    this.waiting.run(tp);
  }

  take(tp: string): Taken | null {
    const p = this.parts.get(tp);
    if (p === undefined || (!p.dirty && p.held.length === 0)) return null;
    const tokens = p.held;
    p.held = [];
    p.heldRecords = 0;
    p.dirty = false;
    const saved: Record<string, unknown> = { gate: p.gate, state: this.codec.snapshot(p.state) };
    if (p.outbox.size > 0) saved.outbox = [...p.outbox.values()].map((e) => [e.offsets, e.seqs, e.items]);
    return { text: JSON.stringify(saved), tokens };
  }

  /** The node stops: a final checkpoint of its tasks, then out of the tasks (resolves within ~4 s). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.unregister();
    if (this.o.outputs) unregisterConsumer(this.outConsumer);
    this.waiting.runAll();
    this.parts.clear();
  }
}
