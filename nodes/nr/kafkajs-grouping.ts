/**
 * kafkajs' producer groups the records of a send by partition with
 * `messages.reduce((r, m) => Object.assign(r, { [p]: [...r[p], m] }), {})`: it copies a partition's
 * array for every record, so a send of n records costs O(n²) copies and allocates as much (kafkajs
 * issue, pull request 1576, never merged; 2.2.4 is kafkajs' last release). With kafka out sending up
 * to 5,000 records at a time, that was a fifth of the CPU of a pipeline publishing its alerts and most
 * of what its garbage collector did (`npm run bench -- --eos --profile`).
 *
 * This is a linear grouping with the same result, which `./kafkajs` puts in its place: the same
 * partitioner called for each record in the same order (a keyless record's round robin depends on it),
 * and the same object of arrays in record order.
 */

/** What kafkajs' producer calls for each topic of a send (`src/producer/groupMessagesPerPartition.js`). */
export interface GroupingArgs<M> {
  topic: string;
  partitionMetadata: readonly unknown[];
  messages: readonly M[];
  partitioner: (args: { topic: string; partitionMetadata: readonly unknown[]; message: M }) => number;
}

/** The records of one topic by partition, each partition's in their order; `{}` without partitions. */
export function groupMessagesPerPartition<M>({ topic, partitionMetadata, messages, partitioner }: GroupingArgs<M>): Record<number, M[]> {
  const out: Record<number, M[]> = {};
  if (partitionMetadata.length === 0) return out;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    const list = out[partition];
    if (list === undefined) out[partition] = [message];
    else list.push(message);
  }
  return out;
}
