/**
 * `npm run bench`: the pipeline's throughput, latency and memory against the ceilings of its parts,
 * each measured configuration in a child process of its own (bench/scenarios/*.ts):
 *   (a) the full pipeline, single and batch mode, from a loaded Kafka topic to durable CSV rows, with the
 *       nodes' defaults (changelog checkpoints, exactly-once CSV) and in batch mode also without them;
 *   (b) the client ceiling: raw kafkajs consumption of the same topic with JSON decode only;
 *   (c) the runtime ceiling: Node-RED with as many pass-through hops and no logic;
 *   (d) end-to-end alert latency at fixed offered rates;
 *   (e) peak RSS and heap, and memory against device count;
 *   (f) restore time of a partition's state (10,000 devices) from its changelog topics, and checkpoint size;
 *   (g) exactly-once Kafka out: the batch pipeline with its alerts and window results to Kafka, kafka in's
 *       processing at-least-once against exactly-once (readings/s, and produce → alert latency as a
 *       read_committed consumer of the alerts topic sees it);
 *   (h) only with `--peer spark`: the seed's Spark Structured Streaming query (bench/spark) on the same
 *       topic right after the batch pipeline and our run of the same query alone (validate → sliding
 *       window → windows CSV), readings/s, CPU and peak RSS of all three, final windows compared.
 * Output: a table on stdout, bench/results/bench-<time>.json and .svg (plus latest.json, latest.svg);
 * with --profile, CPU profiles of the measured intervals (bench/results/<time>-*.cpuprofile) and their
 * summaries.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runScenario, type ChildOutcome } from './lib/child';
import { brokerAvailable, deleteStateOf, ensureBroker, kafkaClient, uniqueName } from './lib/kafka';
import { kafkajsFunctions } from './lib/package-kafkajs';
import { parseOptions, type BenchOptions } from './lib/options';
import { NO_CHECKPOINTS, chartSvg, checkpointCost, computeTargets, eosCost, formatReport, measured, type BenchReport, type Processing } from './lib/report';
import { formatSummary, summariseProfile, type ProfileSummary } from './profile-summary';
import { formatAllocations, summariseAllocations } from './alloc-summary';
import { heapProfileOf } from './lib/profiler';
import { buildSparkPeer, runSparkPeer } from './lib/peer-spark';
import { defaultFetchSizes } from '../nodes/lib/kafka-fetch';
import { compareWindows, readJsonLines } from './lib/windows-compare';
import type { ClientCeilingResult } from './scenarios/client-ceiling';
import type { DevicesResult } from './scenarios/devices';
import type { LatencyResult } from './scenarios/latency';
import type { LoadResult } from './scenarios/load';
import type { PipelineResult } from './scenarios/pipeline';
import type { RestoreResult } from './scenarios/restore';
import type { PumpResult } from './lib/pump';

const ROOT = path.resolve(__dirname, '..');
const RESULTS = path.join(__dirname, 'results');
/** Hops of the pipeline per reading: validate, threshold, zscore, fire, readings sink, tap, window. */
const PIPELINE_HOPS = 7;
/** Readings per message in the memory sweep: kafka in's default maxBatch. */
const SWEEP_BATCH = 1000;
/** The consumer settings kafka in uses (nodes/nr/kafka-consumer.ts), so (b) fetches as (a) does. */
// kafka in's consumer settings (nodes/kafka-in, nodes/nr/kafka-consumer.ts), fetch sizes included, so
// that the client ceiling and the pipeline fetch alike and their ratio stays honest.
const KAFKA_IN_CONSUMER = {
  maxWaitTimeInMs: 1000,
  sessionTimeout: 30000,
  heartbeatInterval: 3000,
  // The batch pipeline's (the ceiling's readings/s are compared with batch mode's).
  maxBytes: Number(process.env.BENCH_FETCH_MAX_BYTES) || defaultFetchSizes('batch').maxBytes,
  maxBytesPerPartition: Number(process.env.BENCH_FETCH_MAX_BYTES_PER_PARTITION) || defaultFetchSizes('batch').maxBytesPerPartition,
};
/** The restore scenario's state: readings per device (≥ the z-score's 30 values), event-time seconds apart (steady window panes). */
const RESTORE_PER_DEVICE = 40;
const RESTORE_STEP_S = 30;
const PIPELINE_NODES = ['kafka-broker', 'kafka-in', 'sensor-validate', 'threshold-alert', 'zscore-anomaly', 'fire-pattern', 'sliding-window', 'csv-sink'];

