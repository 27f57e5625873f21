/**
 * kafkajs' produce request, version 3 (`src/protocol/requests/produce/v3/request.js`, which versions 4
 * to 7 reuse), with one change: each record's arguments are built with their properties named, where
 * kafkajs spreads the message into a new object and adds the offset and timestamp deltas
 * (`{ ...message, offsetDelta, timestampDelta }`). On Node.js 20's V8 that literal leaves the fast path:
 * about 1 µs per record, a tenth of the CPU of a pipeline that publishes its alerts with kafka out
 * (`npm run bench -- --eos --profile`); Node.js 22 makes it fast again.
 *
 * The record encoder reads `offsetDelta`, `timestampDelta`, `key`, `value` and `headers` of its
 * argument, so a message that is a plain object gives it the same values either way; any other message
 * (a class instance, say) is spread as kafkajs does. The bytes are kafkajs' bytes (the unit test
 * compares whole requests). Installed by nodes/nr/kafkajs.ts.
 */

/** kafkajs' modules this request is built from, as `load` gives them (paths under kafkajs' `src/`). */
interface Parts {
  Long: { fromInt(n: number): unknown };
  Encoder: new () => EncoderChain;
  apiKey: number;
  None: number;
  Record: (args: Record<string, unknown>) => unknown;
  RecordBatch: (args: Record<string, unknown>) => Promise<EncoderChain & { size(): number }>;
}

interface EncoderChain {
  writeString(s: string | null): EncoderChain;
  writeInt16(n: number): EncoderChain;
  writeInt32(n: number): EncoderChain;
  writeArray(a: unknown[]): EncoderChain;
  writeEncoder(e: unknown): EncoderChain;
}

interface Message {
  key?: unknown;
  value?: unknown;
  headers?: unknown;
  timestamp?: unknown;
  [k: string]: unknown;
}

interface PartitionData {
  partition: number;
  messages: Message[];
  firstSequence?: number;
  [k: string]: unknown;
}

interface TopicData {
  topic: string;
  partitions: PartitionData[];
  [k: string]: unknown;
}

export interface ProduceRequestArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: TopicData[];
}

/** kafkajs' produce request v3 module (its `module.exports`), from kafkajs' own parts. */
export function produceRequestV3(load: (file: string) => unknown): (args: ProduceRequestArgs) => unknown {
  const p: Parts = {
    Long: load('utils/long.js') as Parts['Long'],
    Encoder: load('protocol/encoder.js') as Parts['Encoder'],
    apiKey: (load('protocol/requests/apiKeys.js') as { Produce: number }).Produce,
    None: (load('protocol/message/compression/index.js') as { Types: { None: number } }).Types.None,
    Record: load('protocol/recordBatch/record/v0/index.js') as Parts['Record'],
    RecordBatch: (load('protocol/recordBatch/v0/index.js') as { RecordBatch: Parts['RecordBatch'] }).RecordBatch,
  };
  return ({ acks, timeout, transactionalId = null, producerId = p.Long.fromInt(-1), producerEpoch = 0, compression = p.None, topicData }) => ({
    apiKey: p.apiKey,
    apiVersion: 3,
    apiName: 'Produce',
    expectResponse: () => acks !== 0,
    encode: async () => {
      const encodeTopic = topicEncoder(p, compression);
      const encodedTopicData = [];
      for (const data of topicData) encodedTopicData.push(await encodeTopic({ ...data, transactionalId, producerId, producerEpoch }));
      return new p.Encoder().writeString(transactionalId).writeInt16(acks).writeInt32(timeout).writeArray(encodedTopicData);
    },
  });
}

function topicEncoder(p: Parts, compression: number) {
  return async ({ topic, partitions, transactionalId, producerId, producerEpoch }: TopicData) => {
    const encodePartitions = partitionsEncoder(p, compression);
    const encodedPartitions = [];
    for (const data of partitions) encodedPartitions.push(await encodePartitions({ ...data, transactionalId, producerId, producerEpoch }));
    return new p.Encoder().writeString(topic).writeArray(encodedPartitions);
  };
}

function partitionsEncoder(p: Parts, compression: number) {
  return async ({ partition, messages, transactionalId, firstSequence, producerId, producerEpoch }: PartitionData) => {
    const dateNow = Date.now();
    // As kafkajs: the given timestamps sorted as text (the default sort), first and last of them.
    const messageTimestamps = messages
      .map((m) => m.timestamp)
      .filter((timestamp) => timestamp != null)
      .sort();
    const timestamps = messageTimestamps.length === 0 ? [dateNow] : messageTimestamps;
    const firstTimestamp = timestamps[0] as number;
    const maxTimestamp = timestamps[timestamps.length - 1];
    const records = new Array(messages.length);
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i];
      const timestampDelta = ((message.timestamp as number) || dateNow) - firstTimestamp;
      const proto: unknown = Object.getPrototypeOf(message);
      records[i] = p.Record(
        proto === Object.prototype || proto === null
          ? { key: message.key, value: message.value, headers: message.headers, offsetDelta: i, timestampDelta }
          : { ...message, offsetDelta: i, timestampDelta },
      );
    }
    const recordBatch = await p.RecordBatch({
      compression,
      records,
      firstTimestamp,
      maxTimestamp,
      producerId,
      producerEpoch,
      firstSequence,
      transactional: !!transactionalId,
      lastOffsetDelta: records.length - 1,
    });
    return new p.Encoder().writeInt32(partition).writeInt32(recordBatch.size()).writeEncoder(recordBatch);
  };
}
