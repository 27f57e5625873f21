/**
 * kafkajs' key hash for its default (Java-compatible) partitioner, `producer/partitioners/default/
 * murmur2.js`, in 32-bit integer arithmetic. kafkajs computes it with its BigInt-backed `Long` (a few
 * BigInts per 4 bytes of key) and a new Buffer per key; every keyed record of a send goes through it.
 * The hash is Kafka's murmur2 (Java's `Utils.murmur2`): only the low 32 bits of kafkajs' 64-bit figures
 * reach its result, and those are what `Math.imul` and `^` compute, so the partition of every key is
 * kafkajs' (test/unit/kafkajs.test.ts compares both over any keys). Installed by nodes/nr/kafkajs.ts.
 */
const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** The UTF-8 bytes of a text key, reused from key to key (grown for a longer one). */
let scratch = Buffer.allocUnsafe(256);

/** murmur2 of a key as kafkajs hashes it: a Buffer's bytes, anything else `String(key)` in UTF-8. */
export function murmur2(key: unknown): number {
  let data: Buffer;
  let length: number;
  if (Buffer.isBuffer(key)) {
    data = key;
    length = key.length;
  } else {
    const text = String(key);
    // At most 3 bytes per UTF-16 unit (a surrogate pair is 2 units and 4 bytes).
    if (text.length * 3 > scratch.length) scratch = Buffer.allocUnsafe(Math.max(text.length * 3, scratch.length * 2));
    data = scratch;
    length = scratch.write(text, 0, 'utf8');
  }
  let h = SEED ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // The last 1 to 3 bytes.
  const tail = length & 3;
  if (tail > 0) {
    if (tail === 3) h ^= data[whole + 2] << 16;
    if (tail >= 2) h ^= data[whole + 1] << 8;
    h ^= data[whole];
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}
