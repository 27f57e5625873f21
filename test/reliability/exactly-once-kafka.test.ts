/**
 * Exactly-once from Kafka back to Kafka (issue 18, "Done when"): real Node-RED runtimes as child
 * processes in ONE consumer group on a 4-partition input topic (the Scenario of partitions.test.ts:
 * pipelineFlow, batch kafka in with `processing: exactly-once`, `isolation: read_committed`, a 6 s
 * session timeout, the csv sinks of readings, windows and z-score alerts), plus two kafka out nodes:
 * the alerts of the three detectors (threshold, z-score, fire pattern) to an alerts topic and the window
 * results to a windows topic, keyed by `payload.deviceId`. Readings are produced while the runtimes
 * consume; runtimes are killed, started and paused at points given by the group's committed offsets
 * (seeded), never by fixed sleeps:
 *
 *   1. one runtime SIGKILLed five times at random points, restarted after each;
 *   2. two runtimes: a clean scale-out (B joins mid-stream) and then a SIGKILL failover (one of them is
 *      killed mid-stream, the other takes every partition), after which the killed one is started again
 *      (a crashed runtime cuts the CSV rows it never committed at its next start);
 *   3. a zombie: A SIGSTOPped past its session timeout (B takes its partitions over), then SIGCONT.
 *
 * At the end (every input partition committed to its end, every runtime stopped cleanly) each output
 * topic is read from its beginning to an end marker the test writes into every partition, once by a
 * `read_committed` and once by a `read_uncommitted` kafkajs consumer. The read_committed reader must see
 * every expected alert and window exactly once: expected = the built lib over the input topic in order
 * (ThresholdDetector, ZScoreDetector and FirePatternDetector with the nodes' defaults over every reading,
 * the alert objects equal to the last bit; referenceWindows for the final windows), 0 missing,
 * 0 duplicated, 0 wrong, 0 unexpected, each record keyed by its device id. The read_uncommitted reader
 * must hold every record the read_committed one saw (same partition, offset and value); what it sees
 * beyond them are the records of aborted transactions (a SIGKILLed or fenced runtime's open
 * transaction): both counts are printed (not asserted to differ: a kill or a pause falls inside an open
 * transaction in some runs only, see scenario 1). The csv sinks' exactly-once files (readings, windows,
 * z-score alerts) are checked as partitions.test.ts checks them. About 2 minutes (scenarios ~55, ~30, ~30 s).
 *
 *   node scripts/build.js && npx mocha test/reliability/exactly-once-kafka.test.ts   (or: npm test -- test/reliability/exactly-once-kafka.test.ts)
 *   npx mocha test/reliability/exactly-once-kafka.test.ts -g zombie                 (one scenario)
 *
 *   SMOKE_SEED=<n>                 repeat a run's random points (printed in each summary line)
 *   SMOKE_EO_READINGS=<n>          readings per scenario (default 12,000)
 *   SMOKE_EO_PROCESSING=<mode>     kafka in's processing mode (default exactly-once; `at-least-once`
 *                                  shows what the checks find without transactions: duplicates)
 *   SMOKE_PARTITIONS_PACE=<x>      production time × x (as in partitions.test.ts; default 0.7)
 *   SMOKE_PARTITIONS_VERBOSE=1     print each scenario's timeline as it happens
 *   SMOKE_KEEP_ARTIFACTS=1         keep user directories and topics of failed scenarios; `always`: of all
 */
import { strict as assert } from 'node:assert';
import { createTopic, kafkaClient, requireKafka, uniqueTopic } from '../kafka/broker';
import {
  alertKey,
  builtLib,
  diffIsClean,
  diffRows,
  diffText,
  referenceWindows,
  referenceZScoreAlerts,
  windowsDiff,
  type CsvContent,
  type OutputDiff,
  type WindowRef,
} from './_check';
import { kaggleReading, runSeed, type StreamShape } from './_data';
import { killLeftovers } from './_runtime';
import { PARTITIONS, SESSION_TIMEOUT_MS, SHAPE, STREAM_SCALE, Scenario, envNumber, type Outcome, type Runtime } from './_scenario';

/** Readings per scenario (SMOKE_EO_READINGS). */
const N = Math.floor(envNumber('SMOKE_EO_READINGS', 12_000));
/**
 * 100 devices, one reading every 30 s each: 12,000 readings span one hour of event time, about 49 final
 * windows a device (4,900 windows) and about 21,000 alerts (threshold, z-score, fire pattern).
 */
