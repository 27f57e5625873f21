/**
 * The CRC-32C (Castagnoli) of kafkajs' record batches (`src/protocol/recordBatch/crc32C/crc32C.js`), eight
 * bytes per step ("slicing by 8", eight tables of 256 entries derived from kafkajs' polynomial) where
 * kafkajs takes one byte per step. Every batch kafkajs produces (kafka out's records, the changelogs'
 * checkpoints) is summed over all its bytes: 4–5 % of the CPU of a pipeline that publishes its alerts
 * (`npm run bench -- --eos --profile`). The same sum for every input (the unit test compares both).
 * Installed by nodes/nr/kafkajs.ts.
 */

/** CRC-32C's polynomial, bit-reversed (as kafkajs' table is made from). */
const POLY = 0x82f63b78;

/** Table k (k = 0 … 7) at k × 256: table 0 is the byte-wise table, table k the CRC of a byte followed by k zero bytes. */
const T = new Int32Array(8 * 256);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let b = 0; b < 8; b++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  T[i] = c;
}
for (let k = 1; k < 8; k++) for (let i = 0; i < 256; i++) T[k * 256 + i] = (T[(k - 1) * 256 + i] >>> 8) ^ T[T[(k - 1) * 256 + i] & 0xff];

/** CRC-32C of the buffer's bytes, as an unsigned 32-bit number (kafkajs' result). */
export function crc32C(buffer: Uint8Array): number {
  let crc = -1;
  const n = buffer.length;
  let i = 0;
  for (const end = n - 7; i < end; i += 8) {
    const a = crc ^ (buffer[i] | (buffer[i + 1] << 8) | (buffer[i + 2] << 16) | (buffer[i + 3] << 24));
    const b = buffer[i + 4] | (buffer[i + 5] << 8) | (buffer[i + 6] << 16) | (buffer[i + 7] << 24);
    crc =
      T[1792 + (a & 0xff)] ^
      T[1536 + ((a >>> 8) & 0xff)] ^
      T[1280 + ((a >>> 16) & 0xff)] ^
      T[1024 + (a >>> 24)] ^
      T[768 + (b & 0xff)] ^
      T[512 + ((b >>> 8) & 0xff)] ^
      T[256 + ((b >>> 16) & 0xff)] ^
      T[b >>> 24];
  }
  for (; i < n; i++) crc = T[(crc ^ buffer[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}
