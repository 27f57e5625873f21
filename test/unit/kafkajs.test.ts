import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import fc from 'fast-check';
import { Partitioners } from 'kafkajs';
import { KAFKAJS_VERSION, REPLACED } from '../../nodes/nr/kafkajs';
import { groupMessagesPerPartition, type GroupingArgs } from '../../nodes/nr/kafkajs-grouping';
import { fetchedBatch } from '../../nodes/nr/kafkajs-batch';
import { crc32C } from '../../nodes/nr/kafkajs-crc32c';
import { murmur2 } from '../../nodes/nr/kafkajs-murmur2';
import { produceRequestV3, type ProduceRequestArgs } from '../../nodes/nr/kafkajs-produce-request';
import { recordBatchDecoder, type BatchDecoderLike } from '../../nodes/nr/kafkajs-record-batch-decode';
import { FetchedRecord, recordDecoder, type BatchContext, type DecoderLike } from '../../nodes/nr/kafkajs-record-decode';
import { recordEncoder, type EncoderLike, type RecordArgs } from '../../nodes/nr/kafkajs-record-encode';

type Message = { key?: string | null; value: string; partition?: number };
type Group = (args: GroupingArgs<Message>) => Record<number, Message[]>;
type Encode = (args: RecordArgs) => EncoderLike;

// kafkajs' own functions, compiled afresh from their files: in this process the package may have put
// its own in their place already (any test file that loads a node loads nodes/nr/kafkajs.ts).
const ROOT = path.join(__dirname, '..', '..');
const SRC = path.join(ROOT, 'node_modules', 'kafkajs', 'src');
function kafkajsOwn<T>(file: string, requires: Record<string, unknown> = {}): T {
  const full = path.join(SRC, file);
  const m = new Module(full, module) as Module & { _compile(code: string, file: string): void };
  // What the module requires by these names (kafkajs' own modules, compiled afresh too).
  m.require = ((id: string) => (id in requires ? requires[id] : Module.prototype.require.call(m, id))) as NodeJS.Require;
  m.filename = full;
  m.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(full));
  m._compile(fs.readFileSync(full, 'utf8'), full);
  assert.equal((m.exports as Record<symbol, unknown>)[REPLACED], undefined);
  return m.exports as T;
}
const kafkajsGrouping = kafkajsOwn<Group>('producer/groupMessagesPerPartition.js');
const kafkajsRecord = kafkajsOwn<Encode>('protocol/recordBatch/record/v0/index.js');
const kafkajsMurmur2 = kafkajsOwn<(key: unknown) => number>('producer/partitioners/default/murmur2.js');
type BatchClass = new (topic: string, fetchedOffset: unknown, data: unknown) => Record<string, unknown> & Record<string, () => unknown>;
const kafkajsBatch = kafkajsOwn<BatchClass>('consumer/batch.js');
const kafkajsCrc32C = kafkajsOwn<(b: Buffer) => number>('protocol/recordBatch/crc32C/crc32C.js');
type ProduceRequest = (args: ProduceRequestArgs) => { apiKey: number; apiVersion: number; apiName: string; expectResponse(): boolean; encode(): Promise<{ buffer: Buffer }> };
const kafkajsProduceRequest = kafkajsOwn<ProduceRequest>('protocol/requests/produce/v3/request.js');
const kafkajsRecordDecoder = kafkajsOwn<(d: DecoderLike, c?: BatchContext) => unknown>('protocol/recordBatch/record/v0/decoder.js');
type BatchDecode = (d: BatchDecoderLike) => Promise<Record<string, unknown>>;
const kafkajsRecordBatchDecoder = kafkajsOwn<BatchDecode>('protocol/recordBatch/v0/decoder.js', { '../record/v0/decoder': kafkajsRecordDecoder });
const { RecordBatch: kafkajsRecordBatch } = kafkajsOwn<{ RecordBatch: (args: Record<string, unknown>) => Promise<EncoderLike> }>('protocol/recordBatch/v0/index.js');
const Encoder = require(path.join(SRC, 'protocol/encoder.js')) as { prototype: EncoderLike };
const Decoder = require(path.join(SRC, 'protocol/decoder.js')) as new (b: Buffer) => DecoderLike & { readVarIntBytes(): Buffer };
const bytes = (e: EncoderLike): Buffer => e.buf.subarray(0, e.offset);

