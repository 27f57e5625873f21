/**
 * Simulated smoke detectors (the `sensor sim` node's logic, also the benchmark's load generator).
 * Framework-free: time is a parameter (epoch ms), randomness comes from a seeded PRNG, nothing runs on
 * a timer. Same options + same seed + same sequence of calls = the same readings.
 *
 * A device's value for a sensor is `base + drift + noise (+ fire surge)`:
 * - base: drawn once per device around the quiet level of the real data (see {@link BASELINES});
 * - drift: a bounded random walk (reflected at ±`drift` of the baseline table), so series wander
 *   slowly as real sensors do, without ever reaching an alert threshold;
 * - noise: per-reading jitter with the spread of the data's second-to-second changes;
 * - fire: during an episode every sensor moves towards the smoke levels of the data (plus a
 *   temperature climb the data does not show: it is what the fire-pattern detector looks for).
 */
import { KAGGLE_HEADERS, SENSOR_FIELDS } from './sensor-fields';
import { SIM_DEFAULTS, type SimOptions, simOptionProblems } from './sim-options';
import { NUMERIC_SENSORS } from './types';

/** A small, fast, seeded PRNG (mulberry32): uniform numbers in [0, 1). Not for cryptography. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return function next(): number {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Quiet-air levels, derived ONCE offline from /work/shared/data/smoke_detection_iot.csv (62,630 rows)
 * and kept here as constants (the data file is not shipped). Method: rows with `Fire Alarm` = 0
 * (17,873 rows); `level` = the median; `spread` = the robust standard deviation IQR / 1.349 (the mean
 * and sd are useless here: those rows hold smoke bursts that saturate TVOC at 60,000); `noise` = the
 * robust sd of the change between consecutive 1 Hz rows divided by √2 (the change of two independent
 * noises has √2 × their sd). Figures from the data, for the record:
 *
 * | sensor | median | IQR/1.349 | Δ1s IQR/1.349 |
 * |---|---|---|---|
 * | Temperature[C] | 20.54 | 9.9 (between sessions: −22 … 60 °C) | 0.033 |
 * | Humidity[%] | 46.14 | 6.9 | 0.19 |
 * | TVOC[ppb] | 86 | 119 | 7.4 |
 * | eCO2[ppm] | 400 (p75 417, floor 400) | 13 | 0 (quantised) |
 * | Raw H2 | 12837 | 276 | 5.9 |
 * | Raw Ethanol | 20158 | 517 | 10.4 |
 * | Pressure[hPa] | 937.478 | 1.71 | 0.0074 |
 * | PM1.0 | 1.45 | 0.93 | 0.022 |
 * | CNT | +1 per reading (per second), reset per session | | |
 *
 * `device` is the half-width of the uniform spread of per-device bases: the data's spread where that is
 * harmless, narrower for temperature (the data's spread mixes recording sessions; a base near 40 °C
 * would raise MEDIUM threshold alerts on quiet air) and eCO2 (kept off the sensor's 400 ppm floor, so a
 * z-score window is not a run of identical 400s). `drift` bounds the random walk around the base.
 * `fire` is the change at full intensity, from the 1,177 rows with PM2.5 > 100 (medians: humidity 24 %,
 * TVOC 60,000 (saturated), eCO2 7,880, Raw H2 11,565, Raw Ethanol 16,876, pressure 936.78,
 * PM1.0 4,681): e.g. Raw H2 12,837 → 11,565 is −1,300.
 */
export const BASELINES = {
  temperature: { level: 20.5, device: 3, drift: 1.5, noise: 0.023, decimals: 3, fire: 40 },
  humidity: { level: 46.1, device: 6, drift: 4, noise: 0.14, decimals: 2, fire: -22 },
  tvoc: { level: 86, device: 60, drift: 40, noise: 5.2, decimals: 0, fire: 30000 },
  eco2: { level: 415, device: 10, drift: 5, noise: 2, decimals: 0, fire: 7500 },
  rawH2: { level: 12837, device: 270, drift: 100, noise: 4.2, decimals: 0, fire: -1300 },
  rawEthanol: { level: 20158, device: 500, drift: 200, noise: 7.3, decimals: 0, fire: -3300 },
  pressure: { level: 937.478, device: 1.5, drift: 0.5, noise: 0.0052, decimals: 3, fire: -0.7 },
  pm1_0: { level: 1.45, device: 0.7, drift: 0.5, noise: 0.016, decimals: 2, fire: 4700 },
} as const;

