/**
 * (h) The peer section of the report (issue 17): our batch pipeline against the seed's Spark
 * Structured Streaming query on the same topic in the same run, and their final windows compared.
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
  spark?: SparkPeerResult;
  /** Why the peer gave no result (build or run failed). */
  error?: string;
  windows?: WindowsComparison;
}

const int = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '–' : Math.round(n).toLocaleString('en-US'));
const sec = (ms: number | undefined) => (ms === undefined || !Number.isFinite(ms) ? '–' : (ms / 1000).toFixed(1));
const times = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || !Number.isFinite(a / b) ? '–' : `${(a / b).toFixed(1)}×`);

/** Readings per second and per CPU-second of both sides, and their ratios (ours / Spark's). */
export function peerRatios(p: PeerReport): { rate?: number; cpu?: number; wallRate?: number; processCpu?: number } {
  const o = p.ours.result;
  const s = p.spark;
  if (!o || !s) return {};
  const ourWall = p.ours.wallMs > 0 ? (o.readings / p.ours.wallMs) * 1000 : NaN;
  return {
    rate: o.recordsPerSec / s.recordsPerSec,
    cpu: o.recordsPerCpuSec / s.recordsPerQueryCpuSec,
    wallRate: ourWall / s.wallRecordsPerSec,
    processCpu: o.processCpuMs > 0 ? ((o.readings / o.processCpuMs) * 1000) / s.recordsPerProcessCpuSec : undefined,
  };
}

/** The section's lines of the text report. */
export function formatPeer(p: PeerReport, table: (head: string[], rows: string[][], rightFrom?: number) => string): string[] {
  const out: string[] = [];
  const o = p.ours.result;
  const s = p.spark;
  out.push(
    `(h) The peer: the seed's Spark Structured Streaming query (Spark ${s?.spark ?? '4.0.0'}, ${s?.master ?? 'local[2]'}, Trigger.AvailableNow, ` +
      `${s?.shufflePartitions ?? '?'} shuffle partitions, driver heap ${s?.driverMemory ?? '?'}) on topic ${p.topic}, right after our batch pipeline on the same topic`,
  );
  if (!p.ours.ok) out.push(`  ours: FAILED ${(p.ours.error ?? '').split('\n')[0]}`);
  if (p.error) out.push(`  Spark: FAILED ${p.error.split('\n')[0]}`);
  if (!o && !s) return out;
  const ourWallRate = o && p.ours.wallMs > 0 ? (o.readings / p.ours.wallMs) * 1000 : undefined;
  const ourProcessRate = o && o.processCpuMs > 0 ? (o.readings / o.processCpuMs) * 1000 : undefined;
  const r = peerRatios(p);
  const rows: string[][] = [
    ['readings', int(o?.readings), int(s?.readings), ''],
    ['readings/s, processing *', int(o?.recordsPerSec), int(s?.recordsPerSec), times(r.rate, 1)],
    ['readings/s, wall incl. process start', int(ourWallRate), int(s?.wallRecordsPerSec), times(r.wallRate, 1)],
    ['CPU-s, processing *', sec(o?.cpuMs), sec(s?.queryCpuMs), times(s?.queryCpuMs, o?.cpuMs)],
    ['CPU-s, whole process', sec(o?.processCpuMs), sec(s?.processCpuMs), times(s?.processCpuMs, o?.processCpuMs)],
    ['readings per CPU-s, processing *', int(o?.recordsPerCpuSec), int(s?.recordsPerQueryCpuSec), times(r.cpu, 1)],
    ['readings per CPU-s, whole process', int(ourProcessRate), int(s?.recordsPerProcessCpuSec), times(r.processCpu, 1)],
    ['peak RSS MB', int(p.ours.memory?.peakRssMB), int(s?.peakRssMB), times(s?.peakRssMB, p.ours.memory?.peakRssMB)],
    ['final windows', int(o?.windowsWritten), int(p.windows?.peer), ''],
  ];
  out.push(table(['', 'ours', 'Spark', 'ours better by'], rows, 1));
  out.push(
    '* processing: ours from kafka in\'s first message to the last reading durable in the CSV; Spark\'s readings/s from its first batch\'s start to its last ' +
      "batch's end (StreamingQueryProgress), its CPU from the query's start() to its end (without JVM start and session setup). " +
      '"ours better by": our rate / Spark\'s, Spark\'s cost / ours.',
  );
  if (s) {
    out.push(
      `Spark: ${s.batches} batch${s.batches === 1 ? '' : 'es'}, JVM start and session setup ${sec(s.setupMs)} s, query ${sec(s.queryMs)} s, wall ${sec(s.wallMs)} s; ` +
        `build ${s.build.built ? `by Maven, ${sec(s.build.ms)} s` : 'cached (bench/spark/target)'}`,
    );
  }
  const w = p.windows;
  if (w) {
    out.push(
      `Final windows compared (relative ${REL_TOLERANCE}): ours ${int(w.ours)}, Spark's ${int(w.peer)}; ${int(w.both)} on both sides, ${int(w.equal)} equal, ` +
        `${int(w.mismatched)} mismatched, ${int(w.onlyOurs)} only ours, ${int(w.onlyPeer)} only Spark's${w.duplicates ? `, ${int(w.duplicates)} DUPLICATES` : ''}; ` +
        `largest difference among the equal ones ${w.maxRelDiff.toExponential(1)}`,
    );
    for (const e of w.examples) out.push(`  ${e}`);
  }
  return out;
}

/** The section's targets: ≥ 4× Spark's readings/s, ≥ 5× its readings per CPU-second, the same windows. */
export function peerTargets(p: PeerReport): Target[] {
  const r = peerRatios(p);
  const o = p.ours.result;
  const s = p.spark;
  const value = (ratio: number | undefined, a: number | undefined, b: number | undefined) =>
    ratio === undefined ? '–' : `${ratio.toFixed(1)}× (${int(a)} vs ${int(b)})`;
  const w = p.windows;
  return [
    {
      name: 'readings/s vs Spark (processing)',
      goal: `≥ ${PEER_RATE_GOAL}×`,
      value: value(r.rate, o?.recordsPerSec, s?.recordsPerSec),
      pass: r.rate === undefined ? null : r.rate >= PEER_RATE_GOAL,
    },
    {
      name: 'readings per CPU-s vs Spark (processing)',
      goal: `≥ ${PEER_CPU_GOAL}×`,
      value: value(r.cpu, o?.recordsPerCpuSec, s?.recordsPerQueryCpuSec),
      pass: r.cpu === undefined ? null : r.cpu >= PEER_CPU_GOAL,
    },
    {
      name: "final windows equal to Spark's",
      goal: 'same windows and values',
      value: w ? `${int(w.equal)} of ${int(Math.max(w.ours, w.peer))} equal` : '–',
      pass: w ? sameWindows(w) : null,
    },
  ];
}
