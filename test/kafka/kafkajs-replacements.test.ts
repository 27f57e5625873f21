/**
 * The producer functions the package puts in kafkajs (nodes/nr/kafkajs.ts), against the real broker:
 * a process where the package loads kafkajs first (as in Node-RED) produces records of every shape
 * (keys and values null, text, non-ASCII text, Buffers, large; headers; far-apart timestamps;
 * uncompressed, gzip and in a transaction), and this process, whose kafkajs keeps its own functions,
 * reads them back.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Consumer } from 'kafkajs';
import { bootstrap, createTopic, kafkaClient, requireKafka, uniqueTopic } from './broker';

const ROOT = path.join(__dirname, '..', '..');

/** What the producing process sends as record i: its value or, for a tombstone, its key says i. */
function sent(i: number): { key: string | null; value: string | null; headers: Record<string, string> } {
  const tombstone = i % 11 === 0;
  const key = tombstone ? `t${i}` : i % 7 === 0 ? null : i % 3 === 0 ? `dev-${i % 50}` : `b${i}`;
  const value = tombstone ? null : i % 5 === 0 ? `{"i":${i},"text":"ünïcödé ✓","pad":"${'x'.repeat((i * 97) % 3000)}"}` : `{"i":${i}}`;
  return { key, value, headers: i % 4 === 0 ? { h: `v${i}` } : {} };
}

const PRODUCER = `
  require(${JSON.stringify(path.join(ROOT, 'dist/nodes/nr/kafkajs.js'))});
  const { replacements, Kafka, CompressionTypes } = require(${JSON.stringify(path.join(ROOT, 'dist/nodes/nr/kafkajs.js'))});
  const [brokers, topic, n] = [process.argv[1].split(','), process.argv[2], Number(process.argv[3])];
  const sent = ${sent.toString()};
  const records = (from) => Array.from({ length: n }, (_, k) => {
    const { key, value, headers } = sent(from + k);
    // Keys as Buffers for every other one; timestamps a day apart for some (deltas beyond 2^30 ms).
    return { key: key !== null && k % 2 ? Buffer.from(key) : key, value, headers, timestamp: String(1_654_733_331_000 + (k % 9 === 0 ? k * 86_400_000 : k)) };
  });
  (async () => {
    const kafka = new Kafka({ clientId: 'replacements-test', brokers, logLevel: 0 });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, transactionalId: topic + '-tx' });
    await producer.connect();
    await producer.send({ topic, messages: records(0) });
    await producer.send({ topic, messages: records(n), compression: CompressionTypes.GZIP });
    const tx = await producer.transaction();
    await tx.send({ topic, messages: records(2 * n) });
    await tx.commit();
    await producer.disconnect();
    process.stdout.write(JSON.stringify(replacements));
  })().catch((err) => { console.error(err); process.exit(1); });
`;

describe("kafka > kafkajs with the package's producer functions", function () {
  this.timeout(60_000);
  let consumer: Consumer | undefined;

  before(async function () {
    await requireKafka(this);
  });

  afterEach(async function () {
    await consumer?.disconnect();
    consumer = undefined;
  });

  it('a process where the package loads kafkajs produces records of every shape that read back exactly as sent', async function () {
    const topic = uniqueTopic('replacements');
    await createTopic(topic, 3);
    const n = 700;
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', PRODUCER, bootstrap().join(','), topic, String(n)], { cwd: ROOT });
    assert.deepEqual(JSON.parse(stdout), { grouping: 'installed', record: 'installed' });

    const got = new Map<number, { key: string | null; value: string | null; headers: Record<string, string> }>();
    consumer = kafkaClient().consumer({ groupId: uniqueTopic('replacements-group'), maxWaitTimeInMs: 200 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let allIn!: () => void;
    const gotAll = new Promise<void>((resolve) => (allIn = resolve));
    await consumer.run({
      eachMessage: async ({ message }) => {
        const value = message.value === null ? null : message.value.toString('utf8');
        const key = message.key === null ? null : message.key.toString('utf8');
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
        const i = value === null ? Number(key?.slice(1)) : (JSON.parse(value) as { i: number }).i;
        assert.ok(!got.has(i), `record ${i} twice`);
        got.set(i, { key, value, headers });
        if (got.size === 3 * n) allIn();
      },
    });
    await gotAll;
    for (let i = 0; i < 3 * n; i++) assert.deepEqual(got.get(i), sent(i), `record ${i}`);
  });
});
