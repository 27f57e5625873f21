/**
 * The functions the package puts in kafkajs (nodes/nr/kafkajs.ts), against the real broker: a process
 * where the package loads kafkajs first (as in Node-RED) produces records of every shape (keys and
 * values null, text, non-ASCII text, Buffers, large; headers; far-apart timestamps; uncompressed, gzip
 * and in a transaction) and reads them back; a process with kafkajs alone reads them too: both must
 * read the same records, offsets and timestamps, and the records must be the ones sent.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { bootstrap, createTopic, requireKafka, uniqueTopic } from './broker';

const ROOT = path.join(__dirname, '..', '..');

/** What the producing process sends as record i: its value or, for a tombstone, its key says i. */
function sent(i: number): { key: string | null; value: string | null; headers: Record<string, string> } {
  const tombstone = i % 11 === 0;
  const key = tombstone ? `t${i}` : i % 7 === 0 ? null : i % 3 === 0 ? `dev-${i % 50}` : `b${i}`;
  const value = tombstone ? null : i % 5 === 0 ? `{"i":${i},"text":"ünïcödé ✓","pad":"${'x'.repeat((i * 97) % 3000)}"}` : `{"i":${i}}`;
  return { key, value, headers: i % 4 === 0 ? { h: `v${i}` } : {} };
}

/** A record as both processes report it (JavaScript for both): bytes as hex, so that nothing is lost to decoding. */
const VIEW = `(partition, m) => {
  const hex = (b) => (b === null ? null : b.toString('hex'));
  const headers = Object.entries(m.headers || {}).map(([k, v]) => [k, Array.isArray(v) ? v.map((x) => hex(Buffer.from(x))) : v === undefined ? null : hex(Buffer.from(v))]);
  return { partition, offset: m.offset, timestamp: m.timestamp, key: hex(m.key), value: hex(m.value), headers, attributes: m.attributes };
}`;

/**
 * A process that reads the topic's 3 × n records and prints them (as VIEW shows them) with the
 * replacements in force: `withPackage`, the package loads kafkajs (and first produces the records);
 * without, kafkajs alone.
 */
const script = (withPackage: boolean) => `
  const { Kafka, CompressionTypes } = require(${JSON.stringify(withPackage ? path.join(ROOT, 'dist/nodes/nr/kafkajs.js') : 'kafkajs')});
  const replacements = ${withPackage ? `require(${JSON.stringify(path.join(ROOT, 'dist/nodes/nr/kafkajs.js'))}).replacements` : 'null'};
  const [brokers, topic, n] = [process.argv[1].split(','), process.argv[2], Number(process.argv[3])];
  const sent = ${sent.toString()};
  const records = (from) => Array.from({ length: n }, (_, k) => {
    const { key, value, headers } = sent(from + k);
    // Keys as Buffers for every other one; timestamps a day apart for some (deltas beyond 2^30 ms).
    return { key: key !== null && k % 2 ? Buffer.from(key) : key, value, headers, timestamp: String(1_654_733_331_000 + (k % 9 === 0 ? k * 86_400_000 : k)) };
  });
  (async () => {
    const kafka = new Kafka({ clientId: 'replacements-test', brokers, logLevel: 0 });
    if (${withPackage}) {
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, transactionalId: topic + '-tx' });
      await producer.connect();
      await producer.send({ topic, messages: records(0) });
      await producer.send({ topic, messages: records(n), compression: CompressionTypes.GZIP });
      const tx = await producer.transaction();
      await tx.send({ topic, messages: records(2 * n) });
      await tx.commit();
      await producer.disconnect();
    }
    const consumer = kafka.consumer({ groupId: topic + '-' + ${withPackage}, maxWaitTimeInMs: 200 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const got = [];
    const view = ${VIEW};
    await new Promise((resolve) => consumer.run({ eachMessage: async ({ partition, message }) => {
      got.push(view(partition, message));
      if (got.length === 3 * n) resolve();
    } }));
    await consumer.disconnect();
    process.stdout.write(JSON.stringify({ replacements, records: got }));
  })().catch((err) => { console.error(err); process.exit(1); });
`;

type Seen = { partition: number; offset: string; timestamp: string; key: string | null; value: string | null; headers: [string, string | null][] };

describe("kafka > kafkajs with the package's functions", function () {
  this.timeout(60_000);

  before(async function () {
    await requireKafka(this);
  });

  it('a process where the package loads kafkajs produces records of every shape and reads them back as kafkajs alone reads them, as sent', async function () {
    const topic = uniqueTopic('replacements');
    await createTopic(topic, 3);
    const n = 700;
    const run = async (withPackage: boolean) =>
      JSON.parse((await promisify(execFile)(process.execPath, ['-e', script(withPackage), bootstrap().join(','), topic, String(n)], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 })).stdout) as {
        replacements: unknown;
        records: Seen[];
      };
    const ours = await run(true);
    assert.deepEqual(ours.replacements, { grouping: 'installed', murmur2: 'installed', recordEncoder: 'installed', produceRequest: 'installed', crc32C: 'installed', recordDecoder: 'installed', recordBatchDecoder: 'installed', batch: 'installed' });
    const kafkajs = await run(false);
    const order = (a: Seen, b: Seen) => a.partition - b.partition || Number(a.offset) - Number(b.offset);
    assert.deepEqual(ours.records.sort(order), kafkajs.records.sort(order));

    const text = (hex: string | null) => (hex === null ? null : Buffer.from(hex, 'hex').toString('utf8'));
    const got = new Map<number, ReturnType<typeof sent>>();
    for (const r of kafkajs.records) {
      const [key, value] = [text(r.key), text(r.value)];
      const i = value === null ? Number(key?.slice(1)) : (JSON.parse(value) as { i: number }).i;
      assert.ok(!got.has(i), `record ${i} twice`);
      got.set(i, { key, value, headers: Object.fromEntries(r.headers.map(([k, v]) => [k, text(v)])) as Record<string, string> });
    }
    for (let i = 0; i < 3 * n; i++) assert.deepEqual(got.get(i), sent(i), `record ${i}`);
  });
});
