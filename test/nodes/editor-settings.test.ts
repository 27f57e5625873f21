/**
 * The sensor lists of the node editors come from the sensor table through the runtime (issue 16 point 1),
 * and the default rule tables from the detectors' own: the adapters export them as node settings
 * (nodes/nr/editor-settings.ts), the editors read them from RED.settings, and no editor keeps a copy. test/e2e/editor-defaults.test.ts checks the same editors in
 * Chromium against a real runtime.
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { defaultFetchSizes } from '../../nodes/lib/kafka-fetch';
import { AGGREGATE_KEYS } from '../../nodes/lib/panes';
import { NUMERIC_SENSORS, SENSOR_FIELDS, SENSOR_KEYS, ZSCORE_DEFAULT_SENSORS } from '../../nodes/lib/sensor-fields';
import { DEFAULT_RULES } from '../../nodes/lib/thresholds';
import { DEFAULT_WINDOW_RULES, WINDOW_AGGREGATES } from '../../nodes/lib/window-alert';
import { BROKER_CREDENTIALS, EDITOR_SETTINGS } from '../../nodes/nr/editor-settings';
import { editorDefinition, editorHtml, editorRedSettings } from './_editor';
import { pkg, root } from './_helper';

/* eslint-disable @typescript-eslint/no-explicit-any */

/** The options each adapter passes to RED.nodes.registerType, by node type (a stub RED, no runtime). */
function registrations(): Map<string, any> {
  const seen = new Map<string, any>();
  const RED = { settings: {}, nodes: { registerType: (type: string, _ctor: unknown, opts?: unknown) => seen.set(type, opts) } };
  // The built module itself (nodeModule wraps it for a real runtime's catalogues, which this stub is not).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  for (const name of [...Object.keys(EDITOR_SETTINGS), 'smoke-kafka-broker'].map((t) => t.replace(/^smoke-/, ''))) (require(path.join(root, 'dist', 'nodes', name, `${name}.js`)) as (red: unknown) => void)(RED);
  return seen;
}

