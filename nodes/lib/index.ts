/**
 * The package's main export (`require('@smoke-stream/node-red-smoke-stream')`): the framework-free
 * logic behind the Node-RED nodes, for scripts, tests and other runtimes. No Node-RED, no clock, no
 * I/O: where time matters it is a parameter (epoch ms). Re-exports only (plus `validateReading`, the
 * default validator's `validate`); see docs/api.md.
 *
 * Names are prefixed where the bare name would be unclear at the package's top level (`csv…`,
 * `sim…`, `…ThresholdRules`).
 */

import { createValidator } from './reading-validator';
import type { ReadingValidator } from './reading-types';

// Canonical reading and alert shapes (CONTRACT §2, §4).
export { SENSOR_KEYS, NUMERIC_SENSORS, SEVERITIES, SEVERITY_RANK } from './types';
export type { Reading, Alert, AlertCore, AlertOf, AlertSeverity, AlertType, ClearedDetails, Severity, SensorKey, EmitMode } from './types';

// Validation (sensor validate): raw input → canonical reading or `{ field, code, message }` errors.
export { createValidator as createReadingValidator } from './reading-validator';
export { validateWithZod as validateReadingWithSchema, readingSchema } from './reading-spec';
export { SENSOR_TABLE, SENSOR_FIELDS, KAGGLE_HEADERS, ZSCORE_DEFAULT_SENSORS } from './sensor-fields';
export type { SensorField, SensorRow, SensorKind } from './sensor-fields';
export { DEFAULT_DEVICE_ID } from './devices';
export { MAX_DEVICE_ID_LENGTH, DEFAULT_MAX_BYTES as DEFAULT_MAX_READING_BYTES } from './reading-types';
export type {
  ReadingValidator,
  ValidatorOptions as ReadingValidatorOptions,
  ValidationResult,
  ValidationError,
  ValidationCode,
  Fallbacks as ReadingFallbacks,
} from './reading-types';

const defaultValidator = createValidator();
/**
 * Validate one input with the default options (CONTRACT §2: absent sensors and out-of-range values
 * are errors). `fallbacks` gives the Kafka key / `msg.topic` / Kafka or arrival time used when the
 * input has no `deviceId` or `timestamp`. Never throws on data. For other options, or many inputs,
 * make a validator once with {@link createReadingValidator}.
 */
export const validateReading: ReadingValidator['validate'] = (input, fallbacks) => defaultValidator.validate(input, fallbacks);

// Detectors (threshold alert, zscore anomaly, fire pattern): `process(reading, now, alertsOut)`.
export { DEFAULT_MAX_DEVICES, DEFAULT_IDLE_MS } from './detector';
export type { Detector, DetectorOptions } from './detector';
export {
  ThresholdDetector,
  DEFAULT_RULES as DEFAULT_THRESHOLD_RULES,
  defaultRules as defaultThresholdRules,
  parseRules as parseThresholdRules,
} from './thresholds';
export type { ThresholdRule, ThresholdAlert, ThresholdDetails } from './thresholds';
export { ZScoreDetector, RollingZScore, ZSCORE_DEFAULTS, zscoreProblems } from './zscore';
export type { ZScoreOptions, NumericSensor, StatisticalAlert, ZScoreDetails } from './zscore';
export { FirePatternDetector, FIRE_INDICATORS, DEFAULT_FIRE_BOUNDS, fireProblems as firePatternProblems } from './fire-pattern';
export type { FirePatternOptions, FireBounds, FireIndicator, PatternAlert, PatternDetails } from './fire-pattern';

// Event-time sliding windows with a watermark (sliding window, CONTRACT §5).
export { SlidingWindows, windowOptionProblems } from './window';
export type { SlidingWindowOptions, OutputMode as WindowOutputMode, WindowResult, WindowSnapshot, WindowStats } from './window';
export { parseAggregates, DEFAULT_AGGREGATES, AGGREGATE_KEYS } from './panes';
export type { AggregateSpec, AggFn } from './panes';

// CSV rows (csv sink, CONTRACT §8): RFC 4180 quoting, NULL cells, formula neutralising, UTC-day files.
export { CsvFormatter, CsvRowError } from './csv-formatter';
export type { DayChunk as CsvDayChunk } from './csv-formatter';
export {
  CSV_PRESETS,
  READINGS_HEADER as CSV_READINGS_HEADER,
  WINDOW_COLUMNS as CSV_WINDOW_COLUMNS,
  ALERT_COLUMNS as CSV_ALERT_COLUMNS,
  layoutFor as csvLayout,
} from './csv-layouts';
export type { CsvLayout, CsvPreset } from './csv-layouts';
export { formatLine as csvLine, headerLine as csvHeaderLine, cell as csvCell, neutralise as neutraliseCsvText } from './csv-cells';
export { DEFAULT_FILE_PATTERN as CSV_DEFAULT_FILE_PATTERN, fileName as csvFileName } from './csv-files';

// Simulated detectors with fire episodes (sensor sim).
export { SensorSim, SimClock, SIM_DEFAULTS, simOptionProblems, deviceIds as simDeviceIds } from './sim';
export type { SimOptions, SimReading, SimShape, FireMode as SimFireMode, MissingAs as SimMissingAs } from './sim';

// Durations as the nodes take them ("5 minutes", "90s", 300000).
export { parseDuration } from './duration';