const EO_SHAPE: StreamShape = { devices: 100, startSec: SHAPE.startSec, stepSec: 30 };
const PROCESSING = process.env.SMOKE_EO_PROCESSING || 'exactly-once';
/** How long reading an output topic to its end markers may take (beyond kafkajs' default 60 s transaction timeout). */
const READ_MS = 90_000;
/** The key of the end markers the test writes into every partition of the output topics. */
const END_KEY = '__end-of-test__';

const sumOf = (o: Record<number, number>) => Object.values(o).reduce((a, b) => a + Math.max(0, b), 0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------
// References: what an uninterrupted run sends to the output topics

/** An alert's identity: one per detector type, device, reading and sensor (severity is part of its value). */
const alertId = (type: string, deviceIdText: string, timestamp: number, sensor: string): string => `${type}|${deviceIdText}|${timestamp}|${sensor}`;

interface References {
  /** Identity → the alert object as the node sends it (JSON round trip). */
  alerts: Map<string, Record<string, unknown>>;
  windows: Map<string, WindowRef>;
}

let refCache: References | null = null;

/**
 * The alerts of an uninterrupted run, by the built lib: each reading as kafka in decodes it (JSON),
 * validated with sensor validate's defaults, processed in production order by one ThresholdDetector,
 * one ZScoreDetector and one FirePatternDetector with the nodes' default settings (per device, so per
 * partition: one partition is read in offset order). And the final windows (referenceWindows).
 */
function references(): References {
  if (refCache) return refCache;
  const lib = builtLib();
  const detectors = [new lib.ThresholdDetector(), new lib.ZScoreDetector(), new lib.FirePatternDetector()];
  const alerts = new Map<string, Record<string, unknown>>();
  const out: import('../../nodes/lib/index').Alert[] = [];
  for (let i = 0; i < N; i++) {
    const input = JSON.parse(JSON.stringify(kaggleReading(i, EO_SHAPE))) as Record<string, unknown>;
    const v = lib.validateReading(input, { key: input.device_id as string, arrival: 0 });
    if (!v.ok) throw new Error(`harness: the validator rejects reading ${i}`);
    out.length = 0;
    for (const d of detectors) d.process(v.reading, 0, out);
    for (const a of out) {
      const id = alertId(a.type, a.deviceId, a.timestamp, a.sensor);
      if (alerts.has(id)) throw new Error(`harness: two reference alerts ${id}`);
      alerts.set(id, JSON.parse(JSON.stringify(a)) as Record<string, unknown>);
    }
  }
  // the z-score part is the reference the csv checks use (referenceZScoreAlerts): the same alerts
  const z = referenceZScoreAlerts(N, EO_SHAPE).alerts;
  const ours = [...alerts.values()].filter((a) => a.type === 'STATISTICAL');
  assert.equal(ours.length, z.size, 'harness: z-score alerts of both references');
  for (const a of ours) assert.ok(z.has(alertKey(a.deviceId as string, a.timestamp as number, a.sensor as string, a.severity as string)), 'harness: a z-score alert of both references');
  refCache = { alerts, windows: referenceWindows(N, EO_SHAPE) };
  return refCache;
}

// ---------------------------------------------------------------------------------------------------
// Reading the output topics back

interface OutRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string;
}

interface Reading {
  records: OutRecord[];
  ms: number;
}

/**
 * Write an end marker (key {@link END_KEY}, not transactional) into every partition of `topics`: a
 * read_committed reader reaches it only once every transaction before it is committed or aborted.
 */
async function writeEndMarkers(topics: string[]): Promise<void> {
  const p = kafkaClient({ clientId: 'smoke-eo-end-marker' }).producer({ allowAutoTopicCreation: false });
  await p.connect();
  try {
    for (const topic of topics) {
      const messages = Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, key: END_KEY, value: JSON.stringify({ end: true }) }));
      await p.send({ topic, acks: -1, messages });
    }
  } finally {
    await p.disconnect();
  }
}

/**
 * Every record of `topics` from the beginning to the end markers, with `readUncommitted` as given
 * (a consumer group of its own, nothing committed). Fails after READ_MS with where it stands.
 */
