/**
 * Broker outage: the broker is stopped for 30 s in the middle of a stream and started again. The
 * pipeline (kafka in, after-sink commits → validate → threshold alert → csv sink; alerts → kafka out)
 * stays up, its statuses show the outage and the recovery, consumption resumes, the alerts kafka out
 * queued meanwhile (from readings that keep coming in locally, e.g. a directly wired sensor) are
 * delivered, and no reading or alert is lost.
 *
 * The broker is shared with other suites: the outage is bounded and the broker is always restarted.
 * SMOKE_OUTAGE_SECONDS overrides the outage length.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Partitioners, type Producer } from 'kafkajs';
import { brokerAvailable, createTopic, kafkaClient, requireKafka, startBroker, stopBroker, uniqueTopic } from '../kafka/broker';
import { brokerModule, brokerNode, committedOffsets, helper, inModule, nodeModule, outModule, recordStatus, sleep, waitFor } from '../kafka/_kafka-nodes';
import { DEFAULT_SHAPE, deviceId, eventSec, kaggleReading } from './_data';
import { forgetSpyCalls, readCsv } from './_check';

const OUTAGE_MS = (Number(process.env.SMOKE_OUTAGE_SECONDS) || 30) * 1000;
const N = 12_000;
const RATE_PER_S = 600;

type Status = { fill?: string; shape?: string; text?: string };
type Alert = { type: string; severity: string; sensor: string; deviceId: string; timestamp: number };
const alertKey = (a: Alert) => `${a.type}|${a.severity}|${a.sensor}|${a.deviceId}|${a.timestamp}`;
const sum = (o: Record<number, number>) => Object.values(o).reduce((a, b) => a + Math.max(0, b), 0);

describe('reliability > broker outage (30 s) mid-stream', function () {
  this.timeout(300_000);
  let folder = '';
  let producer: Producer | null = null;

  before(async function () {
    await requireKafka(this);
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-outage-'));
  });

  after(async function () {
    await helper.unload();
    await producer?.disconnect().catch(() => undefined);
    if (folder) fs.rmSync(folder, { recursive: true, force: true });
  });

  it('stays up, shows the outage in its statuses, resumes, delivers the queued alerts and loses no reading', async function () {
    const topic = uniqueTopic('rel-outage');
    const alertsTopic = uniqueTopic('rel-outage-alerts');
    const groupId = `${topic}-g`;
    await createTopic(topic, 4);
    await createTopic(alertsTopic, 1);

    const flow = [
      brokerNode(),
      {
        id: 'in',
        type: 'smoke-kafka-in',
        broker: 'broker',
        topics: topic,
        groupId,
        mode: 'batch',
        maxBatch: 500,
        commit: 'after-sink',
        commitInterval: 300,
        // after the restart the broker still counts the old member until its session expires
        sessionTimeout: 6000,
        heartbeatInterval: 1000,
        backoffInitial: 200,
        backoffMax: 2000,
        lagInterval: 1000,
        wires: [['validate'], ['sinkRejects'], []],
      },
      { id: 'local', type: 'helper', wires: [['validate']] },
      { id: 'validate', type: 'smoke-sensor-validate', wires: [['threshold'], ['sinkRejects']] },
      { id: 'threshold', type: 'smoke-threshold-alert', wires: [['sinkReadings'], ['kout', 'alertTap']] },
      { id: 'sinkReadings', type: 'smoke-csv-sink', folder, flushInterval: 50, wires: [[]] },
      { id: 'sinkRejects', type: 'smoke-csv-sink', folder, preset: 'rejects', wires: [[]] },
      { id: 'kout', type: 'smoke-kafka-out', broker: 'broker', topic: alertsTopic, keyProperty: 'payload.deviceId', idempotent: true, maxQueue: 100_000, backoffInitial: 200, backoffMax: 2000 },
      { id: 'alertTap', type: 'helper' },
    ];
    await helper.load([brokerModule, inModule, outModule, nodeModule('sensor-validate'), nodeModule('threshold-alert'), nodeModule('csv-sink')], flow);
    const inStatus: Status[] = recordStatus(helper.getNode('in'));
    const outStatus: Status[] = recordStatus(helper.getNode('kout'));
    const errors: string[] = [];
    for (const id of ['validate', 'threshold', 'sinkReadings', 'sinkRejects', 'kout']) {
      helper.getNode(id).on('call:error', (c: { args: unknown[] }) => errors.push(`${id}: ${String(c.args[0])}`));
    }
    const tapped: Alert[] = [];
    helper.getNode('alertTap').on('input', (m: { payload: Alert | Alert[] }) => tapped.push(...(Array.isArray(m.payload) ? m.payload : [m.payload])));
    await waitFor(() => inStatus.some((s) => s.fill === 'green'), 30_000, () => `kafka in never green: ${JSON.stringify(inStatus)}`);

    // The source: a producer of its own, at a steady rate; while the broker is down it keeps its
    // records and tries again (an idempotent producer: retries write nothing twice).
    producer = kafkaClient({ clientId: 'smoke-outage-producer', retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1000 } }).producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    let produced = 0;
    let sendFailures = 0;
    let stopPump = false;
    const pump = (async () => {
      const chunk = RATE_PER_S / 10;
      while (!stopPump && produced < N) {
        const t = Date.now();
        const messages = [];
        for (let i = produced; i < Math.min(N, produced + chunk); i++) {
          const r = kaggleReading(i);
          messages.push({ key: r.device_id as string, value: JSON.stringify(r) });
        }
        try {
          await producer!.send({ topic, acks: -1, messages });
          produced += messages.length;
        } catch {
          sendFailures++;
        }
        await sleep(Math.max(0, 100 - (Date.now() - t)));
      }
    })();

    // Readings that reach the pipeline without Kafka: every one raises a CRITICAL temperature alert.
    let localSent = 0;
    const local = helper.getNode('local');
    const sendLocal = (n: number) => {
      for (let i = 0; i < n; i++, localSent++) {
        local.send({ payload: { ...kaggleReading(localSent), device_id: `local-${localSent % 5}`, 'Temperature[C]': 75, UTC: 1_654_800_000 + localSent } });
      }
    };

    const csvRows = () => readCsv(folder, 'historical_smoke_data_').rows.length;
    let stopped = false;
    let downAt = 0;
    let upAt = 0;
    let redIn = -1;
    let redOut = -1;
    let queuedShown = '';
    try {
      await waitFor(() => produced >= N / 4 && csvRows() >= 2000, 60_000, () => `${produced} produced, ${csvRows()} rows before the outage`);
      sendLocal(20);
      stopped = true;
      await stopBroker();
      downAt = Date.now();
      if (await brokerAvailable(1000)) {
        throw new Error('the broker still answers after scripts/kafka/kafka.sh stop: it was not started by this checkout\'s kafka.sh, so this suite cannot stop it');
      }
      // during the outage: a local reading every 100 ms, each one a queued alert
      const ticker = setInterval(() => sendLocal(1), 100);
      // Another suite sharing the broker may start it again early: find out when it answers again.
      let probing = true;
      let answeredAt = 0;
      const probe = (async () => {
        while (probing && answeredAt === 0) {
          if (await brokerAvailable(1000)) answeredAt = Date.now();
          else await sleep(1000);
        }
      })();
      try {
        const interfered = () => (answeredAt ? ` (the broker answered again ${((answeredAt - downAt) / 1000).toFixed(1)} s after the stop: another suite started it)` : '');
        await waitFor(() => inStatus.some((s, i) => i > 0 && s.fill === 'red'), 20_000, () => `kafka in not red: ${JSON.stringify(inStatus.slice(-3))}${interfered()}`);
        redIn = inStatus.findIndex((s) => s.fill === 'red');
        await waitFor(() => outStatus.some((s) => s.fill === 'red' && /queued/.test(s.text ?? '')), 20_000, () => `kafka out shows no queue: ${JSON.stringify(outStatus.slice(-3))}${interfered()}`);
        redOut = outStatus.findIndex((s) => s.fill === 'red');
        queuedShown = outStatus.filter((s) => s.fill === 'red' && /queued/.test(s.text ?? '')).slice(-1)[0]?.text ?? '';
        await sleep(Math.max(0, OUTAGE_MS - (Date.now() - downAt)));
      } finally {
        clearInterval(ticker);
        probing = false;
        await probe;
      }
      const producedDuringOutage = produced;
      const rowsDuringOutage = csvRows();
      await startBroker();
      upAt = answeredAt || Date.now();
      stopped = false;

      await pump;
      assert.equal(produced, N, 'the producer got every reading in after the outage');
      for (const deadline = Date.now() + 120_000; sum(await committedOffsets(groupId, topic)) < N; await sleep(500)) {
        if (Date.now() > deadline) throw new Error(`${sum(await committedOffsets(groupId, topic))} of ${N} committed 120 s after the broker came back`);
      }
      // kafka out empties its queue
      await waitFor(() => /sent$/.test(outStatus[outStatus.length - 1]?.text ?? ''), 60_000, () => `kafka out: ${JSON.stringify(outStatus.slice(-3))}`);
      // The local readings (no Kafka offset to commit) written too, and both nodes green again (their
      // status is throttled): what the checks below read.
      const distinctRows = () => {
        const r = readCsv(folder, 'historical_smoke_data_');
        const [d, u] = [r.header.indexOf('device_id'), r.header.indexOf('UTC')];
        return new Set(r.rows.map((row) => `${row[d]}|${row[u]}`)).size;
      };
      await waitFor(() => distinctRows() >= N + localSent, 30_000, () => `${distinctRows()} of ${N + localSent} readings in the CSV`);
      await waitFor(
        () => inStatus.slice(redIn).some((s) => s.fill === 'green') && outStatus.slice(redOut).some((s) => s.fill === 'green'),
        10_000,
        () => `kafka in ${JSON.stringify(inStatus.slice(-2))}, kafka out ${JSON.stringify(outStatus.slice(-2))}`,
      );
      forgetSpyCalls(helper);

      // every reading in the file
      const rows = readCsv(folder, 'historical_smoke_data_');
      const cDev = rows.header.indexOf('device_id');
      const cUtc = rows.header.indexOf('UTC');
      const have = new Set(rows.rows.map((r) => `${r[cDev]}|${r[cUtc]}`));
      const missing: number[] = [];
      for (let i = 0; i < N; i++) if (!have.has(`${deviceId(i, DEFAULT_SHAPE)}|${eventSec(i, DEFAULT_SHAPE)}`)) missing.push(i);
      for (let i = 0; i < localSent; i++) if (!have.has(`local-${i % 5}|${1_654_800_000 + i}`)) missing.push(-i - 1);

      // every alert on the alerts topic
      const inTopic = await readTopic(alertsTopic);
      const delivered = new Map<string, number>();
      for (const a of inTopic) delivered.set(alertKey(a), (delivered.get(alertKey(a)) ?? 0) + 1);
      const lost = tapped.filter((a) => !delivered.has(alertKey(a)));
      const localAlerts = tapped.filter((a) => a.deviceId.startsWith('local-')).length;

      const greenIn = inStatus.slice(redIn).some((s) => s.fill === 'green');
      const greenOut = outStatus.slice(redOut).some((s) => s.fill === 'green');
      console.log(
        `      broker unreachable for ${((upAt - downAt) / 1000).toFixed(1)} s${answeredAt ? ' (started again early by another suite)' : ` (${OUTAGE_MS / 1000} s stopped + its restart)`}; ${N} readings produced` +
          ` (${producedDuringOutage} before the restart, ${sendFailures} failed sends retried), ${rows.rows.length} rows (${rows.rows.length - have.size} duplicates;` +
          ` ${rowsDuringOutage} when the broker came back), ${localSent} local readings\n` +
          `      kafka in: ${statusStory(inStatus.slice(redIn - 1))}\n` +
          `      kafka out: ${statusStory(outStatus.slice(redOut - 1))}; ${tapped.length} alerts (${localAlerts} local), ${inTopic.length} on the topic`,
      );
      assert.deepEqual(errors, [], 'no node failed a message');
      assert.deepEqual(missing.slice(0, 10), [], `${missing.length} readings missing from the CSV`);
      assert.ok(queuedShown, 'kafka out showed its queue while the broker was down');
      assert.ok(greenIn, 'kafka in green again');
      assert.ok(greenOut, 'kafka out green again');
      assert.ok(localAlerts >= OUTAGE_MS / 100 / 2, 'alerts were raised during the outage');
      assert.deepEqual(lost.slice(0, 5).map(alertKey), [], `${lost.length} alerts never reached the alerts topic`);
      assert.equal(inTopic.length, tapped.length, 'each alert on the topic once (idempotent producer)');
    } finally {
      stopPump = true;
      if (stopped || !(await brokerAvailable(3000))) await startBroker();
    }
  });
});

function statusStory(list: Status[]): string {
  const out: string[] = [];
  for (const s of list) {
    const t = `${s.fill ?? ''} "${s.text ?? ''}"`;
    if (out[out.length - 1] !== t) out.push(t);
  }
  return out.length > 8 ? [...out.slice(0, 6), '…', ...out.slice(-2)].join(' → ') : out.join(' → ');
}

/** Every record of a topic (from the beginning), parsed. */
async function readTopic(topic: string): Promise<Alert[]> {
  const ends = await (async () => {
    const admin = kafkaClient().admin();
    await admin.connect();
    try {
      return sum(Object.fromEntries((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)])));
    } finally {
      await admin.disconnect();
    }
  })();
  const consumer = kafkaClient().consumer({ groupId: `${topic}-reader-${Date.now()}` });
  const got: Alert[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void got.push(JSON.parse(String(message.value))) });
    await waitFor(() => got.length >= ends, 60_000, () => `${got.length}/${ends} alerts read back`);
  } finally {
    await consumer.disconnect();
  }
  return got;
}
