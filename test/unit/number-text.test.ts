import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { fmt } from '../../nodes/lib/detector';
import { numberText, significantDigits, thousandthsText } from '../../nodes/lib/number-text';

/** What fmt is specified as (the one-line definition it replaces on the hot path). */
function fmtReference(n: number): string {
  if (Number.isInteger(n)) return String(n);
  const a = Math.abs(n);
  return a >= 1e-3 && a < 1e15 ? String(Number(n.toPrecision(6))) : n.toPrecision(4);
}

/** Numbers with at most `decimals` decimals, of magnitude up to about 10^digits, either sign. */
const decimal = (digits: number, decimals: number) =>
  fc
    .tuple(fc.integer({ min: 0, max: 10 ** Math.min(digits + decimals, 15) }), fc.integer({ min: 0, max: decimals }), fc.boolean())
    .map(([m, d, neg]) => (neg ? -1 : 1) * (m / 10 ** d));

/** A double and its immediate neighbours (next and previous representable values). */
function neighbours(x: number): number[] {
  const f = new Float64Array([x]);
  const u = new BigInt64Array(f.buffer);
  const out = [x];
  for (const step of [-2n, -1n, 1n, 2n]) {
    const g = new Float64Array(1);
    new BigInt64Array(g.buffer)[0] = u[0] + step;
    if (Number.isFinite(g[0])) out.push(g[0]);
  }
  return out;
}

const EDGES = [
  0, -0, 1, -1, 0.1, 0.001, 0.0005, 0.0015, 0.1 + 0.2, 20.945, -20.945, 939.735, 1654712187.123, 999999999999.999, 1e12, 1e12 - 0.001,
  123456789012.5, 2 ** 53, 1e15, 1e21, 1e-7, 5e-324, Number.MAX_VALUE, NaN, Infinity, -Infinity, 999999.5, 999999.4, 123450.2, 1.0000005,
];

describe('number-text > numberText', function () {
  it('gives exactly String(n) for edge values and their neighbouring doubles', function () {
    for (const x of EDGES.flatMap(neighbours)) assert.equal(numberText(x), String(x), `n = ${x}`);
  });

  it('gives exactly String(n) for every number of thousandths from -1000 to 1000', function () {
    for (let m = -1_000_000; m <= 1_000_000; m++) {
      const x = m / 1000;
      if (numberText(x) !== String(x)) assert.equal(numberText(x), String(x), `n = ${x}`);
    }
  });

  it('gives exactly String(n) for decimals, neighbours of decimals and any double (property)', function () {
    fc.assert(
      fc.property(fc.oneof(decimal(12, 3), decimal(4, 6), fc.double()), (x) => {
        for (const y of neighbours(x)) assert.equal(numberText(y), String(y), `n = ${y}`);
      }),
      { numRuns: 20_000 },
    );
  });

  it('puts together only non-integers with at most three decimals below 10^12', function () {
    assert.equal(thousandthsText(20.945), '20.945');
    assert.equal(thousandthsText(-0.5), '-0.5');
    assert.equal(thousandthsText(0.001), '0.001');
    assert.equal(thousandthsText(12), undefined);
    assert.equal(thousandthsText(0.0005), undefined);
    assert.equal(thousandthsText(0.1 + 0.2), undefined);
    assert.equal(thousandthsText(1e12 + 0.5), undefined);
    assert.equal(thousandthsText(NaN), undefined);
  });

  it('counts significant digits from the first non-zero digit', function () {
    assert.equal(significantDigits('-0.00120'), 3);
    assert.equal(significantDigits('20.945'), 5);
    assert.equal(significantDigits('100.5'), 4);
    assert.equal(significantDigits('0'), 0);
  });
});

describe('detector > fmt', function () {
  it('equals String(Number(n.toPrecision(6))) in 0.001 … 10^15 and toPrecision(4) outside (edge values)', function () {
    for (const x of EDGES.flatMap(neighbours)) assert.equal(fmt(x), fmtReference(x), `n = ${x}`);
  });

  it('equals its reference for sensor-like decimals, z-scores and any double (property)', function () {
    fc.assert(
      fc.property(fc.oneof(decimal(6, 3), decimal(9, 4), fc.double({ min: -1e7, max: 1e7 }), fc.double()), (x) => {
        assert.equal(fmt(x), fmtReference(x), `n = ${x}`);
      }),
      { numRuns: 50_000 },
    );
  });
});
