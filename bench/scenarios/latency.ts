/**
 * (d) End-to-end alert latency at a fixed offered rate: a paced producer (a child process of its own,
 * bench/lib/paced-producer.ts) writes readings at `rate` per second into a fresh topic, each record's
 * Kafka timestamp set when it is produced; the full pipeline consumes it; onSend hooks note when
 * kafka in emits each record (its record timestamp, looked up later by device and event time) and when
 * a detector emits an alert on its output 2. Both processes read the same realtime clock (Date.now(),
 * whole milliseconds, as Kafka timestamps are). Alerts of readings produced during the warm-up are not
 * counted.
 *
 * `outputs` (section (g), exactly-once Kafka out): the detectors' alerts (and window results) also go to
 * fresh topics through kafka out, kafka in's `processing` as given, and a kafkajs consumer of the alerts
 * topic in a process of its own (lib/alert-reader.ts, read_committed) notes when each alert becomes
 * visible there: produce → alert as a user of the output sees it. Exactly-once makes an alert visible
 * only when its partition's transaction commits.
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { scenarioMain } from '../lib/child';
import { readingKey } from '../lib/dataset';
import type { AlertReaderConfig, AlertReaderMessage, SeenItem } from '../lib/alert-reader';
import { ALERTS_OUT, DETECTOR_TYPES, pipelineFlow } from '../lib/flows';
import { createTopic, deleteStateOf, kafkaClient } from '../lib/kafka';
import { benchGlobal, startNodeRed, type CompleteEvent, type SendEvent } from '../lib/nodered';
import type { PacedConfig, PacedMessage } from '../lib/paced-producer';
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
  /** kafka in's processing (absent: not set in the flow, the node's default at-least-once). */
  processing?: 'at-least-once' | 'exactly-once';
  /** Alerts (and window results) also to these fresh topics, the alerts topic read by a read_committed consumer. */
  outputs?: { alertsTopic: string; windowsTopic?: string; maxQueue?: number };
}

/** Produce → alert seen by a consumer of the alerts topic (section (g)). */
export interface CommittedLatency {
  processing: 'at-least-once' | 'exactly-once';
  /** The reader's isolation. */
  readUncommitted: boolean;
  alerts: LatencySummary;
  /**
   * Produce → kafka out calls done() for the alert's message: the broker acknowledged it (at-least-once)
   * or its transaction committed (exactly-once), as the Node-RED process sees it.
   */
  outDone: LatencySummary;
  /** Alerts kafka out finished (done) and records the reader saw, over the whole run (warm-up included). */
  alertsDone: number;
  readerRecords: number;
  /** Seen alerts whose reading kafka in never emitted (should be 0). */
  unmatched: number;
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
  /**
   * The pipeline could not keep up: readings were still unwritten 15 s after the producer stopped.
   * The percentiles then cover only the readings that got through (lower bounds).
   */
  saturated: boolean;
  /** Share of the produced readings durably written when the run ended, %. */
  processedPct: number;
  /** With `outputs`: the latency to the alerts topic's reader. */
  committed?: CommittedLatency;
  problems: string[];
}

interface AlertLike {
  deviceId?: unknown;
  timestamp?: unknown;
}

/** A record as kafka in emits it: the seed's Kaggle-headed JSON. */
interface RawLike {
  device_id?: unknown;
  UTC?: unknown;
}

interface KafkaMetaLike {
  timestamp?: number;
  timestamps?: number[];
}

interface AlertReader {
  ready: Promise<void>;
  stop(): Promise<number>;
}

