/**
 * A partial deploy in a real Node-RED runtime (a child process, its admin API, the deployment type the
 * editor's "Modified Nodes" sends): kafka in (batch, after-sink) → sensor validate → csv sink A runs; a
 * deploy adds csv sink B beside A. Node-RED restarts validate (its wires changed) and starts B, and
 * leaves A running. A's folder, a small tmpfs, is then made read-only. A must hold the records it shares
 * with B from then on (nodes/nr/flow-watch.ts): B writes every reading and nothing is committed while A
 * has written nothing; once A can write, everything is committed and each folder holds every reading
 * once. Had A kept the role it started with (the only sink of its records, nothing to hold), B's writes
 * alone would have completed the records and let the offsets be committed past rows A never wrote.
 *
 * Two more take away what records were on their way through, with a "Modified Nodes" deploy, from a kafka in
 * left running: a csv sink holding unwritten rows (read-only folder), replaced by another sink; and a core
 * delay node holding every record, restarted with a shorter delay (its close drops what it holds).
 * Node-RED drops those messages, so they would never be acknowledged and the commits would stay behind
 * them for good: kafka in rejoins and reads them again, every partition is committed to its end and
 * the sink holds every reading once.
 *
 * Needs root on Linux (mount, the first two); where that is missing the test is skipped with the reason, except under
 * CI=true as root, where it fails.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createTopic, requireKafka, uniqueTopic } from '../kafka/broker';
import { committedOffsets, endOffsets } from '../kafka/_kafka-nodes';
import { diffIsClean, diffText, readCsv, readingsDiff } from './_check';
import { DEFAULT_SHAPE, produceReadings, testProducer, type StreamShape } from './_data';
import { makeReadOnly, makeWritable, mountProblem, mountTmpfs, unavailable, unmountAll } from './_faults';
import { READINGS_FILE, healthTap, readHealth, readingsNow } from './_observe';
import { deleteTopics, reliabilityBroker, reliabilityKafkaIn } from './_pipeline';
import { NodeRedChild, createUserDir, removeDir, undoAfterEach, type FlowNode } from './_runtime';
import { brokerRed, namespaceOf, translate } from '../nodes/_catalogues';

const TAB = 'partial-deploy-tab';
/** 10 devices, one reading every 5 s each: within one UTC day (one file per sink). */
const SHAPE: StreamShape = { devices: 10, startSec: DEFAULT_SHAPE.startSec, stepSec: 5 };
const N = 600;
const WAIT_MS = 45_000;

/** The deploys' closing lines in the log ("Started flows", "Started modified nodes"): Node-RED logs one after flows:started. */
const deploys = (log: string): number => (log.match(/Started (flows|modified nodes|modified flows)/g) ?? []).length;

