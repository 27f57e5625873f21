/**
 * Partial aggregates ("panes") of the sliding window: one pane per slide per device holds everything
 * the window results need (count, fire-alarm count, and per sensor the non-null count, sum, running
 * mean and M2 for the variance, min, max). A window's result is the merge of its size/slide panes, so
 * memory grows with devices × panes and never with readings. Framework-free.
 *
 * A pane is a run of `stride` doubles inside a Float64Array (see {@link PaneLayout}); the window module
 * keeps each device's panes in one ring buffer of them.
 */
import { SENSOR_KEYS, type Reading, type SensorKey } from './types';
import { compile, prop } from './sensor-code';

/** What the window reads from a reading: a canonical {@link Reading} or any object of that shape. */
export type ReadingLike = Readonly<Partial<Reading>> | Readonly<Record<string, unknown>>;

/** Aggregate functions over one sensor in a window (Spark's `avg`, `min`, `max`, `stddev`, `count`, `sum`). */
export type AggFn = 'avg' | 'min' | 'max' | 'stddev' | 'count' | 'sum';
/** Every aggregate function, in the order the editor lists them. */
export const AGG_FNS: readonly AggFn[] = ['avg', 'min', 'max', 'stddev', 'count', 'sum'];

/** One output column of a window result, e.g. `{ fn: 'avg', field: 'pm2_5', key: 'avgPm25' }`. */
export interface AggregateSpec {
  fn: AggFn;
  field: SensorKey;
  /** Output key: the function followed by the sensor key in PascalCase without `_` (`maxPm25`, `sumTvoc`). */
  key: string;
}

/** The contract's result columns (CONTRACT §5), in the contract's order. */
export const DEFAULT_AGGREGATES = [
  'avgTemperature',
  'avgHumidity',
  'avgTvoc',
  'avgEco2',
  'avgPm25',
  'avgPressure',
  'maxTemperature',
  'minTemperature',
  'stddevTemperature',
] as const;

/** The counts every window result carries before its aggregates (CONTRACT §5). */
export const WINDOW_COUNTS = ['count', 'fireAlarmCount'] as const;

