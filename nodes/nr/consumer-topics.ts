/**
 * What `kafka in` watches of its topics besides their records: the lag of this member's partitions (log
 * end minus committed offset, every `lagIntervalMs`: the status, output 3 and the lag gauge) and a topic
 * deleted or recreated under the consumer (lib/topic-watch.ts), reported once (a warning, the status)
 * and answered by a rejoin, since the consumer's positions belong to the old log.
 */
import type { Admin } from 'kafkajs';
import { isUnknownTopic } from '../lib/kafka-errors';
import { addTopicLag, type Lag } from '../lib/kafka-lag';
import { TopicWatch, type PartitionOffsets, type TopicEvent } from '../lib/topic-watch';
import { rejectAfter } from './kafka-client';
import type { Translate } from './i18n';
import type { NodeMetrics } from './metrics';
import { thousands, type StatusKind } from './status';

/** How long the status says "topic recreated" after the log line that tells what happened. */
const TOPIC_ALERT_MS = 60_000;

/** What the watch needs of the consumer. */
export interface WatchedConsumer {
  stopping(): boolean;
  /** In the group (joined, not rebalancing). */
  joined(): boolean;
  /** The broker is known to be down: no admin requests. */
  brokerDown(): boolean;
  admin(): Promise<Admin>;
  /** The member's partitions per topic (null: none known yet). */
  assignment(): Record<string, number[]> | null;
  /** The member is in the group and sees its topics. */
  inGroup(): void;
  /** Leave and rejoin the group (quietly: a restart that is no failure). */
  rejoin(why: Error): void;
  warn(text: string): void;
  /** The status may have changed. */
  show(): void;
}

export class TopicMonitor {
  /** Lag per topic and partition at the last check (null: none yet). */
  lag: Lag | null = null;
  lagTotal: number | null = null;
  /** A deleted or recreated topic, shown in the status (red while it is missing, then yellow for a minute). */
  topicAlert: { kind: StatusKind; text: string; until: number } | null = null;
  private lagBusy = false;
  private readonly topicWatch = new TopicWatch();

  constructor(
    private readonly o: { topics: string[]; groupId: string; lagIntervalMs: number },
    private readonly metrics: Pick<NodeMetrics, 'replaceLag'>,
    /** kafka in's `RED._`: the warnings and the status are its texts. */
    private readonly t: Translate,
    private readonly consumer: WatchedConsumer,
  ) {}

  /**
   * Lag of this member's partitions (log end minus committed offset), and the watch on every partition
   * of the topics: a topic that disappeared or whose offsets went back is reported (see noticeTopic).
   */
  async refreshLag(): Promise<void> {
    const c = this.consumer;
    if (this.lagBusy || c.stopping() || c.brokerDown()) return;
    this.lagBusy = true;
    try {
      const admin = await c.admin();
      const budget = Math.max(1000, this.o.lagIntervalMs);
      const lag: Lag = {};
      let total = 0;
      for (const topic of this.o.topics) {
        const offsets = await this.topicOffsets(admin, topic, budget);
        if (c.stopping()) return;
        this.noticeTopic(topic, offsets);
        total += addTopicLag(lag, topic, offsets, c.assignment()?.[topic]);
      }
      if (!c.stopping() && c.joined()) {
        this.lag = lag;
        this.lagTotal = total;
        // Replace, not add: partitions lost in a rebalance must not keep their last lag.
        this.metrics.replaceLag(lag);
        // A member that is in the group and sees its topics is past any passing metadata errors.
        c.inGroup();
      }
    } catch {
      // lag is a nice-to-have; the broker probe reports reachability
    } finally {
      this.lagBusy = false;
    }
  }

  /** Every partition of `topic` with the group's committed offset; null when the topic does not exist. */
  private async topicOffsets(admin: Admin, topic: string, budget: number): Promise<PartitionOffsets[] | null> {
    try {
      // Committed offsets first: offsets only grow, so a committed offset above a log end read after it
      // belongs to an older log of the topic.
      const committed = await rejectAfter(admin.fetchOffsets({ groupId: this.o.groupId, topics: [topic] }), budget, 'fetchOffsets');
      const ends = await rejectAfter(admin.fetchTopicOffsets(topic), budget, 'fetchTopicOffsets');
      const done = committed.find((t) => t.topic === topic)?.partitions ?? [];
      return ends.map((e) => ({
        partition: e.partition,
        high: Number(e.high),
        low: Number(e.low),
        committed: Number(done.find((d) => d.partition === e.partition)?.offset ?? -1),
      }));
    } catch (err) {
      if (isUnknownTopic(err)) return null;
      throw err;
    }
  }

  /**
   * Report a deleted or recreated topic once (a warning, and the status), and rejoin the group when it
   * exists again: the consumer's positions and the offsets held for commits belong to the old log, and
   * the new one may have other partitions.
   */
  private noticeTopic(topic: string, offsets: PartitionOffsets[] | null): void {
    const ev = this.topicWatch.observe(topic, offsets);
    if (ev === null) return;
    const t = this.t;
    if (ev.kind === 'deleted') {
      this.consumer.warn(t('smoke-kafka-in.warn.topic-deleted', { topic, unread: unreadText(t, ev.unread) }));
      this.topicAlert = { kind: 'failed', text: t('smoke-kafka-in.status.topic-deleted'), until: Infinity };
    } else {
      if (ev.kind === 'recreated') this.consumer.warn(t('smoke-kafka-in.warn.topic-recreated', { topic, back: backText(t, ev), unread: unreadText(t, ev.unread) }));
      this.topicAlert = { kind: 'connecting', text: t('smoke-kafka-in.status.topic-recreated'), until: Date.now() + TOPIC_ALERT_MS };
      this.consumer.rejoin(new Error(t('smoke-kafka-in.errors.topic-recreated', { topic })));
    }
    this.consumer.show();
  }
}

/** What a deleted topic took with it, from the group's lag at the last check. */
function unreadText(t: Translate, unread: number): string {
  return unread > 0 ? t('smoke-kafka-in.topic.unread', { count: thousands(unread) }) : t('smoke-kafka-in.topic.unread-none');
}

/** "offsets went back on partition 0 (260 → 18), partition 1 (140 → 6); 2 → 4 partitions". */
function backText(t: Translate, ev: Extract<TopicEvent, { kind: 'recreated' }>): string {
  const shown = ev.back.slice(0, 3).map((b) => t('smoke-kafka-in.topic.back-partition', { partition: b.partition, from: thousands(b.from), to: thousands(b.to) }));
  if (ev.back.length > 3) shown.push(t('smoke-kafka-in.topic.back-more', { count: ev.back.length - 3 }));
  const partitions = shown.join(', ');
  if (ev.partitionsNow === ev.partitionsBefore) return t('smoke-kafka-in.topic.back', { partitions });
  return t('smoke-kafka-in.topic.back-resized', { partitions, before: ev.partitionsBefore, now: ev.partitionsNow });
}
