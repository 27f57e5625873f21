/**
 * Snapshots of the detectors' per-device state (checkpoints of a Kafka partition's state): a detector
 * restored from a snapshot, after a JSON round trip, continues exactly as one that never stopped.
 */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { BYTE_ORDER, type Detector, type DetectorSnapshot } from '../../nodes/lib/detector';
import { FirePatternDetector } from '../../nodes/lib/fire-pattern';
import { KeyedState } from '../../nodes/lib/keyed-state';
import { ThresholdDetector, defaultRules } from '../../nodes/lib/thresholds';
import type { Alert, EmitMode, Reading } from '../../nodes/lib/types';
import { ZScoreDetector, type ZScoreOptions } from '../../nodes/lib/zscore';
import { reading } from './_reading';

/** One reading and the caller's clock when it arrives. */
interface Event {
  reading: Reading;
  now: number;
}

/** Feed events as the node adapter does (sweep, then process); the alerts of each event. */
function feed(d: Detector, events: readonly Event[]): Alert[][] {
  return events.map(({ reading: r, now }) => {
    d.sweep(now);
    const out: Alert[] = [];
    assert.equal(d.process(r, now, out), out.length);
    return out;
  });
}

/** A snapshot as it comes back from a changelog topic. */
const viaJson = (s: unknown): unknown => JSON.parse(JSON.stringify(s));

const ids = (d: Detector): string[] => (d.snapshot() as DetectorSnapshot).devices.map((x) => x[0]);

/**
 * A step of a stream: a device's reading sent `times` times in a row (runs of equal values, σ = 0),
 * `gap` ms after the previous one (long gaps let devices go idle).
 */
interface Step {
  dev: string | undefined;
  values: Partial<Reading>;
  times: number;
  gap: number;
}

function events(steps: readonly Step[]): Event[] {
  const out: Event[] = [];
  let now = 1_700_000_000_000;
  for (const s of steps) {
    for (let i = 0; i < s.times; i++) {
      now += s.gap;
      const r = reading({ ...s.values, timestamp: now - 7 });
      if (s.dev === undefined) delete (r as Partial<Reading>).deviceId;
      else r.deviceId = s.dev;
      out.push({ reading: r, now });
    }
  }
  return out;
}

function stepArb(values: fc.Arbitrary<Partial<Reading>>): fc.Arbitrary<Step> {
  return fc.record({
    dev: fc.constantFrom<string | undefined>('a', 'b', 'c', undefined),
    values,
    times: fc.integer({ min: 1, max: 4 }),
    gap: fc.oneof(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 2_500 })),
  });
}

/**
 * The checkpoint property: A reads the whole stream; B reads a prefix and is snapshotted; a new C,
 * which had state of its own, restores B's snapshot (through JSON) and reads the rest. C's alerts are
 * A's, field for field, and C ends in A's state.
 */
function checkpointProperty(make: () => Detector, steps: fc.Arbitrary<Step[]>, numRuns = 300): void {
  fc.assert(
    fc.property(steps, fc.nat(), (st, cut) => {
      const ev = events(st);
      const k = cut % (ev.length + 1);
      const a = make();
      const expected = feed(a, ev).slice(k);
      const b = make();
      feed(b, ev.slice(0, k));
      const saved = viaJson(b.snapshot());
      const c = make();
      feed(c, ev.slice(k).slice(0, 3)); // state of its own, which the restore replaces
      assert.equal(c.restore(saved), true);
      assert.deepStrictEqual(c.snapshot(), saved, 'restored state snapshots as it was saved');
      assert.equal(c.devices, b.devices);
      assert.deepStrictEqual(feed(c, ev.slice(k)), expected);
      assert.deepStrictEqual(c.snapshot(), a.snapshot());
    }),
    { numRuns },
  );
}

/** A z-score value: thousandths, doubles that force the wide form, huge ones, repeats (σ = 0), null. */
const zValue: fc.Arbitrary<number | null> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 4, arbitrary: fc.constantFrom(0, 1, 20.5, -0) },
  { weight: 4, arbitrary: fc.integer({ min: -100_000, max: 100_000 }).map((n) => n / 1000) },
  { weight: 1, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.constantFrom(0.1 + 0.2, 3e9, -2147483.648, 2147483.647, 1e300) },
);

