/**
 * The window comparison of the benchmark's Spark peer (bench/lib/windows-compare.ts, issue 17): what
 * counts as the same final windows on both sides, and how a Spark file sink's committed files are read.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REL_TOLERANCE, type WindowRow, compareWindows, readSparkFileSink, relDiff, sameWindows } from '../../bench/lib/windows-compare';

function win(deviceId: string, minute: number, over: Record<string, unknown> = {}): WindowRow {
  return {
    deviceId,
    windowStart: minute * 60_000,
    windowEnd: (minute + 5) * 60_000,
    count: 300,
    fireAlarmCount: 0,
    avgTemperature: 21.25,
    avgHumidity: 50.5,
    avgTvoc: 120,
    avgEco2: 410,
    avgPm25: 1.5,
    avgPressure: 938.2,
    maxTemperature: 23,
    minTemperature: 20,
    stddevTemperature: 0.75,
    ...over,
  };
}

describe('bench > the Spark peer: windows compared', function () {
  it('the same windows in another order, with last-bit differences and nulls left out by Spark, are equal', function () {
    const ours = [win('a', 0), win('a', 1, { stddevTemperature: null }), win('b', 0)];
    const spark = [win('b', 0, { avgTemperature: 21.25 * (1 + 1e-13) }), win('a', 1), win('a', 0)];
    delete (spark[1] as Record<string, unknown>).stddevTemperature;
    const c = compareWindows(ours, spark);
    assert.deepEqual([c.both, c.equal, c.mismatched, c.onlyOurs, c.onlyPeer, c.duplicates], [3, 3, 0, 0, 0, 0]);
    assert.ok(c.maxRelDiff > 0 && c.maxRelDiff < REL_TOLERANCE);
    assert.ok(sameWindows(c));
  });

  it('a value off by more than rounding, a window on one side only and a window twice are each reported', function () {
    const ours = [win('a', 0), win('a', 1), win('a', 1), win('c', 0)];
    const spark = [win('a', 0, { avgPm25: 1.5001 }), win('a', 1), win('d', 0)];
    const c = compareWindows(ours, spark);
    assert.deepEqual([c.both, c.equal, c.mismatched, c.onlyOurs, c.onlyPeer, c.duplicates], [2, 1, 1, 1, 1, 1]);
    assert.ok(c.examples.some((e) => e.includes('avgPm25')), c.examples.join(' | '));
    assert.equal(sameWindows(c), false);
    assert.equal(sameWindows(compareWindows([], [])), false, 'no windows at all is no proof');
  });

  it('relDiff: absolute below 1, relative above, null only equal to null', function () {
    assert.equal(relDiff(null, null), 0);
    assert.equal(relDiff(0, null), Infinity);
    assert.ok(relDiff(1e-12, 0) <= REL_TOLERANCE);
    assert.ok(relDiff(1e6, 1e6 + 1e-4) <= REL_TOLERANCE);
    assert.ok(relDiff(1e6, 1e6 + 1) > REL_TOLERANCE);
  });

  it('reads only the files the sink log committed, and not those a later entry deleted', function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spark-sink-'));
    try {
      const part = (name: string, rows: WindowRow[]) => {
        fs.writeFileSync(path.join(dir, name), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
        return new URL(`file://${path.join(dir, name)}`).href;
      };
      const p0 = part('part-0.json', [win('a', 0)]);
      const p1 = part('part-1.json', [win('a', 1), win('b', 1)]);
      const p2 = part('part-2.json', [win('x', 9)]);
      part('part-orphan.json', [win('orphan', 0)]); // a failed batch's file: in no log entry
      fs.mkdirSync(path.join(dir, '_spark_metadata'));
      const entry = (p: string, action: string) => JSON.stringify({ path: p, size: 1, isDir: false, modificationTime: 0, blockReplication: 1, blockSize: 1, action });
      fs.writeFileSync(path.join(dir, '_spark_metadata', '0'), ['v1', entry(p0, 'add'), entry(p2, 'add')].join('\n'));
      fs.writeFileSync(path.join(dir, '_spark_metadata', '1'), ['v1', entry(p1, 'add'), entry(p2, 'delete')].join('\n'));
      const rows = readSparkFileSink(dir);
      assert.deepEqual(rows.map((r) => `${r.deviceId}@${r.windowStart}`).sort(), ['a@0', 'a@60000', 'b@60000']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
