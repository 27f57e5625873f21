/**
 * Readings for the reliability suites: the real data file's sensor values, spread over many devices
 * with synthetic event times (so that a stream of any length keeps each device in event-time order),
 * produced to Kafka with the Kaggle headers, keyed by device id, as the seed's producer does.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Partitioners, type Producer } from 'kafkajs';
import { kafkaClient } from '../kafka/broker';
import { SENSOR_FIELDS } from '../../nodes/lib/sensor-fields';

export const DATA = path.resolve(__dirname, '../../../shared/data/smoke_detection_iot.csv');

/** Kaggle headers of the sensor columns, in file order (after `UTC`). */
export const SENSOR_HEADERS: readonly string[] = SENSOR_FIELDS.map((f) => f.header);

let rowsCache: number[][] | null = null;

/** The data file's sensor values, one array per row in SENSOR_HEADERS order. */
export function dataRows(): number[][] {
  if (rowsCache) return rowsCache;
  const lines = fs.readFileSync(DATA, 'utf8').split(/\r?\n/);
  const header = lines[0].split(',');
  const cols = SENSOR_HEADERS.map((h) => header.indexOf(h));
  if (cols.some((c) => c < 0)) throw new Error(`unexpected header in ${DATA}: ${lines[0]}`);
  const rows: number[][] = [];
  for (let i = 1; i < lines.length; i++) {
    if (!lines[i]) continue;
    const cells = lines[i].split(',');
    rows.push(cols.map((c) => Number(cells[c])));
  }
  rowsCache = rows;
  return rows;
}

export interface StreamShape {
  /** Distinct device ids: reading i belongs to device i % devices. */
  devices: number;
  /** Event time of reading 0, unix seconds. */
  startSec: number;
  /** Seconds between two readings of one device. */
  stepSec: number;
}

/** 2022-06-09T00:00:00Z, the data file's first day: a 200k stream at 50 devices × 5 s stays in that UTC day. */
export const DEFAULT_SHAPE: StreamShape = { devices: 50, startSec: 1_654_732_800, stepSec: 5 };

export function deviceId(i: number, shape: StreamShape): string {
  return `dev-${String(i % shape.devices).padStart(4, '0')}`;
}

/** Unix seconds of reading i. */
export function eventSec(i: number, shape: StreamShape): number {
  return shape.startSec + Math.floor(i / shape.devices) * shape.stepSec;
}

/** Reading i as the producer sends it: Kaggle headers, `UTC` in seconds, `device_id`. */
export function kaggleReading(i: number, shape: StreamShape = DEFAULT_SHAPE): Record<string, unknown> {
  const rows = dataRows();
  const row = rows[i % rows.length];
  const r: Record<string, unknown> = { UTC: eventSec(i, shape) };
  for (let c = 0; c < SENSOR_HEADERS.length; c++) r[SENSOR_HEADERS[c]] = row[c];
  r.device_id = deviceId(i, shape);
  return r;
}

/** A producer for test input (default partitioner: one device, one partition). */
export async function testProducer(): Promise<Producer> {
  const p = kafkaClient({ clientId: 'smoke-reliability-producer' }).producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  });
  await p.connect();
  return p;
}

/** Produce readings [from, to) in requests of `chunk` records, acks = all. */
export async function produceReadings(producer: Producer, topic: string, from: number, to: number, shape: StreamShape = DEFAULT_SHAPE, chunk = 5000): Promise<void> {
  for (let i = from; i < to; ) {
    const end = Math.min(to, i + chunk);
    const messages = [];
    for (let k = i; k < end; k++) {
      const r = kaggleReading(k, shape);
      messages.push({ key: r.device_id as string, value: JSON.stringify(r) });
    }
    await producer.send({ topic, acks: -1, messages });
    i = end;
  }
}

/** A small seeded PRNG (mulberry32): kill points and churn orders are reproducible from the seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of a run: SMOKE_SEED to reproduce one, else a fresh one (printed by the suites). */
export function runSeed(): number {
  const s = Number(process.env.SMOKE_SEED);
  return Number.isInteger(s) ? s : Math.floor(Math.random() * 2 ** 31);
}

/**
 * The partition the test producer's default partitioner (murmur2 of the key, as Kafka's Java client)
 * puts a key in, on a topic of `partitions` partitions: which devices moved with which partition.
 */
export function partitionOf(key: string, partitions: number): number {
  const partitionMetadata = Array.from({ length: partitions }, (_, p) => ({ partitionErrorCode: 0, partitionId: p, leader: 0, replicas: [0], isr: [0] }));
  return Partitioners.DefaultPartitioner()({ topic: 'any', partitionMetadata, message: { key, value: null } });
}
