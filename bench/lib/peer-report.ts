/**
 * (h) The peer section of the report (issue 17): our batch pipeline against the seed's Spark
 * Structured Streaming query on the same topic in the same run, and their final windows compared. Our
 * side runs twice: the full pipeline (far more work per reading than Spark's query), and the same query
 * as Spark's in our nodes (validate → sliding window → windows CSV, bench/lib/flows.ts `query:
 * 'window'`), the like-for-like comparison.
 */
import type { Measured, Target } from './report';
import type { PipelineResult } from '../scenarios/pipeline';
import type { SparkPeerResult } from './peer-spark';
import { REL_TOLERANCE, sameWindows, type WindowsComparison } from './windows-compare';

/** Goals of issue 17 (the report prints PASS / MISS; they are no assertions). */
export const PEER_RATE_GOAL = 4;
export const PEER_CPU_GOAL = 5;

export interface PeerReport {
  peer: 'spark';
  topic: string;
  /** Our batch pipeline with the nodes' defaults (changelog checkpoints, exactly-once CSV). */
  ours: Measured<PipelineResult>;
  /** Our run of the same query as Spark's (validate → sliding window → windows CSV), the nodes' defaults. */
  sameQuery?: Measured<PipelineResult>;
  spark?: SparkPeerResult;
  /** Why the peer gave no result (build or run failed). */
  error?: string;
  windows?: WindowsComparison;
  /** The same query's final windows against Spark's. */
  sameQueryWindows?: WindowsComparison;
}

const int = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '–' : Math.round(n).toLocaleString('en-US'));
const sec = (ms: number | undefined) => (ms === undefined || !Number.isFinite(ms) ? '–' : (ms / 1000).toFixed(1));
const times = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || !Number.isFinite(a / b) ? '–' : `${(a / b).toFixed(1)}×`);

/** Our runs in a {@link PeerReport}: the full pipeline, and the same query as Spark's. */
export type OurRun = 'ours' | 'sameQuery';

/**
 * Readings per second and per CPU-second of both sides, and their ratios (ours / Spark's): of our full
 * pipeline (`ours`, the default) or of our run of the same query (`sameQuery`).
 */
export function peerRatios(p: PeerReport, which: OurRun = 'ours'): { rate?: number; cpu?: number; wallRate?: number; processCpu?: number } {
  const run = p[which];
  const o = run?.result;
  const s = p.spark;
  if (!run || !o || !s) return {};
  const ourWall = run.wallMs > 0 ? (o.readings / run.wallMs) * 1000 : NaN;
  return {
    rate: o.recordsPerSec / s.recordsPerSec,
    cpu: o.recordsPerCpuSec / s.recordsPerQueryCpuSec,
    wallRate: ourWall / s.wallRecordsPerSec,
    processCpu: o.processCpuMs > 0 ? ((o.readings / o.processCpuMs) * 1000) / s.recordsPerProcessCpuSec : undefined,
  };
}

/** Rows of the section's table, in order (the cells of {@link runCells} and the Spark column follow them). */
const ROWS = [
  'readings',
  'readings/s, processing *',
  'readings/s, wall incl. process start',
  'CPU-s, processing *',
  'CPU-s, whole process',
  'readings per CPU-s, processing *',
  'readings per CPU-s, whole process',
  'peak RSS MB',
  'final windows',
];

/** One of our runs in the table: its figures, and by how much each beats Spark's (our rate / Spark's, Spark's cost / ours). */
function runCells(p: PeerReport, which: OurRun): { values: string[]; better: string[] } {
  const run = p[which];
  const o = run?.result;
  const s = p.spark;
  const r = peerRatios(p, which);
  const wallRate = o && run && run.wallMs > 0 ? (o.readings / run.wallMs) * 1000 : undefined;
  const processRate = o && o.processCpuMs > 0 ? (o.readings / o.processCpuMs) * 1000 : undefined;
  const rss = run?.memory?.peakRssMB;
  return {
    values: [int(o?.readings), int(o?.recordsPerSec), int(wallRate), sec(o?.cpuMs), sec(o?.processCpuMs), int(o?.recordsPerCpuSec), int(processRate), int(rss), int(o?.windowsWritten)],
    better: ['', times(r.rate, 1), times(r.wallRate, 1), times(s?.queryCpuMs, o?.cpuMs), times(s?.processCpuMs, o?.processCpuMs), times(r.cpu, 1), times(r.processCpu, 1), times(s?.peakRssMB, rss), ''],
  };
}

