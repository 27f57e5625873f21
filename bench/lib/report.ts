/**
 * The bench's outputs: the table on stdout, the JSON document and the SVG chart.
 */
import type { ChildOutcome, MemoryPeak } from './child';
import type { ProfileSummary } from '../profile-summary';
import type { LoadResult } from '../scenarios/load';
import type { ClientCeilingResult } from '../scenarios/client-ceiling';
import type { PumpResult } from './pump';
import type { PipelineResult } from '../scenarios/pipeline';
import type { LatencyResult } from '../scenarios/latency';
import type { DevicesResult } from '../scenarios/devices';
import type { RestoreResult } from '../scenarios/restore';
import { formatPeer, peerTargets, type PeerReport } from './peer-report';

export interface Measured<T> {
  ok: boolean;
  result?: T;
  error?: string;
  memory?: MemoryPeak;
  wallMs: number;
}

export interface Target {
  name: string;
  goal: string;
  value: string;
  pass: boolean | null;
}

export interface BenchReport {
  startedAt: string;
  durationS: number;
  options: Record<string, unknown>;
  machine: { cpus: number; cpuModel: string; loadAvgStart: number[]; loadAvgEnd: number[]; node: string; nodeRed: string; kafkajs: string };
  notes: string[];
  load?: Measured<LoadResult>;
  clientCeiling?: Measured<ClientCeilingResult>;
  runtimeCeiling: Record<string, Measured<PumpResult & { hops: number }>>;
  pipeline: Record<string, Measured<PipelineResult>>;
  /**
   * Every batch run without and with checkpoints (the pair in {@link pipeline} first, then the further
   * pairs of `--cost-pairs`), in the order they ran: the checkpoint cost is taken from their medians.
   */
  costRuns?: { without: PipelineResult[]; with: PipelineResult[] };
  latency: Measured<LatencyResult>[];
  devices: Measured<DevicesResult>[];
  /** (f) Restore of a partition's state from its changelogs (absent when skipped). */
  restore?: Measured<RestoreResult>;
  /**
   * (g) Exactly-once Kafka out against at-least-once (absent when skipped): every batch run of the
   * pipeline with kafka out, in the order they ran, and the latency runs to the alerts topic's reader.
   */
  eos?: { load?: Measured<LoadResult>; runs: EosRun[]; latency: EosLatency[] };
  /** (h) The peer (`--peer spark`): our batch pipeline and Spark on the same topic (absent unless asked for). */
  peer?: PeerReport;
  profiles: ProfileSummary[];
  targets: Target[];
}

/**
 * Key in {@link BenchReport.pipeline} of the batch pipeline without checkpoints (window and detectors
 * `state: 'none'`, csv sinks `exactlyOnce: 'off'`); `batch` is the pipeline with the defaults (changelog
 * checkpoints and exactly-once CSV behind kafka in).
 */
export const NO_CHECKPOINTS = 'batch-no-checkpoints';

/** Issue 13's target: checkpoints cost at most this share of the batch pipeline's readings/s. */
export const CHECKPOINT_COST_GOAL_PCT = 15;

/** kafka in's processing guarantee. */
export type Processing = 'at-least-once' | 'exactly-once';

/** A (g) throughput run: the batch pipeline with alerts and window results to Kafka (its `outputs`). */
export interface EosRun extends Measured<PipelineResult> {
  pair: number;
  processing: Processing;
}

/** A (g) latency run; `result.committed` is the latency to the alerts topic's read_committed reader. */
export interface EosLatency extends Measured<LatencyResult> {
  processing: Processing;
}

export interface EosCost {
  /** Pairs with both runs measured, and each one's cost by readings/s, in the order they ran. */
  pairs: number;
  pairPcts: number[];
  /** Median of the pairs' 100 × (1 − exactly-once / at-least-once), readings/s and readings per CPU-second. */
  readingsPct: number;
  cpuPct: number;
  /** Medians of each side's runs (for the chart and the summary; the cost is taken per pair). */
  aloRate: number;
  eosRate: number;
  aloCpu: number;
  eosCpu: number;
}

