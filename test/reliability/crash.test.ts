/**
 * Crash: 200,000 readings through the Kafka pipeline in a child Node-RED (real runtime, its own user
 * directory, the package linked in node_modules, the localfilesystem context store for the window
 * checkpoint), SIGKILLed at a random point and started again on the same user directory. At the end,
 * the historical CSV holds every reading exactly once (after-sink commits, positions in the changelog,
 * uncommitted rows cut after the crash), and the window results agree, row for row, with a brute-force
 * computation of the final windows over all readings (what an uninterrupted run gives).
 *
 * SMOKE_SEED=<n> repeats a run's kill point; SMOKE_CRASH_READINGS overrides the stream length;
 * SMOKE_KEEP_ARTIFACTS=1 keeps the user directory (CSV files, node-red.log, context at the kill).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createTopic, requireKafka, uniqueTopic } from '../kafka/broker';
import { committedOffsets, endOffsets, sleep } from '../kafka/_kafka-nodes';
import { DEFAULT_SHAPE, SENSOR_HEADERS, dataRows, deviceId, eventSec, prng, produceReadings, runSeed, testProducer } from './_data';
import { readCsv, referenceWindows, windowDiff, windowKey, type CsvContent } from './_check';
import { pipelineFlow } from './_pipeline';
import { NodeRedChild, createUserDir, killLeftovers, removeDir } from './_runtime';

const N = Number(process.env.SMOKE_CRASH_READINGS) || 200_000;
const sum = (o: Record<number, number>) => Object.values(o).reduce((a, b) => a + Math.max(0, b), 0);

interface CrashRun {
  seed: number;
  killTarget: number;
  committedAtKill: number;
  rowsAtKill: number;
  windowsAtKill: Record<string, number>;
  produceMs: number;
  streamMs: number;
  readings: CsvContent;
  windows: CsvContent;
}

describe('reliability > crash (SIGKILL mid-stream, restart)', function () {
  this.timeout(360_000);
  let userDir = '';
  let run: CrashRun | null = null;

  before(async function () {
    await requireKafka(this);
    const seed = runSeed();
    const rnd = prng(seed);
    const topic = uniqueTopic('rel-crash');
    const groupId = `${topic}-group`;
    await createTopic(topic, 4);
    const t0 = Date.now();
    const producer = await testProducer();
    try {
      await produceReadings(producer, topic, 0, N);
    } finally {
      await producer.disconnect();
    }
    const produceMs = Date.now() - t0;
    assert.equal(sum(await endOffsets(topic)), N, 'records in the topic');

    userDir = createUserDir({ flow: [] });
    const folder = path.join(userDir, 'csv');
    fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(pipelineFlow({ topic, groupId, folder })));
    const nr = new NodeRedChild(userDir);
    const keepLog = () => process.env.SMOKE_KEEP_ARTIFACTS && fs.writeFileSync(path.join(userDir, 'node-red.log'), nr.log());

    // Kill once a random share (20–80 %) of the stream is committed, plus a random 0–1.5 s.
    const killTarget = Math.floor(N * (0.2 + 0.6 * rnd()));
    const extraMs = Math.floor(1500 * rnd());
    const t1 = Date.now();
    try {
      await nr.start();
      let committed: Record<number, number> = {};
      for (let deadline = Date.now() + 180_000; sum((committed = await committedOffsets(groupId, topic))) < killTarget; ) {
        if (!nr.running) throw new Error(`Node-RED exited:\n${nr.log().slice(-3000)}`);
        if (Date.now() > deadline) throw new Error(`only ${sum(committed)} of ${killTarget} committed after 180 s:\n${nr.log().slice(-3000)}`);
        await sleep(100);
      }
      await sleep(extraMs);
      await nr.kill();
      const committedAtKill = sum(await committedOffsets(groupId, topic));
      const rowsAtKill = readCsv(folder, 'historical_smoke_data_').rows.length;
      const windowsAtKill = readCsv(folder, 'window_results_').counts;
      if (process.env.SMOKE_KEEP_ARTIFACTS && fs.existsSync(path.join(userDir, 'context'))) {
        fs.cpSync(path.join(userDir, 'context'), path.join(userDir, 'context-at-kill'), { recursive: true });
      }

      await nr.start();
      for (let deadline = Date.now() + 240_000; sum((committed = await committedOffsets(groupId, topic))) < N; ) {
        if (!nr.running) throw new Error(`Node-RED exited after the restart:\n${nr.log().slice(-3000)}`);
        if (Date.now() > deadline) throw new Error(`only ${sum(committed)} of ${N} committed 240 s after the restart:\n${nr.log().slice(-3000)}`);
        await sleep(200);
      }
      const streamMs = Date.now() - t1;
      // A clean stop drains the window results sink (its rows carry no Kafka acknowledgement).
      assert.equal(await nr.stop(), 0, `Node-RED stopped cleanly:\n${nr.log().slice(-2000)}`);
      keepLog();
      run = {
        seed,
        killTarget,
        committedAtKill,
        rowsAtKill,
        windowsAtKill,
        produceMs,
        streamMs,
        readings: readCsv(folder, 'historical_smoke_data_'),
        windows: readCsv(folder, 'window_results_'),
      };
      console.log(
        `      seed ${seed}: ${N} readings produced in ${(produceMs / 1000).toFixed(1)} s, streamed through 2 runtimes in ${(streamMs / 1000).toFixed(1)} s;` +
          ` SIGKILL at ${committedAtKill} committed (target ${killTarget} + ${extraMs} ms; ${rowsAtKill} rows on disk)`,
      );
    } catch (err) {
      keepLog();
      throw err;
    }
  });

  after(function () {
    killLeftovers();
    if (userDir && !process.env.SMOKE_KEEP_ARTIFACTS) removeDir(userDir);
  });

  it(`the historical CSV holds every one of the ${N.toLocaleString('en')} readings exactly once, as produced`, function () {
    const r = run as CrashRun;
    const { header, rows: csvRows } = r.readings;
    const col = (name: string) => header.indexOf(name);
    const [cUtc, cDev] = [col('UTC'), col('device_id')];
    const sensorCols = SENSOR_HEADERS.map(col);
    const seen = new Map<string, number>();
    for (const row of csvRows) {
      const k = `${row[cDev]}|${row[cUtc]}`;
      seen.set(k, (seen.get(k) ?? 0) + 1);
    }
    const missing: number[] = [];
    for (let i = 0; i < N; i++) if (!seen.has(`${deviceId(i, DEFAULT_SHAPE)}|${eventSec(i, DEFAULT_SHAPE)}`)) missing.push(i);
    const data = dataRows();
    const wrong: string[] = [];
    const { startSec, stepSec, devices } = DEFAULT_SHAPE;
    for (const row of csvRows) {
      const i = ((Number(row[cUtc]) - startSec) / stepSec) * devices + Number(row[cDev].slice(4));
      const want = data[i % data.length];
      if (sensorCols.some((c, k) => Number(row[c]) !== want[k])) wrong.push(row.join(','));
    }
    const duplicates = csvRows.length - seen.size;
    console.log(`      historical CSV: ${csvRows.length} rows, ${seen.size} distinct readings, ${duplicates} duplicates, ${missing.length} missing`);
    assert.deepEqual(missing.slice(0, 20), [], `${missing.length} readings missing from the historical CSV`);
    assert.equal(seen.size, N, 'no row that was not produced');
    assert.deepEqual(wrong.slice(0, 5), [], 'rows hold the values produced');
    // Exactly-once: the rows of redelivered records were either committed (skipped) or cut after the crash.
    assert.equal(duplicates, 0, 'no reading written twice');
  });

  it('the window results equal the final windows of an uninterrupted run (checkpoint and Kafka replay agree)', function () {
    const r = run as CrashRun;
    const ref = referenceWindows(N);
    const { header, rows } = r.windows;
    const afterKill = r.windows.after(r.windowsAtKill);
    const written = new Map<string, number>();
    const differ: string[] = [];
    let differAfter = 0;
    rows.forEach((row, k) => {
      const w = Object.fromEntries(header.map((h, i) => [h, row[i]]));
      const key = windowKey(w.deviceId, Number(w.windowStart));
      written.set(key, (written.get(key) ?? 0) + 1);
      const want = ref.get(key);
      const diff = want ? windowDiff(w, want) : [`not a final window of the stream (final=${w.final})`];
      if (diff.length > 0) {
        differ.push(`${key}${afterKill[k] ? ' (after the restart)' : ''}: ${diff.slice(0, 3).join(', ')}`);
        if (afterKill[k]) differAfter++;
      }
    });
    const missing = [...ref.keys()].filter((k) => !written.has(k));
    const duplicates = rows.length - written.size;
    console.log(
      `      window results: ${ref.size} final windows expected; ${rows.length} rows (${afterKill.filter((a) => !a).length} before the kill),` +
        ` ${duplicates} duplicates, ${missing.length} missing, ${differ.length} differ (${differAfter} written after the restart)`,
    );
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} final windows never written`);
    assert.deepEqual(differ.slice(0, 10), [], `${differ.length} window results differ from an uninterrupted run`);
    assert.equal(duplicates, 0, 'no window written twice');
  });
});
