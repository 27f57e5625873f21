/**
 * The bench's peer (issue 17): the seed's Spark Structured Streaming query (bench/spark, Java, Spark
 * 4.0.0 from Maven Central), built once with Maven and run with `java` on a topic the bench loaded.
 *
 * Build: `mvn compile dependency:build-classpath` in bench/spark, skipped when target/classes and
 * target/classpath.txt are newer than the sources and every jar of the classpath is still in the local
 * Maven repository (~/.m2): a second run does not start Maven at all.
 *
 * Run: `java` with Spark's own Java 17 options (what spark-submit adds), the driver's 1 GB heap of
 * spark-submit's default, a work folder (checkpoint, warehouse, java.io.tmpdir) removed afterwards.
 * Measured: the wall time from spawn to exit here; the query's batches, and the process's CPU time and
 * peak RSS (VmHWM) as the job reads them from the JVM and /proc/self at its end (SparkPeer.java).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readSparkFileSink, type WindowRow } from './windows-compare';

export const SPARK_DIR = path.resolve(__dirname, '..', 'spark');
const TARGET = path.join(SPARK_DIR, 'target');
const CLASSES = path.join(TARGET, 'classes');
const CLASSPATH_FILE = path.join(TARGET, 'classpath.txt');
const MAIN_CLASS = 'smoke.bench.SparkPeer';
const SOURCES = ['pom.xml', 'src/main/java/smoke/bench/SparkPeer.java', 'src/main/resources/log4j2.properties'].map((f) => path.join(SPARK_DIR, f));
const BUILT = [CLASSPATH_FILE, path.join(CLASSES, 'smoke', 'bench', 'SparkPeer.class'), path.join(CLASSES, 'log4j2.properties')];

/** spark-submit's default `spark.driver.memory`; in local mode the driver runs the tasks too. */
export const SPARK_DRIVER_MEMORY = '1g';

/**
 * The JVM options Spark 4.0.0 itself adds for Java 17 (spark-launcher's JavaModuleOptions), which a
 * plain `java` launch must give by hand.
 */
export const SPARK_JAVA_OPTIONS: readonly string[] = [
  '-XX:+IgnoreUnrecognizedVMOptions',
  '--add-modules=jdk.incubator.vector',
  ...[
    'java.base/java.lang',
    'java.base/java.lang.invoke',
    'java.base/java.lang.reflect',
    'java.base/java.io',
    'java.base/java.net',
    'java.base/java.nio',
    'java.base/java.util',
    'java.base/java.util.concurrent',
    'java.base/java.util.concurrent.atomic',
    'java.base/jdk.internal.ref',
    'java.base/sun.nio.ch',
    'java.base/sun.nio.cs',
    'java.base/sun.security.action',
    'java.base/sun.util.calendar',
    'java.security.jgss/sun.security.krb5',
  ].map((p) => `--add-opens=${p}=ALL-UNNAMED`),
  '-Djdk.reflect.useDirectMethodHandle=false',
  '-Dio.netty.tryReflectionSetAccessible=true',
];

export interface SparkBuild {
  /** Maven ran (false: the cached build was up to date). */
  built: boolean;
  ms: number;
  classpath: string;
}

function mtime(f: string): number {
  return fs.statSync(f).mtimeMs;
}

function cachedClasspath(): string | undefined {
  if (!BUILT.every((f) => fs.existsSync(f))) return undefined;
  const newestSource = Math.max(...SOURCES.map(mtime));
  if (Math.min(...BUILT.map(mtime)) < newestSource) return undefined;
  const jars = fs.readFileSync(CLASSPATH_FILE, 'utf8').trim();
  if (!jars || !jars.split(path.delimiter).every((j) => fs.existsSync(j))) return undefined;
  return `${CLASSES}${path.delimiter}${jars}`;
}

/** Output of a child process as lines, each passed to `line`. */
function lines(stream: NodeJS.ReadableStream, line: (s: string) => void): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const p of parts) line(p);
  });
  stream.on('end', () => {
    if (rest) line(rest);
  });
}

