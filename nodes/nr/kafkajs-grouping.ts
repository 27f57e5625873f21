/**
 * kafkajs' producer groups the records of a send by partition with
 * `messages.reduce((r, m) => Object.assign(r, { [p]: [...r[p], m] }), {})`: it copies a partition's
 * array for every record, so a send of n records costs O(n²) copies and allocates as much (kafkajs
 * issue, pull request 1576, never merged; 2.2.4 is kafkajs' last release). With kafka out sending up
 * to 5,000 records at a time, that was a fifth of the CPU of a pipeline publishing its alerts and most
 * of what its garbage collector did (`npm run bench -- --eos --profile`).
 *
 * This module puts a linear grouping with the same result in its place: the same partitioner called
 * for each record in the same order (a keyless record's round robin depends on it), and the same object
 * of arrays in record order. kafkajs' `sendMessages` takes the function when it loads, so the linear one
 * can only go in before that: this package's modules import kafkajs' values through `./kafkajs`, which
 * loads this first. When another module loaded this copy of kafkajs earlier, or the kafkajs found is
 * not the version whose function this one replaces, kafkajs keeps its own (correct, slower).
 */
import Module from 'node:module';
import path from 'node:path';

/** The kafkajs release whose `groupMessagesPerPartition` this module's function is equal to. */
export const KAFKAJS_VERSION = '2.2.4';

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

/**
 * Which grouping kafkajs' producer uses in this process: `linear` (this module's), or kafkajs' own
 * because kafkajs was `loaded-first`, is an `other-version`, or its file was `not-found`.
 */
export type Grouping = 'linear' | 'loaded-first' | 'other-version' | 'not-found';

function install(): Grouping {
  let file: string;
  let version: string;
  try {
    file = require.resolve('kafkajs/src/producer/groupMessagesPerPartition');
    version = (require('kafkajs/package.json') as { version: string }).version;
  } catch {
    return 'not-found';
  }
  if (version !== KAFKAJS_VERSION) return 'other-version';
  const current = require.cache[file];
  if (current?.exports === groupMessagesPerPartition) return 'linear';
  // The module that takes the function when it loads: once it is in, kafkajs keeps what it has.
  if (current !== undefined || require.cache[path.join(path.dirname(file), 'sendMessages.js')] !== undefined) return 'loaded-first';
  const m = new Module(file, module);
  m.filename = file;
  m.loaded = true;
  m.exports = groupMessagesPerPartition;
  require.cache[file] = m;
  return 'linear';
}

/** The grouping kafkajs' producer uses here, settled when this module loads. */
export const grouping: Grouping = install();
