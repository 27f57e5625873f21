/**
 * Offset tracking for `kafka in`'s `after-sink` commit mode (at-least-once): which offset of each
 * partition may be committed, given the emitted units (one record, or one batch of records of one
 * partition) and the acknowledgements that sinks have sent back for them.
 *
 * Rule: the commit offset of a partition (Kafka's "next offset to read") is the lowest first offset of
 * a unit that is not yet complete; with nothing pending it is the highest emitted offset + 1. A unit is
 * complete once its records are all acknowledged AND every hold on it was released (holds: stateful
 * nodes, such as the sliding window, that keep the records in state until their next checkpoint; see
 * nodes/nr/ack.ts). So an offset is committed only once every record below it has been acknowledged and
 * released, whatever order the acknowledgements and releases arrive in. A unit's offsets need not be
 * contiguous (a batch whose bad records left as separate units on output 2): only its lowest offset
 * matters.
 *
 * Offsets are JavaScript numbers: exact up to 2^53, far beyond any partition's lifetime.
 * Framework-free: time (`now`, epoch ms) is a parameter.
 */

/** A partition's commit: `offset` is the next offset to read (last acknowledged + 1), as Kafka wants it. */
export interface PartitionCommit {
  topic: string;
  partition: number;
  offset: number;
}

interface Unit {
  id: number;
  part: PartitionState;
  /** Lowest offset of the unit's records. */
  first: number;
  records: number;
  acked: number;
  /** Emission time, epoch ms. */
  at: number;
  done: boolean;
  /**
   * Holders (node ids) with a hold not yet released, one entry per hold (a holder holding twice is in
   * it twice). A plain array: a unit has a few holds at most, and in single mode there is a unit per
   * record, so a Map per unit would be most of what the tracker keeps alive.
   */
  holds: string[] | null;
  /** Holders whose hold ends with the next hold of another holder ({@link OffsetTracker.handOn}). */
  handed: string[] | null;
}

/**
 * Result of {@link OffsetTracker.hold}: `held`; `late` when the unit was already complete (its offset
 * may be committed already: the hold came too late to keep it); `unknown` when the id is not one of
 * this tracker's pending units (an earlier deployment's, or a partition revoked since: its records are
 * redelivered anyway).
 */
export type HoldResult = 'held' | 'late' | 'unknown';

interface PartitionState {
  key: string;
  topic: string;
  partition: number;
  /** Units ordered by `first`, pending and done; done units are dropped once they reach the head. */
  queue: Unit[];
  head: number;
  /** Highest offset emitted so far, -1 before the first. */
  highest: number;
  /** Offset last committed (or known committed), -1 when unknown. */
  committed: number;
}

export interface OffsetTrackerOptions {
  /**
   * Source of unit ids. Ids must be unique per process, not per tracker: a redeployed node gets the
   * same node id, and an acknowledgement for its predecessor's unit must not complete one of its own.
   */
  nextId?: () => number;
}

export class OffsetTracker {
  private readonly units = new Map<number, Unit>();
  private readonly parts = new Map<string, PartitionState>();
  /** The partition of the last tracked unit (see partition()). */
  private lastPart: PartitionState | null = null;
  private readonly nextId: () => number;
  private seq = 0;
  private pendingRecords = 0;
  /** Acknowledged records of held units (in `pendingRecords` too): they wait for a checkpoint only. */
  private heldAcked = 0;
  /** First and last unit id issued by this tracker (ids come from a process-wide source). */
  private firstId = Infinity;
  private lastId = -Infinity;
  /** Ids up to this one may belong to units forgotten by a rebalance or restart (not completed). */
  private droppedUpTo = -Infinity;

  constructor(opts: OffsetTrackerOptions = {}) {
    this.nextId = opts.nextId ?? (() => ++this.seq);
  }

  /**
   * Records emitted and not yet acknowledged (over all partitions): the in-flight count. A held unit
   * counts with all its records until its last hold is released, acknowledged or not: held records are
   * not committed, so they must bound fetching as much as unacknowledged ones.
   */
  get inFlight(): number {
    return this.pendingRecords;
  }

  /**
   * Records emitted and not yet acknowledged by their sinks (held or not): what a slow sink keeps in
   * memory downstream. `inFlight` minus the acknowledged records of held units.
   */
  get unacknowledged(): number {
    return this.pendingRecords - this.heldAcked;
  }

