import assert from 'node:assert/strict';
import { Partitioners, type Consumer, type Producer } from 'kafkajs';
import {
  SASL_PASSWORD,
  SASL_USERNAME,
  createTopic,
  kafkaClient,
  requireKafka,
  saslBootstrap,
  uniqueTopic,
} from './broker';

interface Reading {
  seq: number;
  deviceId: string;
  ts: number;
  smokePpm: number;
  coPpm: number;
  temperatureC: number;
  battery: number;
}

const COUNT = 1000;
const DEVICES = 12;

function makeReadings(): Reading[] {
  const t0 = Date.UTC(2026, 0, 1);
  const out: Reading[] = [];
  for (let seq = 0; seq < COUNT; seq++) {
    out.push({
      seq,
      deviceId: `dev-${String(seq % DEVICES).padStart(3, '0')}`,
      ts: t0 + seq * 250,
      smokePpm: Math.round((seq * 7.3) % 400) / 10,
      coPpm: (seq * 13) % 90,
      temperatureC: 18 + ((seq * 3) % 170) / 10,
      battery: 100 - (seq % 37),
    });
  }
  return out;
}

describe('kafka broker: round trip with kafkajs', function () {
  this.timeout(30_000);

  before(async function () {
    this.timeout(10_000);
    await requireKafka(this);
  });

  describe('PLAINTEXT listener', function () {
    let producer: Producer | undefined;
    let consumer: Consumer | undefined;

    afterEach(async function () {
      await consumer?.disconnect().catch(() => undefined);
      await producer?.disconnect().catch(() => undefined);
      consumer = producer = undefined;
    });

    it('produces 1,000 keyed JSON readings and consumes them all back, in order per key', async function () {
      this.timeout(25_000);
      const topic = uniqueTopic('roundtrip');
      await createTopic(topic, 4);

      const kafka = kafkaClient();
      const sent = makeReadings();

      // Idempotent: a send retried after a timeout on a busy machine must not write its batch twice.
      producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      for (let i = 0; i < sent.length; i += 200) {
        await producer.send({
          topic,
          acks: -1,
          messages: sent.slice(i, i + 200).map((r) => ({ key: r.deviceId, value: JSON.stringify(r) })),
        });
      }

      const received: Array<{ key: string; partition: number; offset: string; value: Reading }> = [];
      consumer = kafka.consumer({
        groupId: uniqueTopic('roundtrip-group'),
        allowAutoTopicCreation: false,
        maxWaitTimeInMs: 500,
      });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });

      let allIn!: () => void;
      const gotAll = new Promise<void>((resolve) => (allIn = resolve));
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          received.push({
            key: message.key!.toString(),
            partition,
            offset: message.offset,
            value: JSON.parse(message.value!.toString()) as Reading,
          });
          if (received.length >= COUNT) allIn();
        },
      });

      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        gotAll,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`only ${received.length}/${COUNT} messages consumed in 20 s`)), 20_000);
        }),
      ]).finally(() => clearTimeout(timer));
      // The topic's end offsets: a duplicate or stray message in it would be counted there, and every
      // message up to them must have been consumed once.
      const admin = kafka.admin();
      await admin.connect();
      const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
      assert.equal(ends.reduce((n, p) => n + Number(p.high), 0), COUNT, 'the topic holds exactly the messages produced');
      for (const p of ends) {
        const offsets = received.filter((m) => m.partition === p.partition).map((m) => Number(m.offset));
        assert.deepEqual(offsets, Array.from({ length: Number(p.high) }, (_, i) => i), `partition ${p.partition}: every offset once, in order`);
      }
      assert.equal(received.length, COUNT, 'exactly as many messages consumed as produced');

      const bySeq = new Map<number, Reading>();
      for (const m of received) {
        assert.ok(!bySeq.has(m.value.seq), `seq ${m.value.seq} consumed twice`);
        bySeq.set(m.value.seq, m.value);
        assert.equal(m.key, m.value.deviceId, 'key is the device id');
      }
      for (const r of sent) {
        assert.deepEqual(bySeq.get(r.seq), r, `reading seq ${r.seq} round-trips unchanged`);
      }

      // per key: one partition, and the consumed order equals the produced order
      const partitionOfKey = new Map<string, number>();
      const seqsByKey = new Map<string, number[]>();
      for (const m of received) {
        const p = partitionOfKey.get(m.key);
        if (p === undefined) partitionOfKey.set(m.key, m.partition);
        else assert.equal(m.partition, p, `key ${m.key} stays on one partition`);
        const list = seqsByKey.get(m.key) ?? [];
        list.push(m.value.seq);
        seqsByKey.set(m.key, list);
      }
      assert.equal(seqsByKey.size, DEVICES);
      for (const [key, seqs] of seqsByKey) {
        const expected = sent.filter((r) => r.deviceId === key).map((r) => r.seq);
        assert.deepEqual(seqs, expected, `order preserved for key ${key}`);
      }
      assert.ok(new Set(partitionOfKey.values()).size > 1, 'keys spread over more than one partition');
    });
  });

  describe('SASL_PLAINTEXT listener', function () {
    it('accepts smoke/smoke-secret over SASL/PLAIN and SCRAM-SHA-256, refuses a wrong password', async function () {
      this.timeout(20_000);
      const brokers = saslBootstrap();

      for (const mechanism of ['plain', 'scram-sha-256'] as const) {
        const admin = kafkaClient({
          brokers,
          sasl: { mechanism, username: SASL_USERNAME, password: SASL_PASSWORD } as never,
          retry: { retries: 0 },
        }).admin();
        try {
          await admin.connect();
          const topics = await admin.listTopics();
          assert.ok(Array.isArray(topics), `${mechanism}: listTopics returns a list`);
        } finally {
          await admin.disconnect();
        }
      }

      for (const mechanism of ['plain', 'scram-sha-256'] as const) {
        const bad = kafkaClient({
          brokers,
          sasl: { mechanism, username: SASL_USERNAME, password: 'not-the-password' } as never,
          retry: { retries: 0 },
        }).admin();
        try {
          await assert.rejects(
            async () => {
              await bad.connect();
              await bad.listTopics();
            },
            (err: Error) => {
              assert.equal(err.name, 'KafkaJSSASLAuthenticationError', `${mechanism}: ${err.name}: ${err.message}`);
              return true;
            },
          );
        } finally {
          await bad.disconnect().catch(() => undefined);
        }
      }
    });
  });
});
