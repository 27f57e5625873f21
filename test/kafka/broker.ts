/**
 * Test helpers for the real Kafka broker that scripts/kafka/kafka.sh runs
 * (single-node KRaft, PLAINTEXT on 127.0.0.1:9092, SASL_PLAINTEXT on 127.0.0.1:9094, and the TLS
 * listeners SSL, SASL_SSL and mutual TLS on localhost:9095, 9096 and 9097).
 *
 *   before(async function () { await requireKafka(this); });
 *   before(async function () { tls = await requireTls(this); });
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';

export const KAFKA_SCRIPT = path.resolve(__dirname, '..', '..', 'scripts', 'kafka', 'kafka.sh');

/** Test user on the SASL_PLAINTEXT listener (PLAIN and SCRAM-SHA-256) and on SASL_SSL (also SCRAM-SHA-512). */
export const SASL_USERNAME = 'smoke';
export const SASL_PASSWORD = 'smoke-secret';

function splitList(value: string | undefined, fallback: string): string[] {
  return (value && value.trim() ? value : fallback)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** PLAINTEXT bootstrap servers: env KAFKA_BOOTSTRAP_SERVERS, default 127.0.0.1:9092. */
export function bootstrap(): string[] {
  return splitList(process.env.KAFKA_BOOTSTRAP_SERVERS, '127.0.0.1:9092');
}

/**
 * SASL_PLAINTEXT bootstrap servers: env KAFKA_SASL_BOOTSTRAP_SERVERS, else the SASL port that
 * scripts/kafka/kafka.sh starts the broker with (KAFKA_SASL_PORT, default 9094) on 127.0.0.1.
 */
export function saslBootstrap(): string[] {
  return splitList(process.env.KAFKA_SASL_BOOTSTRAP_SERVERS, `127.0.0.1:${process.env.KAFKA_SASL_PORT || 9094}`);
}

/**
 * The TLS listeners' bootstrap servers: the host their certificate names (kafka.sh advertises them as
 * localhost) and the port kafka.sh starts them on (env KAFKA_SSL_PORT, KAFKA_SASL_SSL_PORT,
 * KAFKA_MTLS_PORT; defaults 9095, 9096, 9097).
 */
export function sslBootstrap(): string[] {
  return [`localhost:${process.env.KAFKA_SSL_PORT || 9095}`];
}
export function saslSslBootstrap(): string[] {
  return [`localhost:${process.env.KAFKA_SASL_SSL_PORT || 9096}`];
}
export function mtlsBootstrap(): string[] {
  return [`localhost:${process.env.KAFKA_MTLS_PORT || 9097}`];
}

/** The broker's data folder as kafka.sh resolves it: env KAFKA_DATA_DIR, default scripts/kafka/.data. */
export function kafkaDataDir(): string {
  return path.resolve(process.env.KAFKA_DATA_DIR || path.join(__dirname, '..', '..', 'scripts', 'kafka', '.data'));
}

/** The PEM text a client of the TLS listeners needs, as kafka.sh made it (scripts/kafka/certs.sh). */
export interface TlsMaterial {
  /** The CA that signed the broker's and the client's certificates. */
  ca: string;
  /** The client certificate, for the mutual-TLS listener. */
  cert: string;
  /** Its private key, encrypted with `passphrase`. */
  key: string;
  passphrase: string;
}

function readTlsMaterial(): TlsMaterial {
  const dir = path.join(kafkaDataDir(), 'tls');
  const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');
  return { ca: read('ca.pem'), cert: read('client.pem'), key: read('client.key.pem'), passphrase: read('client.key.pass').trim() };
}

/** A kafkajs client for the test broker; quiet unless KAFKAJS_LOG=warn. */
export function kafkaClient(overrides: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({
    clientId: 'smoke-stream-test',
    brokers: bootstrap(),
    logLevel: process.env.KAFKAJS_LOG === 'warn' ? logLevel.WARN : logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 10000,
    ...overrides,
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

let lastUnavailableReason = '';

/** True when a broker answers describeCluster() on bootstrap() (or as `overrides` say) within timeoutMs. */
export async function brokerAvailable(timeoutMs = 3000, overrides: Partial<KafkaConfig> = {}): Promise<boolean> {
  const admin = kafkaClient({
    clientId: 'smoke-stream-probe',
    connectionTimeout: Math.min(1000, timeoutMs),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
    ...overrides,
  }).admin();
  try {
    await withTimeout(
      (async () => {
        await admin.connect();
        const cluster = await admin.describeCluster();
        if (cluster.brokers.length === 0) throw new Error('cluster reports no brokers');
      })(),
      timeoutMs,
      'describeCluster',
    );
    return true;
  } catch (err) {
    lastUnavailableReason = err instanceof Error ? err.message : String(err);
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** A topic name that no earlier run used: `<prefix>-<time>-<random>`. */
export function uniqueTopic(prefix: string): string {
  const clean = prefix.replace(/[^a-zA-Z0-9._-]/g, '-') || 'topic';
  return `${clean}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** Creates the topic (replication factor 1) and waits until its partitions have leaders. */
export async function createTopic(name: string, partitions = 4): Promise<void> {
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    try {
      await admin.createTopics({
        topics: [{ topic: name, numPartitions: partitions, replicationFactor: 1 }],
        waitForLeaders: true,
        timeout: 10000,
      });
    } catch (err) {
      // kafkajs' waitForLeaders gives up on UNKNOWN_TOPIC_OR_PARTITION ("This server does not host this
      // topic-partition") when the metadata lags, as it does on a loaded machine: the topic was created,
      // and the loop below waits for its leaders.
      const e = err as { type?: string; message?: string };
      if (!/UNKNOWN_TOPIC_OR_PARTITION|does not host this topic-partition/.test(`${e.type ?? ''} ${e.message ?? ''}`)) throw err;
    }
    // make sure the metadata is visible before producers/consumers use it
    const deadline = Date.now() + 10000;
    for (;;) {
      try {
        const md = await admin.fetchTopicMetadata({ topics: [name] });
        const t = md.topics[0];
        if (t && t.partitions.length === partitions && t.partitions.every((p) => p.leader >= 0)) return;
      } catch {
        // UNKNOWN_TOPIC_OR_PARTITION while the metadata propagates
      }
      if (Date.now() > deadline) throw new Error(`topic ${name} has no leaders for ${partitions} partitions after 10 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await admin.disconnect();
  }
}

function runScript(command: 'start' | 'stop' | 'status', timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [KAFKA_SCRIPT, command],
      { env: process.env, timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          reject(new Error(`kafka.sh ${command} failed (${err.message.split('\n')[0]}):\n${stderr}${stdout}`));
        } else {
          resolve(`${stderr}${stdout}`);
        }
      },
    );
  });
}

/** Starts the broker (idempotent) and resolves once it is healthy. */
export async function startBroker(): Promise<void> {
  await runScript('start', 150_000);
}

/** Stops the broker (idempotent): SIGTERM, then SIGKILL after 30 s. */
export async function stopBroker(): Promise<void> {
  await runScript('stop', 60_000);
}

/**
 * For a suite's before(): skips the suite when no broker answers,
 * except under CI=true where a missing broker is an error.
 */
export async function requireKafka(ctx: Mocha.Context, timeoutMs = 3000): Promise<void> {
  if (await brokerAvailable(timeoutMs)) return;
  const where = bootstrap().join(',');
  unavailable(ctx, `Kafka broker not reachable at ${where}${lastUnavailableReason ? ` (${lastUnavailableReason})` : ''}`, 'npm run kafka:start');
}

/**
 * For a suite's before(): the broker's TLS material, once its SSL listener answers with it; skips the
 * suite otherwise (a broker started by an older kafka.sh has no TLS listeners), except under CI=true.
 */
export async function requireTls(ctx: Mocha.Context, timeoutMs = 5000): Promise<TlsMaterial> {
  await requireKafka(ctx);
  const restart = 'bash scripts/kafka/kafka.sh restart';
  let material: TlsMaterial;
  try {
    material = readTlsMaterial();
  } catch (err) {
    return unavailable(ctx, `no TLS material in ${path.join(kafkaDataDir(), 'tls')} (${err instanceof Error ? err.message : err})`, restart);
  }
  if (!(await brokerAvailable(timeoutMs, { brokers: sslBootstrap(), ssl: { ca: [material.ca] } }))) {
    return unavailable(ctx, `the SSL listener ${sslBootstrap().join(',')} does not answer with the CA of ${kafkaDataDir()} (${lastUnavailableReason})`, restart);
  }
  return material;
}

function unavailable(ctx: Mocha.Context, reason: string, fix: string): never {
  if (process.env.CI === 'true') {
    throw new Error(`${reason}; start it with: ${fix}`);
  }
  // eslint-disable-next-line no-console
  console.log(`    [skip] ${reason}; run "${fix}" to include these tests`);
  ctx.skip();
}
