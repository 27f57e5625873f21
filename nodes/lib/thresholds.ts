/**
 * Multi-level per-sensor thresholds (CONTRACT §4, "Default thresholds"). A rule says
 * "`sensor` `op` `bound` is `severity`", with strict comparison; per reading and sensor at most one
 * alert is raised: the most severe rule that applies.
 */
import {
  type DetectorOptions,
  SEVERITY_BY_RANK,
  SeverityDetector,
  changeAction,
  deviceOf,
  fmt,
  readSensors,
  markCleared,
  newAlert,
  timeOf,
} from './detector';
import { SENSOR_TABLE } from './sensor-fields';
import { type Alert, type AlertOf, type ClearedDetails, type Reading, SENSOR_KEYS, SEVERITIES, SEVERITY_RANK, type SensorKey, type Severity } from './types';

/** Details of a THRESHOLD alert: the comparison of the rule that applied (its bound is `threshold`) and the value's unit. */
export interface ThresholdDetails {
  op: '>' | '<';
  /** Unit of `value` and `threshold` (CONTRACT §2; the aggregate's sensor's for a window alert, `count` for counts). */
  unit: string;
}

/** A THRESHOLD alert (threshold alert, window alert); a cleared one has {@link ClearedDetails}. */
export type ThresholdAlert = AlertOf<'THRESHOLD', ThresholdDetails | ClearedDetails>;


/**
 * The bound a cleared alert returned within: that of the rule of the cleared severity nearest to the
 * value (a sensor may have a high and a low rule of one severity; the value left the nearer one).
 */
export function clearedBound(bounds: Float64Array, ranks: Uint8Array, prevRank: number, v: number): number | null {
  let best: number | null = null;
  for (let i = 0; i < bounds.length; i++) {
    if (ranks[i] !== prevRank) continue;
    if (best === null || Math.abs(v - bounds[i]) < Math.abs(v - best)) best = bounds[i];
  }
  return best;
}

/** A rule of a rule table over the keys `K` (reading sensors here, window aggregates in window-alert.ts). */
export interface Rule<K extends string> {
  sensor: K;
  op: '>' | '<';
  bound: number;
  severity: Severity;
  /** A disabled rule is kept in the table (and the editor) but never applies. */
  enabled: boolean;
}

/**
 * One threshold rule. The comparison is strict: `value > bound` or `value < bound`; equal is normal. The
 * bound is in the sensor's canonical unit (CONTRACT §2).
 */
export type ThresholdRule = Rule<SensorKey>;

/** A rule table as a default: the table and each rule frozen. */
export function freezeRules<R extends Rule<string>>(rules: R[]): readonly Readonly<R>[] {
  return Object.freeze(rules.map((x) => Object.freeze(x)));
}

/** The severities of a sensor's rules in one direction, by their place in {@link ladder}. */
const LADDER: readonly Severity[] = ['CRITICAL', 'HIGH', 'MEDIUM'];

/**
 * The rules of one sensor in one direction, as a row of CONTRACT §4's table reads: the bounds of
 * CRITICAL, HIGH and MEDIUM, in that order (a shorter list stops before MEDIUM).
 */
function ladder(sensor: SensorKey, op: '>' | '<', bounds: readonly number[], enabled = true): ThresholdRule[] {
  return bounds.map((bound, i) => ({ sensor, op, bound, severity: LADDER[i], enabled }));
}

/**
 * The default rule table: the contract's table (enabled), then PM1.0 and pressure (offered, disabled:
 * pressure at altitude, e.g. the data file's ~935 hPa, would alert on every reading).
 *
 * The contract gives pressure as "low 900/950, high 1050/1100/1150"; read as
 * `< 900` CRITICAL, `< 950` HIGH, `> 1150` CRITICAL, `> 1100` HIGH, `> 1050` MEDIUM.
 */
export const DEFAULT_RULES: readonly Readonly<ThresholdRule>[] = freezeRules([
  ...ladder('temperature', '>', [70, 50, 40]),
  ...ladder('temperature', '<', [-20, 0]),
  ...ladder('humidity', '>', [95, 90, 80]),
  ...ladder('humidity', '<', [5, 15]),
  ...ladder('tvoc', '>', [2000, 1000, 500]),
  ...ladder('eco2', '>', [1500, 1000, 800]),
  ...ladder('pm2_5', '>', [50, 35, 25]),
  ...ladder('pm1_0', '>', [45, 30, 20], false),
  ...ladder('pressure', '<', [900, 950], false),
  ...ladder('pressure', '>', [1150, 1100, 1050], false),
]);