describe('editor settings > the sensor table reaches the editors through the runtime', function () {
  it('each adapter exports its lists to the editor as node settings named after its type', function () {
    const seen = registrations();
    for (const [type, values] of Object.entries(EDITOR_SETTINGS)) {
      const settings = seen.get(type)?.settings;
      assert.ok(settings, `${type} registers no settings`);
      const prefix = type.replace(/-(.)/g, (_, c: string) => c.toUpperCase());
      for (const [name, value] of Object.entries(values)) {
        assert.ok(name.startsWith(prefix), `${name} must start with ${prefix} (Node-RED refuses it otherwise)`);
        assert.deepEqual(settings[name], { value, exportable: true });
      }
    }
  });

  it('the lists are the sensor table: keys, z-score choices and defaults, aggregates of every sensor', function () {
    const s = editorRedSettings();
    assert.deepEqual(s.smokeThresholdAlertSensors, SENSOR_FIELDS.map((f) => f.key));
    assert.deepEqual(s.smokeZscoreAnomalySensors, SENSOR_FIELDS.filter((f) => f.kind === 'measure').map((f) => f.key));
    assert.deepEqual(s.smokeZscoreAnomalyDefaultSensors, SENSOR_FIELDS.filter((f) => f.zscore).map((f) => f.key));
    assert.equal(AGGREGATE_KEYS.length, 6 * SENSOR_KEYS.length);
    assert.deepEqual(s.smokeSlidingWindowAggregates, AGGREGATE_KEYS);
  });

  it("kafka in's editor gets the fetch sizes an empty setting takes, by mode, from lib/kafka-fetch.ts", function () {
    assert.deepEqual(editorRedSettings().smokeKafkaInFetchSizes, { single: defaultFetchSizes('single'), batch: defaultFetchSizes('batch') });
  });

  it('sliding window: the editor accepts every aggregate the runtime does, and nothing else', function () {
    const validate = editorDefinition('smoke-sliding-window').defaults.aggregates.validate;
    assert.equal(validate(AGGREGATE_KEYS.join(', ')), true);
    for (const bad of ['avgSmoke', 'medianPm25', 'avgtemperature', 'avgTemperature, avgCo']) assert.equal(validate(bad), false, bad);
  });

  it('threshold alert: the editor accepts a rule on every sensor of the table, and no other', function () {
    const validate = editorDefinition('smoke-threshold-alert').defaults.rules.validate;
    assert.equal(validate(SENSOR_KEYS.map((sensor) => ({ sensor, op: '>', bound: 1, severity: 'HIGH' }))), true);
    assert.equal(validate([{ sensor: 'co', op: '>', bound: 1, severity: 'HIGH' }]), false);
  });

  it("the default rule tables are the detectors' own (lib/thresholds.ts, lib/window-alert.ts), and window alert's keys the aggregates of a window result", function () {
    const s = editorRedSettings();
    assert.deepEqual(s.smokeThresholdAlertRules, DEFAULT_RULES);
    assert.deepEqual(s.smokeWindowAlertRules, DEFAULT_WINDOW_RULES);
    assert.deepEqual(s.smokeWindowAlertAggregates, WINDOW_AGGREGATES);
  });

  for (const [name, rules, keys] of [
    ['threshold-alert', DEFAULT_RULES, SENSOR_KEYS],
    ['window-alert', DEFAULT_WINDOW_RULES, WINDOW_AGGREGATES],
  ] as const) {
    it(`${name}: the editor's default table is the runtime's, as it travels (JSON), and its rules are valid in the editor`, function () {
      const rulesSetting = editorDefinition(`smoke-${name}`).defaults.rules;
      const sent = JSON.parse(JSON.stringify(editorRedSettings()));
      const travelled = editorDefinition(`smoke-${name}`, sent).defaults.rules;
      for (const s of [rulesSetting, travelled]) {
        assert.deepEqual(JSON.parse(JSON.stringify(s.value)), JSON.parse(JSON.stringify(rules)));
        assert.deepEqual([...s.keys], [...keys]);
        assert.equal(s.validate(s.value), true);
      }
    });
  }

  it("kafka broker: the dialog's credentials are those the runtime registers, secrets as passwords", function () {
    const seen = registrations();
    assert.deepEqual(seen.get('smoke-kafka-broker')?.credentials, BROKER_CREDENTIALS, 'the runtime registers them');
    const def = editorDefinition('smoke-kafka-broker');
    assert.deepEqual(JSON.parse(JSON.stringify(def.credentials)), BROKER_CREDENTIALS, "the dialog's own copy (an object literal, for the Flow Library) is the runtime's");
    assert.deepEqual(Object.keys(def.credentials).filter((k) => def.credentials[k].type === 'password'), ['password', 'key', 'passphrase']);
    for (const k of Object.keys(BROKER_CREDENTIALS)) assert.ok(!(k in def.defaults), `${k} is no flow property`);
  });

  it('window alert: the editor accepts a rule on every aggregate of a window result, and no reading sensor', function () {
    const validate = editorDefinition('smoke-window-alert').defaults.rules.validate;
    assert.equal(validate(WINDOW_AGGREGATES.map((sensor) => ({ sensor, op: '>', bound: 1, severity: 'HIGH' }))), true);
    assert.equal(validate([{ sensor: 'temperature', op: '>', bound: 1, severity: 'HIGH' }]), false);
  });

  it('z-score anomaly: the editor defaults to the z-scored sensors and accepts the numeric ones only', function () {
    const sensors = editorDefinition('smoke-zscore-anomaly').defaults.sensors;
    assert.deepEqual([...sensors.value], ZSCORE_DEFAULT_SENSORS);
    assert.equal(sensors.validate([...NUMERIC_SENSORS]), true);
    assert.equal(sensors.validate(['cnt']), false);
    assert.equal(sensors.validate(['fireAlarm']), false);
  });

  it('no node editor spells out a sensor list (a sensor name is in at most its own settings, never as a list)', function () {
    for (const file of Object.keys(pkg['node-red'].nodes)) {
      const html = editorHtml(file);
      // Names no editor needs for its own settings: a list that holds them is a copy of the table.
      for (const name of ['rawEthanol', 'RawEthanol', 'nc0_5', 'Nc05']) assert.ok(!html.includes(name), `${file}: ${name}`);
    }
  });
});
