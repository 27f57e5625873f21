/**
 * smoke-zscore-anomaly: rolling z-score per device and sensor (CONTRACT §4). Output 1 passes every
 * message on unchanged; output 2 carries STATISTICAL alerts. Thin adapter over lib/zscore.
 *
 * Numeric fields may hold `${Z_SCORE_THRESHOLD}` / `${ROLLING_WINDOW_SIZE}` (the seed's environment):
 * Node-RED substitutes a property whose whole value is `${NAME}` before the node starts.
 */
import { ZSCORE_DEFAULT_SENSORS } from '../lib/types';
import { ZSCORE_DEFAULTS, ZScoreDetector, zscoreProblems } from '../lib/zscore';
import { readDetectorOptions, registerDetectorNode } from '../nr/detector-node';
import { useCatalogues } from '../nr/i18n';
import { editorSettings } from '../nr/editor-settings';
import type { NodeDef, RED } from '../nr/types';

interface ZScoreAnomalyDef extends NodeDef {
  windowSize?: number | string;
  minValues?: number | string;
  zMedium?: number | string;
  zHigh?: number | string;
  /** Array of sensor keys, or comma-separated text; absent = the sensor table's z-scored sensors (the 12 numeric ones). */
  sensors?: string[] | string;
  emit?: string;
  maxDevices?: number | string;
  idleTimeout?: number | string;
}

/** Sensors from the config: an array (editor) or comma-separated text (hand-written flows, env vars). */
function sensorList(v: unknown): string[] | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (Array.isArray(v)) return v.map(String);
  return String(v)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export = function (RED: RED) {
  useCatalogues(RED);
  registerDetectorNode(
    RED,
    'smoke-zscore-anomaly',
    (c, config: ZScoreAnomalyDef) => {
      const opts = {
        ...readDetectorOptions(c),
        windowSize: c.number('windowSize', ZSCORE_DEFAULTS.windowSize, { integer: true, min: 2 }),
        minValues: c.number('minValues', ZSCORE_DEFAULTS.minValues, { integer: true, min: 2 }),
        zMedium: c.number('zMedium', ZSCORE_DEFAULTS.zMedium, { min: 0, exclusiveMin: true }),
        zHigh: c.number('zHigh', ZSCORE_DEFAULTS.zHigh, { min: 0, exclusiveMin: true }),
        sensors: sensorList(config.sensors) ?? [...ZSCORE_DEFAULT_SENSORS],
      };
      // Always state (each device's history); the lib's check only of settings that were read without a problem.
      return { create: () => new ZScoreDetector(opts), emit: opts.emit, problems: () => (c.problems.length > 0 ? [] : zscoreProblems(opts)) };
    },
    editorSettings('smoke-zscore-anomaly'),
  );
};
