/**
 * (b) The client ceiling: raw kafkajs consumption of the bench topic by a fresh consumer group, JSON
 * decode of each value and nothing else. Timed from the first record delivered to the last.
 */
import type { KafkaMessage } from 'kafkajs';
import { scenarioMain } from '../lib/child';
import { kafkaClient } from '../lib/kafka';
import { intervalProfiler } from '../lib/profiler';
import { sleep } from '../lib/stats';

export interface ClientCeilingConfig {
  brokers: string[];
  topic: string;
  groupId: string;
  readings: number;
  /** Consumer options matching kafka in's, so the ceiling is the same client doing the same fetches. */
  consumer?: Record<string, unknown>;
}

export interface ClientCeilingResult {
  records: number;
  batches: number;
  elapsedMs: number;
  recordsPerSec: number;
  /** Connect + group join until the first record, ms. */
  startupMs: number;
  avgBatch: number;
  cpuMs: number;
  recordsPerCpuSec: number;
}

scenarioMain<ClientCeilingConfig, ClientCeilingResult>(async (cfg) => {
  const kafka = kafkaClient(cfg.brokers, 'smoke-bench-client');
  const consumer = kafka.consumer({ groupId: cfg.groupId, ...(cfg.consumer ?? {}) });
  const tStart = performance.now();
  let first = 0;
  let last = 0;
  let records = 0;
  let batches = 0;
  let sink = 0;
  let cpu0: NodeJS.CpuUsage | undefined;
  let cpu: NodeJS.CpuUsage | undefined;
  const profiler = process.env.BENCH_PROFILE ? intervalProfiler() : undefined;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: cfg.topic, fromBeginning: true });
    let finished!: () => void;
    const done = new Promise<void>((r) => (finished = r));
    await consumer.run({
      eachBatch: async ({ batch }) => {
        if (first === 0) {
          first = performance.now();
          cpu0 = process.cpuUsage();
          profiler?.start();
        }
        const msgs: KafkaMessage[] = batch.messages;
        for (let i = 0; i < msgs.length; i++) {
          const v = msgs[i].value;
          if (v) {
            const o = JSON.parse(v.toString()) as { UTC?: number };
            // Touch the result so the decode cannot be optimised away.
            if (o.UTC === 1) sink++;
          }
        }
        records += msgs.length;
        batches++;
        if (records >= cfg.readings && last === 0) {
          last = performance.now();
          cpu = process.cpuUsage(cpu0);
          finished();
        }
      },
    });
    const deadline = sleep(300_000).then(() => {
      throw new Error(`client ceiling: ${records} of ${cfg.readings} records within 300 s`);
    });
    await Promise.race([done, deadline]);
  } finally {
    if (profiler && process.env.BENCH_PROFILE) await profiler.stop(process.env.BENCH_PROFILE);
    await consumer.disconnect().catch(() => undefined);
  }
  if (sink < 0) console.log(sink);
  const elapsedMs = last - first;
  const cpuMs = cpu ? (cpu.user + cpu.system) / 1000 : NaN;
  return {
    records,
    batches,
    elapsedMs,
    recordsPerSec: (records / elapsedMs) * 1000,
    startupMs: first - tStart,
    avgBatch: records / batches,
    cpuMs,
    recordsPerCpuSec: (records / cpuMs) * 1000,
  };
});