/** `pm2_5` → `Pm25`, `rawH2` → `RawH2`. */
export function fieldSuffix(field: SensorKey): string {
  const s = field.replace(/_/g, '');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Output key of an aggregate: `aggregateKey('max', 'pm2_5')` is `maxPm25`. */
export function aggregateKey(fn: AggFn, field: SensorKey): string {
  return fn + fieldSuffix(field);
}

const BY_KEY = new Map<string, AggregateSpec>();
for (const fn of AGG_FNS) for (const field of SENSOR_KEYS) BY_KEY.set(aggregateKey(fn, field), { fn, field, key: aggregateKey(fn, field) });

/** The aggregate an output key names (`maxPm25`: max of pm2_5), or undefined when it names none. */
export function aggregateSpec(key: string): AggregateSpec | undefined {
  return BY_KEY.get(key);
}

/** Every aggregate key that {@link parseAggregates} accepts. */
export const AGGREGATE_KEYS: readonly string[] = [...BY_KEY.keys()];

/**
 * Parse an aggregate list: output keys separated by commas, spaces or newlines (text), or an array of
 * them. Empty → the contract's default set. Duplicates are ignored; `count` and `fireAlarmCount` are
 * always in the result and need not be listed.
 */
export function parseAggregates(list: string | readonly string[] | undefined): { specs: AggregateSpec[]; problems: string[] } {
  const names = list === undefined ? [] : typeof list === 'string' ? list.split(/[\s,;]+/) : [...list];
  const specs: AggregateSpec[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const raw of names) {
    const name = String(raw).trim();
    if (name === '' || seen.has(name)) continue;
    seen.add(name);
    const spec = BY_KEY.get(name);
    if (spec) specs.push(spec);
    else problems.push(`unknown aggregate "${name}" (use e.g. avgTemperature, maxPm25, stddevHumidity, sumTvoc, countEco2)`);
  }
  if (specs.length === 0 && problems.length === 0) return parseAggregates(DEFAULT_AGGREGATES);
  return { specs, problems };
}

/**
 * `r[SENSOR_KEYS[id]]` with a named property load per key, compiled from the sensor table
 * (sensor-code.ts): a load with a computed key is a megamorphic lookup, several times slower, and this
 * runs for every aggregated sensor of every reading.
 */
const sensorValue = compile<() => (r: ReadingLike, id: number) => unknown>(
  'panes-sensor-value',
  [],
  // The last sensor is the default branch, not a case of its own beside a `return undefined` default:
  // that form measured about 20 % slower in PaneLayout.add (bench/sensor-paths.ts).
  `return function sensorValue(r, id) {
  switch (id) {
${SENSOR_KEYS.slice(0, -1)
  .map((k, i) => `    case ${i}:\n      return ${prop('r', k)};`)
  .join('\n')}
    default:
      return ${prop('r', SENSOR_KEYS[SENSOR_KEYS.length - 1])};
  }
};`,
)();

/** Offsets of a pane's fixed slots. */
export const COUNT = 0;
export const FIRE = 1;

/** How one sensor is kept inside a pane: slot offsets relative to the pane start (-1 = not kept). */
interface FieldSlots {
  field: SensorKey;
  /** Non-null count; the sum follows at `n + 1`. */
  n: number;
  mean: number;
  min: number;
  max: number;
}

/**
 * Where each number of a pane lives, compiled from the aggregate list so that a pane holds only what the
 * results need: per sensor the non-null count and sum always, mean and M2 (Welford) only for `stddev`,
 * min and max only when asked.
 */
export class PaneLayout {
  /** Doubles per pane. */
  readonly stride: number;
  readonly specs: readonly AggregateSpec[];
  private readonly fields: FieldSlots[] = [];
  /** Hot-path copies of `fields` as parallel typed arrays; `ids` index {@link SENSOR_KEYS}. */
  private readonly ids: Int32Array;
  private readonly nOff: Int32Array;
  private readonly meanOff: Int32Array;
  private readonly minOff: Int32Array;
  private readonly maxOff: Int32Array;
  /** Per spec: the kind and the offset of its field's slots. */
  private readonly outFn: AggFn[];
  private readonly outKey: string[];
  private readonly outSlots: FieldSlots[];
  /** A string that changes whenever the meaning of a pane's slots does (checkpoints carry it). */
  readonly signature: string;

  constructor(specs: readonly AggregateSpec[]) {
    this.specs = specs;
    let off = 2;
    const byField = new Map<SensorKey, { stddev: boolean; min: boolean; max: boolean }>();
    for (const s of specs) {
      const f = byField.get(s.field) ?? { stddev: false, min: false, max: false };
      if (s.fn === 'stddev') f.stddev = true;
      if (s.fn === 'min') f.min = true;
      if (s.fn === 'max') f.max = true;
      byField.set(s.field, f);
    }
    for (const [field, need] of byField) {
      const slots: FieldSlots = { field, n: off, mean: -1, min: -1, max: -1 };
      off += 2;
      if (need.stddev) {
        slots.mean = off;
        off += 2;
      }
      if (need.min) slots.min = off++;
      if (need.max) slots.max = off++;
      this.fields.push(slots);
    }
    this.stride = off;
    this.ids = Int32Array.from(this.fields.map((f) => SENSOR_KEYS.indexOf(f.field)));
    this.nOff = Int32Array.from(this.fields.map((f) => f.n));
    this.meanOff = Int32Array.from(this.fields.map((f) => f.mean));
    this.minOff = Int32Array.from(this.fields.map((f) => f.min));
    this.maxOff = Int32Array.from(this.fields.map((f) => f.max));
    this.outFn = specs.map((s) => s.fn);
    this.outKey = specs.map((s) => s.key);
    this.outSlots = specs.map((s) => this.fields.find((f) => f.field === s.field) as FieldSlots);
    this.signature = this.fields.map((f) => `${f.field}:${f.n}/${f.mean}/${f.min}/${f.max}`).join(',') + `|${this.stride}`;
  }

  /**
   * Add one reading to the pane starting at `base` in `buf`. Sensor values that are not finite
   * numbers (null: the sensor did not report) are skipped; the reading still counts in `count`.
   */
  add(buf: Float64Array, base: number, r: ReadingLike): void {
    buf[base + COUNT] += 1;
    const fire = r.fireAlarm;
    if (fire === 1 || fire === '1' || fire === true) buf[base + FIRE] += 1;
    const ids = this.ids;
    for (let i = 0; i < ids.length; i++) {
      const x = sensorValue(r, ids[i]);
      if (typeof x !== 'number' || !Number.isFinite(x)) continue;
      const o = base + this.nOff[i];
      const n = buf[o] + 1;
      buf[o] = n;
      buf[o + 1] += x;
      const mo = this.meanOff[i];
      if (mo >= 0) {
        // Welford: the running mean and the sum of squared deviations from it (never a raw Σx²).
        const m = base + mo;
        const d = x - buf[m];
        buf[m] += d / n;
        buf[m + 1] += d * (x - buf[m]);
      }
      const lo = this.minOff[i];
      if (lo >= 0 && (n === 1 || x < buf[base + lo])) buf[base + lo] = x;
      const hi = this.maxOff[i];
      if (hi >= 0 && (n === 1 || x > buf[base + hi])) buf[base + hi] = x;
    }
  }

  /**
   * Merge the pane at `src` into the accumulator pane at `dst` (Chan et al.'s pairwise update for
   * mean and M2). Either side may be empty.
   */
  merge(dst: Float64Array, dBase: number, src: Float64Array, sBase: number): void {
    dst[dBase + COUNT] += src[sBase + COUNT];
    dst[dBase + FIRE] += src[sBase + FIRE];
    const nOff = this.nOff;
    for (let i = 0; i < nOff.length; i++) {
      const so = sBase + nOff[i];
      const nb = src[so];
      if (nb === 0) continue;
      const o = dBase + nOff[i];
      const na = dst[o];
      const n = na + nb;
      dst[o] = n;
      dst[o + 1] += src[so + 1];
      const mo = this.meanOff[i];
      if (mo >= 0 && na === 0) {
        // Copy rather than merge into an empty side: (mb·nb)/nb need not round back to mb.
        dst[dBase + mo] = src[sBase + mo];
        dst[dBase + mo + 1] = src[sBase + mo + 1];
      } else if (mo >= 0) {
        const ma = dst[dBase + mo];
        const mb = src[sBase + mo];
        const d = mb - ma;
        dst[dBase + mo] = ma + (d * nb) / n;
        dst[dBase + mo + 1] += src[sBase + mo + 1] + (d * d * na * nb) / n;
      }
      const lo = this.minOff[i];
      if (lo >= 0 && (na === 0 || src[sBase + lo] < dst[dBase + lo])) dst[dBase + lo] = src[sBase + lo];
      const hi = this.maxOff[i];
      if (hi >= 0 && (na === 0 || src[sBase + hi] > dst[dBase + hi])) dst[dBase + hi] = src[sBase + hi];
    }
  }

  /**
   * The window result for a merged pane: `count` counts readings, `avg` and `sum` skip nulls (null when
   * no value), `stddev` is the sample standard deviation (null with fewer than 2 values), `count<Field>`
   * is the number of non-null values.
   */
  result(acc: Float64Array, base: number, deviceId: string, windowStart: number, windowEnd: number, final: boolean): WindowResult {
    const res: WindowResult = {
      deviceId,
      windowStart,
      windowEnd,
      count: acc[base + COUNT],
      fireAlarmCount: acc[base + FIRE],
    } as WindowResult;
    const out = res as unknown as Record<string, number | null>;
    for (let i = 0; i < this.outFn.length; i++) {
      const s = this.outSlots[i];
      const n = acc[base + s.n];
      let v: number | null;
      switch (this.outFn[i]) {
        case 'avg':
          v = n > 0 ? acc[base + s.n + 1] / n : null;
          break;
        case 'sum':
          v = n > 0 ? acc[base + s.n + 1] : null;
          break;
        case 'count':
          v = n;
          break;
        case 'min':
          v = n > 0 ? acc[base + s.min] : null;
          break;
        case 'max':
          v = n > 0 ? acc[base + s.max] : null;
          break;
        case 'stddev':
          // M2 can come out a hair below zero for constant values after merges; clamp it.
          v = n >= 2 ? Math.sqrt(Math.max(0, acc[base + s.mean + 1]) / (n - 1)) : null;
          break;
      }
      out[this.outKey[i]] = v;
    }
    res.final = final;
    return res;
  }
}

/**
 * One window's result (CONTRACT §5). With the default aggregate list it has exactly the contract's
 * keys: `deviceId, windowStart, windowEnd, count, fireAlarmCount, avgTemperature, avgHumidity, avgTvoc,
 * avgEco2, avgPm25, avgPressure, maxTemperature, minTemperature, stddevTemperature, final`.
 * `windowStart` (inclusive) and `windowEnd` (exclusive) are epoch milliseconds.
 */
export interface WindowResult {
  deviceId: string;
  windowStart: number;
  windowEnd: number;
  count: number;
  fireAlarmCount: number;
  /** True when the watermark passed `windowEnd`; false for flushed, evicted or provisional results. */
  final: boolean;
  [aggregate: string]: string | number | boolean | null;
}
