import { strict as assert } from 'node:assert';
import { brokerModule, brokerNode, hasCloseHandler, hasInputHandler, helper, inModule, kafkaInNode, outModule, recordStatus, sinks, waitFor } from './_kafka-nodes';

/** Settings and their defaults: no broker needed (nothing here connects anywhere that answers). */
describe('kafka nodes > settings', function () {
  this.timeout(20_000);

  afterEach(async function () {
    delete process.env.SMOKE_TEST_BROKERS;
    await helper.unload();
  });

  it('broker: ${KAFKA_BOOTSTRAP_SERVERS} by default, localhost:9092 for a blank setting when the variable is unset (CONTRACT §7)', async function () {
    const saved = process.env.KAFKA_BOOTSTRAP_SERVERS;
    try {
      process.env.KAFKA_BOOTSTRAP_SERVERS = 'k1:9092, k2:9093';
      await helper.load([brokerModule], [{ id: 'b1', type: 'smoke-kafka-broker' }, { id: 'b2', type: 'smoke-kafka-broker', brokers: '${KAFKA_BOOTSTRAP_SERVERS}' }]);
      for (const id of ['b1', 'b2']) assert.deepEqual(helper.getNode(id).brokers, ['k1:9092', 'k2:9093']);
      await helper.unload();
      delete process.env.KAFKA_BOOTSTRAP_SERVERS;
      await helper.load([brokerModule], [{ id: 'b3', type: 'smoke-kafka-broker' }, { id: 'b4', type: 'smoke-kafka-broker', brokers: ' ' }]);
      for (const id of ['b3', 'b4']) assert.deepEqual(helper.getNode(id).brokers, ['localhost:9092']);
    } finally {
      if (saved === undefined) delete process.env.KAFKA_BOOTSTRAP_SERVERS;
      else process.env.KAFKA_BOOTSTRAP_SERVERS = saved;
    }
  });

  it('broker: a setting naming ${KAFKA_BOOTSTRAP_SERVERS} (as the examples do) with the variable unset: no fallback to localhost, one error says what to set, the users show "broker config" and connect nowhere', async function () {
    // (Set but empty, Node-RED itself substitutes the whole-property reference: the setting is then blank.)
    const saved = process.env.KAFKA_BOOTSTRAP_SERVERS;
    try {
      {
        delete process.env.KAFKA_BOOTSTRAP_SERVERS;
        const flow = [{ id: 'broker', type: 'smoke-kafka-broker', brokers: '${KAFKA_BOOTSTRAP_SERVERS}' }, kafkaInNode('smoke_stream'), { id: 'kout', type: 'smoke-kafka-out', broker: 'broker', topic: 't' }, ...sinks()];
        await helper.load([brokerModule, inModule, outModule], flow);
        const b = helper.getNode('broker');
        assert.deepEqual(b.brokers, []);
        assert.equal(b.kafka, null, 'no client is built');
        assert.deepEqual(b.problems, [
          'no brokers: KAFKA_BOOTSTRAP_SERVERS is not set (set it in the environment of Node-RED, or type the brokers, host:port, into the kafka broker node)',
        ]);
        const errors = helper
          .log()
          .args.map((a: unknown[]) => a[0] as { level: number; msg?: unknown; id?: string })
          .filter((e: { level: number; id?: string }) => e.level === helper.log().ERROR && e.id === 'broker');
        assert.equal(errors.length, 1, 'one error line from the broker node');
        assert.match(String(errors[0].msg), /KAFKA_BOOTSTRAP_SERVERS is not set/);
        assert.equal(hasCloseHandler(helper.getNode('in')), false, 'kafka in did not start');
        assert.equal(hasInputHandler(helper.getNode('kout')), false, 'kafka out takes no input');
        for (const id of ['in', 'kout']) assert.deepEqual(helper.getNode(id).status.lastCall.args[0], { fill: 'red', shape: 'ring', text: 'broker config' });
        await helper.unload();
      }
    } finally {
      if (saved === undefined) delete process.env.KAFKA_BOOTSTRAP_SERVERS;
      else process.env.KAFKA_BOOTSTRAP_SERVERS = saved;
    }
  });

  it('broker: an unusable setting is reported once and every user shows "broker config" without connecting', async function () {
    const flow = [
      brokerNode('broker', { brokers: 'no-port-here', sasl: 'plain' }),
      kafkaInNode('smoke_stream'),
      { id: 'kout', type: 'smoke-kafka-out', broker: 'broker', topic: 't' },
      ...sinks(),
    ];
    await helper.load([brokerModule, inModule, outModule], flow);
    const b = helper.getNode('broker');
    assert.ok(b.problems.some((p: string) => /not host:port/.test(p)));
    assert.ok(b.problems.some((p: string) => /needs a username and a password/.test(p)));
    assert.equal(b.kafka, null, 'no client is built from unusable settings');
    assert.equal(hasCloseHandler(helper.getNode('in')), false, 'kafka in did not start');
    assert.equal(hasInputHandler(helper.getNode('kout')), false, 'kafka out takes no input');
    for (const id of ['in', 'kout']) {
      assert.deepEqual(helper.getNode(id).status.lastCall.args[0], { fill: 'red', shape: 'ring', text: 'broker config' });
    }
  });

  it('kafka in: a bad topic, a missing broker and contradictory timeouts give a red status, an error and no consumer', async function () {
    const flow = [
      brokerNode(),
      kafkaInNode('bad topic!', { id: 'in', sessionTimeout: 1000, heartbeatInterval: 3000 }),
      { ...kafkaInNode('smoke_stream', {}, 'in2'), broker: 'missing' },
      { id: 'in3', type: 'smoke-kafka-in', broker: 'broker', mode: 'bulk', commit: 'sometimes' },
      { id: 'in4', type: 'smoke-kafka-in', broker: 'broker', fetchMaxBytes: 1_048_576, fetchMaxBytesPerPartition: 2_097_152 },
      { id: 'in5', type: 'smoke-kafka-in', broker: 'broker', fetchMaxBytes: 100 },
      ...sinks(),
    ];
    await helper.load([brokerModule, inModule], flow);
    for (const id of ['in', 'in2', 'in3', 'in4', 'in5']) {
      const n = helper.getNode(id);
      assert.equal(hasCloseHandler(n), false, `${id} did not start`);
      assert.deepEqual(n.status.lastCall.args[0], { fill: 'red', shape: 'ring', text: 'bad config' });
    }
    // errors are raised while the flow starts; the helper's log spy holds them
    const logged = helper
      .log()
      .args.map((a: unknown[]) => a[0] as { level: number; msg?: unknown; id?: string })
      .filter((e: { level: number }) => e.level === helper.log().ERROR);
    const text = (id: string) => logged.filter((e: { id?: string }) => e.id === id).map((e: { msg?: unknown }) => String(e.msg)).join(' ');
    assert.match(text('in'), /"bad topic!" is not a valid topic name/);
    assert.match(text('in'), /heartbeatInterval must be below sessionTimeout/);
    assert.match(text('in2'), /no kafka broker configured/);
    assert.match(text('in3'), /mode must be one of single, batch/);
    assert.match(text('in3'), /commit must be one of auto, after-sink/);
    assert.match(text('in4'), /fetch max bytes per partition \(2097152\) must not exceed fetch max bytes \(1048576\)/);
    assert.match(text('in5'), /fetchMaxBytes/);
  });

  it('kafka in: omitted settings take the contract defaults (smoke_stream, smoke_detection_group) and start', async function () {
    await helper.load([brokerModule, inModule], [brokerNode('broker', { brokers: '127.0.0.1:1' }), { id: 'in', type: 'smoke-kafka-in', broker: 'broker', wires: [] }]);
    const status = recordStatus(helper.getNode('in'));
    assert.equal(hasCloseHandler(helper.getNode('in')), true, 'started');
    await waitFor(() => status.some((s) => s.fill === 'red'), 10_000, () => JSON.stringify(status));
  });
});
