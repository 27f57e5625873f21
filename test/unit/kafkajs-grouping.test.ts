import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import fc from 'fast-check';
import { Partitioners } from 'kafkajs';
import { KAFKAJS_VERSION, groupMessagesPerPartition, type GroupingArgs } from '../../nodes/nr/kafkajs-grouping';

type Message = { key?: string | null; value: string; partition?: number };
type Group = (args: GroupingArgs<Message>) => Record<number, Message[]>;

// kafkajs' own function, read from its file (this process loaded kafkajs before the module under test).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkajsGrouping = require('kafkajs/src/producer/groupMessagesPerPartition') as Group;
const ROOT = path.join(__dirname, '..', '..');

describe('kafkajs-grouping', function () {
  it('is written for the kafkajs installed', function () {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    assert.equal((require('kafkajs/package.json') as { version: string }).version, KAFKAJS_VERSION);
  });

  it("groups as kafkajs' own function does, calling kafkajs' partitioners in the same order (property)", function () {
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

  it("is the one kafkajs' producer uses when this package loads kafkajs, and kafkajs keeps its own when it was loaded first", function () {
    const probe = (first: string) =>
      execFileSync(
        process.execPath,
        [
          '-e',
          `${first}
           require(${JSON.stringify(path.join(ROOT, 'dist/nodes/nr/kafka-producer.js'))});
           const { grouping, groupMessagesPerPartition } = require(${JSON.stringify(path.join(ROOT, 'dist/nodes/nr/kafkajs-grouping.js'))});
           const used = require.cache[require.resolve('kafkajs/src/producer/groupMessagesPerPartition', { paths: [${JSON.stringify(ROOT)}] })].exports;
           process.stdout.write(JSON.stringify({ grouping, ours: used === groupMessagesPerPartition }));`,
        ],
        { cwd: ROOT, encoding: 'utf8' },
      );
    assert.deepEqual(JSON.parse(probe('')), { grouping: 'linear', ours: true });
    assert.deepEqual(JSON.parse(probe(`require(${JSON.stringify(path.join(ROOT, 'node_modules/kafkajs'))});`)), { grouping: 'loaded-first', ours: false });
  });
});
