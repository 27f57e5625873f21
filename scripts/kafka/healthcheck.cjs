'use strict';
// Readiness probe for scripts/kafka/kafka.sh: exits 0 when a Kafka broker at the
// given bootstrap address answers a kafkajs admin describeCluster(), 1 otherwise.
// Usage: node healthcheck.cjs [host:port[,host:port]] [timeoutMs]
const path = require('node:path');

const repoRoot = path.resolve(__dirname, '..', '..');
let kafkajs;
try {
  kafkajs = require(require.resolve('kafkajs', { paths: [repoRoot, process.cwd()] }));
} catch {
  process.stderr.write('healthcheck: kafkajs not installed\n');
  process.exit(2);
}
const { Kafka, logLevel } = kafkajs;
const brokers = (process.argv[2] || '127.0.0.1:9092').split(',').map((s) => s.trim()).filter(Boolean);
const timeoutMs = Number(process.argv[3] || 3000);

const timer = setTimeout(() => {
  process.stderr.write(`healthcheck: no answer from ${brokers.join(',')} within ${timeoutMs} ms\n`);
  process.exit(1);
}, timeoutMs);

(async () => {
  const kafka = new Kafka({
    clientId: 'smoke-stream-healthcheck',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: Math.min(1000, timeoutMs),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (!cluster.brokers || cluster.brokers.length === 0 || cluster.controller == null) {
      throw new Error('cluster has no brokers or no controller yet');
    }
    process.stdout.write(`ok ${cluster.clusterId} brokers=${cluster.brokers.length}\n`);
    clearTimeout(timer);
    await admin.disconnect().catch(() => {});
    process.exit(0);
  } catch (err) {
    process.stderr.write(`healthcheck: ${err && err.message ? err.message : err}\n`);
    clearTimeout(timer);
    await admin.disconnect().catch(() => {});
    process.exit(1);
  }
})();
