/**
 * Exactly-once sinks behind `kafka in` (the csv sink's files, kafka out's transactional records): what a
 * sink has written of each source partition is a position per origin, kept as the sink's state of that
 * partition task in its changelog topic (nodes/nr/partition-tasks.ts), so that whichever runtime owns the
 * partition next skips what any runtime wrote before.
 *
 * Position of an item: `(origin, offset, seq)`. Readings carry their record's offset (origin `''`);
 * derived outputs (window results, alerts) carry the node that made them, the offset of the record that
 * triggered them and their rank among that record's outputs (nodes/nr/task-store.ts OutputMeta). Per
 * origin they arrive in increasing order, so an item at or below the origin's position is one this sink
 * wrote already. `commits` (per writer instance, its last commit number) lets the csv sink tell after a
 * crash whether its last flush landed (nodes/csv-sink/exactly-once.ts).
 */
import { randomUUID } from 'node:crypto';
import { taskKey } from '../lib/changelog';
import { WaitingMessages, changelogOf, registerStore, tasksOf, type PartitionStore, type Taken } from './partition-tasks';

/** `[offset, seq]`. */
export type Pos = [number, number];
/** Position per origin. */
export type Positions = Record<string, Pos>;

interface Part {
  /** Highest position taken in (queued or written). */
  accepted: Positions;
  /** Highest position durably in the files. */
  durable: Positions;
  /** Last commit number of each writer (sink instance) that wrote this partition, newest last. */
  commits: Record<string, number>;
  /** The task's epoch it was restored under. */
  epoch: number;
  dirty: boolean;
  /** The writer group of the last message's epoch (see SinkAccess.group), and that epoch. */
  group: string;
  groupEpoch: unknown;
}

/** Writers remembered per partition (a writer's entry is needed until its next start's recovery). */
const MAX_WRITERS = 32;

/** `tp|epoch`: the key of a partition task under one assignment (a writer group, its committed positions). */
export function writerGroup(tp: string, epoch: unknown): string {
  return `${tp}|${String(epoch)}`;
}

/** The partition task and epoch of a {@link writerGroup} key. */
export function ofWriterGroup(group: string): { tp: string; epoch: number } {
  const bar = group.lastIndexOf('|');
  return { tp: group.slice(0, bar), epoch: Number(group.slice(bar + 1)) };
}

/** A partition's state in the sink's changelog. */
export interface SinkState {
  positions: Positions;
  commits: Record<string, number>;
}

interface KafkaMeta {
  topic?: unknown;
  partition?: unknown;
  epoch?: unknown;
  origin?: unknown;
  offset?: unknown;
  offsets?: unknown;
  seq?: unknown;
  seqs?: unknown;
}

function after(a: Pos, b: Pos | undefined): boolean {
  return b === undefined || a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);
}

/** Whether `have` reaches every position of `want`. */
export function covers(have: Positions | undefined, want: Positions): boolean {
  for (const [origin, p] of Object.entries(want)) if (after(p, have?.[origin])) return false;
  return true;
}

/** Per-origin maximum of `b` into `a`. */
export function advance(a: Positions, b: Positions): void {
  for (const [origin, p] of Object.entries(b)) if (after(p, a[origin])) a[origin] = p;
}

/** A partition's state from its checkpoint text (empty when there is none or it is unreadable). */
export function parseSinkState(text: string | undefined): SinkState {
  const out: SinkState = { positions: {}, commits: {} };
  if (text === undefined) return out;
  try {
    const v = JSON.parse(text) as { positions?: unknown; commits?: unknown };
    if (typeof v.positions === 'object' && v.positions !== null) {
      for (const [k, p] of Object.entries(v.positions as Record<string, unknown>)) {
        if (Array.isArray(p) && p.length === 2 && Number.isFinite(p[0]) && Number.isFinite(p[1])) out.positions[k] = [p[0], p[1]];
      }
    }
    if (typeof v.commits === 'object' && v.commits !== null) {
      for (const [k, n] of Object.entries(v.commits as Record<string, unknown>)) if (Number.isInteger(n)) out.commits[k] = n as number;
    }
  } catch {
    // unreadable: start empty (the caller warns)
  }
  return out;
}

/** A message's access: write items from `from` on; `top` is the position of its last item. */
export interface SinkAccess {
  tp: string;
  partition: number;
  from: number;
  top: Positions;
  /**
   * `tp|epoch`: a writer group per partition task and epoch, so that the rows of an assignment that
   * ended meanwhile are cut back alone.
   */
  group: string;
}

export class SinkPositions implements PartitionStore {
  private readonly parts = new Map<string, Part>();
  /**
   * Last committed positions per task and epoch (`tp|epoch`; kept after a drop: a commit in flight may
   * still need them, and a restore of the partition under a new epoch must not pass for its commit).
   */
  private readonly committedPos = new Map<string, Positions>();
  private readonly waiting = new WaitingMessages();
  private closed = false;
  private readonly unregister: () => Promise<void>;
  /** This sink instance's writer id (see the module comment) and its last commit number. */
  readonly writer = randomUUID();
  /** Positions are committed on every flush: through the task's fast lane (see PartitionStore.lane). */
  readonly lane = 'fast' as const;
  private seq = 0;