/**
 * The other particle figures follow PM1.0 by the data's median ratios: quiet rows (PM1.0 < 5,
 * Fire Alarm 0: 15,444 rows) and smoky rows (PM2.5 > 100: 1,177 rows). Between the two the ratio
 * follows the fire intensity.
 */
export const PARTICLE_RATIOS = {
  pm2_5: { quiet: 1.039, smoke: 1.19, decimals: 2 },
  nc0_5: { quiet: 6.88, smoke: 6.5, decimals: 2 },
  nc1_0: { quiet: 1.073, smoke: 1.25, decimals: 3 },
  // 4 decimals where the data has 3: at ~0.035 the data's 3 decimals leave a handful of distinct
  // values, and a z-score over a window of near-identical numbers alerts on every 0.001 step.
  nc2_5: { quiet: 0.0242, smoke: 0.17, decimals: 4 },
} as const;

/** The ceiling the data's TVOC and eCO2 sensors saturate at. */
export const SENSOR_CEILING = 60000;

/** The Kaggle data file's column headers, keyed by canonical name: the validator's table (CONTRACT §2). */
export { KAGGLE_HEADERS };

export { type FireMode, type MissingAs, MAX_DEVICES, SIM_DEFAULTS, type SimOptions, type SimShape, simOptionProblems } from './sim-options';

/** The device ids a pattern gives: `sensor-{n}` with pad 2 and 3 devices → sensor-01 … sensor-03. */
export function deviceIds(pattern: string, count: number, pad = 0): string[] {
  const ids: string[] = [];
  for (let n = 1; n <= count; n++) ids.push(pattern.split('{n}').join(String(n).padStart(pad, '0')));
  return ids;
}

/**
 * Fire intensity 0 … 1 at `phase` (0 … 1) of an episode: a smooth climb over the first 30 %, full
 * intensity to 70 %, a smooth decay over the last 30 %.
 */
export function fireIntensity(phase: number): number {
  if (!(phase >= 0 && phase < 1)) return 0;
  const x = phase < 0.3 ? phase / 0.3 : phase > 0.7 ? (1 - phase) / 0.3 : 1;
  return x * x * (3 - 2 * x);
}

/** The detector's own alarm: set while the episode's intensity is at least this. */
export const ALARM_INTENSITY = 0.5;

/** A simulated reading: the canonical shape (CONTRACT §2) or the data file's headers. */
export type SimReading = Record<string, number | string | null>;

interface Device {
  id: string;
  /** Per-sensor base levels and current drift, in the order of {@link LEVEL_KEYS}. */
  base: Float64Array;
  drift: Float64Array;
  cnt: number;
  lastT: number;
  fireStart: number;
  fireEnd: number;
  /** Scale of the current episode's surge (0.6 … 1.4) and its temperature climb in °C (35 … 45). */
  fireScale: number;
  fireRise: number;
  /** Schedule mode: index of the last episode started on this device (−1: none). */
  episode: number;
}

const LEVEL_KEYS = Object.keys(BASELINES) as (keyof typeof BASELINES)[];
const SPECS = LEVEL_KEYS.map((k) => BASELINES[k]);
const T = 0,
  HUM = 1,
  TVOC = 2,
  ECO2 = 3,
  H2 = 4,
  ETH = 5,
  PRES = 6,
  PM1 = 7;
/** Sensors of the table that the sim does not model (none of CONTRACT §2's): they get their fill default. */
const UNMODELLED = SENSOR_FIELDS.filter((f) => !(f.key in BASELINES || f.key in PARTICLE_RATIOS || f.key === 'cnt' || f.key === 'fireAlarm'));
const POW10 = [1, 10, 100, 1000, 10000];
// Scratch space for one reading's raw levels: readings are built one at a time, so one shared array
// saves an allocation per reading.
const LEVELS = new Float64Array(SPECS.length);
// Seconds a drift random walk takes, typically, to wander from its base to the bound: slow enough
// that a 100-value z-score window (100 s at 1 Hz) sees a gentle trend, not a jump.
const DRIFT_SECONDS = 1800;

function round(x: number, decimals: number): number {
  const f = POW10[decimals];
  return Math.round(x * f) / f;
}

