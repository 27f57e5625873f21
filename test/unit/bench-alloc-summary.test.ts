/**
 * The allocation summary of `npm run bench -- --profile` (bench/alloc-summary.ts, issue 17): bytes of a
 * sampled allocation profile by owner and by function, a builtin's bytes charged to its nearest caller
 * with an owner, and bytes per reading.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatAllocations, summariseAllocations } from '../../bench/alloc-summary';

const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 9, columnNumber: 0, scriptId: '1' });
const node = (functionName: string, url: string, selfSize: number, children: unknown[] = []) => ({ callFrame: frame(functionName, url), selfSize, id: 0, children });

describe('bench allocation summary', () => {
  let file: string;
  before(() => {
    // (root) → emit (kafka in's consumer) → JSON.parse (a builtin: no URL) ; (root) → process (zscore lib).
    const head = node('(root)', '', 0, [
      node('emit', 'file:///x/dist/nodes/nr/consumer-emit.js', 1000, [node('parse', '', 3000)]),
      node('process', 'file:///x/dist/nodes/lib/zscore.js', 4000),
      node('(V8 API)', '', 2000),
    ]);
    file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'alloc-')), 'run.heapprofile');
    fs.writeFileSync(file, JSON.stringify({ head, samples: [] }));
  });

  it('charges a builtin to its caller and gives bytes per reading', () => {
    const s = summariseAllocations(file, 10, 100);
    assert.equal(s.totalMb, 10_000 / 1e6);
    assert.deepEqual(
      s.byOwner.map((e) => [e.name, e.perReading]),
      [
        ['lib/zscore', 40],
        ['nr/consumer-emit', 40],
        ['root', 20],
      ],
    );
    assert.deepEqual(
      s.topSelf.map((e) => [e.name, e.owner, e.perReading]),
      [
        ['process', 'lib/zscore', 40],
        ['parse', 'nr/consumer-emit', 30],
        ['(V8 API)', 'root', 20],
        ['emit', 'nr/consumer-emit', 10],
      ],
    );
    assert.equal(s.byOwner[0].pct, 40);
  });

  it('leaves bytes per reading out when the readings are unknown, and prints both lists', () => {
    const s = summariseAllocations(file, 2);
    assert.equal(s.byOwner[0].perReading, undefined);
    assert.equal(s.topSelf.length, 2);
    const text = formatAllocations(summariseAllocations(file, 2, 100));
    assert.match(text, /0 MB allocated \(sampled\), 100 bytes per reading/);
    assert.match(text, /40\.0 %\s+40 B\/reading\s+process\s+dist\/nodes\/lib\/zscore\.js:10\s+\[lib\/zscore\]/);
  });
});
