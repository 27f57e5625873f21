/**
 * Two sinks of the same records across a crash, with a real Node-RED runtime in a child process: kafka
 * in (batch, after-sink commits every 100 ms) → sensor validate → output 1 wired to two csv sinks of the
 * readings, A in a plain folder and B on a small tmpfs made read-only before the runtime starts. A writes
 * every reading, B none; an offset may be committed only once both wrote the records before it.
 *
 * The runtime is SIGKILLed while B still cannot write, B's file system is made writable, and the runtime
 * is started again on the same user directory. Kafka redelivers what was not committed: B writes every
 * reading, and A skips the rows it wrote already (its positions are in the changelog). At the end each
 * folder holds every reading exactly once. Before the fix (b2b31d9) A's write alone completed the units,
 * the offsets were committed past rows B had not written, and after the restart B never got them.
 *
 * Needs root on Linux (mount); where that is missing the test is skipped with the reason, except under
 * CI=true as root, where it fails.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Producer } from 'kafkajs';
import { createTopic, requireKafka, uniqueTopic } from '../kafka/broker';
import { committedOffsets, endOffsets } from '../kafka/_kafka-nodes';
import { diffIsClean, diffText, readCsv, readingsDiff, type OutputDiff } from './_check';
import { DEFAULT_SHAPE, produceReadings, testProducer, type StreamShape } from './_data';
import { makeReadOnly, makeWritable, mountProblem, mountTmpfs, unavailable, unmountAll } from './_faults';
import { READINGS_FILE, healthTap, readHealth, readingsNow, rowsNow, type HealthLine } from './_observe';
import { deleteTopics, reliabilityBroker, reliabilityKafkaIn } from './_pipeline';
import { NodeRedChild, createUserDir, removeDir, undoAfterEach, type FlowNode } from './_runtime';

/** 10 devices, one reading every 5 s each: 2,000 readings stay within one UTC day (one file per sink). */
const SHAPE: StreamShape = { devices: 10, startSec: DEFAULT_SHAPE.startSec, stepSec: 5 };
const N = 2000;
const PARTITIONS = 2;
const TAB = 'two-sinks-tab';
/** Time any one wait may take: the restart includes the killed member's session expiry (6 s). */
const WAIT_MS = 45_000;
const POLL_MS = 100;

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The flow of this file (see its comment); kafka in's health reports go to `healthFile`. */
function twoSinksFlow(o: { topic: string; groupId: string; folderA: string; folderB: string; healthFile: string }): FlowNode[] {
  let y = 40;
  const at = (n: FlowNode): FlowNode => ({ z: TAB, x: 200, y: (y += 40), ...n });
  return [
    { id: TAB, type: 'tab', label: 'two sinks of the same records' },
    reliabilityBroker('smoke-two-sinks'),
    at(reliabilityKafkaIn(o.topic, o.groupId, { maxBatch: 200, commitInterval: 100, metricsInterval: 1, wires: [['validate'], [], ['healthLine']] })),
    at({ id: 'validate', type: 'smoke-sensor-validate', wires: [['csvA', 'csvB'], []] }),
    at({ id: 'csvA', type: 'smoke-csv-sink', preset: 'readings', folder: o.folderA, wires: [[]] }),
    // a short retry delay: B writes soon after its file system is writable again
    at({ id: 'csvB', type: 'smoke-csv-sink', preset: 'readings', folder: o.folderB, retryDelay: 50, wires: [[]] }),
    ...healthTap(o.healthFile, TAB),
  ];
}

