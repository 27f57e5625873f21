/**
 * Notices a topic that was deleted, or deleted and created again (a broker with
 * `auto.create.topics.enable` recreates a deleted topic as soon as a client asks for it): Kafka keeps
 * no topic id that kafkajs reports, but a recreated topic starts its offsets again from 0, so a
 * partition's log-end offset (high watermark) below what it was at the last check, or (on the first
 * check) below the group's committed offset, means the log it belonged to is gone, and with it every
 * record not read yet.
 * Framework-free and pure: the caller fetches the offsets and passes them in.
 */

/** One partition as the broker reports it, with the group's committed offset (-1: none). */
export interface PartitionOffsets {
  partition: number;
  /** Log-end offset: the offset the next record will get. */
  high: number;
  /** Log-start offset: the oldest offset still in the log. */
  low: number;
  /** The group's committed offset (the next one to read), -1 when it has none. */
  committed: number;
}

/** A partition whose offsets went back: from `from` (its log-end offset before, or the committed offset) to `to` (its log-end offset now). */
export interface OffsetsBack {
  partition: number;
  from: number;
  to: number;
}

/**
 * What {@link TopicWatch.observe} noticed. `deleted`: a topic seen before does not exist;
 * `recreated`: its offsets went back (or partitions disappeared) without the deletion having been seen;
 * `returned`: a deleted topic exists again (the occurrence was already reported as `deleted`).
 * `unread` is the group's lag at the last check before it happened: the records that were not yet
 * consumed, and went with the old log.
 */
export type TopicEvent =
  | { kind: 'deleted'; topic: string; unread: number }
  | { kind: 'recreated'; topic: string; unread: number; back: OffsetsBack[]; partitionsBefore: number; partitionsNow: number }
  | { kind: 'returned'; topic: string };

interface TopicState {
  /** Log-end offset per partition at the last check. */
  seen: Map<number, number>;
  /** The group's lag at the last check, summed over partitions. */
  unread: number;
  missing: boolean;
}

export class TopicWatch {
  private readonly topics = new Map<string, TopicState>();

  /**
   * Compare a topic's offsets now (null: the broker says the topic does not exist) with what was seen
   * before; returns what happened, once per occurrence, or null. A missing topic that was never seen is
   * not reported (it may simply not have been created yet).
   */
  observe(topic: string, partitions: readonly PartitionOffsets[] | null): TopicEvent | null {
    const st = this.topics.get(topic);
    if (partitions === null) {
      if (!st || st.missing) return null;
      st.missing = true;
      return { kind: 'deleted', topic, unread: st.unread };
    }
    const now = new Set<number>();
    const next: TopicState = { seen: new Map(), unread: 0, missing: false };
    for (const p of partitions) {
      now.add(p.partition);
      next.seen.set(p.partition, p.high);
      next.unread += Math.max(0, p.high - (p.committed >= 0 ? p.committed : p.low));
    }
    this.topics.set(topic, next);
    if (st?.missing) return { kind: 'returned', topic };
    const back: OffsetsBack[] = [];
    for (const [partition, seen] of st?.seen ?? []) {
      if (!now.has(partition)) back.push({ partition, from: seen, to: 0 });
    }
    for (const p of partitions) {
      // On the first look, a committed offset above the log end is a position in an older log.
      const from = st ? (st.seen.get(p.partition) ?? -1) : p.committed;
      if (p.high < from) back.push({ partition: p.partition, from, to: p.high });
    }
    if (back.length === 0) return null;
    back.sort((a, b) => a.partition - b.partition);
    return { kind: 'recreated', topic, unread: st?.unread ?? 0, back, partitionsBefore: st?.seen.size ?? partitions.length, partitionsNow: partitions.length };
  }
}
