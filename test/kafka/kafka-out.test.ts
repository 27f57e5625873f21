import { strict as assert } from 'node:assert';
import { createTopic, requireKafka, uniqueTopic } from './broker';
import {
  brokerModule,
  brokerNode,
  collect,
  hasInputHandler,
  helper,
  inModule,
  kafkaInNode,
  outModule,
  recordStatus,
  sinks,
  sleep,
  waitFor,
} from './_kafka-nodes';

interface Alert {
  type: string;
  severity: string;
  sensor: string;
  value: number;
  threshold: number;
  message: string;
  deviceId: string;
  timestamp: number;
  n: number;
}

function alerts(n: number, devices = 25): Alert[] {
  const t0 = Date.UTC(2026, 0, 1);
  return Array.from({ length: n }, (_, i) => ({
    type: 'THRESHOLD',
    severity: i % 3 === 0 ? 'CRITICAL' : 'HIGH',
    sensor: 'temperature',
    value: 50 + (i % 30),
    threshold: 50,
    message: `temperature ${50 + (i % 30)} > 50`,
    deviceId: `dev-${i % devices}`,
    timestamp: t0 + i * 1000,
    n: i,
  }));
}

function errorsOf(id: string): string[] {
  const seen: string[] = [];
  helper.getNode(id).on('call:error', (c: { args: unknown[] }) => seen.push(String(c.args[0])));
  return seen;
}

describe('kafka out', function () {
  this.timeout(60_000);

  before(async function () {
    await requireKafka(this);
  });

  afterEach(async function () {
    await helper.unload();
  });

  it('round-trips 10,000 alerts through kafka out → kafka in with their keys (arrays as batches, key per element)', async function () {
    const topic = uniqueTopic('out-roundtrip');
    await createTopic(topic, 4);
    const flow = [
      brokerNode(),
      { id: 'src', type: 'helper', wires: [['kout']] },
      { id: 'kout', type: 'smoke-kafka-out', broker: 'broker', topic, keyProperty: 'payload.deviceId', compression: 'gzip', idempotent: true },
      kafkaInNode(topic, { mode: 'batch' }),
      ...sinks(),
    ];
    await helper.load([brokerModule, outModule, inModule], flow);
    const errors = errorsOf('kout');
    const got = collect();
    const all = alerts(10_000);
    const src = helper.getNode('src');
    // 9,900 alerts in 99 batch messages of 100, and 100 single messages
    for (let i = 0; i < 9_900; i += 100) src.send({ payload: all.slice(i, i + 100) });
    for (let i = 9_900; i < 10_000; i++) src.send({ payload: all[i] });
    await waitFor(() => got.count() >= 10_000, 40_000, () => `${got.count()}/10000`);
    await sleep(500);

    assert.deepEqual(errors, []);
    assert.equal(got.count(), 10_000);
    const byN = new Map<number, { alert: Alert; key: string; partition: number }>();
    for (const b of got.batches) {
      const k = b.kafka as { keys: string[]; partition: number };
      b.payload.forEach((p, i) => byN.set((p as Alert).n, { alert: p as Alert, key: k.keys[i], partition: k.partition }));
    }
    assert.equal(byN.size, 10_000, 'every alert exactly once');
    const partitionOfDevice = new Map<string, number>();
    for (const a of all) {
      const r = byN.get(a.n)!;
      assert.deepEqual(r.alert, a);
      assert.equal(r.key, a.deviceId, 'the record key is the alert device id');
      const p = partitionOfDevice.get(r.key) ?? r.partition;
      assert.equal(r.partition, p, 'one device, one partition');
      partitionOfDevice.set(r.key, p);
    }
    assert.ok(new Set(partitionOfDevice.values()).size > 1, 'devices spread over partitions');
  });

  it('takes the topic from msg.topic and the key from msg.key when the node sets neither, and rejects a message without a topic', async function () {
    const topic = uniqueTopic('out-msgtopic');
    await createTopic(topic, 4);
    const flow = [
      brokerNode(),
      { id: 'src', type: 'helper', wires: [['kout']] },
      { id: 'kout', type: 'smoke-kafka-out', broker: 'broker', acks: '1' },
      kafkaInNode(topic),
      ...sinks(),
    ];
    await helper.load([brokerModule, outModule, inModule], flow);
    const errors = errorsOf('kout');
    const got = collect();
    const src = helper.getNode('src');
    src.send({ topic, key: 'dev-7', payload: { deviceId: 'dev-7', value: 1 } });
    src.send({ topic, key: 'dev-8', payload: 'plain text' });
    src.send({ payload: { no: 'topic' } });
    await waitFor(() => got.count() + got.invalid.length === 2 && errors.length === 1, 20_000, () => `${got.count()} records, errors ${errors}`);
    assert.equal(got.records[0].key, 'dev-7');
    assert.deepEqual(got.records[0].payload, { deviceId: 'dev-7', value: 1 });
    // text that is not JSON arrives on kafka in's output 2, as sent
    assert.equal(got.invalid[0]?.payload, 'plain text');
    assert.match(errors[0], /no topic/);
  });

  it('queues while the broker is unreachable, fails what does not fit, and fails the rest on close: nothing silently dropped', async function () {
    const flow = [
      brokerNode('broker', { brokers: '127.0.0.1:1' }),
      { id: 'src', type: 'helper', wires: [['kout']] },
      { id: 'kout', type: 'smoke-kafka-out', broker: 'broker', topic: 'nowhere', maxQueue: 50 },
    ];
    await helper.load([brokerModule, outModule], flow);
    const errors = errorsOf('kout');
    const status = recordStatus(helper.getNode('kout'));
    const src = helper.getNode('src');
    for (let i = 0; i < 40; i++) src.send({ payload: { i } });
    src.send({ payload: Array.from({ length: 20 }, (_, i) => ({ i })) }); // 20 records: does not fit
    for (let i = 0; i < 15; i++) src.send({ payload: { i } }); // 10 fit, 5 do not
    await waitFor(() => errors.length === 6, 10_000, () => `errors: ${errors.length}`);
    assert.ok(errors.every((e) => /queue full/.test(e)), errors.join('\n'));
    await waitFor(() => status.some((s) => s.fill === 'red' && /^down, \d+ queued$/.test(s.text ?? '')), 10_000, () => JSON.stringify(status.slice(-3)));

    // close the node while the helper still records its errors (unload() removes the spies first)
    await helper.getNode('kout').close(false);
    await waitFor(() => errors.length === 6 + 50, 5000, () => `errors after close: ${errors.length}`);
    assert.ok(errors.slice(6).every((e) => /closed before the broker acknowledged/.test(e)), errors.slice(6, 8).join('\n'));
  });

  it('refuses an idempotent producer without acks from all replicas (bad config, no input handler)', async function () {
    const flow = [brokerNode(), { id: 'kout', type: 'smoke-kafka-out', broker: 'broker', topic: 't', idempotent: true, acks: '0' }];
    await helper.load([brokerModule, outModule], flow);
    const node = helper.getNode('kout');
    assert.equal(hasInputHandler(node), false);
    assert.equal(node.status.lastCall?.args[0].text, 'bad config');
  });
});
