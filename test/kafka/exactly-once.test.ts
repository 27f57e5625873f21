/**
 * Exactly-once from Kafka back to Kafka, in one runtime against the real broker (the multi-runtime proof
 * with SIGKILL, failover and a zombie is test/reliability/exactly-once-kafka.test.ts): behind a `kafka in`
 * with processing `exactly-once`, `kafka out` sends its records in the partition tasks' transactions, so
 *
 * - a `read_committed` reader sees the lib's reference alerts exactly once, also after the group's
 *   offsets are reset and every record is processed again (the positions in the changelog skip them);
 * - a fenced transaction (another producer took a partition's transactional id, as the partition's next
 *   owner does) makes none of its records visible: the status says `txn aborted: fenced`, the log says
 *   why once, the consumer rejoins, and the records are then committed once;
 * - `kafka in` with `isolation: read_uncommitted` reads records of aborted transactions, and the default
 *   (`read_committed`) does not.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Kafka } from 'kafkajs';
import { createTopic, kafkaClient, requireKafka, uniqueTopic } from './broker';
import {
  brokerModule,
  brokerNode,
  endOffsets,
  helper,
  inModule,
  jsonMessages,
  kafkaInNode,
  loggedLines,
  nodeModule,
  outModule,
  produce,
  readings,
  recordStatus,
  waitFor,
  waitForCommitted,
} from './_kafka-nodes';
import { alertKey, builtLib } from '../reliability/_check';

const validateModule = nodeModule('sensor-validate');
const zscoreModule = nodeModule('zscore-anomaly');
const csvModule = nodeModule('csv-sink');
const thresholdModule = nodeModule('threshold-alert');

type AlertValue = { type: string; deviceId: string; timestamp: number; sensor: string; severity: string };

/**
 * kafka in (exactly-once) → validate → threshold alert → zscore anomaly → csv sink (readings: acknowledges them)
 *                      both detectors' alerts → kafka out (alerts, keyed by device)
 */
function flow(topic: string, groupId: string, alertsTopic: string, kafkaIn: Record<string, unknown> = {}) {
  return [
    brokerNode(),
    kafkaInNode(topic, { groupId, mode: 'batch', processing: 'exactly-once', commitInterval: 100, checkpointInterval: 500, wires: [['validate'], [], []], ...kafkaIn }),
    { id: 'validate', type: 'smoke-sensor-validate', wires: [['threshold'], []] },
    // emit every: no state between readings, partition tasks only for the alerts' positions and holds
    { id: 'threshold', type: 'smoke-threshold-alert', wires: [['zscore'], ['kout']] },
    { id: 'zscore', type: 'smoke-zscore-anomaly', wires: [['csv'], ['kout']] },
    { id: 'csv', type: 'smoke-csv-sink', preset: 'readings', folder: fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-eo-')), wires: [[]] },
    { id: 'kout', type: 'smoke-kafka-out', broker: 'broker', topic: alertsTopic, keyProperty: 'payload.deviceId' },
  ];
}

/** The lib's threshold and z-score alerts over `items` in order (per device: one device is one key, so one partition). */
function referenceAlerts(items: Record<string, unknown>[]): Set<string> {
  const lib = builtLib();
  const detectors = [new lib.ThresholdDetector(), new lib.ZScoreDetector()];
  const out: AlertValue[] = [];
  for (const r of items) {
    const v = lib.validateReading(JSON.parse(JSON.stringify(r)) as Record<string, unknown>, { key: r.device_id as string, arrival: 0 });
    if (v.ok) for (const d of detectors) d.process(v.reading, 0, out as never);
  }
  return new Set(out.map(keyOf));
}

/** Every 40th reading 60–66 °C: threshold alerts too (the data file's first readings raise none). */
function hot(items: Record<string, unknown>[]): Record<string, unknown>[] {
  items.forEach((r, i) => {
    if (i % 40 === 0) r['Temperature[C]'] = 60 + (i % 7);
  });
  return items;
}

const keyOf = (a: AlertValue): string => `${a.type} ${alertKey(a.deviceId, a.timestamp, a.sensor, a.severity)}`;

/**
 * Every record of `topic` a reader with this isolation sees: a plain (non-transactional) end mark is
 * written to each partition first, and the reader reads until it has seen every mark.
 */
async function readTopic(kafka: Kafka, topic: string, readUncommitted: boolean): Promise<string[]> {
  const partitions = Object.keys(await endOffsets(topic)).map(Number);
  const mark = `end-${Math.random().toString(36).slice(2)}`;
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: partitions.map((partition) => ({ partition, value: mark })) });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: uniqueTopic('eo-reader'), readUncommitted, maxWaitTimeInMs: 200 });
  const values: string[] = [];
  const marked = new Set<number>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            const v = message.value?.toString() ?? '';
            if (v === mark) {
              marked.add(partition);
              if (marked.size === partitions.length) resolve();
            } else if (!v.startsWith('end-')) values.push(v);
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return values;
}