/** The cost of exactly-once in (g): per alternated pair, then the median, as for the checkpoint cost. */
export function eosCost(r: BenchReport): EosCost | undefined {
  const runs = r.eos?.runs ?? [];
  const pairs: { pct: number; cpu: number }[] = [];
  const alo: PipelineResult[] = [];
  const eos: PipelineResult[] = [];
  for (const x of runs) if (x.result) (x.processing === 'exactly-once' ? eos : alo).push(x.result);
  for (const pair of [...new Set(runs.map((x) => x.pair))]) {
    const a = runs.find((x) => x.pair === pair && x.processing === 'at-least-once')?.result;
    const e = runs.find((x) => x.pair === pair && x.processing === 'exactly-once')?.result;
    if (!a || !e || !(a.recordsPerSec > 0) || !(a.recordsPerCpuSec > 0)) continue;
    pairs.push({ pct: 100 * (1 - e.recordsPerSec / a.recordsPerSec), cpu: 100 * (1 - e.recordsPerCpuSec / a.recordsPerCpuSec) });
  }
  if (pairs.length === 0) return undefined;
  return {
    pairs: pairs.length,
    pairPcts: pairs.map((p) => p.pct),
    readingsPct: median(pairs.map((p) => p.pct)),
    cpuPct: median(pairs.map((p) => p.cpu)),
    aloRate: median(alo.map((p) => p.recordsPerSec)),
    eosRate: median(eos.map((p) => p.recordsPerSec)),
    aloCpu: median(alo.map((p) => p.recordsPerCpuSec)),
    eosCpu: median(eos.map((p) => p.recordsPerCpuSec)),
  };
}

/**
 * Whether every complete (not time-boxed) (g) throughput run put the same number of alerts on its alerts
 * topic, as a read_committed reader sees it, without duplicates: null when fewer than one run of each mode
 * completed.
 */
export function eosAlertsCheck(r: BenchReport): { same: boolean | null; counts: Record<Processing, number[]>; duplicates: number } {
  const counts: Record<Processing, number[]> = { 'at-least-once': [], 'exactly-once': [] };
  let duplicates = 0;
  for (const x of r.eos?.runs ?? []) {
    const p = x.result;
    if (!p?.outputs || p.timeBoxed) continue;
    counts[x.processing].push(p.outputs.alertsOnTopic);
    duplicates += p.outputs.alertDuplicates;
  }
  const all = [...counts['at-least-once'], ...counts['exactly-once']];
  const same = counts['at-least-once'].length === 0 || counts['exactly-once'].length === 0 ? null : all.every((n) => n === all[0]) && duplicates === 0;
  return { same, counts, duplicates };
}

export interface CheckpointCost {
  /** The pair of median cost, of `pairs` alternated pairs. */
  with: PipelineResult;
  without: PipelineResult;
  pairs: number;
  /** The cost of each pair by readings/s, in the order they ran. */
  pairPcts: number[];
  /** 100 × (1 − with / without), readings/s. */
  readingsPct: number;
  /** The same by readings per CPU-second of the measured process. */
  cpuPct: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * The cost of the checkpoints in batch mode, when both kinds of batch run measured something. Each pair
 * (a run without, then one with, back to back) shares the machine's state of the moment, which moves
 * both by as much as the cost itself: so the cost is taken per pair, and the median of those is reported
 * (readings/s and readings per CPU-second each on its own), with the pair that gave it.
 */
export function checkpointCost(r: BenchReport): CheckpointCost | undefined {
  const runs = r.costRuns ?? { with: [r.pipeline.batch?.result].filter(Boolean) as PipelineResult[], without: [r.pipeline[NO_CHECKPOINTS]?.result].filter(Boolean) as PipelineResult[] };
  const pairs: { w: PipelineResult; wo: PipelineResult; pct: number; cpu: number }[] = [];
  for (let i = 0; i < Math.min(runs.with.length, runs.without.length); i++) {
    const w = runs.with[i];
    const wo = runs.without[i];
    if (!(w.recordsPerSec > 0) || !(wo.recordsPerSec > 0) || !(wo.recordsPerCpuSec > 0)) continue;
    pairs.push({ w, wo, pct: 100 * (1 - w.recordsPerSec / wo.recordsPerSec), cpu: 100 * (1 - w.recordsPerCpuSec / wo.recordsPerCpuSec) });
  }
  if (pairs.length === 0) return undefined;
  const mid = [...pairs].sort((a, b) => a.pct - b.pct)[Math.floor((pairs.length - 1) / 2)];
  return {
    with: mid.w,
    without: mid.wo,
    pairs: pairs.length,
    pairPcts: pairs.map((p) => p.pct),
    readingsPct: median(pairs.map((p) => p.pct)),
    cpuPct: median(pairs.map((p) => p.cpu)),
  };
}

export function measured<T>(o: ChildOutcome<T>): Measured<T> {
  return { ok: o.ok, result: o.result, error: o.error, memory: o.memory, wallMs: o.wallMs };
}

const int = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '–' : Math.round(n).toLocaleString('en-US'));
const ms = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '–' : n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : Math.round(n).toString());
const mb = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(0));
const pct = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || !b ? '–' : `${((100 * a) / b).toFixed(0)} %`);

