import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createTopic, requireKafka, uniqueTopic } from './broker';
import { makeReadOnly, makeWritable, mountProblem, mountTmpfs, unavailable, unmountAll } from '../reliability/_faults';
import {
  ackRegistry,
  brokerModule,
  brokerNode,
  collect,
  committedOffsets,
  delayModule,
  type Collected,
  endOffsets,
  freePort,
  type FlowNode,
  helper,
  inModule,
  jsonMessages,
  kafkaInNode,
  nodeModule,
  outModule,
  produce,
  readings,
  recordStatus,
  sinks,
  sleep,
  waitFor,
  waitForCommitted,
} from './_kafka-nodes';

type Meta = { partition: number; offset: number; ack?: { consumer: string; id: number; records: number } };

/**
 * Proof that a commit ran after this point: one more record on `partition` (single or batch mode),
 * acknowledged, and its offset committed. An offset that a commit would have moved has moved by then.
 */
async function commitCycle(topic: string, groupId: string, got: Collected, partition: number): Promise<void> {
  const before = got.count();
  await produce(topic, [{ partition, key: 'probe', value: JSON.stringify(readings(1)[0]) }]);
  const end = (await endOffsets(topic))[partition];
  await waitFor(() => got.count() > before, 10_000, () => 'the probe record');
  const probe = got.batches.length > 0 ? got.batches.at(-1)! : got.records.at(-1)!;
  assert.equal((probe.kafka as Meta).partition, partition, 'the probe came last');
  ackRegistry.ack((probe.kafka as Meta).ack, Array.isArray(probe.payload) ? probe.payload.length : 1);
  await waitForCommitted(groupId, topic, { [partition]: end });
}

/** Holds of stateful nodes, from the same (built) ack registry the nodes use. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const holds = require(path.join(__dirname, '..', '..', 'dist', 'nodes', 'nr', 'ack.js')) as typeof import('../../nodes/nr/ack');

/** The data rows (header left out) of the csv files in `dir` whose names start with `prefix`. */
function csvRows(dir: string, prefix = 'historical_smoke_data_'): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.startsWith(prefix))
    .flatMap((f) => fs.readFileSync(path.join(dir, f), 'utf8').split(/\r?\n/).slice(1).filter(Boolean));
}

type Health = { inFlight: number; records: number };

/** kafka in's health reports as helper node `id` (wired to its output 3) receives them. */
function healthReports(id: string): Health[] {
  const health: Health[] = [];
  helper.getNode(id).on('input', (msg: { payload: Health }) => health.push(msg.payload));
  return health;
}

/** The first of kafka in's health reports that comes after this call. */
async function nextHealth(health: Health[], what: string): Promise<Pick<Health, 'inFlight' | 'records'>> {
  const seen = health.length;
  await waitFor(() => health.length > seen, 10_000, () => `a health report after ${what}`);
  const h = health.at(-1)!;
  return { inFlight: h.inFlight, records: h.records };
}

/**
 * Loads `kafka in` (batch, after-sink) on `topic` → sensor validate → csv sink `archive` (→ a delay node of
 * `pauseSeconds`) → kafka out `out`, and csv sink `backup` beside `archive` when given. `outTopic`
 * undefined: the kafka out's broker is unreachable, and kafka in's health reports go to helper `metrics`.
 */
