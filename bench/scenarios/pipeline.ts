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
 *
 * `outputs` (section (g), exactly-once Kafka out): the alerts and window results also go to fresh topics
 * through kafka out, with kafka in's `processing` as given. The run then ends only once kafka out has
 * finished (`done`) every alert and window result it received (at-least-once: the broker acknowledged
 * them; exactly-once: their transaction committed), so both modes are timed to the same point: every
 * reading in the CSV and every output in Kafka. After the run a read_committed reader counts the records
 * on the output topics (and duplicate alerts, by type, device, event time, sensor and severity).
 *
 * `windowsFile` (the peer section, issue 17): the final window results that passed the windows sink are
 * also written there, one JSON object per line, for the comparison with the peer's.
 *
 * `query: 'window'` (the peer section's like-for-like run): the seed's query only, validate → sliding
 * window → windows CSV (lib/flows.ts). Its `durable` tap sits before the window, so a reading through it
 * is validated, not yet windowed. The run ends when the last reading is through AND the windows sink has
 * written every window result the sliding window sent (counted by an onSend hook on the window's output
 * 1, the results of the last readings included: nothing more moved for 300 ms); the interval ends at the
 * later of the last reading through and the last message through the `windows` tap behind the windows
 * sink, and the CPU time is read when the counts last moved.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { currentRssMB, scenarioMain } from '../lib/child';
import { countCsvRows } from '../lib/csvcount';
import { ALERTS_OUT, WINDOWS_OUT, pipelineFlow, type PipelineQuery } from '../lib/flows';
import { committedAtEnd, createTopic, deleteStateOf, endOffsets, kafkaClient, readTopic } from '../lib/kafka';
import { benchGlobal, startNodeRed, type CompleteEvent, type SendEvent, type TapState } from '../lib/nodered';
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
  /** kafka in's processing (absent: not set in the flow, the node's default at-least-once). */
  processing?: 'at-least-once' | 'exactly-once';
  /** Alerts and window results also to these fresh topics (created here with `partitions` partitions, deleted at the end). */
  outputs?: { alertsTopic: string; windowsTopic?: string; partitions: number; maxQueue?: number };
  /** Also write the final window results (those behind the windows sink) to this file, as JSON lines. */
  windowsFile?: string;
  /** The full pipeline (absent: the default) or only the seed's windowed query (lib/flows.ts). */
  query?: PipelineQuery;
}

/** The kafka out side of a run with `outputs`. */
export interface OutputsResult {
  processing: 'at-least-once' | 'exactly-once';
  /** Records kafka out finished without error (alerts, window results) and with an error. */
  alertsDone: number;
  windowsDone: number;
  failed: number;
  /** Records that reached the kafka outs (their taps), alerts and window results. */
  alertsIn: number;
  windowsIn: number;
  /**
   * Records kafka out neither finished nor failed with done(err) when the run ended (nothing moved for
   * 10 s): messages it failed to the Catch nodes (a full queue: no done() then), or a stall.
   */
  unfinished: number;
  /** The last output finished this long after the last durable reading, ms (negative: before it). */
  lagMs: number;
  /** What a read_committed reader of the topics saw after the run. */
  alertsOnTopic: number;
  alertDuplicates: number;
  windowsOnTopic: number;
  windowDuplicates: number;
}

export interface PipelineResult {
  mode: 'single' | 'batch';
  /** The flow measured: the full pipeline or only the seed's windowed query. */
  query: PipelineQuery;
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
  /** CPU time of the whole process (startup included) when the result was made, ms. */
  processCpuMs: number;
  /** Final window results written to `windowsFile`. */
  windowsWritten?: number;
  outputs?: OutputsResult;
  problems: string[];
}

interface OutputLike {
  type?: unknown;
  deviceId?: unknown;
  timestamp?: unknown;
  sensor?: unknown;
  severity?: unknown;
  windowStart?: unknown;
  windowEnd?: unknown;
}

/** Identity of an alert (type, device, event time, sensor, severity) or a window result (device, window bounds). */
function outputKey(v: OutputLike): string {
  return `${String(v.type)}|${String(v.deviceId)}|${String(v.timestamp)}|${String(v.sensor)}|${String(v.severity)}|${String(v.windowStart)}|${String(v.windowEnd)}`;
}