  /** Units emitted and not yet complete (acknowledged and released). */
  get pendingUnits(): number {
    return this.units.size;
  }

  /**
   * Register an emitted unit of `records` records of one partition whose offsets lie in
   * [`firstOffset`, `lastOffset`] (inclusive). Returns its id, for the ack token.
   */
  track(topic: string, partition: number, firstOffset: number, lastOffset: number, records: number, now: number): number {
    const part = this.partition(topic, partition);
    const unit: Unit = { id: this.nextId(), part, first: firstOffset, records, acked: 0, at: now, done: false, holds: null, handed: null };
    if (unit.id < this.firstId) this.firstId = unit.id;
    if (unit.id > this.lastId) this.lastId = unit.id;
    if (lastOffset > part.highest) part.highest = lastOffset;
    const q = part.queue;
    // Units nearly always arrive in offset order: insert from the tail (a redelivery after a
    // rebalance may bring lower offsets again).
    let i = q.length;
    while (i > part.head && q[i - 1].first > firstOffset) i--;
    if (i === q.length) q.push(unit);
    else q.splice(i, 0, unit);
    if (records > 0) {
      this.units.set(unit.id, unit);
      this.pendingRecords += records;
    } else {
      unit.done = true;
      this.advance(part);
    }
    return unit.id;
  }

  /**
   * Acknowledge `records` records of unit `id`. Returns true when this completed the unit (all its
   * records acknowledged and no hold left). Unknown ids (an earlier deployment's, or a partition revoked
   * since) are ignored: their records are redelivered.
   */
  ack(id: number, records: number): boolean {
    const unit = this.units.get(id);
    if (unit === undefined || !(records > 0)) return false;
    const n = Math.min(records, unit.records - unit.acked);
    unit.acked += n;
    const held = unit.holds !== null && unit.holds.length > 0;
    if (!held) this.pendingRecords -= n;
    else this.heldAcked += n;
    if (unit.acked < unit.records || held) return false;
    this.complete(unit);
    return true;
  }

  /**
   * A stateful node (`holder`, its node id) keeps unit `id`'s records in state that is not yet
   * checkpointed: the unit stays incomplete until the holder releases it, however many acknowledgements
   * arrive. A holder may hold a unit several times; each hold needs its own release.
   */
  hold(id: number, holder: string): HoldResult {
    const unit = this.units.get(id);
    if (unit === undefined) {
      // Ids of this tracker that are neither pending nor possibly dropped were completed.
      return id >= this.firstId && id <= this.lastId && id > this.droppedUpTo ? 'late' : 'unknown';
    }
    const holds = (unit.holds ??= []);
    // From now on the unit's acknowledged records count as in flight again (see inFlight).
    if (holds.length === 0) {
      this.pendingRecords += unit.acked;
      this.heldAcked += unit.acked;
    }
    holds.push(holder);
    const handed = unit.handed;
    if (handed !== null) {
      // The holds handed on to this holder end now: the unit was held all the way.
      unit.handed = null;
      for (const h of handed) {
        if (h === holder) (unit.handed ??= []).push(h);
        else this.release(id, h);
      }
    }
    return 'held';
  }

  /**
   * `holder` passes unit `id`'s records on to a node behind it that holds them in turn (a csv sink that
   * archives them and hands them to a kafka out, while another sink shares them): one of its holds ends
   * as the next hold of another holder on the unit begins, not before, so that no other sink's
   * acknowledgement completes the unit while the records are on their way. Call it before passing them
   * on. Ignored when `holder` holds nothing of the unit.
   */
  handOn(id: number, holder: string): void {
    const unit = this.units.get(id);
    if (unit === undefined || unit.holds === null || !unit.holds.includes(holder)) return;
    (unit.handed ??= []).push(holder);
  }

  /**
   * Release one hold of `holder` on unit `id` (its state holding the unit's records was checkpointed).
   * Returns true when this completed the unit. Releases of unknown units or holders are ignored.
   */
  release(id: number, holder: string): boolean {
    const unit = this.units.get(id);
    const holds = unit?.holds;
    if (unit === undefined || holds === null || holds === undefined) return false;
    const i = holds.lastIndexOf(holder);
    if (i < 0) return false;
    // Order does not matter: the last entry takes the released one's place.
    holds[i] = holds[holds.length - 1];
    holds.pop();
    if (holds.length > 0) return false;
    this.pendingRecords -= unit.acked;
    this.heldAcked -= unit.acked;
    if (unit.acked < unit.records) return false;
    this.complete(unit);
    return true;
  }

