/**
 * Fire pattern (CONTRACT §4, "Fire pattern"): several fire indicators at once in one reading.
 *
 * Indicators (strict bounds, configurable): temperature > 45 °C, tvoc > 800 ppb, eco2 > 800 ppm,
 * pm2_5 > 30 µg/m³. A null value is not an active indicator. CRITICAL when 3 or more are active or
 * the reading's `fireAlarm` is 1; HIGH when exactly 2 are active; at most one alert per reading.
 *
 * The PATTERN alert: `sensor: "firePattern"`, `value` = number of active sensor indicators (0–4; the
 * fireAlarm flag is not counted), `threshold` = the indicator count the severity was reached by (3
 * for CRITICAL by count, 2 for HIGH), or null when the fireAlarm flag alone made it CRITICAL;
 * `indicators` = names of the active indicators in the order above, then `"fireAlarm"` when the flag
 * is set.
 */
import {
  type DetectorOptions,
  SEVERITY_BY_RANK,
  SeverityDetector,
  changeAction,
  deviceOf,
  finiteOrNull,
  markCleared,
  newAlert,
  timeOf,
} from './detector';
import type { Alert, AlertOf, ClearedDetails, Reading, Severity } from './types';

/** Details of a PATTERN alert: the reading's values of the indicators and its fire alarm flag, as they were. */
export interface PatternDetails {
  temperature: number | null;
  tvoc: number | null;
  eco2: number | null;
  pm2_5: number | null;
  fireAlarm: number | null;
}

/** A PATTERN alert (`indicators` as CONTRACT §4); a cleared one has {@link ClearedDetails}. */
export type PatternAlert = AlertOf<'PATTERN', PatternDetails | ClearedDetails> & { indicators: string[] };


/** The indicator sensors, in the order they are listed in an alert. */
export const FIRE_INDICATORS = ['temperature', 'tvoc', 'eco2', 'pm2_5'] as const;
export type FireIndicator = (typeof FIRE_INDICATORS)[number];

/** Indicator bounds: an indicator is active when its value is strictly above the bound. */
export type FireBounds = Record<FireIndicator, number>;

export const DEFAULT_FIRE_BOUNDS: Readonly<FireBounds> = Object.freeze({ temperature: 45, tvoc: 800, eco2: 800, pm2_5: 30 });

export interface FirePatternOptions extends DetectorOptions {
  /** Bounds per indicator (units of CONTRACT §2); omitted ones keep their defaults. */
  bounds?: Partial<FireBounds>;
}

/** Problems with the bounds (empty when usable). */
export function fireProblems(o: FirePatternOptions): string[] {
  const p: string[] = [];
  for (const k of Object.keys(o.bounds ?? {})) {
    if (!(FIRE_INDICATORS as readonly string[]).includes(k)) p.push(`unknown indicator ${JSON.stringify(k)}`);
    else if (!Number.isFinite((o.bounds as Record<string, unknown>)[k])) p.push(`${k} bound must be a finite number`);
  }
  return p;
}

/** `sig` of a fire pattern detector's snapshot in `emit: every`: no per-device state. */
const EVERY_SIG = 'firePattern/1 emit=every';

const RANK_HIGH = 2;
const RANK_CRITICAL = 3;

/** Bit of the fireAlarm flag in a pattern index (bits 0–3: the active indicators, as in `mask`). */
const FLAG_BIT = 16;

/** Severity rank of a pattern: `mask` of active indicators, `flag` the fireAlarm flag. */
function rankOf(mask: number, flag: boolean): number {
  const count = (mask & 1) + ((mask >> 1) & 1) + ((mask >> 2) & 1) + ((mask >> 3) & 1);
  return count >= 3 || flag ? RANK_CRITICAL : count === 2 ? RANK_HIGH : 0;
}

/** The `indicators` of a pattern index (mask | FLAG_BIT when the flag is set): names, then "fireAlarm". */
function indicatorNames(pattern: number): string[] {
  const out = names(pattern & 15);
  if (pattern & FLAG_BIT) out.push('fireAlarm');
  return out;
}

/**
 * Alert messages of the 32 patterns (4 indicators × flag), made once: a PATTERN alert's message depends
 * on nothing else, and fire episodes raise one on most readings.
 */
