import { strict as assert } from 'node:assert';
import { FETCH_LARGE, FETCH_SMALL, defaultFetchSizes, fetchSizeProblems } from '../../nodes/lib/kafka-fetch';

describe('kafka-fetch', function () {
  it('batch mode fetches large (50 MB, 10 MB per partition), single mode as kafkajs does (10 MB, 1 MB)', function () {
    assert.deepEqual(defaultFetchSizes('batch'), { maxBytes: 50 * 1024 * 1024, maxBytesPerPartition: 10 * 1024 * 1024 });
    assert.deepEqual(defaultFetchSizes('single'), { maxBytes: 10 * 1024 * 1024, maxBytesPerPartition: 1024 * 1024 });
    assert.ok(Object.isFrozen(FETCH_LARGE) && Object.isFrozen(FETCH_SMALL));
  });

  it("a partition's share may not exceed the whole fetch; equal is fine", function () {
    assert.deepEqual(fetchSizeProblems(2048, 2048), []);
    assert.deepEqual(fetchSizeProblems(1_048_576, 2_097_152), ['fetch max bytes per partition (2097152) must not exceed fetch max bytes (1048576)']);
  });
});
