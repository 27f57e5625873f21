/**
 * The peer section of the benchmark's report (bench/lib/peer-report.ts, issue 17): our full pipeline and
 * our run of the same query as Spark's, each against Spark, in the table and in the targets.
 */
import { strict as assert } from 'node:assert';
import { formatPeer, peerRatios, peerTargets, type PeerReport } from '../../bench/lib/peer-report';
import type { Measured } from '../../bench/lib/report';
import type { PipelineResult } from '../../bench/scenarios/pipeline';
import type { SparkPeerResult } from '../../bench/lib/peer-spark';
import type { WindowsComparison } from '../../bench/lib/windows-compare';

function ours(query: 'full' | 'window', recordsPerSec: number, recordsPerCpuSec: number, over: Partial<PipelineResult> = {}): Measured<PipelineResult> {
  const result = {
    mode: 'batch',
    query,
    readings: 1_000_000,
    recordsPerSec,
    recordsPerCpuSec,
    cpuMs: 1e9 / recordsPerCpuSec,
    processCpuMs: 2e9 / recordsPerCpuSec,
    windowsWritten: 6000,
    ...over,
  } as PipelineResult;
  return { ok: true, result, wallMs: 1e9 / recordsPerSec + 2000, memory: { peakRssMB: 400, peakHeapMB: 200 } };
}

const spark = {
  spark: '4.0.0',
  master: 'local[2]',
  shufflePartitions: 4,
  driverMemory: '1g',
  readings: 1_000_000,
  batches: 3,
  recordsPerSec: 40_000,
  wallRecordsPerSec: 25_000,
  queryCpuMs: 50_000,
  processCpuMs: 60_000,
  recordsPerQueryCpuSec: 20_000,
  recordsPerProcessCpuSec: 16_000,
  peakRssMB: 650,
  setupMs: 9000,
  queryMs: 25_000,
  wallMs: 40_000,
  build: { built: false, ms: 5 },
} as SparkPeerResult;

function windows(equal: number, mismatched = 0): WindowsComparison {
  return { ours: equal + mismatched, peer: equal + mismatched, both: equal + mismatched, equal, mismatched, onlyOurs: 0, onlyPeer: 0, duplicates: 0, maxRelDiff: 2e-14, examples: [] };
}

/** The table as plain cells, separated by " | " (the report pads them; the cells are what is tested). */
function table(head: string[], rows: string[][]): string {
  return [head, ...rows].map((r) => r.join(' | ')).join('\n');
}

const report = (over: Partial<PeerReport> = {}): PeerReport => ({
  peer: 'spark',
  topic: 't',
  ours: ours('full', 60_000, 50_000),
  sameQuery: ours('window', 200_000, 180_000),
  spark,
  windows: windows(6000),
  sameQueryWindows: windows(5999, 1),
  ...over,
});

describe('bench > the Spark peer: the report', function () {
  it('peerRatios gives the full pipeline by default and the same query when asked', function () {
    const p = report();
    assert.deepEqual(peerRatios(p), { rate: 1.5, cpu: 2.5, wallRate: (1e6 / p.ours.wallMs) * 1000 / 25_000, processCpu: ((1e6 / p.ours.result!.processCpuMs) * 1000) / 16_000 });
    const q = peerRatios(p, 'sameQuery');
    assert.equal(q.rate, 5);
    assert.equal(q.cpu, 9);
    assert.deepEqual(peerRatios({ ...p, sameQuery: undefined }, 'sameQuery'), {});
    assert.deepEqual(peerRatios({ ...p, spark: undefined }, 'sameQuery'), {});
  });

  it('the table has a column for the same query and its ratios beside the full pipeline', function () {
    const lines = formatPeer(report(), table).join('\n').split('\n');
    assert.equal(lines[1], ' | ours | ours, same query | Spark | ours better by | same query better by');
    const row = (label: string) => lines.find((l) => l.startsWith(`${label} |`))?.split(' | ');
    assert.deepEqual(row('readings/s, processing *'), ['readings/s, processing *', '60,000', '200,000', '40,000', '1.5×', '5.0×']);
    assert.deepEqual(row('readings per CPU-s, processing *'), ['readings per CPU-s, processing *', '50,000', '180,000', '20,000', '2.5×', '9.0×']);
    assert.deepEqual(row('CPU-s, processing *'), ['CPU-s, processing *', '20.0', '5.6', '50.0', '2.5×', '9.0×']);
    assert.deepEqual(row('final windows'), ['final windows', '6,000', '6,000', '6,000', '', '']);
    assert.ok(lines.some((l) => l.startsWith("Same query's final windows compared") && l.includes('5,999 equal, 1 mismatched')), lines.join('\n'));
  });

  it("says what the CPU goal leaves per reading beside each side's cost, and the Kafka client's when (b) ran too", function () {
    const line = (client?: { recordsPerCpuSec: number }) => formatPeer(report(), table, client).find((l) => l.startsWith('CPU-µs per reading'));
    assert.equal(
      line(),
      "CPU-µs per reading (processing): Spark's query 50.0; ≥ 5× its readings per CPU-s leaves 10.0; ours, same query 5.6; ours, full pipeline 20.0",
    );
    assert.equal(
      line({ recordsPerCpuSec: 400_000 }),
      "CPU-µs per reading (processing): Spark's query 50.0; ≥ 5× its readings per CPU-s leaves 10.0; the Kafka client alone ((b): kafkajs + JSON.parse, kafka in's fetch settings) 2.5; ours, same query 5.6; ours, full pipeline 20.0",
    );
    assert.equal(formatPeer(report({ spark: undefined }), table).find((l) => l.startsWith('CPU-µs per reading')), undefined);
  });

  it('a failed same-query run is said, and its cells are empty', function () {
    const lines = formatPeer(report({ sameQuery: { ok: false, error: 'boom\nstack', wallMs: 1 }, sameQueryWindows: undefined }), table);
    assert.ok(lines.includes('  ours, same query: FAILED boom'), lines.join('\n'));
    const rate = lines.join('\n').split('\n').find((l) => l.startsWith('readings/s, processing *'))!.split(' | ');
    assert.deepEqual(rate, ['readings/s, processing *', '60,000', '–', '40,000', '1.5×', '–']);
  });

  it('the targets keep the full pipeline rows and add the same query against the same goals', function () {
    const t = peerTargets(report());
    assert.deepEqual(
      t.map((x) => [x.name, x.pass]),
      [
        ['readings/s vs Spark (processing)', false],
        ['readings per CPU-s vs Spark (processing)', false],
        ["final windows equal to Spark's", true],
        ['same query: readings/s vs Spark (processing)', true],
        ['same query: readings per CPU-s vs Spark (processing)', true],
        ["same query: final windows equal to Spark's", false],
      ],
    );
    assert.equal(t[3].value, '5.0× (200,000 vs 40,000)');
    const none = peerTargets(report({ sameQuery: undefined, sameQueryWindows: undefined }));
    assert.deepEqual(none.slice(3).map((x) => [x.value, x.pass]), [['–', null], ['–', null], ['–', null]]);
  });
});
