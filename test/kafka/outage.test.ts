import { strict as assert } from 'node:assert';
import { brokerAvailable, createTopic, requireKafka, startBroker, stopBroker, uniqueTopic } from './broker';
import {
  brokerModule,
  brokerNode,
  collect,
  endOffsets,
  helper,
  inModule,
  kafkaInNode,
  outModule,
  readings,
  recordStatus,
  sinks,
  sleep,
  waitFor,
} from './_kafka-nodes';

const OUTAGE_MS = 10_000;
const RATE_PER_S = 200;

/**
 * The broker goes away for 10 s in the middle of a stream (kafka out → broker → kafka in) and comes back.
 * Other suites share the broker: the outage is kept short and the broker is always restarted.
 */
describe('kafka in / kafka out > broker outage', function () {
  this.timeout(180_000);

  before(async function () {
    await requireKafka(this);
  });

  afterEach(async function () {
    await helper.unload();
  });

  it('goes red while the broker is stopped for 10 s, green again after, and every record written once and consumed', async function () {
    const topic = uniqueTopic('outage');
    await createTopic(topic, 4);
    const data = readings(4000);
    const flow = [
      brokerNode(),
      { id: 'src', type: 'helper', wires: [['kout']] },
      { id: 'kout', type: 'smoke-kafka-out', broker: 'broker', topic, keyProperty: 'payload.device_id', idempotent: true, backoffInitial: 200, backoffMax: 2000 },
      // a short session: after the restart the broker still counts the crashed member until it expires
      kafkaInNode(topic, { sessionTimeout: 6000 }),
      ...sinks(),
    ];
    await helper.load([brokerModule, inModule, outModule], flow);
    const inStatus = recordStatus(helper.getNode('in'));
    const outErrors: unknown[] = [];
    helper.getNode('kout').on('call:error', (c: { args: unknown[] }) => outErrors.push(c.args[0]));
    const got = collect();
    await waitFor(() => inStatus.some((s) => s.fill === 'green'), 15_000, () => JSON.stringify(inStatus));

    // a steady stream into kafka out, through the outage
    let sent = 0;
    const src = helper.getNode('src');
    const pump = setInterval(() => {
      for (let i = 0; i < RATE_PER_S / 10 && sent < data.length; i++) src.send({ payload: data[sent++] });
    }, 100);

    let stopped = false;
    try {
      await waitFor(() => got.count() >= 300, 30_000, () => `${got.count()} consumed before the outage`);
      stopped = true;
      const t0 = Date.now();
      await stopBroker();
      const stopMs = Date.now() - t0;
      const redAt = Date.now();
      // "broker down", or with its cause ("broker down: refused") once reconnects are refused
      await waitFor(() => inStatus.some((s) => s.fill === 'red' && /^broker down/.test(s.text ?? '')), 15_000, () => JSON.stringify(inStatus.slice(-3)));
      await sleep(Math.max(0, OUTAGE_MS - (Date.now() - redAt)));
      const consumedDuringOutage = got.count();
      const redIndex = inStatus.findIndex((s) => s.fill === 'red');
      const t1 = Date.now();
      await startBroker();
      const startMs = Date.now() - t1;
      stopped = false;
      await waitFor(() => sent === data.length, 60_000, () => `${sent}/${data.length} sent into kafka out`);
      await waitFor(() => distinct(got).size === data.length, 60_000, () => `${distinct(got).size}/${data.length} consumed`);
      // Its status is throttled: green follows the reconnect within half a second.
      await waitFor(() => inStatus.slice(redIndex).some((s) => s.fill === 'green'), 10_000, () => JSON.stringify(inStatus.slice(-3)));

      assert.ok(consumedDuringOutage < sent, 'the outage really held records back');
      assert.ok(inStatus.slice(redIndex).some((s) => s.fill === 'green'), 'green again after the broker came back');
      assert.deepEqual(outErrors.map(String), [], 'kafka out failed no message');
      // the topic holds each reading exactly once (the idempotent producer's retries wrote nothing twice)
      const ends = await endOffsets(topic);
      assert.equal(Object.values(ends).reduce((a, b) => a + b, 0), data.length, 'records in the topic');
      const offsets = new Set(got.records.map((m) => `${(m.kafka as { partition: number }).partition}/${(m.kafka as { offset: number }).offset}`));
      assert.equal(offsets.size, data.length, 'every record of the topic consumed');
      assert.equal(distinct(got).size, data.length, 'every reading consumed');
      // auto commit is at-least-once: records emitted while the broker was shutting down (its commits
      // failing) come again, with the same offsets (checked above); nothing older may
      const redelivered = got.count() - data.length;
      const bound = Math.ceil(RATE_PER_S * (stopMs / 1000 + 2));
      assert.ok(redelivered <= bound, `${redelivered} records delivered twice (at most ${bound} were read while the broker stopped)`);
      console.log(`      (broker stop ${stopMs} ms, start ${startMs} ms; ${redelivered} records emitted just before the outage delivered again)`);
    } finally {
      clearInterval(pump);
      if (stopped || !(await brokerAvailable(3000))) await startBroker();
    }
  });
});

function distinct(got: ReturnType<typeof collect>): Set<number> {
  return new Set(got.records.map((m) => (m.payload as { seq: number }).seq));
}