describe('reliability > partial deploys around a running after-sink kafka in (real Node-RED runtime)', function () {
  this.timeout(120_000);
  /** Undo steps of the test, run in reverse order after it, also when it failed. */
  const cleanups = undoAfterEach();

  before(async function () {
    await requireKafka(this);
  });

  it('the sink left running holds the records it now shares: nothing committed while it (read-only) wrote nothing and the new one wrote all, then every reading once in each', async function () {
    const problem = mountProblem();
    if (problem) return unavailable(this, problem);
    const topic = uniqueTopic('rel-partial-deploy');
    const groupId = `${topic}-group`;
    await createTopic(topic, 2);
    cleanups.push(() => deleteTopics(topic, groupId));

    const userDir = createUserDir({ flow: [] });
    cleanups.push(() => removeDir(userDir));
    const folderA = mountTmpfs('smoke-partial-deploy-a-', 8 << 20);
    cleanups.push(() => {
      const left = unmountAll(folderA);
      fs.rmSync(folderA, { recursive: true, force: true });
      if (left.length > 0) throw new Error(`unmounting ${folderA}: ${left.join('; ')}`);
    });
    const folderB = path.join(userDir, 'csv-b');
    const healthFile = path.join(userDir, 'health.jsonl');
    const at = (n: FlowNode): FlowNode => ({ z: TAB, x: 200, y: 100, ...n });
    const flow = (sinks: FlowNode[]): FlowNode[] => [
      { id: TAB, type: 'tab', label: 'partial deploy' },
      reliabilityBroker('smoke-partial-deploy'),
      at(reliabilityKafkaIn(topic, groupId, { maxBatch: 100, commitInterval: 100, metricsInterval: 1, wires: [['validate'], [], ['healthLine']] })),
      at({ id: 'validate', type: 'smoke-sensor-validate', wires: [sinks.map((s) => s.id), []] }),
      ...sinks.map(at),
      ...healthTap(healthFile, TAB),
    ];
    // a short retry delay: A writes soon after its file system is writable again
    const sinkA: FlowNode = { id: 'csvA', type: 'smoke-csv-sink', preset: 'readings', folder: folderA, retryDelay: 50, wires: [[]] };
    const sinkB: FlowNode = { id: 'csvB', type: 'smoke-csv-sink', preset: 'readings', folder: folderB, wires: [[]] };
    fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flow([sinkA]), null, 2));
    const nr = new NodeRedChild(userDir);
    cleanups.push(() => nr.kill());
    await nr.start();

    const story = () => `A ${readingsNow(folderA)}, B ${readingsNow(folderB)} readings\n${nr.log().slice(-2500)}`;
    const waitUntil = <T>(what: string, cond: () => Promise<T | null | false | undefined> | T | null | false | undefined): Promise<T> =>
      nr.waitFor(what, cond, { timeoutMs: WAIT_MS, story });

    // ---- "Modified Nodes": B beside A; A keeps running, and cannot write from now on ----------------
    const res = await nr.api('POST', '/flows', flow([sinkA, sinkB]), { 'Node-RED-Deployment-Type': 'nodes' });
    assert.equal(res.status, 204, res.text);
    await waitUntil('the partial deploy', () => deploys(nr.log()) >= 2);
    assert.match(nr.log(), /Started modified nodes/);
    const how = makeReadOnly(folderA);

    const producer = await testProducer();
    try {
      await produceReadings(producer, topic, 0, N, SHAPE);
    } finally {
      await producer.disconnect();
    }
    const ends = await endOffsets(topic);
    await waitUntil(`B to hold all ${N} readings`, () => readingsNow(folderB) >= N);
    const bDone = Date.now();
    const health = await waitUntil('a health report of kafka in after B held every reading', () => readHealth(healthFile).find((h) => h.t > bDone));
    const committedWhileA = Object.fromEntries(Object.entries(await committedOffsets(groupId, topic)).filter(([, o]) => o > 0));
    assert.deepEqual(
      { inFlight: health.inFlight, records: health.records, committed: committedWhileA, a: readingsNow(folderA) },
      { inFlight: N, records: N, committed: {}, a: 0 },
      'every record held for A, nothing committed',
    );

    // ---- A writable: everything committed, each reading once in each folder -------------------------
    makeWritable(folderA, how);
    await waitUntil('every partition committed to its end', async () => {
      const committed = await committedOffsets(groupId, topic);
      return Object.keys(ends).every((p) => committed[Number(p)] === ends[Number(p)]);
    });
    for (const [name, folder] of [['A', folderA], ['B', folderB]] as const) {
      const d = readingsDiff(readCsv(folder, READINGS_FILE), N, SHAPE);
      assert.ok(diffIsClean(d), `${name}: ${d.rows} rows for ${d.expected} readings: ${diffText(d)}`);
    }
    // A follows the new flow: no warning that it runs on the old one (a node that cannot follow gives it).
    const changed = (await brokerRed())._('smoke-kafka-broker.common.warn.flow-changed');
    assert.notEqual(changed, 'smoke-kafka-broker.common.warn.flow-changed', "the catalogue's text, not its key");
    assert.ok(!nr.log().includes(changed), 'A follows the new flow: no warning');
    assert.doesNotMatch(nr.log(), /TypeError/, 'no error from the deploy');
    assert.equal(await nr.stop(), 0);
  });

  it('a partial deploy that takes away a sink holding unwritten records: kafka in reads them again from the last commit, and the sink that replaces it writes every reading once', async function () {
    const problem = mountProblem();
    if (problem) return unavailable(this, problem);
    const topic = uniqueTopic('rel-partial-deploy-remove');
    const groupId = `${topic}-group`;
    await createTopic(topic, 2);
    cleanups.push(() => deleteTopics(topic, groupId));

    const userDir = createUserDir({ flow: [] });
    cleanups.push(() => removeDir(userDir));
    const folderA = mountTmpfs('smoke-partial-deploy-gone-', 8 << 20);
    cleanups.push(() => {
      const left = unmountAll(folderA);
      fs.rmSync(folderA, { recursive: true, force: true });
      if (left.length > 0) throw new Error(`unmounting ${folderA}: ${left.join('; ')}`);
    });
    const how = makeReadOnly(folderA);
    cleanups.push(() => makeWritable(folderA, how));
    const folderB = path.join(userDir, 'csv-b');
    const healthFile = path.join(userDir, 'health.jsonl');
    const at = (n: FlowNode): FlowNode => ({ z: TAB, x: 200, y: 100, ...n });
    const flow = (sink: FlowNode): FlowNode[] => [
      { id: TAB, type: 'tab', label: 'partial deploy' },
      reliabilityBroker('smoke-partial-deploy-gone'),
      at(reliabilityKafkaIn(topic, groupId, { maxBatch: 100, commitInterval: 100, metricsInterval: 1, wires: [['validate'], [], ['healthLine']] })),
      at({ id: 'validate', type: 'smoke-sensor-validate', wires: [[sink.id], []] }),
      at(sink),
      ...healthTap(healthFile, TAB),
    ];
    const sinkA: FlowNode = { id: 'csvA', type: 'smoke-csv-sink', preset: 'readings', folder: folderA, retryDelay: 50, wires: [[]] };
    const sinkB: FlowNode = { id: 'csvB', type: 'smoke-csv-sink', preset: 'readings', folder: folderB, wires: [[]] };
    fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flow(sinkA), null, 2));
    const nr = new NodeRedChild(userDir);
    cleanups.push(() => nr.kill());
    await nr.start();

    const story = () => `A ${readingsNow(folderA)}, B ${readingsNow(folderB)} readings\n${nr.log().slice(-2500)}`;
    const waitUntil = <T>(what: string, cond: () => Promise<T | null | false | undefined> | T | null | false | undefined): Promise<T> =>
      nr.waitFor(what, cond, { timeoutMs: WAIT_MS, story });

    // ---- every reading emitted and waiting for A, which cannot write ---------------------------------
    const producer = await testProducer();
    try {
      await produceReadings(producer, topic, 0, N, SHAPE);
    } finally {
      await producer.disconnect();
    }
    const ends = await endOffsets(topic);
    await waitUntil(`kafka in to hold all ${N} readings for A`, () => readHealth(healthFile).find((h) => h.records === N && h.inFlight === N));
    const committedWhileA = Object.fromEntries(Object.entries(await committedOffsets(groupId, topic)).filter(([, o]) => o > 0));
    assert.deepEqual(committedWhileA, {}, 'nothing committed while A wrote nothing');

    // ---- "Modified Nodes": B instead of A. A is stopped with its records unwritten ------------------
    const res = await nr.api('POST', '/flows', flow(sinkB), { 'Node-RED-Deployment-Type': 'nodes' });
    assert.equal(res.status, 204, res.text);
    await waitUntil('the partial deploy', () => deploys(nr.log()) >= 2);
    await waitUntil('every partition committed to its end', async () => {
      const committed = await committedOffsets(groupId, topic);
      return Object.keys(ends).every((p) => committed[Number(p)] === ends[Number(p)]);
    });
    const d = readingsDiff(readCsv(folderB, READINGS_FILE), N, SHAPE);
    assert.ok(diffIsClean(d), `B: ${d.rows} rows for ${d.expected} readings: ${diffText(d)}`);
    assert.equal(readingsNow(folderA), 0, 'A wrote nothing');
    const again = await translate(`${namespaceOf('smoke-kafka-in')}:smoke-kafka-in.log.redeliver`, { records: N });
    assert.doesNotMatch(again, /log\.redeliver/, "the catalogue's text, not its key");
    assert.ok(nr.log().includes(again), `kafka in says why it reads them again (${again})`);
    assert.equal(await nr.stop(), 0);
  });

  it('a partial deploy that restarts a delay node holding records on their way: kafka in reads them again from the last commit, and the sink writes every reading once', async function () {
    const topic = uniqueTopic('rel-partial-deploy-delay');
    const groupId = `${topic}-group`;
    await createTopic(topic, 2);
    cleanups.push(() => deleteTopics(topic, groupId));

    const userDir = createUserDir({ flow: [] });
    cleanups.push(() => removeDir(userDir));
    const folder = path.join(userDir, 'csv');
    const healthFile = path.join(userDir, 'health.jsonl');
    const at = (n: FlowNode): FlowNode => ({ z: TAB, x: 200, y: 100, ...n });
    // Node-RED's core delay node: its close drops the messages it holds
    const flow = (delaySeconds: number): FlowNode[] => [
      { id: TAB, type: 'tab', label: 'partial deploy' },
      reliabilityBroker('smoke-partial-deploy-delay'),
      at(reliabilityKafkaIn(topic, groupId, { maxBatch: 100, commitInterval: 100, metricsInterval: 1, wires: [['delay'], [], ['healthLine']] })),
      at({ id: 'delay', type: 'delay', pauseType: 'delay', timeout: String(delaySeconds), timeoutUnits: 'seconds', wires: [['validate']] }),
      at({ id: 'validate', type: 'smoke-sensor-validate', wires: [['csv'], []] }),
      at({ id: 'csv', type: 'smoke-csv-sink', preset: 'readings', folder, wires: [[]] }),
      ...healthTap(healthFile, TAB),
    ];
    fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flow(600), null, 2));
    const nr = new NodeRedChild(userDir);
    cleanups.push(() => nr.kill());
    await nr.start();
    const story = () => `${readingsNow(folder)} readings written\n${nr.log().slice(-2500)}`;
    const waitUntil = <T>(what: string, cond: () => Promise<T | null | false | undefined> | T | null | false | undefined): Promise<T> =>
      nr.waitFor(what, cond, { timeoutMs: WAIT_MS, story });

    // ---- every reading emitted and held in the delay node -------------------------------------------
    const producer = await testProducer();
    try {
      await produceReadings(producer, topic, 0, N, SHAPE);
    } finally {
      await producer.disconnect();
    }
    const ends = await endOffsets(topic);
    await waitUntil(`kafka in to have all ${N} readings on their way`, () => readHealth(healthFile).find((h) => h.records === N && h.inFlight === N));

    // ---- "Modified Nodes": a shorter delay. The delay node restarts and drops what it held ----------
    const res = await nr.api('POST', '/flows', flow(0.1), { 'Node-RED-Deployment-Type': 'nodes' });
    assert.equal(res.status, 204, res.text);
    await waitUntil('the partial deploy', () => deploys(nr.log()) >= 2);
    await waitUntil('every partition committed to its end', async () => {
      const committed = await committedOffsets(groupId, topic);
      return Object.keys(ends).every((p) => committed[Number(p)] === ends[Number(p)]);
    });
    const d = readingsDiff(readCsv(folder, READINGS_FILE), N, SHAPE);
    assert.ok(diffIsClean(d), `${d.rows} rows for ${d.expected} readings: ${diffText(d)}`);
    const again = await translate(`${namespaceOf('smoke-kafka-in')}:smoke-kafka-in.log.redeliver`, { records: N });
    assert.ok(nr.log().includes(again), `kafka in says why it reads them again (${again})`);
    assert.equal(await nr.stop(), 0);
  });
});