/** The line (and examples) of one window comparison, `what` naming our side. */
function windowsLines(what: string, w: WindowsComparison): string[] {
  return [
    `${what} compared (relative ${REL_TOLERANCE}): ours ${int(w.ours)}, Spark's ${int(w.peer)}; ${int(w.both)} on both sides, ${int(w.equal)} equal, ` +
      `${int(w.mismatched)} mismatched, ${int(w.onlyOurs)} only ours, ${int(w.onlyPeer)} only Spark's${w.duplicates ? `, ${int(w.duplicates)} DUPLICATES` : ''}; ` +
      `largest difference among the equal ones ${w.maxRelDiff.toExponential(1)}`,
    ...w.examples.map((e) => `  ${e}`),
  ];
}

/** CPU-µs per reading at `perCpuSec` readings per CPU-second. */
const usPerReading = (perCpuSec: number | undefined) => (perCpuSec === undefined || !(perCpuSec > 0) ? '–' : (1e6 / perCpuSec).toFixed(1));

/**
 * What the CPU goal leaves per reading, beside what each side and (when (b) ran in the same invocation)
 * the Kafka client alone cost per reading: where our time goes against the goal, in every run.
 */
function budgetLine(p: PeerReport, client: { recordsPerCpuSec: number } | undefined): string | undefined {
  const s = p.spark;
  if (!s || !(s.recordsPerQueryCpuSec > 0)) return undefined;
  const parts = [
    `Spark's query ${usPerReading(s.recordsPerQueryCpuSec)}`,
    `≥ ${PEER_CPU_GOAL}× its readings per CPU-s leaves ${usPerReading(s.recordsPerQueryCpuSec * PEER_CPU_GOAL)}`,
  ];
  if (client) parts.push(`the Kafka client alone ((b): kafkajs + JSON.parse, kafka in's fetch settings) ${usPerReading(client.recordsPerCpuSec)}`);
  if (p.sameQuery?.result) parts.push(`ours, same query ${usPerReading(p.sameQuery.result.recordsPerCpuSec)}`);
  if (p.ours.result) parts.push(`ours, full pipeline ${usPerReading(p.ours.result.recordsPerCpuSec)}`);
  return `CPU-µs per reading (processing): ${parts.join('; ')}`;
}

/**
 * The section's lines of the text report; `client`: the client ceiling (b), when it ran in the same
 * invocation (`--only client,peer --peer spark`).
 */
