/**
 * Where the TLS material and the SCRAM password of a `kafka broker` node go in a real Node-RED runtime
 * (child process, the package linked in): deployed through the admin API as the editor does, they
 * connect to the real mutual-TLS and SASL_SSL listeners, and live only in the encrypted credentials file:
 * not in flows.json, not in the flows the editor loads (and exports: its Export writes a node's defaults,
 * never its credentials, and the defaults hold no secret: see sasl.test.ts), not in the log.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NodeRedChild, createUserDir, killLeftovers, removeDir, type FlowNode } from '../reliability/_runtime';
import { SASL_PASSWORD, SASL_USERNAME, createTopic, mtlsBootstrap, requireTls, saslSslBootstrap, uniqueTopic, type TlsMaterial } from './broker';
import { waitFor } from './_kafka-nodes';

describe('kafka broker > TLS credentials in a real runtime', function () {
  this.timeout(60_000);
  let tls: TlsMaterial;
  let userDir = '';
  let nr: NodeRedChild | undefined;

  before(async function () {
    tls = await requireTls(this);
    userDir = createUserDir({ flow: [], credentialSecret: 'tls credentials test key' });
    nr = new NodeRedChild(userDir);
    await nr.start();
  });

  after(async function () {
    await nr?.stop(5000);
    killLeftovers();
    if (userDir) removeDir(userDir);
  });

  it('connects over mutual TLS and SASL_SSL/SCRAM-SHA-512 with credentials only: no CA, certificate, key, passphrase or password in flows.json, GET /flows or the log', async function () {
    const runtime = nr!;
    const topic = uniqueTopic('tls-credentials');
    await createTopic(topic, 1);
    const kafkaIn = (id: string, broker: string, y: number): FlowNode => ({
      id,
      type: 'smoke-kafka-in',
      z: 'tab',
      x: 200,
      y,
      broker,
      topics: topic,
      groupId: `${topic}-${id}`,
      wires: [[], [], []],
    });
    const flow: FlowNode[] = [
      { id: 'tab', type: 'tab', label: 'tls' },
      {
        id: 'mtls',
        type: 'smoke-kafka-broker',
        brokers: mtlsBootstrap().join(','),
        tls: true,
        credentials: { ca: tls.ca, cert: tls.cert, key: tls.key, passphrase: tls.passphrase },
      },
      {
        id: 'scram',
        type: 'smoke-kafka-broker',
        brokers: saslSslBootstrap().join(','),
        tls: true,
        sasl: 'scram-sha-512',
        credentials: { ca: tls.ca, username: SASL_USERNAME, password: SASL_PASSWORD },
      },
      kafkaIn('in-mtls', 'mtls', 100),
      kafkaIn('in-scram', 'scram', 200),
    ];
    const res = await runtime.api('POST', '/flows', flow, { 'Node-RED-Deployment-Type': 'full' });
    assert.equal(res.status, 204, res.text);
    const connected = (id: string) => new RegExp(`\\[smoke-kafka-broker:${id}\\] [^\\n]*: connected`).test(runtime.log());
    await waitFor(() => connected('mtls') && connected('scram'), 20_000, () => runtime.log().slice(-3000));

    // a PEM block is found by any of its lines: its first line of base64 stands for it
    const pemLine = (pem: string) => pem.split('\n')[1];
    const secrets: Array<[string, string]> = [
      ['the CA', pemLine(tls.ca)],
      ['the client certificate', pemLine(tls.cert)],
      ['the key', pemLine(tls.key)],
      ['the passphrase', tls.passphrase],
      ['the password', SASL_PASSWORD],
    ];
    const flowsFile = fs.readFileSync(path.join(userDir, 'flows.json'), 'utf8');
    const places: Array<[string, string]> = [
      ['flows.json', flowsFile],
      ['GET /flows', (await runtime.api('GET', '/flows')).text],
      ['GET /flows (v2)', (await runtime.api('GET', '/flows', undefined, { 'Node-RED-API-Version': 'v2' })).text],
      ['the log', runtime.log()],
    ];
    for (const [where, text] of places) {
      for (const [what, secret] of secrets) assert.ok(!text.includes(secret), `${where} holds ${what}`);
    }
    assert.ok(!flowsFile.includes('"credentials"'), 'flows.json has no credentials property');
    assert.deepEqual(Object.keys(JSON.parse(fs.readFileSync(path.join(userDir, 'flows_cred.json'), 'utf8'))), ['$'], 'flows_cred.json is encrypted');

    // the editor learns that the secrets are set, never what they are
    const mtls = (await runtime.api('GET', '/credentials/smoke-kafka-broker/mtls')).json as Record<string, unknown>;
    assert.equal(mtls.has_key, true);
    assert.equal(mtls.has_passphrase, true);
    assert.equal(mtls.key, undefined);
    assert.equal(mtls.passphrase, undefined);
    const scram = (await runtime.api('GET', '/credentials/smoke-kafka-broker/scram')).json as Record<string, unknown>;
    assert.equal(scram.has_password, true);
    assert.equal(scram.password, undefined);
  });
});
