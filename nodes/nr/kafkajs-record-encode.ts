/**
 * A record as kafkajs' producer encodes it (Kafka's record format v2: length, attributes, timestamp and
 * offset deltas, key, value, headers; `src/protocol/recordBatch/record/v0/index.js`), written in one
 * buffer of the record's exact size. kafkajs' own starts a zero-filled 512-byte encoder per record, makes
 * a buffer from an array for every varint and does the timestamp delta's zigzag in 64-bit `Long`
 * objects: with kafka out publishing the detectors' alerts, that was most of what kafkajs allocated
 * and a third of its CPU (`npm run bench -- --eos --profile`).
 *
 * The bytes are kafkajs' bytes (the unit test compares them). What this writes: keys and values that
 * are null, text or a Buffer, no headers, deltas that are integers below 2^30 in size (a batch's
 * offsets and milliseconds are); anything else goes to kafkajs' own function, as before.
 */

/** What kafkajs' produce request passes for each record of a batch. */
export interface RecordArgs {
  offsetDelta?: unknown;
  timestampDelta?: unknown;
  key?: unknown;
  value?: unknown;
  headers?: unknown;
}

/** kafkajs' `Encoder` as a record's encoding is read back: its bytes are `buf` up to `offset`. */
export interface EncoderLike {
  buf: Buffer;
  offset: number;
}

/** Size bound of the deltas written here: their zigzag form fits an int32. */
const SMALL = 2 ** 30;

const isSmall = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n > -SMALL && n < SMALL;

/** A key or value this module writes: null (length -1), text or a Buffer. */
const isPlain = (v: unknown): v is string | Buffer | null | undefined => v == null || typeof v === 'string' || Buffer.isBuffer(v);

/** Zigzag form of an int32, as an unsigned number. */
const zigzag = (n: number): number => ((n << 1) ^ (n >> 31)) >>> 0;

function sizeOfUVarInt(u: number): number {
  return u < 0x80 ? 1 : u < 0x4000 ? 2 : u < 0x200000 ? 3 : u < 0x10000000 ? 4 : 5;
}

function writeUVarInt(buf: Buffer, at: number, u: number): number {
  while (u >= 0x80) {
    buf[at++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[at++] = u;
  return at;
}

const lengthOf = (v: string | Buffer | null | undefined): number => (v == null ? -1 : typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length);

function writeBytes(buf: Buffer, at: number, v: string | Buffer | null | undefined, length: number): number {
  at = writeUVarInt(buf, at, zigzag(length));
  if (v == null) return at;
  if (typeof v === 'string') buf.write(v, at, length, 'utf8');
  else v.copy(buf, at);
  return at + length;
}

function noHeaders(headers: unknown): boolean {
  if (headers === undefined) return true;
  if (typeof headers !== 'object' || headers === null) return false;
  for (const key in headers) if (Object.prototype.hasOwnProperty.call(headers, key)) return false;
  return true;
}

/**
 * kafkajs' record function with the common records written here: `original` is kafkajs' own (for
 * the rest), `Encoder` its encoder class (a record is handed on as one, as kafkajs does).
 */
export function recordEncoder<E extends EncoderLike>(original: (args: RecordArgs) => E, Encoder: { prototype: E }): (args: RecordArgs) => E {
  return (args: RecordArgs): E => {
    const { offsetDelta = 0, timestampDelta = 0, key, value, headers } = args;
    if (!isSmall(offsetDelta) || !isSmall(timestampDelta) || !isPlain(key) || !isPlain(value) || !noHeaders(headers)) return original(args);
    const keyLength = lengthOf(key);
    const valueLength = lengthOf(value);
    const ts = zigzag(timestampDelta);
    const od = zigzag(offsetDelta);
    const body =
      1 + // attributes
      sizeOfUVarInt(ts) +
      sizeOfUVarInt(od) +
      sizeOfUVarInt(zigzag(keyLength)) +
      (keyLength > 0 ? keyLength : 0) +
      sizeOfUVarInt(zigzag(valueLength)) +
      (valueLength > 0 ? valueLength : 0) +
      1; // no headers: a count of 0
    const size = sizeOfUVarInt(zigzag(body)) + body;
    const buf = Buffer.allocUnsafe(size);
    let at = writeUVarInt(buf, 0, zigzag(body));
    buf[at++] = 0; // attributes: none are used in a record
    at = writeUVarInt(buf, at, ts);
    at = writeUVarInt(buf, at, od);
    at = writeBytes(buf, at, key, keyLength);
    at = writeBytes(buf, at, value, valueLength);
    buf[at] = 0;
    const encoder = Object.create(Encoder.prototype) as E;
    encoder.buf = buf;
    encoder.offset = size;
    return encoder;
  };
}
