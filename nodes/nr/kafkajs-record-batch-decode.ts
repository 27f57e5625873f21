/**
 * kafkajs' decoder of a fetched record batch (`src/protocol/recordBatch/v0/decoder.js`), with its
 * records read where they lie. kafkajs reads each record's length, slices that many bytes into a Buffer
 * of their own and wraps them in a new Decoder for its record decoder: two objects per record before the
 * record is read. Here a record of the common form is read in place (`readNextRecord`,
 * kafkajs-record-decode.ts); any other is sliced and handed to the record decoder as kafkajs does.
 * Everything else is kafkajs' code, in its order: the batch header, its record context, the
 * decompression, the errors. Installed by nodes/nr/kafkajs.ts; the unit test compares both decoders on
 * any batches kafkajs' producer writes.
 */
import { readNextRecord, type BatchContext, type DecoderLike } from './kafkajs-record-decode';

/** The parts of kafkajs' `Decoder` this reads. */
export interface BatchDecoderLike extends DecoderLike {
  readInt8(): number;
  readInt16(): number;
  readInt32(): number;
  readInt64(): { toString(): string };
  readAll(): Buffer;
  readVarIntBytes(): Buffer;
  readArray<T>(reader: (d: BatchDecoderLike) => T): T[];
  slice(size: number): BatchDecoderLike;
  forward(size: number): void;
}

interface Codec {
  decompress(buffer: Buffer): Promise<Buffer>;
}

type RecordDecoder = (decoder: BatchDecoderLike, context: BatchContext) => unknown;

// kafkajs' masks of a batch's attributes.
const TIMESTAMP_TYPE_FLAG_MASK = 0x8;
const TRANSACTIONAL_FLAG_MASK = 0x10;
const CONTROL_FLAG_MASK = 0x20;

/** kafkajs' record batch decoder (its module's export); `load` requires a module of kafkajs' `src`. */
export function recordBatchDecoder(load: (file: string) => unknown): (fetchDecoder: BatchDecoderLike) => Promise<Record<string, unknown>> {
  const Decoder = load('protocol/decoder.js') as new (buffer: Buffer) => BatchDecoderLike;
  const { KafkaJSPartialMessageError } = load('errors.js') as { KafkaJSPartialMessageError: new (message: string) => Error };
  const { lookupCodecByAttributes } = load('protocol/message/compression/index.js') as { lookupCodecByAttributes(attributes: number): Codec | undefined };
  // kafkajs' record decoder, or the package's where it is installed: for the records not read in place.
  const decodeOther = load('protocol/recordBatch/record/v0/decoder.js') as RecordDecoder;
  const TimestampTypes = load('protocol/timestampTypes.js') as { LOG_APPEND_TIME: number; CREATE_TIME: number };

  const decodeRecord = (decoder: BatchDecoderLike, context: BatchContext): unknown =>
    readNextRecord(decoder, context) ?? decodeOther(new Decoder(decoder.readVarIntBytes()), context);

  const decodeRecords = async (codec: Codec | undefined, recordsDecoder: BatchDecoderLike, context: BatchContext): Promise<unknown[]> => {
    if (!codec) return recordsDecoder.readArray((decoder) => decodeRecord(decoder, context));
    const length = recordsDecoder.readInt32();
    if (length <= 0) return [];
    const compressedRecordsBuffer = recordsDecoder.readAll();
    const decompressedRecordBuffer = await codec.decompress(compressedRecordsBuffer);
    const decompressedRecordDecoder = new Decoder(decompressedRecordBuffer);
    const records = new Array<unknown>(length);
    for (let i = 0; i < length; i++) records[i] = decodeRecord(decompressedRecordDecoder, context);
    return records;
  };

  return async (fetchDecoder: BatchDecoderLike): Promise<Record<string, unknown>> => {
    const firstOffset = fetchDecoder.readInt64().toString();
    const length = fetchDecoder.readInt32();
    const decoder = fetchDecoder.slice(length);
    fetchDecoder.forward(length);
    const remainingBytes = Buffer.byteLength(decoder.buffer);
    if (remainingBytes < length) {
      throw new KafkaJSPartialMessageError(`Tried to decode a partial record batch: remainingBytes(${remainingBytes}) < recordBatchLength(${length})`);
    }
    const partitionLeaderEpoch = decoder.readInt32();
    // The magic byte (read by the fetch response already) and the CRC (kafkajs does not check it).
    const magicByte = decoder.readInt8();
    decoder.readInt32();
    const attributes = decoder.readInt16();
    const lastOffsetDelta = decoder.readInt32();
    const firstTimestamp = decoder.readInt64().toString();
    const maxTimestamp = decoder.readInt64().toString();
    const producerId = decoder.readInt64().toString();
    const producerEpoch = decoder.readInt16();
    const firstSequence = decoder.readInt32();
    const inTransaction = (attributes & TRANSACTIONAL_FLAG_MASK) > 0;
    const isControlBatch = (attributes & CONTROL_FLAG_MASK) > 0;
    const timestampType = (attributes & TIMESTAMP_TYPE_FLAG_MASK) > 0 ? TimestampTypes.LOG_APPEND_TIME : TimestampTypes.CREATE_TIME;
    const codec = lookupCodecByAttributes(attributes);
    const recordContext = {
      firstOffset,
      firstTimestamp,
      partitionLeaderEpoch,
      inTransaction,
      isControlBatch,
      lastOffsetDelta,
      producerId,
      producerEpoch,
      firstSequence,
      maxTimestamp,
      timestampType,
    };
    const records = await decodeRecords(codec, decoder, { ...recordContext, magicByte });
    return { ...recordContext, records };
  };
}