  constructor(
    readonly id: string,
    private readonly consumerId: string,
  ) {
    this.unregister = registerStore(consumerId, this);
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
   * `local`: not a record of this sink's consumer; `skip`: a partition this runtime does not own now
   * (not written, not acknowledged: its owner writes it); `wait`: owned, its positions not restored yet.
   */
  accept(msg: Record<string, unknown>, items: number): SinkAccess | 'local' | 'skip' | 'wait' {
    const k = msg.kafka as KafkaMeta | undefined;
    if (typeof k !== 'object' || k === null || typeof k.topic !== 'string' || typeof k.partition !== 'number' || k.epoch === undefined) return 'local';
    const tp = taskKey(k.topic, k.partition);
    const tasks = tasksOf(this.consumerId);
    if (this.closed || tasks === undefined || !tasks.current(tp, k.epoch)) return 'skip';
    const part = this.parts.get(tp);
    if (part === undefined) return 'wait';
    const origin = typeof k.origin === 'string' ? k.origin : '';
    const have = part.accepted[origin];
    if (part.groupEpoch !== k.epoch) {
      part.groupEpoch = k.epoch;
      part.group = writerGroup(tp, k.epoch);
    }
    const top: Positions = {};
    if (items < 0) {
      // One record or output (single mode): its position without the arrays of a batch.
      const p: Pos = [k.offset as number, (k.seq as number | undefined) ?? 0];
      if (!after(p, have)) return { tp, partition: k.partition, from: 1, top, group: part.group };
      top[origin] = p;
      part.accepted[origin] = p;
      return { tp, partition: k.partition, from: 0, top, group: part.group };
    }
    const offs = k.offsets as unknown[] | undefined;
    const seqs = k.seqs as unknown[] | undefined;
    if (!Array.isArray(offs) || offs.length !== items) return 'local';
    let from = 0;
    const pos = (i: number): Pos => [offs[i] as number, Array.isArray(seqs) ? ((seqs[i] as number) ?? 0) : 0];
    while (from < items && !after(pos(from), have)) from++;
    if (from < items) {
      const last = pos(items - 1);
      top[origin] = last;
      part.accepted[origin] = last;
    }
    return { tp, partition: k.partition, from, top, group: part.group };
  }

  /** Run `fn` when task `tp` is restored here (or dropped). */
  defer(msg: Record<string, unknown>, fn: () => void): void {
    const k = msg.kafka as KafkaMeta;
    const tp = taskKey(k.topic as string, k.partition as number);
    this.waiting.add(tp, fn);
  }

  /** The number of the next commit of this writer (journaled before the rows are written). */
  nextSeq(): number {
    return ++this.seq;
  }

  /**
   * Items up to `top` are written, to be committed with the next checkpoint of task `tp` (a sink whose
   * items go in that checkpoint's transaction themselves, as an exactly-once kafka out's).
   */
  stage(tp: string, top: Positions): void {
    const part = this.parts.get(tp);
    if (part === undefined) return;
    advance(part.durable, top);
    part.dirty = true;
  }

  /** Rows up to `top` are durably in the files (phase one of commit `seq` done). */
  durable(tp: string, top: Positions, seq: number): void {
    const part = this.parts.get(tp);
    if (part === undefined) return;
    this.stage(tp, top);
    delete part.commits[this.writer];
    part.commits[this.writer] = seq;
    const writers = Object.keys(part.commits);
    for (let i = 0; i < writers.length - MAX_WRITERS; i++) delete part.commits[writers[i]];
  }

  /** Positions known committed for task `tp`. */
  committedOf(tp: string, epoch: number): Positions | undefined {
    return this.committedPos.get(writerGroup(tp, epoch));
  }

  // PartitionStore

  restore(tp: string, text: string | undefined, epoch: number): number {
    const { positions: p, commits } = parseSinkState(text);
    const group = writerGroup(tp, epoch);
    this.parts.set(tp, { accepted: { ...p }, durable: { ...p }, commits, epoch, dirty: false, group, groupEpoch: epoch });
    this.committedPos.set(group, { ...p });
    if (this.committedPos.size > 256) this.committedPos.delete(this.committedPos.keys().next().value as string);
    this.waiting.run(tp);
    return 0;
  }

  drop(tp: string): void {
    this.parts.delete(tp);
    this.waiting.run(tp);
  }

  take(tp: string): Taken | null {
    const part = this.parts.get(tp);
    if (part === undefined || !part.dirty) return null;
    part.dirty = false;
    const positions = { ...part.durable };
    const state: SinkState = { positions, commits: { ...part.commits } };
    return { text: JSON.stringify(state), tokens: [], meta: { positions, epoch: part.epoch } };
  }

  committed(tp: string, taken: Taken): void {
    const { positions, epoch } = taken.meta as { positions: Positions; epoch: number };
    const key = writerGroup(tp, epoch);
    const have = this.committedPos.get(key) ?? {};
    advance(have, positions);
    this.committedPos.set(key, have);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.unregister();
    this.waiting.runAll();
    this.parts.clear();
  }
}
