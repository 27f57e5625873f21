/**
 * Window-level alerts: rules on the aggregates of a sliding-window result (CONTRACT §5), as the seed's
 * Spark job raises them from each window (`process_analytics_batch`). A rule says
 * "`sensor` `op` `bound` is `severity`" where `sensor` names an aggregate (`avgTemperature`,
 * `fireAlarmCount`, …); comparison is strict; per window result and aggregate at most one alert is
 * raised: the most severe rule that applies. Alerts follow CONTRACT §4 (`type: "THRESHOLD"`, `sensor`
 * the aggregate, `timestamp` the window end).
 *
 * Seed severities: the seed logs every aggregate alert at WARNING level and the fire alarm at CRITICAL.
 * Its "HIGH"/"LOW" in "LOW TEMPERATURE ALERT" name the direction, not a severity; CONTRACT §4 has no
 * LOW severity, so every WARNING-level rule is HIGH here and the fire alarm rule is CRITICAL.
 */
import {
  type DetectorOptions,
  SEVERITY_BY_RANK,
  SeverityDetector,
  changeAction,
  finiteOrNull,
  fmt,
  markCleared,
  newAlert,
} from './detector';
import { deviceKey } from './devices';
import { DEFAULT_AGGREGATES, WINDOW_COUNTS, aggregateSpec } from './panes';
import { SENSOR_TABLE } from './sensor-fields';
import { type KeyRules, type ThresholdDetails, clearedBound, compileRuleTable, freezeRules, parseRuleTable, type Rule } from './thresholds';
import { type Alert, type AlertOf, type ClearedDetails, type Reading, SEVERITY_RANK, type Severity } from './types';

/** Details of a window alert: the rule's comparison, the aggregate's unit and the window's bounds (epoch ms). */
export interface WindowAlertDetails extends ThresholdDetails {
  windowStart: number | null;
  windowEnd: number | null;
}

/** A window alert: a THRESHOLD alert on an aggregate; a cleared one has {@link ClearedDetails}. */
export type WindowAlert = AlertOf<'THRESHOLD', WindowAlertDetails | ClearedDetails>;

/** Unit of an aggregate's values: its sensor's (a count for counts). */
export function aggregateUnit(key: string): string {
  const spec = aggregateSpec(key);
  return spec === undefined || spec.fn === 'count' ? 'count' : SENSOR_TABLE[spec.field].unit;
}


/** The aggregates of a window result (CONTRACT §5) a rule may watch, in the result's key order. */
export const WINDOW_AGGREGATES = [...WINDOW_COUNTS, ...DEFAULT_AGGREGATES] as const;

export type WindowAggregate = (typeof WINDOW_AGGREGATES)[number];

/**
 * One window rule. The comparison is strict: `value > bound` or `value < bound`; equal is normal. The
 * bound is in the aggregate's unit (that of the reading's sensor; a count for `count` and `fireAlarmCount`).
 */
export type WindowRule = Rule<WindowAggregate>;

const r = (sensor: WindowAggregate, op: '>' | '<', bound: number, severity: Severity): WindowRule => ({ sensor, op, bound, severity, enabled: true });

/**
 * The seed's rules: average temperature > 50 or < −10, average TVOC > 1000, average eCO2 > 1000,
 * average PM2.5 > 35, average humidity > 90 or < 10 (all HIGH: the seed's WARNING level), and any fire
 * alarm in the window (`fireAlarmCount > 0`, CRITICAL: the seed's CRITICAL level).
 */
export const DEFAULT_WINDOW_RULES: readonly Readonly<WindowRule>[] = freezeRules([
  r('avgTemperature', '>', 50, 'HIGH'),
  r('avgTemperature', '<', -10, 'HIGH'),
  r('avgTvoc', '>', 1000, 'HIGH'),
  r('avgEco2', '>', 1000, 'HIGH'),
  r('avgPm25', '>', 35, 'HIGH'),
  r('avgHumidity', '>', 90, 'HIGH'),
  r('avgHumidity', '<', 10, 'HIGH'),
  r('fireAlarmCount', '>', 0, 'CRITICAL'),
]);

/** A fresh, mutable copy of {@link DEFAULT_WINDOW_RULES}. */
export function defaultWindowRules(): WindowRule[] {
  return DEFAULT_WINDOW_RULES.map((x) => ({ ...x }));
}

/** Check a window rule table as it comes from a node's configuration (see thresholds.ts parseRuleTable). */
export function parseWindowRules(input: unknown): { rules: WindowRule[]; problems: string[] } {
  return parseRuleTable(input, WINDOW_AGGREGATES, 'aggregate');
}

/** A watched aggregate's enabled rules, most severe first (table order among equals; bounds and ranks for {@link clearedBound}), and its unit. */
interface CompiledAggregate extends KeyRules<WindowAggregate, WindowRule> {
  unit: string;
}

/** ISO-8601 UTC text of an epoch-ms time, `?` when it is not a finite number. */
function iso(t: unknown): string {
  return typeof t === 'number' && Number.isFinite(t) ? new Date(t).toISOString() : '?';
}