const zSteps = fc.array(stepArb(fc.record({ temperature: zValue, humidity: zValue, pm2_5: zValue })), { minLength: 1, maxLength: 60 });

const zOptions: fc.Arbitrary<ZScoreOptions> = fc
  .record({
    windowSize: fc.integer({ min: 2, max: 10 }),
    minFrac: fc.double({ min: 0, max: 1, noNaN: true }),
    sensors: fc.subarray(['temperature', 'humidity', 'pm2_5'], { minLength: 1 }),
    maxDevices: fc.constantFrom(0, 2, 3),
    idleMs: fc.constantFrom(0, 3_000),
  })
  .map(({ minFrac, ...o }) => ({ ...o, minValues: 2 + Math.floor(minFrac * (o.windowSize - 2)), zMedium: 1.2, zHigh: 1.8 }));

const formsOf = (s: DetectorSnapshot): [string, string][] => s.devices.map((x) => [x[0], x[2]]);

describe('zscore > snapshot', function () {
  for (const emit of ['every', 'change'] as const) {
    it(`a detector restored from a snapshot raises exactly the alerts of one that never stopped (emit: ${emit})`, function () {
      fc.assert(
        fc.property(zOptions, zSteps, fc.nat(), (opts, st, cut) => {
          const make = (): ZScoreDetector => new ZScoreDetector({ ...opts, emit });
          const ev = events(st);
          const k = cut % (ev.length + 1);
          const a = make();
          const expected = feed(a, ev).slice(k);
          const b = make();
          feed(b, ev.slice(0, k));
          const saved = viaJson(b.snapshot());
          const c = make();
          feed(c, ev.slice(k).slice(0, 3));
          assert.equal(c.restore(saved), true);
          assert.deepStrictEqual(c.snapshot(), saved);
          assert.deepStrictEqual(feed(c, ev.slice(k)), expected);
          assert.deepStrictEqual(c.snapshot(), a.snapshot());
        }),
        { numRuns: 400 },
      );
    });
  }

  it('continues bit for bit with the default window (100 values, 30 to score) across a checkpoint', function () {
    checkpointProperty(
      () => new ZScoreDetector({ emit: 'change', sensors: ['temperature', 'humidity', 'pm2_5'] }),
      fc.array(stepArb(fc.record({ temperature: zValue, humidity: zValue, pm2_5: zValue })), { minLength: 20, maxLength: 120 }),
      100,
    );
  });

  it('is plain JSON: the device list, least recently used first, with each device\'s last-used time', function () {
    const d = new ZScoreDetector({ windowSize: 4, minValues: 2, sensors: ['temperature'] });
    d.process(reading({ deviceId: 'x', temperature: 1 }), 100, []);
    d.process(reading({ deviceId: 'y', temperature: 2 }), 200, []);
    d.process(reading({ deviceId: 'x', temperature: 3 }), 300, []);
    const s = d.snapshot();
    assert.deepStrictEqual(viaJson(s), s);
    assert.equal(s.sig, `zscore/1 window=4 sensors=temperature bytes=${BYTE_ORDER}`);
    assert.deepStrictEqual(
      s.devices.map((x) => [x[0], x[1], x[2]]),
      [
        ['y', 200, 'q'],
        ['x', 300, 'q'],
      ],
    );
    // 8 running figures (doubles) and 4 thousandths (Int32) for the one sensor.
    assert.equal(Buffer.from(s.devices[0][3], 'base64').length, 8 * 8);
    assert.equal(Buffer.from(s.devices[0][4], 'base64').length, 4 * 4);
    // The windows' bytes in the platform's order: x's thousandths 1 and 3, two slots unused.
    assert.deepStrictEqual([...new Int32Array(new Uint8Array(Buffer.from(s.devices[1][4], 'base64')).buffer)], [1000, 3000, 0, 0]);
  });

  it('keeps the wide form of a device that needed it and the thousandths of the others', function () {
    const opts: ZScoreOptions = { windowSize: 5, minValues: 2, sensors: ['temperature'], emit: 'change', zMedium: 1, zHigh: 1.5 };
    const a = new ZScoreDetector(opts);
    a.process(reading({ deviceId: 'wide', temperature: 0.1 + 0.2 }), 1, []);
    a.process(reading({ deviceId: 'narrow', temperature: 0.3 }), 2, []);
    const s = a.snapshot();
    assert.deepStrictEqual(formsOf(s), [
      ['wide', 'f'],
      ['narrow', 'q'],
    ]);
    const c = new ZScoreDetector(opts);
    assert.equal(c.restore(viaJson(s)), true);
    // 0.3 in thousandths stays thousandths; in the wide device it is compared as the double 0.3.
    for (const d of [a, c]) for (let i = 0; i < 4; i++) d.process(reading({ deviceId: i % 2 ? 'wide' : 'narrow', temperature: 0.3 + (i % 3) }), 3 + i, []);
    assert.deepStrictEqual(c.snapshot(), a.snapshot());
    assert.deepStrictEqual(formsOf(c.snapshot()), [
      ['narrow', 'q'],
      ['wide', 'f'],
    ]);
  });

  it('evicts the same device at max devices after a restore as before', function () {
    const opts: ZScoreOptions = { maxDevices: 3, windowSize: 4, minValues: 2, sensors: ['temperature'] };
    const a = new ZScoreDetector(opts);
    for (const [dev, t] of [['a', 0], ['b', 10], ['c', 20], ['a', 30]] as const) a.process(reading({ deviceId: dev, temperature: t / 10 }), t, []);
    const c = new ZScoreDetector(opts);
    assert.equal(c.restore(viaJson(a.snapshot())), true);
    for (const d of [a, c]) d.process(reading({ deviceId: 'd', temperature: 1 }), 40, []);
    assert.deepStrictEqual(ids(a), ['c', 'a', 'd'], 'b, the least recently used, is evicted');
    assert.deepStrictEqual(ids(c), ids(a));
    assert.deepStrictEqual(c.snapshot(), a.snapshot());
  });

  it('sweeps the same idle devices after a restore as before (last-used times restored)', function () {
    const opts: ZScoreOptions = { idleMs: 1_000, windowSize: 4, minValues: 2, sensors: ['temperature'] };
    const a = new ZScoreDetector(opts);
    for (const [dev, t] of [['a', 0], ['b', 500], ['c', 900]] as const) a.process(reading({ deviceId: dev, temperature: 1 }), t, []);
    const c = new ZScoreDetector(opts);
    assert.equal(c.restore(viaJson(a.snapshot())), true);
    assert.equal(c.sweep(1_000), 0);
    assert.equal(c.sweep(1_600), 2);
    assert.equal(a.sweep(1_600), 2);
    assert.deepStrictEqual(ids(c), ['c']);
    assert.deepStrictEqual(c.snapshot(), a.snapshot());
  });

  it('replaces the whole state: devices the snapshot does not hold are gone', function () {
    const opts: ZScoreOptions = { windowSize: 4, minValues: 2, sensors: ['temperature'] };
    const a = new ZScoreDetector(opts);
    a.process(reading({ deviceId: 'a', temperature: 1 }), 1, []);
    const c = new ZScoreDetector(opts);
    c.process(reading({ deviceId: 'other', temperature: 1 }), 1, []);
    c.process(reading({ deviceId: 'a', temperature: 5 }), 2, []);
    assert.equal(c.restore(a.snapshot()), true);
    assert.deepStrictEqual(ids(c), ['a']);
    assert.deepStrictEqual(c.snapshot(), a.snapshot());
    assert.equal(c.restore(new ZScoreDetector(opts).snapshot()), true, 'an empty snapshot');
    assert.equal(c.devices, 0);
  });

  it('into a detector with fewer max devices, keeps the most recently used ones', function () {
    const a = new ZScoreDetector({ windowSize: 4, minValues: 2, sensors: ['temperature'] });
    for (const [dev, t] of [['a', 0], ['b', 10], ['c', 20]] as const) a.process(reading({ deviceId: dev, temperature: 1 }), t, []);
    const c = new ZScoreDetector({ windowSize: 4, minValues: 2, sensors: ['temperature'], maxDevices: 2 });
    assert.equal(c.restore(a.snapshot()), true);
    assert.deepStrictEqual(ids(c), ['b', 'c']);
  });

  it('restores into a detector with other thresholds, min values or emit mode: they do not shape the state', function () {
    const a = new ZScoreDetector({ windowSize: 10, minValues: 3, sensors: ['humidity', 'temperature'] });
    a.process(reading({ temperature: 1, humidity: 2 }), 1, []);
    const c = new ZScoreDetector({ windowSize: 10, minValues: 5, zMedium: 2, zHigh: 6, emit: 'change', sensors: ['temperature', 'humidity'] });
    assert.equal(c.restore(viaJson(a.snapshot())), true, 'sensors are scored in canonical order whatever the order given');
    assert.deepStrictEqual(c.snapshot(), a.snapshot());
  });

  describe('rejects, leaving the state as it was', function () {
    const opts: ZScoreOptions = { windowSize: 6, minValues: 2, sensors: ['temperature', 'pm2_5'], emit: 'change' };
    function filled(o: ZScoreOptions = opts): ZScoreDetector {
      const d = new ZScoreDetector(o);
      for (let i = 0; i < 9; i++) {
        d.process(reading({ deviceId: 'a', temperature: i % 3, pm2_5: i === 8 ? 100 : 1 + (i % 2) }), i, []);
        d.process(reading({ deviceId: 'w', temperature: (i % 3) + 0.0001 }), i, []);
      }
      return d;
    }
    const good = viaJson(filled().snapshot()) as DetectorSnapshot;
    /** The snapshot with device `i`'s field `f` replaced. */
    const withField = (i: number, f: number, v: unknown): unknown => {
      const s = structuredClone(good) as { sig: string; devices: unknown[][] };
      s.devices[i][f] = v;
      return s;
    };
    /** The snapshot with running figure `fig` of device 0's sensor 0 set to `v`. */
    const withFigure = (fig: number, v: number): unknown => {
      const h = new Float64Array(new Uint8Array(Buffer.from(good.devices[0][3], 'base64')).buffer);
      h[fig] = v;
      return withField(0, 3, Buffer.from(h.buffer).toString('base64'));
    };
    const cases: [string, unknown][] = [
      ['null', null],
      ['undefined', undefined],
      ['an empty object', {}],
      ['an array', []],
      ['text', JSON.stringify(good)],
      ['a number', 42],
      ['no device list', { sig: good.sig }],
      ['a device list that is not a list', { sig: good.sig, devices: {} }],
      ['a device that is not a list', { sig: good.sig, devices: [{}] }],
      ['a device with a field missing', { sig: good.sig, devices: [good.devices[0].slice(0, 4)] }],
      ['a device with a field too many', { sig: good.sig, devices: [[...good.devices[0], '']] }],
      ['a device listed twice', { sig: good.sig, devices: [good.devices[0], good.devices[0]] }],
      ['a device id that is not text', withField(0, 0, 7)],
      ['a last-used time that is not a number', withField(0, 1, '5')],
      ['an unknown window form', withField(0, 2, 'x')],
      ['thousandths labelled as doubles', withField(0, 2, 'f')],
      ['doubles labelled as thousandths', withField(1, 2, 'q')],
      ['running figures of the wrong length', withField(0, 3, good.devices[0][3].slice(4))],
      ['windows of the wrong length', withField(0, 4, good.devices[0][4].slice(0, -4))],
      ['windows that are not base64', withField(0, 4, '*' + good.devices[0][4].slice(1))],
      ['running figures that are not text', withField(0, 3, null)],
      ['a count beyond the window size', withFigure(2, 7)],
      ['a fractional count', withFigure(2, 1.5)],
      ['a ring head beyond the window', withFigure(3, 6)],
      // 9 values in a window of 6: the head is at 3, which a window of 3 values would also have, not one of 4.
      ['a ring head that does not follow a partial window', withFigure(2, 4)],
      ['a severity rank beyond HIGH', withFigure(7, 3)],
      ['a snapshot of another window size', filled({ ...opts, windowSize: 7 }).snapshot()],
      ['a snapshot of other sensors', filled({ ...opts, sensors: ['temperature'] }).snapshot()],
      ['a snapshot of another byte order', { ...good, sig: good.sig.replace(`bytes=${BYTE_ORDER}`, `bytes=${BYTE_ORDER === 'le' ? 'be' : 'le'}`) }],
      ['a threshold detector\'s snapshot', new ThresholdDetector(undefined, { emit: 'change' }).snapshot()],
    ];
    for (const [name, s] of cases) {
      it(name, function () {
        const d = new ZScoreDetector(opts);
        d.process(reading({ deviceId: 'kept', temperature: 3 }), 5, []);
        const before = d.snapshot();
        assert.equal(d.restore(s), false);
        assert.deepStrictEqual(d.snapshot(), before);
      });
    }
    it('(the unaltered snapshot restores, so each case above fails for its one alteration)', function () {
      assert.equal(new ZScoreDetector(opts).restore(structuredClone(good)), true);
      assert.deepStrictEqual(
        good.devices.map((x) => x[2]),
        ['q', 'f'],
      );
    });
  });
});

