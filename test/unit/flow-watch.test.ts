/**
 * nodes/nr/flow-watch.ts with a stand-in runtime (an EventEmitter as RED.events) and stand-in nodes: how
 * many listeners it adds, what a closed node still gets, and when it warns. The behaviour in Node-RED
 * itself: test/kafka/flow-watch.test.ts, test/reliability/partial-deploy.test.ts.
 */
import { strict as assert } from 'node:assert';
import { EventEmitter } from 'node:events';
import { afterEveryDeploy, watchFlowAround } from '../../nodes/nr/flow-watch';
import { shared } from '../../nodes/nr/i18n';
import type { RED } from '../../nodes/nr/types';

type FakeNode = EventEmitter & { warnings: string[]; warn(text: string): void };

function fakeNode(): FakeNode {
  const n = new EventEmitter() as FakeNode;
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
