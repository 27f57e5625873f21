/**
 * (a) The full pipeline, headless in a real Node-RED runtime, consuming the loaded bench topic with a
 * fresh consumer group (after-sink commits) until every reading is durably in the CSV and the group's
 * committed offsets have reached the end of the topic, or until `maxSeconds` have passed (a time box
 * that keeps `npm run bench` within its budget when a mode is slow: the rate is then taken over the
 * readings written by then, and the commit check is skipped).
 *
 * Timed like the client ceiling: from the first message kafka in emits (caught by a one-shot onSend
 * hook, removed at once so it costs nothing after) to the last reading through the readings sink.
 *
 * `checkpoints: false` runs the flow without changelog state and exactly-once CSV (lib/flows.ts), the
 * baseline of what they cost.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { currentRssMB, scenarioMain } from '../lib/child';
import { countCsvRows } from '../lib/csvcount';
import { pipelineFlow } from '../lib/flows';
import { committedAtEnd, deleteStateOf, endOffsets, kafkaClient } from '../lib/kafka';
import { benchGlobal, startNodeRed, type SendEvent, type TapState } from '../lib/nodered';
import { intervalProfiler } from '../lib/profiler';
import { sleep, waitFor } from '../lib/stats';

export interface PipelineConfig {
  brokers: string[];
  topic: string;
  groupId: string;
  mode: 'single' | 'batch';
  maxBatch?: number;
  readings: number;
  maxSeconds: number;
  /** false: window and detectors `state: 'none'`, csv sinks `exactlyOnce: 'off'` (default true: the nodes' defaults). */
  checkpoints?: boolean;
}

export interface PipelineResult {
  mode: 'single' | 'batch';
  /** Changelog checkpoints and exactly-once CSV on (the defaults), or off. */
  checkpoints: boolean;
  /** Readings measured: all of the topic, or those written when the time box ended the run. */
  readings: number;
  /** The run hit its time box before every reading was written. */
  timeBoxed: boolean;
  elapsedMs: number;
  recordsPerSec: number;
  /** CPU time of the Node-RED process over the timed interval, ms (the broker's is not counted). */
  cpuMs: number;
  recordsPerCpuSec: number;
  /** Deploy until kafka in's first message (connect, group join, first fetch), ms. */
  startupMs: number;
  /** Last durable reading until the group's committed offsets reached the topic's end, ms. */
  commitLagMs: number;
  committed: boolean;
  messagesFromKafkaIn: number;
  alerts: number;
  windows: number;
  late: number;
  rejected: number;
  csvRows: number;
  csvFiles: number;
  windowRows: number;
  rssAtEndMB: number;
  problems: string[];
}

scenarioMain<PipelineConfig, PipelineResult>(async (cfg) => {
  const csvDir = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-bench-csv-'));
  const admin = kafkaClient(cfg.brokers, 'smoke-bench-admin').admin();
  await admin.connect();
  const ends = await endOffsets(admin, cfg.topic);
  const g = benchGlobal();
  let first = 0;
  let firstRecords = 0;
  let kinMessages = 0;
  let cpu0: NodeJS.CpuUsage | undefined;
  const profileFile = process.env.BENCH_PROFILE;
  const profiler = profileFile ? intervalProfiler() : undefined;
  const t0 = performance.now();
  const nr = await startNodeRed(pipelineFlow({ kafka: { ...cfg, topic: cfg.topic }, csvDir, checkpoints: cfg.checkpoints !== false }));
  try {
    nr.RED.hooks.add('onSend.benchstart', (events: SendEvent[]) => {
      const e = events[0];
      if (e && e.source.id === 'kin' && e.source.port === 0) {
        first = performance.now();
        cpu0 = process.cpuUsage();
        profiler?.start();
        firstRecords = Array.isArray(e.msg.payload) ? e.msg.payload.length : 1;
        nr.RED.hooks.remove('onSend.benchstart');
      }
    });
    const tap = (name: string): TapState => {
      const t = g.taps.get(name);
      if (!t) throw new Error(`tap ${name} missing`);
      return t;
    };
    const durable = tap('durable');
    const rejected = tap('rejected');
    // The time box counts from kafka in's first message, so startup is not taken out of it.
    const started = await waitFor(() => first > 0, 60_000, 5);
    if (!started) throw new Error('kafka in emitted nothing within 60 s');
    const ok = await waitFor(() => durable.records + rejected.records >= cfg.readings || performance.now() - first > cfg.maxSeconds * 1000, 600_000, 5);
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    if (profiler && profileFile) await profiler.stop(profileFile);
    if (!ok) throw new Error(`only ${durable.records} + ${rejected.records} rejected of ${cfg.readings} readings were written within 600 s`);
    const processed = durable.records + rejected.records;
    const timeBoxed = processed < cfg.readings;
    const end = Math.max(durable.last, rejected.records > 0 ? rejected.last : 0);
    const committed = timeBoxed ? false : await waitFor(() => committedAtEnd(admin, cfg.groupId, cfg.topic, ends), 60_000, 50);
    const commitLagMs = timeBoxed ? NaN : performance.now() - end;
    // Every node keeps the message shape, so the messages through the readings sink are kafka in's.
    kinMessages = durable.messages + rejected.messages;
    const rssAtEndMB = currentRssMB();
    await sleep(300); // the windows sink's last timed flush
    const elapsedMs = end - first;
    const res: PipelineResult = {
      mode: cfg.mode,
      checkpoints: cfg.checkpoints !== false,
      readings: processed,
      timeBoxed,
      elapsedMs,
      recordsPerSec: ((processed - firstRecords) / elapsedMs) * 1000,
      cpuMs,
      recordsPerCpuSec: ((processed - firstRecords) / cpuMs) * 1000,
      startupMs: first - t0,
      commitLagMs,
      committed,
      messagesFromKafkaIn: kinMessages,
      alerts: tap('alerts').records,
      windows: tap('windows').records,
      late: tap('late').records,
      rejected: rejected.records,
      csvRows: 0,
      csvFiles: 0,
      windowRows: 0,
      rssAtEndMB,
      problems: nr.problems.slice(0, 20),
    };
    await nr.stop();
    const rows = countCsvRows(csvDir, 'historical_smoke_data_');
    res.csvRows = rows.rows;
    res.csvFiles = rows.files;
    res.windowRows = countCsvRows(csvDir, 'window_results_').rows;
    return res;
  } finally {
    await nr.stop().catch(() => undefined);
    // The changelog topics of this run: gone now, so that the broker does not compact them while the
    // next run is measured.
    await deleteStateOf(admin, [cfg.groupId]).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    fs.rmSync(csvDir, { recursive: true, force: true });
  }
});
