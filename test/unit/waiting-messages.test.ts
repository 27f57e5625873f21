import { strict as assert } from 'node:assert';
import { WaitingMessages } from '../../nodes/lib/waiting-messages';

describe('waiting-messages > messages parked until their task is restored', function () {
  it("runs a task's messages in arrival order, once, and leaves other tasks' waiting", function () {
    const w = new WaitingMessages();
    const ran: string[] = [];
    w.add('t:0', () => ran.push('a'));
    w.add('t:1', () => ran.push('x'));
    w.add('t:0', () => ran.push('b'));
    w.run('t:0');
    assert.deepEqual(ran, ['a', 'b']);
    w.run('t:0');
    assert.deepEqual(ran, ['a', 'b'], 'run once');
    w.run('t:1');
    assert.deepEqual(ran, ['a', 'b', 'x']);
  });

  it('runs nothing for a task without waiting messages', function () {
    const w = new WaitingMessages();
    const ran: string[] = [];
    w.add('t:0', () => ran.push('a'));
    w.run('t:9');
    assert.deepEqual(ran, []);
  });

  it('runAll runs every task waiting when it starts, each in its order; a message parked meanwhile waits for the next run', function () {
    const w = new WaitingMessages();
    const ran: string[] = [];
    w.add('t:0', () => ran.push('a'));
    w.add('t:1', () => {
      ran.push('x');
      w.add('t:2', () => ran.push('late'));
    });
    w.add('t:0', () => ran.push('b'));
    w.runAll();
    assert.deepEqual(ran, ['a', 'b', 'x']);
    w.runAll();
    assert.deepEqual(ran, ['a', 'b', 'x', 'late']);
  });
});