/** Builds the job with Maven unless the cached build is up to date (see the module comment). */
export async function buildSparkPeer(log: (s: string) => void): Promise<SparkBuild> {
  const t0 = performance.now();
  const cached = cachedClasspath();
  if (cached) return { built: false, ms: performance.now() - t0, classpath: cached };
  log('spark peer: building bench/spark with Maven (the first time downloads Spark 4.0.0 and its dependencies, about 280 MB, into ~/.m2)');
  const args = ['-B', '-q', '-Dstyle.color=never', 'compile', 'dependency:build-classpath', `-Dmdep.outputFile=${CLASSPATH_FILE}`];
  const code = await new Promise<number | null>((resolve, reject) => {
    const mvn = spawn('mvn', args, { cwd: SPARK_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
    // Maven's -q still writes colour resets on lines of their own.
    const echo = (s: string) => {
      const text = s.replace(/\x1b\[[0-9;]*m/g, '');
      if (text.trim()) process.stderr.write(`  mvn | ${text}\n`);
    };
    lines(mvn.stdout, echo);
    lines(mvn.stderr, echo);
    mvn.on('error', (e) => reject(new Error(`cannot start mvn (is Maven installed?): ${e.message}`)));
    mvn.on('close', resolve);
  });
  if (code !== 0) throw new Error(`mvn ${args.join(' ')} failed with exit code ${code}`);
  // Maven leaves an unchanged classpath.txt (and unchanged classes) with their old times: touch them so
  // that the next run sees the build as newer than the sources.
  const now = new Date();
  for (const f of BUILT) fs.utimesSync(f, now, now);
  const classpath = cachedClasspath();
  if (!classpath) throw new Error(`the Maven build left no usable ${path.relative(process.cwd(), CLASSPATH_FILE)}`);
  return { built: true, ms: performance.now() - t0, classpath };
}

/** A point of the job: ms since its JVM started, and its CPU time (user + system) so far. */
interface Mark {
  uptimeMs: number;
  cpuMs: number;
}

/** The line the job prints at its end (SparkPeer.java). */
interface JobReport {
  jvmStartEpochMs: number;
  marks: { jvmStarted: Mark; mainEntered: Mark; sessionReady: Mark; queryEnded: Mark; stopped: Mark };
  peakRssKB: number;
  batches: { batchId: number; timestamp: string; numInputRows: number; triggerExecutionMs: number }[];
}

export interface SparkPeerConfig {
  brokers: string[];
  topic: string;
  /** `spark.sql.shuffle.partitions`: the state stores of the windowed aggregation. */
  shufflePartitions: number;
  timeoutMs: number;
}

export interface SparkPeerResult {
  spark: string;
  master: string;
  shufflePartitions: number;
  driverMemory: string;
  /** Rows the query read (the sum of its batches' numInputRows). */
  readings: number;
  batches: number;
  /** From the first batch's start to the last one's end (StreamingQueryProgress timestamps and triggerExecution). */
  processingMs: number;
  recordsPerSec: number;
  /** Spawn of `java` until it exited. */
  wallMs: number;
  wallRecordsPerSec: number;
  /** JVM start until the session was ready (main entered, SparkSession built, the query defined). */
  setupMs: number;
  /** From the query's start() until it terminated. */
  queryMs: number;
  /** CPU time of the query (start() until it terminated), and of the whole process (JVM start to spark.stop()). */
  queryCpuMs: number;
  processCpuMs: number;
  recordsPerQueryCpuSec: number;
  recordsPerProcessCpuSec: number;
  peakRssMB: number;
  build: { built: boolean; ms: number };
}

/** Runs the built job on `topic` and returns its figures and its final windows. */
export async function runSparkPeer(cfg: SparkPeerConfig, build: SparkBuild, log: (s: string) => void): Promise<{ result: SparkPeerResult; windows: WindowRow[] }> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-bench-spark-'));
  const output = path.join(work, 'windows');
  try {
    const args = [
      `-Xmx${SPARK_DRIVER_MEMORY}`,
      ...SPARK_JAVA_OPTIONS,
      `-Djava.io.tmpdir=${work}`,
      '-cp',
      build.classpath,
      MAIN_CLASS,
      cfg.brokers.join(','),
      cfg.topic,
      output,
      work,
      String(cfg.shufflePartitions),
    ];
    const t0 = performance.now();
    let report: JobReport | undefined;
    const tail: string[] = [];
    const code = await new Promise<number | string | null>((resolve, reject) => {
      // SPARK_LOCAL_IP: the driver's address is 127.0.0.1 (spark.driver.host/bindAddress in the job);
      // this also keeps Spark from looking for another interface when the host name is a loopback one.
      const java = spawn('java', args, { cwd: work, env: { ...process.env, SPARK_LOCAL_IP: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'] });
      const timer = setTimeout(() => java.kill('SIGKILL'), cfg.timeoutMs);
      lines(java.stdout, (s) => {
        if (s.startsWith('SPARK_PEER_RESULT ')) report = JSON.parse(s.slice('SPARK_PEER_RESULT '.length)) as JobReport;
        else if (s.trim()) log(`spark | ${s}`);
      });
      // log4j2 at WARN (bench/spark/src/main/resources/log4j2.properties): what comes is worth seeing.
      lines(java.stderr, (s) => {
        tail.push(s);
        if (tail.length > 40) tail.shift();
        if (/ (WARN|ERROR) /.test(s)) log(`spark | ${s}`);
      });
      java.on('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`cannot start java: ${e.message}`));
      });
      java.on('close', (c, signal) => {
        clearTimeout(timer);
        resolve(c ?? signal);
      });
    });
    const wallMs = performance.now() - t0;
    if (code !== 0 || !report) {
      throw new Error(`the Spark job exited with ${code}${report ? '' : ' without its result line'}:\n${tail.join('\n')}`);
    }
    const m = report.marks;
    const batches = report.batches;
    const readings = batches.reduce((s, b) => s + b.numInputRows, 0);
    const firstStart = batches.length ? Date.parse(batches[0].timestamp) : NaN;
    const last = batches[batches.length - 1];
    const processingMs = last ? Date.parse(last.timestamp) + last.triggerExecutionMs - firstStart : NaN;
    const queryCpuMs = m.queryEnded.cpuMs - m.sessionReady.cpuMs;
    const processCpuMs = m.stopped.cpuMs;
    const result: SparkPeerResult = {
      spark: '4.0.0',
      master: 'local[2]',
      shufflePartitions: cfg.shufflePartitions,
      driverMemory: SPARK_DRIVER_MEMORY,
      readings,
      batches: batches.length,
      processingMs,
      recordsPerSec: (readings / processingMs) * 1000,
      wallMs,
      wallRecordsPerSec: (readings / wallMs) * 1000,
      setupMs: m.sessionReady.uptimeMs,
      queryMs: m.queryEnded.uptimeMs - m.sessionReady.uptimeMs,
      queryCpuMs,
      processCpuMs,
      recordsPerQueryCpuSec: (readings / queryCpuMs) * 1000,
      recordsPerProcessCpuSec: (readings / processCpuMs) * 1000,
      peakRssMB: report.peakRssKB > 0 ? report.peakRssKB / 1024 : NaN,
      build: { built: build.built, ms: build.ms },
    };
    return { result, windows: readSparkFileSink(output) };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
