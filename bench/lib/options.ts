/**
 * Command line of `npm run bench` (everything after `--`).
 */
export type Mode = 'single' | 'batch';

export interface BenchOptions {
  /** Readings loaded into the topic and pushed through each throughput run. */
  readings: number;
  /** Distinct device ids (1…devices) of the throughput and latency runs. */
  devices: number;
  partitions: number;
  modes: Mode[];
  quick: boolean;
  profile: boolean;
  /** Readings per message in batch mode for the in-process sources (the runtime ceiling, the device sweep). */
  batchSize: number;
  /** kafka in's maxBatch in batch mode; undefined: the node's default. */
  maxBatch?: number;
  /** Offered rates of the latency runs, readings per second. */
  latencyRates: number[];
  /** Warm-up and measured seconds of each latency run. */
  latencyWarmupS: number;
  latencySeconds: number;
  /** Device counts of the memory sweep. */
  sweepDevices: number[];
  /** Readings per device in the memory sweep. */
  sweepPerDevice: number;
  /** Event-time step between a device's readings in the memory sweep, seconds. */
  sweepStepSeconds: number;
  /** Most seconds a pipeline throughput run measures before it stops and reports what got through. */
  maxSeconds: number;
  /** Devices in the partition state of the restore scenario. */
  restoreDevices: number;
  /** Timed restores (and checkpoints) of each kind in the restore scenario. */
  restoreRepeats: number;
  /**
   * Batch runs without and with checkpoints, alternated, whose medians give the checkpoint cost (a single
   * pair moves by ±20 % on this shared machine).
   */
  costPairs: number;
  /**
   * (g) Batch runs with kafka out at-least-once and exactly-once, alternated (the first pair at-least-once
   * first, the next exactly-once first, ...), whose per-pair ratios give the cost of exactly-once.
   */
  eosPairs: number;
  /** Offered rates of the exactly-once section's latency runs, readings/s. */
  eosRates: number[];
  /**
   * Readings of (g)'s throughput runs: the bench topic when equal to `readings`, otherwise a topic of
   * their own (both modes read the same one). Every reading raises ~1.75 alerts in this data, and each
   * goes to Kafka, so (g) runs far slower than (a).
   */
  eosReadings: number;
  /** Device ids of (g)'s own topic (few enough that windows close: a device needs 900 s of event time, at 1 s per reading). */
  eosDevices: number;
  /** kafka out's maxQueue in (g) (records waiting for the broker, at-least-once only); undefined: the node's default. */
  eosMaxQueue?: number;
  /**
   * (h) The peer to compare with (`--peer spark`): the seed's Spark Structured Streaming query on the
   * same topic, after the batch pipeline (Spark is downloaded by Maven, so never part of the default run).
   */
  peer?: 'spark';
  /** `spark.sql.shuffle.partitions` of the Spark peer (its windowed aggregation's state stores). */
  sparkShufflePartitions: number;
  /** Skip parts: `--skip client,runtime,pipeline,nocheckpoints,latency,sweep,restore,eos,peer` (`--only` skips all others). */
  skip: Set<string>;
  brokers: string[];
}

