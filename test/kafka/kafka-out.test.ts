import { strict as assert } from 'node:assert';
import { deployInto } from '../_deploy';
import { callsOf } from '../nodes/_helper';
import { createTopic, requireKafka, uniqueTopic } from './broker';
import {
  brokerModule,
  brokerNode,
  catchModule,
  collect,
  completeModule,
  endOffsets,
  freePort,
  hasInputHandler,
  helper,
  inModule,
  kafkaInNode,
  loggedLines,
  outModule,
  recordStatus,
  sinks,
  waitFor,
  waitForCommitted,
  type FlowNode,
} from './_kafka-nodes';

interface Alert {
  type: string;
  severity: string;
  sensor: string;
  value: number;
  threshold: number;
  message: string;
  deviceId: string;
  timestamp: number;
  n: number;
}

function alerts(n: number, devices = 25): Alert[] {
  const t0 = Date.UTC(2026, 0, 1);
  return Array.from({ length: n }, (_, i) => ({
    type: 'THRESHOLD',
    severity: i % 3 === 0 ? 'CRITICAL' : 'HIGH',
    sensor: 'temperature',
    value: 50 + (i % 30),
    threshold: 50,
    message: `temperature ${50 + (i % 30)} > 50`,
    deviceId: `dev-${i % devices}`,
    timestamp: t0 + i * 1000,
    n: i,
  }));
}

/**
 * Nodes on a tab, as the editor saves them (a tab id and a position): Catch and Complete nodes work on
 * the nodes of their tab; without them every node would be taken for a config node.
 */
function onTab(tab: string, nodes: FlowNode[]): FlowNode[] {
  return [{ id: tab, type: 'tab' }, ...nodes.map((n) => ({ ...n, z: tab, x: 100, y: 100 }))];
}

/**
 * kafka out `kout` to `topic` on broker node `broker`, fed by helper `src`, with a Catch node for its tab and
 * a Complete node for it: the messages each passes on (failed, done), from now on.
 */
async function loadOut(topic: string, broker: FlowNode) {
  const flow = onTab('tab', [
    { id: 'src', type: 'helper', wires: [['kout']] },
    { id: 'kout', type: 'smoke-kafka-out', broker: 'broker', topic },
    { id: 'catch', type: 'catch', scope: null, wires: [['caught']] },
    { id: 'complete', type: 'complete', scope: ['kout'], wires: [['completed']] },
    { id: 'caught', type: 'helper' },
    { id: 'completed', type: 'helper' },
  ]);
  await helper.load([brokerModule, outModule, catchModule, completeModule], [broker, ...flow]);
  return { caught: caughtBy('caught'), completed: caughtBy('completed') };
}

/** Messages that reach helper node `id` (a Catch or Complete node's output), from now on. */
function caughtBy(id: string): Array<{ payload: unknown; error: { message: string; source: { id: string } } }> {
  const seen: Array<{ payload: unknown; error: { message: string; source: { id: string } } }> = [];
  helper.getNode(id).on('input', (msg: (typeof seen)[number]) => seen.push(msg));
  return seen;
}

function errorsOf(id: string): string[] {
  const seen: string[] = [];
  helper.getNode(id).on('call:error', (c: { args: unknown[] }) => seen.push(String(c.args[0])));
  return seen;
}

