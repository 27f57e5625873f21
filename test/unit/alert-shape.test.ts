/**
 * Alerts of all three detectors, in both emit modes: the contract's keys (CONTRACT §4), `message` first
 * so the debug sidebar's preview starts with it, then the detector's own keys (zScore / indicators),
 * `cleared`, and the typed `details`; plain objects, now that lib/detector's newAlert builds them field
 * by field (so that V8 never has to migrate them: see its comment). A cleared alert has severity NORMAL
 * (never counted as an alert of a severity), the bound it returned within, and `details.was`.
 */
import { strict as assert } from 'node:assert';
import { FirePatternDetector } from '../../nodes/lib/fire-pattern';
import { ThresholdDetector } from '../../nodes/lib/thresholds';
import type { Alert, Reading } from '../../nodes/lib/types';
import { ZScoreDetector } from '../../nodes/lib/zscore';

const BASE = ['message', 'type', 'severity', 'sensor', 'value', 'threshold', 'deviceId', 'timestamp'];

/** The details keys of a raised alert, by type. */
const DETAILS: Record<string, string[]> = {
  THRESHOLD: ['op', 'unit'],
  STATISTICAL: ['mean', 'stdDev', 'count', 'bound'],
  PATTERN: ['temperature', 'tvoc', 'eco2', 'pm2_5', 'fireAlarm'],
};

function reading(i: number, over: Partial<Reading>): Reading {
  return {
    deviceId: 'kitchen',
    timestamp: Date.UTC(2024, 0, 1) + i * 1000,
    temperature: 21.5,
    humidity: 45,
    tvoc: 100,
    eco2: 420,
    rawH2: 12300,
    rawEthanol: 18500,
    pressure: 939.7,
    pm1_0: 1,
    pm2_5: 1.5,
    nc0_5: 8,
    nc1_0: 1.2,
    nc2_5: 0.03,
    cnt: i,
    fireAlarm: 0,
    ...over,
  } as Reading;
}

/** Quiet readings, then a fire (integer and fractional values, the alarm flag alone), then quiet again. */
function stream(): Reading[] {
  const out: Reading[] = [];
  for (let i = 0; i < 60; i++) out.push(reading(i, { eco2: 420 + (i % 2), temperature: 21 + (i % 3) / 10 }));
  out.push(reading(60, { fireAlarm: 1 }));
  out.push(reading(61, { temperature: 55, tvoc: 2500, eco2: 1600, pm2_5: 60 }));
  out.push(reading(62, { temperature: 55.25, tvoc: 900.5, eco2: 850, pm2_5: 31.5, fireAlarm: 1 }));
  for (let i = 63; i < 70; i++) out.push(reading(i, {}));
  return out;
}

for (const emit of ['every', 'change'] as const) {
  describe(`detectors > alert shape (emit: ${emit})`, function () {
    const detectors = [
      ['threshold alert', new ThresholdDetector(undefined, { emit }), []],
      ['zscore anomaly', new ZScoreDetector({ emit }), ['zScore']],
      ['fire pattern', new FirePatternDetector({ emit }), ['indicators']],
    ] as const;
    for (const [name, detector, extra] of detectors) {
      it(`${name}: the contract's keys in the contract's order, a plain object`, function () {
        const alerts: Alert[] = [];
        for (const r of stream()) detector.process(r, 0, alerts);
        assert.ok(alerts.length > 1, 'the stream raises alerts');
        if (emit === 'change') assert.ok(alerts.some((a) => a.cleared === true), 'and clears them');
        for (const a of alerts) {
          assert.equal(Object.getPrototypeOf(a), Object.prototype);
          const keys = Object.keys(a);
          // Every alert of its type carries the type's extra key (a zScore, the indicators), cleared ones
          // too: this stream returns to normal with σ > 0, the only case where a cleared zScore is left out.
          const want = [...BASE, ...extra, ...(a.cleared === true ? ['cleared'] : []), 'details'];
          assert.deepEqual(keys, want, JSON.stringify(a));
          const details = a.details as Record<string, unknown>;
          if (a.cleared === true) {
            assert.equal(a.severity, 'NORMAL', 'a return to normal is no alert of a severity');
            assert.deepEqual(Object.keys(details), ['was']);
            assert.ok(['MEDIUM', 'HIGH', 'CRITICAL'].includes(details.was as string), JSON.stringify(a));
            assert.equal(typeof a.threshold, 'number', 'the bound it returned within');
          } else {
            assert.ok(['MEDIUM', 'HIGH', 'CRITICAL'].includes(a.severity), JSON.stringify(a));
            assert.deepEqual(Object.keys(details), DETAILS[a.type], JSON.stringify(a));
            assert.ok(a.threshold === null || typeof a.threshold === 'number');
          }
          assert.equal(typeof a.value, 'number');
          assert.equal(typeof a.timestamp, 'number');
          if (a.type === 'STATISTICAL') assert.ok(typeof a.zScore === 'number' && a.zScore >= 0, 'a number z');
          if (a.type === 'PATTERN') assert.ok(Array.isArray(a.indicators), 'a list of indicators');
        }
      });
    }
  });
}
