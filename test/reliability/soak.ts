/**
 * Soak: the Kafka pipeline (kafka in, after-sink commits → validate → threshold → zscore → fire →
 * window → csv sinks, alerts → kafka out) in a child Node-RED, fed at a steady rate for N minutes.
 * Reports throughput, consumer lag, RSS, heap, event-loop lag and errors over time (a table on stdout,
 * JSON under test/artifacts/), then checks that every reading produced reached the historical CSV.
 *
 *   npm run soak -- --minutes 2 [--rate 2000] [--devices 100] [--sample 10]
 *
 * Exit code: 0 when nothing was lost and nothing failed, 1 otherwise, 2 when no broker answers.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { brokerAvailable, bootstrap, createTopic, kafkaClient, uniqueTopic } from '../kafka/broker';
import { DEFAULT_SHAPE, deviceId, eventSec, kaggleReading, testProducer, type StreamShape } from './_data';
import { readCsv } from './_check';
import { pipelineFlow } from './_pipeline';
import { NodeRedChild, createUserDir, killLeftovers, removeDir, root } from './_runtime';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '2' },
    rate: { type: 'string', default: '2000' },
    devices: { type: 'string', default: '100' },
    sample: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const MINUTES = Number(args.minutes);
const RATE = Number(args.rate);
const SHAPE: StreamShape = { ...DEFAULT_SHAPE, devices: Number(args.devices), stepSec: 1 };
const SAMPLE_S = Number(args.sample ?? Math.min(60, Math.max(5, Math.round((MINUTES * 60) / 12))));
if (!(MINUTES > 0) || !(RATE > 0) || !(SHAPE.devices > 0) || !(SAMPLE_S > 0)) {
  console.error('usage: soak.ts --minutes N [--rate readings/s] [--devices D] [--sample seconds] [--keep]');
  process.exit(2);
}

interface Sample {
  t: number;
  produced: number;
  committed: number;
  throughput: number;
  lag: number;
  rssMb: number;
  heapMb: number | null;
  loopLagP99Ms: number | null;
  warnings: number;
  errors: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sumOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

async function offsets(groupId: string, topic: string): Promise<{ committed: number; end: number }> {
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    const [c] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const ends = await admin.fetchTopicOffsets(topic);
    return { committed: sumOf(c.partitions.map((p) => Math.max(0, Number(p.offset)))), end: sumOf(ends.map((p) => Number(p.high))) };
  } finally {
    await admin.disconnect();
  }
}

/** A gauge of the Prometheus text, or null. */
function gauge(text: string, name: string): number | null {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

/** Warnings and errors logged once the flows run (not Node-RED's start-up notices). */
function logCounts(full: string): { warnings: number; errors: number } {
  const at = full.indexOf('Started flows');
  const log = at < 0 ? full : full.slice(at);
  return { warnings: (log.match(/ - \[warn\] /g) ?? []).length, errors: (log.match(/ - \[error\] /g) ?? []).length };
}

const HEAD = ['t (s)', 'produced', 'committed', 'rec/s', 'lag', 'RSS MB', 'heap MB', 'loop p99 ms', 'warn', 'error'];
const WIDTH = [7, 10, 10, 8, 8, 8, 8, 11, 5, 5];
const line = (cells: string[]) => cells.map((c, i) => c.padStart(WIDTH[i])).join('  ');
const headerLines = () => `${line(HEAD)}\n${line(WIDTH.map((n) => '-'.repeat(n)))}`;

function row(s: Sample): string {
  return line([
    s.t.toFixed(0),
    String(s.produced),
    String(s.committed),
    s.throughput.toFixed(0),
    String(s.lag),
    s.rssMb.toFixed(1),
    s.heapMb === null ? '-' : s.heapMb.toFixed(1),
    s.loopLagP99Ms === null ? '-' : s.loopLagP99Ms.toFixed(1),
    String(s.warnings),
    String(s.errors),
  ]);
}

async function main(): Promise<number> {
  if (!(await brokerAvailable(3000))) {
    console.error(`soak: no Kafka broker at ${bootstrap().join(',')} (npm run kafka:start)`);
    return 2;
  }
  const topic = uniqueTopic('soak');
  const alertsTopic = uniqueTopic('soak-alerts');
  const groupId = `${topic}-g`;
  await createTopic(topic, 4);
  await createTopic(alertsTopic, 1);
  const userDir = createUserDir({ flow: [], processMetrics: true, logLevel: 'info' });
  const folder = path.join(userDir, 'csv');
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(pipelineFlow({ topic, groupId, folder, alertsTopic })));
  const nr = new NodeRedChild(userDir);
  const samples: Sample[] = [];
  const problems: string[] = [];
  let produced = 0;
  let producing = true;
  console.log(`soak: ${MINUTES} min at ${RATE} readings/s over ${SHAPE.devices} devices, a sample every ${SAMPLE_S} s; user dir ${userDir}`);
  try {
    await nr.start();
    console.log(headerLines());
    const producer = await testProducer();
    const t0 = Date.now();
    const endAt = t0 + MINUTES * 60_000;
    // Steady rate: every 100 ms, whatever is due by then.
    const pump = (async () => {
      while (producing && Date.now() < endAt) {
        const due = Math.floor(((Date.now() - t0) / 1000) * RATE);
        const messages = [];
        for (let i = produced; i < due; i++) {
          const r = kaggleReading(i, SHAPE);
          messages.push({ key: r.device_id as string, value: JSON.stringify(r) });
        }
        if (messages.length > 0) {
          await producer.send({ topic, acks: -1, messages });
          produced += messages.length;
        }
        await sleep(100);
      }
    })();
    pump.catch((err) => problems.push(`producer: ${(err as Error).message}`));

    let last = { t: t0, committed: 0 };
    const sample = async (): Promise<Sample> => {
      const now = Date.now();
      const o = await offsets(groupId, topic);
      let metrics = '';
      try {
        metrics = (await nr.api('GET', '/smoke-stream/metrics')).text;
      } catch {
        // the endpoint is a nice-to-have
      }
      const heap = gauge(metrics, 'smoke_process_nodejs_heap_size_used_bytes');
      const loop = gauge(metrics, 'smoke_process_nodejs_eventloop_lag_p99_seconds');
      const s: Sample = {
        t: (now - t0) / 1000,
        produced,
        committed: o.committed,
        throughput: ((o.committed - last.committed) * 1000) / Math.max(1, now - last.t),
        lag: o.end - o.committed,
        rssMb: nr.rssKb() / 1024,
        heapMb: heap === null ? null : heap / 1048576,
        loopLagP99Ms: loop === null ? null : loop * 1000,
        ...logCounts(nr.log()),
      };
      last = { t: now, committed: o.committed };
      samples.push(s);
      console.log(row(s));
      return s;
    };
    while (Date.now() < endAt) {
      await sleep(Math.min(SAMPLE_S * 1000, Math.max(0, endAt - Date.now())));
      if (!nr.running) throw new Error(`Node-RED exited:\n${nr.log().slice(-3000)}`);
      await sample();
    }
    producing = false;
    await pump.catch(() => undefined);
    await producer.disconnect();

    // Drain: the lag must reach 0 within a minute.
    const drainStart = Date.now();
    let drained = false;
    while (Date.now() - drainStart < 60_000) {
      const o = await offsets(groupId, topic);
      if (o.committed >= produced) {
        drained = true;
        break;
      }
      await sleep(1000);
    }
    await sample();
    if (!drained) problems.push(`lag not drained within 60 s after the producer stopped`);
    const exit = await nr.stop();
    if (exit !== 0) problems.push(`Node-RED exited with ${exit} on stop`);

    // Every reading in the file.
    const rows = readCsv(folder, 'historical_smoke_data_');
    const cDev = rows.header.indexOf('device_id');
    const cUtc = rows.header.indexOf('UTC');
    const have = new Set(rows.rows.map((r) => `${r[cDev]}|${r[cUtc]}`));
    let missing = 0;
    for (let i = 0; i < produced; i++) if (!have.has(`${deviceId(i, SHAPE)}|${eventSec(i, SHAPE)}`)) missing++;
    if (missing > 0) problems.push(`${missing} readings missing from the historical CSV`);
    const windowRows = readCsv(folder, 'window_results_').rows.length;
    const counts = logCounts(nr.log());
    if (counts.errors > 0) problems.push(`${counts.errors} errors in the Node-RED log`);

    // Memory trend: the second quarter against the last (the first one warms up).
    const q = Math.max(1, Math.floor(samples.length / 4));
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    const rssEarly = median(samples.slice(q, 2 * q).map((s) => s.rssMb));
    const rssLate = median(samples.slice(-q).map((s) => s.rssMb));
    if (samples.length >= 8 && rssLate - rssEarly > 150) problems.push(`RSS grew from ${rssEarly.toFixed(0)} MB to ${rssLate.toFixed(0)} MB`);

    const throughputs = samples.slice(0, -1).map((s) => s.throughput);
    const summary = {
      minutes: MINUTES,
      rate: RATE,
      devices: SHAPE.devices,
      produced,
      csvRows: rows.rows.length,
      duplicates: rows.rows.length - have.size,
      missing,
      windowRows,
      meanThroughput: throughputs.length ? sumOf(throughputs) / throughputs.length : 0,
      maxLag: Math.max(...samples.map((s) => s.lag)),
      rssMb: { first: samples[0]?.rssMb, early: rssEarly, late: rssLate, max: Math.max(...samples.map((s) => s.rssMb)) },
      warnings: counts.warnings,
      errors: counts.errors,
      problems,
    };
    console.log(
      `soak: ${produced} readings in ${MINUTES} min (mean ${summary.meanThroughput.toFixed(0)} rec/s committed, max lag ${summary.maxLag}),` +
        ` ${summary.csvRows} CSV rows (${summary.duplicates} duplicates, ${missing} missing), ${windowRows} window results;` +
        ` RSS ${summary.rssMb.first?.toFixed(0)} → ${rssLate.toFixed(0)} MB (max ${summary.rssMb.max.toFixed(0)}); ${counts.warnings} warnings, ${counts.errors} errors`,
    );
    const outDir = path.join(root, 'test', 'artifacts');
    fs.mkdirSync(outDir, { recursive: true });
    const file = path.join(outDir, `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    fs.writeFileSync(file, JSON.stringify({ summary, samples, node: process.version, broker: bootstrap() }, null, 2));
    console.log(`soak: samples and summary in ${path.relative(root, file)}`);
    if (problems.length > 0) {
      console.error(`soak: FAILED\n  ${problems.join('\n  ')}`);
      fs.writeFileSync(path.join(userDir, 'node-red.log'), nr.log());
      console.error(`soak: Node-RED log kept in ${path.join(userDir, 'node-red.log')}`);
      return 1;
    }
    if (!args.keep) removeDir(userDir);
    return 0;
  } catch (err) {
    fs.writeFileSync(path.join(userDir, 'node-red.log'), nr.log());
    console.error(`soak: ${(err as Error).stack ?? err}\n(Node-RED log in ${path.join(userDir, 'node-red.log')})`);
    return 1;
  } finally {
    producing = false;
    killLeftovers();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