/** The alerts topic's consumer (lib/alert-reader.ts) in a process of its own; `onSeen` gets each fetched batch. */
function startReader(cfg: AlertReaderConfig, onSeen: (items: SeenItem[]) => void): AlertReader {
  const child = fork(path.join(__dirname, '..', 'lib', 'alert-reader.ts'), [JSON.stringify(cfg)], {
    execArgv: ['--require', 'tsx/cjs'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let failed: ((e: Error) => void) | undefined;
  let stopped: ((n: number) => void) | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    failed = reject;
    child.on('message', (m: AlertReaderMessage) => {
      if (m.type === 'ready') resolve();
      else if (m.type === 'seen') onSeen(m.items);
      else if (m.type === 'stopped') stopped?.(m.records);
      else failed?.(new Error(`alert reader: ${m.error}`));
    });
    child.on('exit', (code) => failed?.(new Error(`alert reader exited with ${code}`)));
  });
  ready.catch(() => undefined);
  return {
    ready,
    stop: () =>
      new Promise<number>((resolve) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve(NaN);
        }, 10_000);
        stopped = (n) => {
          clearTimeout(timer);
          resolve(n);
        };
        if (child.connected) child.send({ type: 'stop' });
        else {
          clearTimeout(timer);
          resolve(NaN);
        }
      }),
  };
}

function runProducer(cfg: PacedConfig, onStart: (measureFrom: number) => void): Promise<{ produced: number; achievedRate: number }> {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, '..', 'lib', 'paced-producer.ts'), [JSON.stringify(cfg)], {
      execArgv: ['--require', 'tsx/cjs'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let settled = false;
    child.on('message', (m: PacedMessage) => {
      if (m.type === 'start') onStart(m.measureFrom);
      else if (m.type === 'done') {
        settled = true;
        resolve(m);
      } else {
        settled = true;
        reject(new Error(`paced producer: ${m.error}`));
      }
    });
    child.on('exit', (code) => {
      if (!settled) reject(new Error(`paced producer exited with ${code}`));
    });
  });
}

