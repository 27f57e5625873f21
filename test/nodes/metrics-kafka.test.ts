/**
 * The Kafka series of the Prometheus registry against the real broker: records consumed and decode
 * failures of `kafka in`, consumer lag per partition (and only for the partitions the node still
 * reads after another member joined its group), rebalances, and records produced by `kafka out`.
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { createTopic, kafkaClient, requireKafka, uniqueTopic } from '../kafka/broker';
import { brokerModule, brokerNode, helper, inModule, jsonMessages, kafkaInNode, outModule, produce, readings, root, waitFor } from '../kafka/_kafka-nodes';
import { find, one, parseExposition, type Family } from './_prometheus';

// The registry of the built modules (the ones Node-RED loaded).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { registry } = require(path.join(root, 'dist', 'nodes', 'nr', 'metrics.js')) as { registry: { metrics(): Promise<string> } };

async function scrape(): Promise<Map<string, Family>> {
  return parseExposition(await registry.metrics());
}

/** Partitions with a lag series of node `id` for `topic`. */
function lagPartitions(m: Map<string, Family>, id: string, topic: string): number[] {
  return find(m, 'smoke_kafka_consumer_lag', { node_id: id, topic })
    .map((s) => Number(s.labels.partition))
    .sort();
}

describe('metrics > Kafka series (real broker)', function () {
  this.timeout(90_000);

  before(async function () {
    await requireKafka(this);
  });

  afterEach(async function () {
    await helper.unload();
  });

  it('counts records consumed and decode failures, shows lag per partition, and drops the partitions a rebalance took away', async function () {
    const topic = uniqueTopic('metrics-lag');
    await createTopic(topic, 4);
    const good = jsonMessages(readings(400));
    await produce(topic, [...good, { key: 'dev-00', value: '{not json' }, { key: 'dev-01', value: '' }]);
    const flow = [
      brokerNode(),
      kafkaInNode(topic, { mode: 'batch' }, 'a'),
      { id: 'out1', type: 'helper' },
      { id: 'out2', type: 'helper' },
      { id: 'out3', type: 'helper' },
    ];
    await helper.load([brokerModule, inModule], flow);
    let m = await scrape();
    await waitFor(
      () => {
        void scrape().then((x) => (m = x));
        const consumed = find(m, 'smoke_kafka_records_consumed_total', { node_id: 'a' })[0]?.value;
        const lag = find(m, 'smoke_kafka_consumer_lag', { node_id: 'a', topic });
        return consumed === 402 && lag.length === 4 && lag.every((s) => s.value === 0);
      },
      60_000,
      () => `consumed ${find(m, 'smoke_kafka_records_consumed_total', { node_id: 'a' })[0]?.value}, lag ${JSON.stringify(find(m, 'smoke_kafka_consumer_lag', { node_id: 'a', topic }))}`,
      200,
    );
    assert.equal(one(m, 'smoke_invalid_readings_total', { node_id: 'a', code: 'kafka-decode' }), 2);
    assert.deepEqual(lagPartitions(m, 'a', topic), [0, 1, 2, 3]);

    // Another member joins the group while the node runs: the node sees a rebalance, gives partitions
    // away, and its lag series then cover only the partitions it still reads.
    const rebalances = one(m, 'smoke_kafka_rebalances_total', { node_id: 'a' });
    const other = kafkaClient().consumer({ groupId: `${topic}-group`, sessionTimeout: 10_000, heartbeatInterval: 1000 });
    try {
      await other.connect();
      await other.subscribe({ topics: [topic] });
      let assigned: number[] = [];
      other.on(other.events.GROUP_JOIN, (e) => (assigned = [...(e.payload.memberAssignment[topic] ?? [])].sort()));
      await other.run({ eachMessage: async () => {} });
      await waitFor(
        () => {
          void scrape().then((x) => (m = x));
          const mine = lagPartitions(m, 'a', topic);
          return assigned.length > 0 && mine.length > 0 && [...mine, ...assigned].sort().join() === '0,1,2,3';
        },
        60_000,
        () => `node a lag series ${lagPartitions(m, 'a', topic)}, other member ${assigned}`,
        200,
      );
      assert.ok(one(m, 'smoke_kafka_rebalances_total', { node_id: 'a' }) > rebalances, 'the node counted the rebalance');
    } finally {
      await other.disconnect();
    }
  });

  it('counts the records kafka out got acknowledged', async function () {
    const topic = uniqueTopic('metrics-out');
    await createTopic(topic, 2);
    await helper.load([brokerModule, outModule], [brokerNode(), { id: 'out', type: 'smoke-kafka-out', broker: 'broker', topic, wires: [] }]);
    const out = helper.getNode('out');
    for (let i = 0; i < 50; i++) out.receive({ payload: { deviceId: `d${i % 5}`, n: i }, key: `d${i % 5}` });
    out.receive({ payload: Array.from({ length: 30 }, (_, i) => ({ deviceId: 'batch', n: i })), key: 'batch' });
    let m = await scrape();
    await waitFor(
      () => {
        void scrape().then((x) => (m = x));
        return find(m, 'smoke_kafka_records_produced_total', { node_id: 'out' })[0]?.value === 80;
      },
      30_000,
      () => `produced ${find(m, 'smoke_kafka_records_produced_total', { node_id: 'out' })[0]?.value}`,
      200,
    );
  });
});
