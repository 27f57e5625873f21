/**
 * The restore of partition tasks (see ./partition-tasks.ts; model: Kafka Streams' StoreChangelogReader):
 * when `kafka in` is assigned a partition, its task fences the previous owner (initialising the task's
 * transactional ids aborts what that one left open), writes a marker into every store's changelog
 * partition, reads each from its start up to the marker and hands every store its state. Retried with
 * a backoff until done or the task is gone. Also the read-only look at a changelog's last checkpoint
 * (readLatest) that a store's crash recovery uses.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka, Producer } from 'kafkajs';
import { markerKey, splitTaskKey, ChangelogReader } from '../lib/changelog';
import { ensureChangelogTopics, partitionCount, readToMarkers } from './changelog-io';
import { text } from './i18n';
import { errorText } from './kafka-client';
import type { Lane, PartitionStore, PartitionTasksOptions, Task } from './task-types';

/** What a restore needs of the partition tasks. */
export interface RestoreHost {
  /** The lane's transactional producer, connected. */
  producerOf(t: Task, lane: Lane): Promise<Producer>;
  /** Drop the lane's producer (after a failed transaction): the next use connects a new one. */
  replaceProducer(lane: Lane): void;
  /** The tasks are closing: restores stop. */
  closing(): boolean;
  /** Warn once a minute per kind. */
  warnOnce(kind: string, text: string): void;
}

export class TaskRestore {
  private readonly topicsReady = new Set<string>();
  private readonly partitions = new Map<string, number>();
  private restoring = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly o: PartitionTasksOptions,
    private readonly restoreTimeoutMs: number,
    private readonly host: RestoreHost,
  ) {}

  /** Restore `tasks` for `stores`: fence, mark, read to the marks, hand each store its state. Retried until done or gone. */
  async restoreRound(tasks: Task[], stores: PartitionStore[]): Promise<void> {
    this.restoring += tasks.length;
    this.o.changed(this.restoring);
    const started = Date.now();
    let delay = 500;
    try {
      for (;;) {
        const live = tasks.filter((t) => t.state === 'restoring');
        if (live.length === 0 || this.host.closing()) return;
        try {
          const devices = stores.length === 0 ? 0 : await this.restoreOnce(live, stores);
          for (const t of live) {
            if (t.state !== 'restoring') continue;
            t.state = 'ready';
            t.main.lastAt = t.fast.lastAt = Date.now();
            t.resolve();
          }
          if (stores.length > 0) {
            const tps = live.map((t) => t.tp).join(', ');
            this.o.log(text('smoke-kafka-in.log.restored', { tps, devices, count: stores.length, ms: Date.now() - started }));
          }
          return;
        } catch (err) {
          this.host.warnOnce('restore', text('smoke-kafka-in.warn.restore-failed', { tps: live.map((t) => t.tp).join(', '), error: errorText(err) }));
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 10_000);
        }
      }
    } finally {
      this.restoring -= tasks.length;
      this.o.changed(this.restoring);
    }
  }

  /** Create the stores' changelog topics when missing: as many partitions as the largest source topic has. */
  private async prepareTopics(sources: { topic: string; partition: number }[], stores: PartitionStore[]): Promise<void> {
    const missing = stores.map((s) => s.changelog).filter((c) => !this.topicsReady.has(c));
    if (missing.length === 0) return;
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      let need = 1;
      for (const t of sources) {
        let n = this.partitions.get(t.topic);
        if (n === undefined) this.partitions.set(t.topic, (n = await partitionCount(admin, t.topic)));
        need = Math.max(need, n, t.partition + 1);
      }
      await ensureChangelogTopics(admin, missing, need);
      for (const c of missing) this.topicsReady.add(c);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private async restoreOnce(tasks: Task[], stores: PartitionStore[]): Promise<number> {
    await this.prepareTopics(tasks, stores);
    // Fence the previous owner and mark where this restore ends, one task at a time in parallel.
    const marks = new Map<string, string>();
    await Promise.all(
      tasks.map(async (t) => {
        // Fence both lanes' previous owners (initialising a transactional id aborts what they left open),
        // then write the marks through the main lane.
        const fast = await this.host.producerOf(t, t.fast);
        const fence = await fast.transaction();
        await fence.commit();
        const producer = await this.host.producerOf(t, t.main);
        const mark = randomUUID();
        const txn = await producer.transaction();
        try {
          for (const s of stores) await txn.send({ topic: s.changelog, messages: [{ key: markerKey(t.tp), value: mark, partition: t.partition }] });
          await txn.commit();
        } catch (err) {
          await txn.abort().catch(() => undefined);
          this.host.replaceProducer(t.main);
          throw err;
        }
        marks.set(t.tp, mark);
      }),
    );
    const readers = new Map<string, Map<number, ChangelogReader>>();
    for (const s of stores) {
      const parts = new Map<number, ChangelogReader>();
      for (const t of tasks) {
        const byPart = new Map(tasks.filter((u) => u.partition === t.partition).map((u) => [u.tp, marks.get(u.tp)!]));
        if (!parts.has(t.partition)) parts.set(t.partition, new ChangelogReader(byPart));
      }
      readers.set(s.changelog, parts);
    }
    await readToMarkers(this.kafka, this.o.groupId, readers, this.restoreTimeoutMs);
    let devices = 0;
    for (const s of stores) {
      for (const t of tasks) {
        if (t.state !== 'restoring') continue;
        const cp = readers.get(s.changelog)!.get(t.partition)!.checkpoint(t.tp);
        t.chunks.set(s.id, cp?.chunks ?? 0);
        devices += s.restore(t.tp, cp?.text, t.epoch);
      }
    }
    return devices;
  }

  /**
   * The last checkpoint of `tp` in `store`'s changelog, whoever owns the partition now (read-only: a
   * plain marker write, no fencing). For a store's crash recovery.
   */
  async readLatest(store: PartitionStore, tp: string, partition: number): Promise<string | undefined> {
    await this.prepareTopics([{ topic: splitTaskKey(tp).topic, partition }], [store]);
    const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const mark = randomUUID();
    try {
      await producer.send({ topic: store.changelog, acks: -1, messages: [{ key: markerKey(tp), value: mark, partition }] });
    } finally {
      await producer.disconnect().catch(() => undefined);
    }
    const reader = new ChangelogReader(new Map([[tp, mark]]));
    await readToMarkers(this.kafka, this.o.groupId, new Map([[store.changelog, new Map([[partition, reader]])]]), this.restoreTimeoutMs);
    return reader.checkpoint(tp)?.text;
  }
}
