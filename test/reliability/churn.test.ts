/**
 * Device churn: 1,000,000 distinct device ids (one reading each, batches of 1,000) through threshold
 * alert → zscore anomaly → fire pattern → sliding window, in-process. Every node is configured with a
 * device bound; per-device state must stay within it (least recently used devices evicted), and the
 * heap after GC must not grow with the number of devices seen.
 */
import { strict as assert } from 'node:assert';
import { FirePatternDetector } from '../../nodes/lib/fire-pattern';
import { ThresholdDetector } from '../../nodes/lib/thresholds';
import type { Alert, Reading } from '../../nodes/lib/types';
import { SlidingWindows, type WindowResult } from '../../nodes/lib/window';
import { ZScoreDetector } from '../../nodes/lib/zscore';
import { helper, nodeModule } from '../nodes/_helper';
import { dataRows } from './_data';
import { forgetSpyCalls, heapAfterGc, mb } from './_check';

const DEVICES = Number(process.env.SMOKE_CHURN_DEVICES) || 1_000_000;
const BATCH = 1000;
const MAX_DEVICES = 5000;
const T0 = 1_654_732_800_000;

/** Reading i: a device of its own, a timestamp one second after the previous one, the data file's values. */
function reading(i: number): Reading {
  const rows = dataRows();
  const v = rows[i % rows.length];
  return {
    deviceId: `churn-${i}`,
    timestamp: T0 + i * 1000,
    temperature: v[0],
    humidity: v[1],
    tvoc: v[2],
    eco2: v[3],
    rawH2: v[4],
    rawEthanol: v[5],
    pressure: v[6],
    pm1_0: v[7],
    pm2_5: v[8],
    nc0_5: v[9],
    nc1_0: v[10],
    nc2_5: v[11],
    cnt: v[12],
    fireAlarm: v[13] as 0 | 1,
  } as Reading;
}

function batch(from: number): Reading[] {
  const out: Reading[] = new Array(BATCH);
  for (let k = 0; k < BATCH; k++) out[k] = reading(from + k);
  return out;
}