export function formatPeer(p: PeerReport, table: (head: string[], rows: string[][], rightFrom?: number) => string, client?: { recordsPerCpuSec: number }): string[] {
  const out: string[] = [];
  const o = p.ours.result;
  const q = p.sameQuery?.result;
  const s = p.spark;
  out.push(
    `(h) The peer: the seed's Spark Structured Streaming query (Spark ${s?.spark ?? '4.0.0'}, ${s?.master ?? 'local[2]'}, Trigger.AvailableNow, ` +
      `${s?.shufflePartitions ?? '?'} shuffle partitions, driver heap ${s?.driverMemory ?? '?'}) on topic ${p.topic}, right after our batch pipeline ` +
      'and our run of the same query on the same topic',
  );
  if (!p.ours.ok) out.push(`  ours: FAILED ${(p.ours.error ?? '').split('\n')[0]}`);
  if (p.sameQuery && !p.sameQuery.ok) out.push(`  ours, same query: FAILED ${(p.sameQuery.error ?? '').split('\n')[0]}`);
  if (p.error) out.push(`  Spark: FAILED ${p.error.split('\n')[0]}`);
  if (!o && !q && !s) return out;
  const full = runCells(p, 'ours');
  const same = runCells(p, 'sameQuery');
  const spark = [
    int(s?.readings),
    int(s?.recordsPerSec),
    int(s?.wallRecordsPerSec),
    sec(s?.queryCpuMs),
    sec(s?.processCpuMs),
    int(s?.recordsPerQueryCpuSec),
    int(s?.recordsPerProcessCpuSec),
    int(s?.peakRssMB),
    int((p.windows ?? p.sameQueryWindows)?.peer),
  ];
  const rows = ROWS.map((label, i) => [label, full.values[i], same.values[i], spark[i], full.better[i], same.better[i]]);
  out.push(table(['', 'ours', 'ours, same query', 'Spark', 'ours better by', 'same query better by'], rows, 1));
  out.push(
    '* processing: ours (the full pipeline) from kafka in\'s first message to the last reading durable in the CSV; ours, same query (validate → sliding ' +
      "window → windows CSV, as Spark's) from kafka in's first message to the later of the last reading through validation and the last window result " +
      "through the windows sink; Spark's readings/s from its first batch's start to its last " +
      "batch's end (StreamingQueryProgress), its CPU from the query's start() to its end (without JVM start and session setup). " +
      '"better by": our rate / Spark\'s, Spark\'s cost / ours.',
  );
  const budget = budgetLine(p, client);
  if (budget) out.push(budget);
  if (s) {
    out.push(
      `Spark: ${s.batches} batch${s.batches === 1 ? '' : 'es'}, JVM start and session setup ${sec(s.setupMs)} s, query ${sec(s.queryMs)} s, wall ${sec(s.wallMs)} s; ` +
        `build ${s.build.built ? `by Maven, ${sec(s.build.ms)} s` : 'cached (bench/spark/target)'}`,
    );
  }
  if (p.windows) out.push(...windowsLines('Final windows', p.windows));
  if (p.sameQueryWindows) out.push(...windowsLines("Same query's final windows", p.sameQueryWindows));
  return out;
}

/** Targets of one of our runs against Spark, their names prefixed with `prefix`. */
function runTargets(p: PeerReport, which: OurRun, w: WindowsComparison | undefined, prefix: string): Target[] {
  const r = peerRatios(p, which);
  const o = p[which]?.result;
  const s = p.spark;
  const value = (ratio: number | undefined, a: number | undefined, b: number | undefined) =>
    ratio === undefined ? '–' : `${ratio.toFixed(1)}× (${int(a)} vs ${int(b)})`;
  return [
    {
      name: `${prefix}readings/s vs Spark (processing)`,
      goal: `≥ ${PEER_RATE_GOAL}×`,
      value: value(r.rate, o?.recordsPerSec, s?.recordsPerSec),
      pass: r.rate === undefined ? null : r.rate >= PEER_RATE_GOAL,
    },
    {
      name: `${prefix}readings per CPU-s vs Spark (processing)`,
      goal: `≥ ${PEER_CPU_GOAL}×`,
      value: value(r.cpu, o?.recordsPerCpuSec, s?.recordsPerQueryCpuSec),
      pass: r.cpu === undefined ? null : r.cpu >= PEER_CPU_GOAL,
    },
    {
      name: `${prefix}final windows equal to Spark's`,
      goal: 'same windows and values',
      value: w ? `${int(w.equal)} of ${int(Math.max(w.ours, w.peer))} equal` : '–',
      pass: w ? sameWindows(w) : null,
    },
  ];
}

/**
 * The section's targets: ≥ 4× Spark's readings/s, ≥ 5× its readings per CPU-second, the same windows;
 * for the full pipeline, and (named "same query: …") for our run of Spark's query.
 */
export function peerTargets(p: PeerReport): Target[] {
  return [...runTargets(p, 'ours', p.windows, ''), ...runTargets(p, 'sameQuery', p.sameQueryWindows, 'same query: ')];
}
