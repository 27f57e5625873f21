/**
 * The record layout of a changelog topic: how one stateful node's state for one source partition (a
 * "task", as Kafka Streams calls it) is written into a compacted Kafka topic and read back. Framework-free.
 *
 * A checkpoint of task `tp` (`topic:partition` of the source) is a JSON text, cut into chunks of at most
 * {@link CHUNK_CHARS} characters (a Kafka record must stay under the broker's 1 MB default). Records, all
 * in one Kafka transaction, keyed so that compaction keeps exactly the latest checkpoint:
 * - `<tp>#0` … `<tp>#<n-1>`: the chunks;
 * - `<tp>#n`: the number of chunks (`"<n>"`), written last;
 * - tombstones (null values) for the chunks `<tp>#<n>` … of a previous, longer checkpoint.
 * A restore also writes a marker `<tp>#mark` (a value unique to that restore) and reads the partition up
 * to it: everything before the marker is the state to restore, whoever wrote it.
 *
 * Offsets and partitions are not part of the layout: the changelog partition of a task is chosen by the
 * caller (the source partition number), and several source topics may share one changelog partition
 * (their keys differ).
 */

/** Most characters per chunk: at most 3 bytes each in UTF-8, under Kafka's 1 MB record limit. */
export const CHUNK_CHARS = 300_000;

/** A record to write: `value` null is a tombstone. */
export interface ChangelogRecord {
  key: string;
  value: string | null;
}

/**
 * Task keys made so far, by topic and partition: every message of a partition task asks for its key
 * (each stateful node and sink, per message), and the same string each time is neither built again nor
 * hashed again by the maps it is looked up in.
 */
const taskKeys = new Map<string, string[]>();
/** Kept topics at most (a runtime reads few; beyond, the cache starts again). */
const MAX_KEYED_TOPICS = 1024;
/** Partitions kept per topic: numbers beyond are built each time (no sparse array for a wild number). */
const MAX_KEYED_PARTITION = 4096;

/** The task key of a source partition: `topic:partition`. */
export function taskKey(topic: string, partition: number): string {
  if (!(partition >= 0 && partition < MAX_KEYED_PARTITION && Number.isInteger(partition))) return `${topic}:${partition}`;
  let keys = taskKeys.get(topic);
  if (keys === undefined) {
    if (taskKeys.size >= MAX_KEYED_TOPICS) taskKeys.clear();
    taskKeys.set(topic, (keys = []));
  }
  return (keys[partition] ??= `${topic}:${partition}`);
}

/** The source partition of a task key (the inverse of {@link taskKey}; a topic may itself hold `:`). */
export function splitTaskKey(tp: string): { topic: string; partition: number } {
  const i = tp.lastIndexOf(':');
  return { topic: tp.slice(0, i), partition: Number(tp.slice(i + 1)) };
}

/** Key of the restore marker of task `tp`. */
export function markerKey(tp: string): string {
  return `${tp}#mark`;
}

/**
 * The records of one checkpoint of task `tp`: its chunks, tombstones for the chunks of the previous
 * checkpoint beyond this one's count (`previousChunks`), and the count record. Returns them with the
 * new chunk count.
 */
export function checkpointRecords(tp: string, text: string, previousChunks: number, chunkChars = CHUNK_CHARS): { records: ChangelogRecord[]; chunks: number } {
  const records: ChangelogRecord[] = [];
  const chunks = Math.max(1, Math.ceil(text.length / chunkChars));
  for (let i = 0; i < chunks; i++) records.push({ key: `${tp}#${i}`, value: text.slice(i * chunkChars, (i + 1) * chunkChars) });
  for (let i = chunks; i < previousChunks; i++) records.push({ key: `${tp}#${i}`, value: null });
  records.push({ key: `${tp}#n`, value: String(chunks) });
  return { records, chunks };
}

/** Records that delete a task's checkpoint (its chunks and count), e.g. after `msg.reset`. */
export function deleteRecords(tp: string, previousChunks: number): ChangelogRecord[] {
  const records: ChangelogRecord[] = [];
  for (let i = 0; i < previousChunks; i++) records.push({ key: `${tp}#${i}`, value: null });
  records.push({ key: `${tp}#n`, value: null });
  return records;
}

/**
 * Collects the records of a changelog partition read from its start, for the tasks being restored, and
 * gives each task's last checkpoint text. Records of other tasks are ignored.
 */
export class ChangelogReader {
  private readonly latest = new Map<string, Map<string, string | null>>();
  private readonly marks = new Map<string, string>();
  private readonly seen = new Set<string>();

  /** `marks`: per task being restored, the marker value its restore wrote. */
  constructor(marks: ReadonlyMap<string, string>) {
    for (const [tp, mark] of marks) {
      this.marks.set(tp, mark);
      this.latest.set(tp, new Map());
    }
  }

  /** One record (in partition order). Returns the task it completed (its marker), else undefined. */
  add(key: string, value: string | null): string | undefined {
    const hash = key.lastIndexOf('#');
    if (hash < 0) return undefined;
    const tp = key.slice(0, hash);
    const kv = this.latest.get(tp);
    if (kv === undefined || this.seen.has(tp)) return undefined;
    const part = key.slice(hash + 1);
    if (part === 'mark') {
      if (value !== null && value === this.marks.get(tp)) {
        this.seen.add(tp);
        return tp;
      }
      return undefined;
    }
    kv.set(part, value);
    return undefined;
  }

  /** Whether the marker of every task was read. */
  get complete(): boolean {
    return this.seen.size === this.marks.size;
  }

  /**
   * The last complete checkpoint of `tp`: its text and chunk count, or undefined when there is none
   * (never written, deleted, or a chunk is missing: then the task starts empty, which the caller
   * reports).
   */
  checkpoint(tp: string): { text: string; chunks: number } | undefined {
    const kv = this.latest.get(tp);
    const n = kv?.get('n');
    if (kv === undefined || n === undefined || n === null) return undefined;
    const chunks = Number(n);
    if (!Number.isInteger(chunks) || chunks < 1) return undefined;
    const parts: string[] = [];
    for (let i = 0; i < chunks; i++) {
      const c = kv.get(String(i));
      if (c === undefined || c === null) return undefined;
      parts.push(c);
    }
    return { text: parts.join(''), chunks };
  }
}

/**
 * The changelog topic of a stateful node behind a consumer group: `<group>-<node id>-changelog`, as
 * Kafka Streams names `<application.id>-<store>-changelog`. Characters Kafka does not allow in topic
 * names become `_`; the name is cut to Kafka's 249 characters (keeping the node id and suffix).
 */
export function changelogTopic(groupId: string, nodeId: string): string {
  const clean = (s: string) => s.replace(/[^a-zA-Z0-9._-]/g, '_');
  const tail = `-${clean(nodeId)}-changelog`;
  return clean(groupId).slice(0, 249 - tail.length) + tail;
}