/** Records on `topic` (read_committed) and how many of them repeat an earlier one. */
async function countTopic(brokers: string[], topic: string): Promise<{ records: number; duplicates: number }> {
  const keys = new Set<string>();
  let duplicates = 0;
  const records = await readTopic(kafkaClient(brokers, 'smoke-bench-reader'), topic, (value) => {
    let k = '';
    try {
      k = outputKey(JSON.parse(value?.toString() ?? 'null') as OutputLike);
    } catch {
      k = `unparsable ${value?.toString()}`;
    }
    if (keys.has(k)) duplicates++;
    else keys.add(k);
  });
  return { records, duplicates };
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
  const out = cfg.outputs;
  const outTopics = out ? [out.alertsTopic, ...(out.windowsTopic ? [out.windowsTopic] : [])] : [];
  for (const t of outTopics) await createTopic(admin, t, out!.partitions);
  // kafka out's finished records (done), noted by an onComplete hook: the end of an output's path.
  const done = { alerts: 0, windows: 0, failed: 0, last: 0 };
  // Final window results for the peer comparison, collected from the tap behind the windows sink.
  const finalWindows: unknown[] = [];
  const windowOnly = cfg.query === 'window';
  // The window query's results as the sliding window sent them (its output 1, to the windows sink).
  const sent = { windows: 0 };
  if (cfg.windowsFile) {
    g.listeners.set('windows', (_n, msg) => {
      for (const w of Array.isArray(msg.payload) ? msg.payload : [msg.payload]) if ((w as { final?: unknown }).final === true) finalWindows.push(w);
    });
  }
  const t0 = performance.now();
  const nr = await startNodeRed(
    pipelineFlow({ kafka: { ...cfg, topic: cfg.topic }, csvDir, checkpoints: cfg.checkpoints !== false, outputs: out, query: cfg.query }),
  );
  try {
    if (out) {
      nr.RED.hooks.add('onComplete.benchout', (ev: CompleteEvent) => {
        const id = ev.node.id;
        if (id !== ALERTS_OUT && id !== WINDOWS_OUT) return;
        const n = Array.isArray(ev.msg.payload) ? ev.msg.payload.length : 1;
        if (ev.error) done.failed += n;
        else if (id === ALERTS_OUT) done.alerts += n;
        else done.windows += n;
        done.last = performance.now();
      });
    }
    if (windowOnly) {
      nr.RED.hooks.add('onSend.benchwindow', (events: SendEvent[]) => {
        for (const e of events) if (e.source.id === 'window' && e.source.port === 0) sent.windows += Array.isArray(e.msg.payload) ? e.msg.payload.length : 1;
      });
    }
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
    const timeUp = () => performance.now() - first > cfg.maxSeconds * 1000;
    const ok = await waitFor(() => durable.records + rejected.records >= cfg.readings || timeUp(), 600_000, 5);
    // With outputs: also until kafka out finished everything it received, and nothing more arrived for
    // 300 ms (the last window results reach it a few hops after the last durable reading). A message
    // kafka out fails to the Catch nodes (its queue full) never calls done(): when nothing moves for 10 s,
    // the rest counts as unfinished. The CPU time is read when the counts last moved.
    const outIn = () => (out ? tap('alerts').records + (out.windowsTopic ? tap('windows-to-kafka').records : 0) : 0);
    const outDone = () => done.alerts + done.windows + done.failed;
    let cpuAtEnd: NodeJS.CpuUsage | undefined;
    let unfinished = 0;
    const windowsTap = tap('windows');
    if (ok && windowOnly) {
      // Until the windows sink passed on every result the window sent, and nothing moved for 300 ms
      // (the window handles the last readings a hop after the durable tap). The CPU time is read when
      // the counts last moved.
      let last = '';
      let lastChange = performance.now();
      for (;;) {
        const now = `${sent.windows}|${windowsTap.records}|${durable.records}`;
        if (now !== last) {
          last = now;
          lastChange = performance.now();
          cpuAtEnd = process.cpuUsage(cpu0);
        }
        if (timeUp()) break;
        if (windowsTap.records >= sent.windows && performance.now() - lastChange >= 300) break;
        await sleep(5);
      }
    }
    if (ok && out) {
      let lastIn = -1;
      let lastDone = -1;
      let lastChange = performance.now();
      for (;;) {
        const i = outIn();
        const d = outDone();
        if (i !== lastIn || d !== lastDone) {
          lastIn = i;
          lastDone = d;
          lastChange = performance.now();
          cpuAtEnd = process.cpuUsage(cpu0);
        }
        if (timeUp()) break;
        const quiet = performance.now() - lastChange;
        if (d >= i && quiet >= 300) break;
        if (quiet >= 10_000) {
          unfinished = i - d;
          break;
        }
        await sleep(5);
      }
    }
    const cpu = cpuAtEnd ?? process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    if (profiler && profileFile) await profiler.stop(profileFile);
    if (!ok) throw new Error(`only ${durable.records} + ${rejected.records} rejected of ${cfg.readings} readings were written within 600 s`);
    const processed = durable.records + rejected.records;
    const timeBoxed = processed < cfg.readings;
    const lastReading = Math.max(durable.last, rejected.records > 0 ? rejected.last : 0);
    const end = out && !timeBoxed ? Math.max(lastReading, done.last) : windowOnly && !timeBoxed ? Math.max(lastReading, windowsTap.last) : lastReading;
    const committed = timeBoxed ? false : await waitFor(() => committedAtEnd(admin, cfg.groupId, cfg.topic, ends), 60_000, 50);
    const commitLagMs = timeBoxed ? NaN : performance.now() - lastReading;
    // Every node keeps the message shape, so the messages through the readings sink are kafka in's.
    kinMessages = durable.messages + rejected.messages;
    const rssAtEndMB = currentRssMB();
    await sleep(300); // the windows sink's last timed flush
    const elapsedMs = end - first;
    const res: PipelineResult = {
      mode: cfg.mode,
      query: cfg.query ?? 'full',
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
      processCpuMs: 0,
      problems: nr.problems.slice(0, 20),
    };
    const alertsIn = out ? tap('alerts').records : 0;
    const windowsIn = out?.windowsTopic ? tap('windows-to-kafka').records : 0;
    await nr.stop();
    if (out) {
      const alerts = await countTopic(cfg.brokers, out.alertsTopic);
      const windows = out.windowsTopic ? await countTopic(cfg.brokers, out.windowsTopic) : { records: 0, duplicates: 0 };
      res.outputs = {
        processing: cfg.processing ?? 'at-least-once',
        alertsDone: done.alerts,
        windowsDone: done.windows,
        failed: done.failed,
        alertsIn,
        windowsIn,
        unfinished,
        lagMs: done.last > 0 ? done.last - lastReading : NaN,
        alertsOnTopic: alerts.records,
        alertDuplicates: alerts.duplicates,
        windowsOnTopic: windows.records,
        windowDuplicates: windows.duplicates,
      };
    }
    const rows = countCsvRows(csvDir, 'historical_smoke_data_');
    res.csvRows = rows.rows;
    res.csvFiles = rows.files;
    res.windowRows = countCsvRows(csvDir, 'window_results_').rows;
    if (cfg.windowsFile) {
      fs.writeFileSync(cfg.windowsFile, finalWindows.map((w) => JSON.stringify(w) + '\n').join(''));
      res.windowsWritten = finalWindows.length;
    }
    const total = process.cpuUsage();
    res.processCpuMs = (total.user + total.system) / 1000;
    return res;
  } finally {
    g.listeners.delete('windows');
    await nr.stop().catch(() => undefined);
    // The changelog topics of this run: gone now, so that the broker does not compact them while the
    // next run is measured.
    await deleteStateOf(admin, [cfg.groupId]).catch(() => undefined);
    if (outTopics.length) await admin.deleteTopics({ topics: outTopics, timeout: 15000 }).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    fs.rmSync(csvDir, { recursive: true, force: true });
  }
});