/**
 * A fleet of simulated detectors. Call {@link SensorSim.tick} with increasing event times; each call
 * returns one reading per device, in device order.
 */
export class SensorSim {
  readonly options: Readonly<Required<SimOptions>>;
  readonly ids: readonly string[];
  private readonly devices: Device[];
  private readonly rnd: () => number;
  private readonly kaggle: boolean;
  private readonly missingNull: boolean;
  /** Schedule mode: event time of the first reading, the origin of the fire schedule. */
  private origin = NaN;
  private pFireDt = -1;
  private pFire = 0;

  constructor(options: SimOptions = {}) {
    const problems = simOptionProblems(options);
    if (problems.length) throw new RangeError(problems.join('; '));
    const o = { ...SIM_DEFAULTS, ...options };
    this.options = o;
    this.rnd = mulberry32(o.seed);
    this.kaggle = o.shape === 'kaggle';
    this.missingNull = o.missingAs === 'null';
    this.ids = deviceIds(o.idPattern, o.devices, o.pad);
    this.devices = this.ids.map((id) => {
      const base = new Float64Array(SPECS.length);
      for (let s = 0; s < SPECS.length; s++) base[s] = SPECS[s].level + (2 * this.rnd() - 1) * SPECS[s].device;
      return { id, base, drift: new Float64Array(SPECS.length), cnt: 0, lastT: NaN, fireStart: 0, fireEnd: 0, fireScale: 1, fireRise: 40, episode: -1 };
    });
  }

  /** Readings of every device at event time `t` (epoch ms), in device order. */
  tick(t: number): SimReading[] {
    const out = new Array<SimReading>(this.devices.length);
    for (let i = 0; i < this.devices.length; i++) out[i] = this.reading(i, t);
    return out;
  }

  /** Start a fire episode on device `index` (0-based) at event time `t`, for the configured duration. */
  ignite(index: number, t: number): void {
    const d = this.devices[index];
    if (d === undefined) throw new RangeError(`no device ${index}`);
    this.startFire(d, t);
  }

  /** Whether device `index` is in a fire episode at event time `t`. */
  isBurning(index: number, t: number): boolean {
    const d = this.devices[index];
    return d !== undefined && t >= d.fireStart && t < d.fireEnd;
  }

  /** Number of devices in a fire episode at event time `t` (as of their last reading). */
  burning(t: number): number {
    let n = 0;
    for (const d of this.devices) if (t >= d.fireStart && t < d.fireEnd) n++;
    return n;
  }

