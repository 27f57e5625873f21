/**
 * Consumer lag from the offsets a broker reports: per partition, the records after the group's
 * committed offset, summed over the partitions this member owns. Pure: the caller fetches the offsets.
 */
import type { PartitionOffsets } from './topic-watch';

/** Lag per topic and partition, as `kafka in` reports it (output 3, the lag gauge). */
export type Lag = Record<string, Record<string, number>>;

/**
 * A partition's lag: its log-end offset minus the group's committed offset (minus the log-start offset
 * when the group has committed none), never negative (a committed offset of an older, longer log).
 */
export function partitionLag(e: PartitionOffsets): number {
  return Math.max(0, e.high - (e.committed >= 0 ? e.committed : e.low));
}

/**
 * Add the lag of `topic`'s partitions that this member owns (`mine`; undefined: all of them) to `into`
 * (`into[topic][partition]`); returns their sum. A topic that does not exist (`offsets` null) adds nothing.
 */
export function addTopicLag(into: Lag, topic: string, offsets: readonly PartitionOffsets[] | null, mine: readonly number[] | undefined): number {
  let total = 0;
  for (const e of offsets ?? []) {
    if (mine && !mine.includes(e.partition)) continue;
    const l = partitionLag(e);
    (into[topic] ??= {})[e.partition] = l;
    total += l;
  }
  return total;
}
