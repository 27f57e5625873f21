import { strict as assert } from 'node:assert';
import { TopicWatch, type PartitionOffsets } from '../../nodes/lib/topic-watch';

const p = (partition: number, high: number, committed = -1, low = 0): PartitionOffsets => ({ partition, high, low, committed });

describe('topic-watch > a deleted or recreated topic', function () {
  it('says nothing while offsets only grow, or when a topic that was never seen does not exist', function () {
    const w = new TopicWatch();
    assert.equal(w.observe('t', null), null, 'not created yet');
    assert.equal(w.observe('t', [p(0, 100, 50), p(1, 80, 80)]), null);
    assert.equal(w.observe('t', [p(0, 150, 150), p(1, 80, 80)]), null);
    assert.equal(w.observe('t', [p(0, 150, 150, 120), p(1, 90, 80, 85)]), null, 'retention moving the log start is not a reset');
  });

  it('reports a recreated topic (offsets went back) once, with the records not yet consumed at the last check', function () {
    const w = new TopicWatch();
    w.observe('t', [p(0, 260, 200), p(1, 140, 100)]);
    const ev = w.observe('t', [p(0, 9), p(1, 0), p(2, 9), p(3, 12)]);
    assert.deepEqual(ev, {
      kind: 'recreated',
      topic: 't',
      unread: 100,
      back: [
        { partition: 0, from: 260, to: 9 },
        { partition: 1, from: 140, to: 0 },
      ],
      partitionsBefore: 2,
      partitionsNow: 4,
    });
    assert.equal(w.observe('t', [p(0, 12, 9), p(1, 3), p(2, 9), p(3, 12)]), null, 'once per occurrence');
  });

  it('reports a partition that disappeared', function () {
    const w = new TopicWatch();
    w.observe('t', [p(0, 10, 10), p(1, 10, 10)]);
    const ev = w.observe('t', [p(0, 12, 10)]);
    assert.equal(ev?.kind, 'recreated');
    assert.deepEqual(ev?.kind === 'recreated' && ev.back, [{ partition: 1, from: 10, to: 0 }]);
  });

  it('reports a deletion once, and its return without a second report', function () {
    const w = new TopicWatch();
    w.observe('t', [p(0, 500, 300)]);
    assert.deepEqual(w.observe('t', null), { kind: 'deleted', topic: 't', unread: 200 });
    assert.equal(w.observe('t', null), null, 'still missing: already reported');
    assert.deepEqual(w.observe('t', [p(0, 3)]), { kind: 'returned', topic: 't' });
    assert.equal(w.observe('t', [p(0, 5, 3)]), null);
  });

  it('on the first look, takes a committed offset above the log end for a position in an older log (once)', function () {
    const w = new TopicWatch();
    const ev = w.observe('t', [p(0, 18, 260), p(1, 6, 6)]);
    assert.equal(ev?.kind, 'recreated');
    assert.deepEqual(ev?.kind === 'recreated' && ev.back, [{ partition: 0, from: 260, to: 18 }]);
    // the stale commit is still there until the consumer commits on the new log: not a new occurrence
    assert.equal(w.observe('t', [p(0, 20, 260), p(1, 6, 6)]), null);
  });

  it('keeps topics apart', function () {
    const w = new TopicWatch();
    w.observe('a', [p(0, 100)]);
    w.observe('b', [p(0, 5)]);
    assert.equal(w.observe('b', [p(0, 6)]), null);
    assert.equal(w.observe('a', [p(0, 1)])?.kind, 'recreated');
  });
});
