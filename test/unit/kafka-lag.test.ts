import { strict as assert } from 'node:assert';
import { addTopicLag, partitionLag, type Lag } from '../../nodes/lib/kafka-lag';

const p = (partition: number, low: number, high: number, committed: number) => ({ partition, low, high, committed });

describe('kafka-lag > lag of a partition', function () {
  it('counts the records after the committed offset', function () {
    assert.equal(partitionLag(p(0, 0, 120, 100)), 20);
  });

  it('counts from the log start when the group has committed nothing', function () {
    assert.equal(partitionLag(p(0, 30, 120, -1)), 90);
  });

  it('is 0, not negative, when the committed offset is past the log end (an older log of the topic)', function () {
    assert.equal(partitionLag(p(0, 0, 18, 260)), 0);
  });
});

describe("kafka-lag > lag of a member's partitions of a topic", function () {
  const offsets = [p(0, 0, 50, 40), p(1, 0, 70, 40), p(2, 0, 10, -1)];

  it('sums the partitions it owns and records each under its topic', function () {
    const lag: Lag = {};
    assert.equal(addTopicLag(lag, 'smoke', offsets, [0, 2]), 20);
    assert.deepEqual(lag, { smoke: { 0: 10, 2: 10 } });
  });

  it('takes every partition when the assignment is not known', function () {
    const lag: Lag = {};
    assert.equal(addTopicLag(lag, 'smoke', offsets, undefined), 50);
    assert.deepEqual(lag, { smoke: { 0: 10, 1: 30, 2: 10 } });
  });

  it('adds nothing for a topic that does not exist, or none of whose partitions it owns', function () {
    const lag: Lag = { other: { 0: 5 } };
    assert.equal(addTopicLag(lag, 'gone', null, undefined), 0);
    assert.equal(addTopicLag(lag, 'smoke', offsets, [7]), 0);
    assert.deepEqual(lag, { other: { 0: 5 } });
  });
});