scenarioMain<LatencyConfig, LatencyResult>(async (cfg) => {
  const csvDir = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-bench-csv-'));
  const kafka = kafkaClient(cfg.brokers, 'smoke-bench-latency');
  const admin = kafka.admin();
  await admin.connect();
  await createTopic(admin, cfg.topic, cfg.partitions);
  const out = cfg.outputs;
  const outTopics = out ? [out.alertsTopic, ...(out.windowsTopic ? [out.windowsTopic] : [])] : [];
  for (const t of outTopics) await createTopic(admin, t, cfg.partitions);
  const nr = await startNodeRed(pipelineFlow({ kafka: cfg, csvDir, outputs: out }));
  const g = benchGlobal();
  let reader: AlertReader | undefined;
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

    // Record timestamp of each reading, by device and event time, noted when kafka in emits it.
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
    const recordRaw = (r: RawLike, ts: number | undefined, t: number): void => {
      if (ts === undefined) return;
      producedAt.set(readingKey(String(r.device_id), Number(r.UTC) * 1000), ts);
      if (ts >= measureFrom) kinSamples.push(t - ts);
    };
    nr.RED.hooks.add('onSend.benchlatency', (events: SendEvent[]) => {
      const t = Date.now();
      for (const e of events) {
        if (e.source.id === 'kin' && e.source.port === 0) {
          const p = e.msg.payload as RawLike | RawLike[];
          const k = e.msg.kafka as KafkaMetaLike;
          if (Array.isArray(p)) for (let i = 0; i < p.length; i++) recordRaw(p[i], k.timestamps?.[i], t);
          else recordRaw(p, k.timestamp, t);
          continue;
        }
        if (e.source.port !== 1 || !DETECTOR_TYPES.includes(e.source.node.type)) continue;
        const per = perDetector.get(e.source.node.type);
        const p = e.msg.payload as AlertLike | AlertLike[];
        if (Array.isArray(p)) for (const a of p) record(a, t, alertSamples, per);
        else record(p, t, alertSamples, per);
      }
    });
    // The alerts topic's reader: alerts seen there, matched to their reading's record timestamp.
    const committedSamples = new Samples();
    let committedUnmatched = 0;
    let readerSeen = 0;
    const outDone = { alerts: 0 };
    const outDoneSamples = new Samples();
    if (out) {
      nr.RED.hooks.add('onComplete.benchlatency', (ev: CompleteEvent) => {
        if (ev.node.id !== ALERTS_OUT || ev.error) return;
        const t = Date.now();
        const p = ev.msg.payload as AlertLike | AlertLike[];
        outDone.alerts += Array.isArray(p) ? p.length : 1;
        for (const a of Array.isArray(p) ? p : [p]) {
          const at = producedAt.get(readingKey(String(a.deviceId), Number(a.timestamp)));
          if (at !== undefined && at >= measureFrom) outDoneSamples.push(t - at);
        }
      });
      reader = startReader({ brokers: cfg.brokers, topic: out.alertsTopic }, (items) => {
        readerSeen += items.length;
        for (const [deviceId, timestamp, seenAt] of items) {
          const at = producedAt.get(readingKey(deviceId, timestamp));
          if (at === undefined) committedUnmatched++;
          else if (at >= measureFrom) committedSamples.push(seenAt - at);
        }
      });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([reader.ready, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('the alert reader did not join within 30 s')), 30_000)))]).finally(() =>
        clearTimeout(timer),
      );
    }
    await sleep(500);
    g.listeners.set('durable', (_n, msg) => {
      const t = Date.now();
      const p = msg.payload as AlertLike | AlertLike[];
      if (Array.isArray(p)) for (const r of p) record(r, t, durableSamples);
      else record(p, t, durableSamples);
    });

    const produced = await runProducer(
      { brokers: cfg.brokers, topic: cfg.topic, rate: cfg.rate, warmupS: cfg.warmupS, seconds: cfg.seconds, devices: cfg.devices },
      (from) => (measureFrom = from),
    );
    const total = produced.produced;
    const durable = g.taps.get('durable')!;
    const rejected = g.taps.get('rejected')!;
    const drained = await waitFor(() => durable.records + rejected.records >= total, 15_000, 10);
    const processedPct = (100 * (durable.records + rejected.records)) / total;
    let committed: CommittedLatency | undefined;
    if (out && reader) {
      // Every alert through kafka out (sent or committed), then seen by the reader.
      const alertsTap = g.taps.get('alerts')!;
      await waitFor(() => outDone.alerts >= alertsTap.records, 15_000, 10);
      await waitFor(() => readerSeen >= outDone.alerts, 15_000, 10);
      const readerRecords = await reader.stop();
      reader = undefined;
      committed = {
        processing: cfg.processing ?? 'at-least-once',
        readUncommitted: false,
        alerts: summarise(committedSamples.values()),
        outDone: summarise(outDoneSamples.values()),
        alertsDone: outDone.alerts,
        readerRecords,
        unmatched: committedUnmatched,
      };
    }
    const byDetector: Record<string, LatencySummary> = {};
    for (const [t, s] of perDetector) byDetector[t.replace(/^smoke-/, '')] = summarise(s.values());
    return {
      mode: cfg.mode,
      rate: cfg.rate,
      achievedRate: produced.achievedRate,
      produced: total,
      alerts: summarise(alertSamples.values()),
      byDetector,
      toKafkaIn: summarise(kinSamples.values()),
      durable: summarise(durableSamples.values()),
      unmatchedAlerts: unmatched,
      saturated: !drained,
      processedPct,
      committed,
      problems: nr.problems.slice(0, 20),
    };
  } finally {
    nr.RED.hooks.remove('onSend.benchlatency');
    if (out) nr.RED.hooks.remove('onComplete.benchlatency');
    await reader?.stop().catch(() => undefined);
    await nr.stop().catch(() => undefined);
    await admin.deleteTopics({ topics: [cfg.topic, ...outTopics] }).catch(() => undefined);
    await deleteStateOf(admin, [cfg.groupId]).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    fs.rmSync(csvDir, { recursive: true, force: true });
  }
});