/** A fresh, mutable copy of {@link DEFAULT_RULES}. */
export function defaultRules(): ThresholdRule[] {
  return DEFAULT_RULES.map((x) => ({ ...x }));
}

/**
 * Check a rule table as it comes from a node's configuration (an array of objects; `bound` may be a
 * numeric string, `enabled` may be absent = true), its `sensor` one of `keys` (named `noun` in the
 * problems). Returns the clean rules and a list of problems (empty when the table is usable).
 */
export function parseRuleTable<K extends string>(input: unknown, keys: readonly K[], noun: string): { rules: Rule<K>[]; problems: string[] } {
  const problems: string[] = [];
  const rules: Rule<K>[] = [];
  if (!Array.isArray(input)) return { rules, problems: ['rules must be a list of rules'] };
  input.forEach((raw: unknown, i) => {
    const at = `rule ${i + 1}`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      problems.push(`${at} is not an object`);
      return;
    }
    const o = raw as Record<string, unknown>;
    const before = problems.length;
    if (typeof o.sensor !== 'string' || !(keys as readonly string[]).includes(o.sensor)) {
      problems.push(`${at}: unknown ${noun} ${JSON.stringify(o.sensor)}`);
    }
    if (o.op !== '>' && o.op !== '<') problems.push(`${at}: comparison must be > or < (got ${JSON.stringify(o.op)})`);
    const bound = typeof o.bound === 'number' ? o.bound : typeof o.bound === 'string' && o.bound.trim() !== '' ? Number(o.bound) : NaN;
    if (!Number.isFinite(bound)) problems.push(`${at}: bound must be a finite number (got ${JSON.stringify(o.bound)})`);
    if (typeof o.severity !== 'string' || !(SEVERITIES as readonly string[]).includes(o.severity)) {
      problems.push(`${at}: unknown severity ${JSON.stringify(o.severity)}`);
    }
    let enabled = true;
    if (o.enabled === false || o.enabled === 'false') enabled = false;
    else if (o.enabled !== undefined && o.enabled !== true && o.enabled !== 'true') {
      problems.push(`${at}: enabled must be true or false (got ${JSON.stringify(o.enabled)})`);
    }
    if (problems.length === before) rules.push({ sensor: o.sensor as K, op: o.op as '>' | '<', bound, severity: o.severity as Severity, enabled });
  });
  return { rules, problems };
}

/** The enabled rules of `key` in a clean table, most severe first (table order among equals). */
export function rulesOf<R extends Rule<string>>(rules: readonly R[], key: string): R[] {
  return rules
    .filter((x) => x.enabled && x.sensor === key)
    .map((x, i) => ({ x, i }))
    .sort((a, b) => SEVERITY_RANK[b.x.severity] - SEVERITY_RANK[a.x.severity] || a.i - b.i)
    .map((e) => e.x);
}

/** The enabled rules of one key of a rule table, most severe first, and their bounds and severity ranks in that order. */
export interface KeyRules<K extends string, R extends Rule<K> = Rule<K>> {
  key: K;
  rules: R[];
  bounds: Float64Array;
  ranks: Uint8Array;
}

/**
 * A rule table as a detector evaluates it: per key of `keys` that has enabled rules, in `keys` order,
 * those rules (see {@link rulesOf}). `rules` must be clean (see {@link parseRuleTable}, whose problems
 * a RangeError names otherwise).
 */
export function compileRuleTable<K extends string, R extends Rule<K>>(rules: readonly R[], keys: readonly K[], noun: string): KeyRules<K, R>[] {
  const { problems } = parseRuleTable(rules, keys, noun);
  if (problems.length > 0) throw new RangeError(problems.join('; '));
  const out: KeyRules<K, R>[] = [];
  for (const key of keys) {
    const mine = rulesOf(rules, key);
    if (mine.length === 0) continue;
    out.push({ key, rules: mine, bounds: Float64Array.from(mine, (x) => x.bound), ranks: Uint8Array.from(mine, (x) => SEVERITY_RANK[x.severity]) });
  }
  return out;
}

/** {@link parseRuleTable} over the reading sensors. */
export function parseRules(input: unknown): { rules: ThresholdRule[]; problems: string[] } {
  return parseRuleTable(input, SENSOR_KEYS, 'sensor');
}

/** A watched sensor's enabled rules, most severe first (table order among equals), as the per-reading loop reads them. */
interface CompiledSensor {
  key: SensorKey;
  /** Index of the sensor in SENSOR_KEYS (and in the values {@link readSensors} writes). */
  idx: number;
  n: number;
  gt: Uint8Array;
  bounds: Float64Array;
  ranks: Uint8Array;
  /** Alert message parts, made once: `"<sensor> "` and per rule `" <op> <bound> (<severity>)"`. */
  prefix: string;
  suffixes: string[];
  ops: ('>' | '<')[];
  unit: string;
}

