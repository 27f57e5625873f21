/**
 * TLS, mutual TLS and SCRAM-SHA-512 against the real listeners of the local broker (scripts/kafka/kafka.sh:
 * SSL, SASL_SSL and mutual TLS, with the throwaway CA and client certificate it makes in its data folder):
 * the way managed Kafka services are reached.
 */
import { strict as assert } from 'node:assert';
import { deployInto } from '../_deploy';
import { generateKeyPairSync } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { SASL_PASSWORD, SASL_USERNAME, bootstrap, createTopic, mtlsBootstrap, requireTls, saslSslBootstrap, sslBootstrap, uniqueTopic, type TlsMaterial } from './broker';
import { brokerModule, brokerNode, collect, helper, inModule, kafkaInNode, loggedLines, outModule, readings, recordStatus, sinks, waitFor, type FlowNode } from './_kafka-nodes';

type Settings = Record<string, unknown>;
type Credentials = Record<string, string>;

/** kafka out → topic → kafka in, on one broker config node; helper node `src` feeds kafka out. */
function roundTripFlow(topic: string, broker: Settings): FlowNode[] {
  return [
    brokerNode('broker', broker),
    { id: 'src', type: 'helper', wires: [['kout']] },
    { id: 'kout', type: 'smoke-kafka-out', broker: 'broker', topic, keyProperty: 'payload.device_id' },
    kafkaInNode(topic),
    ...sinks(),
  ];
}

/** The same flow as the editor deploys it: the broker's credentials inline (Node-RED moves them to its credential store). */
function withCredentials(flow: FlowNode[], credentials: Credentials): FlowNode[] {
  return flow.map((n) => (n.id === 'broker' ? { ...n, credentials } : n));
}

/** Send `n` readings into kafka out; resolves when kafka in delivered each of them once, with its device id as key. */
async function roundTrip(n: number): Promise<void> {
  const got = collect();
  const sent = readings(n);
  const src = helper.getNode('src');
  for (const r of sent) src.send({ payload: r });
  await waitFor(() => got.count() >= n, 20_000, () => `${got.count()}/${n} readings back`);
  const bySeq = new Map(got.records.map((m) => [(m.payload as { seq: number }).seq, m]));
  assert.equal(got.count(), n, 'no reading twice');
  for (const r of sent) {
    const m = bySeq.get(r.seq as number);
    assert.deepEqual(m?.payload, r, `reading ${r.seq as number}`);
    assert.equal(m?.key, r.device_id, 'keyed by device id');
  }
}

/** Both Kafka nodes show a red status with `text` (kafka out: the cause alone, nothing is queued). */
async function bothRed(text: string): Promise<void> {
  const inStatus = recordStatus(helper.getNode('in'));
  const outStatus = recordStatus(helper.getNode('kout'));
  const red = (seen: typeof inStatus) => seen.some((s) => s.fill === 'red' && s.shape === 'ring' && s.text === text);
  await waitFor(() => red(inStatus) && red(outStatus), 15_000, () => JSON.stringify({ in: inStatus.slice(-3), out: outStatus.slice(-3) }));
  assert.ok(![...inStatus, ...outStatus].some((s) => s.fill === 'green'), 'never shown as connected');
}

const WRONG_PASSWORD = 'not-the-password';
const WRONG_PASSPHRASE = 'not-the-passphrase';

/**
 * No line the runtime logged since the flow was loaded, at any level (kafkajs logs at debug and trace
 * through the broker node), holds a password, a passphrase or a line of a key.
 */
function assertNoSecretLogged(tls: TlsMaterial, ...keys: string[]): void {
  const log = helper
    .log()
    .args.map((a: unknown[]) => JSON.stringify(a[0]))
    .join('\n');
  const secrets = [tls.passphrase, WRONG_PASSPHRASE, SASL_PASSWORD, WRONG_PASSWORD, ...[tls.key, ...keys].map((k) => k.split('\n')[1])];
  for (const s of secrets) assert.ok(!log.includes(s), `a log line holds a secret (${s.slice(0, 6)}…)`);
}