function table(head: string[], rows: string[][], rightFrom = 1): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) => r.map((c, i) => (i >= rightFrom ? (c ?? '').padStart(w[i]) : (c ?? '').padEnd(w[i]))).join('  ');
  return [fmt(head), w.map((x) => '-'.repeat(x)).join('  '), ...rows.map(fmt)].join('\n');
}

function failed<T>(m: Measured<T> | undefined): string | undefined {
  return m && !m.ok ? `FAILED: ${(m.error ?? '').split('\n')[0]}` : undefined;
}

export function formatReport(r: BenchReport): string {
  const out: string[] = [];
  const o = r.options;
  out.push(
    `smoke-stream bench  ${r.startedAt}  ${int(o.readings as number)} readings, ${int(o.devices as number)} devices, ${o.partitions} partitions${o.quick ? '  (--quick)' : ''}`,
  );
  out.push(
    `machine: ${r.machine.cpus} × ${r.machine.cpuModel}; node ${r.machine.node}, node-red ${r.machine.nodeRed}, kafkajs ${r.machine.kafkajs}; load avg ${r.machine.loadAvgStart.map((x) => x.toFixed(1)).join('/')} → ${r.machine.loadAvgEnd.map((x) => x.toFixed(1)).join('/')}`,
  );
  if (r.load?.result) {
    out.push(`topic ${r.load.result.topic}: ${int(r.load.result.records)} readings (${mb(r.load.result.bytes / 1048576)} MB JSON) produced at ${int(r.load.result.recordsPerSec)}/s`);
  } else if (r.load) out.push(`load: ${failed(r.load)}`);
  out.push('');

  const cc = r.clientCeiling?.result;
  const rs = r.runtimeCeiling.single?.result;
  const rb = r.runtimeCeiling.batch?.result;
  const rows: string[][] = [];
  type Thr = { recordsPerSec: number; recordsPerCpuSec?: number };
  const row = (what: string, mode: string, m: Measured<Thr> | undefined, msgsPerSec: number | undefined, vs: string, extra = '') => {
    if (!m) return;
    const f = failed(m);
    rows.push(f ? [what, mode, f, '', '', '', '', ''] : [what, mode, int(m.result?.recordsPerSec), int(msgsPerSec), int(m.result?.recordsPerCpuSec), vs, mb(m.memory?.peakRssMB), extra]);
  };
  // "a / b": against the ceiling by wall clock / by CPU time of the measured process.
  const vsBoth = (p: Thr | undefined, c: Thr | undefined) => `${pct(p?.recordsPerSec, c?.recordsPerSec)} / ${pct(p?.recordsPerCpuSec, c?.recordsPerCpuSec)}`;
  row('(b) client ceiling: kafkajs + JSON.parse', '–', r.clientCeiling, cc?.recordsPerSec, '', cc ? `avg fetch ${int(cc.avgBatch)} records` : '');
  row(`(c) runtime ceiling: ${rs?.hops ?? rb?.hops ?? 7} pass-through nodes`, 'single', r.runtimeCeiling.single, rs?.messagesPerSec, '');
  row(`(c) runtime ceiling: ${rb?.hops ?? rs?.hops ?? 7} pass-through nodes`, 'batch', r.runtimeCeiling.batch, rb?.messagesPerSec, '', rb ? `${int(rb.records / rb.messages)}/msg` : '');
  for (const [key, m] of Object.entries(r.pipeline)) {
    const p = m.result;
    const mode = p?.mode ?? (key === NO_CHECKPOINTS ? 'batch' : key);
    const vs = mode === 'single' ? `(c) ${vsBoth(p, rs)}; (b) ${vsBoth(p, cc)}` : `(b) ${vsBoth(p, cc)}`;
    const msgs = p ? (p.messagesFromKafkaIn / p.elapsedMs) * 1000 : undefined;
    const extra = p
      ? [
          p.readings === p.messagesFromKafkaIn ? '' : `${int(p.readings / Math.max(1, p.messagesFromKafkaIn))}/msg`,
          p.timeBoxed ? `TIME-BOXED after ${int(p.readings)} readings` : `commit +${ms(p.commitLagMs)} ms${p.committed ? '' : ' (NOT at end)'}`,
          // Rows in the CSV files after the run: at least every reading counted as written.
          p.csvRows >= p.readings - p.rejected ? (p.timeBoxed ? 'CSV rows ok' : p.csvRows === p.readings - p.rejected ? 'CSV rows all' : `CSV rows ${int(p.csvRows)}`) : `CSV rows MISSING ${int(p.csvRows)}<${int(p.readings - p.rejected)}`,
          `${int(p.alerts)} alerts`,
          `${int(p.windowRows)} windows`,
        ]
          .filter(Boolean)
          .join(', ')
      : '';
    row(key === NO_CHECKPOINTS ? '(a) the same without checkpoints *' : '(a) pipeline kafka in → … → csv sink', mode, m, msgs, vs, extra);
  }
  if (rows.length) {
    out.push('Throughput (one child process each; "vs ceiling" = by wall clock / by CPU time of the measured process)');
    out.push(table(['configuration', 'mode', 'readings/s', 'msgs/s', 'readings/CPU-s', 'vs ceiling', 'peak RSS MB', 'notes'], rows, 2));
    if (r.pipeline[NO_CHECKPOINTS]) out.push("* window and detectors state: 'none', csv sinks exactlyOnce: 'off' (the pipeline above it runs the defaults: changelog checkpoints, exactly-once CSV)");
    out.push('');
  }

  const cost = checkpointCost(r);
  if (cost) {
    const tb = (p: PipelineResult) => (p.timeBoxed ? ` (time-boxed: ${int(p.readings)} readings)` : '');
    const each = (xs: PipelineResult[] | undefined, f: (p: PipelineResult) => number) => (xs && xs.length > 1 ? xs.map((p) => int(f(p))).join(' / ') : '');
    const runs = r.costRuns;
    out.push(
      `Checkpoint cost, batch pipeline: changelog checkpoints of window and z-score state + exactly-once CSV, against none of them` +
        (cost.pairs > 1
          ? ` (median of ${cost.pairs} alternated pairs, each pair's cost ${cost.pairPcts.map((p) => `${p.toFixed(1)} %`).join(' / ')}; the pair shown is the median one; each run in the order they ran)`
          : ''),
    );
    out.push(
      table(
        ['', 'with checkpoints', 'without', 'cost', 'with, each run', 'without, each run'],
        [
          ['readings/s', int(cost.with.recordsPerSec) + tb(cost.with), int(cost.without.recordsPerSec) + tb(cost.without), `${cost.readingsPct.toFixed(1)} %`, each(runs?.with, (p) => p.recordsPerSec), each(runs?.without, (p) => p.recordsPerSec)],
          ['readings/CPU-s', '', '', `${cost.cpuPct.toFixed(1)} %`, each(runs?.with, (p) => p.recordsPerCpuSec), each(runs?.without, (p) => p.recordsPerCpuSec)],
        ],
        1,
      ),
    );
    out.push('');
  }

  const rr = r.restore?.result;
  if (rr) {
    const per = (x: number) => ms(x * (10_000 / rr.devices));
    const kb = (b: number) => `${(b / 1048576).toFixed(1)} MB`;
    out.push(
      `(f) Restore of one partition's state from its changelog: ${int(rr.devices)} devices, ${rr.perDevice} readings each (${rr.zscore.detail} z-score values per sensor, ${rr.window.detail.toFixed(0)} open windows per device); median of ${rr.runs.filter((x) => x.kind === 'both').length}`,
    );
    const dec = (k: 'zscore' | 'window' | 'both') => {
      const xs = rr.runs.filter((x) => x.kind === k).map((x) => x.decodeMs).sort((a, b) => a - b);
      return xs.length ? ms(xs[Math.floor((xs.length - 1) / 2)]) : '–';
    };
    const rows2: string[][] = [];
    if (Number.isFinite(rr.median.zscore)) rows2.push(['z-score', per(rr.median.zscore), ms(rr.median.zscore), dec('zscore'), kb(rr.zscore.bytes), int(rr.zscore.chunks), ms(rr.zscore.snapshotMs), ms(rr.zscore.commitMs)]);
    if (Number.isFinite(rr.median.window)) rows2.push(['window', per(rr.median.window), ms(rr.median.window), dec('window'), kb(rr.window.bytes), int(rr.window.chunks), ms(rr.window.snapshotMs), ms(rr.window.commitMs)]);
    rows2.push(['both', per(rr.median.both), ms(rr.median.both), dec('both'), kb(rr.zscore.bytes + rr.window.bytes), int(rr.zscore.chunks + rr.window.chunks), ms(rr.zscore.snapshotMs + rr.window.snapshotMs), `${ms(rr.commitBothMs)} (one txn)`]);
    rows2.push(['empty state', '', ms(rr.median.empty), '', '', '', '', '']);
    out.push(table(['state', 'restore ms per 10k devices', 'restore ms', 'of which decode ms', 'checkpoint', 'chunks', 'snapshot ms', 'checkpoint commit ms'], rows2, 1));
    out.push(`restore of both from changelogs still holding ${rr.bothUncompacted.checkpoints} checkpoints each (not compacted yet): ${ms(rr.bothUncompacted.ms)} ms`);
    out.push('');
  } else if (r.restore) out.push(`(f) restore: ${failed(r.restore)}`, '');

  if (r.latency.length > 0) {
    const lrows = r.latency.map((m) => {
      const l = m.result;
      if (!l) return ['?', '?', failed(m) ?? '', '', '', '', '', '', '', ''];
      return [
        l.saturated ? `${l.mode} SATURATED (${l.processedPct.toFixed(0)} % done)` : l.mode,
        int(l.rate),
        int(l.achievedRate),
        int(l.alerts.samples),
        ms(l.alerts.p50),
        ms(l.alerts.p99),
        ms(l.alerts.max),
        `${ms(l.toKafkaIn.p50)} / ${ms(l.toKafkaIn.p99)}`,
        `${ms(l.durable.p50)} / ${ms(l.durable.p99)}`,
        mb(m.memory?.peakRssMB),
      ];
    });
    out.push('(d) End-to-end alert latency: produce (record timestamp) → alert on a detector output 2, ms');
    out.push(table(['mode', 'offered/s', 'achieved/s', 'alerts', 'p50', 'p99', 'max', 'to kafka in p50 / p99', 'to CSV p50 / p99', 'peak RSS MB'], lrows, 1));
    out.push('');
  }

  if (r.devices.length > 0) {
    const drows = r.devices.map((m) => {
      const d = m.result;
      if (!d) return ['?', failed(m) ?? '', '', '', '', '', '', '', ''];
      return [
        int(d.devices),
        int(d.readings),
        `${d.eventMinutes.toFixed(0)} min`,
        int(d.recordsPerSec),
        mb(d.baselineMB),
        `${mb(d.retainedHeapMB)} + ${mb(d.retainedExternalMB)}`,
        d.perDeviceKB.toFixed(1),
        mb(m.memory?.peakRssMB),
        mb(m.memory?.peakHeapMB),
      ];
    });
    out.push('(e) Memory against device count (in-process pipeline without Kafka and CSV sinks, 1,000 readings per msg)');
    out.push(table(['devices', 'readings', 'event time', 'readings/s', 'before MB', 'after GC: heap + external MB', 'KB/device', 'peak RSS MB', 'peak heap MB'], drows, 0));
    out.push('');
  }

  if (r.eos) out.push(...formatEos(r), '');
  if (r.peer) out.push(...formatPeer(r.peer, table, r.clientCeiling?.result), '');

  const peaks: string[] = [];
  for (const [key, m] of Object.entries(r.pipeline)) if (m.ok && m.memory) peaks.push(`pipeline ${key}: RSS ${mb(m.memory.peakRssMB)} MB, heap ${mb(m.memory.peakHeapMB)} MB`);
  if (peaks.length) out.push(`Peak memory of the Kafka pipeline runs: ${peaks.join('; ')}`, '');

  out.push('Targets (noisy: 2 shared cores, broker on the same machine)');
  out.push(table(['target', 'goal', 'measured', 'result'], r.targets.map((t) => [t.name, t.goal, t.value, t.pass === null ? 'n/a' : t.pass ? 'PASS' : 'MISS']), 99));
  for (const n of r.notes) out.push(`note: ${n}`);
  return out.join('\n');
}

