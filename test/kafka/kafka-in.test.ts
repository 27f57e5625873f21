import { strict as assert } from 'node:assert';
import * as net from 'node:net';
import { Partitioners, type Message } from 'kafkajs';
import { createTopic, kafkaClient, requireKafka, uniqueTopic } from './broker';
import {
  brokerModule,
  brokerNode,
  collect,
  endOffsets,
  freePort,
  inModule,
  jsonMessages,
  helper,
  kafkaInNode,
  loggedLines,
  produce,
  readings,
  recordStatus,
  sinks,
  waitFor,
  waitForCommitted,
} from './_kafka-nodes';

const N = 10_000;

/** 10,000 valid readings with bad records spread among them: invalid JSON, empty values, tombstones. */
function mixedMessages(): { messages: Message[]; bad: Map<string, string> } {
  const good = jsonMessages(readings(N));
  const badOnes: Array<[Message, string]> = [];
  for (let i = 0; i < 6; i++) badOnes.push([{ key: `dev-0${i}`, value: `{"Temperature[C]": 20.5, broken ${i}` }, 'invalid JSON']);
  for (let i = 0; i < 3; i++) badOnes.push([{ key: `dev-1${i}`, value: '' }, 'empty value']);
  for (let i = 0; i < 3; i++) badOnes.push([{ key: `dev-0${i}`, value: null }, 'tombstone']);
  const messages = good.slice();
  const bad = new Map<string, string>();
  badOnes.forEach(([m, reason], i) => {
    const marker = `bad-${i}`;
    messages.splice(500 + i * 800, 0, { ...m, headers: { marker } });
    bad.set(marker, reason);
  });
  return { messages, bad };
}

