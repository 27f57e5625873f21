import { strict as assert } from 'node:assert';
import { cutOf, groupRanges, placeRows, type PlacedRows } from '../../nodes/lib/csv-cuts';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('csv cuts > placeRows', function () {
  it('places the first group after the header line in an empty file', function () {
    const placed = placeRows(0, 'a,b', [{ group: 'p0', buf: b('1,2\n') }]);
    assert.deepEqual(placed.map((p) => [p.group, p.start]), [['p0', 4]]);
  });

  it('counts the header in bytes, not characters', function () {
    const placed = placeRows(0, 'é', [{ group: 'p0', buf: b('x\n') }]);
    assert.equal(placed[0].start, 3);
  });

  it("places groups one after the other from an existing file's end", function () {
    const placed = placeRows(100, 'a,b', [
      { group: 'p0', buf: b('1,2\n') },
      { group: 'p1', buf: b('3,4\n5,6\n') },
    ]);
    assert.deepEqual(placed.map((p) => [p.group, p.start, p.buf.length]), [['p0', 100, 4], ['p1', 104, 8]]);
  });
});

describe('csv cuts > cutOf', function () {
  const parts: PlacedRows[] = [
    { group: 'p0', start: 100, buf: b('A\n') },
    { group: 'p1', start: 102, buf: b('B\n') },
    { group: 'p2', start: 104, buf: b('C\n') },
  ];

  it('is null when no failed group has rows in the file', function () {
    assert.equal(cutOf(parts, 100, new Set(['p9'])), null);
  });

  it('cuts an aborted tail back to its start, keeping nothing', function () {
    const c = cutOf(parts, 100, new Set(['p2']));
    assert.deepEqual(c && { at: c.at, keep: c.keep.toString() }, { at: 104, keep: '' });
  });

  it('cuts at the first aborted range and appends the committed rows after it again', function () {
    const c = cutOf(parts, 100, new Set(['p0', 'p2']));
    assert.deepEqual(c && { at: c.at, keep: c.keep.toString() }, { at: 100, keep: 'B\n' });
  });

  it('keeps every committed group after the cut, in file order', function () {
    const c = cutOf(parts, 100, new Set(['p0']));
    assert.deepEqual(c && { at: c.at, keep: c.keep.toString() }, { at: 100, keep: 'B\nC\n' });
  });

  it("goes back to the file's size before the flush when nothing of it stays (a new file's header too)", function () {
    const fresh: PlacedRows[] = [{ group: 'p0', start: 4, buf: b('A\n') }];
    const c = cutOf(fresh, 0, new Set(['p0']));
    assert.deepEqual(c && { at: c.at, keep: c.keep.length }, { at: 0, keep: 0 });
  });
});

describe('csv cuts > groupRanges', function () {
  it("gives each group its [start, end) per file, and {} to a group without rows, in the groups' order", function () {
    const groups = new Map([
      ['p1', { tags: ['t1'] }],
      ['p0', { tags: [] }],
      ['p2', { tags: ['t2', 't3'] }],
    ]);
    const files = [
      { name: 'a.csv', parts: [{ group: 'p1', start: 10, buf: b('xy\n') }, { group: 'p2', start: 13, buf: b('z\n') }] },
      { name: 'b.csv', parts: [{ group: 'p2', start: 0, buf: b('w\n') }] },
    ];
    assert.deepEqual(groupRanges(groups, files), [
      { group: 'p1', tags: ['t1'], ranges: { 'a.csv': [10, 13] } },
      { group: 'p0', tags: [], ranges: {} },
      { group: 'p2', tags: ['t2', 't3'], ranges: { 'a.csv': [13, 15], 'b.csv': [0, 2] } },
    ]);
  });

  it('keeps a file named "__proto__" as an own range, not the prototype', function () {
    const [g] = groupRanges(new Map([['p0', { tags: [] }]]), [{ name: '__proto__', parts: [{ group: 'p0', start: 5, buf: b('a\n') }] }]);
    assert.ok(Object.prototype.hasOwnProperty.call(g.ranges, '__proto__'));
    assert.deepEqual(Object.entries(g.ranges), [['__proto__', [5, 7]]]);
    assert.equal(Object.getPrototypeOf(g.ranges), Object.prototype);
  });
});
