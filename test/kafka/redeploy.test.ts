import { strict as assert } from 'node:assert';
import { createTopic, requireKafka, uniqueTopic } from './broker';
import {
  brokerModule,
  brokerNode,
  collect,
  groupMembers,
  helper,
  inModule,
  jsonMessages,
  kafkaInNode,
  outModule,
  produce,
  readings,
  recordStatus,
  sinks,
  sleep,
  waitFor,
} from './_kafka-nodes';

/** Open sockets and timers of this process (what a leaking consumer leaves behind). */
function resources(): { sockets: number; timers: number } {
  const info = process.getActiveResourcesInfo();
  return { sockets: info.filter((r) => r === 'TCPSocketWrap').length, timers: info.filter((r) => r === 'Timeout').length };
}

describe('kafka in > redeploys', function () {
  this.timeout(120_000);

  before(async function () {
    await requireKafka(this);
  });

  afterEach(async function () {
    await helper.unload();
  });

  it('after 20 redeploys in a row the group has exactly one member, and no socket or timer leaks', async function () {
    const topic = uniqueTopic('redeploy');
    await createTopic(topic, 4);
    await produce(topic, jsonMessages(readings(100)));
    const groupId = `${topic}-group`;
    const flow = [
      brokerNode(),
      kafkaInNode(topic, { groupId, commit: 'after-sink' }),
      { id: 'kout', type: 'smoke-kafka-out', broker: 'broker', topic },
      ...sinks(),
    ];
    // settle the process (earlier suites' clients) before taking the baseline
    await sleep(500);
    const before = resources();

    let got: ReturnType<typeof collect> | null = null;
    for (let i = 0; i < 20; i++) {
      await helper.load([brokerModule, inModule, outModule], flow);
      // listen before the last deployment can deliver (it may consume while we wait for its green status)
      if (i === 19) got = collect();
      // every other deploy is replaced while its consumer is still joining: the racy case
      if (i % 2 === 1) {
        const status = recordStatus(helper.getNode('in'));
        await waitFor(() => status.some((s) => s.fill === 'green'), 15_000, () => `deploy ${i}: ${JSON.stringify(status)}`);
      }
      if (i < 19) await helper.unload();
    }
    const last = got!;
    // nothing was ever acknowledged (no sink), so nothing was committed: the last deployment reads all 100
    await waitFor(() => last.count() >= 100, 15_000, () => `the last deployment consumes all 100 records (got ${last.count()})`);
    assert.equal(last.count(), 100);
    let g = await groupMembers(groupId);
    const deadline = Date.now() + 15_000;
    while (!(g.state === 'Stable' && g.members === 1) && Date.now() < deadline) {
      await sleep(250);
      g = await groupMembers(groupId);
    }
    assert.equal(g.state, 'Stable');
    assert.equal(g.members, 1, 'exactly one member after 20 redeploys');

    const during = resources();
    assert.ok(during.sockets > before.sockets, 'the running deployment holds connections (the measure sees them)');
    await helper.unload();
    let after = resources();
    const until = Date.now() + 10_000;
    while ((after.sockets > before.sockets || after.timers > before.timers) && Date.now() < until) {
      await sleep(200);
      after = resources();
    }
    assert.ok(after.sockets <= before.sockets, `sockets: ${before.sockets} before, ${during.sockets} while running, ${after.sockets} after`);
    assert.ok(after.timers <= before.timers, `timers: ${before.timers} before, ${after.timers} after`);
    g = await groupMembers(groupId);
    assert.equal(g.members, 0, 'the last deployment left the group on close');
  });
});