async function loadChain(o: { topic: string; archive: string; backup?: string; pauseSeconds?: number; outTopic?: string }): Promise<void> {
  const down = o.outTopic === undefined;
  const archiveTo = o.pauseSeconds === undefined ? 'out' : 'pause';
  const flow: FlowNode[] = [
    brokerNode(),
    ...(down ? [brokerNode('nowhere', { brokers: `127.0.0.1:${await freePort()}` }), { id: 'metrics', type: 'helper' }] : []),
    {
      ...kafkaInNode(o.topic, { commit: 'after-sink', mode: 'batch', maxBatch: 50, commitInterval: 100, ...(down ? { metricsInterval: 1 } : { maxInFlight: 100 }) }),
      wires: [['validate'], [], down ? ['metrics'] : []],
    },
    { id: 'validate', type: 'smoke-sensor-validate', wires: [o.backup === undefined ? ['archive'] : ['archive', 'backup'], []] },
    { id: 'archive', type: 'smoke-csv-sink', preset: 'readings', folder: o.archive, wires: [[archiveTo]] },
    ...(o.pauseSeconds === undefined ? [] : [{ id: 'pause', type: 'delay', pauseType: 'delay', timeout: String(o.pauseSeconds), timeoutUnits: 'seconds', wires: [['out']] }]),
    { id: 'out', type: 'smoke-kafka-out', broker: down ? 'nowhere' : 'broker', topic: o.outTopic ?? 'never-sent', wires: [] },
    ...(o.backup === undefined ? [] : [{ id: 'backup', type: 'smoke-csv-sink', preset: 'readings', folder: o.backup, wires: [[]] }]),
  ];
  await helper.load([brokerModule, inModule, outModule, delayModule, nodeModule('sensor-validate'), nodeModule('csv-sink')], flow);
}

