import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import fc from 'fast-check';
import { Partitioners } from 'kafkajs';
import { KAFKAJS_VERSION } from '../../nodes/nr/kafkajs';
import { groupMessagesPerPartition, type GroupingArgs } from '../../nodes/nr/kafkajs-grouping';
import { recordEncoder, type EncoderLike, type RecordArgs } from '../../nodes/nr/kafkajs-record';

type Message = { key?: string | null; value: string; partition?: number };
type Group = (args: GroupingArgs<Message>) => Record<number, Message[]>;
type Encode = (args: RecordArgs) => EncoderLike;

// kafkajs' own functions, read from their files: this process loaded kafkajs before the module under
// test, so kafkajs kept them (the last test checks that a process where the package loads first does not).
const ROOT = path.join(__dirname, '..', '..');
const SRC = path.join(ROOT, 'node_modules', 'kafkajs', 'src');
const kafkajsGrouping = require(path.join(SRC, 'producer/groupMessagesPerPartition.js')) as Group;
const kafkajsRecord = require(path.join(SRC, 'protocol/recordBatch/record/v0/index.js')) as Encode;
const Encoder = require(path.join(SRC, 'protocol/encoder.js')) as { prototype: EncoderLike };
const bytes = (e: EncoderLike): Buffer => e.buf.subarray(0, e.offset);

describe('kafkajs (the producer functions the package replaces)', function () {
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

  it("the package's are the ones kafkajs' producer uses when the package loads kafkajs; kafkajs keeps its own when it was loaded first", function () {
    const probe = (first: string) =>
      JSON.parse(
        execFileSync(
          process.execPath,
          [
            '-e',
            `${first}
             require(${JSON.stringify(path.join(ROOT, 'dist/nodes/nr/kafka-producer.js'))});
             const { replacements } = require(${JSON.stringify(path.join(ROOT, 'dist/nodes/nr/kafkajs.js'))});
             const { groupMessagesPerPartition } = require(${JSON.stringify(path.join(ROOT, 'dist/nodes/nr/kafkajs-grouping.js'))});
             const src = ${JSON.stringify(SRC)};
             const grouping = require(src + '/producer/groupMessagesPerPartition.js') === groupMessagesPerPartition;
             const record = require(src + '/protocol/recordBatch/record/v0/index.js')[Symbol.for('smoke-stream.kafkajs-replacement')] === true;
             process.stdout.write(JSON.stringify({ replacements, grouping, record }));`,
          ],
          { cwd: ROOT, encoding: 'utf8' },
        ),
      );
    assert.deepEqual(probe(''), { replacements: { grouping: 'installed', record: 'installed' }, grouping: true, record: true });
    assert.deepEqual(probe(`require(${JSON.stringify(path.join(ROOT, 'node_modules/kafkajs'))}); require(${JSON.stringify(path.join(SRC, 'protocol/requests/produce/v3/request.js'))});`), {
      replacements: { grouping: 'loaded-first', record: 'loaded-first' },
      grouping: false,
      record: false,
    });
  });
});
