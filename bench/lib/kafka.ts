/**
 * Broker helpers of the bench: reachability (starting scripts/kafka/kafka.sh when nothing answers),
 * fresh topics, loading readings, end and committed offsets.
 */
import './package-kafkajs';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Kafka, Partitioners, logLevel, type Admin, type Message, type Producer } from 'kafkajs';

export const KAFKA_SCRIPT = path.resolve(__dirname, '..', '..', 'scripts', 'kafka', 'kafka.sh');

export function kafkaClient(brokers: string[], clientId = 'smoke-bench'): Kafka {
  return new Kafka({
    clientId,
    brokers,
    logLevel: process.env.KAFKAJS_LOG === 'warn' ? logLevel.WARN : logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 30000,
  });
}

export async function brokerAvailable(brokers: string[], timeoutMs = 3000): Promise<boolean> {
  const admin = new Kafka({ clientId: 'smoke-bench-probe', brokers, logLevel: logLevel.NOTHING, connectionTimeout: timeoutMs, retry: { retries: 0 } }).admin();
  try {
    await admin.connect();
    const c = await admin.describeCluster();
    return c.brokers.length > 0;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Resolves true once a broker answers, starting the local one with kafka.sh when none does. */
export async function ensureBroker(brokers: string[], log: (s: string) => void): Promise<boolean> {
  if (await brokerAvailable(brokers)) return true;
  log(`no Kafka broker at ${brokers.join(',')}: starting it with bash scripts/kafka/kafka.sh start`);
  const ok = await new Promise<boolean>((resolve) => {
    execFile('bash', [KAFKA_SCRIPT, 'start'], { timeout: 180_000, maxBuffer: 8 << 20 }, (err, _out, stderr) => {
      if (err) log(`kafka.sh start failed: ${err.message.split('\n')[0]}\n${stderr.split('\n').slice(-5).join('\n')}`);
      resolve(!err);
    });
  });
  return ok && (await brokerAvailable(brokers, 5000));
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export async function createTopic(admin: Admin, topic: string, partitions: number): Promise<void> {
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true, timeout: 15000 });
  const deadline = Date.now() + 15000;
  for (;;) {
    try {
      const md = await admin.fetchTopicMetadata({ topics: [topic] });
      const t = md.topics[0];
      if (t && t.partitions.length === partitions && t.partitions.every((p) => p.leader >= 0)) return;
    } catch {
      // UNKNOWN_TOPIC_OR_PARTITION while the metadata propagates
    }
    if (Date.now() > deadline) throw new Error(`topic ${topic} has no leaders after 15 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Sum of the latest offsets (high watermarks) of a topic. */
export async function endOffsets(admin: Admin, topic: string): Promise<Map<number, bigint>> {
  const offs = await admin.fetchTopicOffsets(topic);
  return new Map(offs.map((o) => [o.partition, BigInt(o.offset)]));
}

/** True when the group's committed offsets have reached `ends` on every partition. */
export async function committedAtEnd(admin: Admin, groupId: string, topic: string, ends: Map<number, bigint>): Promise<boolean> {
  const res = await admin.fetchOffsets({ groupId, topics: [topic] });
  const parts = res.find((t) => t.topic === topic)?.partitions ?? [];
  for (const [p, end] of ends) {
    const c = parts.find((x) => x.partition === p);
    if (end === 0n) continue;
    if (!c || c.offset === '-1' || BigInt(c.offset) < end) return false;
  }
  return true;
}

export function producerFor(kafka: Kafka): Producer {
  // The Java client's murmur2 partitioner, as kafka out uses: one device always lands on one partition.
  return kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
}

/**
 * Produces `total` messages made by `make(n)` in chunks, a few requests in flight.
 * Resolves with the elapsed milliseconds.
 */
export async function produceAll(
  producer: Producer,
  topic: string,
  total: number,
  make: (n: number) => Message,
  chunk = 2000,
  inFlight = 4,
  onProgress?: (done: number) => void,
): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < total) {
      const start = next;
      const end = Math.min(total, start + chunk);
      next = end;
      const messages: Message[] = new Array(end - start);
      for (let n = start; n < end; n++) messages[n - start] = make(n);
      await producer.send({ topic, messages, acks: -1 });
      done += end - start;
      onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return performance.now() - t0;
}

/**
 * What stateful nodes behind a consumer group leave on the broker (nodes/nr/partition-tasks.ts): the
 * changelog topics `<group>-<node id>-changelog` and the throwaway restore groups `<group>-restore-<uuid>`.
 * Deletes those of `groupIds`; returns how many topics and groups went.
 */
export async function deleteStateOf(admin: Admin, groupIds: string[]): Promise<{ topics: number; groups: number }> {
  if (groupIds.length === 0) return { topics: 0, groups: 0 };
  const ours = (name: string, suffix: string) => groupIds.some((g) => name.startsWith(`${g}-`) && name.endsWith(suffix));
  const topics = (await admin.listTopics()).filter((t) => ours(t, '-changelog'));
  if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 15000 });
  const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => groupIds.some((id) => g.startsWith(`${id}-restore-`)));
  if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
  return { topics: topics.length, groups: groups.length };
}

/**
 * Every record of `topic` a reader with this isolation sees (default read_committed, what a user of an
 * exactly-once pipeline's outputs reads), passed to `onValue`. A plain (non-transactional) end mark is
 * written to each partition first, and a fresh consumer group reads until it has seen every mark: with
 * read_committed a partition's records beyond an open transaction would hold the mark back, so the
 * caller makes sure the writers are done. Resolves with the records seen (marks excluded); the group
 * is deleted afterwards.
 */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  onValue: (value: Buffer | null, partition: number) => void,
  opts: { readUncommitted?: boolean; timeoutMs?: number } = {},
): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = uniqueName('smoke-bench-reader');
  const mark = `bench-end-mark-${randomBytes(6).toString('hex')}`;
  const consumer = kafka.consumer({ groupId, readUncommitted: opts.readUncommitted === true, maxWaitTimeInMs: 200, sessionTimeout: 30000 });
  try {
    const partitions = (await admin.fetchTopicOffsets(topic)).map((o) => o.partition);
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: partitions.map((partition) => ({ partition, value: mark })) });
    await producer.disconnect();
    let seen = 0;
    const marked = new Set<number>();
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`read of ${topic}: only ${marked.size} of ${partitions.length} end marks within ${(opts.timeoutMs ?? 60_000) / 1000} s`)),
        opts.timeoutMs ?? 60_000,
      );
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            for (const m of batch.messages) {
              if (m.value !== null && m.value.length === mark.length && m.value.toString() === mark) {
                marked.add(batch.partition);
                continue;
              }
              seen++;
              onValue(m.value, batch.partition);
            }
            if (marked.size === partitions.length) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    return seen;
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}