describe('kafka in > after-sink commits (at-least-once)', function () {
  this.timeout(60_000);

  before(async function () {
    await requireKafka(this);
  });

  afterEach(async function () {
    await helper.unload();
  });

  it('commits an offset only once every record up to it was acknowledged, whatever the order of the acks', async function () {
    const topic = uniqueTopic('aftersink-commit');
    await createTopic(topic, 4);
    await produce(topic, jsonMessages(readings(1000)));
    const groupId = `${topic}-group`;
    await helper.load([brokerModule, inModule], [brokerNode(), kafkaInNode(topic, { commit: 'after-sink', commitInterval: 100, groupId }), ...sinks()]);
    const got = collect();
    await waitFor(() => got.count() === 1000, 20_000, () => `${got.count()}/1000`);

    const held: Meta[] = [];
    for (const m of got.records) {
      const k = m.kafka as Meta;
      assert.ok(k.ack, 'every record carries an ack token');
      assert.equal(k.ack.consumer, 'in');
      assert.equal(k.ack.records, 1);
      if (k.partition === 0 && k.offset >= 100) held.push(k);
      else assert.equal(ackRegistry.ack(k.ack, 1), true);
    }
    const ends = await endOffsets(topic);
    assert.ok(ends[0] > 100, 'partition 0 has more than 100 records');
    await waitForCommitted(groupId, topic, { ...ends, 0: 100 });

    // acknowledge the held records newest first: partition 0 may move only at the very end
    held.sort((a, b) => b.offset - a.offset);
    for (const k of held.slice(0, -1)) ackRegistry.ack(k.ack, 1);
    await commitCycle(topic, groupId, got, 1);
    ends[1] += 1;
    assert.equal((await committedOffsets(groupId, topic))[0], 100, 'offset 100 is still unacknowledged');
    ackRegistry.ack(held.at(-1)!.ack, 1);
    await waitForCommitted(groupId, topic, ends);
  });

  it('stops fetching while maxInFlight records wait for acknowledgement, and resumes as they are acknowledged', async function () {
    const topic = uniqueTopic('aftersink-backpressure');
    await createTopic(topic, 4);
    await produce(topic, jsonMessages(readings(2000)));
    await helper.load(
      [brokerModule, inModule],
      [brokerNode(), kafkaInNode(topic, { commit: 'after-sink', maxInFlight: 200, commitInterval: 100, metricsInterval: 1 }), ...sinks()],
    );
    const got = collect();
    await waitFor(() => got.count() === 200, 15_000, () => `${got.count()}/200`);
    await sleep(1500);
    assert.equal(got.count(), 200, 'no more than maxInFlight records are in flight');
    assert.equal(got.metrics.at(-1)?.payload.inFlight, 200);

    let acked = 0;
    const ackAll = () => {
      for (; acked < got.records.length; acked++) ackRegistry.ack((got.records[acked].kafka as Meta).ack, 1);
    };
    const timer = setInterval(ackAll, 20);
    try {
      await waitFor(() => got.count() === 2000, 30_000, () => `${got.count()}/2000`);
    } finally {
      clearInterval(timer);
    }
    ackAll();
    await waitForCommitted(`${topic}-group`, topic, await endOffsets(topic));
  });

  it('batch mode: one token per batch for all its records; bad records on an unwired output 2 do not hold commits back', async function () {
    const topic = uniqueTopic('aftersink-batch');
    await createTopic(topic, 4);
    const msgs = jsonMessages(readings(800));
    msgs.splice(100, 0, { key: 'dev-01', value: 'not json' }, { key: 'dev-02', value: null });
    await produce(topic, msgs);
    const node = kafkaInNode(topic, { commit: 'after-sink', mode: 'batch', commitInterval: 100 });
    node.wires = [['out1'], [], ['out3']];
    await helper.load([brokerModule, inModule], [brokerNode(), node, ...sinks()]);
    const got = collect();
    await waitFor(() => got.count() === 800, 15_000, () => `${got.count()}/800`);
    for (const b of got.batches) {
      const k = b.kafka as Meta;
      assert.equal(k.ack?.records, b.payload.length);
      assert.equal(ackRegistry.ack(k.ack, b.payload.length), true);
    }
    await waitForCommitted(`${topic}-group`, topic, await endOffsets(topic));
  });

  it('shows "waiting for sink" when the oldest unacknowledged message is older than sinkWarn', async function () {
    const topic = uniqueTopic('aftersink-warn');
    await createTopic(topic, 4);
    await produce(topic, jsonMessages(readings(50)));
    await helper.load([brokerModule, inModule], [brokerNode(), kafkaInNode(topic, { commit: 'after-sink', sinkWarn: 1 }), ...sinks()]);
    const status = recordStatus(helper.getNode('in'));
    const got = collect();
    await waitFor(() => got.count() === 50, 15_000, () => `${got.count()}/50`);
    await waitFor(() => status.some((s) => s.text === 'waiting for sink' && s.fill === 'yellow'), 5000, () => JSON.stringify(status.slice(-3)));
    for (const m of got.records) ackRegistry.ack((m.kafka as Meta).ack, 1);
    await waitFor(() => status.at(-1)?.fill === 'green', 5000, () => JSON.stringify(status.slice(-3)));
  });

  it('does not commit acknowledged records a stateful node still holds; commits them once released', async function () {
    const topic = uniqueTopic('aftersink-hold');
    await createTopic(topic, 4);
    await produce(topic, jsonMessages(readings(400)));
    const groupId = `${topic}-group`;
    const node = kafkaInNode(topic, { commit: 'after-sink', mode: 'batch', commitInterval: 100, metricsInterval: 1, groupId });
    await helper.load([brokerModule, inModule], [brokerNode(), node, ...sinks()]);
    const got = collect();
    await waitFor(() => got.count() === 400, 15_000, () => `${got.count()}/400`);
    // as a sliding window does: hold in the input step, the sink acknowledges later
    const held = got.batches.filter((b) => (b.kafka as Meta).partition === 0);
    assert.ok(held.length > 0, 'partition 0 has records');
    for (const b of held) assert.equal(holds.hold((b.kafka as Meta).ack, 'window'), 'held');
    for (const b of got.batches) assert.equal(ackRegistry.ack((b.kafka as Meta).ack, b.payload.length), true);
    const ends = await endOffsets(topic);
    await waitForCommitted(groupId, topic, { ...ends, 0: held.reduce((min, b) => Math.min(min, (b.kafka as Meta & { firstOffset: number }).firstOffset), Infinity) });
    const heldRecords = held.reduce((n, b) => n + b.payload.length, 0);
    await waitFor(() => got.metrics.at(-1)?.payload.inFlight === heldRecords, 5000, () => `inFlight ${got.metrics.at(-1)?.payload.inFlight}, held ${heldRecords}`);
    await commitCycle(topic, groupId, got, 1);
    ends[1] += 1;
    assert.ok(((await committedOffsets(groupId, topic))[0] ?? -1) < ends[0], 'partition 0 is not committed while held');
    for (const b of held) assert.equal(holds.release((b.kafka as Meta).ack!, 'window'), true);
    await waitForCommitted(groupId, topic, ends);
    assert.equal(holds.hold((held[0].kafka as Meta).ack!, 'window'), 'late', 'a hold after the commit comes too late');
  });

  it('delivers unacknowledged records again after a redeploy (and nothing that was acknowledged)', async function () {
    const topic = uniqueTopic('aftersink-redeploy');
    await createTopic(topic, 4);
    await produce(topic, jsonMessages(readings(400)));
    const flow = [brokerNode(), kafkaInNode(topic, { commit: 'after-sink', commitInterval: 100 }), ...sinks()];
    await helper.load([brokerModule, inModule], flow);
    let got = collect();
    await waitFor(() => got.count() === 400, 15_000, () => `${got.count()}/400`);
    const unacked = new Set<number>();
    for (const m of got.records) {
      const seq = (m.payload as { seq: number }).seq;
      if (seq % 4 === 3) unacked.add(seq);
      else ackRegistry.ack((m.kafka as Meta).ack, 1);
    }
    // Wait for the commit of the acknowledged prefix: each partition up to its first unacknowledged record.
    const expected = await endOffsets(topic);
    for (const m of got.records) {
      const k = m.kafka as Meta;
      if (unacked.has((m.payload as { seq: number }).seq)) expected[k.partition] = Math.min(expected[k.partition], k.offset);
    }
    await waitForCommitted(`${topic}-group`, topic, expected);
    await helper.unload();

    await helper.load([brokerModule, inModule], flow);
    got = collect();
    await waitFor(() => [...unacked].every((s) => seqs().has(s)), 15_000, () => `${[...unacked].filter((s) => seqs().has(s)).length}/${unacked.size} redelivered`);
    function seqs() {
      return new Set(got.records.map((m) => (m.payload as { seq: number }).seq));
    }
    // only records at or after the first unacknowledged one of their partition come back
    assert.ok(got.count() < 400, `redelivered ${got.count()} of 400: the acknowledged prefix was committed`);
  });
});

