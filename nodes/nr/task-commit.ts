/**
 * The checkpoint of a partition task (see ./partition-tasks.ts): the stores' state of the task written to
 * their changelogs in one transaction of one of the task's lanes (with any output records a store sends
 * along, an exactly-once `kafka out`'s), then the ack tokens it covers released. A checkpoint in flight
 * on a lane is followed by at most one more, shared by everyone who asked meanwhile; a failed or fenced
 * transaction gives the task up. The records go in as few produce requests as the broker takes (sendAll).
 */
import type { CompressionTypes, Message, Producer } from 'kafkajs';
import { checkpointRecords, deleteRecords, type ChangelogRecord } from '../lib/changelog';
import { isFenced } from '../lib/kafka-errors';
import { release } from './ack';
import { text } from './i18n';
import { errorText } from './kafka-client';
import { messageBytes } from './kafka-producer';
import type { AbortCause, CommitOutcome, Lane, OutputRecords, PartitionStore, Taken, Task } from './task-types';

/** What a checkpoint needs of the partition tasks. */
export interface CommitHost {
  /** The lane's transactional producer, connected. */
  producerOf(t: Task, lane: Lane): Promise<Producer>;
  /** Give task `t` up after its checkpoint failed (`fenced`: another runtime took it over); the consumer rejoins. */
  giveUp(t: Task, why: 'fenced' | 'failed'): void;
  /** Warn once a minute per kind. */
  warnOnce(kind: string, text: string): void;
}

/** After a checkpoint that took d ms, the lane waits COST_RATIO × d: checkpoints take at most about a tenth of the time. */
const COST_RATIO = 9;
/** Bytes of records per send inside a transaction (each send is one batch; the broker's default limit is 1 MB). */
const SEND_BYTES = 512 * 1024;

/**
 * Checkpoint `stores`' state of task `t` in one transaction of `lane`, then release the ack tokens it
 * covers. A checkpoint in flight on the lane is waited for and followed by one more, shared by all who
 * asked meanwhile (the flushes of several sinks, say): one transaction for all their stores.
 */
