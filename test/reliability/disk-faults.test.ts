/**
 * Disk faults on a real file system, each cleared mid-run without a restart (issue 14, items 1–3): the
 * Kafka pipeline (pipelineFlow: batch kafka in with after-sink commits → … → csv sink of readings;
 * sliding window → csv sink of window results) in a child Node-RED, the csv sinks' folder on
 *
 *   1. a small tmpfs filled to its last page mid-run (ENOSPC), then the ballast deleted;
 *   2. a tmpfs made read-only mid-run (EROFS), then writable again: `mount -o remount,ro`, which the
 *      kernel refuses (EBUSY) while the sink holds files open for writing, so then a read-only bind
 *      mount of the same tmpfs stacked on the folder (`remount,bind,rw` clears it);
 *   3. a folder of the unprivileged user Node-RED runs as, `chmod 000` mid-run (EACCES), then `chmod 700`.
 *
 * The stream (6,000 readings of 20 devices, 15 s apart) crosses UTC midnight at reading 3,000, so the
 * sinks open a new day's file during the fault: a read-only file system and a permission refuse an open,
 * not a write on a file already open (see _faults.ts). The first 1,800 readings are committed before
 * the fault; the other 4,200 are produced once it is in place, more than kafka in's 1,500 unacknowledged
 * records (maxInFlight), so that backpressure has to hold it.
 *
 * Each scenario checks what the csv sink promises:
 * - no give-up: the fault lasts beyond the sink's 6th failed write (the smoke_csv_write_errors_total
 *   metric) or 10 s after it showed, and afterwards everything is written all the same;
 * - the readings sink's status is red with the cause and the rows waiting (`disk full: 1.2k rows
 *   waiting`) during the fault, and nothing else until the fault is cleared; green (`rows N`) after;
 * - kafka in pauses: it shows "waiting for sink", the rows waiting never exceed its maxInFlight, and no
 *   committed offset ever passes a reading that is not in the readings CSV (checked all along);
 * - each sink logs the fault once and its recovery once, not once per retry;
 * - the pipeline resumes by itself (one start, no deploy): every partition committed to its end, and after
 *   a clean stop the readings CSV holds every reading exactly once (readingsDiff) and the window results
 *   CSV every final window exactly once, equal to a brute-force computation (referenceWindows).
 *
 * Needs root on Linux (mount, chown, running Node-RED as `nobody`); where that is missing a scenario is
 * skipped with the reason, except under CI=true as root, where it fails. SMOKE_KEEP_ARTIFACTS=1 keeps a
 * failed scenario's user directory (CSV files copied into it, node-red.log).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Producer } from 'kafkajs';
import { createTopic, kafkaClient, requireKafka, uniqueTopic } from '../kafka/broker';
import { diffIsClean, diffText, readCsv, readingsDiff, referenceWindows, windowsDiff, type OutputDiff, type WindowRef } from './_check';
import { DEFAULT_SHAPE, deviceId, eventSec, partitionOf, produceReadings, testProducer, type StreamShape } from './_data';
import {
  checkoutFor,
  chownTree,
  fillDisk,
  makeReadOnly,
  makeWritable,
  mountProblem,
  mountTmpfs,
  removeUser,
  unavailable,
  unmountAll,
  unprivilegedUser,
} from './_faults';
import { LineLog, logText, nodeCounter, parseCompact, readStatuses, rowsNow, statusTap, statusText, type StatusLine } from './_observe';
import { deleteTopics, pipelineFlow } from './_pipeline';
import { NodeRedChild, RED_JS, createUserDir, killLeftovers, removeDir, root, type FlowNode } from './_runtime';

/** 20 devices, one reading every 15 s each; reading 3,000 is the first of 2022-06-09 (UTC). */
const SHAPE: StreamShape = { devices: 20, startSec: DEFAULT_SHAPE.startSec - 150 * 15, stepSec: 15 };
const N = 6000;
/** Readings produced and committed before the fault. */
const BEFORE = 1800;
const PARTITIONS = 4;
/** kafka in's bound on unacknowledged records: the rest of the stream (4,200) is more. */
const MAX_IN_FLIGHT = 1500;
/** The csv sinks' first retry delay (ms; doubling, bounded): six tries take about 1.6 s. */
const RETRY_DELAY_MS = 50;
/** The fault lasts at least until the readings sink failed this many writes (the old sink gave up after 5)… */
const HOLD_FAILED_WRITES = 6;
/** …or this long after its red status showed, when the metric is not there to tell. */
const HOLD_MAX_MS = 10_000;
/** Time any one wait may take. */
const WAIT_MS = 45_000;
const POLL_MS = 150;
const SINKS = ['csvReadings', 'csvWindows', 'sinkRejects'];
const TAB = 'rel-tab';
const MiB = 1 << 20;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sum = (o: Record<number, number>) => Object.values(o).reduce((a, b) => a + Math.max(0, b), 0);
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Reading indexes of each partition in offset order (one producer, in order: offset k is the k-th). */
const byPartition: number[][] = Array.from({ length: PARTITIONS }, () => []);
for (let i = 0; i < N; i++) byPartition[partitionOf(deviceId(i, SHAPE), PARTITIONS)].push(i);