/** The (g) section of the text report. */
function formatEos(r: BenchReport): string[] {
  const out: string[] = [];
  const e = r.eos!;
  const pairsRun = new Set(e.runs.map((x) => x.pair)).size;
  out.push(
    `(g) Exactly-once Kafka out: the batch pipeline + kafka out (alerts of the three detectors, keyed by payload.deviceId; window results), kafka in processing at-least-once against exactly-once` +
      (pairsRun > 0 ? `, ${pairsRun} alternated pair${pairsRun > 1 ? 's' : ''} (timed until every reading is in the CSV and every output in Kafka; kafka out maxQueue ${r.options.eosMaxQueue === undefined ? 'default' : int(r.options.eosMaxQueue as number)})` : ''),
  );
  if (e.load?.result) out.push(`topic ${e.load.result.topic} of its own: ${int(e.load.result.records)} readings of ${int(r.options.eosDevices as number)} devices, read by every run of both modes`);
  else if (e.runs.length > 0) out.push(`the bench topic above, read by every run of both modes`);
  else if (e.load) out.push(`load: ${failed(e.load)}`);
  if (e.runs.length > 0) {
    const rows = e.runs.map((x) => {
      const p = x.result;
      const o = p?.outputs;
      if (!p || !o) return [`pair ${x.pair}`, x.processing, failed(x) ?? 'no outputs', '', '', '', '', '', '', ''];
      const notes = [
        p.timeBoxed ? `TIME-BOXED after ${int(p.readings)} readings` : `commit +${ms(p.commitLagMs)} ms${p.committed ? '' : ' (NOT at end)'}`,
        o.failed > 0 ? `${int(o.failed)} outputs FAILED` : '',
        o.unfinished > 0 ? `${int(o.unfinished)} outputs UNFINISHED (failed to Catch, e.g. queue full)` : '',
        o.alertsDone < o.alertsIn || o.windowsDone < o.windowsIn ? `kafka out done ${int(o.alertsDone)}/${int(o.alertsIn)} alerts, ${int(o.windowsDone)}/${int(o.windowsIn)} windows` : '',
        p.problems.length ? `${p.problems.length} log lines` : '',
      ]
        .filter(Boolean)
        .join(', ');
      return [
        `pair ${x.pair}`,
        x.processing,
        int(p.recordsPerSec),
        int(p.recordsPerCpuSec),
        ms(o.lagMs),
        int(p.alerts),
        `${int(o.alertsOnTopic)}${o.alertDuplicates ? ` (${int(o.alertDuplicates)} dup)` : ''}`,
        `${int(o.windowsOnTopic)}${o.windowDuplicates ? ` (${int(o.windowDuplicates)} dup)` : ''}`,
        mb(x.memory?.peakRssMB),
        notes,
      ];
    });
    out.push(
      table(['run', 'processing', 'readings/s', 'readings/CPU-s', 'outputs after last reading ms', 'alerts emitted', 'alerts on topic', 'windows on topic', 'peak RSS MB', 'notes'], rows, 2),
    );
    const c = eosCost(r);
    if (c) {
      out.push(
        `cost of exactly-once: ${c.readingsPct.toFixed(1)} % of readings/s, ${c.cpuPct.toFixed(1)} % of readings per CPU-second` +
          (c.pairs > 1 ? ` (median of ${c.pairs} pairs; each pair ${c.pairPcts.map((x) => `${x.toFixed(1)} %`).join(' / ')})` : '') +
          `; medians: at-least-once ${int(c.aloRate)}/s (${int(c.aloCpu)}/CPU-s), exactly-once ${int(c.eosRate)}/s (${int(c.eosCpu)}/CPU-s)`,
      );
    }
    const a = eosAlertsCheck(r);
    const list = (xs: number[]) => (xs.length ? xs.map(int).join(' / ') : '–');
    out.push(
      `alerts on the alerts topic (read_committed reader): at-least-once ${list(a.counts['at-least-once'])}, exactly-once ${list(a.counts['exactly-once'])}` +
        (a.same === null ? ' (not compared: a mode has no complete run)' : a.same ? ': the same in every run, no duplicates' : `: DIFFER${a.duplicates ? `, ${int(a.duplicates)} duplicates` : ''}`),
    );
  }
  if (e.latency.length > 0) {
    const rows = e.latency.map((x) => {
      const l = x.result;
      const c = l?.committed;
      if (!l || !c) return [x.processing, failed(x) ?? 'no reader result', '', '', '', '', '', '', '', '', ''];
      return [
        l.saturated ? `${x.processing} SATURATED (${l.processedPct.toFixed(0)} % done)` : x.processing,
        int(l.rate),
        int(l.achievedRate),
        int(c.alerts.samples),
        ms(c.alerts.p50),
        ms(c.alerts.p99),
        ms(c.alerts.max),
        `${ms(l.toKafkaIn.p50)} / ${ms(l.toKafkaIn.p99)}`,
        `${ms(l.alerts.p50)} / ${ms(l.alerts.p99)}`,
        `${ms(c.outDone.p50)} / ${ms(c.outDone.p99)}`,
        `${int(c.readerRecords)} of ${int(c.alertsDone)}${c.unmatched ? `, ${int(c.unmatched)} unmatched` : ''}`,
      ];
    });
    const rate = e.latency.find((x) => x.result)?.result?.mode ?? 'batch';
    out.push(
      `Produce (record timestamp) → alert seen by a read_committed kafkajs consumer of the alerts topic (own process), ${rate} mode, ms; "kafka out done": acknowledged (at-least-once) or its transaction committed (exactly-once)`,
    );
    out.push(
      table(['processing', 'offered/s', 'achieved/s', 'alerts', 'p50', 'p99', 'max', 'of which: to kafka in p50 / p99', 'to detector output 2', 'to kafka out done', 'reader saw of sent'], rows, 1),
    );
  }
  return out;
}

