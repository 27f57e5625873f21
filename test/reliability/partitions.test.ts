/**
 * State that follows its Kafka partition (issue 13, "Done when"): real Node-RED runtimes as child
 * processes in ONE consumer group on a 4-partition topic, each with its own user directory and CSV
 * folder, the same flow (pipelineFlow plus a csv sink for the z-score alerts), batch kafka in with
 * after-sink commits and a 6 s session timeout. Readings (200 devices, keyed by device id) are produced
 * while the runtimes consume; runtimes are killed, stopped, started and paused at points given by the
 * group's committed offsets. At the end (every partition committed to its end, every runtime stopped
 * cleanly) the union of the runtimes' CSV files must equal an uninterrupted run: readings = the topic,
 * windows = the final windows of all readings, z-score alerts = the lib's ZScoreDetector over the
 * readings in order; 0 missing, 0 wrong, 0 duplicated (see _scenario.ts). About 2.5 minutes (3.5 with SMOKE_PARTITIONS_ALL=1).
 *
 *   node scripts/build.js && npx mocha test/reliability/partitions.test.ts     (or: npm test -- test/reliability/partitions.test.ts)
 *   npx mocha test/reliability/partitions.test.ts -g "baseline|5\."         (some scenarios only)
 *   SMOKE_PARTITIONS_SEEDS=3 SMOKE_PARTITIONS_READINGS=100000 npx mocha …       (the longer run: three seeds, 3.3× longer streams)
 *
 *   SMOKE_SEED=<n>                    repeat a run's random points (printed in each summary line)
 *   SMOKE_PARTITIONS_SEEDS=3          scenario 1 with three seeds (the issue's; `npm test` runs one)
 *   SMOKE_PARTITIONS_ALL=1            also scenarios 5 and 6 (in `npm test` they run with exactly-once processing, in exactly-once-kafka.test.ts)
 *   SMOKE_PARTITIONS_READINGS=<n>     readings per scenario (default 30,000)
 *   SMOKE_PARTITIONS_PACE=<x>         production time × x (a longer, slower stream for a soak-like run)
 *   SMOKE_PARTITIONS_VERBOSE=1        print each scenario's timeline as it happens
 *   SMOKE_KEEP_ARTIFACTS=1            keep user directories (CSV files, node-red.log) of failed scenarios; `always`: of all
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { requireKafka } from '../kafka/broker';
import { alertsDiff, builtLib, readCsv, readingsDiff, windowsDiff, type OutputDiff } from './_check';
import { killLeftovers, removeDir } from './_runtime';
import { SENSOR_HEADERS, dataRows, deviceId, eventSec, runSeed } from './_data';
import { READINGS, SEEDS, SESSION_TIMEOUT_MS, STREAM_SCALE, Scenario, referencesFor, SHAPE } from './_scenario';

const sumOf = (o: Record<number, number>) => Object.values(o).reduce((a, b) => a + Math.max(0, b), 0);

describe('reliability > partitions (one consumer group over several runtimes: exactly-once CSV, state that follows its partition)', function () {
  // per scenario: the stream (12–50 s × STREAM_SCALE) plus starts, session expiries and the final drain
  this.timeout(Math.round(150_000 + 60_000 * STREAM_SCALE));
  let sc: Scenario | null = null;
  const baseSeed = runSeed();

  before(async function () {
    await requireKafka(this);
    this.timeout(120_000);
    // the references (brute-force windows, lib z-score) once, outside the scenarios' times
    referencesFor(READINGS, SHAPE);
  });

  afterEach(async function () {
    const failed = this.currentTest?.state === 'failed';
    // a test that timed out (or failed outside the scenario's own checks) has not shown its timeline yet
    const err = (this.currentTest as { err?: Error } | undefined)?.err;
    if (failed && sc && sc.timeline.length > 0 && !String(err?.message ?? '').includes(sc.timeline[0])) {
      console.log(`        timeline of ${sc.o.label}:\n${sc.timeline.map((l) => `          ${l}`).join('\n')}`);
    }
    if (sc) await sc.cleanup(failed);
    sc = null;
    killLeftovers();
  });

  after(function () {
    killLeftovers();
  });

  const done = (s: Scenario, out: Awaited<ReturnType<Scenario['finish']>>) => {
    console.log(`      ${s.summary(out)}`);
    s.assertExact(out);
  };

  it('baseline: one runtime, no faults, equals the references exactly', async function () {
    const s = (sc = await Scenario.create({ label: 'baseline', seed: baseSeed, streamSec: 12 }));
    const a = s.add('A');
    await s.start(a);
    await s.waitGroup([a]);
    s.produce();
    done(s, await s.finish());
  });

  // scenario 1 once per seed (SMOKE_PARTITIONS_SEEDS): seeds baseSeed, baseSeed + 1, …
  for (let k = 0; k < SEEDS; k++) {
    const seed = baseSeed + k;
    it(`1. two runtimes, one SIGKILLed at a random point mid-stream (failover), then restarted (seed ${seed})`, async function () {
      const s = (sc = await Scenario.create({ label: `scenario 1 seed ${seed}`, seed, streamSec: 30 }));
      const [a, b] = [s.add('A'), s.add('B')];
      await s.start(a, b);
      const first = await s.waitGroup([a, b]);
      s.produce();
      const [victim, survivor] = s.rnd() < 0.5 ? [a, b] : [b, a];
      // early enough that the failover (~8 s) and the restart still happen while readings come in
      await s.waitCommitted(0.15 + 0.4 * s.rnd());
      await new Promise((r) => setTimeout(r, Math.floor(1000 * s.rnd())));
      await s.kill(victim);
      const atKill = await s.committed();
      // Failover: the victim's member expires (session timeout), the survivor gets its partitions and
      // commits records of them. (A restart before the session expires would rejoin with the same
      // assignment: no partition would move.)
      await s.waitTakeover("the survivor's commits on the victim's partitions", first[victim.name], atKill);
      await s.waitGroup([survivor]);
      // then a supervisor starts the victim again: the partitions are split once more
      await s.start(victim);
      await s.waitGroup([a, b]);
      done(s, await s.finish());
    });
  }

  it('2. clean scale-out (B joins at ~30 %) and clean scale-in (B stops at ~70 %)', async function () {
    const s = (sc = await Scenario.create({ label: `scenario 2 seed ${baseSeed}`, seed: baseSeed, streamSec: 25 }));
    const [a, b] = [s.add('A'), s.add('B')];
    await s.start(a);
    await s.waitGroup([a]);
    s.produce();
    await s.waitCommitted(0.3);
    await s.start(b);
    await s.waitGroup([a, b]);
    await s.waitCommitted(0.7);
    await s.stop(b);
    await s.waitGroup([a]);
    done(s, await s.finish());
  });

  it('3. a partition moves A → B → A (A killed, B takes over, A restarted, B stops cleanly)', async function () {
    const s = (sc = await Scenario.create({ label: `scenario 3 seed ${baseSeed}`, seed: baseSeed, streamSec: 35 }));
    const [a, b] = [s.add('A'), s.add('B')];
    await s.start(a, b);
    const first = await s.waitGroup([a, b]);
    s.produce();
    await s.waitCommitted(0.15 + 0.1 * s.rnd());
    await s.kill(a);
    const atKill = await s.committed();
    // B owns A's partitions once A's session expired, and has committed records of them
    await s.waitTakeover("B's commits on A's former partitions", first.A, atKill);
    await s.start(a);
    await s.waitGroup([a, b]);
    const back = await s.committed();
    await s.waitProgress(sumOf(back), Math.round(0.05 * s.n));
    await s.waitCommitted(0.65);
    await s.stop(b);
    await s.waitGroup([a]);
    done(s, await s.finish());
  });

  it('4. three runtimes, rolling restart (clean stop and start of each in turn)', async function () {
    const s = (sc = await Scenario.create({ label: `scenario 4 seed ${baseSeed}`, seed: baseSeed, streamSec: 60 }));
    const rts = [s.add('A'), s.add('B'), s.add('C')];
    await s.start(...rts);
    let owned = await s.waitGroup(rts);
    s.produce();
    await s.waitCommitted(0.08 + 0.06 * s.rnd());
    for (const rt of rts) {
      await s.stop(rt);
      // after the stop: its last commit (of a clean stop) is in
      const atStop = await s.committed();
      await s.waitGroup(rts.filter((r) => r !== rt));
      // the others took its partitions over and committed records of them (its state is stale now);
      // not longer than 10 s, so that all three restarts happen while readings come in
      await s.waitTakeover(`commits on ${rt.name}'s partitions by the others`, owned[rt.name], atStop, { giveUpMs: 10_000 * STREAM_SCALE });
      await s.start(rt);
      owned = await s.waitGroup(rts);
      // the group works with the restarted member before the next one goes
      await s.waitProgress(sumOf(await s.committed()), Math.round(0.05 * s.n));
    }
    done(s, await s.finish());
  });

  // Scenarios 5 and 6 run in `npm test` as scenarios 1 and 3 of exactly-once-kafka.test.ts: the same
  // faults on the same pipeline with exactly-once processing, checking these CSV files the same way and
  // the Kafka outputs besides. Here (at-least-once processing) with SMOKE_PARTITIONS_ALL=1.
  const also = process.env.SMOKE_PARTITIONS_ALL === '1' ? it : null;

  also?.('5. one runtime SIGKILLed five times at random points (restarted after each)', async function () {
    const s = (sc = await Scenario.create({ label: `scenario 5 seed ${baseSeed}`, seed: baseSeed, streamSec: 45 }));
    const a = s.add('A');
    await s.start(a);
    await s.waitGroup([a]);
    s.produce();
    for (let k = 1; k <= 5; k++) {
      // the k-th kill somewhere in the k-th sixth of the stream, and after some work of the new process
      const from = sumOf(await s.committed());
      await s.waitCommitted(Math.max((k - 0.5 + 0.8 * (s.rnd() - 0.5)) / 6, from / s.n + 0.02));
      await new Promise((r) => setTimeout(r, Math.floor(500 * s.rnd())));
      await s.kill(a);
      await s.start(a);
      await s.waitGroup([a]);
    }
    done(s, await s.finish());
  });

  also?.('6. a paused zombie: A SIGSTOPped until B took over its partitions, then SIGCONT; its late writes change nothing', async function () {
    const s = (sc = await Scenario.create({ label: `scenario 6 seed ${baseSeed}`, seed: baseSeed, streamSec: 30 }));
    const [a, b] = [s.add('A'), s.add('B')];
    await s.start(a, b);
    const first = await s.waitGroup([a, b]);
    s.produce();
    await s.waitCommitted(0.25 + 0.2 * s.rnd());
    const pausedAt = Date.now();
    await s.pause(a);
    const atPause = await s.committed();
    // A's session expires; B gets A's partitions and commits records of them while A is still frozen
    await s.waitTakeover("B's commits on the paused A's partitions", first.A, atPause);
    assert.ok(Date.now() - pausedAt > SESSION_TIMEOUT_MS, 'A was paused longer than its session timeout');
    await s.waitGroup([b]);
    const rowsAtResume = s.rows(a);
    await s.resume(a);
    // A finds itself out of the group, and comes back as a new member
    await s.waitGroup([a, b]);
    s.note(`A wrote ${s.rows(a) - rowsAtResume} readings rows from its SIGCONT until the group was stable again`);
    done(s, await s.finish());
  });
});

describe('reliability > partitions > the harness itself (no broker)', function () {
  this.timeout(60_000);
  let dir = '';
  after(() => dir && removeDir(dir));

  it('counts missing, wrong, duplicated and unexpected rows of CSV files written as the sinks write them', function () {
    // Files made from the references with the lib's CSV cells, read back as the scenarios read them:
    // exact first (0 everywhere), then with one row dropped, one doubled, one changed, one foreign.
    const lib = builtLib();
    const n = READINGS;
    const ref = referencesFor(n, SHAPE);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-partitions-selfcheck-'));
    const data = dataRows();
    const readings: unknown[][] = [];
    for (let i = 0; i < n; i++) readings.push([eventSec(i, SHAPE), ...data[i % data.length], deviceId(i, SHAPE)]);
    const windows = [...ref.windows.values()].map((w) => lib.CSV_WINDOW_COLUMNS.map((k) => (k === 'final' ? true : (w as unknown as Record<string, unknown>)[k])));
    const alerts = [...ref.alerts.values()].map((a) =>
      lib.CSV_ALERT_COLUMNS.map((k) => ({ type: 'STATISTICAL', message: `${a.sensor} z`, ...a } as Record<string, unknown>)[k]),
    );
    assert.deepEqual(lib.CSV_READINGS_HEADER, ['UTC', ...SENSOR_HEADERS, 'device_id']);
    const write = (name: string, header: readonly string[], rows: unknown[][]) => {
      const sub = fs.mkdtempSync(path.join(dir, 'f-'));
      fs.writeFileSync(path.join(sub, name), [lib.csvHeaderLine(header), ...rows.map((r) => lib.csvLine(r))].join('\n') + '\n');
      return readCsv(sub, name.slice(0, name.indexOf('2022')));
    };
    const mutate = (rows: unknown[][], change: (row: unknown[]) => unknown[], foreign: unknown[]) => {
      const out = rows.map((r) => [...r]);
      out.splice(5, 1); // dropped: 1 missing
      out.push([...out[7]]); // doubled: 1 duplicated
      out[9] = change(out[9]); // changed: 1 wrong
      out.push(foreign); // 1 unexpected
      return out;
    };
    const counts = (d: OutputDiff) => [d.missing, d.wrong, d.duplicated, d.unexpected];
    const rh = lib.CSV_READINGS_HEADER;
    assert.deepEqual(counts(readingsDiff(write('historical_smoke_data_2022-06-09.csv', rh, readings), n, SHAPE)), [0, 0, 0, 0]);
    const badReadings = mutate(readings, (r) => r.map((v, k) => (k === 1 ? (v as number) + 0.5 : v)), [eventSec(0, SHAPE), ...data[0], 'dev-9999']);
    assert.deepEqual(counts(readingsDiff(write('historical_smoke_data_2022-06-09.csv', rh, badReadings), n, SHAPE)), [1, 1, 1, 1]);

    const wh = lib.CSV_WINDOW_COLUMNS;
    assert.deepEqual(counts(windowsDiff(write('window_results_2022-06-09.csv', wh, windows), ref.windows)), [0, 0, 0, 0]);
    const count = wh.indexOf('count');
    const foreignWindow = windows[0].map((v, k) => (k === 0 ? 'dev-9999' : v));
    const badWindows = mutate(windows, (r) => r.map((v, k) => (k === count ? (v as number) - 1 : v)), foreignWindow);
    assert.deepEqual(counts(windowsDiff(write('window_results_2022-06-09.csv', wh, badWindows), ref.windows)), [1, 1, 1, 1]);

    const ah = lib.CSV_ALERT_COLUMNS;
    assert.ok(alerts.length > 100, `the reference has z-score alerts to compare (${alerts.length})`);
    assert.deepEqual(counts(alertsDiff(write('zscore_alerts_2022-06-09.csv', ah, alerts), ref.alerts)), [0, 0, 0, 0]);
    const z = ah.indexOf('zScore');
    const foreignAlert = alerts[0].map((v, k) => (k === ah.indexOf('deviceId') ? 'dev-9999' : v));
    const badAlerts = mutate(alerts, (r) => r.map((v, k) => (k === z ? (v as number) * 1.001 : v)), foreignAlert);
    assert.deepEqual(counts(alertsDiff(write('zscore_alerts_2022-06-09.csv', ah, badAlerts), ref.alerts)), [1, 1, 1, 1]);
  });
});