describe('kafka out', function () {
  this.timeout(60_000);

  before(async function () {
    await requireKafka(this);
  });

  afterEach(async function () {
    await helper.unload();
  });

  it('round-trips 10,000 alerts through kafka out → kafka in with their keys (arrays as batches, key per element)', async function () {
    const topic = uniqueTopic('out-roundtrip');
    await createTopic(topic, 4);
    const flow = [
      brokerNode(),
      { id: 'src', type: 'helper', wires: [['kout']] },
      { id: 'kout', type: 'smoke-kafka-out', broker: 'broker', topic, keyProperty: 'payload.deviceId', compression: 'gzip', idempotent: true },
      kafkaInNode(topic, { mode: 'batch' }),
      ...sinks(),
    ];
    await helper.load([brokerModule, outModule, inModule], flow);
    const errors = errorsOf('kout');
    const got = collect();
    const all = alerts(10_000);
    const src = helper.getNode('src');
    // 9,900 alerts in 99 batch messages of 100, and 100 single messages
    for (let i = 0; i < 9_900; i += 100) src.send({ payload: all.slice(i, i + 100) });
    for (let i = 9_900; i < 10_000; i++) src.send({ payload: all[i] });
    await waitFor(() => got.count() >= 10_000, 40_000, () => `${got.count()}/10000`);
    // Everything in the topic consumed and committed: an alert produced twice would have come before this.
    await waitForCommitted(`${topic}-group`, topic, await endOffsets(topic), 20_000);

    assert.deepEqual(errors, []);
    assert.equal(got.count(), 10_000);
    const byN = new Map<number, { alert: Alert; key: string; partition: number }>();
    for (const b of got.batches) {
      const k = b.kafka as { keys: string[]; partition: number };
      b.payload.forEach((p, i) => byN.set((p as Alert).n, { alert: p as Alert, key: k.keys[i], partition: k.partition }));
    }
    assert.equal(byN.size, 10_000, 'every alert exactly once');
    const partitionOfDevice = new Map<string, number>();
    for (const a of all) {
      const r = byN.get(a.n)!;
      assert.deepEqual(r.alert, a);
      assert.equal(r.key, a.deviceId, 'the record key is the alert device id');
      const p = partitionOfDevice.get(r.key) ?? r.partition;
      assert.equal(r.partition, p, 'one device, one partition');
      partitionOfDevice.set(r.key, p);
    }
    assert.ok(new Set(partitionOfDevice.values()).size > 1, 'devices spread over partitions');
  });

  // A produce request carries each partition's records as one batch, which the broker refuses whole when
  // it is larger than its max.message.bytes (1 MB by default) while it writes the other partitions' batches
  // of the same request; sent again, those would be written twice.
  it('keeps each produce request within the broker\'s message size: messages queued before it connected, 1.2 MB for one partition and a little for another, each record on the topic once', async function () {
    const topic = uniqueTopic('out-request-size');
    await createTopic(topic, 2);
    const { caught, completed } = await loadOut(topic, brokerNode());
    const src = helper.getNode('src');
    // Queued at once, before the producer connected: the first request takes as many as it may.
    const big = (part: number): unknown[] => Array.from({ length: 2000 }, (_, i) => ({ part, i, pad: 'x'.repeat(280) }));
    src.send({ key: 'dev-a', payload: big(0) });
    src.send({ key: 'dev-a', payload: big(1) });
    const small = ['dev-b', 'dev-c', 'dev-d', 'dev-e', 'dev-f', 'dev-g'];
    for (const key of small) src.send({ key, payload: { key } });
    await waitFor(() => completed.length + caught.length === 2 + small.length, 30_000, () => `${completed.length} sent, ${caught.length} refused`);
    assert.deepEqual(caught.map((m) => m.error.message), [], 'nothing refused');
    assert.equal(Object.values(await endOffsets(topic)).reduce((a, b) => a + b, 0), 4000 + small.length, 'each record on the topic once');
  });

  it('sends a message of 1.2 MB for one partition in parts within the broker\'s message size: done once, every record on the topic once', async function () {
    const topic = uniqueTopic('out-message-parts');
    await createTopic(topic, 2);
    const { caught, completed } = await loadOut(topic, brokerNode());
    helper.getNode('src').send({ key: 'dev-a', payload: Array.from({ length: 2000 }, (_, i) => ({ i, pad: 'x'.repeat(580) })) });
    await waitFor(() => completed.length + caught.length === 1, 30_000, () => 'the message done');
    assert.deepEqual(caught.map((m) => m.error.message), [], 'not refused');
    assert.equal(completed.length, 1, 'done once');
    assert.equal(Object.values(await endOffsets(topic)).reduce((a, b) => a + b, 0), 2000, 'every record on the topic once');
  });

  it('a message in parts that cannot be sent (broker unreachable, then close): one failure to Catch for the message, none to Complete', async function () {
    const port = await freePort();
    const { caught, completed } = await loadOut('nowhere', brokerNode('broker', { brokers: `127.0.0.1:${port}` }));
    const status = recordStatus(helper.getNode('kout'));
    helper.getNode('src').send({ key: 'dev-a', payload: Array.from({ length: 2000 }, (_, i) => ({ i, pad: 'x'.repeat(580) })) });
    await waitFor(() => status.some((s) => /2\.0k queued/.test(s.text ?? '')), 10_000, () => JSON.stringify(status.slice(-3)));
    await helper.getNode('kout').close(false);
    await waitFor(() => caught.length === 1, 5000, () => `caught ${caught.length}`);
    assert.match(caught[0].error.message, /closed with 2,000 records \(1 messages\) not acknowledged/);
    assert.equal(completed.length, 0);
  });

  it('takes the topic from msg.topic and the key from msg.key when the node sets neither, and rejects a message without a topic', async function () {
    const topic = uniqueTopic('out-msgtopic');
    await createTopic(topic, 4);
    const flow = [
      brokerNode(),
      { id: 'src', type: 'helper', wires: [['kout']] },
      { id: 'kout', type: 'smoke-kafka-out', broker: 'broker', acks: '1' },
      kafkaInNode(topic),
      ...sinks(),
    ];
    await helper.load([brokerModule, outModule, inModule], flow);
    const errors = errorsOf('kout');
    const got = collect();
    const src = helper.getNode('src');
    src.send({ topic, key: 'dev-7', payload: { deviceId: 'dev-7', value: 1 } });
    src.send({ topic, key: 'dev-8', payload: 'plain text' });
    src.send({ payload: { no: 'topic' } });
    await waitFor(() => got.count() + got.invalid.length === 2 && errors.length === 1, 20_000, () => `${got.count()} records, errors ${errors}`);
    assert.equal(got.records[0].key, 'dev-7');
    assert.deepEqual(got.records[0].payload, { deviceId: 'dev-7', value: 1 });
    // text that is not JSON arrives on kafka in's output 2, as sent
    assert.equal(got.invalid[0]?.payload, 'plain text');
    assert.match(errors[0], /no topic/);

    // a stream of messages without a topic is one condition: one error, not one per message
    for (let i = 0; i < 100; i++) src.send({ payload: { no: 'topic', i } });
    src.send({ topic, key: 'dev-9', payload: { deviceId: 'dev-9', value: 2 } }); // after them on the same wire
    await waitFor(() => got.count() === 2, 20_000, () => `${got.count()} records`);
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.equal(loggedLines('kout').length, 1, loggedLines('kout').join('\n'));
  });

  it('queues while the broker is unreachable, fails what does not fit, and fails the rest on close: nothing silently dropped', async function () {
    const port = await freePort();
    const flow = [
      brokerNode('broker', { brokers: `127.0.0.1:${port}` }),
      ...onTab('tab', [
        { id: 'src', type: 'helper', wires: [['kout']] },
        { id: 'kout', type: 'smoke-kafka-out', broker: 'broker', topic: 'nowhere', maxQueue: 50 },
        { id: 'catch', type: 'catch', scope: ['kout'], wires: [['caught']] },
        { id: 'caught', type: 'helper' },
      ]),
    ];
    await helper.load([brokerModule, outModule, catchModule], flow);
    const caught = caughtBy('caught');
    const status = recordStatus(helper.getNode('kout'));
    const src = helper.getNode('src');
    for (let i = 0; i < 40; i++) src.send({ payload: { i } });
    src.send({ payload: Array.from({ length: 20 }, (_, i) => ({ i })) }); // 20 records: does not fit
    for (let i = 0; i < 15; i++) src.send({ payload: { i } }); // 10 fit, 5 do not
    await waitFor(() => caught.length === 6, 10_000, () => `caught: ${caught.length}`);
    assert.ok(caught.every((m) => /queue full/.test(m.error.message) && m.error.source.id === 'kout'), JSON.stringify(caught[0]));
    // two runs of refusals (the 20-record message; the last 5), one line each
    assert.equal(loggedLines('kout').filter((l) => /queue full/.test(l)).length, 2, loggedLines('kout').join('\n'));
    await waitFor(() => status.some((s) => s.fill === 'red' && /^refused, \d+ queued$/.test(s.text ?? '')), 10_000, () => JSON.stringify(status.slice(-3)));

    // close the node while the helper still records (unload() removes the spies first)
    await helper.getNode('kout').close(false);
    await waitFor(() => caught.length === 6 + 50, 5000, () => `caught after close: ${caught.length}`);
    assert.ok(caught.slice(6).every((m) => /closed with 50 records \(50 messages\) not acknowledged \(broker down: refused\)/.test(m.error.message)), caught[6].error.message);
    assert.equal(loggedLines('kout').filter((l) => /closed with/.test(l)).length, 1);
  });

  it('broker unreachable with 6,000 queued records, then a deploy and a stop: one log line per node per condition, every message to Catch, none to Complete', async function () {
    const port = await freePort();
    const N = 6000;
    const flow = [
      brokerNode('broker', { brokers: `127.0.0.1:${port}` }),
      // tab 1: kout, with a Catch node for every node of the tab (one scoped to kout would be restarted with it)
      ...onTab('tab1', [
        { id: 'src', type: 'helper', wires: [['kout']] },
        { id: 'kout', type: 'smoke-kafka-out', broker: 'broker', topic: 'nowhere' },
        { id: 'catch', type: 'catch', scope: null, wires: [['caught']] },
        { id: 'complete', type: 'complete', scope: ['kout'], wires: [['completed']] },
        { id: 'caught', type: 'helper' },
        { id: 'completed', type: 'helper' },
      ]),
      // tab 2: kout2, no Catch node: its errors would each be logged
      ...onTab('tab2', [
        { id: 'src2', type: 'helper', wires: [['kout2']] },
        { id: 'kout2', type: 'smoke-kafka-out', broker: 'broker', topic: 'nowhere' },
      ]),
    ];
    const modules = [brokerModule, outModule, catchModule, completeModule];
    await helper.load(modules, flow);

    /** Send N messages to both kafka out nodes and wait until both queue them all. */
    const fill = async () => {
      const statuses = ['kout', 'kout2'].map((id) => recordStatus(helper.getNode(id)));
      for (const src of ['src', 'src2']) for (let i = 0; i < N; i++) helper.getNode(src).send({ payload: { i } });
      await waitFor(() => statuses.every((st) => st.some((s) => s.text === 'refused, 6.0k queued')), 15_000, () => JSON.stringify(statuses.map((st) => st.at(-1))));
    };
    // the log line; a Catch node sees it as done(err) gives it, as "Error: <message>"
    const closedLine = /^(Error: )?kafka out: closed with 6,000 records \(6,000 messages\) not acknowledged \(broker down: refused\)$/;

    /** The close lines logged for each kafka out node equal `n`, and nothing else beyond one line per broker outage. */
    const expectLines = (n: number) => {
      for (const id of ['kout', 'kout2']) {
        const lines = loggedLines(id);
        assert.equal(lines.filter((l) => closedLine.test(l)).length, n, `${id}: ${lines.join(' | ')}`);
        assert.ok(lines.length <= 2 * n, `${id}: one line for the unreachable broker, one for the close, per instance: ${lines.join(' | ')}`);
      }
    };
    const rename = (name: string) => flow.map((n) => (n.id === 'kout' || n.id === 'kout2' ? { ...n, name } : n));

    // a deploy of the modified nodes: the Catch node keeps running and gets every message
    await fill();
    let caught = caughtBy('caught');
    let completed = caughtBy('completed');
    await deployInto(helper, rename('a'), 'nodes');
    expectLines(1);
    await waitFor(() => caught.length === N, 10_000, () => `caught ${caught.length}/${N}`);
    assert.ok(caught.every((m) => closedLine.test(m.error.message) && m.error.source.id === 'kout'), JSON.stringify(caught[0]));
    assert.equal(new Set(caught.map((m) => (m.payload as { i: number }).i)).size, N, 'every message once');
    assert.equal(completed.length, 0, 'a failed message never completes');

    // a full deploy stops every node, the Catch node too: the log line is then the only report
    await fill();
    await deployInto(helper, rename('b'), 'full');
    expectLines(2);

    // a stop of the kafka out nodes
    await fill();
    caught = caughtBy('caught');
    completed = caughtBy('completed');
    await Promise.all(['kout', 'kout2'].map((id) => helper.getNode(id).close(false)));
    expectLines(3);
    await waitFor(() => caught.length === N, 10_000, () => `caught ${caught.length}/${N}`);
    assert.ok(loggedLines('broker').length <= 2, `the broker node: one line per instance: ${loggedLines('broker').join(' | ')}`);
    assert.equal(completed.length, 0);
  });

  it('refuses an idempotent producer without acks from all replicas (bad config, no input handler)', async function () {
    const flow = [brokerNode(), { id: 'kout', type: 'smoke-kafka-out', broker: 'broker', topic: 't', idempotent: true, acks: '0' }];
    await helper.load([brokerModule, outModule], flow);
    const node = helper.getNode('kout');
    assert.equal(hasInputHandler(node), false);
    assert.equal(node.status.lastCall?.args[0].text, 'bad config');
  });

  it('refuses a key property that is no message property (bad config, no input handler, the problem logged)', async function () {
    const flow = [brokerNode(), { id: 'kout', type: 'smoke-kafka-out', broker: 'broker', topic: 't', keyProperty: 'payload..deviceId' }];
    await helper.load([brokerModule, outModule], flow);
    const node = helper.getNode('kout');
    assert.equal(hasInputHandler(node), false);
    assert.equal(node.status.lastCall?.args[0].text, 'bad config');
    const logged = callsOf(node, 'error').map((args) => String(args[0]));
    assert.ok(logged.some((text) => text.includes('key from is not a message property (got "payload..deviceId")')), logged.join('\n'));
  });
});