export function computeTargets(r: BenchReport): Target[] {
  const t: Target[] = [];
  const cc = r.clientCeiling?.result?.recordsPerSec;
  const rs = r.runtimeCeiling.single?.result?.messagesPerSec;
  const pb = r.pipeline.batch?.result?.recordsPerSec;
  const ps = r.pipeline.single?.result?.recordsPerSec;
  const pbCpu = r.pipeline.batch?.result?.recordsPerCpuSec;
  t.push({ name: 'batch throughput', goal: '≥ 200,000 readings/s', value: pb === undefined ? '–' : int(pb), pass: pb === undefined ? null : pb >= 200_000 });
  // Issue 17's: the batch pipeline's readings per CPU-second and per second of wall clock, single mode's readings/s.
  t.push({ name: 'batch readings per CPU-s', goal: '≥ 100,000', value: pbCpu === undefined ? '–' : int(pbCpu), pass: pbCpu === undefined ? null : pbCpu >= 100_000 });
  t.push({ name: 'batch readings/s (wall)', goal: '≥ 110,000', value: pb === undefined ? '–' : int(pb), pass: pb === undefined ? null : pb >= 110_000 });
  t.push({ name: 'single readings/s', goal: '≥ 25,000', value: ps === undefined ? '–' : int(ps), pass: ps === undefined ? null : ps >= 25_000 });
  const cpuPct = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? '' : ` (CPU ${pct(a, b)})`);
  t.push({
    name: 'batch vs client ceiling',
    goal: '≥ 70 %',
    value: pct(pb, cc) + cpuPct(r.pipeline.batch?.result?.recordsPerCpuSec, r.clientCeiling?.result?.recordsPerCpuSec),
    pass: pb === undefined || !cc ? null : pb / cc >= 0.7,
  });
  t.push({
    name: 'single vs runtime ceiling',
    goal: '≥ 80 %',
    value: pct(ps, rs) + cpuPct(r.pipeline.single?.result?.recordsPerCpuSec, r.runtimeCeiling.single?.result?.recordsPerCpuSec),
    pass: ps === undefined || !rs ? null : ps / rs >= 0.8,
  });
  const cost = checkpointCost(r);
  if (r.pipeline[NO_CHECKPOINTS] || cost) {
    t.push({
      name: 'checkpoint cost (batch)',
      goal: `≤ ${CHECKPOINT_COST_GOAL_PCT} % of readings/s`,
      value: cost ? `${cost.readingsPct.toFixed(1)} % (CPU ${cost.cpuPct.toFixed(1)} %)` : '–',
      pass: cost ? cost.readingsPct <= CHECKPOINT_COST_GOAL_PCT : null,
    });
  }
  for (const l of r.latency) {
    const x = l.result;
    if (x && x.rate === 5000) {
      t.push({
        name: `alert p99 @ 5,000/s (${x.mode})`,
        goal: '< 20 ms',
        value: `${ms(x.alerts.p99)} ms${x.saturated ? ' (saturated)' : ''}`,
        pass: x.alerts.samples > 0 ? !x.saturated && x.alerts.p99 < 20 : null,
      });
    }
  }
  const d10 = r.devices.find((d) => d.result?.devices === 10_000);
  t.push({ name: 'peak RSS @ 10,000 devices', goal: '< 300 MB', value: d10?.memory ? `${mb(d10.memory.peakRssMB)} MB` : '–', pass: d10?.memory ? d10.memory.peakRssMB < 300 : null });
  const rr = r.restore?.result;
  if (r.restore) {
    t.push({
      name: 'restore per 10,000 devices (z-score + window)',
      goal: 'reported',
      value: rr ? `${ms(rr.per10k.both)} ms (z-score ${ms(rr.per10k.zscore)}, window ${ms(rr.per10k.window)})${rr.devices === 10_000 ? '' : `, scaled from ${int(rr.devices)}`}` : '–',
      pass: rr !== undefined,
    });
  }
  if (r.eos) {
    const c = eosCost(r);
    t.push({
      name: 'exactly-once Kafka out cost (batch)',
      goal: 'reported',
      value: c ? `${c.readingsPct.toFixed(1)} % of readings/s (CPU ${c.cpuPct.toFixed(1)} %)` : '–',
      pass: c ? true : null,
    });
    const a = eosAlertsCheck(r);
    if (r.eos.runs.length > 0) {
      const n = [...a.counts['at-least-once'], ...a.counts['exactly-once']];
      t.push({ name: 'alerts on topic, both modes (read_committed)', goal: 'equal, no duplicates', value: n.length ? `${[...new Set(n)].map(int).join(' ≠ ')}${a.duplicates ? `, ${int(a.duplicates)} dup` : ''}` : '–', pass: a.same });
    }
    for (const x of r.eos.latency) {
      const c2 = x.result?.committed;
      t.push({
        name: `alert on topic p99 @ ${int(x.result?.rate)}/s (${x.processing})`,
        goal: 'reported',
        value: c2 ? `${ms(c2.alerts.p99)} ms (p50 ${ms(c2.alerts.p50)})${x.result?.saturated ? ' (saturated)' : ''}` : '–',
        pass: c2 && c2.alerts.samples > 0 ? true : null,
      });
    }
  }
  if (r.peer) t.push(...peerTargets(r.peer));
  return t;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Horizontal bars of readings/s on a log scale: the pipeline by mode against both ceilings. */
