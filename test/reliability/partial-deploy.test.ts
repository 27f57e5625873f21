/**
 * A partial deploy in a real Node-RED runtime (a child process, its admin API, the deployment type the
 * editor's "Modified Nodes" sends): kafka in (after-sink) → sensor validate → csv sink A runs; a deploy
 * adds csv sink B beside A. Node-RED restarts validate (its wires changed) and starts B, and leaves A
 * running on what it derived at its start: that it is the only sink of its records, so it does not hold
 * them for B. A says so, once, in the log (nodes/nr/flow-watch.ts); a full deploy then starts it with the
 * new flow, and it says nothing.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createTopic, requireKafka, uniqueTopic } from '../kafka/broker';
import { reliabilityBroker, reliabilityKafkaIn } from './_pipeline';
import { NodeRedChild, createUserDir, killLeftovers, removeDir, type FlowNode } from './_runtime';

const TAB = 'partial-deploy-tab';
const WAIT_MS = 30_000;

// The warning, as the runtime logs it (the shared catalogue).
const CHANGED = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'nodes', 'kafka-broker', 'locales', 'en-US', 'kafka-broker.json'), 'utf8'))['smoke-kafka-broker'].common.warn['flow-changed'] as string;

/** The log lines of node `id` that carry the warning. */
const warnings = (log: string, id: string): string[] => log.split('\n').filter((l) => l.includes(`:${id}]`) && l.includes(CHANGED));

/**
 * Resolves once the log has `count` deploys' closing lines ("Started flows", "Started modified nodes").
 * Node-RED emits flows:started, in which the nodes check the flow around them, before it logs that line.
 */
async function deployed(nr: NodeRedChild, count: number): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while ((nr.log().match(/Started (flows|modified nodes|modified flows)/g) ?? []).length < count) {
    if (Date.now() > deadline) throw new Error(`no deploy #${count} in the log:\n${nr.log().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('reliability > a partial deploy around a running after-sink sink (real Node-RED runtime)', function () {
  this.timeout(120_000);
  let nr: NodeRedChild | null = null;
  let userDir = '';
  let out = '';

  before(async function () {
    await requireKafka(this);
  });

  after(async function () {
    await nr?.stop();
    killLeftovers();
    if (userDir) removeDir(userDir);
    if (out) fs.rmSync(out, { recursive: true, force: true });
  });

  it('the sink left running warns once that it runs on the old flow; after a full deploy it does not', async function () {
    const topic = uniqueTopic('partial-deploy');
    await createTopic(topic, 1);
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-partial-deploy-'));
    const at = (n: FlowNode): FlowNode => ({ z: TAB, x: 200, y: 100, ...n });
    const sink = (id: string): FlowNode => at({ id, type: 'smoke-csv-sink', preset: 'readings', folder: path.join(out, id), wires: [[]] });
    const flow = (sinks: string[]): FlowNode[] => [
      { id: TAB, type: 'tab', label: 'partial deploy' },
      reliabilityBroker('smoke-partial-deploy'),
      at(reliabilityKafkaIn(topic, `${topic}-group`, { wires: [['validate'], [], []] })),
      at({ id: 'validate', type: 'smoke-sensor-validate', wires: [sinks, []] }),
      ...sinks.map(sink),
    ];
    userDir = createUserDir({ flow: flow(['csvA']) });
    nr = new NodeRedChild(userDir);
    await nr.start();

    // "Modified Nodes": validate is rewired and B is new; A is not touched.
    const partial = await nr.api('POST', '/flows', flow(['csvA', 'csvB']), { 'Node-RED-Deployment-Type': 'nodes' });
    assert.equal(partial.status, 204, partial.text);
    await deployed(nr, 2);
    assert.equal(warnings(nr.log(), 'csvA').length, 1, `A's warning in the log:\n${nr.log().slice(-3000)}`);
    assert.deepEqual(warnings(nr.log(), 'csvB'), [], 'B started with the new flow');
    assert.deepEqual(warnings(nr.log(), 'validate'), [], 'validate restarted with the new flow');

    const full = await nr.api('POST', '/flows', flow(['csvA', 'csvB']), { 'Node-RED-Deployment-Type': 'full' });
    assert.equal(full.status, 204, full.text);
    await deployed(nr, 3);
    assert.equal(warnings(nr.log(), 'csvA').length, 1, 'no second warning: the full deploy started A with the flow as it is');
    assert.doesNotMatch(nr.log(), /TypeError/, 'no error from the deploys');
  });
});