describe('reliability > device churn (1,000,000 distinct devices)', function () {
  this.timeout(240_000);

  afterEach(async function () {
    await helper.unload();
  });

  it('keeps per-device state of the four nodes within max devices, heap after GC flat (node adapters)', async function () {
    const flow = [
      // alerts unwired: Node-RED would deep-clone them (a second message in one send)
      { id: 'threshold', type: 'smoke-threshold-alert', emit: 'change', maxDevices: MAX_DEVICES, wires: [['zscore'], []] },
      { id: 'zscore', type: 'smoke-zscore-anomaly', maxDevices: MAX_DEVICES, wires: [['fire'], []] },
      { id: 'fire', type: 'smoke-fire-pattern', emit: 'change', maxDevices: MAX_DEVICES, wires: [['window'], []] },
      { id: 'window', type: 'smoke-sliding-window', maxDevices: MAX_DEVICES, wires: [['results'], ['late']] },
      { id: 'results', type: 'helper' },
      { id: 'late', type: 'helper' },
    ];
    await helper.load(['threshold-alert', 'zscore-anomaly', 'fire-pattern', 'sliding-window'].map(nodeModule), flow);
    const first = helper.getNode('threshold');
    const win = helper.getNode('window');
    const errors: unknown[] = [];
    for (const id of ['threshold', 'zscore', 'fire', 'window']) helper.getNode(id).on('call:error', (c: { args: unknown[] }) => errors.push(c.args[0]));
    const statuses: string[] = [];
    win.on('call:status', (c: { args: Array<{ text?: string }> }) => statuses.push(String(c.args[0]?.text ?? '')));
    let evicted = 0;
    let late = 0;
    helper.getNode('results').on('input', (m: { payload: WindowResult[] }) => (evicted += m.payload.length));
    helper.getNode('late').on('input', (m: { payload: unknown[] }) => (late += m.payload.length));
    // The window runs a batch synchronously in its input handler: a second listener on it hears of
    // each batch once the window is through with it (backpressure without sleeps).
    let wake: (() => void) | null = null;
    win.on('input', () => wake?.());

    const heap: Array<[number, number]> = [];
    const marks = new Set([Math.min(DEVICES, 200_000), Math.floor(DEVICES / 2), DEVICES]);
    const t0 = Date.now();
    for (let i = 0; i < DEVICES; i += BATCH) {
      const through = new Promise<void>((resolve) => (wake = resolve));
      first.receive({ payload: batch(i) });
      await through;
      // the helper's sinon spies would otherwise keep every message sent
      if ((i / BATCH) % 20 === 0) forgetSpyCalls(helper);
      if (marks.has(i + BATCH)) heap.push([i + BATCH, heapAfterGc()]);
    }
    const ms = Date.now() - t0;
    // The results the window sent for the last batch: Node-RED delivers a send in the next setImmediate.
    await new Promise((r) => setImmediate(r));
    // The window's status while the stream ran (throttled to one in 500 ms): it reached max devices after
    // the first MAX_DEVICES of the DEVICES devices, and every status since shows them.
    const lastStatus = statuses[statuses.length - 1] ?? '';

    const [[, saturated]] = heap;
    const [, end] = heap[heap.length - 1];
    console.log(
      `      ${DEVICES} devices in ${(ms / 1000).toFixed(1)} s (${Math.round(DEVICES / (ms / 1000))} readings/s), max devices ${MAX_DEVICES};` +
        ` window status "${lastStatus}", ${evicted} windows of evicted devices\n` +
        `      heap after GC: ${heap.map(([n, h]) => `${n}: ${mb(h)}`).join(', ')}`,
    );
    assert.deepEqual(errors, []);
    assert.equal(late, 0, 'no reading late: each device has one');
    assert.match(lastStatus, /^5(\.0)?k dev /, 'the window holds max devices');
    // every evicted device emitted its open windows (one reading: size/slide = 5 windows each)
    assert.equal(evicted, (DEVICES - MAX_DEVICES) * 5);
    assert.ok(end - saturated < 16 * 1048576, `heap grew by ${mb(end - saturated)} between ${heap[0][0]} and ${DEVICES} devices`);
  });

  it('keeps the lib state of each detector and the window at max devices (lib, same stream)', function () {
    const threshold = new ThresholdDetector(undefined, { emit: 'change', maxDevices: MAX_DEVICES });
    const zscore = new ZScoreDetector({ maxDevices: MAX_DEVICES });
    const fire = new FirePatternDetector({ emit: 'change', maxDevices: MAX_DEVICES });
    const windows = new SlidingWindows({ sizeMs: 300_000, slideMs: 60_000, delayMs: 600_000, maxDevices: MAX_DEVICES });
    const alerts: Alert[] = [];
    const out: WindowResult[] = [];
    let maxSeen = 0;
    const n = Math.min(DEVICES, 100_000);
    for (let i = 0; i < n; i++) {
      const r = reading(i);
      const now = T0 + i;
      threshold.process(r, now, alerts);
      zscore.process(r, now, alerts);
      fire.process(r, now, alerts);
      windows.add(r, r.timestamp as number, now, out);
      alerts.length = 0;
      out.length = 0;
      if (i % 997 === 0) maxSeen = Math.max(maxSeen, threshold.devices, zscore.devices, fire.devices, windows.deviceCount);
    }
    assert.equal(threshold.devices, MAX_DEVICES);
    assert.equal(zscore.devices, MAX_DEVICES);
    assert.equal(fire.devices, MAX_DEVICES);
    assert.equal(windows.deviceCount, MAX_DEVICES);
    assert.ok(maxSeen <= MAX_DEVICES, `at most ${MAX_DEVICES} devices at any time (saw ${maxSeen})`);
  });
});