describe('kafka in > consuming from the real broker', function () {
  this.timeout(60_000);

  before(async function () {
    await requireKafka(this);
  });

  afterEach(async function () {
    await helper.unload();
  });

  for (const mode of ['single', 'batch'] as const) {
    it(`${mode} mode: 10,000 readings in give exactly 10,000 out, and the 12 bad records go to output 2 with their offsets`, async function () {
      const topic = uniqueTopic(`in-${mode}`);
      await createTopic(topic, 4);
      const { messages, bad } = mixedMessages();
      await produce(topic, messages);

      await helper.load([brokerModule, inModule], [brokerNode(), kafkaInNode(topic, { mode, maxBatch: 500 }), ...sinks()]);
      const got = collect();
      await waitFor(
        () => got.count() >= N && got.invalid.length >= bad.size,
        40_000,
        () => `${got.count()}/${N} readings, ${got.invalid.length}/${bad.size} bad`,
      );
      // Every record handled and committed: a record delivered twice would have come before this.
      await waitForCommitted(`${topic}-group`, topic, await endOffsets(topic), 20_000);

      assert.equal(got.count(), N, 'exactly as many readings as produced');
      const seen = new Set<string>();
      if (mode === 'single') {
        assert.equal(got.batches.length, 0);
        for (const m of got.records) {
          const k = m.kafka as { topic: string; partition: number; offset: number; key: string; timestamp: number; headers: object };
          assert.equal(k.topic, topic);
          assert.equal(m.topic, topic);
          assert.equal(typeof k.offset, 'number');
          assert.equal(typeof k.timestamp, 'number');
          assert.equal(m.key, k.key);
          assert.equal(k.key, (m.payload as { device_id: string }).device_id, 'the key is the device id');
          assert.equal(k.headers && typeof k.headers, 'object');
          seen.add(`${k.partition}/${k.offset}`);
        }
      } else {
        assert.equal(got.records.length, 0);
        assert.ok(got.batches.length > 4, `readings came in batches (${got.batches.length})`);
        for (const b of got.batches) {
          const k = b.kafka as { partition: number; offsets: number[]; keys: string[]; timestamps: number[]; count: number; firstOffset: number; lastOffset: number };
          assert.ok(b.payload.length <= 500, 'batches respect maxBatch');
          assert.equal(k.count, b.payload.length);
          assert.equal(k.offsets.length, b.payload.length);
          assert.equal(k.keys.length, b.payload.length);
          assert.equal(k.timestamps.length, b.payload.length);
          assert.equal(k.firstOffset, k.offsets[0]);
          assert.equal(k.lastOffset, k.offsets[k.offsets.length - 1]);
          b.payload.forEach((p, i) => {
            assert.equal(k.keys[i], (p as { device_id: string }).device_id);
            seen.add(`${k.partition}/${k.offsets[i]}`);
          });
        }
      }
      assert.equal(seen.size, N, 'no record delivered twice');
      const seqs = new Set<number>();
      for (const m of got.records) seqs.add((m.payload as { seq: number }).seq);
      for (const b of got.batches) for (const p of b.payload) seqs.add((p as { seq: number }).seq);
      assert.equal(seqs.size, N, 'every reading arrived');

      assert.equal(got.invalid.length, bad.size);
      for (const m of got.invalid) {
        const k = m.kafka as { offset: number; partition: number; headers: Record<string, string> };
        const reason = bad.get(k.headers.marker);
        assert.ok(reason, `unexpected record on output 2: ${JSON.stringify(m.payload)}`);
        assert.ok(String(m.error).includes(reason), `${m.error} should say ${reason}`);
        assert.equal(typeof k.offset, 'number');
        assert.ok(!seen.has(`${k.partition}/${k.offset}`), 'a bad record is not also on output 1');
        assert.equal(typeof m.payload, 'string');
        if (reason === 'invalid JSON') assert.match(String(m.payload), /broken/);
        else assert.equal(m.payload, '');
      }
    });
  }

  it('emits health metrics on output 3 and shows records/s and lag in a green status', async function () {
    const topic = uniqueTopic('in-metrics');
    await createTopic(topic, 4);
    await produce(topic, jsonMessages(readings(500)));
    const flow = [brokerNode(), kafkaInNode(topic, { metricsInterval: 1 }), ...sinks()];
    await helper.load([brokerModule, inModule], flow);
    const status = recordStatus(helper.getNode('in'));
    const got = collect();
    await waitFor(
      () => got.count() === 500 && got.metrics.some((m) => m.payload.lagTotal === 0 && m.payload.records === 500),
      20_000,
      () => `${got.count()} records, metrics ${JSON.stringify(got.metrics.at(-1)?.payload)}`,
    );
    const m = got.metrics.at(-1)!.payload as { lag: Record<string, Record<string, number>>; state: string; errors: number };
    assert.equal(m.state, 'running');
    assert.deepEqual(Object.keys(m.lag), [topic]);
    assert.equal(Object.keys(m.lag[topic]).length, 4, 'lag for each of the 4 partitions');
    await waitFor(
      () => status.some((s) => s.fill === 'green' && /\/s lag 0$/.test(s.text ?? '')),
      5000,
      () => JSON.stringify(status.slice(-3)),
    );
  });

  it('shows a red "broker down: refused" status when nothing listens, keeps retrying, and closes promptly', async function () {
    const port = await freePort();
    const flow = [brokerNode('broker', { brokers: `127.0.0.1:${port}` }), kafkaInNode('smoke_stream'), ...sinks()];
    await helper.load([brokerModule, inModule], flow);
    const status = recordStatus(helper.getNode('in'));
    const warned: string[] = [];
    helper.getNode('in').on('call:warn', (c: { args: unknown[] }) => warned.push(String(c.args[0])));
    await waitFor(
      () => status.some((s) => s.fill === 'red' && s.text === 'broker down: refused'),
      10_000,
      () => JSON.stringify(status),
    );
    assert.ok(!status.some((s) => /timeout/.test(s.text ?? '')), `a refused connection is not a timeout: ${JSON.stringify(status)}`);
    await waitFor(() => warned.length > 0, 10_000, () => 'no warning about the stopped consumer');
    assert.match(warned[0], /ECONNREFUSED.*restarting in/);
    const t0 = Date.now();
    await helper.unload();
    assert.ok(Date.now() - t0 < 10_000, `close took ${Date.now() - t0} ms`);
  });

  it('stops for good on an error a restart cannot cure (a session timeout the broker refuses): one error line, a red status that names it, no restart loop', async function () {
    const topic = uniqueTopic('fatal');
    await createTopic(topic, 1);
    // the broker's group.min.session.timeout.ms is 6 s: 3 s is refused (INVALID_SESSION_TIMEOUT), every time
    const flow = [brokerNode(), kafkaInNode(topic, { sessionTimeout: 3000, heartbeatInterval: 1000, backoffInitial: 100, backoffMax: 200, metricsInterval: 1 }), ...sinks()];
    await helper.load([brokerModule, inModule], flow);
    const status = recordStatus(helper.getNode('in'));
    const c = collect();
    await waitFor(() => status.some((s) => s.fill === 'red' && s.text === 'stopped: INVALID_SESSION_TIMEOUT'), 20_000, () => JSON.stringify(status));
    // three health reports after the stop (each a second apart): with a 100–200 ms backoff a loop would restart 5–10 times meanwhile
    const seen = c.metrics.length;
    await waitFor(() => c.metrics.length >= seen + 3, 10_000, () => `${c.metrics.length} health messages`);
    const after = c.metrics.slice(seen).map((m) => [m.payload.errors, m.payload.restarts]);
    assert.deepEqual(after, [[1, 0], [1, 0], [1, 0]], 'one error, no restart');
    const errors = loggedLines('in').filter((l) => /consumer stopped/.test(l));
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(errors[0], /session timeout is outside the broker's group\.min\.session\.timeout\.ms/);
  });

  it('names the cause of a broker it cannot use: a connection that gets no answer, a host name that does not resolve', async function () {
    // a port that accepts connections and never answers a request
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as net.AddressInfo).port;
      const flow = [
        brokerNode('b-silent', { brokers: `127.0.0.1:${port}`, requestTimeout: 1000 }),
        brokerNode('b-dns', { brokers: 'kafka.invalid:9092' }),
        kafkaInNode('smoke_stream', { broker: 'b-silent', wires: [[], [], []] }, 'in-silent'),
        kafkaInNode('smoke_stream', { broker: 'b-dns', wires: [[], [], []] }, 'in-dns'),
      ];
      await helper.load([brokerModule, inModule], flow);
      const silentStatus = recordStatus(helper.getNode('in-silent'));
      const dnsStatus = recordStatus(helper.getNode('in-dns'));
      await waitFor(
        () => silentStatus.some((s) => s.fill === 'red' && s.text === 'broker down: timeout') && dnsStatus.some((s) => s.fill === 'red' && s.text === 'DNS lookup failed'),
        15_000,
        () => JSON.stringify({ silent: silentStatus.at(-1), dns: dnsStatus.at(-1) }),
      );
      await helper.unload();
    } finally {
      silent.close();
    }
  });

  it('starts on a topic that does not exist yet without a warning: the passing "does not host this topic-partition" of a new topic is a debug line', async function () {
    const topic = uniqueTopic('in-fresh');
    await helper.load([brokerModule, inModule], [brokerNode(), kafkaInNode(topic), ...sinks()]);
    const status = recordStatus(helper.getNode('in'));
    // a lag check of the joined member: the topic exists and the consumer runs
    await waitFor(() => status.some((s) => s.fill === 'green' && /lag 0$/.test(s.text ?? '')), 15_000, () => JSON.stringify(status));
    assert.deepEqual(loggedLines('in'), []);
    assert.ok(!status.some((s) => s.fill === 'red'), JSON.stringify(status));
  });

  it('a topic deleted and recreated while consuming: a warning status and exactly one log line, then it reads the new topic', async function () {
    const topic = uniqueTopic('in-recreated');
    await createTopic(topic, 2);
    await produce(topic, jsonMessages(readings(400)));
    await helper.load([brokerModule, inModule], [brokerNode(), kafkaInNode(topic, { mode: 'batch' }), ...sinks()]);
    const status = recordStatus(helper.getNode('in'));
    const got = collect();
    await waitFor(() => got.count() === 400, 20_000, () => `${got.count()}/400`);
    // a lag check saw the topic's offsets
    await waitFor(() => status.some((s) => s.fill === 'green' && /lag 0$/.test(s.text ?? '')), 10_000, () => JSON.stringify(status.slice(-3)));

    const admin = kafkaClient().admin();
    await admin.connect();
    try {
      await admin.deleteTopics({ topics: [topic], timeout: 10_000 });
    } finally {
      await admin.disconnect();
    }
    // the broker creates the topic again for the first client that asks (auto.create.topics.enable)
    const producer = kafkaClient().producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: true });
    await producer.connect();
    try {
      await producer.send({ topic, acks: -1, messages: jsonMessages(readings(30)) });
    } finally {
      await producer.disconnect();
    }

    await waitFor(() => status.some((s) => s.fill === 'yellow' && s.text === 'topic recreated'), 15_000, () => JSON.stringify(status.slice(-5)));
    // the node rejoins and reads the new topic (records sent again by the producer's retries included)
    await waitFor(() => got.count() >= 430, 20_000, () => `${got.count()}/430`);
    const lines = loggedLines('in');
    assert.equal(lines.length, 1, lines.join('\n'));
    // One line either way: a lag check (every second) that falls between the deletion and the
    // re-creation (a loaded machine) sees the deletion alone; the status above said it came back.
    assert.match(lines[0], new RegExp(`^topic "${topic}" was deleted(?: and created again: offsets went back on partition \\d \\([\\d,]+ → \\d+\\)|; )`));
  });
});
