/**
 * The sensor sim's options (sim.ts), their defaults and their checks. Framework-free.
 */

export type SimShape = 'kaggle' | 'canonical';
export type FireMode = 'schedule' | 'random' | 'off';
export type MissingAs = 'null' | 'absent';

export interface SimOptions {
  /** Number of devices, integer 1 … 100,000. Default 10. */
  devices?: number;
  /** Device id pattern; `{n}` is replaced by the device number 1 … devices. Default `sensor-{n}`. */
  idPattern?: string;
  /** Zero-pad `{n}` to this many digits (0 = no padding). Default 0. */
  pad?: number;
  /** PRNG seed (any number; taken as an unsigned 32-bit integer). Default 1. */
  seed?: number;
  /** `kaggle`: the data file's headers, `UTC` in seconds; `canonical`: CONTRACT §2 keys, ms. Default `kaggle`. */
  shape?: SimShape;
  /** Bounded random-walk drift of the sensor levels. Default true. */
  drift?: boolean;
  /** Fire episodes: on a schedule, at random, or never. Default `schedule`. */
  fire?: FireMode;
  /** Schedule: an episode starts every this many ms (the first one this long after the first reading). Default 10 min. */
  fireEveryMs?: number;
  /** Length of an episode in ms (> 0; in schedule mode < fireEveryMs). Default 60 s. */
  fireDurationMs?: number;
  /** Random: probability (0 … 1) that a device not on fire starts an episode within one minute. Default 0.01. */
  fireProbability?: number;
  /** Probability (0 … 1) that a reading lacks one (randomly chosen) numeric sensor value. Default 0. */
  missingRate?: number;
  /** A missing value is `null` (the sensor did not report) or the key is absent. Default `null`. */
  missingAs?: MissingAs;
}

export const SIM_DEFAULTS: Required<SimOptions> = {
  devices: 10,
  idPattern: 'sensor-{n}',
  pad: 0,
  seed: 1,
  shape: 'kaggle',
  drift: true,
  fire: 'schedule',
  fireEveryMs: 600_000,
  fireDurationMs: 60_000,
  fireProbability: 0.01,
  missingRate: 0,
  missingAs: 'null',
};

/** Largest supported device count: one tick allocates one reading per device. */
export const MAX_DEVICES = 100_000;

/** Problems with a set of options, as readable sentences (empty when usable). */
export function simOptionProblems(o: SimOptions): string[] {
  const p: string[] = [];
  const v = { ...SIM_DEFAULTS, ...o };
  if (!Number.isInteger(v.devices) || v.devices < 1 || v.devices > MAX_DEVICES) p.push(`devices must be a whole number 1 … ${MAX_DEVICES} (got ${v.devices})`);
  if (!Number.isInteger(v.pad) || v.pad < 0 || v.pad > 12) p.push(`pad must be a whole number 0 … 12 (got ${v.pad})`);
  if (typeof v.idPattern !== 'string' || v.idPattern.length === 0) p.push('idPattern must not be empty');
  else if (v.devices > 1 && !v.idPattern.includes('{n}')) p.push('idPattern must contain {n} when there is more than one device');
  else if (v.idPattern.length > 100) p.push('idPattern must be at most 100 characters');
  if (!Number.isFinite(v.seed)) p.push(`seed must be a number (got ${v.seed})`);
  if (!(v.fireDurationMs > 0) || !Number.isFinite(v.fireDurationMs)) p.push(`fire duration must be > 0 (got ${v.fireDurationMs} ms)`);
  if (v.fire === 'schedule') {
    if (!(v.fireEveryMs > 0) || !Number.isFinite(v.fireEveryMs)) p.push(`fire interval must be > 0 (got ${v.fireEveryMs} ms)`);
    else if (v.fireDurationMs >= v.fireEveryMs) p.push('fire duration must be shorter than the fire interval');
  }
  if (!(v.fireProbability >= 0 && v.fireProbability <= 1)) p.push(`fire probability must be 0 … 1 (got ${v.fireProbability})`);
  if (!(v.missingRate >= 0 && v.missingRate <= 1)) p.push(`missing rate must be 0 … 1 (got ${v.missingRate})`);
  if (!['kaggle', 'canonical'].includes(v.shape)) p.push(`shape must be kaggle or canonical (got ${v.shape})`);
  if (!['schedule', 'random', 'off'].includes(v.fire)) p.push(`fire must be schedule, random or off (got ${v.fire})`);
  if (!['null', 'absent'].includes(v.missingAs)) p.push(`missingAs must be null or absent (got ${v.missingAs})`);
  return p;
}

