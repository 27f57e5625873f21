/**
 * `kafka broker` config node: the bootstrap servers, client id, TLS and SASL of a Kafka cluster. It owns
 * the kafkajs client and the users map (model: Node-RED's MQTT broker node); secrets (SASL password,
 * TLS key and passphrase) and the certificates live in credentials, never in the flow JSON, and no log
 * line carries them (a failure is logged with the client's message and what to change).
 */
import type { KafkaConfig, LogEntry, SASLOptions } from 'kafkajs';
import { Kafka, logLevel } from '../nr/kafkajs';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { parseBrokers } from '../lib/kafka-records';
import { ConfigReader } from '../nr/config';
import { BROKER_CREDENTIALS } from '../nr/editor-settings';
import type { BrokerState, BrokerUser, KafkaBrokerConfig } from '../nr/kafka-client';
import { BrokerConnection } from '../nr/kafka-connection';
import { shared, useCatalogues, type Translate } from '../nr/i18n';
import type { NodeDef, RED } from '../nr/types';

/** The node's credentials as the runtime hands them over: a text per field of {@link BROKER_CREDENTIALS}, each optional. */
type Credentials = Partial<Record<keyof typeof BROKER_CREDENTIALS, string>>;

const SASL = ['none', 'plain', 'scram-sha-256', 'scram-sha-512'] as const;

export = function (RED: RED) {
  useCatalogues(RED);
  const t: Translate = (key, substitutions) => RED._(key, substitutions);

  /** The log line of a broker that cannot be used: its state, the client's message and what to change. */
  function downLine(brokers: string, s: BrokerState): string {
    const subs = { brokers, state: s.text, detail: s.detail ?? '', hint: s.hint ?? '' };
    if (s.detail && s.hint) return t('smoke-kafka-broker.log.down-detail-hint', subs);
    if (s.detail) return t('smoke-kafka-broker.log.down-detail', subs);
    if (s.hint) return t('smoke-kafka-broker.log.down-hint', subs);
    return t('smoke-kafka-broker.log.down', subs);
  }

  function KafkaBrokerNode(this: KafkaBrokerConfig & { credentials?: Credentials }, def: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, def);
    const node = this as KafkaBrokerConfig & { problems: string[]; kafka: Kafka | null; brokers: string[] };
    const creds: Credentials = this.credentials ?? {};
    const cfg = new ConfigReader(def);
    const parsed = parseBrokers(def.brokers === undefined ? undefined : String(def.brokers), (n) => process.env[n]);
    const clientId = cfg.string('clientId', 'node-red-smoke-stream');
    const tls = cfg.boolean('tls', false);
    const rejectUnauthorized = cfg.boolean('rejectUnauthorized', true);
    const mechanism = cfg.oneOf('sasl', SASL, 'none');
    const connectionTimeout = cfg.number('connectionTimeout', 3000, { min: 100, integer: true });
    const requestTimeout = cfg.number('requestTimeout', 30000, { min: 100, integer: true });
    const initialRetryTime = cfg.number('retryInitial', 300, { min: 1, integer: true });
    const maxRetryTime = cfg.number('retryMax', 30000, { min: 1, integer: true });
    const retries = cfg.number('retries', 5, { min: 0, max: 100, integer: true });
    const problems = [...parsed.problems, ...cfg.problems];
    if (maxRetryTime < initialRetryTime) problems.push(t('smoke-kafka-broker.config.retry'));
    if (mechanism !== 'none' && (!creds.username || !creds.password)) problems.push(t('smoke-kafka-broker.config.sasl-credentials', { mechanism }));
    if (tls && Boolean(creds.cert) !== Boolean(creds.key)) problems.push(t('smoke-kafka-broker.config.tls-key'));

    // No CA given: Node's own store of public CAs (plus NODE_EXTRA_CA_CERTS), what managed services use.
    let ssl: TlsOptions | undefined;
    if (tls) {
      ssl = { rejectUnauthorized };
      if (creds.ca) ssl.ca = [creds.ca];
      if (creds.cert) ssl.cert = creds.cert;
      if (creds.key) ssl.key = creds.key;
      if (creds.passphrase) ssl.passphrase = creds.passphrase;
    }
    // kafkajs logs through Node-RED's log at debug/trace level: state changes worth an operator's
    // attention are reported by the nodes themselves, once per change, instead of once per retry.
    const logCreator = () => (e: LogEntry) => {
      const text = t('smoke-kafka-broker.log.kafkajs', { name: node.name || node.id, namespace: e.namespace, message: e.log.message });
      if (e.level <= logLevel.WARN) RED.log.debug(text);
      else RED.log.trace(text);
    };
    const config: KafkaConfig = {
      brokers: parsed.brokers,
      clientId,
      ssl,
      sasl: mechanism === 'none' ? undefined : ({ mechanism, username: creds.username ?? '', password: creds.password ?? '' } as SASLOptions),
      connectionTimeout,
      requestTimeout,
      retry: { initialRetryTime, maxRetryTime, retries },
      logLevel: logLevel.WARN,
      logCreator,
    };

    node.problems = problems;
    node.brokers = parsed.brokers;
    node.kafka = problems.length === 0 ? new Kafka(config) : null;
    // The probe's own client, with retries off: a failed probe reports its cause (see BrokerConnection).
    const probe = node.kafka ? new Kafka({ ...config, retry: { ...config.retry, retries: 0 } }) : null;
    const conn = new BrokerConnection(probe, {
      probeMs: 5000,
      probeDownMs: 2000,
      probeTimeoutMs: Math.min(requestTimeout, Math.max(connectionTimeout * 2, 5000)),
      clientCert: Boolean(ssl?.cert),
      t,
      onChange: (s) => {
        const brokers = parsed.brokers.join(',');
        if (s.kind === 'down' || s.kind === 'auth') node.log(downLine(brokers, s));
        else if (s.kind === 'up') node.log(t('smoke-kafka-broker.log.up', { brokers }));
      },
    });
    if (problems.length > 0) {
      node.error(shared('smoke-kafka-broker.common.errors.invalid-config', { problems: problems.join('; ') }));
      conn.badConfig(problems.join('; '));
    }

    Object.defineProperty(node, 'state', { get: () => conn.state });
    node.register = (user: BrokerUser) => conn.register(user);
    node.deregister = (user: BrokerUser) => conn.deregister(user);
    node.report = ((ok: boolean, err?: unknown) => conn.report(ok, err)) as KafkaBrokerConfig['report'];
    node.stateOf = (err: unknown) => conn.stateOf(err);
    node.admin = () => conn.admin();

    node.on('close', (_removed: boolean, done: () => void) => {
      conn.close().then(done, done);
    });
  }

  RED.nodes.registerType('smoke-kafka-broker', KafkaBrokerNode as never, { credentials: BROKER_CREDENTIALS } as never);
};
