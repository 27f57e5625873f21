/**
 * (e) Memory against device count: the pipeline fed in-process (no Kafka) with `perDevice` readings
 * for each of `devices` devices, interleaved as they would arrive, in batches. Reports the retained heap
 * (after a full GC) before and after, so the per-device state shows, and the process's peak RSS.
 * Each device's readings are `stepSeconds` apart in event time, so that a few dozen readings span the
 * window size plus the watermark delay and the windows' panes reach their steady count (at 1 Hz that
 * would take 900 readings per device: 90 million at 100,000 devices).
 * The CSV sinks are left out (see lib/flows.ts): they hold no per-device state, and the compressed
 * event time closes windows stepSeconds times faster than a 1 Hz stream would.
 */
import { currentRssMB, retainedMB, scenarioMain } from '../lib/child';
import { loadDataset, readingAt } from '../lib/dataset';
import { pipelineFlow } from '../lib/flows';
import { benchGlobal, startNodeRed } from '../lib/nodered';
import { pump } from '../lib/pump';

export interface DevicesConfig {
  devices: number;
  perDevice: number;
  stepSeconds: number;
  batchSize: number;
}

export interface DevicesResult {
  devices: number;
  readings: number;
  /** Event time each device covers, minutes. */
  eventMinutes: number;
  recordsPerSec: number;
  /** After a full GC, before feeding: V8 heap + external memory, MB. */
  baselineMB: number;
  baselineRssMB: number;
  /** After a full GC, after feeding: V8 heap and external memory (typed arrays), MB. */
  retainedHeapMB: number;
  retainedExternalMB: number;
  rssAtEndMB: number;
  /** (retained − baseline, heap + external) / devices, KB. */
  perDeviceKB: number;
  alerts: number;
  windows: number;
  problems: string[];
}

scenarioMain<DevicesConfig, DevicesResult>(async (cfg) => {
  const ds = loadDataset();
  const nr = await startNodeRed(pipelineFlow({ csvDir: '', sinks: false }));
  try {
    const g = benchGlobal();
    const src = g.sources.get('src');
    const durable = g.taps.get('durable');
    if (!src || !durable) throw new Error('bench nodes did not register');
    const base = retainedMB();
    const baselineMB = base.heap + base.external;
    const baselineRssMB = currentRssMB();
    const total = cfg.devices * cfg.perDevice;
    const r = await pump(
      src,
      durable,
      total,
      cfg.batchSize,
      (start, count) => {
        const payload = new Array(count);
        for (let i = 0; i < count; i++) payload[i] = readingAt(ds, start + i, cfg.devices, cfg.stepSeconds);
        return { topic: 'bench', payload };
      },
      // As many records in flight as kafka in allows by default (maxInFlight 30,000).
      30_000,
    );
    const retained = retainedMB();
    return {
      devices: cfg.devices,
      readings: total,
      eventMinutes: (cfg.perDevice * cfg.stepSeconds) / 60,
      recordsPerSec: r.recordsPerSec,
      baselineMB,
      baselineRssMB,
      retainedHeapMB: retained.heap,
      retainedExternalMB: retained.external,
      rssAtEndMB: currentRssMB(),
      perDeviceKB: ((retained.heap + retained.external - baselineMB) * 1024) / cfg.devices,
      alerts: g.taps.get('alerts')?.records ?? 0,
      windows: g.taps.get('windows')?.records ?? 0,
      problems: nr.problems.slice(0, 20),
    };
  } finally {
    await nr.stop().catch(() => undefined);
  }
});
