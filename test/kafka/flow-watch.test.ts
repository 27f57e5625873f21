/**
 * A partial deploy ("Modified Nodes") restarts only the nodes whose own settings or wires changed; the
 * others keep what they derived from the flow at their start (nodes/nr/flow-watch.ts). A node whose
 * derived role changed warns, once, so that the user deploys in full. Real broker, real Node-RED runtime
 * (node-red-node-test-helper), Node-RED's own partial deploy.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createTopic, requireKafka, uniqueTopic } from './broker';
import { brokerModule, brokerNode, helper, inModule, kafkaInNode, nodeModule } from './_kafka-nodes';
import { deployInto } from '../_deploy';

// The text the nodes warn with (the shared catalogue, as the runtime loads it).
const CHANGED = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'nodes', 'kafka-broker', 'locales', 'en-US', 'kafka-broker.json'), 'utf8'))['smoke-kafka-broker'].common.warn['flow-changed'] as string;

/** The flow-changed warnings node `id` has logged (the helper spies on warn for all nodes: its own calls). */
function flowWarnings(id: string): string[] {
  const node = helper.getNode(id) as { warn: { getCalls(): { thisValue: unknown; args: unknown[] }[] } };
  return node.warn
    .getCalls()
    .filter((c) => c.thisValue === node)
    .map((c) => String(c.args[0]))
    .filter((w) => w === CHANGED);
}

describe('nodes > a partial deploy that changes the flow around a running node', function () {
  this.timeout(60_000);
  let dir = '';

  before(async function () {
    await requireKafka(this);
  });

  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-flow-watch-'));
  });

  afterEach(async function () {
    await helper.unload();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a csv sink that now shares its records with a second sink warns once; a full deploy starts it anew, without a warning', async function () {
    const topic = uniqueTopic('flow-watch');
    await createTopic(topic, 1);
    // One tab, as the editor deploys it (a partial deploy rewires by tab).
    const tab = { id: 'tab', type: 'tab', label: 'flow' };
    const kafkaIn = { ...kafkaInNode(topic, { commit: 'after-sink' }), z: 'tab', wires: [['validate'], [], []] };
    const validate = (sinks: string[]) => ({ id: 'validate', type: 'smoke-sensor-validate', z: 'tab', wires: [sinks, []] });
    const sink = (id: string) => ({ id, type: 'smoke-csv-sink', z: 'tab', preset: 'readings', folder: path.join(dir, id), wires: [] });
    const modules = [brokerModule, inModule, nodeModule('sensor-validate'), nodeModule('csv-sink')];
    await helper.load(modules, [tab, brokerNode(), kafkaIn, validate(['a']), sink('a')]);
    const first = helper.getNode('a');

    // A renamed sink alone: validate's and a's roles are as they were.
    await deployInto(helper, [tab, brokerNode(), kafkaIn, validate(['a']), { ...sink('a'), name: 'renamed' }], 'nodes');
    assert.notEqual(helper.getNode('a'), first, 'a itself changed, so Node-RED restarted it');
    const a = helper.getNode('a');
    // A second sink beside it: validate (its wires changed) and b start; a keeps running.
    await deployInto(helper, [tab, brokerNode(), kafkaIn, validate(['a', 'b']), { ...sink('a'), name: 'renamed' }, sink('b')], 'nodes');
    assert.equal(helper.getNode('a'), a, 'a partial deploy left a running');
    // flows:started has been emitted when the deploy resolves, and the nodes' checks run in that emit.
    assert.deepEqual(flowWarnings('a'), [CHANGED], 'a now shares its records with b, and says it runs on the old flow');
    assert.deepEqual(flowWarnings('b'), [], 'b started with the new flow');
    assert.deepEqual(flowWarnings('validate'), [], 'validate restarted with the new flow');

    // Once only, however many deploys follow.
    await deployInto(helper, [tab, brokerNode(), kafkaIn, validate(['a', 'b']), { ...sink('a'), name: 'renamed' }, { ...sink('b'), name: 'b2' }], 'nodes');
    assert.equal(flowWarnings('a').length, 1);

    await deployInto(helper, [tab, brokerNode(), kafkaIn, validate(['a', 'b']), { ...sink('a'), name: 'renamed' }, sink('b')], 'full');
    assert.notEqual(helper.getNode('a'), a, 'a full deploy restarts every node');
    assert.deepEqual(flowWarnings('a'), [], 'started with the flow as it is');
  });
});
