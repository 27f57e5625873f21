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

/** The alert types of this package's detectors. The type of {@link AlertCore.type} is open: a new detector names its own. */
export type AlertType = 'THRESHOLD' | 'STATISTICAL' | 'PATTERN';

/**
 * Severity of an alert: one of {@link SEVERITIES}, or `NORMAL` on a cleared alert (the sensor returned to
 * normal; `emit: change` only), so that counting alerts by severity never counts a return to normal.
 */
export type AlertSeverity = Severity | 'NORMAL';

/**
 * The keys every alert has (CONTRACT §4), in the order they are shown: the readable `message` first, so
 * the debug sidebar's one-line preview of an alert starts with what happened. A detector adds its own
 * keys (`zScore`, `indicators` of CONTRACT §4) and a typed `details` object in its own module (see
 * {@link AlertOf}): a new detector extends this core, it does not edit it.
 */
export interface AlertCore {
  message: string;
  type: string;
  severity: AlertSeverity;
  /** Canonical sensor key, `firePattern` for a PATTERN alert, the aggregate for a window alert. */
  sensor: string;
  value: number | null;
  /**
   * The bound that was crossed, in the unit of `value` (a z-score bound for STATISTICAL alerts, a number
   * of indicators for PATTERN alerts); on a cleared alert, the bound it returned within.
   */
  threshold: number | null;
  deviceId: string;
  timestamp: number;
  /**
   * Only in `emit: change` mode: true on the alert that says the device's sensor returned to normal;
   * `severity` is then `NORMAL` and `details.was` the severity that was cleared.
   */
  cleared?: boolean;
  /** What the detector knows beyond the core: typed per detector (see {@link AlertOf}). */
  details?: object;
}

/** The details every cleared alert carries: the severity that was cleared. */
export interface ClearedDetails {
  was: Severity;
}

/** An alert of type `T` with details `D`: how each detector declares its alerts (e.g. `ThresholdAlert`). */
export interface AlertOf<T extends string, D extends object> extends AlertCore {
  type: T;
  details: D;
}

/**
 * An alert on a detector's output 2 (CONTRACT §4), as the pipeline's generic code (the detector node,
 * the csv sink) handles it: the core plus the contract's optional keys of the existing detectors.
 */
export interface Alert extends AlertCore {
  zScore?: number;
  indicators?: string[];
}

/** How a detector emits alerts: one per offending reading, or only on a change of severity. */
export type EmitMode = 'every' | 'change';
