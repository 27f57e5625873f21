import { strict as assert } from 'node:assert';
import { DEFAULT_DEVICE_ID, DEFAULT_MAX_DEVICES, deviceKey } from '../../nodes/lib/devices';
import { FirePatternDetector } from '../../nodes/lib/fire-pattern';
import { createValidator } from '../../nodes/lib/reading-validator';
import { ThresholdDetector } from '../../nodes/lib/thresholds';
import type { Alert, Reading } from '../../nodes/lib/types';
import { SlidingWindows, type WindowResult } from '../../nodes/lib/window';
import { ZScoreDetector } from '../../nodes/lib/zscore';

const MIN = 60_000;

/** A reading as a node gets it when it skipped sensor validate: the device id may still be a number. */
function raw(deviceId: unknown, timestamp: number, temperature: number): Reading {
  return { deviceId, timestamp, temperature, humidity: 50, tvoc: 0, eco2: 400, pm2_5: 0, fireAlarm: 0 } as unknown as Reading;
}

describe('devices > device key', () => {
  it('keeps text, turns a safe integer into its decimal text and anything else into "default"', () => {
    assert.equal(deviceKey('room-1'), 'room-1');
    assert.equal(deviceKey(42), '42');
    assert.equal(deviceKey(0), '0');
    assert.equal(deviceKey(-7), '-7');
    for (const v of [undefined, null, '', 1.5, NaN, Infinity, 2 ** 53, true, {}]) assert.equal(deviceKey(v), DEFAULT_DEVICE_ID, String(v));
  });

  it('is the rule sensor validate applies to a numeric deviceId and a numeric Kafka key', () => {
    const v = createValidator({ missing: 'fill' });
    const a = v.validate({ deviceId: 42, timestamp: 1 });
    const b = v.validate({ timestamp: 1 }, { key: 42 });
    assert.ok(a.ok && b.ok);
    assert.equal(a.reading.deviceId, deviceKey(42));
    assert.equal(b.reading.deviceId, deviceKey(42));
  });

  it('gives detectors and windows one default bound on devices', () => {
    assert.equal(DEFAULT_MAX_DEVICES, 10_000);
    const w = new SlidingWindows({ sizeMs: MIN, slideMs: MIN, delayMs: 0 });
    const out: WindowResult[] = [];
    for (let i = 0; i <= DEFAULT_MAX_DEVICES; i++) w.add(raw(`d${i}`, 0, 20), 0, 0, out);
    assert.equal(w.stats().devices, DEFAULT_MAX_DEVICES);
  });
});

describe('devices > a numeric device id is the same device in every node', () => {
  it('threshold alert (emit: change) keeps one severity for 42 and "42"', () => {
    const d = new ThresholdDetector(undefined, { emit: 'change' });
    const out: Alert[] = [];
    d.process(raw(42, 1, 60), 1, out);
    assert.deepEqual(out.map((a) => [a.deviceId, a.severity]), [['42', 'HIGH']]);
    d.process(raw('42', 2, 60), 2, out);
    assert.equal(out.length, 1, 'no new alert: the severity of device "42" did not change');
    assert.equal(d.devices, 1);
  });

  it('zscore anomaly scores 42 and "42" against one history', () => {
    const d = new ZScoreDetector({ sensors: ['temperature'], windowSize: 30, minValues: 20 });
    const out: Alert[] = [];
    for (let i = 0; i < 29; i++) d.process(raw(i % 2 === 0 ? 42 : '42', i, 20 + (i % 2) * 0.1), i, out);
    d.process(raw(42, 29, 80), 29, out);
    assert.equal(d.devices, 1);
    assert.deepEqual(out.map((a) => [a.type, a.deviceId]), [['STATISTICAL', '42']]);
  });

  it('fire pattern (emit: change) keeps one severity for 42 and "42"', () => {
    const d = new FirePatternDetector({ emit: 'change' });
    const out: Alert[] = [];
    const fire = (id: unknown): Reading => ({ ...raw(id, 1, 50), tvoc: 900 }) as Reading;
    d.process(fire(42), 1, out);
    d.process(fire('42'), 2, out);
    assert.deepEqual(out.map((a) => [a.deviceId, a.severity]), [['42', 'HIGH']]);
    assert.equal(d.devices, 1);
  });

  it('sliding window aggregates 42 and "42" in one window of device "42"', () => {
    const w = new SlidingWindows({ sizeMs: MIN, slideMs: MIN, delayMs: 0 });
    const out: WindowResult[] = [];
    w.add(raw(42, 1_000, 20), 1_000, 0, out);
    w.add(raw('42', 2_000, 22), 2_000, 0, out);
    w.flush(out);
    assert.deepEqual(out.map((r) => [r.deviceId, r.count, r.avgTemperature]), [['42', 2, 21]]);
  });
});