/**
 * The value of an aggregate in a window result: a finite number, or null when the result lacks it,
 * holds null (an average over no values) or something that is not a finite number. Numeric strings
 * are not accepted: window results come from `sliding window`, not from text.
 */
function aggregateOf(result: Record<string, unknown>, key: WindowAggregate): number | null {
  return finiteOrNull(result[key]);
}

/**
 * Evaluates a window rule table per window result (`msg.payload` of `sliding window` output 1).
 * Stateless in `emit: every` (one alert per offending result, as the seed); in `emit: change` it keeps
 * per device the severity of each watched aggregate and alerts only on a change, with a `cleared`
 * alert when the aggregate returns to normal. A result without a given aggregate (absent, null, not a
 * finite number) raises nothing for it and leaves its severity as it was.
 */
export class WindowAlertDetector extends SeverityDetector {
  private readonly aggregates: CompiledAggregate[] = [];

  /** `rules` must be clean (see {@link parseWindowRules}); throws a RangeError otherwise. */
  constructor(rules: readonly WindowRule[] = DEFAULT_WINDOW_RULES, opts: DetectorOptions = {}) {
    super(EVERY_SIG);
    for (const c of compileRuleTable(rules, WINDOW_AGGREGATES, 'aggregate')) this.aggregates.push({ ...c, unit: aggregateUnit(c.key) });
    this.watchChanges(opts, this.aggregates.length, `window-alert/1 emit=change aggregates=${this.watched.join(',')}`);
  }

  /** Aggregates that have at least one enabled rule, in {@link WINDOW_AGGREGATES} order. */
  get watched(): WindowAggregate[] {
    return this.aggregates.map((c) => c.key);
  }

  /**
   * Append the alerts of one window result to `out` (in {@link WINDOW_AGGREGATES} order) and return
   * how many were appended. The alert's timestamp is the window end (when the window's figures are
   * complete), else `now`.
   */
  process(item: Reading, now: number, out: Alert[]): number {
    const result = item as unknown as Record<string, unknown>;
    const before = out.length;
    const deviceId = deviceKey(result.deviceId);
    const end = result.windowEnd;
    const timestamp = typeof end === 'number' && Number.isFinite(end) ? end : now;
    const ranks = this.memory?.ranks(deviceId, now);
    for (let s = 0; s < this.aggregates.length; s++) {
      const c = this.aggregates[s];
      const v = aggregateOf(result, c.key);
      if (v === null) continue;
      const hit = c.rules.find((x) => (x.op === '>' ? v > x.bound : v < x.bound));
      if (ranks === undefined) {
        if (hit !== undefined) out.push(this.alert(c, hit, v, result, deviceId, timestamp));
        continue;
      }
      const prev = ranks[s];
      const next = hit === undefined ? 0 : SEVERITY_RANK[hit.severity];
      const action = changeAction(prev, next);
      if (action === 'none') continue;
      ranks[s] = next;
      if (action === 'raise') out.push(this.alert(c, hit as WindowRule, v, result, deviceId, timestamp));
      else {
        const was = SEVERITY_BY_RANK[prev] as Severity;
        const message = `${c.key} ${fmt(v)} back to normal (was ${was})${windowText(result)}`;
        out.push(markCleared(newAlert('THRESHOLD', 'NORMAL', c.key, v, clearedBound(c.bounds, c.ranks, prev, v), message, deviceId, timestamp), prev));
      }
    }
    return out.length - before;
  }

  private alert(c: CompiledAggregate, rule: WindowRule, v: number, result: Record<string, unknown>, deviceId: string, timestamp: number): Alert {
    const key = c.key;
    // The fire alarm in words, as the seed's "FIRE ALARM TRIGGERED: <n> alarms in window …".
    const message =
      key === 'fireAlarmCount'
        ? `${fmt(v)} fire alarm${v === 1 ? '' : 's'} (fireAlarmCount ${rule.op} ${fmt(rule.bound)}, ${rule.severity})${windowText(result)}`
        : `${key} ${fmt(v)} ${rule.op} ${fmt(rule.bound)} (${rule.severity})${windowText(result)}`;
    const a = newAlert('THRESHOLD', rule.severity, key, v, rule.bound, message, deviceId, timestamp);
    const details: WindowAlertDetails = { op: rule.op, unit: c.unit, windowStart: finiteOrNull(result.windowStart), windowEnd: finiteOrNull(result.windowEnd) };
    a.details = details;
    return a;
  }
}

/** `sig` of a window alert detector's snapshot in `emit: every`: no per-device state. */
const EVERY_SIG = 'window-alert/1 emit=every';

/** ` in window <start> – <end>` (ISO-8601 UTC), or nothing when the result has no window bounds. */
function windowText(result: Record<string, unknown>): string {
  if (result.windowStart === undefined && result.windowEnd === undefined) return '';
  return ` in window ${iso(result.windowStart)} – ${iso(result.windowEnd)}`;
}
