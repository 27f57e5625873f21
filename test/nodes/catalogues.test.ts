/**
 * The catalogue keys the adapters use resolve with Node-RED's own i18n (the catalogues registered as
 * Node-RED's registry registers them), and a node shows the shared texts (nodes/nr/i18n.ts: the kafka
 * broker's catalogue, addressed by its namespace) in a real runtime, not their keys.
 */
import { strict as assert } from 'node:assert';
import { keysUsed } from '../unit/_catalogue-sources';
import { namespaceOf, translate } from './_catalogues';
import { callsOf, helper, nodeModule } from './_helper';

type Call = { thisValue: unknown; args: unknown[] };
interface TestNode {
  status: { getCalls(): Call[] };
  error: { getCalls(): Call[] };
}


describe('catalogue > keys resolve with Node-RED i18n', function () {
  it('every key the adapters use is a text in its node set namespace', async function () {
    const used = keysUsed();
    assert.ok(used.length > 50, `only ${used.length} keys found`);
    const raw: string[] = [];
    for (const u of used) {
      const ns = namespaceOf(u.key.slice(0, u.key.indexOf('.')));
      const text = await translate(`${ns}:${u.key}`);
      if (text === u.key || text === `${ns}:${u.key}` || text.trim() === '') raw.push(`${u.file}:${u.line} ${u.key} → ${JSON.stringify(text)}`);
    }
    assert.deepEqual(raw, []);
  });

  it('fills a text\'s placeholders: a shared text by its namespace', async function () {
    const text = await translate(`${namespaceOf('smoke-kafka-broker')}:smoke-kafka-broker.common.errors.invalid-config`, { problems: 'a; b' });
    assert.equal(text, 'Invalid configuration: a; b');
  });
});

/**
 * Texts that moved into the catalogues (issue 16 point 6) read as they did before, word for word,
 * plurals included; most are also checked where they are shown (node and kafka tests), these are the
 * ones that a test there reaches rarely or only in part.
 */
const AS_BEFORE: [key: string, substitutions: Record<string, string | number>, text: string][] = [
  ['smoke-kafka-broker.common.status.alerts-last', { count: 1, n: '1', severity: 'HIGH' }, '1 alert, last HIGH'],
  ['smoke-kafka-broker.common.status.alerts-last', { count: 17, n: '17', severity: 'HIGH' }, '17 alerts, last HIGH'],
  ['smoke-kafka-broker.common.status.alerts-cleared', { count: 0, n: '0', cleared: '5' }, '0 alerts, 5 cleared'],
  ['smoke-kafka-broker.common.status.alerts-cleared', { count: 12345, n: '12k', cleared: '5' }, '12k alerts, 5 cleared'],
  [
    'smoke-kafka-broker.common.warn.not-a-reading',
    { kind: 'number' },
    'msg.payload (number) is not a reading (an object of sensor values, or an array of them): passed on unchanged, no alerts; the status counts such items',
  ],
  ['smoke-kafka-in.log.restored', { tps: 't:0', devices: 3, count: 1, ms: 12 }, 'restored t:0: 3 devices from 1 changelog in 12 ms'],
  ['smoke-kafka-in.log.restored', { tps: 't:0, t:1', devices: 0, count: 2, ms: 7 }, 'restored t:0, t:1: 0 devices from 2 changelogs in 7 ms'],
  ['smoke-kafka-in.status.restoring', { count: 1 }, 'restoring 1 part.'],
  ['smoke-kafka-in.hint.topic-authorization', {}, "the broker's ACLs do not let this client read the topic"],
  [
    'smoke-kafka-in.hint.session-timeout',
    {},
    "the session timeout is outside the broker's group.min.session.timeout.ms … group.max.session.timeout.ms (6 s … 30 min by default)",
  ],
  ['smoke-kafka-in.status.rate-lag', { rate: '1.2k', lag: '30' }, '1.2k/s lag 30'],
  ['smoke-kafka-in.warn.restarting', { error: 'ECONNREFUSED', seconds: 1.5 }, 'consumer stopped (ECONNREFUSED); restarting in 1.5 s'],
  ['smoke-kafka-in.topic.back-resized', { partitions: 'partition 0 (260 → 18), 1 more', before: 2, now: 4 }, 'offsets went back on partition 0 (260 → 18), 1 more; 2 → 4 partitions'],
  ['smoke-kafka-out.why.fenced', {}, 'fenced: another runtime took the partition over'],
  ['smoke-csv-sink.errors.write-failed-tries', { label: 'CSV', name: 'a.csv', attempts: 3, error: 'EIO: i/o error' }, 'CSV write to a.csv failed after 3 attempts: EIO: i/o error'],
  ['smoke-sliding-window.status.counts-late', { devices: '2', windows: '10', late: '1' }, '2 dev / 10 win 1 late'],
  // Configuration problems (nodes/nr/config.ts and the adapters), as "Invalid configuration: …" lists them.
  ['smoke-kafka-broker.common.config.not-boolean', { key: 'fsync', got: '"yes"' }, 'fsync must be true or false (got "yes")'],
  ['smoke-kafka-broker.common.config.not-duration', { key: 'slide', got: '"soon"' }, 'slide is not a duration (got "soon"; e.g. "5 minutes", "30s")'],
  ['smoke-kafka-broker.common.config.not-one-of', { key: 'emit', values: 'every, change', got: '"x"' }, 'emit must be one of every, change (got "x")'],
  ['smoke-kafka-broker.common.config.not-json', { key: 'rules' }, 'rules is not valid JSON'],
  ['smoke-kafka-broker.common.config.not-number', { key: 'maxBytes', got: '"big"' }, 'maxBytes must be a number (got "big")'],
  ['smoke-kafka-broker.common.config.not-whole', { key: 'flushRows', got: '1.5' }, 'flushRows must be a whole number (got 1.5)'],
  ['smoke-kafka-broker.common.config.at-least', { key: 'maxBytes', min: '0', got: '-1' }, 'maxBytes must be >= 0 (got -1)'],
  ['smoke-kafka-broker.common.config.above', { key: 'size', min: '0', got: '0' }, 'size must be > 0 (got 0)'],
  ['smoke-kafka-broker.common.config.at-most', { key: 'retries', max: '100', got: '101' }, 'retries must be <= 100 (got 101)'],
  ['smoke-kafka-broker.common.config.bad-topic', { topic: 'bad topic!' }, '"bad topic!" is not a valid topic name'],
  ['smoke-kafka-broker.common.config.changelog-upstream', { found: 0 }, 'state "changelog" needs exactly one kafka in upstream (found 0)'],
  ['smoke-kafka-broker.config.sasl-credentials', { mechanism: 'scram-sha-256' }, 'SASL scram-sha-256 needs a username and a password'],
  ['smoke-sliding-window.config.no-store', { store: 'disk', stores: 'memory, file' }, 'context store "disk" is not configured (stores: memory, file)'],
];