export function chartSvg(r: BenchReport): string {
  const bars: { label: string; value: number; color: string }[] = [];
  const add = (label: string, v: number | undefined, color: string) => {
    if (v !== undefined && Number.isFinite(v) && v > 0) bars.push({ label, value: v, color });
  };
  add('client ceiling: kafkajs + JSON.parse', r.clientCeiling?.result?.recordsPerSec, '#8c8c8c');
  add('runtime ceiling, single (7 pass-through)', r.runtimeCeiling.single?.result?.recordsPerSec, '#b3b3b3');
  add(`pipeline, single${r.pipeline.single?.result?.timeBoxed ? ' (time-boxed)' : ''}`, r.pipeline.single?.result?.recordsPerSec, '#d9480f');
  add('runtime ceiling, batch (7 pass-through)', r.runtimeCeiling.batch?.result?.recordsPerSec, '#b3b3b3');
  const nocp = r.pipeline[NO_CHECKPOINTS]?.result;
  add(`pipeline, batch, no checkpoints${nocp?.timeBoxed ? ' (time-boxed)' : ''}`, nocp?.recordsPerSec, '#74c0fc');
  add(`pipeline, batch${r.pipeline.batch?.result?.timeBoxed ? ' (time-boxed)' : ''}`, r.pipeline.batch?.result?.recordsPerSec, '#1c7ed6');
  const ec = eosCost(r);
  add('batch + kafka out, at-least-once (median)', ec?.aloRate, '#8ce99a');
  add('batch + kafka out, exactly-once (median)', ec?.eosRate, '#2f9e44');
  const W = 900;
  const left = 300;
  const right = 110;
  const top = 56;
  const barH = 26;
  const gap = 14;
  const H = top + bars.length * (barH + gap) + 50;
  const minExp = 3;
  const maxExp = Math.max(6, Math.ceil(Math.log10(Math.max(1, ...bars.map((b) => b.value)))));
  const x = (v: number) => left + ((Math.log10(Math.max(v, 10 ** minExp)) - minExp) / (maxExp - minExp)) * (W - left - right);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="13">`);
  parts.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  parts.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="16" font-weight="bold">Throughput by mode against the ceilings (readings/s, log scale)</text>`);
  parts.push(
    `<text x="${W / 2}" y="40" text-anchor="middle" fill="#555">${esc(`${r.startedAt} · ${Number(r.options.readings).toLocaleString('en-US')} readings · ${r.machine.cpus} shared cores`)}</text>`,
  );
  for (let e = minExp; e <= maxExp; e++) {
    const gx = x(10 ** e);
    const lbl = e >= 6 ? `${10 ** (e - 6)}M` : `${10 ** (e - 3)}k`;
    parts.push(`<line x1="${gx}" y1="${top - 6}" x2="${gx}" y2="${H - 40}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${gx}" y="${H - 24}" text-anchor="middle" fill="#555">${lbl}</text>`);
  }
  const tx = x(200_000);
  parts.push(`<line x1="${tx}" y1="${top - 6}" x2="${tx}" y2="${H - 40}" stroke="#2b8a3e" stroke-dasharray="5,4"/>`);
  parts.push(`<text x="${tx + 4}" y="${H - 44}" fill="#2b8a3e">batch target 200k</text>`);
  bars.forEach((b, i) => {
    const y = top + i * (barH + gap);
    parts.push(`<text x="${left - 8}" y="${y + barH / 2 + 4}" text-anchor="end">${esc(b.label)}</text>`);
    parts.push(`<rect x="${left}" y="${y}" width="${Math.max(1, x(b.value) - left)}" height="${barH}" fill="${b.color}"/>`);
    parts.push(`<text x="${x(b.value) + 6}" y="${y + barH / 2 + 4}">${Math.round(b.value).toLocaleString('en-US')}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