describe('kafka in > after-sink with the real pipeline (sensor validate → csv sink)', function () {
  const modules = [brokerModule, inModule, nodeModule('sensor-validate'), nodeModule('sliding-window'), nodeModule('threshold-alert'), nodeModule('csv-sink')];
  this.timeout(90_000);
  let dir = '';

  before(async function () {
    await requireKafka(this);
  });

  afterEach(async function () {
    await helper.unload();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('commits every offset once the csv sinks wrote the readings and the rejects, and the files hold each row once', async function () {
    const topic = uniqueTopic('aftersink-csv');
    await createTopic(topic, 4);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-kafka-csv-'));
    const msgs = jsonMessages(readings(2000));
    msgs.splice(10, 0, { key: 'dev-01', value: '{"not": json' }, { key: 'dev-02', value: '' });
    msgs.splice(700, 0, { key: 'dev-03', value: JSON.stringify({ device_id: 'dev-03', UTC: 1654733331, 'Temperature[C]': 'hot' }) });
    await produce(topic, msgs);
    const flow = [
      brokerNode(),
      { ...kafkaInNode(topic, { commit: 'after-sink', mode: 'batch', commitInterval: 100 }), wires: [['validate'], ['csvRejects'], []] },
      { id: 'validate', type: 'smoke-sensor-validate', wires: [['csvHistory'], ['csvRejects']] },
      { id: 'csvHistory', type: 'smoke-csv-sink', preset: 'readings', folder: dir, wires: [] },
      { id: 'csvRejects', type: 'smoke-csv-sink', preset: 'rejects', folder: dir, wires: [] },
    ];
    await helper.load([brokerModule, inModule, nodeModule('sensor-validate'), nodeModule('csv-sink')], flow);
    await waitForCommitted(`${topic}-group`, topic, await endOffsets(topic), 30_000);

    assert.equal(csvRows(dir).length, 2000, 'every valid reading written once');
    assert.equal(csvRows(dir, 'rejects_').length, 3, 'two undecodable records and one invalid reading written as rejects');
  });

  // Records whose path ends with no csv sink on the way: in the sliding window that keeps them (the
  // seed's query), or on an output without wires. The node where they end acknowledges them (after its
  // checkpoint holds them, when it keeps state); before, nothing did, and kafka in stopped at its
  // in-flight limit without ever committing.
  for (const [processing, mode] of [
    ['at-least-once', 'batch'],
    ['exactly-once', 'batch'],
    ['exactly-once', 'single'],
  ] as const) {
    it(`${processing}, ${mode} mode: kafka in → validate → sliding window → csv sink (windows) commits every offset, past its in-flight limit`, async function () {
      const topic = uniqueTopic('records-end-window');
      await createTopic(topic, 2);
      // 20 devices × 60 readings = 20 minutes of event time a device: windows close and are written.
      await produce(topic, jsonMessages(readings(1200, 20)));
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-records-end-'));
      const flow = [
        brokerNode(),
        { ...kafkaInNode(topic, { commit: 'after-sink', processing, mode, maxBatch: 50, maxInFlight: 100, commitInterval: 100 }), wires: [['validate'], [], []] },
        { id: 'validate', type: 'smoke-sensor-validate', wires: [['window'], []] },
        { id: 'window', type: 'smoke-sliding-window', wires: [['csv'], []] },
        { id: 'csv', type: 'smoke-csv-sink', preset: 'windows', folder: dir, wires: [] },
      ];
      await helper.load(modules, flow);
      await waitForCommitted(`${topic}-group`, topic, await endOffsets(topic), 60_000);
      await waitFor(() => csvRows(dir, 'window_results_').length > 0, 10_000, () => 'window results in the csv file');
    });
  }

  it('rejects to an output without wires and a threshold alert whose readings output has none: every offset committed', async function () {
    const topic = uniqueTopic('records-end-unwired');
    await createTopic(topic, 2);
    const msgs = jsonMessages(readings(400, 8));
    // Invalid readings (validate's output 2, not wired) among the valid ones.
    for (let i = 0; i < 40; i++) msgs.splice(i * 10, 0, { key: 'dev-00', value: JSON.stringify({ device_id: 'dev-00', UTC: 1654733331, 'Temperature[C]': 'hot' }) });
    await produce(topic, msgs);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-records-end-'));
    const flow = [
      brokerNode(),
      { ...kafkaInNode(topic, { commit: 'after-sink', mode: 'batch', maxBatch: 20, maxInFlight: 60, commitInterval: 100 }), wires: [['validate'], [], []] },
      { id: 'validate', type: 'smoke-sensor-validate', wires: [['threshold'], []] },
      { id: 'threshold', type: 'smoke-threshold-alert', wires: [[], ['alertsCsv']] },
      { id: 'alertsCsv', type: 'smoke-csv-sink', preset: 'alerts', folder: dir, wires: [] },
    ];
    await helper.load(modules, flow);
    const ends = await endOffsets(topic);
    assert.equal(Object.values(ends).reduce((a, b) => a + b, 0), 440);
    await waitForCommitted(`${topic}-group`, topic, ends, 60_000);
  });
});

describe('kafka in > after-sink: every sink acknowledges (kafka out, two sinks of the same records, a chain)', function () {
  this.timeout(90_000);
  const dirs: string[] = [];
  /** `dir`, unmounted and removed after the test. */
  const keep = (dir: string): string => {
    dirs.push(dir);
    return dir;
  };
  const folder = (prefix: string): string => keep(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));

  before(async function () {
    await requireKafka(this);
  });

  afterEach(async function () {
    await helper.unload();
    for (const d of dirs.splice(0)) {
      unmountAll(d);
      fs.rmSync(d, { recursive: true, force: true });
    }
  });

  // A kafka out acknowledges the records it sends once the broker acknowledged them, in either
  // processing mode; before, only an exactly-once one did, and kafka in → … → kafka out (at-least-once)
  // never committed and stopped at its in-flight limit.
  for (const mode of ['single', 'batch'] as const) {
    it(`${mode} mode: kafka in → sensor validate → kafka out commits every offset past its in-flight limit, once the records are on the out topic`, async function () {
      const topic = uniqueTopic('aftersink-out-src');
      const out = uniqueTopic('aftersink-out-dst');
      await createTopic(topic, 2);
      await createTopic(out, 2);
      await produce(topic, jsonMessages(readings(1200, 20)));
      const flow = [
        brokerNode(),
        { ...kafkaInNode(topic, { commit: 'after-sink', mode, maxBatch: 50, maxInFlight: 100, commitInterval: 100 }), wires: [['validate'], [], []] },
        { id: 'validate', type: 'smoke-sensor-validate', wires: [['out'], []] },
        { id: 'out', type: 'smoke-kafka-out', broker: 'broker', topic: out, wires: [] },
      ];
      await helper.load([brokerModule, inModule, outModule, nodeModule('sensor-validate')], flow);
      await waitForCommitted(`${topic}-group`, topic, await endOffsets(topic), 60_000);
      const sent = await endOffsets(out);
      assert.equal(Object.values(sent).reduce((a, b) => a + b, 0), 1200, 'every reading on the out topic, once (no retries here)');
    });
  }

  // Each sink acknowledges every record it gets, and a unit counts as acknowledged once its records are:
  // before, the first sink's write completed the unit, and a crash then lost the rows the other had not
  // written. A sink that shares its records with another holds them from their arrival until written.
  it('validate → two csv sinks, one on a read-only file system: its records stay in flight, nothing is committed until it wrote them too, then each row once in each', async function () {
    const problem = mountProblem();
    if (problem) return unavailable(this, problem);
    const topic = uniqueTopic('aftersink-two-sinks');
    await createTopic(topic, 2);
    await produce(topic, jsonMessages(readings(600, 10)));
    const dirA = folder('smoke-two-sinks-a-');
    const dirB = keep(mountTmpfs('smoke-two-sinks-b-', 8 << 20));
    const how = makeReadOnly(dirB);
    const flow = [
      brokerNode(),
      { ...kafkaInNode(topic, { commit: 'after-sink', mode: 'batch', maxBatch: 50, commitInterval: 100, metricsInterval: 1 }), wires: [['validate'], [], ['metrics']] },
      { id: 'metrics', type: 'helper' },
      { id: 'validate', type: 'smoke-sensor-validate', wires: [['csvA', 'csvB'], []] },
      { id: 'csvA', type: 'smoke-csv-sink', preset: 'readings', folder: dirA, wires: [] },
      { id: 'csvB', type: 'smoke-csv-sink', preset: 'readings', folder: dirB, retryDelay: 50, wires: [] },
    ];
    await helper.load([brokerModule, inModule, nodeModule('sensor-validate'), nodeModule('csv-sink')], flow);
    const health = healthReports('metrics');
    await waitFor(() => csvRows(dirA).length === 600, 30_000, () => `${csvRows(dirA).length}/600 rows in A`);
    // B has not written them, so they are all in flight.
    assert.deepEqual(await nextHealth(health, 'A wrote every row'), { inFlight: 600, records: 600 }, 'every record held by the sink that has not written it');
    assert.deepEqual(Object.values(await committedOffsets(`${topic}-group`, topic)).filter((o) => o > 0), [], 'no offset committed past a record B has not written');
    assert.equal(csvRows(dirB).length, 0);

    makeWritable(dirB, how);
    await waitForCommitted(`${topic}-group`, topic, await endOffsets(topic), 60_000);
    assert.equal(csvRows(dirB).length, 600, 'B wrote every row once its file system was writable again');
    assert.equal(csvRows(dirA).length, 600, 'and A each row once');
  });

  // A csv sink passes each message on once written: with a kafka out behind it, the kafka out acknowledges.
  it('kafka in → sensor validate → csv sink → kafka out (archive, then publish): every offset committed, every reading in the file and on the topic', async function () {
    const topic = uniqueTopic('aftersink-chain-src');
    const out = uniqueTopic('aftersink-chain-dst');
    await createTopic(topic, 2);
    await createTopic(out, 2);
    await produce(topic, jsonMessages(readings(600, 10)));
    const dir = folder('smoke-chain-');
    await loadChain({ topic, archive: dir, outTopic: out });
    await waitForCommitted(`${topic}-group`, topic, await endOffsets(topic), 60_000);
    assert.equal(csvRows(dir).length, 600, 'every reading in the file');
    assert.equal(Object.values(await endOffsets(out)).reduce((a, b) => a + b, 0), 600, 'every reading on the topic');
  });

  it('csv sink → kafka out whose broker is unreachable: the csv sink wrote every reading, and still nothing is committed (the kafka out has not sent them)', async function () {
    const topic = uniqueTopic('aftersink-chain-down');
    await createTopic(topic, 2);
    await produce(topic, jsonMessages(readings(300, 10)));
    const dir = folder('smoke-chain-');
    await loadChain({ topic, archive: dir });
    const health = healthReports('metrics');
    await waitFor(() => csvRows(dir).length === 300, 30_000, () => `${csvRows(dir).length}/300 rows in the file`);
    // The kafka out has not sent them.
    assert.deepEqual(await nextHealth(health, 'the csv sink wrote every row'), { inFlight: 300, records: 300 });
    assert.deepEqual(Object.values(await committedOffsets(`${topic}-group`, topic)).filter((o) => o > 0), [], 'nothing committed before the kafka out sent it');
  });

  it('csv sink → delay → kafka out, beside a second csv sink: every offset committed, every reading in both files and on the topic', async function () {
    const topic = uniqueTopic('aftersink-chain-beside-src');
    const out = uniqueTopic('aftersink-chain-beside-dst');
    await createTopic(topic, 2);
    await createTopic(out, 2);
    await produce(topic, jsonMessages(readings(600, 10)));
    const [archiveDir, backupDir] = [folder('smoke-chain-archive-'), folder('smoke-chain-backup-')];
    await loadChain({ topic, archive: archiveDir, backup: backupDir, pauseSeconds: 0.1, outTopic: out });
    await waitForCommitted(`${topic}-group`, topic, await endOffsets(topic), 60_000);
    assert.equal(csvRows(archiveDir).length, 600, 'every reading in the archive');
    assert.equal(csvRows(backupDir).length, 600, 'every reading in the backup');
    assert.equal(Object.values(await endOffsets(out)).reduce((a, b) => a + b, 0), 600, 'every reading on the topic');
  });

  // The archive passes each message on once written; the backup beside it writes the same readings. Had
  // the archive let go of them then, the backup's acknowledgements would complete them while they wait in
  // the delay node, before the kafka out behind it holds them: committed, never sent.
  it('csv sink → delay → kafka out whose broker is unreachable, beside a second csv sink: both files hold every reading, and still nothing is committed', async function () {
    const topic = uniqueTopic('aftersink-chain-beside');
    await createTopic(topic, 2);
    await produce(topic, jsonMessages(readings(300, 10)));
    const [archiveDir, backupDir] = [folder('smoke-chain-archive-'), folder('smoke-chain-backup-')];
    await loadChain({ topic, archive: archiveDir, backup: backupDir, pauseSeconds: 0.2 });
    const health = healthReports('metrics');
    const rows = (): string => `archive ${csvRows(archiveDir).length}/300, backup ${csvRows(backupDir).length}/300 rows`;
    await waitFor(() => csvRows(archiveDir).length === 300 && csvRows(backupDir).length === 300, 30_000, rows);
    assert.deepEqual(await nextHealth(health, 'both csv sinks wrote every row'), { inFlight: 300, records: 300 });
    assert.deepEqual(Object.values(await committedOffsets(`${topic}-group`, topic)).filter((o) => o > 0), [], 'nothing committed before the kafka out sent it');
  });
});