const PATTERN_MESSAGES: readonly string[] = Array.from({ length: 32 }, (_, p) => {
  const rank = rankOf(p & 15, (p & FLAG_BIT) !== 0);
  return rank === 0 ? '' : `fire pattern: ${indicatorNames(p).join(', ')} (${SEVERITY_BY_RANK[rank]})`;
});
// Never handed out (alerts get copies) and not frozen: slice() of a frozen array takes V8's slow path,
// about 30 times the cost of copying a plain one.
const PATTERN_INDICATORS: readonly (readonly string[])[] = Array.from({ length: 32 }, (_, p) => indicatorNames(p));
const CLEARED_MESSAGES: readonly string[] = SEVERITY_BY_RANK.map((s) => `fire pattern back to normal (was ${s})`);

export class FirePatternDetector extends SeverityDetector {
  readonly bounds: Readonly<FireBounds>;
  private readonly b: Float64Array;

  /** Throws a RangeError on unusable bounds (see {@link fireProblems}). */
  constructor(opts: FirePatternOptions = {}) {
    super(EVERY_SIG);
    const p = fireProblems(opts);
    if (p.length > 0) throw new RangeError(p.join('; '));
    this.bounds = Object.freeze({ ...DEFAULT_FIRE_BOUNDS, ...opts.bounds });
    this.b = Float64Array.from(FIRE_INDICATORS, (k) => this.bounds[k]);
    this.watchChanges(opts, 1, 'firePattern/1 emit=change');
  }

  process(reading: Reading, now: number, out: Alert[]): number {
    const b = this.b;
    // Fixed property names (monomorphic loads); count without allocating, names only for an alert.
    let mask = 0;
    if (active(reading.temperature, b[0])) mask |= 1;
    if (active(reading.tvoc, b[1])) mask |= 2;
    if (active(reading.eco2, b[2])) mask |= 4;
    if (active(reading.pm2_5, b[3])) mask |= 8;
    const count = (mask & 1) + ((mask >> 1) & 1) + ((mask >> 2) & 1) + ((mask >> 3) & 1);
    const flag = reading.fireAlarm === 1;
    const rank = count >= 3 || flag ? RANK_CRITICAL : count === 2 ? RANK_HIGH : 0;
    if (this.memory === null) {
      if (rank === 0) return 0;
      out.push(this.alert(rank, count, mask, flag, reading, deviceOf(reading), now));
      return 1;
    }
    const deviceId = deviceOf(reading);
    const ranks = this.memory.ranks(deviceId, now);
    const prev = ranks[0];
    const action = changeAction(prev, rank);
    if (action === 'none') return 0;
    ranks[0] = rank;
    if (action === 'raise') out.push(this.alert(rank, count, mask, flag, reading, deviceId, now));
    else out.push(this.cleared(prev, count, mask, reading, deviceId, now));
    return 1;
  }

  private alert(rank: number, count: number, mask: number, flag: boolean, reading: Reading, deviceId: string, now: number): Alert {
    const pattern = flag ? mask | FLAG_BIT : mask;
    const threshold = count >= 3 ? 3 : flag ? null : 2;
    const a = newAlert('PATTERN', SEVERITY_BY_RANK[rank] as Severity, 'firePattern', count, threshold, PATTERN_MESSAGES[pattern], deviceId, timeOf(reading, now));
    // A copy per alert: the alert is the receiver's to change.
    a.indicators = PATTERN_INDICATORS[pattern].slice();
    const r = reading;
    const details: PatternDetails = { temperature: finiteOrNull(r.temperature), tvoc: finiteOrNull(r.tvoc), eco2: finiteOrNull(r.eco2), pm2_5: finiteOrNull(r.pm2_5), fireAlarm: finiteOrNull(r.fireAlarm) };
    a.details = details;
    return a;
  }

  private cleared(prevRank: number, count: number, mask: number, reading: Reading, deviceId: string, now: number): Alert {
    // The bound it returned within: the count of the cleared severity (HIGH: 2, CRITICAL: 3).
    const a = newAlert('PATTERN', 'NORMAL', 'firePattern', count, prevRank === RANK_CRITICAL ? 3 : 2, CLEARED_MESSAGES[prevRank], deviceId, timeOf(reading, now));
    a.indicators = PATTERN_INDICATORS[mask].slice();
    return markCleared(a, prevRank);
  }
}

/** An indicator is active when its value is a finite number strictly above the bound. */
function active(v: unknown, bound: number): boolean {
  return typeof v === 'number' && v > bound && v !== Infinity;
}

function names(mask: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < FIRE_INDICATORS.length; i++) if (mask & (1 << i)) out.push(FIRE_INDICATORS[i]);
  return out;
}