const T0 = performance.now();
function log(s: string): void {
  process.stderr.write(`bench [${((performance.now() - T0) / 1000).toFixed(0).padStart(3)} s] ${s}\n`);
}

function version(pkg: string): string {
  try {
    return (JSON.parse(fs.readFileSync(require.resolve(`${pkg}/package.json`, { paths: [ROOT] }), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z');
}

/** The CPU profile's summary, with the allocation profile written beside it when there is one. */
function profileOf(cpuProfile: string, readings: number): ProfileSummary {
  const heap = heapProfileOf(cpuProfile);
  return { ...summariseProfile(cpuProfile, 25), ...(fs.existsSync(heap) ? { allocations: summariseAllocations(heap, 15, readings) } : {}) };
}

function rate(n: number | undefined): string {
  return n === undefined || !Number.isFinite(n) ? '–' : `${Math.round(n).toLocaleString('en-US')}/s`;
}

/** Brokers of the run when the step needs Kafka: checked (and started) before it, and once more on a connection error. */
let kafkaBrokers: string[] | null = null;

async function step<T>(
  label: string,
  scenario: string,
  config: unknown,
  timeoutMs: number,
  profileFile?: string,
  needsKafka = false,
  retry = needsKafka,
): Promise<ChildOutcome<T>> {
  // Other work on this machine may restart the shared broker; its data (the bench topic) survives.
  const brokerUp = async () => !needsKafka || !kafkaBrokers || (await brokerAvailable(kafkaBrokers)) || (await ensureBroker(kafkaBrokers, log));
  for (let attempt = 1; ; attempt++) {
    if (!(await brokerUp())) return { ok: false, error: `no Kafka broker at ${kafkaBrokers?.join(',')}`, wallMs: 0 };
    log(`${label} ...`);
    const r = await runScenario<T>(scenario, config, { timeoutMs, profileFile });
    if (r.ok) return r;
    log(`${label}: FAILED ${r.error?.split('\n').slice(0, 3).join(' | ')}`);
    if (!retry || attempt > 1 || !/ECONNREFUSED|KafkaJSConnectionError|broker/i.test(r.error ?? '')) return r;
    log(`${label}: the broker went away; trying once more`);
  }
}

async function main(o: BenchOptions): Promise<number> {
  const started = new Date();
  const t0 = performance.now();
  fs.mkdirSync(RESULTS, { recursive: true });
  const id = stamp(started);
  const report: BenchReport = {
    startedAt: started.toISOString(),
    durationS: 0,
    options: { ...o, skip: [...o.skip] },
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? '?',
      loadAvgStart: os.loadavg(),
      loadAvgEnd: [],
      node: process.version,
      nodeRed: version('node-red'),
      kafkajs: `${version('kafkajs')} (${kafkajsFunctions()})`,
    },
    notes: [],
    runtimeCeiling: {},
    pipeline: {},
    latency: [],
    devices: [],
    profiles: [],
    targets: [],
  };
  let failures = 0;
  const count = <T>(r: ChildOutcome<T>) => {
    if (!r.ok) failures++;
    return measured(r);
  };

  const missing = PIPELINE_NODES.filter((n) => !fs.existsSync(path.join(ROOT, 'dist', 'nodes', n, `${n}.js`)));
  const nodesReady = missing.length === 0;
  if (!nodesReady) report.notes.push(`pipeline runs skipped: dist/nodes lacks ${missing.join(', ')} (build first)`);

  const wantsKafka = !o.skip.has('client') || !o.skip.has('restore') || (nodesReady && (!o.skip.has('pipeline') || !o.skip.has('latency') || !o.skip.has('eos') || !o.skip.has('peer')));
  let kafkaUp = false;
  if (wantsKafka) {
    kafkaUp = (await brokerAvailable(o.brokers)) || (await ensureBroker(o.brokers, log));
    kafkaBrokers = o.brokers;
    if (!kafkaUp) report.notes.push(`Kafka runs skipped: no broker at ${o.brokers.join(',')} and kafka.sh start failed`);
  }

  let topic = '';
  const groups: string[] = [];
  const topics: string[] = [];
  const profileDir = o.profile ? RESULTS : undefined;

  // ---- load the topic
  /** Loads `readings` readings into a fresh topic (once more into another one when the broker went away). */
  const loadTopic = async (readings: number, devices: number): Promise<{ topic: string; outcome: ChildOutcome<LoadResult> }> => {
    let name = uniqueName('smoke-bench');
    const load = () =>
      step<LoadResult>(
        `load ${readings.toLocaleString('en-US')} readings of ${devices.toLocaleString('en-US')} devices into ${name}`,
        'load',
        { brokers: o.brokers, topic: name, partitions: o.partitions, readings, devices },
        60_000 + readings,
        undefined,
        true,
        false,
      );
    topics.push(name);
    let r = await load();
    if (!r.ok && /ECONNREFUSED|KafkaJSConnectionError|broker/i.test(r.error ?? '')) {
      // A half-loaded topic is no use: load a new one.
      name = uniqueName('smoke-bench');
      topics.push(name);
      r = await load();
    }
    if (r.result) log(`loaded at ${rate(r.result.recordsPerSec)}`);
    return { topic: name, outcome: r };
  };
  let loaded = false;
  // (g) reads the bench topic when it wants as many readings, otherwise a topic of its own.
  const eosOwnTopic = o.eosReadings !== o.readings || o.eosDevices !== o.devices;
  if (kafkaUp && (!o.skip.has('client') || (nodesReady && (!o.skip.has('pipeline') || !o.skip.has('peer') || (!o.skip.has('eos') && !eosOwnTopic))))) {
    const l = await loadTopic(o.readings, o.devices);
    topic = l.topic;
    report.load = count(l.outcome);
    loaded = l.outcome.ok;
  }

  // ---- (b) client ceiling
  if (loaded && !o.skip.has('client')) {
    const groupId = uniqueName('smoke-bench-client');
    groups.push(groupId);
    const r = await step<ClientCeilingResult>(
      'client ceiling (kafkajs + JSON.parse)',
      'client-ceiling',
      { brokers: o.brokers, topic, groupId, readings: o.readings, consumer: KAFKA_IN_CONSUMER },
      60_000 + o.readings / 2,
      profileDir ? path.join(profileDir, `${id}-client-ceiling.cpuprofile`) : undefined,
      true,
    );
    report.clientCeiling = count(r);
    if (r.profile && fs.existsSync(r.profile)) report.profiles.push(profileOf(r.profile, o.readings));
    if (r.result) log(`client ceiling: ${rate(r.result.recordsPerSec)}`);
  }

  // ---- (c) runtime ceiling
  if (!o.skip.has('runtime')) {
    for (const mode of o.modes) {
      const r = await step<PumpResult & { hops: number }>(`runtime ceiling, ${mode}`, 'runtime-ceiling', {
        mode,
        readings: o.readings,
        batchSize: o.batchSize,
        hops: PIPELINE_HOPS,
        devices: o.devices,
      }, 60_000 + o.readings / 2);
      report.runtimeCeiling[mode] = count(r);
      if (r.result) log(`runtime ceiling ${mode}: ${rate(r.result.recordsPerSec)} readings, ${rate(r.result.messagesPerSec)} msgs`);
    }
  }

  // ---- (a) the pipeline; in batch mode also without checkpoints, right before it: the cost of the
  // changelog state and exactly-once CSV (issue 13), on the same topic under the same machine load. Each
  // run deletes its changelog topics when it ends, so the broker's log cleaner has nothing of a previous
  // run left to compact while the next one is measured.
  if (loaded && nodesReady && !o.skip.has('pipeline')) {
    const runs: { key: string; mode: 'single' | 'batch'; checkpoints: boolean }[] = [];
    for (const mode of o.modes) {
      if (mode === 'batch' && !o.skip.has('nocheckpoints')) runs.push({ key: NO_CHECKPOINTS, mode, checkpoints: false });
      runs.push({ key: mode, mode, checkpoints: true });
    }
    for (const { key, mode, checkpoints } of runs) {
      const groupId = uniqueName(`smoke-bench-${key}`);
      groups.push(groupId);
      const label = `pipeline, ${mode} mode${checkpoints ? '' : ' WITHOUT checkpoints (state none, exactlyOnce off)'}`;
      const r = await step<PipelineResult>(
        `${label}${o.profile ? ' (profiled)' : ''}`,
        'pipeline',
        { brokers: o.brokers, topic, groupId, mode, maxBatch: mode === 'batch' ? o.maxBatch : undefined, readings: o.readings, maxSeconds: o.maxSeconds, checkpoints },
        120_000 + o.readings,
        profileDir ? path.join(profileDir, `${id}-pipeline-${key}.cpuprofile`) : undefined,
        true,
      );
      report.pipeline[key] = count(r);
      if (r.result) {
        const tb = r.result.timeBoxed ? `, time box of ${o.maxSeconds} s reached after ${r.result.readings.toLocaleString('en-US')} readings` : '';
        log(`pipeline ${key}: ${rate(r.result.recordsPerSec)} (${r.result.csvRows.toLocaleString('en-US')} CSV rows, ${r.result.alerts.toLocaleString('en-US')} alerts${tb})`);
      }
      if (r.profile && fs.existsSync(r.profile)) report.profiles.push(profileOf(r.profile, r.result?.readings ?? o.readings));
    }
    // Further pairs, alternated (without, with), so that the cost is a median, not one draw of the noise.
    const first = { without: report.pipeline[NO_CHECKPOINTS]?.result, with: report.pipeline.batch?.result };
    if (first.without && first.with && o.costPairs > 1) {
      const costRuns = { without: [first.without], with: [first.with] };
      for (let pair = 2; pair <= o.costPairs; pair++) {
        for (const checkpoints of [false, true]) {
          const groupId = uniqueName(`smoke-bench-cost${pair}`);
          groups.push(groupId);
          const r = await step<PipelineResult>(
            `checkpoint cost, pair ${pair} of ${o.costPairs}: batch ${checkpoints ? 'with' : 'WITHOUT'} checkpoints`,
            'pipeline',
            { brokers: o.brokers, topic, groupId, mode: 'batch', maxBatch: o.maxBatch, readings: o.readings, maxSeconds: o.maxSeconds, checkpoints },
            120_000 + o.readings,
            undefined,
            true,
          );
          if (r.result) (checkpoints ? costRuns.with : costRuns.without).push(r.result);
        }
      }
      report.costRuns = costRuns;
    }
    const cost = checkpointCost(report);
    if (cost) log(`checkpoint cost (batch, ${cost.pairs} pair${cost.pairs > 1 ? 's' : ''}): ${cost.readingsPct.toFixed(1)} % of readings/s, ${cost.cpuPct.toFixed(1)} % of readings per CPU-s`);
  }

  // ---- (d) latency
  if (kafkaUp && nodesReady && !o.skip.has('latency')) {
    const modes = o.quick ? o.modes.filter((m) => m === 'batch').slice(0, 1) : o.modes;
    if (o.quick && modes.length < o.modes.length) report.notes.push('--quick: latency measured in batch mode only');
    for (const mode of modes.length ? modes : o.modes) {
      for (const rateNow of o.latencyRates) {
        const lt = uniqueName('smoke-bench-lat');
        const groupId = uniqueName('smoke-bench-lat');
        groups.push(groupId);
        const r = await step<LatencyResult>(`latency, ${mode} mode at ${rateNow.toLocaleString('en-US')} readings/s`, 'latency', {
          brokers: o.brokers,
          topic: lt,
          groupId,
          partitions: o.partitions,
          mode,
          maxBatch: mode === 'batch' ? o.maxBatch : undefined,
          rate: rateNow,
          warmupS: o.latencyWarmupS,
          seconds: o.latencySeconds,
          devices: o.devices,
        }, 120_000 + (o.latencyWarmupS + o.latencySeconds) * 1000 * 3, undefined, true);
        report.latency.push(count(r));
        if (r.result) log(`latency ${mode} @ ${rateNow}/s: p50 ${r.result.alerts.p50.toFixed(1)} ms, p99 ${r.result.alerts.p99.toFixed(1)} ms`);
      }
    }
  }

  // ---- (e) memory against device count
  if (nodesReady && !o.skip.has('sweep')) {
    for (const devices of o.sweepDevices) {
      const r = await step<DevicesResult>(`memory sweep, ${devices.toLocaleString('en-US')} devices × ${o.sweepPerDevice} readings`, 'devices', {
        devices,
        perDevice: o.sweepPerDevice,
        stepSeconds: o.sweepStepSeconds,
        batchSize: SWEEP_BATCH,
      }, 120_000 + devices * o.sweepPerDevice);
      report.devices.push(count(r));
      if (r.result && r.memory) log(`${devices} devices: peak RSS ${r.memory.peakRssMB.toFixed(0)} MB, ${r.result.perDeviceKB.toFixed(1)} KB/device`);
    }
  }

  // ---- (f) restore of a partition's state from its changelogs (no Node-RED: the built modules)
  if (kafkaUp && !o.skip.has('restore')) {
    if (!fs.existsSync(path.join(ROOT, 'dist', 'nodes', 'nr', 'partition-tasks.js'))) {
      report.notes.push('restore skipped: dist/nodes/nr/partition-tasks.js missing (build first)');
    } else {
      const r = await step<RestoreResult>(
        `restore, ${o.restoreDevices.toLocaleString('en-US')} devices × ${RESTORE_PER_DEVICE} readings, ${o.restoreRepeats}× each`,
        'restore',
        { brokers: o.brokers, devices: o.restoreDevices, perDevice: RESTORE_PER_DEVICE, stepSeconds: RESTORE_STEP_S, repeats: o.restoreRepeats, separate: true },
        180_000 + o.restoreDevices * 10 * o.restoreRepeats,
        undefined,
        true,
      );
      report.restore = count(r);
      if (r.result) {
        const x = r.result;
        log(`restore per 10,000 devices: z-score ${Math.round(x.per10k.zscore)} ms, window ${Math.round(x.per10k.window)} ms, both ${Math.round(x.per10k.both)} ms (empty ${Math.round(x.median.empty)} ms)`);
      }
    }
  }

  // ---- (g) exactly-once Kafka out against at-least-once: the batch pipeline with the detectors' alerts
  // and the window results to fresh topics through kafka out, kafka in's processing at-least-once or
  // exactly-once, on one input topic, alternated; then the produce → alert latency as a read_committed
  // consumer of the alerts topic sees it, at a paced rate, in both modes.
  if (kafkaUp && nodesReady && !o.skip.has('eos')) {
    const eos: NonNullable<BenchReport['eos']> = { runs: [], latency: [] };
    report.eos = eos;
    const tag = (p: Processing) => (p === 'exactly-once' ? 'eos' : 'alo');
    const outputsFor = (p: Processing) => ({
      alertsTopic: uniqueName(`smoke-bench-alerts-${tag(p)}`),
      windowsTopic: uniqueName(`smoke-bench-windows-${tag(p)}`),
      maxQueue: o.eosMaxQueue,
    });
    let eosTopic = topic;
    let eosLoaded = loaded && !eosOwnTopic;
    if (eosOwnTopic) {
      const l = await loadTopic(o.eosReadings, o.eosDevices);
      if (!l.outcome.ok) failures++;
      eosTopic = l.topic;
      eosLoaded = l.outcome.ok;
      eos.load = measured(l.outcome);
    }
    if (eosLoaded) {
      for (let pair = 1; pair <= o.eosPairs; pair++) {
        // Alternated: which mode runs first flips from pair to pair.
        const order: Processing[] = pair % 2 === 1 ? ['at-least-once', 'exactly-once'] : ['exactly-once', 'at-least-once'];
        for (const processing of order) {
          const groupId = uniqueName(`smoke-bench-${tag(processing)}`);
          groups.push(groupId);
          const outputs = outputsFor(processing);
          topics.push(outputs.alertsTopic, outputs.windowsTopic);
          const r = await step<PipelineResult>(
            `(g) batch pipeline + kafka out (alerts, windows), ${processing}, pair ${pair} of ${o.eosPairs}`,
            'pipeline',
            { brokers: o.brokers, topic: eosTopic, groupId, mode: 'batch', maxBatch: o.maxBatch, readings: o.eosReadings, maxSeconds: o.maxSeconds, processing, outputs: { ...outputs, partitions: o.partitions } },
            180_000 + o.eosReadings * 2,
            profileDir ? path.join(profileDir, `${id}-eos-${tag(processing)}-${pair}.cpuprofile`) : undefined,
            true,
          );
          eos.runs.push({ pair, processing, ...count(r) });
          if (r.profile && fs.existsSync(r.profile)) report.profiles.push(profileOf(r.profile, r.result?.readings ?? o.eosReadings));
          const x = r.result;
          if (x?.outputs) {
            const tb = x.timeBoxed ? `, TIME-BOXED after ${x.readings.toLocaleString('en-US')} readings` : '';
            log(
              `(g) ${processing}: ${rate(x.recordsPerSec)}, ${Math.round(x.recordsPerCpuSec).toLocaleString('en-US')} readings/CPU-s; ` +
                `${x.outputs.alertsOnTopic.toLocaleString('en-US')} alerts and ${x.outputs.windowsOnTopic.toLocaleString('en-US')} windows on the topics (read_committed)${tb}`,
            );
          }
        }
      }
      const c = eosCost(report);
      if (c) log(`(g) cost of exactly-once: ${c.readingsPct.toFixed(1)} % of readings/s, ${c.cpuPct.toFixed(1)} % of readings per CPU-s (${c.pairs} pair${c.pairs > 1 ? 's' : ''})`);
    }
    for (const [eosRate, processing] of o.eosRates.flatMap((x) => (['at-least-once', 'exactly-once'] as Processing[]).map((p) => [x, p] as const))) {
      const lt = uniqueName('smoke-bench-lat');
      const groupId = uniqueName(`smoke-bench-lat-${tag(processing)}`);
      groups.push(groupId);
      const outputs = outputsFor(processing);
      topics.push(lt, outputs.alertsTopic, outputs.windowsTopic);
      const r = await step<LatencyResult>(
        `(g) latency to the alerts topic (read_committed), batch mode at ${eosRate.toLocaleString('en-US')} readings/s, ${processing}`,
        'latency',
        {
          brokers: o.brokers,
          topic: lt,
          groupId,
          partitions: o.partitions,
          mode: 'batch',
          maxBatch: o.maxBatch,
          rate: eosRate,
          warmupS: o.latencyWarmupS,
          seconds: o.latencySeconds,
          devices: o.eosDevices,
          processing,
          outputs,
        },
        150_000 + (o.latencyWarmupS + o.latencySeconds) * 1000 * 3,
        undefined,
        true,
      );
      eos.latency.push({ processing, ...count(r) });
      const c = r.result?.committed;
      if (c) log(`(g) latency ${processing} @ ${eosRate}/s, produce → alert on the topic: p50 ${c.alerts.p50.toFixed(1)} ms, p99 ${c.alerts.p99.toFixed(1)} ms, max ${c.alerts.max.toFixed(1)} ms`);
    }
  }

  // ---- (h) the peer: our batch pipeline (the nodes' defaults), our run of the seed's query alone
  // (validate → sliding window → windows CSV, the like-for-like one) and then the seed's Spark query on
  // the same topic, one after the other under the same machine load, each of ours with a fresh group;
  // the final windows of both of ours compared with Spark's.
  if (loaded && nodesReady && !o.skip.has('peer') && o.peer === 'spark') {
    let build: Awaited<ReturnType<typeof buildSparkPeer>> | undefined;
    let buildError: string | undefined;
    try {
      // Built first, so a first run's download is not measured against anything.
      build = await buildSparkPeer(log);
      log(build.built ? `spark peer built in ${(build.ms / 1000).toFixed(0)} s` : 'spark peer: cached build (bench/spark/target)');
    } catch (e) {
      buildError = (e as Error).message;
      log(`spark peer: ${buildError}`);
    }
    const groupId = uniqueName('smoke-bench-peer');
    const sameQueryGroupId = uniqueName('smoke-bench-peer-query');
    groups.push(groupId, sameQueryGroupId);
    const windowsFile = path.join(os.tmpdir(), `smoke-bench-peer-windows-${id}.jsonl`);
    const sameQueryWindowsFile = path.join(os.tmpdir(), `smoke-bench-peer-query-windows-${id}.jsonl`);
    try {
      // No time box: the windows are compared, so every reading has to get through.
      const ourRun = async (label: string, name: string, groupId: string, windowsFile: string, query?: 'window') => {
        const r = await step<PipelineResult>(
          `${label}${o.profile ? ' (profiled)' : ''}`,
          'pipeline',
          { brokers: o.brokers, topic, groupId, mode: 'batch', maxBatch: o.maxBatch, readings: o.readings, maxSeconds: 600, windowsFile, ...(query ? { query } : {}) },
          660_000 + o.readings,
          profileDir ? path.join(profileDir, `${id}-peer-${query ?? 'full'}.cpuprofile`) : undefined,
          true,
        );
        if (r.profile && fs.existsSync(r.profile)) report.profiles.push(profileOf(r.profile, r.result?.readings ?? o.readings));
        const x = r.result;
        if (x) log(`(h) ${name}: ${rate(x.recordsPerSec)}, ${Math.round(x.recordsPerCpuSec).toLocaleString('en-US')} readings/CPU-s, ${x.windowsWritten ?? 0} final windows`);
        return r;
      };
      const ours = await ourRun('(h) pipeline, batch mode (for the peer comparison)', 'ours', groupId, windowsFile);
      report.peer = { peer: 'spark', topic, ours: count(ours), error: buildError };
      const sameQuery = await ourRun("(h) the same query as Spark's (validate → sliding window → windows CSV), batch mode", 'ours, same query', sameQueryGroupId, sameQueryWindowsFile, 'window');
      report.peer.sameQuery = count(sameQuery);
      if (build) {
        log('(h) Spark Structured Streaming on the same topic ...');
        try {
          const spark = await runSparkPeer({ brokers: o.brokers, topic, shufflePartitions: o.sparkShufflePartitions, timeoutMs: 900_000 + o.readings }, build, log);
          report.peer.spark = spark.result;
          log(`(h) Spark: ${rate(spark.result.recordsPerSec)} processing, ${rate(spark.result.wallRecordsPerSec)} wall; ${spark.windows.length} final windows`);
          if (ours.ok && fs.existsSync(windowsFile)) report.peer.windows = compareWindows(readJsonLines(windowsFile), spark.windows);
          if (sameQuery.ok && fs.existsSync(sameQueryWindowsFile)) report.peer.sameQueryWindows = compareWindows(readJsonLines(sameQueryWindowsFile), spark.windows);
        } catch (e) {
          failures++;
          report.peer.error = (e as Error).message;
          log(`(h) Spark: FAILED ${(e as Error).message}`);
        }
      } else failures++;
    } finally {
      fs.rmSync(windowsFile, { force: true });
      fs.rmSync(sameQueryWindowsFile, { force: true });
    }
  }

  // ---- clean up what the run created on the broker
  if (kafkaUp && (topics.length || groups.length)) {
    const admin = kafkaClient(o.brokers, 'smoke-bench-cleanup').admin();
    try {
      await admin.connect();
      // The scenarios delete the topics they create; what is left of a failed one goes here.
      const existing = new Set(await admin.listTopics());
      const left = topics.filter((t) => existing.has(t));
      // (A topic a scenario is still deleting is listed, and refused as unknown: nothing to do then.)
      if (left.length) {
        await admin.deleteTopics({ topics: left, timeout: 15000 }).catch((e: Error) => {
          if (!/does not host this topic|UNKNOWN_TOPIC/i.test(e.message)) log(`could not delete topics: ${e.message}`);
        });
      }
      if (groups.length) await admin.deleteGroups(groups).catch(() => undefined);
      // Changelog topics and restore groups a run left (the pipeline runs delete their own).
      await deleteStateOf(admin, groups).catch((e: Error) => log(`could not delete changelog topics: ${e.message}`));
    } catch (e) {
      log(`cleanup: ${(e as Error).message}`);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  report.machine.loadAvgEnd = os.loadavg();
  report.durationS = (performance.now() - t0) / 1000;
  report.targets = computeTargets(report);
  if (o.profile && report.profiles.length === 0) report.notes.push('--profile: no pipeline run was profiled');
  report.notes.push(`total ${report.durationS.toFixed(0)} s; CPU is shared with other work on this machine, so figures vary from run to run`);

  const text = formatReport(report);
  console.log(text);
  for (const p of report.profiles) {
    console.log('\n' + formatSummary({ ...p, topSelf: p.topSelf.slice(0, 20) }));
    if (p.allocations) console.log(formatAllocations(p.allocations));
  }

  const json = JSON.stringify(report, null, 2) + '\n';
  const svg = chartSvg(report);
  fs.writeFileSync(path.join(RESULTS, `bench-${id}.json`), json);
  fs.writeFileSync(path.join(RESULTS, 'latest.json'), json);
  fs.writeFileSync(path.join(RESULTS, `bench-${id}.svg`), svg);
  fs.writeFileSync(path.join(RESULTS, 'latest.svg'), svg);
  log(`wrote bench/results/bench-${id}.json and .svg (also latest.json, latest.svg)`);
  return failures > 0 ? 1 : 0;
}

let opts: BenchOptions;
try {
  opts = parseOptions(process.argv.slice(2));
} catch (e) {
  console.error((e as Error).message);
  process.exit(2);
}
main(opts).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
