/**
 * The Kafka side of changelog topics: creating them (compacted, one partition per source partition) and
 * reading partitions from their start up to a marker (the restore read). kafkajs has no `assign()`: the
 * read uses a consumer of a throwaway group whose assigner gives its only member exactly the partitions
 * asked for.
 */
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, PartitionAssigner } from 'kafkajs';
import { AssignerProtocol } from './kafkajs';
import { ChangelogReader } from '../lib/changelog';

/**
 * Topic settings of a changelog: compacted (the latest checkpoint per key survives), segments that roll
 * within a minute so that compaction can reach them (a restore reads what compaction left), and room
 * for a checkpoint's records in one batch.
 */
export const CHANGELOG_TOPIC_CONFIG: { name: string; value: string }[] = [
  { name: 'cleanup.policy', value: 'compact' },
  { name: 'segment.ms', value: '60000' },
  { name: 'min.cleanable.dirty.ratio', value: '0.1' },
  { name: 'max.message.bytes', value: '8388608' },
];

/** Create the changelog topics that do not exist yet, with at least `partitions` partitions each. */
export async function ensureChangelogTopics(admin: Admin, topics: string[], partitions: number): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t));
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({ topic, numPartitions: partitions, configEntries: CHANGELOG_TOPIC_CONFIG })),
    });
  }
  const grown = topics.filter((t) => existing.has(t));
  if (grown.length === 0) return;
  const meta = await admin.fetchTopicMetadata({ topics: grown });
  const short = meta.topics.filter((t) => t.partitions.length < partitions);
  if (short.length > 0) await admin.createPartitions({ topicPartitions: short.map((t) => ({ topic: t.name, count: partitions })) });
}

/** Partition count of a topic. */
export async function partitionCount(admin: Admin, topic: string): Promise<number> {
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  return meta.topics[0]?.partitions.length ?? 0;
}

/** An assigner that gives the first member exactly `assignment` (a throwaway group has one member). */
function fixedAssigner(assignment: Record<string, number[]>): PartitionAssigner {
  const name = 'SmokeChangelogRestore';
  return () => ({
    name,
    version: 0,
    protocol: ({ topics }) => ({ name, metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }) }),
    assign: async ({ members }) =>
      members.map((m, i) => ({
        memberId: m.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment: i === 0 ? assignment : {}, userData: Buffer.alloc(0) }),
      })),
  });
}

/**
 * Read changelog partitions from their start until every reader saw its markers. `readers`: changelog
 * topic → partition → the reader collecting that partition's records. Read committed: records of aborted
 * transactions (a fenced zombie's) are never seen. Rejects after `timeoutMs`.
 */
export async function readToMarkers(kafka: Kafka, groupId: string, readers: Map<string, Map<number, ChangelogReader>>, timeoutMs: number): Promise<void> {
  const assignment: Record<string, number[]> = {};
  let remaining = 0;
  for (const [topic, parts] of readers) {
    assignment[topic] = [...parts.keys()];
    for (const r of parts.values()) if (!r.complete) remaining++;
  }
  if (remaining === 0) return;
  const consumer = kafka.consumer({
    groupId: `${groupId}-restore-${randomUUID()}`,
    partitionAssigners: [fixedAssigner(assignment)],
    maxWaitTimeInMs: 100,
    maxBytesPerPartition: 16 * 1024 * 1024,
    retry: { retries: 3, restartOnFailure: async () => false },
  });
  let settle: (err?: unknown) => void = () => undefined;
  const finished = new Promise<void>((resolve, reject) => {
    settle = (err) => (err === undefined ? resolve() : reject(err));
  });
  const timer = setTimeout(() => settle(new Error(`restore read did not reach its markers within ${timeoutMs} ms`)), timeoutMs);
  consumer.on(consumer.events.CRASH, (e) => settle(e.payload.error));
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: Object.keys(assignment), fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const reader = readers.get(batch.topic)?.get(batch.partition);
        if (reader === undefined || reader.complete) return;
        for (const m of batch.messages) {
          if (m.key === null) continue;
          reader.add(m.key.toString('utf8'), m.value === null ? null : m.value.toString('utf8'));
          if (reader.complete) break;
        }
        if (reader.complete && --remaining === 0) settle();
      },
    });
    await finished;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
  }
}
