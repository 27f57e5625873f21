/**
 * A consumer of an output topic (the alerts kafka out writes), run as a child of the latency scenario so
 * that the time it sees a record is not held up by the Node-RED process's event loop: what a user of the
 * output sees. read_committed by default (records of a transaction appear when it commits). Each record
 * is reported with the time its fetch returned (Date.now(), the clock the paced producer stamps records
 * with).
 *
 * argv[2]: JSON AlertReaderConfig. IPC out: { type: 'ready' } once the group is joined, then
 * { type: 'seen', items: [deviceId, timestamp, seenAt][] } per fetched batch; on { type: 'stop' } it
 * disconnects and answers { type: 'stopped', records }; { type: 'error', error } when it fails.
 */
import { kafkaClient, uniqueName } from './kafka';

export interface AlertReaderConfig {
  brokers: string[];
  topic: string;
  readUncommitted?: boolean;
  /** Most time the broker holds a fetch that found nothing new, ms (small: it bounds what a missed wake-up adds). */
  maxWaitMs?: number;
}

/** [deviceId, event-time timestamp (ms), seen at (Date.now())]. */
export type SeenItem = [string, number, number];

export type AlertReaderMessage =
  | { type: 'ready' }
  | { type: 'seen'; items: SeenItem[] }
  | { type: 'stopped'; records: number }
  | { type: 'error'; error: string };

const send = (m: AlertReaderMessage, cb: () => void = () => undefined) => process.send?.(m, cb);

async function main(cfg: AlertReaderConfig): Promise<void> {
  const kafka = kafkaClient(cfg.brokers, 'smoke-bench-alert-reader');
  const groupId = uniqueName('smoke-bench-alert-reader');
  const consumer = kafka.consumer({ groupId, readUncommitted: cfg.readUncommitted === true, maxWaitTimeInMs: cfg.maxWaitMs ?? 25, sessionTimeout: 30000 });
  let records = 0;
  let stopping = false;
  process.on('message', (m: { type?: string }) => {
    if (m?.type !== 'stop' || stopping) return;
    stopping = true;
    void (async () => {
      await consumer.disconnect().catch(() => undefined);
      const admin = kafka.admin();
      await admin.connect().catch(() => undefined);
      await admin.deleteGroups([groupId]).catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
      send({ type: 'stopped', records }, () => process.exit(0));
    })();
  });
  await consumer.connect();
  consumer.on(consumer.events.GROUP_JOIN, () => send({ type: 'ready' }));
  await consumer.subscribe({ topics: [cfg.topic], fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const seenAt = Date.now();
      const items: SeenItem[] = [];
      for (const m of batch.messages) {
        records++;
        try {
          const a = JSON.parse(m.value?.toString() ?? 'null') as { deviceId?: unknown; timestamp?: unknown } | null;
          if (a) items.push([String(a.deviceId), Number(a.timestamp), seenAt]);
        } catch {
          // not an alert: counted, not timed
        }
      }
      if (items.length) send({ type: 'seen', items });
    },
  });
}

main(JSON.parse(process.argv[2] ?? '{}') as AlertReaderConfig).catch((e: unknown) =>
  send({ type: 'error', error: e instanceof Error ? (e.stack ?? e.message) : String(e) }, () => process.exit(1)),
);
