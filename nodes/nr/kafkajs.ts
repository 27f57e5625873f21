/**
 * kafkajs, as this package's modules take its values. Before kafkajs loads, eight of its internal
 * functions are replaced by equal ones without their cost (kafkajs 2.2.4 is its last release; the
 * grouping's fix was never merged):
 * - the producer's grouping of a send's records by partition, quadratic in kafkajs (`kafkajs-grouping.ts`);
 * - the default partitioner's key hash, BigInt arithmetic and a Buffer per keyed record in kafkajs
 *   (`kafkajs-murmur2.ts`);
 * - the producer's encoding of a record, several buffers per record in kafkajs (`kafkajs-record-encode.ts`);
 * - the produce request, whose per-record object spread is slow on Node.js 20 (`kafkajs-produce-request.ts`);
 * - the CRC-32C of a produced record batch, a byte per step in kafkajs (`kafkajs-crc32c.ts`);
 * - the consumer's decoding of a record, `Long` arithmetic on decimal text per record in kafkajs
 *   (`kafkajs-record-decode.ts`);
 * - the consumer's decoding of a record batch, a Buffer and a Decoder per record in kafkajs
 *   (`kafkajs-record-batch-decode.ts`);
 * - the consumer's batch of fetched records, a BigInt per record for its offset test in kafkajs
 *   (`kafkajs-batch.ts`).
 * A kafkajs module takes such a function when it loads, so each can only be replaced before that: when
 * another module loaded this copy of kafkajs first, or the kafkajs found is another version, kafkajs
 * keeps its own (correct, slower). Type-only imports may come from 'kafkajs' itself.
 */
import path from 'node:path';
import { fetchedBatch } from './kafkajs-batch';
import { crc32C } from './kafkajs-crc32c';
import { groupMessagesPerPartition } from './kafkajs-grouping';
import { murmur2 } from './kafkajs-murmur2';
import { produceRequestV3 } from './kafkajs-produce-request';
import { recordBatchDecoder } from './kafkajs-record-batch-decode';
import { recordDecoder, type DecoderLike } from './kafkajs-record-decode';
import { recordEncoder, type EncoderLike, type RecordArgs } from './kafkajs-record-encode';

/** The kafkajs release whose internal functions are replaced. */
export const KAFKAJS_VERSION = '2.2.4';

/** What became of a replacement: `installed`, or kafkajs' own kept because kafkajs was `loaded-first`, is an `other-version` or was `not-found`. */
export type Replacement = 'installed' | 'loaded-first' | 'other-version' | 'not-found';

/** Marks a function put in kafkajs by this module (one per process, whichever copy of the package put it). */
export const REPLACED = Symbol.for('@smoke-stream/node-red-smoke-stream: a kafkajs replacement');

/** kafkajs' `src` folder, or why its functions are not replaced. */
const SRC = ((): string | Exclude<Replacement, 'installed' | 'loaded-first'> => {
  try {
    const pkg = require.resolve('kafkajs/package.json');
    return (require(pkg) as { version: string }).version === KAFKAJS_VERSION ? path.join(path.dirname(pkg), 'src') : 'other-version';
  } catch {
    return 'not-found';
  }
})();

/**
 * Put `make(kafkajs' own, load)` in place of kafkajs' module `file` (under `src/`), unless one of the
 * modules that take it when they load (`takenBy`) is loaded already; `load` requires another of them.
 */
function replace<T>(file: string, takenBy: readonly string[], make: (original: T, load: (file: string) => unknown) => object): Replacement {
  const src = SRC;
  if (src === 'other-version' || src === 'not-found') return src;
  const load = (f: string): unknown => require(path.join(src, f));
  const target = path.join(src, file);
  if ((require.cache[target]?.exports as Record<symbol, unknown> | undefined)?.[REPLACED]) return 'installed';
  if (takenBy.some((f) => require.cache[path.join(src, f)] !== undefined)) return 'loaded-first';
  const replacement = Object.assign(make(load(file) as T, load), { [REPLACED]: true });
  require.cache[target]!.exports = replacement;
  return 'installed';
}

/** Which of kafkajs' functions this process uses: ours (`installed`) or kafkajs' own, and why. */
export const replacements: Readonly<{
  grouping: Replacement;
  murmur2: Replacement;
  crc32C: Replacement;
  recordEncoder: Replacement;
  produceRequest: Replacement;
  recordDecoder: Replacement;
  recordBatchDecoder: Replacement;
  batch: Replacement;
}> = {
  grouping: replace('producer/groupMessagesPerPartition.js', ['producer/sendMessages.js'], () => groupMessagesPerPartition),
  murmur2: replace('producer/partitioners/default/murmur2.js', ['producer/partitioners/default/index.js'], () => murmur2),
  // Before the produce request, whose record batch module takes the CRC when it loads.
  crc32C: replace('protocol/recordBatch/crc32C/crc32C.js', ['protocol/recordBatch/crc32C/index.js'], () => crc32C),
  recordEncoder: replace('protocol/recordBatch/record/v0/index.js', ['protocol/requests/produce/v3/request.js'], (original: (args: RecordArgs) => EncoderLike, load) =>
    recordEncoder(original, load('protocol/encoder.js') as { prototype: EncoderLike }),
  ),
  // After the record encoder: the request takes whichever record encoder is kafkajs' by then.
  produceRequest: replace('protocol/requests/produce/v3/request.js', ['protocol/requests/produce/v4/request.js', 'protocol/requests/produce/v5/request.js'], (_original, load) => produceRequestV3(load)),
  recordDecoder: replace('protocol/recordBatch/record/v0/decoder.js', ['protocol/recordBatch/v0/decoder.js'], (original: (decoder: DecoderLike) => unknown) => recordDecoder(original)),
  // After the record decoder: the batch decoder hands it the records it does not read itself.
  recordBatchDecoder: replace('protocol/recordBatch/v0/decoder.js', ['protocol/requests/fetch/v4/decodeMessages.js'], (_original, load) => recordBatchDecoder(load)),
  batch: replace('consumer/batch.js', ['consumer/consumerGroup.js'], (original: { prototype: object }, load) =>
    fetchedBatch(original, load('utils/long.js') as Parameters<typeof fetchedBatch>[1], load('consumer/filterAbortedMessages.js') as Parameters<typeof fetchedBatch>[2]),
  ),
};

export { AssignerProtocol, CompressionTypes, Kafka, Partitioners, logLevel } from 'kafkajs';
