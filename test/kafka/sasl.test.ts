import { strict as assert } from 'node:assert';
import { editorDefinition } from '../nodes/_editor';
import { SASL_PASSWORD, SASL_USERNAME, createTopic, requireKafka, saslBootstrap, uniqueTopic } from './broker';
import {
  brokerModule,
  brokerNode,
  collect,
  helper,
  inModule,
  jsonMessages,
  kafkaInNode,
  outModule,
  produce,
  readings,
  recordStatus,
  sinks,
  waitFor,
} from './_kafka-nodes';

describe('kafka broker > SASL, TLS and credentials', function () {
  this.timeout(60_000);
  const rejections: unknown[] = [];
  const onRejection = (r: unknown) => rejections.push(r);

  before(async function () {
    await requireKafka(this);
    process.on('unhandledRejection', onRejection);
  });

  after(function () {
    process.off('unhandledRejection', onRejection);
  });

  afterEach(async function () {
    await helper.unload();
  });

  for (const mechanism of ['plain', 'scram-sha-256'] as const) {
    it(`consumes with the right ${mechanism} password, given as credentials`, async function () {
      const topic = uniqueTopic(`sasl-${mechanism}`);
      await createTopic(topic, 4);
      await produce(topic, jsonMessages(readings(200)));
      const flow = [brokerNode('broker', { brokers: saslBootstrap().join(','), sasl: mechanism }), kafkaInNode(topic), ...sinks()];
      await helper.load([brokerModule, inModule], flow, { broker: { username: SASL_USERNAME, password: SASL_PASSWORD } });
      const got = collect();
      await waitFor(() => got.count() === 200, 20_000, () => `${got.count()}/200`);
    });
  }

  it('shows "auth failed" with a wrong password, keeps retrying, and Node-RED stays up (no unhandled rejection)', async function () {
    const before = rejections.length;
    const flow = [
      brokerNode('broker', { brokers: saslBootstrap().join(','), sasl: 'plain' }),
      kafkaInNode('smoke_stream'),
      { id: 'kout', type: 'smoke-kafka-out', broker: 'broker', topic: 'smoke_alerts' },
      ...sinks(),
    ];
    await helper.load([brokerModule, inModule, outModule], flow, { broker: { username: SASL_USERNAME, password: 'not-the-password' } });
    const inStatus = recordStatus(helper.getNode('in'));
    const outStatus = recordStatus(helper.getNode('kout'));
    await waitFor(
      () => inStatus.some((s) => s.fill === 'red' && s.text === 'auth failed') && outStatus.some((s) => s.fill === 'red' && /^auth failed/.test(s.text ?? '')),
      15_000,
      () => JSON.stringify({ in: inStatus.slice(-2), out: outStatus.slice(-2) }),
    );
    // still retrying: the status keeps saying so, and nothing crashed the runtime
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(inStatus.at(-1)?.text, 'auth failed');
    assert.ok(helper.getNode('in'), 'the node is still deployed');
    assert.equal(rejections.length, before, `unhandled rejections: ${rejections.slice(before).map(String).join('; ')}`);
  });

  it('TLS against a listener that does not speak it: a red "TLS: not a TLS port" status and retries, no crash', async function () {
    const before = rejections.length;
    const flow = [brokerNode('broker', { tls: true, rejectUnauthorized: false }), kafkaInNode('smoke_stream'), ...sinks()];
    await helper.load([brokerModule, inModule], flow, { broker: { ca: '-----BEGIN CERTIFICATE-----\nnot a real one\n-----END CERTIFICATE-----' } });
    const status = recordStatus(helper.getNode('in'));
    await waitFor(() => status.some((s) => s.fill === 'red' && s.text === 'TLS: not a TLS port'), 15_000, () => JSON.stringify(status));
    assert.ok(!status.some((s) => s.fill === 'green'), 'never shown as connected');
    assert.equal(rejections.length, before, `unhandled rejections: ${rejections.slice(before).map(String).join('; ')}`);
  });

  it('keeps secrets out of the flow JSON: they live only in the credentials', async function () {
    const flow = [brokerNode('broker', { brokers: saslBootstrap().join(','), sasl: 'plain' })];
    const creds = { broker: { username: SASL_USERNAME, password: SASL_PASSWORD, key: '-----BEGIN PRIVATE KEY-----secret' } };
    await helper.load([brokerModule], flow, creds);
    const node = helper.getNode('broker') as { credentials: Record<string, string> };
    assert.equal(node.credentials.password, SASL_PASSWORD, 'the runtime has the password');
    const exported = JSON.stringify(helper._redNodes.getFlows().flows);
    assert.ok(!exported.includes(SASL_PASSWORD), 'no password in the deployed flow JSON');
    assert.ok(!exported.includes('BEGIN PRIVATE KEY'), 'no TLS key in the deployed flow JSON');

    // the editor definition: secrets are credentials of type password, and no default holds one nor a
    // certificate (the editor's Export writes the defaults only)
    const def = editorDefinition('smoke-kafka-broker') as { defaults: Record<string, unknown>; credentials: Record<string, { type: string }> } | undefined;
    assert.ok(def, 'the broker editor registers a definition');
    for (const secret of ['password', 'username', 'key', 'passphrase', 'ca', 'cert']) {
      assert.ok(!(secret in def.defaults), `${secret} is not a flow property`);
      assert.ok(secret in def.credentials, `${secret} is a credential of the dialog`);
    }
    for (const secret of ['password', 'key', 'passphrase']) assert.equal(def.credentials[secret].type, 'password', `${secret} is never sent back to the editor`);
  });
});
