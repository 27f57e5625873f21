/**
 * A fetched record as kafkajs' consumer decodes it (`src/protocol/recordBatch/record/v0/decoder.js`):
 * the same object, with its offset and timestamp computed as numbers where they are exact. kafkajs'
 * own parses the batch's first offset and first timestamp from their decimal text into `Long` objects
 * for every record, adds the record's delta and prints the sum back, and reads the timestamp delta as a
 * 64-bit `Long`. With this (and the producer's record encoding, for the changelogs) kafkajs' CPU in a
 * batch pipeline's profile fell from 584 to 328 ms for 300,000 readings, and the bench's client
 * ceiling rose by a fifth to a quarter (`npm run bench -- --profile`, `--only client`).
 *
 * What this reads: a record without headers whose deltas and lengths are varints of at most four
 * bytes (below 2^27 in size), in a batch whose first offset and timestamp are safe integers; anything
 * else goes to kafkajs' own function, which reads it from the untouched decoder.
 *
 * Such a record is a {@link FetchedRecord}: kafkajs' record object, whose key, value, offset and
 * timestamp are made when read. `kafka in` reads them from it as numbers and text without the two
 * Buffer views and the two decimal texts per record that kafkajs' object holds (and that it would read
 * back: `Number(offset)`, `value.toString()`).
 */

/** kafkajs' `Decoder` as a record is read from it: `buffer` holds the record's bytes from `offset`. */
export interface DecoderLike {
  buffer: Buffer;
  offset: number;
}

/** What kafkajs' batch decoder passes with each record (the parts read here; the rest passes through). */
export interface BatchContext {
  firstOffset?: string;
  firstTimestamp?: string;
  maxTimestamp?: string;
  magicByte?: number;
  isControlBatch?: boolean;
  timestampType?: number;
}

/** kafkajs' `TimestampTypes.LOG_APPEND_TIME`. */
const LOG_APPEND_TIME = 1;

/** The batch whose first offset and timestamp were read last, as numbers (NaN when not safe integers). */
let lastBatch: BatchContext | undefined;
let firstOffset = NaN;
let firstTimestamp = NaN;

/**
 * The number whose canonical decimal text `text` is, when it is a safe integer; NaN for anything else
 * (other texts such as `007` or `1e3`, numbers, beyond 2^53): kafkajs' 64-bit decimal texts (offsets,
 * timestamps) read as numbers where that is exact.
 */
export function safeInteger(text: unknown): number {
  const n = Number(text);
  return Number.isSafeInteger(n) && String(n) === text ? n : NaN;
}

/** The value of the varint {@link readVarint} read last (zigzag decoded). */
let varint = 0;

/** Reads a varint of at most four bytes at `at`: the offset after it, or -1 when it is longer or cut off. */
function readVarint(buf: Buffer, at: number, end: number): number {
  let u = 0;
  let shift = 0;
  let b: number;
  do {
    if (at >= end || shift > 21) return -1;
    b = buf[at++];
    u |= (b & 0x7f) << shift;
    shift += 7;
  } while (b >= 0x80);
  varint = (u >>> 1) ^ -(u & 1);
  return at;
}

/** Where the record {@link readRecord} read last ends (the decoder's offset after it). */
let recordEnd = 0;

/**
 * The record of the common form (see the module comment) that starts at `at` in `buf` and lies before
 * `end`, as a {@link FetchedRecord}, its end in {@link recordEnd}; null for any other record, which
 * kafkajs' own decoder then reads.
 */
function readRecord(buf: Buffer, at: number, end: number, batchContext: BatchContext): FetchedRecord | null {
  if (batchContext !== lastBatch) {
    lastBatch = batchContext;
    firstOffset = safeInteger(batchContext.firstOffset);
    firstTimestamp = safeInteger(batchContext.firstTimestamp);
  }
  if (firstOffset !== firstOffset || at >= end) return null;
  const attributes = (buf[at++] << 24) >> 24; // int8
  if ((at = readVarint(buf, at, end)) < 0) return null;
  const timestampDelta = varint;
  if ((at = readVarint(buf, at, end)) < 0) return null;
  const offset = firstOffset + varint;
  if ((at = readVarint(buf, at, end)) < 0 || varint < -1 || at + varint > end) return null;
  const keyStart = varint === -1 ? -1 : at;
  const keyEnd = (at += varint === -1 ? 0 : varint);
  if ((at = readVarint(buf, at, end)) < 0 || varint < -1 || at + varint > end) return null;
  const valueStart = varint === -1 ? -1 : at;
  const valueEnd = (at += varint === -1 ? 0 : varint);
  // No headers: a count of 0, or of -1 (kafkajs reads both as none).
  if (at >= end || buf[at] > 1) return null;
  // kafkajs' timestamp: the batch's max timestamp (its text as it is) under log-append time, else the
  // first timestamp plus the delta; a number whose text is exactly that here.
  let timestamp: number;
  if (batchContext.timestampType === LOG_APPEND_TIME && batchContext.maxTimestamp) timestamp = safeInteger(batchContext.maxTimestamp);
  else timestamp = firstTimestamp + timestampDelta;
  if (!Number.isSafeInteger(timestamp) || !Number.isSafeInteger(offset)) return null;
  recordEnd = at + 1;
  return new FetchedRecord(batchContext.magicByte, attributes, batchContext.isControlBatch === undefined ? false : batchContext.isControlBatch, batchContext, buf, keyStart, keyEnd, valueStart, valueEnd, offset, timestamp);
}

