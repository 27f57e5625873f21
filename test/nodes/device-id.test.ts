/**
 * One reading is one device in every node (CONTRACT §2, deviceId row): a numeric device id is the
 * text of the number whether sensor validate turned it into text or a node got it unvalidated.
 */
import { strict as assert } from 'node:assert';
import { helper, nodeModule } from './_helper';
import { quietReading } from '../unit/_reading';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Msg = Record<string, any>;

const T0 = 1_654_712_160_000; // a whole minute

function reading(deviceId: unknown, i: number, values: Record<string, unknown> = {}): Msg {
  return quietReading({ deviceId, timestamp: T0 + i * 1000, ...values });
}

/** Payloads reaching helper node `id`, and a promise for the moment one satisfies `until`. */
function collect(id: string, until: (p: Msg) => boolean): { got: Msg[]; seen: Promise<void> } {
  const got: Msg[] = [];
  const seen = new Promise<void>((resolve) => {
    helper.getNode(id).on('input', (m: Msg) => {
      for (const p of Array.isArray(m.payload) ? m.payload : [m.payload]) {
        got.push(p);
        if (until(p)) resolve();
      }
    });
  });
  return { got, seen };
}

describe('device id > a numeric device id is one device in every node', function () {
  this.timeout(10_000);
  afterEach(() => helper.unload());

  it('validate → threshold (emit: change) / zscore / window keep 42 and unvalidated 42 as device "42"', async () => {
    const flow = [
      { id: 'v', type: 'smoke-sensor-validate', wires: [['t', 'z', 'w'], []] },
      { id: 't', type: 'smoke-threshold-alert', emit: 'change', state: 'none', wires: [['t1'], ['t2']] },
      { id: 'z', type: 'smoke-zscore-anomaly', windowSize: 30, minValues: 20, sensors: 'temperature', state: 'none', wires: [['z1'], ['z2']] },
      { id: 'w', type: 'smoke-sliding-window', size: '1 minute', slide: '1 minute', watermark: '0', state: 'none', wires: [['w1'], []] },
      { id: 't1', type: 'helper' },
      { id: 't2', type: 'helper' },
      { id: 'z1', type: 'helper' },
      { id: 'z2', type: 'helper' },
      { id: 'w1', type: 'helper' },
    ];
    await helper.load([nodeModule('sensor-validate'), nodeModule('threshold-alert'), nodeModule('zscore-anomaly'), nodeModule('sliding-window')], flow);
    const passed = collect('z1', (p) => p.timestamp === T0 + 28_000);
    const thresholdAlerts = collect('t2', (p) => p.cleared === true);
    const zAlerts = collect('z2', () => true);
    const windows = collect('w1', () => true);

    // Through validate: deviceId 42 becomes "42"; tvoc 1500 is HIGH, temperature calm for the z-score.
    for (let i = 0; i < 29; i++) helper.getNode('v').receive({ payload: reading(42, i, { tvoc: 1500, temperature: 20 + (i % 2) / 10 }) });
    await passed.seen;
    // Unvalidated, the id still a number: the same device's state.
    helper.getNode('t').receive({ payload: reading(42, 29, { tvoc: 1500 }) });
    helper.getNode('t').receive({ payload: reading(42, 30) });
    helper.getNode('z').receive({ payload: reading(42, 29, { temperature: 80 }) });
    helper.getNode('w').receive({ payload: reading(42, 29) });
    helper.getNode('w').receive({ flush: true });
    await Promise.all([thresholdAlerts.seen, zAlerts.seen, windows.seen]);

    assert.deepEqual(
      thresholdAlerts.got.map((a) => [a.deviceId, a.severity, a.cleared === true]),
      [
        ['42', 'HIGH', false],
        ['42', 'NORMAL', true],
      ],
    );
    assert.deepEqual(zAlerts.got.map((a) => [a.type, a.deviceId, a.sensor]), [['STATISTICAL', '42', 'temperature']]);
    assert.deepEqual(windows.got.map((r) => [r.deviceId, r.count]), [['42', 30]]);
  });
});
