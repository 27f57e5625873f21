/**
 * A partial deploy ("Modified Nodes") restarts only the nodes whose own settings or wires changed
 * (nodes/nr/flow-watch.ts). A node left running takes what it decides per message (a sink holding or
 * acknowledging records) from the flow as the deploy left it; what set up its state or exactly-once
 * positions it cannot change, and it warns once, so that the user deploys in full. Real broker, real
 * Node-RED runtime (node-red-node-test-helper), Node-RED's own partial deploy; with a real process and
 * a read-only file system: test/reliability/partial-deploy.test.ts.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createTopic, requireKafka, uniqueTopic } from './broker';
import { brokerModule, brokerNode, helper, inModule, kafkaInNode, nodeModule } from './_kafka-nodes';
import { deployInto } from '../_deploy';
import { callsOf } from '../nodes/_helper';
import { brokerRed } from '../nodes/_catalogues';

// The text the nodes warn with (the shared catalogue, as the runtime looks it up): set in before().
let CHANGED = '';

/** The flow-changed warnings node `id` has logged. */
function flowWarnings(id: string): string[] {
  return callsOf(helper.getNode(id), 'warn')
    .map((args) => String(args[0]))
    .filter((w) => w === CHANGED);
}

describe('nodes > a partial deploy that changes the flow around a running node', function () {
  this.timeout(60_000);
  let dir = '';
  let topic = '';
  // One tab, as the editor deploys it.
  const tab = { id: 'tab', type: 'tab', label: 'flow' };
  const kafkaIn = () => ({ ...kafkaInNode(topic, { commit: 'after-sink' }), z: 'tab', wires: [['validate'], [], []] });
  const validate = (sinks: string[]) => ({ id: 'validate', type: 'smoke-sensor-validate', z: 'tab', wires: [sinks, []] });
  const sink = (id: string, extra: Record<string, unknown> = {}) => ({ id, type: 'smoke-csv-sink', z: 'tab', preset: 'readings', folder: path.join(dir, id), wires: [], ...extra });
  const modules = () => [brokerModule, inModule, nodeModule('sensor-validate'), nodeModule('csv-sink')];

  before(async function () {
    await requireKafka(this);
    CHANGED = (await brokerRed())._('smoke-kafka-broker.common.warn.flow-changed');
  });

  beforeEach(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-flow-watch-'));
    topic = uniqueTopic('flow-watch');
    await createTopic(topic, 1);
  });

  afterEach(async function () {
    await helper.unload();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a csv sink left running beside a new second sink follows the new flow without a warning', async function () {
    await helper.load(modules(), [tab, brokerNode(), kafkaIn(), validate(['a']), sink('a')]);
    const a = helper.getNode('a');
    // validate (its wires changed) and b start; a keeps running, and holds its records for b from now on
    // (proven with a crash and a read-only b in test/reliability/partial-deploy.test.ts).
    await deployInto(helper, [tab, brokerNode(), kafkaIn(), validate(['a', 'b']), sink('a'), sink('b')], 'nodes');
    assert.equal(helper.getNode('a'), a, 'a partial deploy left a running');
    // flows:started has been emitted when the deploy resolves, and the nodes' checks run in that event.
    assert.deepEqual(['a', 'b', 'validate'].flatMap(flowWarnings), []);
  });

  it('a kafka in added upstream of a running csv sink: the sink warns once (its exactly-once positions follow the old flow); a full deploy starts it anew without a warning', async function () {
    await helper.load(modules(), [tab, brokerNode(), validate(['a']), sink('a')]);
    const a = helper.getNode('a');
    // kafka in is new; validate and a are not touched (nothing of theirs changed).
    await deployInto(helper, [tab, brokerNode(), kafkaIn(), validate(['a']), sink('a')], 'nodes');
    assert.equal(helper.getNode('a'), a, 'a partial deploy left a running');
    assert.deepEqual(flowWarnings('a'), [CHANGED], 'a is behind one kafka in now, and would be exactly-once had it started so');
    assert.deepEqual(flowWarnings('validate'), [], 'validate decides per message, from the new flow');

    // Once only, however many deploys follow.
    await deployInto(helper, [tab, brokerNode(), kafkaIn(), validate(['a']), sink('a'), sink('b')], 'nodes');
    assert.equal(flowWarnings('a').length, 1);

    await deployInto(helper, [tab, brokerNode(), kafkaIn(), validate(['a']), sink('a'), sink('b')], 'full');
    assert.notEqual(helper.getNode('a'), a, 'a full deploy restarts every node');
    assert.deepEqual(flowWarnings('a'), [], 'started with the flow as it is');
  });
});