const USAGE = `npm run bench -- [options]
  --readings N        readings per throughput run (default 1000000; --quick 100000)
  --devices D         device ids 1..D (default 1000; --quick 100, so windows still close)
  --partitions P      partitions of the bench topic (default 4)
  --modes single,batch
  --quick             small run for CI (about 3 min on 2 shared cores)
  --profile           CPU and allocation profiles (.cpuprofile, .heapprofile) of the measured interval of (b), (a), (g) and (h), in
                      bench/results/, summarised on stdout
  --rates 5000,20000  offered rates of the latency runs (readings/s)
  --latency-seconds S measured seconds per latency run (default 10; --quick 3)
  --sweep 1000,10000,100000   device counts of the memory sweep
  --max-seconds S     time box of each pipeline throughput run (default 90; --quick 20): a slower
                      pipeline is measured over the readings it wrote by then
  --per-device R      readings per device in the memory sweep (default 10; --quick 2)
  --sweep-step S      event-time seconds between a device's readings in the sweep (default 120; --quick 600)
  --batch-size N      readings per message of the in-process sources in batch mode (default 100)
  --max-batch N       kafka in's maxBatch in batch mode (default: the node's default)
  --restore-devices N devices in the partition state the restore scenario restores (default 10000,
                      each restore timed 3 times; --quick 2000, once, reported per 10,000 devices)
  --cost-pairs N      batch runs without and with checkpoints, alternated, whose medians give the
                      checkpoint cost (default 3; --quick 1)
  --eos-pairs N       (g) batch runs with kafka out at-least-once and exactly-once, alternated, whose
                      per-pair ratios give the cost of exactly-once (default 3; --quick 1)
  --eos-readings N    readings of (g)'s throughput runs (default 200000; --quick 100000) ...
  --eos-devices D     ... from D devices (default 100, so that windows close), in a topic of their own
                      unless both equal --readings and --devices (as with --quick)
  --eos-rates LIST    offered rates of (g)'s latency runs, readings/s (default 1000,5000; --quick 5000)
  --eos-max-queue N   kafka out's maxQueue in (g) (default 1000000, so that the at-least-once kafka
                      out, which nothing slows down, fails no alert; 'default': the node's 10,000)
  --skip LIST         leave out some of: client,runtime,pipeline,nocheckpoints,latency,sweep,restore,eos,peer
                      (nocheckpoints: the batch pipeline without checkpoints, the baseline of their cost;
                      eos: (g) exactly-once Kafka out against at-least-once)
  --only LIST         run only these parts (the same names; the rest is skipped)
  --eos               the same as --only eos
  --peer spark        (h) only: the batch pipeline and the seed's Spark Structured Streaming query
                      (bench/spark, Spark 4.0.0 built from Maven Central on the first run) on the same
                      topic, readings/s, CPU, peak RSS and their final windows compared; with --only,
                      other parts as well (--only client,peer --peer spark)
  --spark-shuffle-partitions N   spark.sql.shuffle.partitions of the peer (default 4: the topic's
                      partitions; Spark's own default, 200, costs it a state store per partition)
Env: KAFKA_BOOTSTRAP_SERVERS (default 127.0.0.1:9092)`;

/** The parts `--skip` and `--only` name. */
export const PARTS = ['client', 'runtime', 'pipeline', 'nocheckpoints', 'latency', 'sweep', 'restore', 'eos', 'peer'];

/** The peers `--peer` knows. */
export const PEERS = ['spark'] as const;

function positiveInt(name: string, v: string | undefined): number {
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n <= 0) throw new Error(`${name} needs a positive integer, got ${v}`);
  return n;
}

function intList(name: string, v: string | undefined): number[] {
  if (v === undefined) throw new Error(`${name} needs a comma-separated list`);
  return v.split(',').map((s) => positiveInt(name, s.trim()));
}