const thresholdValues = fc.record({
  temperature: fc.constantFrom(null, -25, -5, 20, 45, 55, 75),
  humidity: fc.constantFrom(null, 3, 10, 50, 85, 92, 97),
  tvoc: fc.constantFrom(null, 100, 600, 1500, 2500),
  eco2: fc.constantFrom(null, 400, 900, 1200, 1600),
  pm2_5: fc.constantFrom(null, 10, 30, 40, 60),
});

const fireValues = fc.record({
  temperature: fc.constantFrom(null, 30, 50),
  tvoc: fc.constantFrom(null, 500, 900),
  eco2: fc.constantFrom(null, 400, 900),
  pm2_5: fc.constantFrom(null, 10, 40),
  fireAlarm: fc.constantFrom<0 | 1 | null>(null, 0, 0, 1),
});

const steps = (values: fc.Arbitrary<Partial<Reading>>): fc.Arbitrary<Step[]> => fc.array(stepArb(values), { minLength: 1, maxLength: 50 });

for (const [name, make, values, otherShape] of [
  [
    'threshold',
    (emit: EmitMode, o = {}) => new ThresholdDetector(undefined, { emit, ...o }),
    thresholdValues,
    // pm1_0 enabled as well: another slot per device.
    () => new ThresholdDetector(defaultRules().map((r) => ({ ...r, enabled: true })), { emit: 'change' }),
  ],
  ['fire pattern', (emit: EmitMode, o = {}) => new FirePatternDetector({ emit, ...o }), fireValues, null],
] as const) {
  describe(`${name} > snapshot`, function () {
    for (const emit of ['change', 'every'] as const) {
      it(`a detector restored from a snapshot raises exactly the alerts of one that never stopped (emit: ${emit})`, function () {
        fc.assert(
          fc.property(fc.constantFrom(0, 2, 3), fc.constantFrom(0, 3_000), (maxDevices, idleMs) => {
            checkpointProperty(() => make(emit, { maxDevices, idleMs }), steps(values), 50);
          }),
          { numRuns: 9 },
        );
      });
    }

    it('emit: change — the devices\' severities, least recently used first, with their last-used times', function () {
      const d = make('change');
      d.process(reading({ deviceId: 'x', temperature: 55, pm2_5: 40, tvoc: 900 }), 100, []);
      d.process(reading({ deviceId: 'y', temperature: 20 }), 200, []);
      const s = d.snapshot();
      assert.deepStrictEqual(viaJson(s), s);
      assert.deepStrictEqual(
        s.devices.map((x) => [x[0], x[1]]),
        [
          ['x', 100],
          ['y', 200],
        ],
      );
      assert.ok([...Buffer.from(s.devices[0][2], 'base64')].some((r) => r > 0));
    });

    it('emit: change — evicts and sweeps the same devices after a restore as before', function () {
      const a = make('change', { maxDevices: 3, idleMs: 1_000 });
      for (const [dev, t] of [['a', 0], ['b', 500], ['c', 900], ['a', 950]] as const) a.process(reading({ deviceId: dev, temperature: 55 }), t, []);
      const c = make('change', { maxDevices: 3, idleMs: 1_000 });
      assert.equal(c.restore(viaJson(a.snapshot())), true);
      for (const d of [a, c]) d.process(reading({ deviceId: 'd', temperature: 55 }), 960, []);
      assert.deepStrictEqual(ids(c), ['c', 'a', 'd']);
      assert.deepStrictEqual(ids(a), ids(c));
      assert.equal(c.sweep(1_901), 1);
      assert.equal(a.sweep(1_901), 1);
      assert.deepStrictEqual(ids(c), ['a', 'd']);
      assert.deepStrictEqual(c.snapshot(), a.snapshot());
    });

    it('emit: every — no devices; restores its own empty snapshot only', function () {
      const d = make('every');
      d.process(reading({ deviceId: 'x', temperature: 55, tvoc: 900 }), 1, []);
      const s = d.snapshot();
      assert.deepStrictEqual(s.devices, []);
      assert.equal(make('every').restore(viaJson(s)), true);
      assert.equal(d.restore({ ...s, devices: [['x', 1, '']] }), false);
      assert.equal(d.restore(make('change').snapshot()), false, 'a change-mode snapshot');
      assert.equal(make('change').restore(s), false, 'into change mode');
    });

    describe('emit: change — rejects, leaving the state as it was', function () {
      const src = make('change');
      src.process(reading({ deviceId: 'x', temperature: 55, pm2_5: 40, tvoc: 900 }), 1, []);
      const good = viaJson(src.snapshot()) as DetectorSnapshot;
      const ranks = [...Buffer.from(good.devices[0][2], 'base64')];
      const cases: [string, unknown][] = [
        ['null', null],
        ['an empty object', {}],
        ['no device list', { sig: good.sig }],
        ['a device with a field missing', { sig: good.sig, devices: [good.devices[0].slice(0, 2)] }],
        ['a device listed twice', { sig: good.sig, devices: [good.devices[0], good.devices[0]] }],
        ['ranks of the wrong length', { sig: good.sig, devices: [['x', 1, Buffer.from([...ranks, 0, 0, 0]).toString('base64')]] }],
        ['ranks that are not base64', { sig: good.sig, devices: [['x', 1, '!'.repeat(good.devices[0][2].length)]] }],
        ['a rank beyond CRITICAL', { sig: good.sig, devices: [['x', 1, Buffer.from(ranks.map(() => 4)).toString('base64')]] }],
        ['a z-score snapshot', new ZScoreDetector().snapshot()],
      ];
      if (otherShape !== null) cases.push(['a snapshot of another rule table\'s sensors', otherShape().snapshot()]);
      for (const [what, s] of cases) {
        it(what, function () {
          const d = make('change');
          d.process(reading({ deviceId: 'kept', temperature: 75, tvoc: 900, eco2: 900 }), 5, []);
          const before = d.snapshot();
          assert.equal(d.restore(s), false);
          assert.deepStrictEqual(d.snapshot(), before);
        });
      }
      it('(the unaltered snapshot restores)', function () {
        assert.equal(make('change').restore(structuredClone(good)), true);
      });
    });
  });
}

