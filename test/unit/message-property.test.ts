import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import * as util from '@node-red/util';
import { propertyReader } from '../../nodes/nr/message-property';
import type { RED } from '../../nodes/nr/types';

const red = { util: util.util } as unknown as RED;
const { getMessageProperty } = util.util as unknown as { getMessageProperty(msg: object, expr: string): unknown };

/** What reading gives: the value, or the error's message. */
function outcome(read: () => unknown): { value?: unknown; error?: string } {
  try {
    return { value: read() };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

const EXPRESSIONS = ['payload', 'msg.payload', 'payload.deviceId', 'msg.payload.deviceId', 'payload.a.b', 'payload["device id"]', 'payload.list[1]', 'payload.list[1].x', 'topic', 'payload[msg.which]', 'a.b.c'];

describe('message-property', function () {
  it("reads what Node-RED's getMessageProperty reads, or fails as it does (property)", function () {
    const leaf = fc.oneof(fc.constant(undefined), fc.constant(null), fc.integer(), fc.string({ maxLength: 3 }), fc.boolean());
    const value = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, leaf, fc.dictionary(fc.constantFrom('deviceId', 'a', 'b', 'x', 'device id', 'list'), tie('v'), { maxKeys: 4 }), fc.array(tie('v'), { maxLength: 3 })),
    })).v;
    const message = fc.record({ payload: value, topic: value, which: fc.constantFrom('deviceId', 'a', 'nothing'), a: value }, { requiredKeys: [] });
    fc.assert(
      fc.property(message, fc.constantFrom(...EXPRESSIONS), (msg, expr) => {
        const read = propertyReader(red, expr);
        assert.ok(read !== null);
        assert.deepEqual(outcome(() => read(msg)), outcome(() => getMessageProperty(msg, expr)));
      }),
      { numRuns: 2000 },
    );
  });

  it("reads an element of a message's property as Node-RED reads it inside the message (property)", function () {
    const element = fc.oneof(fc.constant(null), fc.integer(), fc.record({ deviceId: fc.oneof(fc.integer(), fc.string(), fc.constant(null)), a: fc.record({ b: fc.integer() }) }, { requiredKeys: [] }));
    fc.assert(
      fc.property(element, fc.constantFrom('deviceId', 'a.b', 'a["b"]', 'deviceId[msg.payload]'), (el, expr) => {
        const read = propertyReader(red, expr, 'payload');
        assert.ok(read !== null);
        assert.deepEqual(outcome(() => read(el as object)), outcome(() => getMessageProperty({ payload: el }, `payload.${expr}`)));
      }),
      { numRuns: 500 },
    );
  });

  it('is null for what is no property expression', function () {
    for (const expr of ['payload..x', 'payload.', '', 'a[', 'a["b]']) assert.equal(propertyReader(red, expr), null, expr);
  });
});
