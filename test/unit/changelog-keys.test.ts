/** Task keys (nodes/lib/changelog.ts taskKey): cached per topic and partition, always `topic:partition`. */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { taskKey } from '../../nodes/lib/changelog';

describe('changelog > task keys', function () {
  it('is `topic:partition` for any topic and any number, asked once or many times (property)', function () {
    const partition = fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.integer(), fc.double(), fc.constantFrom(-1, -0, 0.5, 4095, 4096, 2 ** 31, NaN, Infinity));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.oneof(fc.string(), fc.constantFrom('readings', 'a:b', '')), partition), { minLength: 1, maxLength: 50 }), (pairs) => {
        for (let round = 0; round < 2; round++) for (const [topic, p] of pairs) assert.equal(taskKey(topic, p), `${topic}:${p}`);
      }),
      { numRuns: 500 },
    );
  });

  it('stays right past the number of topics it keeps (the cache starts again)', function () {
    for (let i = 0; i < 3000; i++) assert.equal(taskKey(`topic-${i}`, i % 7), `topic-${i}:${i % 7}`);
    for (let i = 0; i < 3000; i += 97) assert.equal(taskKey(`topic-${i}`, i % 7), `topic-${i}:${i % 7}`);
  });
});
