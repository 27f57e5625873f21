/**
 * (c) The runtime ceiling: Node-RED with the pipeline's number of hops and no logic: an in-process
 * source at full speed → a chain of minimal pass-through nodes, single readings or batches per msg.
 */
import { scenarioMain } from '../lib/child';
import { loadDataset, readingAt } from '../lib/dataset';
import { benchGlobal, passThroughFlow, startNodeRed } from '../lib/nodered';
import { pump, type PumpResult } from '../lib/pump';

export interface RuntimeCeilingConfig {
  mode: 'single' | 'batch';
  readings: number;
  batchSize: number;
  hops: number;
  devices: number;
}

scenarioMain<RuntimeCeilingConfig, PumpResult & { hops: number }>(async (cfg) => {
  const ds = loadDataset();
  // A pool of ready readings: the ceiling measures the runtime, not the making of payloads.
  const pool = Array.from({ length: 10_000 }, (_, n) => readingAt(ds, n, cfg.devices));
  const nr = await startNodeRed(passThroughFlow(cfg.hops), { withPackage: false });
  try {
    const g = benchGlobal();
    const src = g.sources.get('src');
    const tap = g.taps.get('end');
    if (!src || !tap) throw new Error('bench nodes did not register');
    const perMsg = cfg.mode === 'batch' ? cfg.batchSize : 1;
    const make =
      cfg.mode === 'batch'
        ? (start: number, count: number) => {
            const i = start % pool.length;
            return { topic: 'bench', payload: i + count <= pool.length ? pool.slice(i, i + count) : pool.slice(0, count) };
          }
        : (start: number) => ({ topic: 'bench', payload: pool[start % pool.length] });
    // Warm the JIT before measuring, as the long Kafka runs are warm for most of their length.
    await pump(src, tap, Math.min(50_000, cfg.readings / 10) * (cfg.mode === 'batch' ? 10 : 1), perMsg, make, perMsg * 100);
    // Batches go through 100x faster: measure at least 50,000 messages so the figure is not noise.
    const total = cfg.mode === 'batch' ? Math.max(cfg.readings, 50_000 * perMsg) : cfg.readings;
    const r = await pump(src, tap, total, perMsg, make, cfg.mode === 'batch' ? perMsg * 100 : 1000);
    return { ...r, hops: cfg.hops };
  } finally {
    await nr.stop();
  }
});
