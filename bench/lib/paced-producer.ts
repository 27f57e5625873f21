/**
 * A producer at a fixed offered rate, run as a child of the latency scenario so that its encoding work
 * does not share the event loop of the Node-RED process it measures. Each record's Kafka timestamp is
 * set when it is handed to the client (Date.now(), the same realtime clock the measuring process reads).
 *
 * argv[2]: JSON PacedConfig. IPC out: { type: 'start', measureFrom } first, then
 * { type: 'done', produced, achievedRate } or { type: 'error', error }.
 */
import type { Message } from 'kafkajs';
import { loadDataset, readingAt } from './dataset';
import { kafkaClient, producerFor } from './kafka';
import { sleep } from './stats';

export interface PacedConfig {
  brokers: string[];
  topic: string;
  rate: number;
  warmupS: number;
  seconds: number;
  devices: number;
}

export type PacedMessage =
  | { type: 'start'; measureFrom: number }
  | { type: 'done'; produced: number; achievedRate: number }
  | { type: 'error'; error: string };

/** Most readings per produce request: a request over the broker's message.max.bytes (1 MB) is refused. */
const MAX_PER_SEND = 1000;

async function main(cfg: PacedConfig): Promise<PacedMessage> {
  const ds = loadDataset();
  const producer = producerFor(kafkaClient(cfg.brokers, 'smoke-bench-paced'));
  await producer.connect();
  try {
    const total = Math.round(cfg.rate * (cfg.warmupS + cfg.seconds));
    const warmupCount = Math.round(cfg.rate * cfg.warmupS);
    const start = Date.now();
    const measureFrom = start + cfg.warmupS * 1000;
    process.send?.({ type: 'start', measureFrom } satisfies PacedMessage);
    let produced = 0;
    let measuredAt = 0;
    const sends: Promise<unknown>[] = [];
    // Pace in ~2 ms steps: each step sends what the rate owes by now.
    while (produced < total) {
      const t = Date.now();
      const due = Math.min(total, Math.floor(((t - start) / 1000) * cfg.rate));
      if (due > produced) {
        if (produced <= warmupCount && due > warmupCount) measuredAt = t;
        for (let from = produced; from < due; from += MAX_PER_SEND) {
          const messages: Message[] = [];
          for (let n = from; n < Math.min(due, from + MAX_PER_SEND); n++) {
            const r = readingAt(ds, n, cfg.devices);
            messages.push({ key: r.device_id as string, value: JSON.stringify(r), timestamp: String(t) });
          }
          sends.push(producer.send({ topic: cfg.topic, messages, acks: -1 }));
        }
        produced = due;
      }
      await sleep(2);
    }
    const end = Date.now();
    await Promise.all(sends);
    return { type: 'done', produced, achievedRate: ((total - warmupCount) / Math.max(1, end - measuredAt)) * 1000 };
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}

main(JSON.parse(process.argv[2] ?? '{}') as PacedConfig).then(
  (m) => process.send?.(m, () => process.exit(0)),
  (e: unknown) => process.send?.({ type: 'error', error: e instanceof Error ? (e.stack ?? e.message) : String(e) } satisfies PacedMessage, () => process.exit(1)),
);
