/**
 * (d) End-to-end alert latency at a fixed offered rate: a producer in this process writes readings at
 * `rate` per second (each record's timestamp set when it is produced) into a fresh topic that the full
 * pipeline consumes; an onSend hook notes when a detector emits an alert on its output 2. Producer and
 * Node-RED share one process and so one clock (performance.timeOrigin + performance.now()).
 * Alerts of readings produced during the warm-up are not counted.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Message } from 'kafkajs';
import { scenarioMain } from '../lib/child';
import { loadDataset, readingAt, readingKey } from '../lib/dataset';
import { DETECTOR_TYPES, pipelineFlow } from '../lib/flows';
import { createTopic, kafkaClient, producerFor } from '../lib/kafka';
import { benchGlobal, startNodeRed, type SendEvent } from '../lib/nodered';
import { Samples, sleep, summarise, waitFor, type LatencySummary } from '../lib/stats';

export interface LatencyConfig {
  brokers: string[];
  topic: string;
  groupId: string;
  partitions: number;
  mode: 'single' | 'batch';
  maxBatch?: number;
  rate: number;
  warmupS: number;
  seconds: number;
  devices: number;
}

export interface LatencyResult {
  mode: 'single' | 'batch';
  rate: number;
  /** Readings produced per second in the measured part (the offered rate actually achieved). */
  achievedRate: number;
  produced: number;
  alerts: LatencySummary;
  byDetector: Record<string, LatencySummary>;
  /** Produce → kafka in emits the record (the broker and the client's share of the latency). */
  toKafkaIn: LatencySummary;
  /** Produce → the reading's row durably in the CSV (after the sink's flush and fsync). */
  durable: LatencySummary;
  unmatchedAlerts: number;
  problems: string[];
}

const now = () => performance.timeOrigin + performance.now();

interface AlertLike {
  deviceId?: unknown;
  timestamp?: unknown;
}

/** A record as kafka in emits it: the seed's Kaggle-headed JSON. */
interface RawLike {
  device_id?: unknown;
  UTC?: unknown;
}

/** Most readings per produce request: a request over the broker's message.max.bytes (1 MB) is refused. */
const MAX_PER_SEND = 1000;

scenarioMain<LatencyConfig, LatencyResult>(async (cfg) => {
  const ds = loadDataset();
  const csvDir = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-bench-csv-'));
  const kafka = kafkaClient(cfg.brokers, 'smoke-bench-latency');
  const admin = kafka.admin();
  await admin.connect();
  await createTopic(admin, cfg.topic, cfg.partitions);
  const producer = producerFor(kafka);
  await producer.connect();
  const nr = await startNodeRed(pipelineFlow({ kafka: cfg, csvDir }));
  const g = benchGlobal();
  try {
    // Start producing only once kafka in owns the partitions, or the first readings wait for the join.
    const joined = await waitFor(
      async () => {
        const d = await admin.describeGroups([cfg.groupId]);
        const grp = d.groups[0];
        return grp?.state === 'Stable' && grp.members.length > 0;
      },
      30_000,
      100,
    );
    if (!joined) throw new Error(`kafka in did not join group ${cfg.groupId} within 30 s`);
    await sleep(500);

    const producedAt = new Map<string, number>();
    let measureFrom = Infinity;
    const alertSamples = new Samples();
    const perDetector = new Map<string, Samples>(DETECTOR_TYPES.map((t) => [t, new Samples()]));
    const durableSamples = new Samples();
    const kinSamples = new Samples();
    let unmatched = 0;
    const record = (p: AlertLike, t: number, into: Samples, also?: Samples): void => {
      const at = producedAt.get(readingKey(String(p.deviceId), Number(p.timestamp)));
      if (at === undefined) {
        unmatched++;
        return;
      }
      if (at < measureFrom) return;
      into.push(t - at);
      also?.push(t - at);
    };
    const recordRaw = (r: RawLike, t: number): void => {
      const at = producedAt.get(readingKey(String(r.device_id), Number(r.UTC) * 1000));
      if (at !== undefined && at >= measureFrom) kinSamples.push(t - at);
    };
    nr.RED.hooks.add('onSend.benchlatency', (events: SendEvent[]) => {
      const t = now();
      for (const e of events) {
        if (e.source.id === 'kin' && e.source.port === 0) {
          const p = e.msg.payload as RawLike | RawLike[];
          if (Array.isArray(p)) for (const r of p) recordRaw(r, t);
          else recordRaw(p, t);
          continue;
        }
        if (e.source.port !== 1 || !DETECTOR_TYPES.includes(e.source.node.type)) continue;
        const per = perDetector.get(e.source.node.type);
        const p = e.msg.payload as AlertLike | AlertLike[];
        if (Array.isArray(p)) for (const a of p) record(a, t, alertSamples, per);
        else record(p, t, alertSamples, per);
      }
    });
    g.listeners.set('durable', (_n, msg) => {
      const t = now();
      const p = msg.payload as AlertLike | AlertLike[];
      if (Array.isArray(p)) for (const r of p) record(r, t, durableSamples);
      else record(p, t, durableSamples);
    });

    const total = Math.round(cfg.rate * (cfg.warmupS + cfg.seconds));
    const warmupCount = Math.round(cfg.rate * cfg.warmupS);
    let produced = 0;
    let measuredStart = 0;
    const sends: Promise<unknown>[] = [];
    const start = now();
    // Pace in 2 ms steps: each step sends what the rate owes by now, stamped with the send time.
    while (produced < total) {
      const due = Math.min(total, Math.floor(((now() - start) / 1000) * cfg.rate));
      if (due > produced) {
        const t = now();
        if (produced <= warmupCount && due > warmupCount) {
          measureFrom = t;
          measuredStart = t;
        }
        const messages: Message[] = [];
        for (let n = produced; n < due; n++) {
          const r = readingAt(ds, n, cfg.devices);
          producedAt.set(readingKey(r.device_id as string, (r.UTC as number) * 1000), t);
          messages.push({ key: r.device_id as string, value: JSON.stringify(r), timestamp: String(Math.round(t)) });
        }
        produced = due;
        for (let i = 0; i < messages.length; i += MAX_PER_SEND) {
          sends.push(producer.send({ topic: cfg.topic, messages: messages.slice(i, i + MAX_PER_SEND), acks: -1 }));
        }
      }
      await sleep(2);
    }
    const measuredEnd = now();
    await Promise.all(sends);
    const durable = g.taps.get('durable')!;
    const rejected = g.taps.get('rejected')!;
    const drained = await waitFor(() => durable.records + rejected.records >= total, 60_000, 10);
    if (!drained) throw new Error(`latency run: ${durable.records} of ${total} readings written within 60 s after producing`);
    const measured = total - warmupCount;
    const byDetector: Record<string, LatencySummary> = {};
    for (const [t, s] of perDetector) byDetector[t.replace(/^smoke-/, '')] = summarise(s.values());
    return {
      mode: cfg.mode,
      rate: cfg.rate,
      achievedRate: (measured / (measuredEnd - measuredStart)) * 1000,
      produced: total,
      alerts: summarise(alertSamples.values()),
      byDetector,
      toKafkaIn: summarise(kinSamples.values()),
      durable: summarise(durableSamples.values()),
      unmatchedAlerts: unmatched,
      problems: nr.problems.slice(0, 20),
    };
  } finally {
    nr.RED.hooks.remove('onSend.benchlatency');
    await nr.stop().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await admin.deleteTopics({ topics: [cfg.topic] }).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    fs.rmSync(csvDir, { recursive: true, force: true });
  }
});