describe('kafka broker > TLS, mutual TLS and SCRAM-SHA-512 on real listeners', function () {
  this.timeout(60_000);
  let tls: TlsMaterial;
  const rejections: unknown[] = [];
  const onRejection = (r: unknown) => rejections.push(r);

  before(async function () {
    tls = await requireTls(this);
    process.on('unhandledRejection', onRejection);
  });

  after(function () {
    process.off('unhandledRejection', onRejection);
  });

  afterEach(async function () {
    try {
      assertNoSecretLogged(tls);
    } finally {
      await helper.unload();
    }
    assert.deepEqual(rejections.splice(0).map(String), [], 'no unhandled rejection: Node-RED stays up');
  });

  /** Settings of a broker node with TLS on, for `brokers` (the CA and a client certificate go in its credentials). */
  const tlsBroker = (brokers: string[], extra: Settings = {}): Settings => ({ brokers: brokers.join(','), tls: true, ...extra });
  const scram512: Settings = { sasl: 'scram-sha-512' };
  const clientCert = (): Credentials => ({ ca: tls.ca, cert: tls.cert, key: tls.key, passphrase: tls.passphrase });

  it('round-trips 1,000 readings through kafka out and kafka in over SSL, the broker verified with the CA given', async function () {
    const topic = uniqueTopic('tls-ssl');
    await createTopic(topic, 4);
    await helper.load([brokerModule, outModule, inModule], roundTripFlow(topic, tlsBroker(sslBootstrap())), { broker: { ca: tls.ca } });
    await roundTrip(1000);
  });

  it('round-trips 1,000 readings over SASL_SSL with SCRAM-SHA-512', async function () {
    const topic = uniqueTopic('tls-scram512');
    await createTopic(topic, 4);
    const creds = { ca: tls.ca, username: SASL_USERNAME, password: SASL_PASSWORD };
    await helper.load([brokerModule, outModule, inModule], roundTripFlow(topic, tlsBroker(saslSslBootstrap(), scram512)), { broker: creds });
    await roundTrip(1000);
  });

  it('round-trips 1,000 readings over mutual TLS (client certificate, its key encrypted, the passphrase given)', async function () {
    const topic = uniqueTopic('tls-mtls');
    await createTopic(topic, 4);
    await helper.load([brokerModule, outModule, inModule], roundTripFlow(topic, tlsBroker(mtlsBootstrap())), { broker: clientCert() });
    await roundTrip(1000);
  });

  /**
   * Deployed with one setting wrong: both nodes red with `status`, the broker's log line names the cause
   * and the remedy; redeployed with it corrected (a "modified nodes" deploy, as the editor does): readings
   * flow again.
   */
  async function recovers(broker: Settings, wrong: Credentials, right: Credentials, status: string, hint: RegExp): Promise<void> {
    const topic = uniqueTopic('tls-recover');
    await createTopic(topic, 4);
    const flow = roundTripFlow(topic, broker);
    await helper.load([brokerModule, outModule, inModule], flow, { broker: wrong });
    await bothRed(status);
    await waitFor(() => loggedLines('broker').some((l) => l.includes(`: ${status} (`) && hint.test(l)), 5000, () => loggedLines('broker').join('\n'));
    assert.ok(helper.getNode('in') && helper.getNode('kout'), 'the nodes are still deployed');

    await deployInto(helper, withCredentials(flow, right), 'nodes');
    await roundTrip(100);
    await waitFor(() => loggedLines('broker').some((l) => /: connected$/.test(l)), 5000, () => loggedLines('broker').join('\n'));
  }

  it('a wrong CA: red "TLS: unknown CA", and readings flow once the right CA is deployed', async function () {
    // a real CA (the first of Node's public ones) that did not sign the broker's certificate
    const otherCa = rootCertificates[0];
    await recovers(tlsBroker(sslBootstrap()), { ca: otherCa }, { ca: tls.ca }, 'TLS: unknown CA', /paste the broker's CA certificate/);
  });

  it('no client certificate on the mutual-TLS listener: red "TLS: client cert required", and readings flow once it is given', async function () {
    await recovers(tlsBroker(mtlsBootstrap()), { ca: tls.ca }, clientCert(), 'TLS: client cert required', /give a client certificate/);
  });

  it('a wrong SCRAM-SHA-512 password: red "auth failed", and readings flow once the right one is deployed', async function () {
    const creds = (password: string) => ({ ca: tls.ca, username: SASL_USERNAME, password });
    await recovers(tlsBroker(saslSslBootstrap(), scram512), creds(WRONG_PASSWORD), creds(SASL_PASSWORD), 'auth failed', /SCRAM-SHA-512/);
  });

  it('names the other TLS failures in the status: the system CA store, an IP address, a wrong passphrase, a key of another certificate, a plaintext port', async function () {
    const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const cases: Array<[string, Settings, Credentials]> = [
      ['TLS: unknown CA', tlsBroker(sslBootstrap()), {}],
      ['TLS: host mismatch', tlsBroker([`127.0.0.1:${sslBootstrap()[0].split(':')[1]}`]), { ca: tls.ca }],
      ['TLS: wrong passphrase', tlsBroker(mtlsBootstrap()), { ...clientCert(), passphrase: WRONG_PASSPHRASE }],
      ['TLS: wrong passphrase', tlsBroker(mtlsBootstrap()), { ...clientCert(), passphrase: '' }],
      ['TLS: key/cert mismatch', tlsBroker(mtlsBootstrap()), { ...clientCert(), key: otherKey }],
      ['TLS: not a TLS port', tlsBroker(bootstrap()), { ca: tls.ca }],
    ];
    for (const [text, broker, creds] of cases) {
      // no client retries: kafka out's close then need not wait for a connect attempt to give up
      await helper.load([brokerModule, outModule], [brokerNode('broker', { ...broker, retries: 0 }), { id: 'kout', type: 'smoke-kafka-out', broker: 'broker', topic: 'smoke_alerts' }], { broker: creds });
      const status = recordStatus(helper.getNode('kout'));
      await waitFor(() => status.some((s) => s.fill === 'red' && s.text === text), 10_000, () => `${text}: ${JSON.stringify(status)}`);
      assertNoSecretLogged(tls, otherKey);
      await helper.unload();
    }
  });
});