export function commitLane(host: CommitHost, t: Task, lane: Lane, stores: PartitionStore[]): Promise<CommitOutcome> {
  if (lane.committing) {
    for (const s of stores) lane.nextStores.add(s);
    return (lane.next ??= lane.committing.then(() => {
      const next = [...lane.nextStores];
      lane.nextStores.clear();
      lane.next = null;
      return t.state === 'ready' ? commitLane(host, t, lane, next) : 'gone';
    }));
  }
  // Restoring again (a store joined): commit once it is ready.
  if (t.state === 'restoring') return t.ready.then(() => (t.state === 'ready' ? commitLane(host, t, lane, stores) : 'gone'));
  if (t.state !== 'ready') return Promise.resolve('gone');
  const taken: { store: PartitionStore; taken: Taken; records: ChangelogRecord[]; chunks: number }[] = [];
  for (const store of stores) {
    const tk = store.take(t.tp);
    if (tk === null) continue;
    const prev = t.chunks.get(store.id) ?? 0;
    if (tk.text === null) {
      taken.push({ store, taken: tk, records: prev > 0 ? deleteRecords(t.tp, prev) : [], chunks: 0 });
    } else {
      const { records, chunks } = checkpointRecords(t.tp, tk.text, prev);
      taken.push({ store, taken: tk, records, chunks });
    }
  }
  lane.urgent = false;
  lane.lastAt = Date.now();
  if (taken.length === 0) return Promise.resolve('none');
  if (taken.every((e) => e.records.length === 0 && (e.taken.records?.length ?? 0) === 0)) {
    // Nothing to write (an empty task that never had a checkpoint): the tokens are covered as they are.
    for (const e of taken) {
      e.store.committed?.(t.tp, e.taken);
      for (const token of e.taken.tokens) release(token, e.store.id);
    }
    return Promise.resolve('ok');
  }
  const started = Date.now();
  const run = (async (): Promise<CommitOutcome> => {
    let ok = false;
    try {
      const producer = await host.producerOf(t, lane);
      const txn = await producer.transaction();
      try {
        const all: OutputRecords[] = [];
        for (const e of taken) {
          all.push({ topic: e.store.changelog, messages: e.records.map((r) => ({ key: r.key, value: r.value, partition: t.partition })) });
          for (const out of e.taken.records ?? []) all.push(out);
        }
        await sendAll(txn, all);
        await txn.commit();
        ok = true;
      } catch (err) {
        await txn.abort().catch(() => undefined);
        throw err;
      }
    } catch (err) {
      // A task already given up (fenced, revoked) fails its transaction in flight as a consequence (a
      // closed connection, a disconnected producer): reported by the first cause.
      const fenced = isFenced(err) || t.gone === 'fenced';
      const why: AbortCause = fenced ? 'fenced' : t.gone === 'revoked' || t.gone === 'closed' ? 'moved' : { error: errorText(err) };
      for (const e of taken) e.store.aborted?.(t.tp, e.taken, why);
      // A fenced producer: the partition moved. Any other failure leaves kafkajs' producer unable to
      // start another transaction, and a new one (initialising the transactional id again) is only
      // safe for an owner that was just assigned the partition: a zombie would fence the real owner
      // and then overwrite its checkpoint. So either way the task is given up and the consumer
      // rejoins the group, restoring what it is assigned (as Kafka Streams on a TaskMigratedException).
      if (t.state !== 'gone') {
        if (!fenced) host.warnOnce('checkpoint', text('smoke-kafka-in.warn.checkpoint-failed', { tp: t.tp, error: errorText(err) }));
        host.giveUp(t, fenced ? 'fenced' : 'failed');
      }
    }
    // On failure the task is gone: what it held is dropped with it (the consumer reads again).
    if (ok) {
      for (const e of taken) {
        t.chunks.set(e.store.id, e.chunks);
        e.store.committed?.(t.tp, e.taken);
        for (const token of e.taken.tokens) release(token, e.store.id);
      }
    }
    const end = Date.now();
    lane.notBefore = end + (end - started) * COST_RATIO;
    return ok ? 'ok' : 'gone';
  })().finally(() => {
    lane.committing = null;
  });
  lane.committing = run.then(() => undefined);
  return run;
}

/**
 * Send every record of a transaction in as few requests as the broker takes: one `sendBatch` (one
 * AddPartitionsToTxn and one produce round trip) per compression and ~{@link SEND_BYTES} (the broker
 * refuses requests over 1 MB by default). Each round trip inside a transaction is latency that every
 * output of the transaction waits for.
 */
async function sendAll(txn: Pick<Producer, 'sendBatch'>, lists: OutputRecords[]): Promise<void> {
  const byCompression = new Map<CompressionTypes | undefined, OutputRecords[]>();
  for (const l of lists) {
    if (l.messages.length === 0) continue;
    let g = byCompression.get(l.compression);
    if (g === undefined) byCompression.set(l.compression, (g = []));
    g.push(l);
  }
  for (const [compression, group] of byCompression) {
    let batch = new Map<string, Message[]>();
    let bytes = 0;
    const flush = async () => {
      if (batch.size === 0) return;
      await txn.sendBatch({ topicMessages: [...batch].map(([topic, messages]) => ({ topic, messages })), compression });
      batch = new Map();
      bytes = 0;
    };
    for (const l of group) {
      for (const m of l.messages) {
        const size = messageBytes(m);
        if (bytes > 0 && bytes + size > SEND_BYTES) await flush();
        let list = batch.get(l.topic);
        if (list === undefined) batch.set(l.topic, (list = []));
        list.push(m);
        bytes += size;
      }
    }
    await flush();
  }
}

