/**
 * The values the node editors check against, from where the runtime keeps them (the sensor lists from
 * the sensor table, lib/sensor-fields.ts; the default rule tables of threshold alert and window alert,
 * lib/thresholds.ts and lib/window-alert.ts; kafka in's default fetch sizes, lib/kafka-fetch.ts), so that
 * no editor keeps a copy. Node-RED's way for a runtime to hand values to its editor: node settings,
 * registered with `RED.nodes.registerType(type, constructor, editorSettings(type))` and exported
 * (`exportable: true`) to the editor as `RED.settings.<name>` before any node's editor script runs. A
 * name must start with the node type in camel case. As with every node setting, a settings.js entry
 * of the same name would take the place of the value.
 */
import { FETCH_LARGE, FETCH_SMALL } from '../lib/kafka-fetch';
import { AGGREGATE_KEYS } from '../lib/panes';
import { NUMERIC_SENSORS, SENSOR_KEYS, ZSCORE_DEFAULT_SENSORS } from '../lib/sensor-fields';
import { DEFAULT_RULES } from '../lib/thresholds';
import { DEFAULT_WINDOW_RULES, WINDOW_AGGREGATES } from '../lib/window-alert';

/**
 * The kafka broker's credentials: the secrets (SASL password, TLS key and passphrase) and the
 * certificates, which Node-RED keeps apart from the flow JSON, encrypted. The runtime registers them
 * with the node type (kafka-broker.ts) and the broker's dialog edits them (its `credentials`); a
 * `password` is never sent back to the editor, which only learns that one is set. The dialog writes
 * them out as an object literal, where the Flow Library reads a node's credentials, and
 * test/nodes/editor-settings.test.ts keeps that copy equal to this one.
 */
export const BROKER_CREDENTIALS = {
  username: { type: 'text' },
  password: { type: 'password' },
  ca: { type: 'text' },
  cert: { type: 'text' },
  key: { type: 'password' },
  passphrase: { type: 'password' },
} as const;

/** The values each node's editor reads, by node type. */
export const EDITOR_SETTINGS = {
  /** The aggregate names the `aggregates` setting may list (`avgTemperature`, `maxPm25`, …). */
  'smoke-sliding-window': { smokeSlidingWindowAggregates: AGGREGATE_KEYS },
  /** The sensors a rule may name, and the default rule table (the dialog's defaults button, a new node). */
  'smoke-threshold-alert': { smokeThresholdAlertSensors: SENSOR_KEYS, smokeThresholdAlertRules: DEFAULT_RULES },
  /** The window aggregates a rule may name, and the default rule table. */
  'smoke-window-alert': { smokeWindowAlertAggregates: WINDOW_AGGREGATES, smokeWindowAlertRules: DEFAULT_WINDOW_RULES },
  /** The sensors that may be scored, and those scored when the list is left out. */
  'smoke-zscore-anomaly': { smokeZscoreAnomalySensors: NUMERIC_SENSORS, smokeZscoreAnomalyDefaultSensors: ZSCORE_DEFAULT_SENSORS },
  /** The fetch sizes an empty setting takes, by mode (`{ maxBytes, maxBytesPerPartition }`). */
  'smoke-kafka-in': { smokeKafkaInFetchSizes: { single: FETCH_SMALL, batch: FETCH_LARGE } },
} as const;

/** The `opts` of `registerType` that exports a node type's {@link EDITOR_SETTINGS} to its editor. */
export function editorSettings(type: keyof typeof EDITOR_SETTINGS): { settings: Record<string, { value: unknown; exportable: true }> } {
  const values: Record<string, unknown> = EDITOR_SETTINGS[type];
  return { settings: Object.fromEntries(Object.entries(values).map(([name, value]) => [name, { value, exportable: true as const }])) };
}