async function readToEnd(topics: string[], readUncommitted: boolean): Promise<Reading> {
  const t0 = Date.now();
  const consumer = kafkaClient({ clientId: `smoke-eo-reader-${readUncommitted ? 'uncommitted' : 'committed'}` }).consumer({
    groupId: uniqueTopic(`smoke-eo-reader-${readUncommitted ? 'ru' : 'rc'}`),
    readUncommitted,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 250,
  });
  const records: OutRecord[] = [];
  const ended = new Set<string>();
  /** topic/partition → next offset seen so far (where the reader stands, for a timeout's message). */
  const at: Record<string, string> = {};
  let finished: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finished = resolve));
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const key = m.key === null ? null : m.key.toString('utf8');
          if (key === END_KEY) ended.add(`${batch.topic}/${batch.partition}`);
          else records.push({ topic: batch.topic, partition: batch.partition, offset: m.offset, key, value: m.value === null ? 'null' : m.value.toString('utf8') });
        }
        at[`${batch.topic}/${batch.partition}`] = `${Number(batch.lastOffset()) + 1} (hw ${batch.highWatermark})`;
        if (ended.size === topics.length * PARTITIONS) finished();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(async () => {
        // the last stable offsets (ListOffsets with read_committed, what kafkajs' admin asks for) against where the reader is
        const admin = kafkaClient({ clientId: 'smoke-eo-reader-admin' }).admin();
        let lso = '';
        try {
          await admin.connect();
          for (const t of topics) lso += ` ${t}: ${JSON.stringify((await admin.fetchTopicOffsets(t)).map((p) => [p.partition, Number(p.high)]))}`;
        } catch (err) {
          lso = ` (unavailable: ${(err as Error).message})`;
        } finally {
          await admin.disconnect().catch(() => undefined);
        }
        reject(
          new Error(
            `the ${readUncommitted ? 'read_uncommitted' : 'read_committed'} reader did not reach the end markers within ${READ_MS / 1000} s ` +
              `(reached ${[...ended].join(', ') || 'none'}; positions ${JSON.stringify(at)}; last stable offsets${lso}): ` +
              'an open transaction holds the last stable offset back?',
          ),
        );
      }, READ_MS);
    });
    await Promise.race([done, timeout]).finally(() => clearTimeout(timer));
    return { records, ms: Date.now() - t0 };
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------------
// Comparing what a reader saw with the references

