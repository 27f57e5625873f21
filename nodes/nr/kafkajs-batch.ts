/**
 * kafkajs' consumer batch (`src/consumer/batch.js`), built without a BigInt per record. kafkajs keeps a
 * fetched record only when its offset is at or past the fetched offset, and tests that with
 * `Long.fromValue(message.offset).gte(...)`: a BigInt parsed from the offset's text and a `Long` object
 * for every record fetched. Here the offset a {@link FetchedRecord} holds, or an offset that is the
 * canonical decimal text of a safe integer (as kafkajs' record decoder writes them, {@link safeInteger}),
 * is compared as a number, which is exact for those; any other offset goes through kafkajs' `Long` as
 * before. Everything else is kafkajs' own: its aborted transactions filter, and the methods of kafkajs'
 * class, whose prototype the batches share. The unit test compares both batches over any offsets.
 * Installed by nodes/nr/kafkajs.ts.
 */
import { FetchedRecord, safeInteger } from './kafkajs-record-decode';

interface LongLike {
  gte(other: LongLike): boolean;
  toString(): string;
}

interface LongClass {
  fromValue(v: unknown): LongLike;
}

interface FetchedMessage {
  offset: unknown;
  isControlRecord?: boolean;
  [k: string]: unknown;
}

interface PartitionData {
  partition: number;
  highWatermark: unknown;
  abortedTransactions?: unknown[];
  messages: FetchedMessage[];
}

type FilterAborted = (args: { messages: FetchedMessage[]; abortedTransactions?: unknown[] }) => FetchedMessage[];

/** kafkajs' Batch constructor (its module's export), sharing kafkajs' class prototype. */
export function fetchedBatch(original: { prototype: object }, Long: LongClass, filterAbortedMessages: FilterAborted): new (topic: string, fetchedOffset: unknown, partitionData: PartitionData) => object {
  function Batch(this: Record<string, unknown>, topic: string, fetchedOffset: unknown, partitionData: PartitionData): void {
    this.fetchedOffset = fetchedOffset;
    const longFetchedOffset = Long.fromValue(fetchedOffset);
    const { abortedTransactions, messages } = partitionData;
    this.topic = topic;
    this.partition = partitionData.partition;
    this.highWatermark = partitionData.highWatermark;
    this.rawMessages = messages;
    // Records before the fetched offset are dropped (kafkajs: a fetch may return lower offsets).
    const from = safeInteger(longFetchedOffset.toString());
    this.messagesWithinOffset = messages.filter((message) => {
      const n = from !== from ? NaN : message instanceof FetchedRecord ? message.offsetNumber : safeInteger(message.offset);
      return n === n ? n >= from : Long.fromValue(message.offset).gte(longFetchedOffset);
    });
    // As kafkajs: no record of an aborted transaction, no control record.
    this.messages = filterAbortedMessages({ messages: this.messagesWithinOffset as FetchedMessage[], abortedTransactions }).filter((message) => !message.isControlRecord);
  }
  Batch.prototype = original.prototype;
  return Batch as unknown as new (topic: string, fetchedOffset: unknown, partitionData: PartitionData) => object;
}