describe('reliability > two sinks of the same records (one cannot write; SIGKILL, restart)', function () {
  this.timeout(120_000);
  /** Undo steps of the test, run in reverse order after it, also when it failed. */
  const cleanups = undoAfterEach();

  before(async function () {
    await requireKafka(this);
  });

  it('validate → csv sinks A and B, B read-only: nothing is committed while B has written nothing, and after a SIGKILL and a restart with B writable each holds every reading exactly once', async function () {
    const problem = mountProblem();
    if (problem) return unavailable(this, problem);
    const t0 = Date.now();
    const timeline: string[] = [];
    const note = (text: string) => timeline.push(`+${secs(Date.now() - t0).padStart(6)}  ${text}`);

    const topic = uniqueTopic('rel-two-sinks');
    const groupId = `${topic}-group`;
    await createTopic(topic, PARTITIONS);
    cleanups.push(() => deleteTopics(topic, groupId));
    const producer: Producer = await testProducer();
    try {
      await produceReadings(producer, topic, 0, N, SHAPE);
    } finally {
      await producer.disconnect();
    }
    const ends = await endOffsets(topic);
    assert.equal(Object.values(ends).reduce((a, b) => a + b, 0), N, 'records in the topic');
    note(`produced ${N} readings: end offsets ${JSON.stringify(ends)}`);

    const userDir = createUserDir({ flow: [] });
    cleanups.push(() => removeDir(userDir));
    const folderA = path.join(userDir, 'csv-a');
    const folderB = mountTmpfs('smoke-two-sinks-b-', 8 << 20);
    cleanups.push(() => {
      const left = unmountAll(folderB);
      fs.rmSync(folderB, { recursive: true, force: true });
      if (left.length > 0) throw new Error(`unmounting ${folderB}: ${left.join('; ')}`);
    });
    const how = makeReadOnly(folderB);
    note(`B's tmpfs read-only (${how})`);
    const healthFile = path.join(userDir, 'health.jsonl');
    fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(twoSinksFlow({ topic, groupId, folderA, folderB, healthFile }), null, 2));
    const nr = new NodeRedChild(userDir);
    // before the unmount (cleanups run in reverse): a runtime writing into B would keep it busy
    cleanups.push(() => nr.kill());

    let committed: Record<number, number> = {};
    const story = (): string =>
      [
        'timeline:',
        ...timeline.map((l) => `  ${l}`),
        `committed ${JSON.stringify(committed)}, end offsets ${JSON.stringify(ends)}; readings now in A ${readingsNow(folderA)}, in B ${readingsNow(folderB)}`,
        `kafka in health (last 3): ${readHealth(healthFile)
          .slice(-3)
          .map((h) => `+${secs(h.t - t0)} records ${h.records} inFlight ${h.inFlight} ${h.state}`)
          .join(' · ')}`,
        `Node-RED log (tail):\n${nr.log().slice(-2500)}`,
      ].join('\n');
    const waitUntil = <T>(what: string, cond: () => Promise<T | null | false | undefined> | T | null | false | undefined): Promise<T> =>
      nr.waitFor(what, cond, { timeoutMs: WAIT_MS, everyMs: POLL_MS, story });

    // ---- first run: A writes every reading, B none --------------------------------------------
    await nr.start();
    note('Node-RED started');
    await waitUntil(`A to hold all ${N} readings`, () => readingsNow(folderA) >= N);
    const aDone = Date.now();
    note(`A holds all ${N} readings`);
    // kafka in's first report after that: what it still counts unacknowledged once A wrote everything
    const health: HealthLine = await waitUntil('a health report of kafka in after A held every reading', () => readHealth(healthFile).find((h) => h.t > aDone));
    committed = await committedOffsets(groupId, topic);
    const committedBeforeKill = Object.fromEntries(Object.entries(committed).filter(([, o]) => o > 0));
    const bBeforeKill = rowsNow(folderB, READINGS_FILE).length;
    note(`kafka in: records ${health.records}, inFlight ${health.inFlight}; committed ${JSON.stringify(committed)}; ${bBeforeKill} rows in B`);
    const aBeforeKill = readingsNow(folderA);

    // ---- SIGKILL while B cannot write; B writable; the same runtime again ---------------------------
    await nr.kill();
    note('SIGKILL');
    makeWritable(folderB, how);
    note("B's tmpfs writable");
    await nr.start();
    const restarted = Date.now();
    note('Node-RED started again');
    await waitUntil('every partition committed to its end', async () => {
      committed = await committedOffsets(groupId, topic);
      return Object.keys(ends).every((p) => committed[Number(p)] === ends[Number(p)]);
    });
    note(`all committed, ${secs(Date.now() - restarted)} after the restart`);

    // Committed means written by both sinks: the files are read as they are now, before any close.
    const inA = readingsDiff(readCsv(folderA, READINGS_FILE), N, SHAPE);
    const inB = readingsDiff(readCsv(folderB, READINGS_FILE), N, SHAPE);
    const exit = await nr.stop();
    note(`stopped (exit ${exit})`);

    // ---- checks (all of them, B's first: what the fix is about) ------------------------------------
    const problems: string[] = [];
    const outputProblem = (name: string, d: OutputDiff) => {
      if (!diffIsClean(d)) problems.push(`${name}: ${d.rows} rows for ${d.expected} readings: ${diffText(d)}; ${d.examples.slice(0, 4).join(' | ')}`);
    };
    outputProblem('B (read-only until the SIGKILL)', inB);
    outputProblem('A', inA);
    if (health.records !== N || health.inFlight !== N) {
      problems.push(`after A wrote every reading kafka in reported ${health.inFlight} of ${health.records} records in flight (${N} of ${N} expected: B holds them until written)`);
    }
    if (Object.keys(committedBeforeKill).length > 0) problems.push(`offsets committed before the SIGKILL, while B had written nothing: ${JSON.stringify(committedBeforeKill)}`);
    if (bBeforeKill !== 0) problems.push(`harness: ${bBeforeKill} rows in B's read-only folder before the SIGKILL`);
    console.log(
      `      A held ${aBeforeKill} readings at the SIGKILL (kafka in: ${health.inFlight} in flight), nothing committed: ${Object.keys(committedBeforeKill).length === 0};` +
        ` after the restart: B ${inB.rows} rows (${diffText(inB)}), A ${inA.rows} rows (${diffText(inA)}); ${secs(Date.now() - t0)}`,
    );
    assert.ok(problems.length === 0, `${problems.map((p) => `- ${p}`).join('\n')}\n${story()}`);
  });
});