describe('catalogue > moved texts read as before', function () {
  for (const [key, substitutions, want] of AS_BEFORE) {
    it(`${key} → "${want}"`, async function () {
      assert.equal(await translate(`${namespaceOf(key.slice(0, key.indexOf('.')))}:${key}`, substitutions), want);
    });
  }
});

describe('catalogue > shared texts in a running flow', function () {
  afterEach(async function () {
    await helper.unload();
  });

  it('a bad configuration shows "bad config" and logs "Invalid configuration: …" from the kafka broker catalogue', async function () {
    await helper.load([nodeModule('sensor-validate'), nodeModule('threshold-alert')], [
      { id: 'v', type: 'smoke-sensor-validate', missing: 'bogus', wires: [[], []] },
      { id: 't', type: 'smoke-threshold-alert', emit: 'sometimes', wires: [[], []] },
    ]);
    for (const id of ['v', 't']) {
      const n = helper.getNode(id) as TestNode;
      assert.deepEqual(callsOf(n, 'status').pop(), [{ fill: 'red', shape: 'ring', text: 'bad config' }], id);
      const errors = callsOf(n, 'error').map((a) => String(a[0]));
      assert.ok(errors.length === 1 && errors[0].startsWith('Invalid configuration: '), `${id}: ${errors.join('\n')}`);
    }
  });

  it('logs each configuration problem as its catalogue text with the values filled in', async function () {
    await helper.load([nodeModule('sensor-validate')], [{ id: 'v', type: 'smoke-sensor-validate', missing: 'bogus', maxBytes: 'lots', property: 'payload..x', wires: [[], []] }]);
    const shared = namespaceOf('smoke-kafka-broker');
    const problems = [
      await translate(`${shared}:smoke-kafka-broker.common.config.not-one-of`, { key: 'missing', values: 'reject, null, fill', got: '"bogus"' }),
      await translate(`${shared}:smoke-kafka-broker.common.config.not-number`, { key: 'maxBytes', got: '"lots"' }),
      await translate(`${namespaceOf('smoke-sensor-validate')}:smoke-sensor-validate.config.property`, { got: '"payload..x"' }),
    ];
    const want = await translate(`${shared}:smoke-kafka-broker.common.errors.invalid-config`, { problems: problems.join('; ') });
    assert.equal(
      want,
      'Invalid configuration: missing must be one of reject, null, fill (got "bogus"); maxBytes must be a number (got "lots"); property is not a message property (got "payload..x")',
    );
    assert.deepEqual(callsOf(helper.getNode('v') as TestNode, 'error').map((a) => a[0]), [want]);
  });

  it('kafka in and kafka out behind a broker with a bad configuration show the broker\'s "broker config"', async function () {
    await helper.load([nodeModule('kafka-broker'), nodeModule('kafka-in'), nodeModule('kafka-out')], [
      { id: 'b', type: 'smoke-kafka-broker', brokers: 'localhost:9092', sasl: 'plain' },
      { id: 'in', type: 'smoke-kafka-in', broker: 'b', topics: 'catalogue-test', wires: [[], [], []] },
      { id: 'out', type: 'smoke-kafka-out', broker: 'b', topic: 'catalogue-test', wires: [] },
    ]);
    const broker = helper.getNode('b') as TestNode;
    assert.deepEqual(
      callsOf(broker, 'error').map((a) => a[0]),
      ['Invalid configuration: SASL plain needs a username and a password'],
    );
    for (const id of ['in', 'out']) {
      assert.deepEqual(callsOf(helper.getNode(id) as TestNode, 'status').pop(), [{ fill: 'red', shape: 'ring', text: 'broker config' }], id);
    }
  });
});
