/**
 * kafkajs' consumer batch (`src/consumer/batch.js`), built without a BigInt per record. kafkajs keeps a
 * fetched record only when its offset is at or past the fetched offset, and tests that with
 * `Long.fromValue(message.offset).gte(...)`: a BigInt parsed from the offset's text and a `Long` object
 * for every record fetched. Here the offset a {@link FetchedRecord} holds, or an offset that is
 * canonical decimal text below 10^15 (as kafkajs' record decoder writes them), is compared as a number,
 * which is exact for those; any other offset goes through kafkajs' `Long` as before. Everything else
 * is kafkajs' own: its aborted transactions filter, and the methods of kafkajs' class, whose prototype
 * the batches share. The unit test compares both batches over any offsets. Installed by
 * nodes/nr/kafkajs.ts.
 */
import { FetchedRecord } from './kafkajs-record-decode';

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

/**
 * The offset as a number when it is canonical decimal text of at most 15 digits (below 10^15, so the
 * sum is exact), else NaN: offsets as the record decoders write them, read without parsing a number.
 */
function safeOffset(o: unknown): number {
  if (typeof o !== 'string') return NaN;
  const len = o.length;
  if (len === 0 || len > 15 || (len > 1 && o.charCodeAt(0) === 48)) return NaN;
  let n = 0;
  for (let i = 0; i < len; i++) {
    const d = o.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
}

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
    const from = safeOffset(longFetchedOffset.toString());
    this.messagesWithinOffset = messages.filter((message) => {
      const n = from !== from ? NaN : message instanceof FetchedRecord ? message.offsetNumber : safeOffset(message.offset);
      return n === n ? n >= from : Long.fromValue(message.offset).gte(longFetchedOffset);
    });
    // As kafkajs: no record of an aborted transaction, no control record.
    this.messages = filterAbortedMessages({ messages: this.messagesWithinOffset as FetchedMessage[], abortedTransactions }).filter((message) => !message.isControlRecord);
  }
  Batch.prototype = original.prototype;
  return Batch as unknown as new (topic: string, fetchedOffset: unknown, partitionData: PartitionData) => object;
}