let windowsRef: Map<string, WindowRef> | null = null;

/** One scenario: where the sinks write, how Node-RED runs, how the fault comes and goes. */
interface FaultSpec {
  /** Short name for topics and messages. */
  slug: string;
  /** The cause the readings sink's red status starts with (CONTRACT of issue 14). */
  cause: string;
  userDir: string;
  folder: string;
  nr: NodeRedChild;
  /** After flows.json is written, before Node-RED starts. */
  prepare?: () => void;
  /** Put the fault in place; returns what was done. */
  inject: () => string;
  /** Take it away; returns what was done. */
  clear: () => string;
}

describe('reliability > disk faults (csv sink on a real file system: full, read-only, unwritable; cleared mid-run)', function () {
  this.timeout(150_000);
  /** Undo steps of the running scenario, run in reverse order after it, also when it failed. */
  let cleanups: Array<(failed: boolean) => unknown> = [];

  before(async function () {
    await requireKafka(this);
  });

  afterEach(async function () {
    killLeftovers();
    const failed = this.currentTest?.state === 'failed';
    const problems: string[] = [];
    for (const fn of cleanups.reverse()) {
      try {
        await fn(failed);
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
    cleanups = [];
    if (problems.length > 0) console.log(`      cleanup problems: ${problems.join('; ')}`);
  });

  /** Keep a failed scenario's files when SMOKE_KEEP_ARTIFACTS is set (before the folder is unmounted). */
  function keepArtifacts(spec: FaultSpec, failed: boolean): void {
    if (!(process.env.SMOKE_KEEP_ARTIFACTS === 'always' || (failed && process.env.SMOKE_KEEP_ARTIFACTS))) return;
    fs.writeFileSync(path.join(spec.userDir, 'node-red.log'), spec.nr.log());
    if (path.relative(spec.userDir, spec.folder).startsWith('..')) fs.cpSync(spec.folder, path.join(spec.userDir, 'csv-at-end'), { recursive: true, filter: (f) => !f.endsWith('ballast.bin') });
    console.log(`        artifacts of ${spec.slug}: ${spec.userDir}`);
  }

  /** A user directory (removed afterwards unless kept). */
  function userDir(): string {
    const dir = createUserDir({ flow: [] });
    cleanups.push(() => {
      if (!fs.existsSync(path.join(dir, 'node-red.log'))) removeDir(dir);
    });
    return dir;
  }

  /** A tmpfs of `size` on a fresh folder, unmounted and removed afterwards. */
  function tmpfs(prefix: string, size: number): string {
    const dir = mountTmpfs(prefix, size);
    cleanups.push(() => {
      const left = unmountAll(dir);
      if (left.length > 0) throw new Error(`unmounting ${dir}: ${left.join('; ')}`);
      fs.rmSync(dir, { recursive: true, force: true });
    });
    return dir;
  }

  it('disk full (tmpfs filled mid-run, then the ballast deleted): red "disk full: N rows waiting", resumes by itself, nothing lost or doubled', async function () {
    const why = mountProblem();
    if (why) return unavailable(this, why);
    const folder = tmpfs('smoke-enospc-', 16 * MiB);
    const dir = userDir();
    let ballast = { file: '', bytes: 0 };
    const spec: FaultSpec = {
      slug: 'enospc',
      cause: 'disk full',
      userDir: dir,
      folder,
      nr: new NodeRedChild(dir),
      inject: () => {
        ballast = fillDisk(folder);
        return `a ballast of ${(ballast.bytes / MiB).toFixed(1)} MiB filled the 16 MiB tmpfs`;
      },
      clear: () => {
        fs.rmSync(ballast.file);
        return 'ballast deleted';
      },
    };
    cleanups.push((failed) => keepArtifacts(spec, failed));
    await faultScenario(spec);
  });

  it('read-only file system (tmpfs made read-only mid-run, then writable): red "read-only file system: N rows waiting", resumes by itself, nothing lost or doubled', async function () {
    const why = mountProblem();
    if (why) return unavailable(this, why);
    const folder = tmpfs('smoke-erofs-', 16 * MiB);
    const dir = userDir();
    let how: 'remount' | 'bind' = 'remount';
    const spec: FaultSpec = {
      slug: 'erofs',
      cause: 'read-only file system',
      userDir: dir,
      folder,
      nr: new NodeRedChild(dir),
      inject: () => {
        how = makeReadOnly(folder);
        return how === 'remount' ? 'tmpfs remounted read-only' : 'remount,ro refused (files open for writing): a read-only bind mount of the tmpfs stacked on the folder';
      },
      clear: () => {
        makeWritable(folder, how);
        return how === 'remount' ? 'tmpfs remounted read-write' : 'the stacked bind mount remounted read-write';
      },
    };
    cleanups.push((failed) => keepArtifacts(spec, failed));
    await faultScenario(spec);
  });

  it('permission denied (Node-RED as an unprivileged user, its CSV folder chmod 000 mid-run, then 700): red "permission denied: N rows waiting", resumes by itself, nothing lost or doubled', async function () {
    if (process.platform !== 'linux' || process.getuid?.() !== 0) return unavailable(this, 'running Node-RED as another user needs root on Linux');
    const user = unprivilegedUser();
    if (!user) return unavailable(this, 'no unprivileged user: neither `nobody` nor one made by useradd --system');
    cleanups.push(() => removeUser(user));
    const where = checkoutFor(user);
    if ('problem' in where) return unavailable(this, where.problem);
    if (where.mounted !== null) {
      const mounted = where.mounted;
      cleanups.push(() => {
        unmountAll(mounted);
        fs.rmSync(path.dirname(mounted), { recursive: true, force: true });
      });
    }
    const dir = userDir();
    // user directories are made (0700, then given to the user) under the temporary folder, which the user must be able to search
    if ((fs.statSync(path.dirname(dir)).mode & 0o001) === 0) return unavailable(this, `${path.dirname(dir)} is not searchable by ${user.name}`);
    if (where.checkout !== root) {
      // the package link of createUserDir points at the checkout, which this user cannot read: at its bind mount instead
      const link = path.join(dir, 'node_modules', '@smoke-stream', 'node-red-smoke-stream');
      fs.unlinkSync(link);
      fs.symlinkSync(where.checkout, link, 'dir');
    }
    const folder = path.join(dir, 'csv');
    fs.mkdirSync(folder, { mode: 0o700 });
    const spec: FaultSpec = {
      slug: 'eacces',
      cause: 'permission denied',
      userDir: dir,
      folder,
      nr: new NodeRedChild(dir, { HOME: dir }, { uid: user.uid, gid: user.gid, redJs: path.join(where.checkout, path.relative(root, RED_JS)) }),
      prepare: () => chownTree(dir, user),
      inject: () => {
        fs.chmodSync(folder, 0o000);
        return `chmod 000 ${path.basename(folder)} (owned by ${user.name}, uid ${user.uid}, who runs Node-RED)`;
      },
      clear: () => {
        fs.chmodSync(folder, 0o700);
        return 'chmod 700';
      },
    };
    cleanups.push(() => fs.existsSync(folder) && fs.chmodSync(folder, 0o700));
    cleanups.push((failed) => keepArtifacts(spec, failed));
    await faultScenario(spec);
  });

  /** The run of one scenario and every check of it (see the file's comment). */
  async function faultScenario(spec: FaultSpec): Promise<void> {
    const { folder, nr } = spec;
    const t0 = Date.now();
    const timeline: string[] = [];
    const note = (text: string) => timeline.push(`+${secs(Date.now() - t0).padStart(7)}  ${text}`);

    // ---- topic, flow, the first part of the stream ----------------------------------------------
    const topic = uniqueTopic(`rel-disk-${spec.slug}`);
    const groupId = `${topic}-group`;
    await createTopicRetrying(topic);
    cleanups.push(() => deleteTopics(topic, groupId));
    const statusFile = path.join(spec.userDir, 'statuses.jsonl');
    const flow: FlowNode[] = [
      ...pipelineFlow({ topic, groupId, folder, maxBatch: 500, kafkaIn: { maxInFlight: MAX_IN_FLIGHT, sinkWarn: 1 }, windowsThroughChange: true }),
      ...statusTap(statusFile, [...SINKS, 'kin'], TAB),
    ].map((n) => (n.type === 'smoke-csv-sink' ? { ...n, retryDelay: RETRY_DELAY_MS } : n));
    fs.writeFileSync(path.join(spec.userDir, 'flows.json'), JSON.stringify(flow, null, 2));
    spec.prepare?.();
    const producer: Producer = await testProducer();
    cleanups.push(() => producer.disconnect());
    const admin = kafkaClient({ clientId: 'smoke-disk-faults-watch' }).admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    await produceReadings(producer, topic, 0, BEFORE, SHAPE);
    note(`produced readings 0…${BEFORE - 1}`);

    await nr.start();
    const log = new LineLog(nr.child!);
    note('Node-RED started');

    // ---- what is watched all along --------------------------------------------------------------
    let committed: Record<number, number> = {};
    /** Committed offsets whose reading was not in the readings CSV at that time. */
    const overCommitted: string[] = [];
    /** Committed offsets, then the CSV (rows only grow once committed): a commit past an unwritten row shows. */
    const checkCommits = async (): Promise<void> => {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      committed = Object.fromEntries((offsets?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
      const onDisk = new Set(rowsNow(folder, 'historical_smoke_data_').map((cell) => `${cell('device_id')}|${Number(cell('UTC'))}`));
      for (let p = 0; p < PARTITIONS; p++) {
        for (let k = 0; k < Math.min(committed[p] ?? 0, byPartition[p].length); k++) {
          const i = byPartition[p][k];
          if (!onDisk.has(`${deviceId(i, SHAPE)}|${eventSec(i, SHAPE)}`)) {
            overCommitted.push(`partition ${p} committed to ${committed[p]} but reading ${i} (offset ${k}) was not in the CSV (+${secs(Date.now() - t0)})`);
            break;
          }
        }
      }
    };
    let tInject = Infinity;
    let tClear = Infinity;
    const statuses = (): StatusLine[] => readStatuses(statusFile);
    const story = (): string => {
      const all = statuses();
      const since = all.filter((s) => s.t >= Math.min(tInject, Date.now()) - 2000);
      const lines = [`timeline:`, ...timeline.map((l) => `  ${l}`), `committed ${JSON.stringify(committed)} (${sum(committed)} of ${N})`];
      for (const id of [...SINKS, 'kin']) {
        const mine = (since.length > 0 ? since : all).filter((s) => s.id === id);
        lines.push(`statuses of ${id} (${mine.length}${since.length > 0 ? ' since the fault' : ''}, last 12): ${mine.slice(-12).map((s) => `+${secs(s.t - t0)} ${statusText(s)}`).join(' · ') || 'none'}`);
      }
      for (const id of SINKS) {
        const l = log.of(`smoke-csv-sink:${id}`);
        lines.push(`log lines of ${id}: ${l.length === 0 ? 'none' : ''}`, ...l.slice(-10).map((x) => `  +${secs(x.t - t0)} ${logText(x)}`));
      }
      lines.push(`Node-RED log (tail):\n${nr.log().slice(-2500)}`);
      return lines.join('\n');
    };
    const waitUntil = <T>(what: string, timeoutMs: number, cond: () => Promise<T | null | false | undefined>, missing: () => string = () => ''): Promise<T> =>
      nr.waitFor(what, cond, { timeoutMs, everyMs: POLL_MS, story: () => `${missing() ? `(${missing()})\n` : ''}${story()}` });

    await waitUntil(`the first ${BEFORE} readings committed`, WAIT_MS, async () => {
      await checkCommits();
      return sum(committed) >= BEFORE;
    });
    note(`${sum(committed)} committed`);

    // ---- the fault ------------------------------------------------------------------------------
    /** The red status the spec asks for (`disk full: 12.3k rows waiting`); any red one shows the fault. */
    const asSpecified = new RegExp(`^${spec.cause}: \\d[\\d.,]*[kM]? rows? waiting`);
    const errorsBefore = await nodeCounter(nr.url, 'smoke_csv_write_errors_total', 'csvReadings');
    tInject = Date.now();
    const injected = spec.inject();
    note(`fault: ${injected}`);
    await produceReadings(producer, topic, BEFORE, N, SHAPE);
    note(`produced readings ${BEFORE}…${N - 1}`);

    let redAt = 0;
    let failedWrites: number | null = null;
    let progress = { red: false, waiting: false, logged: false, held: false };
    await waitUntil(
      'the fault to show (red status with its cause, kafka in waiting for the sink, one log line) and to outlast the old give-up',
      WAIT_MS + HOLD_MAX_MS,
      async () => {
        await checkCommits();
        const st = statuses().filter((s) => s.t >= tInject);
        const firstRed = st.find((s) => s.id === 'csvReadings' && s.fill === 'red');
        const red = firstRed !== undefined;
        if (red && redAt === 0) {
          redAt = Date.now();
          note(`readings sink red: ${statusText(firstRed)}`);
        }
        const waiting = st.some((s) => s.id === 'kin' && /waiting for sink/.test(s.text ?? ''));
        const logged = log.of('smoke-csv-sink:csvReadings', tInject).some((l) => l.level === 'warn' || l.level === 'error');
        let held = false;
        if (redAt > 0) {
          const errors = await nodeCounter(nr.url, 'smoke_csv_write_errors_total', 'csvReadings');
          failedWrites = errors === null || errorsBefore === null ? null : errors - errorsBefore;
          held = (failedWrites !== null && failedWrites >= HOLD_FAILED_WRITES) || Date.now() - redAt >= HOLD_MAX_MS;
        }
        progress = { red, waiting, logged, held };
        return red && waiting && logged && held;
      },
      () =>
        [
          progress.red ? '' : 'no red status of the readings sink',
          progress.waiting ? '' : 'kafka in never showed "waiting for sink"',
          progress.logged ? '' : 'the readings sink logged no warning or error',
          progress.held || !progress.red ? '' : `fault not held long enough yet (${failedWrites ?? '?'} failed writes)`,
        ]
          .filter(Boolean)
          .join('; '),
    );
    note(`fault held: ${failedWrites ?? 'unknown'} failed writes of the readings sink, ${secs(Date.now() - redAt)} after it turned red; committed ${sum(committed)}`);

    // ---- cleared: the pipeline must resume by itself ---------------------------------------------
    tClear = Date.now();
    note(`cleared: ${spec.clear()}`);
    const ends: Record<number, number> = Object.fromEntries((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
    assert.equal(sum(ends), N, 'records in the topic');
    await waitUntil('every partition committed to its end after the fault cleared', WAIT_MS, async () => {
      await checkCommits();
      return Object.keys(ends).every((p) => committed[Number(p)] === ends[Number(p)]);
    });
    const resumedMs = Date.now() - tClear;
    note(`all ${N} committed, ${secs(resumedMs)} after the fault cleared`);
    const greenAgain = (id: string) => statuses().find((s) => s.id === id && s.t >= tClear && s.fill === 'green' && /^rows \S+/.test(s.text ?? ''));
    await waitUntil('the readings sink green ("rows N") again', WAIT_MS, async () => greenAgain('csvReadings'));
    // every sink that turned red during the fault ends green once its rows are written
    const wentRed = (id: string) => statuses().some((s) => s.id === id && s.t >= tInject && s.fill === 'red');
    const lastOf = (id: string) => statuses().filter((s) => s.id === id).pop();
    await waitUntil('every sink that went red to show green again', WAIT_MS, async () => SINKS.every((id) => !wentRed(id) || lastOf(id)?.fill === 'green'), () =>
      SINKS.filter((id) => wentRed(id) && lastOf(id)?.fill !== 'green').map((id) => `${id} last ${lastOf(id) ? statusText(lastOf(id)!) : 'none'}`).join('; '),
    );
    note('sinks green again');

    const tStop = Date.now();
    const exitCode = await nr.stop();
    note(`stopped (exit ${exitCode})`);

    // ---- checks ---------------------------------------------------------------------------------
    const problems: string[] = [];
    const all = statuses();
    const readings = readingsDiff(readCsv(folder, 'historical_smoke_data_'), N, SHAPE);
    windowsRef ??= referenceWindows(N, SHAPE);
    const windows = windowsDiff(readCsv(folder, 'window_results_'), windowsRef);
    const outputProblem = (name: string, d: OutputDiff) => {
      if (!diffIsClean(d)) problems.push(`${name}: ${d.rows} rows for ${d.expected} expected: ${diffText(d)}; ${d.examples.slice(0, 6).join(' | ')}`);
    };
    outputProblem('readings CSV', readings);
    outputProblem('window results CSV', windows);
    if (windows.expected < 500) problems.push(`harness: only ${windows.expected} final windows expected`);

    // status: red with cause and count during the fault, nothing else until it cleared, green after
    const mine = all.filter((s) => s.id === 'csvReadings' && s.t >= tInject && s.t < tStop);
    const reds = mine.filter((s) => s.fill === 'red');
    const firstRed = reds[0];
    if (firstRed) {
      const unlike = reds.filter((s) => !asSpecified.test(s.text ?? ''));
      if (unlike.length > 0) {
        problems.push(`${unlike.length} of ${reds.length} red statuses of the readings sink do not read "${spec.cause}: N rows waiting": ${[...new Set(unlike.map(statusText))].slice(0, 3).join(', ')}`);
      }
      const lies = mine.filter((s) => s.t >= firstRed.t && s.t < tClear && s.fill !== 'red');
      if (lies.length > 0) problems.push(`the readings sink's status left red before the fault cleared: ${lies.slice(0, 3).map(statusText).join(', ')}`);
      const counts = reds.map((s) => parseCompact(/(\d[\d.,]*[kM]?) rows? waiting/.exec(s.text ?? '')?.[1] ?? '')).filter((c) => Number.isFinite(c));
      if (counts.length === 0) problems.push(`the readings sink's red status gives no count of the rows waiting: ${statusText(firstRed)}`);
      const most = counts.length === 0 ? NaN : Math.max(...counts);
      // compact counts are rounded (1.5k); kafka in emits at most maxInFlight unacknowledged records
      if (most > MAX_IN_FLIGHT * 1.05) problems.push(`${most} rows waiting in the readings sink: kafka in did not pause at maxInFlight ${MAX_IN_FLIGHT}`);
      note(`red statuses of the readings sink: ${reds.length}, rows waiting up to ${most}`);
    } else problems.push('no red status of the readings sink during the fault');
    const last = mine[mine.length - 1];
    if (!last || last.fill !== 'green' || !/^rows \S+/.test(last.text ?? '')) problems.push(`the readings sink's last status is ${last ? statusText(last) : 'none'}, not green "rows N"`);
    for (const id of SINKS.slice(1)) {
      const l = all.filter((s) => s.id === id && s.t < tStop).pop();
      if (wentRed(id) && l?.fill !== 'green') problems.push(`${id} went red during the fault and ended ${l ? statusText(l) : 'without status'}`);
    }

    // log: the fault once, the recovery once, per sink
    for (const id of SINKS) {
      const lines = log.of(`smoke-csv-sink:${id}`, tInject, tStop);
      const faults = lines.filter((l) => l.level === 'warn' || l.level === 'error');
      const after = lines.filter((l) => l.t >= tClear);
      const shown = lines.slice(0, 6).map(logText).join(' | ');
      if (id === 'csvReadings') {
        if (faults.length !== 1 || faults[0].t >= tClear) problems.push(`the readings sink logged ${faults.length} warnings/errors during the fault (once expected): ${shown}`);
        if (after.length !== 1) problems.push(`the readings sink logged ${after.length} lines after the fault cleared (once expected: writes work again): ${shown}`);
      } else if (faults.length > 1 || lines.length > 2) {
        problems.push(`${id} logged ${lines.length} lines (${faults.length} warnings/errors) for one fault: ${shown}`);
      }
    }

    // commits never passed unwritten rows; no restart, no deploy; a clean stop
    if (overCommitted.length > 0) problems.push(`commits passed unwritten readings: ${overCommitted.slice(0, 3).join('; ')}`);
    const starts = (nr.log().match(/Started flows/g) ?? []).length;
    if (nr.starts !== 1 || starts !== 1) problems.push(`Node-RED started ${nr.starts} times, its flows ${starts} times (once each expected: no restart, no deploy)`);
    if (exitCode !== 0) problems.push(`Node-RED exited with ${exitCode} on a clean stop`);

    const summary =
      `${spec.cause} (${injected}): fault after ${BEFORE} committed, red after ${redAt ? secs(redAt - tInject) : '-'}, held ${secs(tClear - tInject)}` +
      ` (${failedWrites ?? '?'} failed writes), all committed ${secs(resumedMs)} after clearing;` +
      ` readings ${readings.expected} (${diffText(readings)}), windows ${windows.expected} (${diffText(windows)}) in ${secs(Date.now() - t0)}`;
    console.log(`      ${summary}`);
    assert.ok(problems.length === 0, `${problems.map((p) => `- ${p}`).join('\n')}\n${story()}`);
  }
});

/** createTopic, again when kafkajs gives up on metadata that lags right after other topics were deleted. */
async function createTopicRetrying(topic: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await createTopic(topic, PARTITIONS);
      return;
    } catch (err) {
      if (attempt >= 5) throw err;
      await sleep(500 * attempt);
    }
  }
}

