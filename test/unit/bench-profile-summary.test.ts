/**
 * The CPU summary of `npm run bench -- --profile` (bench/profile-summary.ts, issue 17): self time by
 * owner and by function, a builtin's time charged to its nearest caller with an owner, and a builtin
 * called by several owners listed once per owner (kafkajs' response concatenation and the CSV sink's
 * copies are both `_copyActual` of node:buffer).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatSummary, summariseProfile } from '../../bench/profile-summary';

const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 9, columnNumber: 0 });

describe('bench CPU profile summary', () => {
  let file: string;
  before(() => {
    // (root) 1 → processData (kafkajs) 2 → concat (node:buffer) 3 → _copyActual (node:buffer) 4
    //          → takeBytes (lib/csv-bytes) 5 → copy (node:buffer) 6 → _copyActual (node:buffer) 7
    //          → (idle) 8
    const nodes = [
      { id: 1, callFrame: frame('(root)', ''), children: [2, 5, 8] },
      { id: 2, callFrame: frame('processData', 'file:///x/node_modules/kafkajs/src/network/connection.js'), children: [3] },
      { id: 3, callFrame: frame('concat', 'node:buffer'), children: [4] },
      { id: 4, callFrame: frame('_copyActual', 'node:buffer'), children: [] },
      { id: 5, callFrame: frame('takeBytes', 'file:///x/dist/nodes/lib/csv-bytes.js'), children: [6] },
      { id: 6, callFrame: frame('copy', 'node:buffer'), children: [7] },
      { id: 7, callFrame: frame('_copyActual', 'node:buffer'), children: [] },
      { id: 8, callFrame: frame('(idle)', ''), children: [] },
    ];
    // Self time (µs): 30 ms of copying under kafkajs, 10 ms under the CSV bytes, 5 ms in takeBytes, 5 ms idle.
    const samples: number[] = [];
    const timeDeltas: number[] = [];
    const add = (id: number, ms: number) => {
      for (let i = 0; i < ms; i++) {
        samples.push(id);
        timeDeltas.push(1000);
      }
    };
    add(4, 30);
    add(7, 10);
    add(5, 5);
    add(8, 5);
    file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cpu-')), 'run.cpuprofile');
    fs.writeFileSync(file, JSON.stringify({ nodes, startTime: 0, endTime: 50_000, samples, timeDeltas }));
  });

  it('charges a builtin to its caller, and lists one called by two owners once per owner', () => {
    const s = summariseProfile(file, 10);
    assert.equal(s.totalMs, 50);
    assert.equal(s.busyPct, 90);
    assert.deepEqual(
      s.byOwner.map((e) => [e.name, e.ms]),
      [
        ['kafkajs', 30],
        ['lib/csv-bytes', 15],
        ['idle', 5],
      ],
    );
    assert.deepEqual(
      s.topSelf.filter((e) => e.name === '_copyActual').map((e) => [e.owner, e.ms]),
      [
        ['kafkajs', 30],
        ['lib/csv-bytes', 10],
      ],
    );
    assert.match(formatSummary(s), /30 ms\s+_copyActual\s+node:buffer:10\s+\[kafkajs\]/);
  });
});