/** `sig` of a threshold detector's snapshot in `emit: every`: no per-device state. */
const EVERY_SIG = 'threshold/1 emit=every';

/** Message endings of a cleared alert by the severity rank it had (index 0 unused). */
const CLEARED_SUFFIX: readonly string[] = SEVERITY_BY_RANK.map((s) => ` back to normal (was ${s})`);

/**
 * Evaluates a rule table per reading. The table is compiled once into per-sensor arrays sorted by
 * severity, so a reading costs one pass over the sensors that have enabled rules and allocates only
 * the alerts it raises.
 */
export class ThresholdDetector extends SeverityDetector {
  private readonly sensors: CompiledSensor[] = [];
  private readonly vals = new Float64Array(SENSOR_KEYS.length);

  /** `rules` must be clean (see {@link parseRules}); throws a RangeError otherwise. */
  constructor(rules: readonly ThresholdRule[] = DEFAULT_RULES, opts: DetectorOptions = {}) {
    super(EVERY_SIG);
    // Canonical sensor order, so alerts of one reading always come in the same order.
    for (const { key, rules: mine, bounds, ranks } of compileRuleTable(rules, SENSOR_KEYS, 'sensor')) {
      this.sensors.push({
        key,
        idx: SENSOR_KEYS.indexOf(key),
        n: mine.length,
        gt: Uint8Array.from(mine, (x) => (x.op === '>' ? 1 : 0)),
        bounds,
        ranks,
        prefix: `${key} `,
        suffixes: mine.map((x) => ` ${x.op} ${fmt(x.bound)} (${x.severity})`),
        ops: mine.map((x) => x.op),
        unit: SENSOR_TABLE[key].unit,
      });
    }
    // A slot per watched sensor: snapshots restore only into a detector watching the same sensors.
    this.watchChanges(opts, this.sensors.length, `threshold/1 emit=change sensors=${this.watched.join(',')}`);
  }

  /** Sensors that have at least one enabled rule, in canonical order. */
  get watched(): SensorKey[] {
    return this.sensors.map((c) => c.key);
  }

  process(reading: Reading, now: number, out: Alert[]): number {
    const before = out.length;
    const memory = this.memory;
    let deviceId: string | undefined;
    let ranks: Uint8Array | undefined;
    if (memory !== null) {
      deviceId = deviceOf(reading);
      ranks = memory.ranks(deviceId, now);
    }
    const sensors = this.sensors;
    const vals = this.vals;
    readSensors(reading, vals);
    for (let s = 0; s < sensors.length; s++) {
      const c = sensors[s];
      const v = vals[c.idx];
      if (v !== v) continue; // NaN: null or not a finite number
      let hit = -1;
      for (let i = 0; i < c.n; i++) {
        const b = c.bounds[i];
        if (c.gt[i] === 1 ? v > b : v < b) {
          hit = i;
          break;
        }
      }
      if (ranks === undefined) {
        if (hit >= 0) out.push(this.alert(c, hit, v, reading, deviceOf(reading), now));
        continue;
      }
      const prev = ranks[s];
      const next = hit >= 0 ? c.ranks[hit] : 0;
      const action = changeAction(prev, next);
      if (action === 'none') continue;
      ranks[s] = next;
      if (action === 'raise') out.push(this.alert(c, hit, v, reading, deviceId as string, now));
      else out.push(this.cleared(c, prev, v, reading, deviceId as string, now));
    }
    return out.length - before;
  }

  private alert(c: CompiledSensor, i: number, v: number, reading: Reading, deviceId: string, now: number): Alert {
    const severity = SEVERITY_BY_RANK[c.ranks[i]] as Severity;
    const bound = c.bounds[i];
    const a = newAlert('THRESHOLD', severity, c.key, v, bound, c.prefix + fmt(v) + c.suffixes[i], deviceId, timeOf(reading, now));
    const details: ThresholdDetails = { op: c.ops[i], unit: c.unit };
    a.details = details;
    return a;
  }

  private cleared(c: CompiledSensor, prevRank: number, v: number, reading: Reading, deviceId: string, now: number): Alert {
    const bound = clearedBound(c.bounds, c.ranks, prevRank, v);
    const a = newAlert('THRESHOLD', 'NORMAL', c.key, v, bound, c.prefix + fmt(v) + CLEARED_SUFFIX[prevRank], deviceId, timeOf(reading, now));
    return markCleared(a, prevRank);
  }
}