describe('kafkajs (the functions the package replaces)', function () {
  it('the kafkajs installed is the version they were written for', function () {
    assert.equal((require('kafkajs/package.json') as { version: string }).version, KAFKAJS_VERSION);
  });

  it("grouping: kafkajs' result, calling kafkajs' partitioners in the same order (property)", function () {
    const record = fc.record({
      key: fc.option(fc.constantFrom('1', '2', '17', 'dev-a', 'dev-b', ''), { nil: null }),
      value: fc.string({ maxLength: 4 }),
      partition: fc.option(fc.nat({ max: 5 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(record, { maxLength: 300 }), fc.integer({ min: 0, max: 6 }), fc.constantFrom('default', 'legacy'), (messages, partitions, kind) => {
        const partitionMetadata = Array.from({ length: partitions }, (_, i) => ({ partitionId: i, leader: 0 }));
        const partitioner = (kind === 'default' ? Partitioners.DefaultPartitioner() : Partitioners.LegacyPartitioner()) as GroupingArgs<Message>['partitioner'];
        const args = { topic: 'alerts', partitionMetadata, messages: messages.map((m) => (m.partition === undefined ? { key: m.key, value: m.value } : m)) };
        // kafkajs' partitioner picks a keyless record's partition round robin from a random start: the
        // calls kafkajs' function makes are recorded, and ours must make the same ones, in the same order.
        const calls: [Message, number][] = [];
        const theirs = kafkajsGrouping({ ...args, partitioner: (a) => (calls.push([a.message, partitioner(a)]), calls[calls.length - 1][1]) });
        let call = 0;
        const ours = groupMessagesPerPartition({
          ...args,
          partitioner: (a) => {
            const [message, partition] = calls[call++];
            assert.equal(a.message, message);
            return partition;
          },
        });
        assert.equal(call, calls.length);
        assert.deepEqual(ours, theirs);
        // The same records, not copies (kafkajs encodes them as they are).
        for (const p of Object.keys(ours)) ours[Number(p)].forEach((m, i) => assert.equal(m, theirs[Number(p)][i]));
      }),
      { numRuns: 300 },
    );
  });

  it("key hash: kafkajs' murmur2 of any key, text (any UTF-16, lone surrogates too), bytes or other values (property)", function () {
    const key = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), maxLength: 5 }),
      fc.string({ minLength: 300, maxLength: 3000 }),
      fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
      fc.integer(),
      fc.double(),
      fc.constantFrom(undefined, null, true, 'device-1', ''),
    );
    // First (before a long key grows the reused buffer): texts of more bytes than UTF-16 units.
    for (const k of ['é'.repeat(200), '🔥'.repeat(100), '中'.repeat(250)]) assert.equal(murmur2(k), kafkajsMurmur2(k), k);
    fc.assert(
      fc.property(fc.array(key, { minLength: 1, maxLength: 20 }), (keys) => {
        // In a row: the text keys share the hash's reused buffer, short after long and long after short.
        for (const k of keys) assert.equal(murmur2(k), kafkajsMurmur2(k), String(k));
      }),
      { numRuns: 2000 },
    );
    // Every partition count kafkajs' partitioner takes it modulo, over the devices of the bench.
    for (let d = 1; d <= 1000; d++) assert.equal(murmur2(String(d)) & 0x7fffffff, kafkajsMurmur2(String(d)) & 0x7fffffff);
  });

  it("produce request: kafkajs' bytes for any topics, partitions and records, compressed or not, in a transaction or not (property)", async function () {
    this.timeout(60000);
    const ours = produceRequestV3((f) => require(path.join(SRC, f))) as ProduceRequest;
    const Long = require(path.join(SRC, 'utils/long.js')) as { fromValue(v: unknown): unknown; fromInt(n: number): unknown };
    /** A message that is no plain object (its key and value inherited): kafkajs spreads it, and so does ours. */
    class Inherited {
      constructor(readonly value: string) {}
    }
    const text = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 }));
    const message = fc.oneof(
      fc.record(
        {
          key: fc.oneof(fc.constant(null), text, fc.uint8Array({ maxLength: 20 }).map((a) => Buffer.from(a))),
          value: fc.oneof(fc.constant(null), text, fc.string({ minLength: 200, maxLength: 2000 })),
          headers: fc.dictionary(fc.string({ maxLength: 5 }), fc.oneof(text, fc.array(text, { maxLength: 2 }))),
          timestamp: fc.oneof(fc.integer({ min: 1_600_000_000_000, max: 1_700_000_000_000 }), fc.integer({ min: 1_600_000_000_000, max: 1_700_000_000_000 }).map(String)),
          partition: fc.nat({ max: 3 }),
        },
        { requiredKeys: ['value'] },
      ),
      text.map((v) => new Inherited(v) as unknown as Record<string, unknown>),
    );
    const partition = fc.record({ partition: fc.nat({ max: 5 }), firstSequence: fc.option(fc.nat({ max: 1000 }), { nil: undefined }), messages: fc.array(message, { minLength: 1, maxLength: 40 }) });
    const args = fc.record({
      acks: fc.constantFrom(-1, 0, 1),
      timeout: fc.nat({ max: 30000 }),
      transactionalId: fc.option(fc.string({ minLength: 1, maxLength: 10 }), { nil: undefined }),
      producerId: fc.option(fc.integer({ min: -1, max: 2 ** 40 }).map((n) => Long.fromValue(n)), { nil: undefined }),
      producerEpoch: fc.option(fc.nat({ max: 30000 }), { nil: undefined }),
      compression: fc.option(fc.constantFrom(0, 1), { nil: undefined }),
      topicData: fc.array(fc.record({ topic: fc.string({ minLength: 1, maxLength: 10 }), partitions: fc.array(partition, { minLength: 1, maxLength: 3 }) }), { minLength: 1, maxLength: 3 }),
    });
    // Records without a timestamp take the time of the encoding: the same for both.
    const now = Date.now;
    Date.now = () => 1_654_733_331_000;
    try {
      await fc.assert(
        fc.asyncProperty(args, async (a) => {
          const theirs = kafkajsProduceRequest(a as ProduceRequestArgs);
          const mine = ours(a as ProduceRequestArgs);
          assert.deepEqual([mine.apiKey, mine.apiVersion, mine.apiName, mine.expectResponse()], [theirs.apiKey, theirs.apiVersion, theirs.apiName, theirs.expectResponse()]);
          assert.equal((await mine.encode()).buffer.toString('hex'), (await theirs.encode()).buffer.toString('hex'));
        }),
        { numRuns: 300 },
      );
    } finally {
      Date.now = now;
    }
  });

  it("CRC-32C: kafkajs' sum of any bytes, at any length and offset (property)", function () {
    // The standard check value of CRC-32C ("123456789").
    assert.equal(crc32C(Buffer.from('123456789')), 0xe3069283);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.nat({ max: 9 }), (bytes, from) => {
        const b = Buffer.from(bytes).subarray(Math.min(from, bytes.length));
        assert.equal(crc32C(b), kafkajsCrc32C(b));
      }),
      { numRuns: 2000 },
    );
    for (let n = 0; n <= 40; n++) {
      const b = Buffer.alloc(n, 0xff);
      assert.equal(crc32C(b), kafkajsCrc32C(b), `${n} bytes of 0xff`);
    }
  });

  it("consumer batch: kafkajs' batch of any fetched records, offsets and aborted transactions, methods and all (property)", function () {
    const ours = fetchedBatch(kafkajsBatch, require(path.join(SRC, 'utils/long.js')), require(path.join(SRC, 'consumer/filterAbortedMessages.js'))) as unknown as BatchClass;
    const base = 2 ** 53 - 40;
    // Offsets around the fetched one: small, near and past 2^53, and texts that are no canonical decimal.
    // (Texts that BigInt refuses, such as '1e3', make both throw: rare, so that most batches are built.)
    const offset = fc.oneof(
      { arbitrary: fc.integer({ min: 0, max: 60 }).map(String), weight: 20 },
      { arbitrary: fc.integer({ min: 0, max: 80 }).map((d) => String(base + d)), weight: 10 },
      { arbitrary: fc.bigInt({ min: 2n ** 53n, max: 2n ** 63n - 1n }).map(String), weight: 3 },
      { arbitrary: fc.constantFrom('007', '-1', ' 12', '0x10'), weight: 3 },
      { arbitrary: fc.constantFrom('1e3', '12.0'), weight: 1 },
      { arbitrary: fc.integer({ min: 0, max: 60 }), weight: 3 },
    );
    const batchContext = fc.record({ producerId: fc.constantFrom('1', '2'), inTransaction: fc.boolean() });
    const message = fc.oneof(
      fc.record({
        offset,
        key: fc.oneof(fc.constant(null), fc.constant(Buffer.from([0, 0, 0, 0])), fc.constant(Buffer.from('k'))),
        isControlRecord: fc.boolean(),
        batchContext,
      }),
      // As the package's record decoder makes them: the offset a number, its text made when read.
      fc
        .tuple(fc.oneof(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 80 }).map((d) => base + d)), fc.boolean(), batchContext)
        .map(([o, control, ctx]) => new FetchedRecord(2, 0, control, ctx as BatchContext, Buffer.from('kv'), 0, 1, 1, 2, o, 0) as unknown as Record<string, unknown>),
    );
    const data = fc.record({
      partition: fc.nat({ max: 3 }),
      highWatermark: fc.oneof(fc.integer({ min: 0, max: 100 }).map(String), fc.constant(String(base + 100))),
      abortedTransactions: fc.array(fc.record({ producerId: fc.constantFrom('1', '2'), firstOffset: fc.integer({ min: 0, max: 60 }).map(String) }), { maxLength: 3 }),
      messages: fc.array(message, { maxLength: 40 }),
    });
    const fetched = fc.oneof(fc.integer({ min: 0, max: 60 }).map(String), fc.integer({ min: 0, max: 80 }).map((d) => String(base + d)), fc.integer({ min: 0, max: 60 }), fc.constant('9223372036854775000'));
    const methods = ['isEmpty', 'isEmptyIncludingFiltered', 'isEmptyDueToFiltering', 'isEmptyControlRecord', 'isEmptyDueToLogCompactedMessages', 'firstOffset', 'lastOffset', 'offsetLag', 'offsetLagLow'];
    const view = (make: () => Record<string, unknown> & Record<string, () => unknown>) => {
      let b;
      try {
        b = make();
      } catch (e) {
        return { threw: String(e) };
      }
      const out: Record<string, unknown> = { topic: b.topic, partition: b.partition, fetchedOffset: b.fetchedOffset, highWatermark: b.highWatermark, raw: b.rawMessages };
      out.within = b.messagesWithinOffset;
      out.messages = b.messages;
      for (const m of methods) {
        try {
          out[m] = b[m]();
        } catch (e) {
          out[m] = `threw ${String(e)}`;
        }
      }
      return out;
    };
    let kept = 0;
    fc.assert(
      fc.property(data, fetched, (d, f) => {
        const theirs = view(() => new kafkajsBatch('t', f, d));
        const mine = view(() => new ours('t', f, d));
        assert.deepEqual(mine, theirs);
        // The same record objects, in the same order.
        if (Array.isArray(theirs.messages)) (mine.messages as unknown[]).forEach((m, i) => assert.equal(m, (theirs.messages as unknown[])[i]));
        kept += Array.isArray(theirs.within) ? theirs.within.length : 0;
      }),
      { numRuns: 1000 },
    );
    assert.ok(kept > 1000, `records kept: ${kept}`);
    assert.ok(new ours('t', '0', { partition: 0, highWatermark: '0', messages: [] }) instanceof kafkajsBatch);
  });

  describe('record encoding', function () {
    const ours = recordEncoder(kafkajsRecord, Encoder);
    const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ minLength: 120, maxLength: 20000 }));
    const plain = fc.oneof(fc.constant(null), fc.constant(undefined), text, fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)));
    const delta = fc.oneof(fc.integer({ min: -(2 ** 30) + 1, max: 2 ** 30 - 1 }), fc.integer({ min: -200, max: 200 }), fc.constant(undefined));

    it("writes kafkajs' bytes for null, text and Buffer keys and values and deltas below 2^30, as an encoder (property)", function () {
      fc.assert(
        fc.property(fc.record({ offsetDelta: delta, timestampDelta: delta, key: plain, value: plain, headers: fc.constantFrom(undefined, {}) }, { requiredKeys: [] }), (args) => {
          const mine = ours(args);
          assert.ok(mine instanceof (Encoder as unknown as new () => EncoderLike), 'an Encoder, as RecordBatch and the compression codecs take it');
          assert.deepEqual(bytes(mine), bytes(kafkajsRecord(args)));
        }),
        { numRuns: 2000 },
      );
    });

    it("hands everything else to kafkajs' own: headers, large or fractional deltas, Long deltas, other values (property)", function () {
      const Long = require(path.join(SRC, 'utils/long.js')) as { fromNumber(n: number): unknown };
      const other = fc.oneof(
        fc.record({ key: plain, value: plain, headers: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 3 })), { minKeys: 1, maxKeys: 3 }) }),
        fc.record({ value: plain, timestampDelta: fc.oneof(fc.integer({ min: 2 ** 30, max: 2 ** 45 }), fc.integer({ min: -(2 ** 45), max: -(2 ** 30) }), fc.double({ min: -1e6, max: 1e6, noNaN: true, noInteger: true })) }),
        fc.record({ value: plain, offsetDelta: fc.integer({ min: 2 ** 30, max: 2 ** 31 - 1 }) }),
        fc.record({ value: plain, timestampDelta: fc.integer({ min: -(2 ** 40), max: 2 ** 40 }).map((n) => Long.fromNumber(n)) }),
      );
      fc.assert(
        fc.property(other, (args) => {
          let theirs: Buffer | Error;
          try {
            theirs = bytes(kafkajsRecord(args));
          } catch (err) {
            theirs = err as Error;
          }
          if (theirs instanceof Error) assert.throws(() => ours(args), { message: theirs.message });
          else assert.deepEqual(bytes(ours(args)), theirs);
        }),
        { numRuns: 500 },
      );
      // A number as a value: kafkajs fails it, and so does the replacement.
      assert.throws(() => kafkajsRecord({ value: 42 }));
      assert.throws(() => ours({ value: 42 }));
    });
  });

  describe('record decoding', function () {
    const ours = recordDecoder(kafkajsRecordDecoder);
    /** A record's bytes as the batch decoder hands them on (kafkajs' encoder writes its length first). */
    const body = (args: RecordArgs): Buffer => new Decoder(bytes(kafkajsRecord(args))).readVarIntBytes();
    const plain = fc.oneof(fc.constant(null), fc.string({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)));
    const int64 = fc.oneof(fc.nat({ max: 2 ** 40 }), fc.constant(-1), fc.bigInt({ min: 2n ** 53n - 5n, max: 2n ** 63n - 1n })).map(String);
    const context = fc.record({
      firstOffset: int64,
      firstTimestamp: int64,
      maxTimestamp: int64,
      magicByte: fc.constant(2),
      isControlBatch: fc.option(fc.boolean(), { nil: undefined }),
      timestampType: fc.constantFrom(0, 1, -1),
      producerId: fc.constant('-1'),
    });
    const record = fc.record({
      offsetDelta: fc.oneof(fc.nat({ max: 5000 }), fc.nat({ max: 2 ** 31 - 1 })),
      timestampDelta: fc.oneof(fc.integer({ min: -5000, max: 5000 }), fc.integer({ min: -(2 ** 45), max: 2 ** 45 })),
      key: plain,
      value: plain,
      headers: fc.oneof(fc.constant({}), fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }), fc.oneof(fc.string(), fc.array(fc.string(), { minLength: 1, maxLength: 3 })), { maxKeys: 3 })),
    });

    const FIELDS = ['magicByte', 'attributes', 'timestamp', 'offset', 'key', 'value', 'headers', 'isControlRecord', 'batchContext'] as const;
    const fields = (r: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(FIELDS.map((k) => [k, r[k]]));

    it("reads what kafkajs' own reads, in batches of any first offset and timestamp, with or without headers (property)", function () {
      let fast = 0;
      fc.assert(
        fc.property(fc.array(fc.tuple(context, fc.array(record, { minLength: 1, maxLength: 5 })), { minLength: 1, maxLength: 4 }), (batches) => {
          for (const [ctx, records] of batches) {
            for (const args of records) {
              const b = body(args);
              const theirs = kafkajsRecordDecoder(new Decoder(b), ctx) as Record<string, unknown>;
              const mine = ours(new Decoder(b), ctx) as Record<string, unknown>;
              // Every field of kafkajs' record, read by name as kafkajs and its users read them.
              assert.deepEqual(Object.keys(theirs).sort(), [...FIELDS].sort());
              assert.deepEqual(fields(mine), fields(theirs));
              assert.equal(mine.batchContext, ctx);
              // Views of the fetched bytes, as kafkajs' slices are.
              for (const k of ['key', 'value']) {
                const v = mine[k] as Buffer | null;
                if (v !== null && v.length > 0) assert.equal(v.buffer, b.buffer);
              }
              if (mine instanceof FetchedRecord) {
                fast++;
                // What kafka in reads instead: the same offset, timestamp, key and value.
                assert.equal(mine.offsetNumber, Number(theirs.offset));
                assert.equal(String(mine.offsetNumber), theirs.offset);
                assert.equal(String(mine.timestampNumber), theirs.timestamp);
                assert.equal(mine.keyText(), theirs.key === null ? null : (theirs.key as Buffer).toString('utf8'));
                assert.equal(mine.valueText(), theirs.value === null ? null : (theirs.value as Buffer).toString('utf8'));
              }
            }
          }
        }),
        { numRuns: 1000 },
      );
      assert.ok(fast > 200, `records read by the fast path: ${fast}`);
    });

    it('fails a record without a batch context as kafkajs does (its offset has no base)', function () {
      const b = body({ key: 'k', value: 'v', offsetDelta: 3, timestampDelta: 7 });
      assert.throws(() => kafkajsRecordDecoder(new Decoder(b)), TypeError);
      assert.throws(() => ours(new Decoder(b)), TypeError);
    });

    it("record batches: kafkajs' batch decoder's result for any batches its producer writes, compressed or not, in a row, cut short (property)", async function () {
      // As installed: the package's batch decoder, handing what it does not read itself to the package's record decoder.
      const load = (f: string): unknown => (f === 'protocol/recordBatch/record/v0/decoder.js' ? ours : require(path.join(SRC, f)));
      const mine = recordBatchDecoder(load);
      const Long = require(path.join(SRC, 'utils/long.js')) as { fromValue(v: unknown): unknown };
      // As producers write them most of the time: small deltas, no headers.
      const common = fc.record({ offsetDelta: fc.nat({ max: 50 }), timestampDelta: fc.integer({ min: -5000, max: 5000 }), key: plain, value: plain, headers: fc.constant({}) });
      const batch = fc.record({
        records: fc.array(fc.oneof(record, common, common), { minLength: 0, maxLength: 6 }),
        firstOffset: fc.oneof(fc.nat({ max: 2 ** 40 }), fc.nat({ max: 2 ** 40 }), fc.bigInt({ min: 2n ** 53n - 5n, max: 2n ** 63n - 1n })),
        firstTimestamp: fc.oneof(fc.nat({ max: 2 ** 42 }), fc.constant(-1)),
        maxTimestamp: fc.nat({ max: 2 ** 42 }),
        compression: fc.constantFrom(0, 1),
        transactional: fc.boolean(),
        producerId: fc.constantFrom(-1, 7),
        // Bits set afterwards (kafkajs' producer never sets them): log-append time, a control batch.
        flags: fc.constantFrom(0, 0, 0x8, 0x20),
      });
      const encode = async (b: { records: RecordArgs[]; firstOffset: number | bigint; firstTimestamp: number; maxTimestamp: number; compression: number; transactional: boolean; producerId: number; flags: number }): Promise<Buffer> => {
        const records = b.records.map((r) => kafkajsRecord(r));
        const e = await kafkajsRecordBatch({ ...b, firstOffset: Long.fromValue(String(b.firstOffset)), producerId: Long.fromValue(b.producerId), lastOffsetDelta: Math.max(0, records.length - 1), records });
        const out = Buffer.from(bytes(e));
        out[22] |= b.flags; // the low byte of the attributes (int16 after offset, length, epoch, magic, CRC)
        return out;
      };
      let fast = 0;
      /** Every batch of the bytes as one decoder reads them in a row, or the error that stopped it. */
      const decodeAll = async (decode: BatchDecode, buf: Buffer): Promise<unknown[]> => {
        const d = new Decoder(buf) as unknown as BatchDecoderLike;
        const out: unknown[] = [];
        try {
          while (d.offset < buf.length) {
            const r = await decode(d);
            for (const rec of r.records as unknown[]) if (rec instanceof FetchedRecord) fast++;
            out.push({ ...r, records: (r.records as Record<string, unknown>[]).map(fields) });
          }
        } catch (e) {
          out.push(`threw ${(e as Error).name}: ${(e as Error).message}`);
        }
        return out;
      };
      await fc.assert(
        fc.asyncProperty(fc.array(batch, { minLength: 1, maxLength: 3 }), fc.option(fc.nat(), { nil: undefined }), async (batches, cut) => {
          let buf = Buffer.concat(await Promise.all(batches.map(encode)));
          if (cut !== undefined) buf = buf.subarray(0, cut % (buf.length + 1));
          const theirs = await decodeAll(kafkajsRecordBatchDecoder, buf);
          const result = await decodeAll(mine, buf);
          assert.deepEqual(result, theirs);
        }),
        { numRuns: 300 },
      );
      assert.ok(fast > 100, `records read in place: ${fast}`);
    });
  });

  it("the package's are the ones kafkajs' producer uses when the package loads kafkajs; kafkajs keeps its own when it was loaded first", function () {
    const probe = (first: string) =>
      JSON.parse(
        execFileSync(
          process.execPath,
          [
            '-e',
            `${first}
             require(${JSON.stringify(path.join(ROOT, 'dist/nodes/nr/kafka-producer.js'))});
             const { replacements, REPLACED } = require(${JSON.stringify(path.join(ROOT, 'dist/nodes/nr/kafkajs.js'))});
             const { groupMessagesPerPartition } = require(${JSON.stringify(path.join(ROOT, 'dist/nodes/nr/kafkajs-grouping.js'))});
             const src = ${JSON.stringify(SRC)};
             const grouping = require(src + '/producer/groupMessagesPerPartition.js') === groupMessagesPerPartition;
             const ours = (f) => require(src + f)[REPLACED] === true;
             const encoder = ours('/protocol/recordBatch/record/v0/index.js');
             const decoder = ours('/protocol/recordBatch/record/v0/decoder.js');
             const batchDecoder = ours('/protocol/recordBatch/v0/decoder.js');
             const murmur2 = ours('/producer/partitioners/default/murmur2.js');
             const request = ours('/protocol/requests/produce/v3/request.js');
             const batch = require(src + '/consumer/batch.js')[REPLACED] === true;
             const crc = ours('/protocol/recordBatch/crc32C/crc32C.js');
             process.stdout.write(JSON.stringify({ replacements, grouping, murmur2, encoder, request, crc, decoder, batchDecoder, batch }));`,
          ],
          { cwd: ROOT, encoding: 'utf8' },
        ),
      );
    assert.deepEqual(probe(''), {
      replacements: { grouping: 'installed', murmur2: 'installed', recordEncoder: 'installed', produceRequest: 'installed', crc32C: 'installed', recordDecoder: 'installed', recordBatchDecoder: 'installed', batch: 'installed' },
      grouping: true,
      murmur2: true,
      encoder: true,
      request: true,
      crc: true,
      decoder: true,
      batchDecoder: true,
      batch: true,
    });
    const first = ['protocol/requests/produce/v7/request.js', 'protocol/requests/fetch/v4/decodeMessages.js'].map((f) => `require(${JSON.stringify(path.join(SRC, f))});`).join(' ');
    assert.deepEqual(probe(`require(${JSON.stringify(path.join(ROOT, 'node_modules/kafkajs'))}); ${first}`), {
      replacements: { grouping: 'loaded-first', murmur2: 'loaded-first', recordEncoder: 'loaded-first', produceRequest: 'loaded-first', crc32C: 'loaded-first', recordDecoder: 'loaded-first', recordBatchDecoder: 'loaded-first', batch: 'loaded-first' },
      grouping: false,
      murmur2: false,
      encoder: false,
      request: false,
      crc: false,
      decoder: false,
      batchDecoder: false,
      batch: false,
    });
  });
});