/** A cell of a JSON value as text (null as the csv checks' NULL), so that _check's row comparisons apply. */
const ABSENT = '\u0000absent';
function cellText(v: unknown): string {
  if (v === undefined) return ABSENT;
  if (v === null) return 'NULL';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** JSON objects as the rows of a CSV content (header: the union of their keys), for _check's diffRows. */
function jsonContent(values: Record<string, unknown>[]): CsvContent {
  const keys = new Set<string>();
  for (const v of values) for (const k of Object.keys(v)) keys.add(k);
  const header = [...keys].sort();
  const rows = values.map((v) => header.map((h) => cellText(v[h])));
  return { header, rows, counts: { records: rows.length }, after: () => rows.map(() => false) };
}

interface TopicCheck {
  diff: OutputDiff;
  /** Records that are not a JSON object. */
  unparsable: number;
  /** Records whose Kafka key is not the payload's device id. */
  badKeys: number;
  examples: string[];
}

function parseAll(records: OutRecord[]): { values: Record<string, unknown>[]; unparsable: number; badKeys: number; examples: string[] } {
  const values: Record<string, unknown>[] = [];
  let unparsable = 0;
  let badKeys = 0;
  const examples: string[] = [];
  for (const r of records) {
    let v: unknown;
    try {
      v = JSON.parse(r.value);
    } catch {
      v = undefined;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      if (unparsable++ < 3) examples.push(`not a JSON object at ${r.topic}/${r.partition}@${r.offset}: ${r.value.slice(0, 120)}`);
      continue;
    }
    const o = v as Record<string, unknown>;
    if (r.key !== o.deviceId) {
      if (badKeys++ < 3) examples.push(`key ${r.key} of ${o.deviceId}'s record at ${r.topic}/${r.partition}@${r.offset}`);
    }
    values.push(o);
  }
  return { values, unparsable, badKeys, examples };
}

function checkAlerts(records: OutRecord[], ref: Map<string, Record<string, unknown>>): TopicCheck {
  const { values, unparsable, badKeys, examples } = parseAll(records);
  const content = jsonContent(values);
  const diff = diffRows(
    content,
    ref,
    (cell) => alertId(cell('type'), cell('deviceId'), Number(cell('timestamp')), cell('sensor')),
    (key) => key.split('|')[1],
    (cell, want) => {
      // every field, exactly: the alert object as an uninterrupted run sends it
      const diffs: string[] = [];
      for (const h of content.header) {
        const w = cellText(want[h]);
        if (cell(h) !== w) diffs.push(`${h}: ${cell(h) === ABSENT ? '(absent)' : cell(h)} (expected ${w === ABSENT ? '(absent)' : w})`);
      }
      for (const k of Object.keys(want)) if (!content.header.includes(k)) diffs.push(`${k}: (absent) (expected ${cellText(want[k])})`);
      return diffs;
    },
    (_key, want) => want.deviceId as string,
  );
  return { diff, unparsable, badKeys, examples };
}

function checkWindows(records: OutRecord[], ref: Map<string, WindowRef>): TopicCheck {
  const { values, unparsable, badKeys, examples } = parseAll(records);
  return { diff: windowsDiff(jsonContent(values), ref), unparsable, badKeys, examples };
}

const clean = (c: TopicCheck) => diffIsClean(c.diff) && c.unparsable === 0 && c.badKeys === 0;
const checkText = (c: TopicCheck) =>
  `${c.diff.rows} records (${diffText(c.diff)}${c.unparsable > 0 ? `, ${c.unparsable} unparsable` : ''}${c.badKeys > 0 ? `, ${c.badKeys} wrongly keyed` : ''})`;

/** Records the read_committed reader saw that the read_uncommitted one did not (same topic, partition, offset and value). */
function notIn(committed: OutRecord[], uncommitted: OutRecord[]): { count: number; examples: string[] } {
  const all = new Map<string, string>();
  for (const r of uncommitted) all.set(`${r.topic}/${r.partition}@${r.offset}`, r.value);
  let count = 0;
  const examples: string[] = [];
  for (const r of committed) {
    const at = `${r.topic}/${r.partition}@${r.offset}`;
    if (all.get(at) !== r.value && count++ < 3) examples.push(`${at}: ${all.has(at) ? 'another value' : 'absent'} for the read_uncommitted reader`);
  }
  return { count, examples };
}

interface EoResult {
  csv: Outcome;
  committed: { alerts: TopicCheck; windows: TopicCheck; ms: number };
  uncommitted: { alerts: TopicCheck; windows: TopicCheck; ms: number };
  /** Records of the read_committed reader missing from the read_uncommitted one's. */
  notInUncommitted: { count: number; examples: string[] };
  readMs: number;
}

// ---------------------------------------------------------------------------------------------------
// A scenario of this file: the Scenario of partitions.test.ts with the two output topics

interface EoScenario {
  s: Scenario;
  alertsTopic: string;
  windowsTopic: string;
}

async function createEo(label: string, seed: number, streamSec: number): Promise<EoScenario> {
  const names = (groupId: string) => ({ alertsTopic: `${groupId}-alerts`, windowsTopic: `${groupId}-windows` });
  const s = await Scenario.create({
    label,
    seed,
    streamSec,
    n: N,
    shape: EO_SHAPE,
    pipeline: ({ groupId }) => ({
      ...names(groupId),
      kafkaIn: { processing: PROCESSING, isolation: 'read_committed' },
    }),
  });
  // named after the group: the scenario's cleanup deletes them with its other topics
  const { alertsTopic, windowsTopic } = names(s.groupId);
  for (const t of [alertsTopic, windowsTopic]) {
    for (let attempt = 1; ; attempt++) {
      try {
        await createTopic(t, PARTITIONS);
        break;
      } catch (err) {
        if (attempt >= 5) throw err;
        await sleep(500 * attempt);
      }
    }
  }
  return { s, alertsTopic, windowsTopic };
}

/** The end of a scenario: the csv checks (Scenario.finish), then both readers over both output topics. */
async function finishEo(eo: EoScenario): Promise<EoResult> {
  const { s, alertsTopic, windowsTopic } = eo;
  const csv = await s.finish();
  const t0 = Date.now();
  await writeEndMarkers([alertsTopic, windowsTopic]);
  const [rc, ru] = await Promise.all([readToEnd([alertsTopic, windowsTopic], false), readToEnd([alertsTopic, windowsTopic], true)]);
  const readMs = Date.now() - t0;
  s.note(`read back: read_committed ${rc.records.length} records in ${(rc.ms / 1000).toFixed(1)} s, read_uncommitted ${ru.records.length} in ${(ru.ms / 1000).toFixed(1)} s`);
  const ref = references();
  const of = (records: OutRecord[], topic: string) => records.filter((r) => r.topic === topic);
  return {
    csv,
    committed: { alerts: checkAlerts(of(rc.records, alertsTopic), ref.alerts), windows: checkWindows(of(rc.records, windowsTopic), ref.windows), ms: rc.ms },
    uncommitted: { alerts: checkAlerts(of(ru.records, alertsTopic), ref.alerts), windows: checkWindows(of(ru.records, windowsTopic), ref.windows), ms: ru.ms },
    notInUncommitted: notIn(rc.records, ru.records),
    readMs,
  };
}

function summary(s: Scenario, r: EoResult): string {
  const extra = (u: TopicCheck, c: TopicCheck) => `${u.diff.rows - c.diff.rows >= 0 ? '+' : ''}${u.diff.rows - c.diff.rows}`;
  return [
    `${s.o.label} (${PROCESSING}): in ${(r.csv.ms / 1000).toFixed(1)} s + read-back ${(r.readMs / 1000).toFixed(1)} s`,
    `  read_committed:   alerts ${checkText(r.committed.alerts)} of ${r.committed.alerts.diff.expected}, windows ${checkText(r.committed.windows)} of ${r.committed.windows.diff.expected}`,
    `  read_uncommitted: alerts ${checkText(r.uncommitted.alerts)} [${extra(r.uncommitted.alerts, r.committed.alerts)}], windows ${checkText(r.uncommitted.windows)} [${extra(r.uncommitted.windows, r.committed.windows)}]`,
    `  csv: ${s.summary(r.csv)}`,
  ].join('\n');
}

function report(s: Scenario, r: EoResult): string {
  const lines = [summary(s, r)];
  for (const [name, c] of [
    ['read_committed alerts', r.committed.alerts],
    ['read_committed windows', r.committed.windows],
  ] as const) {
    lines.push(`  ${name}: problems by partition: ${s.byPartition(c.diff)}`);
    for (const e of [...c.diff.examples, ...c.examples]) lines.push(`    ${e}`);
  }
  if (r.notInUncommitted.count > 0) lines.push(`  ${r.notInUncommitted.count} read_committed records not seen alike by read_uncommitted:`, ...r.notInUncommitted.examples.map((e) => `    ${e}`));
  lines.push('  timeline:', ...s.timeline.map((l) => `    ${l}`));
  return lines.join('\n');
}

/** The "Done when" assertions of every scenario. */
function assertExactlyOnce(s: Scenario, r: EoResult): void {
  assert.ok(clean(r.committed.alerts) && clean(r.committed.windows), `the read_committed reader does not see every alert and window exactly once:\n${report(s, r)}`);
  assert.equal(r.notInUncommitted.count, 0, `read_uncommitted does not hold every read_committed record:\n${report(s, r)}`);
  // the csv sinks' own exactly-once (partitions.test.ts) holds in this mode too
  s.assertExact(r.csv);
}

const extraRecords = (r: EoResult) => r.uncommitted.alerts.diff.rows + r.uncommitted.windows.diff.rows - (r.committed.alerts.diff.rows + r.committed.windows.diff.rows);

describe(`reliability > exactly-once from Kafka to Kafka (real runtimes, read_committed readers of the alerts and windows topics)`, function () {
  // per scenario: the stream (25–35 s × STREAM_SCALE) plus starts, session expiries, the final drain and the read-back
  this.timeout(Math.round(120_000 + 60_000 * STREAM_SCALE));
  let eo: EoScenario | null = null;
  const seed = runSeed();

  before(async function () {
    await requireKafka(this);
    this.timeout(120_000);
    // the references once, outside the scenarios' times
    references();
  });

  afterEach(async function () {
    const failed = this.currentTest?.state === 'failed';
    const sc = eo?.s;
    const err = (this.currentTest as { err?: Error } | undefined)?.err;
    if (failed && sc && sc.timeline.length > 0 && !String(err?.message ?? '').includes(sc.timeline[0])) {
      console.log(`        timeline of ${sc.o.label}:\n${sc.timeline.map((l) => `          ${l}`).join('\n')}`);
    }
    if (sc) await sc.cleanup(failed);
    eo = null;
    killLeftovers();
  });

  after(function () {
    killLeftovers();
  });

  const show = (s: Scenario, r: EoResult) => console.log(summary(s, r).replace(/^/gm, '      '));

  it('1. one runtime SIGKILLed five times at random points (restarted after each)', async function () {
    // a restart takes ~8 s (start, the killed member's session expiry, a rebalance): a ~45 s stream (× PACE / 0.7) keeps the five kills in it
    eo = await createEo(`eo 1 seed ${seed}`, seed, 64);
    const { s } = eo;
    const a = s.add('A');
    await s.start(a);
    await s.waitGroup([a]);
    s.produce();
    for (let k = 1; k <= 5; k++) {
      // the k-th kill somewhere in the k-th sixth of the stream, and after some work of the new process
      const from = sumOf(await s.committed());
      await s.waitCommitted(Math.max((k - 0.5 + 0.8 * (s.rnd() - 0.5)) / 6, from / s.n + 0.02));
      await sleep(Math.floor(500 * s.rnd()));
      await s.kill(a);
      await s.start(a);
      await s.waitGroup([a]);
    }
    const r = await finishEo(eo);
    show(s, r);
    assertExactlyOnce(s, r);
    // Not asserted: that the read_uncommitted reader saw more (the records of a transaction open at a
    // SIGKILL, aborted when the partition's next owner fences it). A transaction is open with records only
    // from its sends to its commit, a small part of the time, and most kills fall outside it: measured in
    // 2 of 8 runs of this scenario (scenario 2: 4 of 8, scenario 3: 5 of 8), so printed only.
    s.note(`aborted records seen by read_uncommitted only: ${extraRecords(r)}`);
  });

  it('2. two runtimes: a clean scale-out (B joins mid-stream), then a SIGKILL failover (the other takes every partition), then the killed one restarted', async function () {
    eo = await createEo(`eo 2 seed ${seed}`, seed, 35);
    const { s } = eo;
    const [a, b] = [s.add('A'), s.add('B')];
    await s.start(a);
    await s.waitGroup([a]);
    s.produce();
    // scale-out: B starts while A works; A hands some partitions over in a clean rebalance
    await s.waitCommitted(0.15 + 0.1 * s.rnd());
    await s.start(b);
    const owned = await s.waitGroup([a, b]);
    await s.waitProgress(sumOf(await s.committed()), Math.round(0.05 * s.n));
    // failover: one of them is SIGKILLed; the other takes its partitions once its session expired
    await s.waitCommitted(0.5 + 0.15 * s.rnd());
    await sleep(Math.floor(500 * s.rnd()));
    const [victim, survivor]: Runtime[] = s.rnd() < 0.5 ? [a, b] : [b, a];
    await s.kill(victim);
    const atKill = await s.committed();
    await s.waitTakeover(`${survivor.name}'s commits on ${victim.name}'s partitions`, owned[victim.name], atKill);
    await s.waitGroup([survivor]);
    // then a supervisor starts the victim again, as the README asks: its crash recovery cuts the CSV rows
    // it wrote but never committed (left alone, they would stay in its folder beside the survivor's)
    await s.start(victim);
    await s.waitGroup([a, b]);
    const r = await finishEo(eo);
    show(s, r);
    assertExactlyOnce(s, r);
  });

  it('3. a zombie: A SIGSTOPped until B took its partitions over, then SIGCONT; its late sends never become visible', async function () {
    eo = await createEo(`eo 3 seed ${seed}`, seed, 30);
    const { s } = eo;
    const [a, b] = [s.add('A'), s.add('B')];
    await s.start(a, b);
    const first = await s.waitGroup([a, b]);
    s.produce();
    await s.waitCommitted(0.25 + 0.2 * s.rnd());
    const pausedAt = Date.now();
    await s.pause(a);
    const atPause = await s.committed();
    // A's session expires; B gets A's partitions (fencing A's transactions) and commits records of them while A is frozen
    await s.waitTakeover("B's commits on the paused A's partitions", first.A, atPause);
    assert.ok(Date.now() - pausedAt > SESSION_TIMEOUT_MS, 'A was paused longer than its session timeout');
    await s.waitGroup([b]);
    const logAt = a.nr.log().length;
    await s.resume(a);
    // A finds itself out of the group (its sends and commits fenced), and comes back as a new member
    await s.waitGroup([a, b]);
    const said = a.nr
      .log()
      .slice(logAt)
      .split('\n')
      .filter((l) => /fenc|epoch|abort/i.test(l));
    s.note(`A's log after SIGCONT: ${said.length} lines on fencing / aborts${said.length > 0 ? `, first: ${said[0].trim().slice(0, 200)}` : ''}`);
    const r = await finishEo(eo);
    show(s, r);
    console.log(`      ${s.timeline.find((l) => l.includes("A's log after SIGCONT")) ?? ''}`);
    assertExactlyOnce(s, r);
  });
});

describe('reliability > exactly-once from Kafka to Kafka > the harness itself (no broker)', function () {
  this.timeout(60_000);

  it('counts missing, wrong, duplicated, unexpected and wrongly keyed records, and records read_uncommitted lacks', function () {
    // Records made from the references as the kafka out nodes send them (JSON values keyed by device id):
    // exact first (0 everywhere), then with one record dropped, one doubled, one changed, one foreign and
    // one wrongly keyed.
    const ref = references();
    const rec = (topic: string, i: number, v: Record<string, unknown>): OutRecord => ({ topic, partition: i % PARTITIONS, offset: String(i), key: v.deviceId as string, value: JSON.stringify(v) });
    const alerts = [...ref.alerts.values()].map((a, i) => rec('alerts', i, a));
    const windows = [...ref.windows.values()].map((w, i) => rec('windows', i, { ...w, final: true }));
    const counts = (c: TopicCheck) => [c.diff.missing, c.diff.wrong, c.diff.duplicated, c.diff.unexpected, c.badKeys];
    assert.ok(alerts.length > 10_000 && windows.length > 1_000, `references to compare (${alerts.length} alerts, ${windows.length} windows)`);
    assert.deepEqual(counts(checkAlerts(alerts, ref.alerts)), [0, 0, 0, 0, 0]);
    assert.deepEqual(counts(checkWindows(windows, ref.windows)), [0, 0, 0, 0, 0]);

    const mutate = (rs: OutRecord[], change: (v: Record<string, unknown>) => void): OutRecord[] => {
      const out = rs.map((r) => ({ ...r }));
      out.splice(5, 1); // dropped: 1 missing
      out.push({ ...out[7], offset: String(rs.length + 1) }); // doubled: 1 duplicated
      const changed = JSON.parse(out[9].value) as Record<string, unknown>;
      change(changed);
      out[9] = { ...out[9], value: JSON.stringify(changed) }; // changed: 1 wrong
      const foreign = JSON.parse(out[11].value) as Record<string, unknown>;
      foreign.deviceId = 'dev-9999';
      out.push({ ...out[11], offset: String(rs.length + 2), key: 'dev-9999', value: JSON.stringify(foreign) }); // 1 unexpected
      out[13] = { ...out[13], key: 'dev-9998' }; // 1 wrongly keyed
      return out;
    };
    // a last bit of difference in a number is wrong, as is a field the reference does not have
    const badAlerts = mutate(alerts, (a) => (a.value = (a.value as number) * (1 + Number.EPSILON)));
    assert.deepEqual(counts(checkAlerts(badAlerts, ref.alerts)), [1, 1, 1, 1, 1]);
    const extraField = alerts.map((r) => ({ ...r }));
    extraField[3] = { ...extraField[3], value: JSON.stringify({ ...(JSON.parse(extraField[3].value) as object), extra: 1 }) };
    assert.deepEqual(counts(checkAlerts(extraField, ref.alerts)), [0, 1, 0, 0, 0]);
    const badWindows = mutate(windows, (w) => (w.count = (w.count as number) - 1));
    assert.deepEqual(counts(checkWindows(badWindows, ref.windows)), [1, 1, 1, 1, 1]);
    const notFinal = windows.map((r) => ({ ...r }));
    notFinal[3] = { ...notFinal[3], value: JSON.stringify({ ...(JSON.parse(notFinal[3].value) as object), final: false }) };
    assert.deepEqual(counts(checkWindows(notFinal, ref.windows)), [0, 1, 0, 0, 0]);

    // read_uncommitted ⊇ read_committed, record by record (partition, offset, value)
    const committed = [...alerts.slice(0, 100), ...windows.slice(0, 100)];
    assert.equal(notIn(committed, [...alerts, ...windows]).count, 0);
    const lacking = [...alerts, ...windows].filter((r) => r !== alerts[50]);
    lacking[0] = { ...lacking[0], value: '{}' };
    assert.equal(notIn(committed, lacking).count, 2);
  });
});