/**
 * A record batch's next record, as kafkajs' batch decoder reads it (its length, a varint, then the
 * record from a slice of that many bytes), read where it lies when it is of the common form: the
 * record, the decoder moved past it; else null, the decoder untouched.
 */
export function readNextRecord(decoder: DecoderLike, batchContext: BatchContext): FetchedRecord | null {
  const buf = decoder.buffer;
  const start = readVarint(buf, decoder.offset, buf.length);
  if (start < 0 || varint < 0 || start + varint > buf.length) return null;
  const end = start + varint;
  const r = readRecord(buf, start, end, batchContext);
  if (r !== null) decoder.offset = end;
  return r;
}

/**
 * kafkajs' record decoder with the common records read here; `original` is kafkajs' own (for the
 * rest). The key and value stay where they are in the fetched bytes: views of them, as kafkajs'
 * slices, are made only when read (no copy either way).
 */
export function recordDecoder<R>(original: (decoder: DecoderLike, batchContext?: BatchContext) => R): (decoder: DecoderLike, batchContext?: BatchContext) => R {
  return (decoder: DecoderLike, batchContext: BatchContext = {}): R => {
    const r = readRecord(decoder.buffer, decoder.offset, decoder.buffer.length, batchContext);
    if (r === null) return original(decoder, batchContext);
    decoder.offset = recordEnd;
    return r as R;
  };
}

/**
 * A record the fast path read: the fields of kafkajs' record object (`magicByte`, `attributes`,
 * `timestamp`, `offset`, `key`, `value`, `headers`, `isControlRecord`, `batchContext`), the four that
 * kafkajs computes per record made only when read (`key` and `value` are views of the fetched bytes,
 * as kafkajs' are; `offset` and `timestamp` decimal text). What `kafka in` reads instead:
 * {@link offsetNumber}, {@link timestampNumber}, {@link keyText}, {@link valueText}.
 */
export class FetchedRecord {
  constructor(
    readonly magicByte: number | undefined,
    readonly attributes: number,
    readonly isControlRecord: boolean,
    readonly batchContext: BatchContext,
    /** The fetched bytes the key and value lie in. */
    readonly bytes: Buffer,
    /** Where the key lies in {@link bytes}: from `keyStart` to `keyEnd`, or none when `keyStart` is -1. */
    readonly keyStart: number,
    readonly keyEnd: number,
    /** Where the value lies in {@link bytes}, as the key. */
    readonly valueStart: number,
    readonly valueEnd: number,
    /** The offset, a safe integer. */
    readonly offsetNumber: number,
    /** The timestamp (ms), a safe integer. */
    readonly timestampNumber: number,
  ) {}

  get offset(): string {
    return String(this.offsetNumber);
  }

  get timestamp(): string {
    return String(this.timestampNumber);
  }

  get key(): Buffer | null {
    return this.keyStart < 0 ? null : this.bytes.subarray(this.keyStart, this.keyEnd);
  }

  get value(): Buffer | null {
    return this.valueStart < 0 ? null : this.bytes.subarray(this.valueStart, this.valueEnd);
  }

  /** A record of the fast path has no headers (kafkajs' object: a new empty one each). */
  get headers(): Record<string, never> {
    return {};
  }

  /** The key as UTF-8 text, or null: `key.toString()` without the view. */
  keyText(): string | null {
    return this.keyStart < 0 ? null : this.bytes.toString('utf8', this.keyStart, this.keyEnd);
  }

  /** The value as UTF-8 text, or null (a tombstone). */
  valueText(): string | null {
    return this.valueStart < 0 ? null : this.bytes.toString('utf8', this.valueStart, this.valueEnd);
  }
}