export function parseOptions(argv: string[]): BenchOptions {
  const given = new Map<string, string | undefined>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}\n${USAGE}`);
    const eq = a.indexOf('=');
    if (eq > 0) {
      given.set(a.slice(2, eq), a.slice(eq + 1));
    } else if (a === '--quick' || a === '--profile' || a === '--eos') {
      given.set(a.slice(2), 'true');
    } else {
      given.set(a.slice(2), argv[++i]);
    }
  }
  const known = ['readings', 'devices', 'partitions', 'modes', 'quick', 'profile', 'rates', 'latency-seconds', 'sweep', 'per-device', 'skip', 'batch-size', 'max-batch', 'sweep-step', 'max-seconds', 'restore-devices', 'cost-pairs', 'eos-pairs', 'eos-rates', 'eos-readings', 'eos-devices', 'eos-max-queue', 'only', 'eos', 'peer', 'spark-shuffle-partitions'];
  for (const k of given.keys()) if (!known.includes(k)) throw new Error(`unknown option --${k}\n${USAGE}`);

  const quick = given.has('quick');
  const modes = (given.get('modes') ?? 'single,batch').split(',').map((s) => s.trim());
  for (const m of modes) if (m !== 'single' && m !== 'batch') throw new Error(`--modes: unknown mode ${m}`);
  const skip = new Set((given.get('skip') ?? '').split(',').map((s) => s.trim()).filter(Boolean));
  for (const s of skip) if (!PARTS.includes(s)) throw new Error(`--skip: unknown part ${s}`);
  const peer = given.get('peer');
  if (given.has('peer') && !(PEERS as readonly string[]).includes(peer ?? '')) throw new Error(`--peer: unknown peer ${peer} (known: ${PEERS.join(', ')})`);
  const onlyList = [...(given.get('only') ?? '').split(','), ...(given.has('eos') ? ['eos'] : []), ...(peer ? ['peer'] : [])].map((s) => s.trim()).filter(Boolean);
  for (const s of onlyList) if (!PARTS.includes(s)) throw new Error(`--only: unknown part ${s}`);
  if (given.has('only') && onlyList.length === 0) throw new Error('--only needs a comma-separated list of parts');
  // --only pipeline keeps its baseline (nocheckpoints) unless that is skipped or named apart.
  if (onlyList.length > 0) for (const part of PARTS) if (!onlyList.includes(part) && !(part === 'nocheckpoints' && onlyList.includes('pipeline'))) skip.add(part);
  // The peer part runs only when a peer is named: it downloads the peer.
  if (!peer) {
    if (onlyList.includes('peer')) throw new Error('--only peer needs the peer: --peer spark');
    skip.add('peer');
  }

  const num = (k: string, dflt: number, quickDflt = dflt) => (given.has(k) ? positiveInt(`--${k}`, given.get(k)) : quick ? quickDflt : dflt);
  const brokers = (process.env.KAFKA_BOOTSTRAP_SERVERS?.trim() || '127.0.0.1:9092').split(',').map((s) => s.trim()).filter(Boolean);
  return {
    readings: num('readings', 1_000_000, 100_000),
    devices: num('devices', 1_000, 100),
    partitions: num('partitions', 4),
    modes: modes as Mode[],
    quick,
    profile: given.has('profile'),
    batchSize: num('batch-size', 100),
    maxBatch: given.has('max-batch') ? positiveInt('--max-batch', given.get('max-batch')) : undefined,
    latencyRates: given.has('rates') ? intList('--rates', given.get('rates')) : [5_000, 20_000],
    latencyWarmupS: quick ? 1 : 3,
    latencySeconds: num('latency-seconds', 10, 3),
    sweepDevices: given.has('sweep') ? intList('--sweep', given.get('sweep')) : [1_000, 10_000, 100_000],
    sweepPerDevice: num('per-device', 10, 2),
    sweepStepSeconds: num('sweep-step', 120, 600),
    maxSeconds: num('max-seconds', 90, 20),
    restoreDevices: num('restore-devices', 10_000, 2_000),
    restoreRepeats: quick ? 1 : 3,
    costPairs: num('cost-pairs', 3, 1),
    eosPairs: num('eos-pairs', 3, 1),
    eosRates: given.has('eos-rates') ? intList('--eos-rates', given.get('eos-rates')) : quick ? [5_000] : [1_000, 5_000],
    eosReadings: num('eos-readings', 200_000, 100_000),
    eosDevices: num('eos-devices', 100),
    eosMaxQueue: given.get('eos-max-queue') === 'default' ? undefined : num('eos-max-queue', 1_000_000),
    peer: peer as BenchOptions['peer'],
    sparkShufflePartitions: num('spark-shuffle-partitions', 4),
    skip,
    brokers,
  };
}