  /** The commit offset of one partition (see the module comment), or undefined when nothing was emitted. */
  commitOffset(topic: string, partition: number): number | undefined {
    const part = this.parts.get(key(topic, partition));
    if (part === undefined || part.highest < 0) return undefined;
    return part.head < part.queue.length ? part.queue[part.head].first : part.highest + 1;
  }

  /** Partitions whose commit offset moved beyond the last committed one. */
  commitable(): PartitionCommit[] {
    const out: PartitionCommit[] = [];
    for (const part of this.parts.values()) {
      const offset = this.commitOffset(part.topic, part.partition);
      if (offset !== undefined && offset > part.committed) out.push({ topic: part.topic, partition: part.partition, offset });
    }
    return out;
  }

  /** Record that `offset` was committed for the partition (commitable() then skips it until it moves). */
  markCommitted(topic: string, partition: number, offset: number): void {
    const part = this.parts.get(key(topic, partition));
    if (part !== undefined && offset > part.committed) part.committed = offset;
  }

  /**
   * Keep only the partitions of a new assignment (`{ topic: [partitions] }`) after a rebalance. The
   * pending units of revoked partitions are forgotten (their records go to the partition's new owner,
   * which reads from the last commit); returns how many pending units were dropped.
   */
  retain(assignment: Record<string, number[]>): number {
    const keep = new Set<string>();
    for (const [topic, partitions] of Object.entries(assignment)) for (const p of partitions) keep.add(key(topic, p));
    let dropped = 0;
    for (const part of this.parts.values()) if (!keep.has(part.key)) dropped += this.drop(part);
    return dropped;
  }

  /** Forget everything (the consumer restarted and reads again from the committed offsets). */
  clear(): number {
    let dropped = 0;
    for (const part of [...this.parts.values()]) dropped += this.drop(part);
    return dropped;
  }

  /** Emission time (epoch ms) of the oldest unit that is still waiting for acknowledgements. */
  oldestPendingAt(): number | undefined {
    let oldest: number | undefined;
    for (const part of this.parts.values()) {
      for (let i = part.head; i < part.queue.length; i++) {
        const u = part.queue[i];
        if (u.done) continue;
        if (oldest === undefined || u.at < oldest) oldest = u.at;
        // Units of a partition are emitted in offset order, so the first pending one is its oldest.
        break;
      }
    }
    return oldest;
  }

  private partition(topic: string, partition: number): PartitionState {
    // Consecutive units mostly come from one partition (a fetched batch): no key built for them.
    const last = this.lastPart;
    if (last !== null && last.partition === partition && last.topic === topic) return last;
    const k = key(topic, partition);
    let p = this.parts.get(k);
    if (p === undefined) {
      p = { key: k, topic, partition, queue: [], head: 0, highest: -1, committed: -1 };
      this.parts.set(k, p);
    }
    this.lastPart = p;
    return p;
  }

  private complete(unit: Unit): void {
    unit.done = true;
    this.units.delete(unit.id);
    this.advance(unit.part);
  }

  private advance(part: PartitionState): void {
    const q = part.queue;
    while (part.head < q.length && q[part.head].done) part.head++;
    // Compact now and then instead of shift() per unit (O(n) each).
    if (part.head === q.length) {
      q.length = 0;
      part.head = 0;
    } else if (part.head > 1024 && part.head * 2 > q.length) {
      q.splice(0, part.head);
      part.head = 0;
    }
  }

  private drop(part: PartitionState): number {
    let dropped = 0;
    for (let i = part.head; i < part.queue.length; i++) {
      const u = part.queue[i];
      if (u.done) continue;
      this.units.delete(u.id);
      const held = u.holds !== null && u.holds.length > 0;
      this.pendingRecords -= held ? u.records : u.records - u.acked;
      if (held) this.heldAcked -= u.acked;
      dropped++;
    }
    if (dropped > 0) this.droppedUpTo = this.lastId;
    this.parts.delete(part.key);
    if (this.lastPart === part) this.lastPart = null;
    return dropped;
  }
}

function key(topic: string, partition: number): string {
  return topic + '\u0000' + partition;
}