describe('keyed-state > entries with their last-used times', function () {
  it('lists entries oldest first with their times, and set() appends as the newest at the given time', function () {
    const s = new KeyedState<number>({ maxKeys: 0 });
    s.get('a', 10, () => 1);
    s.get('b', 20, () => 2);
    s.get('a', 30, () => 1);
    assert.deepStrictEqual([...s.entriesWithTime()], [
      ['b', 2, 20],
      ['a', 1, 30],
    ]);
    const t = new KeyedState<number>({ maxKeys: 0, idleMs: 15 });
    for (const [k, v, at] of s.entriesWithTime()) t.set(k, v, at);
    assert.deepStrictEqual([...t.entriesWithTime()], [...s.entriesWithTime()]);
    assert.equal(t.sweep(36), 1, 'b, last used at 20');
    assert.deepStrictEqual([...t.keys()], ['a']);
  });

  it('set() of a present key replaces its value and time and makes it the newest', function () {
    const s = new KeyedState<number>({ maxKeys: 0 });
    s.set('a', 1, 5);
    s.set('b', 2, 6);
    s.set('a', 3, 7);
    assert.deepStrictEqual([...s.entriesWithTime()], [
      ['b', 2, 6],
      ['a', 3, 7],
    ]);
    assert.equal(s.size, 2);
    assert.equal(s.get('a', 8, () => 99), 3);
  });

  it('set() beyond max keys evicts the least recently used, as get() does', function () {
    const evicted: string[] = [];
    const s = new KeyedState<number>({ maxKeys: 2, onEvict: (k, _v, why) => evicted.push(`${why}:${k}`) });
    s.set('a', 1, 1);
    s.set('b', 2, 2);
    s.set('c', 3, 3);
    assert.deepStrictEqual([...s.keys()], ['b', 'c']);
    assert.deepStrictEqual(evicted, ['lru:a']);
    assert.equal(s.evictions, 1);
  });
});
