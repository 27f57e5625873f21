/**
 * (e) Memory against device count: the pipeline fed in-process (no Kafka) with `perDevice` readings
 * for each of `devices` devices, interleaved as they would arrive, in batches. Reports the retained heap
 * (after a full GC) before and after, so the per-device state shows, and the process's peak RSS.
 * The readings CSV sink is left out: it would write devices × perDevice rows and holds no per-device
 * state (the windows sink stays).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { currentRssMB, retainedHeapMB, scenarioMain } from '../lib/child';
import { loadDataset, readingAt } from '../lib/dataset';
import { pipelineFlow } from '../lib/flows';
import { benchGlobal, startNodeRed } from '../lib/nodered';
import { pump } from '../lib/pump';

export interface DevicesConfig {
  devices: number;
  perDevice: number;
  batchSize: number;
}

export interface DevicesResult {
  devices: number;
  readings: number;
  recordsPerSec: number;
  baselineHeapMB: number;
  baselineRssMB: number;
  retainedHeapMB: number;
  rssAtEndMB: number;
  /** (retained − baseline heap) / devices, KB. */
  heapPerDeviceKB: number;
  alerts: number;
  windows: number;
  problems: string[];
}

scenarioMain<DevicesConfig, DevicesResult>(async (cfg) => {
  const ds = loadDataset();
  const csvDir = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-bench-csv-'));
  const nr = await startNodeRed(pipelineFlow({ csvDir, readingsSink: false }));
  try {
    const g = benchGlobal();
    const src = g.sources.get('src');
    const durable = g.taps.get('durable');
    if (!src || !durable) throw new Error('bench nodes did not register');
    const baselineHeapMB = retainedHeapMB();
    const baselineRssMB = currentRssMB();
    const total = cfg.devices * cfg.perDevice;
    const r = await pump(
      src,
      durable,
      total,
      cfg.batchSize,
      (start, count) => {
        const payload = new Array(count);
        for (let i = 0; i < count; i++) payload[i] = readingAt(ds, start + i, cfg.devices);
        return { topic: 'bench', payload };
      },
      cfg.batchSize * 20,
    );
    const retained = retainedHeapMB();
    return {
      devices: cfg.devices,
      readings: total,
      recordsPerSec: r.recordsPerSec,
      baselineHeapMB,
      baselineRssMB,
      retainedHeapMB: retained,
      rssAtEndMB: currentRssMB(),
      heapPerDeviceKB: ((retained - baselineHeapMB) * 1024) / cfg.devices,
      alerts: g.taps.get('alerts')?.records ?? 0,
      windows: g.taps.get('windows')?.records ?? 0,
      problems: nr.problems.slice(0, 20),
    };
  } finally {
    await nr.stop().catch(() => undefined);
    fs.rmSync(csvDir, { recursive: true, force: true });
  }
});
