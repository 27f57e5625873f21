/**
 * Shared types of the smoke-stream pipeline (CONTRACT §2, §4). Framework-free.
 */

import type { SensorKey, SensorValue } from './sensor-fields';

// The sensor lists derive from the sensor table (sensor-fields.ts); they are re-exported here, where
// the rest of the code has always found them.
export { SENSOR_KEYS, NUMERIC_SENSORS, ZSCORE_DEFAULT_SENSORS } from './sensor-fields';
export type { SensorKey } from './sensor-fields';

/** One property per row of the sensor table: its value, or `null` when the sensor did not report. */
export type SensorValues = { [K in SensorKey]: SensorValue<K> };

/**
 * The canonical reading emitted by `sensor validate` and read by every later node: `deviceId`,
 * `timestamp`, one property per sensor of the table (in table order) and an optional `location`.
 * `timestamp` is event time in epoch milliseconds. A sensor value of `null` means the sensor did
 * not report; numeric nodes skip nulls.
 */
export interface Reading extends SensorValues {
  deviceId: string;
  timestamp: number;
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