function keysOf(values: string[]): { keys: Set<string>; duplicates: number } {
  const keys = new Set<string>();
  let duplicates = 0;
  for (const v of values) {
    const k = keyOf(JSON.parse(v) as AlertValue);
    if (keys.has(k)) duplicates++;
    keys.add(k);
  }
  return { keys, duplicates };
}

function missingAndExtra(have: Set<string>, want: Set<string>): { missing: number; extra: number } {
  let missing = 0;
  for (const k of want) if (!have.has(k)) missing++;
  let extra = 0;
  for (const k of have) if (!want.has(k)) extra++;
  return { missing, extra };
}

describe('kafka > exactly-once kafka out (one runtime, real broker)', function () {
  this.timeout(120_000);
  let kafka: Kafka;

  before(async function () {
    await requireKafka(this);
    kafka = kafkaClient({ clientId: 'smoke-eo-test' });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') for (const id of ['in', 'threshold', 'zscore', 'kout']) console.log(id, helper.log().args ? loggedLines(id) : []);
    await helper.unload();
  });

  it('commits each reference alert once; after the group offsets are reset and every record is processed again, still once', async function () {
    const topic = uniqueTopic('eo-in');
    const alertsTopic = uniqueTopic('eo-alerts');
    const groupId = `${topic}-group`;
    await createTopic(topic, 2);
    await createTopic(alertsTopic, 2);
    const items = hot(readings(3000, 10));
    await produce(topic, jsonMessages(items));
    const want = referenceAlerts(items);
    const types = [...want].map((k) => k.split(' ')[0]);
    assert.ok(types.filter((t) => t === 'THRESHOLD').length > 10 && types.filter((t) => t === 'STATISTICAL').length > 10, `the data gives alerts of both detectors to check (${want.size})`);
    const modules = [brokerModule, inModule, outModule, validateModule, thresholdModule, zscoreModule, csvModule];
    await helper.load(modules, flow(topic, groupId, alertsTopic));
    await waitForCommitted(groupId, topic, await endOffsets(topic), 60_000);
    await helper.unload();
    const first = keysOf(await readTopic(kafka, alertsTopic, false));
    assert.deepEqual(missingAndExtra(first.keys, want), { missing: 0, extra: 0 });
    assert.equal(first.duplicates, 0);

    // Every record again: the z-score state and kafka out's positions come back from their changelogs.
    const admin = kafka.admin();
    await admin.connect();
    await admin.resetOffsets({ groupId, topic, earliest: true });
    await admin.disconnect();
    await helper.load(modules, flow(topic, groupId, alertsTopic));
    await waitForCommitted(groupId, topic, await endOffsets(topic), 60_000);
    await helper.unload();
    const again = keysOf(await readTopic(kafka, alertsTopic, false));
    assert.deepEqual(missingAndExtra(again.keys, want), { missing: 0, extra: 0 });
    assert.equal(again.duplicates, 0, 'nothing sent twice');
  });

  it('a fenced transaction shows nothing to read_committed readers, says why once, and its records are committed once after the rejoin', async function () {
    const topic = uniqueTopic('eo-fence');
    const alertsTopic = uniqueTopic('eo-fence-alerts');
    const groupId = `${topic}-group`;
    await createTopic(topic, 1);
    await createTopic(alertsTopic, 1);
    const items = hot(readings(3000, 10));
    const want = referenceAlerts(items);
    // Pause the stream after the first third, so that a transaction of the rest follows the fence.
    await produce(topic, jsonMessages(items.slice(0, 1000)));
    const modules = [brokerModule, inModule, outModule, validateModule, thresholdModule, zscoreModule, csvModule];
    await helper.load(modules, flow(topic, groupId, alertsTopic));
    const statuses = recordStatus(helper.getNode('kout'));
    await waitForCommitted(groupId, topic, { 0: 1000 }, 60_000);
    // Another producer takes the partition's transactional id (what the partition's next owner does) and
    // leaves a transaction open with a record in it; its initialisation fences the runtime's producer.
    const zombieHunter = kafka.producer({ transactionalId: `${groupId}-${topic}-0-fast`, idempotent: true, maxInFlightRequests: 1 });
    await zombieHunter.connect();
    const open = await zombieHunter.transaction();
    await open.send({ topic: alertsTopic, messages: [{ value: JSON.stringify({ type: 'THRESHOLD', deviceId: 'aborted', timestamp: 0, sensor: 'x', severity: 'LOW' }) }] });
    await produce(topic, jsonMessages(items.slice(1000)));
    await waitFor(() => statuses.some((s) => s.text === 'txn aborted: fenced'), 30_000, () => `statuses ${JSON.stringify(statuses.slice(-5))}`);
    // The runtime rejoins: initialising the id again aborts the open transaction above.
    await waitForCommitted(groupId, topic, { 0: 3000 }, 60_000);
    await open.abort().catch(() => undefined);
    await zombieHunter.disconnect().catch(() => undefined);
    const warned = loggedLines('kout').filter((l) => /was not committed \(fenced/.test(l));
    assert.equal(warned.length, 1, `one log line for the fence: ${JSON.stringify(warned)}`);
    await helper.unload();

    const committed = keysOf(await readTopic(kafka, alertsTopic, false));
    assert.deepEqual(missingAndExtra(committed.keys, want), { missing: 0, extra: 0 });
    assert.equal(committed.duplicates, 0);
    // read_uncommitted also sees the aborted transactions' records: the open one's, and the fenced one's
    const uncommitted = await readTopic(kafka, alertsTopic, true);
    assert.ok(uncommitted.length > committed.keys.size, `read_uncommitted sees aborted records too (${uncommitted.length} > ${committed.keys.size})`);
    assert.ok(uncommitted.some((v) => v.includes('"aborted"')));
  });

  it('kafka in reads committed records only by default, and aborted ones too with isolation read_uncommitted', async function () {
    const topic = uniqueTopic('eo-isolation');
    await createTopic(topic, 1);
    const producer = kafka.producer({ transactionalId: `${topic}-tx`, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const aborted = await producer.transaction();
    await aborted.send({ topic, messages: [{ value: JSON.stringify({ n: 'aborted' }) }] });
    await aborted.abort();
    const committed = await producer.transaction();
    await committed.send({ topic, messages: [{ value: JSON.stringify({ n: 'committed' }) }] });
    await committed.commit();
    await producer.disconnect();
    const seen = async (isolation?: string): Promise<string[]> => {
      const flowNodes = [brokerNode(), kafkaInNode(topic, { groupId: uniqueTopic('eo-iso-group'), ...(isolation ? { isolation } : {}) }), { id: 'out1', type: 'helper' }, { id: 'out2', type: 'helper' }, { id: 'out3', type: 'helper' }];
      await helper.load([brokerModule, inModule], flowNodes);
      const got: string[] = [];
      helper.getNode('out1').on('input', (msg: { payload: { n: string } }) => got.push(msg.payload.n));
      await waitFor(() => got.includes('committed'), 30_000, () => `got ${JSON.stringify(got)}`);
      await helper.unload();
      return got;
    };
    assert.deepEqual(await seen(), ['committed']);
    assert.deepEqual(await seen('read_uncommitted'), ['aborted', 'committed']);
  });
});
