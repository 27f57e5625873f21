/**
 * Shared types of the smoke-stream pipeline (CONTRACT §2, §4). Framework-free.
 */

/** Canonical sensor keys, in the order of the Kaggle data file's columns. */
export const SENSOR_KEYS = [
  'temperature',
  'humidity',
  'tvoc',
  'eco2',
  'rawH2',
  'rawEthanol',
  'pressure',
  'pm1_0',
  'pm2_5',
  'nc0_5',
  'nc1_0',
  'nc2_5',
  'cnt',
  'fireAlarm',
] as const;

export type SensorKey = (typeof SENSOR_KEYS)[number];

/** The 12 numeric sensors scored by default (everything but `cnt` and `fireAlarm`). */
export const NUMERIC_SENSORS = SENSOR_KEYS.filter((k) => k !== 'cnt' && k !== 'fireAlarm') as Exclude<
  SensorKey,
  'cnt' | 'fireAlarm'
>[];

/**
 * The canonical reading emitted by `sensor validate` and read by every later node.
 * `timestamp` is event time in epoch milliseconds. A sensor value of `null` means the sensor did
 * not report; numeric nodes skip nulls.
 */
export interface Reading {
  deviceId: string;
  timestamp: number;
  temperature: number | null;
  humidity: number | null;
  tvoc: number | null;
  eco2: number | null;
  rawH2: number | null;
  rawEthanol: number | null;
  pressure: number | null;
  pm1_0: number | null;
  pm2_5: number | null;
  nc0_5: number | null;
  nc1_0: number | null;
  nc2_5: number | null;
  cnt: number | null;
  fireAlarm: 0 | 1 | null;
  location?: string;
}

export type Severity = 'MEDIUM' | 'HIGH' | 'CRITICAL';
export const SEVERITIES: readonly Severity[] = ['MEDIUM', 'HIGH', 'CRITICAL'];
/** Numeric rank of a severity, higher is worse; 0 means normal. */
export const SEVERITY_RANK: Record<Severity, number> = { MEDIUM: 1, HIGH: 2, CRITICAL: 3 };

export type AlertType = 'THRESHOLD' | 'STATISTICAL' | 'PATTERN';

/** An alert on a detector's output 2 (CONTRACT §4). */
export interface Alert {
  type: AlertType;
  severity: Severity;
  /** Canonical sensor key, or `firePattern` for a PATTERN alert. */
  sensor: string;
  value: number | null;
  threshold: number | null;
  message: string;
  deviceId: string;
  timestamp: number;
  zScore?: number;
  indicators?: string[];
  /**
   * Only in `emit: change` mode: true on the alert that says the device's sensor returned to normal.
   * `severity` then holds the severity that was cleared.
   */
  cleared?: boolean;
}

/** How a detector emits alerts: one per offending reading, or only on a change of severity. */
export type EmitMode = 'every' | 'change';