  /** The next reading of device `index` (0-based) at event time `t` (epoch ms). */
  reading(index: number, t: number): SimReading {
    const d = this.devices[index];
    const o = this.options;
    const rnd = this.rnd;
    const dtS = d.lastT === d.lastT ? Math.max(0, (t - d.lastT) / 1000) : 1;
    d.lastT = t;

    if (o.fire === 'schedule') {
      if (this.origin !== this.origin) this.origin = t;
      const i = Math.floor((t - this.origin) / o.fireEveryMs);
      if (i >= 1 && (i - 1) % this.devices.length === index && i !== d.episode) {
        const start = this.origin + i * o.fireEveryMs;
        if (t < start + o.fireDurationMs) {
          d.episode = i;
          this.startFire(d, start);
        }
      }
    } else if (o.fire === 'random' && !(t < d.fireEnd) && o.fireProbability > 0) {
      if (dtS !== this.pFireDt) {
        this.pFireDt = dtS;
        this.pFire = 1 - Math.pow(1 - o.fireProbability, dtS / 60);
      }
      if (rnd() < this.pFire) this.startFire(d, t);
    }

    if (o.drift && dtS > 0) {
      // Uniform steps with the variance of a Gaussian step (√3 × half-width), reflected at the bound.
      const k = Math.sqrt(dtS / DRIFT_SECONDS) * 1.7320508;
      for (let s = 0; s < SPECS.length; s++) {
        const b = SPECS[s].drift;
        let x = d.drift[s] + (2 * rnd() - 1) * b * k;
        if (x > b) x = 2 * b - x;
        else if (x < -b) x = -2 * b - x;
        d.drift[s] = x;
      }
    }

    const intensity = t >= d.fireStart && t < d.fireEnd ? fireIntensity((t - d.fireStart) / (d.fireEnd - d.fireStart)) : 0;
    const v = LEVELS;
    for (let s = 0; s < SPECS.length; s++) {
      // Irwin–Hall(3): a cheap, nearly normal noise with unit sd, bounded at ±3 sd.
      const n = (rnd() + rnd() + rnd() - 1.5) * 2;
      v[s] = d.base[s] + d.drift[s] + n * SPECS[s].noise;
    }
    if (intensity > 0) {
      const sc = d.fireScale * intensity;
      // Smoke is turbulent: the surge itself jitters by ±10 %.
      for (let s = 0; s < SPECS.length; s++) {
        const j = 1 + (rnd() - 0.5) * 0.2;
        v[s] += s === T ? d.fireRise * intensity * j : SPECS[s].fire * sc * j;
      }
    }
    const temperature = round(v[T], 3);
    const humidity = round(v[HUM] < 0 ? 0 : v[HUM] > 100 ? 100 : v[HUM], 2);
    const tvoc = Math.round(v[TVOC] < 0 ? 0 : v[TVOC] > SENSOR_CEILING ? SENSOR_CEILING : v[TVOC]);
    const eco2 = Math.round(v[ECO2] < 400 ? 400 : v[ECO2] > SENSOR_CEILING ? SENSOR_CEILING : v[ECO2]);
    const rawH2 = Math.round(v[H2] < 0 ? 0 : v[H2]);
    const rawEthanol = Math.round(v[ETH] < 0 ? 0 : v[ETH]);
    const pressure = round(v[PRES], 3);
    const p = v[PM1] < 0 ? 0 : v[PM1];
    const pm1_0 = round(p, 2);
    const r = PARTICLE_RATIOS;
    const pm2_5 = round(p * (r.pm2_5.quiet + (r.pm2_5.smoke - r.pm2_5.quiet) * intensity), 2);
    const nc0_5 = round(p * (r.nc0_5.quiet + (r.nc0_5.smoke - r.nc0_5.quiet) * intensity), 2);
    const nc1_0 = round(p * (r.nc1_0.quiet + (r.nc1_0.smoke - r.nc1_0.quiet) * intensity), 3);
    const nc2_5 = round(p * (r.nc2_5.quiet + (r.nc2_5.smoke - r.nc2_5.quiet) * intensity), 4);
    const cnt = d.cnt++;
    const fireAlarm = intensity >= ALARM_INTENSITY ? 1 : 0;

    // Object literals with a fixed key order: every reading shares one hidden class (cheap to build
    // and to read downstream).
    const out: SimReading = this.kaggle
      ? {
          UTC: t / 1000,
          'Temperature[C]': temperature,
          'Humidity[%]': humidity,
          'TVOC[ppb]': tvoc,
          'eCO2[ppm]': eco2,
          'Raw H2': rawH2,
          'Raw Ethanol': rawEthanol,
          'Pressure[hPa]': pressure,
          'PM1.0': pm1_0,
          'PM2.5': pm2_5,
          'NC0.5': nc0_5,
          'NC1.0': nc1_0,
          'NC2.5': nc2_5,
          CNT: cnt,
          'Fire Alarm': fireAlarm,
          device_id: d.id,
        }
      : {
          deviceId: d.id,
          timestamp: t,
          temperature,
          humidity,
          tvoc,
          eco2,
          rawH2,
          rawEthanol,
          pressure,
          pm1_0,
          pm2_5,
          nc0_5,
          nc1_0,
          nc2_5,
          cnt,
          fireAlarm,
        };

    for (const f of UNMODELLED) out[this.kaggle ? f.header : f.key] = f.fill;
    if (o.missingRate > 0 && rnd() < o.missingRate) {
      const key = NUMERIC_SENSORS[Math.floor(rnd() * NUMERIC_SENSORS.length)];
      const field = this.kaggle ? KAGGLE_HEADERS[key] : key;
      if (this.missingNull) out[field] = null;
      else delete out[field];
    }
    return out;
  }

  private startFire(d: Device, t: number): void {
    d.fireStart = t;
    d.fireEnd = t + this.options.fireDurationMs;
    d.fireScale = 0.6 + 0.8 * this.rnd();
    d.fireRise = 35 + 10 * this.rnd();
  }
}

export { SimClock } from './sim-clock';
