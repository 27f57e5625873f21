/**
 * Partition tasks against the real broker, in one runtime (the multi-runtime scenarios are in
 * test/reliability/partitions.test.ts): a stateful node behind `kafka in` checkpoints each partition's
 * state into its own compacted changelog topic, a new member restores it before it emits a record of the
 * partition, and a fenced producer (a zombie) cannot write a checkpoint any more.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createTopic, kafkaClient, requireKafka, uniqueTopic } from './broker';
import { brokerModule, brokerNode, endOffsets, helper, inModule, jsonMessages, kafkaInNode, nodeModule, produce, readings, waitFor, waitForCommitted } from './_kafka-nodes';

const validateModule = nodeModule('sensor-validate');
const zscoreModule = nodeModule('zscore-anomaly');
const csvModule = nodeModule('csv-sink');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const tasksModule = require(path.join(__dirname, '..', '..', 'dist', 'nodes', 'nr', 'partition-tasks.js')) as typeof import('../../nodes/nr/partition-tasks');

type Alert = { type: string; sensor: string; deviceId: string; severity: string };

function flow(topic: string, groupId: string, folder: string) {
  return [
    brokerNode(),
    kafkaInNode(topic, { groupId, mode: 'batch', commit: 'after-sink', commitInterval: 100, wires: [['validate'], [], []] }),
    { id: 'validate', type: 'smoke-sensor-validate', wires: [['zscore'], []] },
    { id: 'zscore', type: 'smoke-zscore-anomaly', wires: [['csv'], ['alerts']] },
    { id: 'csv', type: 'smoke-csv-sink', preset: 'readings', folder, wires: [[]] },
    { id: 'alerts', type: 'helper' },
  ];
}

describe('partition tasks > changelog state (one runtime, real broker)', function () {
  this.timeout(90_000);
  let folder = '';

  before(async function () {
    await requireKafka(this);
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-changelog-'));
  });

  afterEach(async function () {
    await helper.unload();
  });

  after(function () {
    if (folder) fs.rmSync(folder, { recursive: true, force: true });
  });

  it('checkpoints each partition into a compacted changelog topic, and a new member restores it before emitting (no z-score warm-up again)', async function () {
    const topic = uniqueTopic('changelog-restore');
    const groupId = `${topic}-group`;
    await createTopic(topic, 2);
    // 4 devices × 40 readings: past the z-score warm-up of 30 values
    await produce(topic, jsonMessages(readings(160, 4)));
    const modules = [brokerModule, inModule, validateModule, zscoreModule, csvModule];
    await helper.load(modules, flow(topic, groupId, folder));
    await waitForCommitted(groupId, topic, await endOffsets(topic), 30_000);
    await helper.unload();

    const admin = kafkaClient().admin();
    await admin.connect();
    try {
      const changelog = `${groupId}-zscore-changelog`;
      assert.ok((await admin.listTopics()).includes(changelog), `${changelog} exists`);
      const cfg = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: changelog, configNames: ['cleanup.policy'] }] });
      assert.equal(cfg.resources[0].configEntries[0].configValue, 'compact');
      const meta = await admin.fetchTopicMetadata({ topics: [changelog] });
      assert.equal(meta.topics[0].partitions.length, 2, 'one changelog partition per source partition');
    } finally {
      await admin.disconnect();
    }

    // A new member of the group (a new deployment) restores the z-score history: an outlier alerts at once.
    await helper.load(modules, flow(topic, groupId, folder));
    const alerts: Alert[] = [];
    helper.getNode('alerts').on('input', (m: { payload: Alert[] | Alert }) => alerts.push(...(Array.isArray(m.payload) ? m.payload : [m.payload])));
    const restored: string[] = [];
    helper.getNode('in').on('call:log', (c: { args: unknown[] }) => restored.push(String(c.args[0])));
    const [outlier] = readings(1, 4);
    outlier['Temperature[C]'] = 95;
    await produce(topic, jsonMessages([outlier]));
    await waitFor(() => alerts.some((a) => a.deviceId === 'dev-00' && a.sensor === 'temperature'), 30_000, () => `alerts ${JSON.stringify(alerts)}; log ${restored.join(' | ')}`);
    assert.ok(restored.some((l) => /restored .*: \d+ devices/.test(l)), `restore logged: ${restored.join(' | ')}`);
  });

  it('fences the previous owner of a partition: its checkpoint transaction fails once another producer took the transactional id', async function () {
    const kafka = kafkaClient();
    const id = `${uniqueTopic('fence')}-0`;
    const topic = uniqueTopic('fence-changelog');
    await createTopic(topic, 1);
    const zombie = kafka.producer({ transactionalId: id, idempotent: true, maxInFlightRequests: 1 });
    const owner = kafka.producer({ transactionalId: id, idempotent: true, maxInFlightRequests: 1 });
    await zombie.connect();
    await owner.connect();
    try {
      const t1 = await zombie.transaction();
      await t1.send({ topic, messages: [{ key: 'k', value: 'zombie-1' }] });
      await t1.commit();
      // the new owner initialises the same transactional id: the zombie is fenced
      const t2 = await owner.transaction();
      await t2.send({ topic, messages: [{ key: 'k', value: 'owner' }] });
      await t2.commit();
      let err: unknown = null;
      try {
        const t3 = await zombie.transaction();
        await t3.send({ topic, messages: [{ key: 'k', value: 'zombie-2' }] });
        await t3.commit();
      } catch (e) {
        err = e;
      }
      assert.ok(err, 'the zombie could not commit');
      assert.ok(tasksModule.isFenced(err), `recognised as fenced: ${String(err)}`);
    } finally {
      await zombie.disconnect().catch(() => undefined);
      await owner.disconnect();
    }
  });
});
