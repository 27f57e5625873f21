/**
 * nodes/nr/flow-watch.ts with a stand-in runtime (an EventEmitter as RED.events) and stand-in nodes: how
 * many listeners it adds, what a closed node still gets, and when it warns. The behaviour in Node-RED
 * itself: test/kafka/flow-watch.test.ts, test/reliability/partial-deploy.test.ts.
 */
import { strict as assert } from 'node:assert';
import { EventEmitter } from 'node:events';
import { afterEveryDeploy, stoppedBy, watchDeploys, watchFlowAround } from '../../nodes/nr/flow-watch';
import { nodesBehind } from '../../nodes/nr/flow-graph';
import { shared } from '../../nodes/nr/i18n';
import type { RED } from '../../nodes/nr/types';

type FakeNode = EventEmitter & { id: string; warnings: string[]; warn(text: string): void };

function fakeNode(id = 'n'): FakeNode {
  const n = new EventEmitter() as FakeNode;
  n.id = id;
  n.warnings = [];
  n.warn = (text: string) => n.warnings.push(text);
  return n;
}

const runtime = (): { RED: RED; events: EventEmitter; deploy: () => void } => {
  const events = new EventEmitter();
  return { RED: { events } as unknown as RED, events, deploy: () => events.emit('flows:started', {}) };
};

describe('flow-watch > after every deploy', function () {
  it('one listener on the runtime for any number of nodes; a closed node is not called again', function () {
    const { RED, events, deploy } = runtime();
    const calls = new Array(25).fill(0);
    const nodes = calls.map((_, i) => {
      const n = fakeNode();
      afterEveryDeploy(RED, n as never, () => calls[i]++);
      return n;
    });
    assert.equal(events.listenerCount('flows:started'), 1);
    deploy();
    nodes[3].emit('close');
    deploy();
    assert.equal(calls[3], 1);
    assert.deepEqual(calls.filter((c, i) => i !== 3 && c === 2).length, 24);
  });

  it('a callback that throws does not keep the others from running', function () {
    const { RED, deploy } = runtime();
    let ran = 0;
    afterEveryDeploy(RED, fakeNode() as never, () => {
      throw new Error('flow half replaced');
    });
    afterEveryDeploy(RED, fakeNode() as never, () => ran++);
    deploy();
    assert.equal(ran, 1);
  });
});

describe('flow-watch > warns when what a node derived changed', function () {
  it('warns once, on the first deploy after which the derived value differs, never when it is the same', function () {
    const { RED, deploy } = runtime();
    const node = fakeNode();
    let source = ['in'];
    watchFlowAround(RED, node as never, () => source);
    deploy();
    assert.deepEqual(node.warnings, []);
    source = ['in', 'in2'];
    deploy();
    source = [];
    deploy();
    assert.equal(node.warnings.length, 1);
    // the catalogue's text (its key where no Node-RED runtime has loaded the catalogues in this process)
    assert.equal(node.warnings[0], shared('smoke-kafka-broker.common.warn.flow-changed'));
  });
});

describe('flow-watch > partial deploys that leave a node running', function () {
  it('the nodes a deploy stops, as Node-RED chooses them by its type', function () {
    const diff = { changed: ['c'], removed: ['r'], rewired: ['w'], linked: ['l'] };
    assert.deepEqual(stoppedBy({ type: 'nodes', diff }), ['c', 'r']);
    assert.deepEqual(stoppedBy({ type: 'flows', diff }), ['c', 'r', 'w', 'l']);
    assert.equal(stoppedBy({ type: 'full', diff }), 'all');
    assert.equal(stoppedBy({ type: 'nodes' }), 'all', 'no diff: nothing to go by');
    assert.equal(stoppedBy({}), 'all');
  });

  it('tells the node whether nodes behind it stop (in the flows before the deploy), then that the flows started; not when it stops itself', function () {
    const { RED, events } = runtime();
    const node = fakeNode('kin');
    let behind = new Set(['validate', 'sink']);
    const heard: string[] = [];
    watchDeploys(RED, node as never, () => behind, { stopping: (b) => heard.push(`stopping ${b}`), started: () => heard.push('started') });
    const deploy = (type: string, changed: string[], removed: string[] = [], after?: Set<string>): void => {
      events.emit('flows:stopping', { type, diff: { changed, removed, rewired: [], linked: [] } });
      if (after) behind = after;
      events.emit('flows:started', { type });
    };
    deploy('nodes', ['elsewhere']);
    deploy('nodes', ['validate'], ['sink'], new Set(['validate', 'sink2']));
    // the sink removed before is no longer behind it: the flows as the last deploy left them count
    deploy('nodes', [], ['sink']);
    deploy('nodes', ['sink2']);
    deploy('nodes', ['kin', 'validate']);
    deploy('full', ['validate']);
    events.emit('flows:started', {});
    assert.deepEqual(heard, ['stopping false', 'started', 'stopping true', 'started', 'stopping false', 'started', 'stopping true', 'started']);
    node.emit('close');
    deploy('nodes', ['validate']);
    assert.equal(heard.length, 8, 'a closed node hears nothing more');
  });

  it('the nodes behind a node: along every output, through link out and link in, not through disabled nodes', function () {
    type Def = { id: string; type: string; wires?: string[][]; links?: string[]; d?: boolean };
    const defs: Def[] = [
      { id: 'in', type: 'smoke-kafka-in', wires: [['validate'], ['rejects'], []] },
      { id: 'validate', type: 'smoke-sensor-validate', wires: [['out'], []] },
      { id: 'out', type: 'link out', links: ['linkin'], wires: [] },
      { id: 'linkin', type: 'link in', wires: [['sink', 'off']] },
      { id: 'sink', type: 'smoke-csv-sink', wires: [[]] },
      { id: 'off', type: 'function', d: true, wires: [['hidden']] },
      { id: 'hidden', type: 'smoke-csv-sink', wires: [[]] },
      { id: 'rejects', type: 'smoke-csv-sink', wires: [['in']] },
      { id: 'apart', type: 'smoke-csv-sink', wires: [[]] },
    ];
    const red = { nodes: { eachNode: (cb: (n: Def) => void) => defs.forEach(cb) } } as unknown as RED;
    assert.deepEqual([...nodesBehind(red, 'in')].sort(), ['linkin', 'out', 'rejects', 'sink', 'validate']);
    assert.deepEqual([...nodesBehind(red, 'sink')], []);
    assert.deepEqual([...nodesBehind(red, 'gone')], []);
  });
});
