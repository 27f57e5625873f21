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

  /** A topic of 2 partitions and its group, a user folder with a health file, and the tab's nodes around those of a test. */
  async function setUp(name: string): Promise<{ topic: string; groupId: string; userDir: string; healthFile: string; flow: (nodes: FlowNode[], kinWires: string[]) => FlowNode[] }> {
    const topic = uniqueTopic(`rel-${name}`);
    const groupId = `${topic}-group`;
    await createTopic(topic, 2);
    cleanups.push(() => deleteTopics(topic, groupId));
    const userDir = createUserDir({ flow: [] });
    cleanups.push(() => removeDir(userDir));
    const healthFile = path.join(userDir, 'health.jsonl');
    const at = (n: FlowNode): FlowNode => ({ z: TAB, x: 200, y: 100, ...n });
    const flow = (nodes: FlowNode[], kinWires: string[]): FlowNode[] => [
      { id: TAB, type: 'tab', label: 'partial deploy' },
      reliabilityBroker(`smoke-${name}`),
      at(reliabilityKafkaIn(topic, groupId, { maxBatch: 100, commitInterval: 100, metricsInterval: 1, wires: [kinWires, [], ['healthLine']] })),
      ...nodes.map(at),
      ...healthTap(healthFile, TAB),
    ];
    return { topic, groupId, userDir, healthFile, flow };
  }

  /** A small tmpfs, unmounted and removed after the test. */
  function tmpfsFolder(prefix: string): string {
    const folder = mountTmpfs(prefix, 8 << 20);
    cleanups.push(() => {
      const left = unmountAll(folder);
      fs.rmSync(folder, { recursive: true, force: true });
      if (left.length > 0) throw new Error(`unmounting ${folder}: ${left.join('; ')}`);
    });
    return folder;
  }

  /** Node-RED in a child process on `flow` (written to the user folder first), and its wait with the story of a failure. */
  async function startRuntime(userDir: string, flow: FlowNode[], story: () => string) {
    fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flow, null, 2));
    const nr = new NodeRedChild(userDir);
    cleanups.push(() => nr.kill());
    await nr.start();
    const waitUntil = <T>(what: string, cond: () => Promise<T | null | false | undefined> | T | null | false | undefined): Promise<T> =>
      nr.waitFor(what, cond, { timeoutMs: WAIT_MS, story: () => `${story()}\n${nr.log().slice(-2500)}` });
    return { nr, waitUntil };
  }

  /** The N readings on the topic; its end offsets. */
  async function produceAll(topic: string): Promise<Record<number, number>> {
    const producer = await testProducer();
    try {
      await produceReadings(producer, topic, 0, N, SHAPE);
    } finally {
      await producer.disconnect();
    }
    return endOffsets(topic);
  }

  const committedTo = async (groupId: string, topic: string, ends: Record<number, number>): Promise<boolean> => {
    const committed = await committedOffsets(groupId, topic);
    return Object.keys(ends).every((p) => committed[Number(p)] === ends[Number(p)]);
  };
  /** Partitions with a committed offset (none is -1). */
  const committedSoFar = async (groupId: string, topic: string): Promise<Record<string, number>> =>
    Object.fromEntries(Object.entries(await committedOffsets(groupId, topic)).filter(([, o]) => o > 0));

  /** A "Modified Nodes" deploy of `flow`, and the wait for Node-RED to have started it. */
  async function deployModified(nr: NodeRedChild, waitUntil: (what: string, cond: () => boolean) => Promise<unknown>, flow: FlowNode[]): Promise<void> {
    const res = await nr.api('POST', '/flows', flow, { 'Node-RED-Deployment-Type': 'nodes' });
    assert.equal(res.status, 204, res.text);
    await waitUntil('the partial deploy', () => deploys(nr.log()) >= 2);
  }

  /** kafka in's line that it reads again what a deploy cut off, as the catalogue words it. */
  async function readsAgain(nr: NodeRedChild): Promise<void> {
    const again = await translate(`${namespaceOf('smoke-kafka-in')}:smoke-kafka-in.log.redeliver`, { records: N });
    assert.doesNotMatch(again, /log\.redeliver/, "the catalogue's text, not its key");
    assert.ok(nr.log().includes(again), `kafka in says why it reads them again (${again})`);
  }

  it('the sink left running holds the records it now shares: nothing committed while it (read-only) wrote nothing and the new one wrote all, then every reading once in each', async function () {
    const problem = mountProblem();
    if (problem) return unavailable(this, problem);
    const { topic, groupId, userDir, healthFile, flow: tab } = await setUp('partial-deploy');
    const folderA = tmpfsFolder('smoke-partial-deploy-a-');
    const folderB = path.join(userDir, 'csv-b');
    const flow = (sinks: FlowNode[]): FlowNode[] => tab([{ id: 'validate', type: 'smoke-sensor-validate', wires: [sinks.map((s) => s.id), []] }, ...sinks], ['validate']);
    // a short retry delay: A writes soon after its file system is writable again
    const sinkA: FlowNode = { id: 'csvA', type: 'smoke-csv-sink', preset: 'readings', folder: folderA, retryDelay: 50, wires: [[]] };
    const sinkB: FlowNode = { id: 'csvB', type: 'smoke-csv-sink', preset: 'readings', folder: folderB, wires: [[]] };
    const { nr, waitUntil } = await startRuntime(userDir, flow([sinkA]), () => `A ${readingsNow(folderA)}, B ${readingsNow(folderB)} readings`);

    // ---- "Modified Nodes": B beside A; A keeps running, and cannot write from now on ----------------
    await deployModified(nr, waitUntil, flow([sinkA, sinkB]));
    assert.match(nr.log(), /Started modified nodes/);
    const how = makeReadOnly(folderA);

    const ends = await produceAll(topic);
    await waitUntil(`B to hold all ${N} readings`, () => readingsNow(folderB) >= N);
    const bDone = Date.now();
    const health = await waitUntil('a health report of kafka in after B held every reading', () => readHealth(healthFile).find((h) => h.t > bDone));
    assert.deepEqual(
      { inFlight: health.inFlight, records: health.records, committed: await committedSoFar(groupId, topic), a: readingsNow(folderA) },
      { inFlight: N, records: N, committed: {}, a: 0 },
      'every record held for A, nothing committed',
    );

    // ---- A writable: everything committed, each reading once in each folder -------------------------
    makeWritable(folderA, how);
    await waitUntil('every partition committed to its end', () => committedTo(groupId, topic, ends));
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
    const { topic, groupId, userDir, healthFile, flow: tab } = await setUp('partial-deploy-gone');
    const folderA = tmpfsFolder('smoke-partial-deploy-gone-');
    const how = makeReadOnly(folderA);
    cleanups.push(() => makeWritable(folderA, how));
    const folderB = path.join(userDir, 'csv-b');
    const flow = (sink: FlowNode): FlowNode[] => tab([{ id: 'validate', type: 'smoke-sensor-validate', wires: [[sink.id], []] }, sink], ['validate']);
    const sinkA: FlowNode = { id: 'csvA', type: 'smoke-csv-sink', preset: 'readings', folder: folderA, retryDelay: 50, wires: [[]] };
    const sinkB: FlowNode = { id: 'csvB', type: 'smoke-csv-sink', preset: 'readings', folder: folderB, wires: [[]] };
    const { nr, waitUntil } = await startRuntime(userDir, flow(sinkA), () => `A ${readingsNow(folderA)}, B ${readingsNow(folderB)} readings`);

    // ---- every reading emitted and waiting for A, which cannot write ---------------------------------
    const ends = await produceAll(topic);
    await waitUntil(`kafka in to hold all ${N} readings for A`, () => readHealth(healthFile).find((h) => h.records === N && h.inFlight === N));
    assert.deepEqual(await committedSoFar(groupId, topic), {}, 'nothing committed while A wrote nothing');

    // ---- "Modified Nodes": B instead of A. A is stopped with its records unwritten ------------------
    await deployModified(nr, waitUntil, flow(sinkB));
    await waitUntil('every partition committed to its end', () => committedTo(groupId, topic, ends));
    const d = readingsDiff(readCsv(folderB, READINGS_FILE), N, SHAPE);
    assert.ok(diffIsClean(d), `B: ${d.rows} rows for ${d.expected} readings: ${diffText(d)}`);
    assert.equal(readingsNow(folderA), 0, 'A wrote nothing');
    await readsAgain(nr);
    assert.equal(await nr.stop(), 0);
  });

  it('a partial deploy that restarts a delay node holding records on their way: kafka in reads them again from the last commit, and the sink writes every reading once', async function () {
    const { topic, groupId, userDir, healthFile, flow: tab } = await setUp('partial-deploy-delay');
    const folder = path.join(userDir, 'csv');
    // Node-RED's core delay node: its close drops the messages it holds
    const flow = (delaySeconds: number): FlowNode[] =>
      tab(
        [
          { id: 'pause', type: 'delay', pauseType: 'delay', timeout: String(delaySeconds), timeoutUnits: 'seconds', wires: [['validate']] },
          { id: 'validate', type: 'smoke-sensor-validate', wires: [['csv'], []] },
          { id: 'csv', type: 'smoke-csv-sink', preset: 'readings', folder, wires: [[]] },
        ],
        ['pause'],
      );
    const { nr, waitUntil } = await startRuntime(userDir, flow(600), () => `${readingsNow(folder)} readings written`);

    // ---- every reading emitted and held in the delay node -------------------------------------------
    const ends = await produceAll(topic);
    await waitUntil(`kafka in to have all ${N} readings on their way`, () => readHealth(healthFile).find((h) => h.records === N && h.inFlight === N));

    // ---- "Modified Nodes": a shorter delay. The delay node restarts and drops what it held ----------
    await deployModified(nr, waitUntil, flow(0.1));
    await waitUntil('every partition committed to its end', () => committedTo(groupId, topic, ends));
    const d = readingsDiff(readCsv(folder, READINGS_FILE), N, SHAPE);
    assert.ok(diffIsClean(d), `${d.rows} rows for ${d.expected} readings: ${diffText(d)}`);
    await readsAgain(nr);
    assert.equal(await nr.stop(), 0);
  });
});
