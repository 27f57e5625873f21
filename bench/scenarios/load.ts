/**
 * Loads the bench topic: a fresh topic with P partitions, N readings keyed by device id, the
 * record timestamp set at produce time.
 */
import { scenarioMain } from '../lib/child';
import { loadDataset, readingAt } from '../lib/dataset';
import { createTopic, endOffsets, kafkaClient, produceAll, producerFor } from '../lib/kafka';

export interface LoadConfig {
  brokers: string[];
  topic: string;
  partitions: number;
  readings: number;
  devices: number;
}

export interface LoadResult {
  topic: string;
  records: number;
  bytes: number;
  elapsedMs: number;
  recordsPerSec: number;
  perPartition: Record<string, string>;
}

scenarioMain<LoadConfig, LoadResult>(async (cfg) => {
  const ds = loadDataset();
  const kafka = kafkaClient(cfg.brokers, 'smoke-bench-load');
  const admin = kafka.admin();
  await admin.connect();
  const producer = producerFor(kafka);
  await producer.connect();
  try {
    await createTopic(admin, cfg.topic, cfg.partitions);
    let bytes = 0;
    let lastLog = 0;
    const elapsedMs = await produceAll(
      producer,
      cfg.topic,
      cfg.readings,
      (n) => {
        const r = readingAt(ds, n, cfg.devices);
        const value = JSON.stringify(r);
        bytes += value.length;
        return { key: r.device_id as string, value };
      },
      5000,
      4,
      (done) => {
        if (done - lastLog >= 250_000) {
          lastLog = done;
          process.stderr.write(`  load: ${done} of ${cfg.readings} readings produced\n`);
        }
      },
    );
    const ends = await endOffsets(admin, cfg.topic);
    let records = 0;
    const perPartition: Record<string, string> = {};
    for (const [p, o] of ends) {
      records += Number(o);
      perPartition[p] = o.toString();
    }
    if (records !== cfg.readings) throw new Error(`topic holds ${records} records, expected ${cfg.readings}`);
    return { topic: cfg.topic, records, bytes, elapsedMs, recordsPerSec: (records / elapsedMs) * 1000, perPartition };
  } finally {
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
});
