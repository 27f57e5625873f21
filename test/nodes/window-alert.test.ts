/**
 * window alert in a real Node-RED runtime: behind the real sliding window node fed with readings of
 * the real data file, its alerts are those of the lib (nodes/lib/window-alert.ts) on the same window
 * results; plus the pass-through, the editor defaults and a bad rule table.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { DEFAULT_WINDOW_RULES, WINDOW_AGGREGATES, WindowAlertDetector } from '../../nodes/lib/window-alert';
import type { Alert, Reading } from '../../nodes/lib/types';
import { DATA_FILE, KAGGLE_TO_CANONICAL } from '../fixtures/csv-readings';
import { editorDefinition } from './_editor';
import { helper, nodeModule } from './_helper';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Msg = Record<string, any>;

const modules = [nodeModule('sliding-window'), nodeModule('window-alert')];

/** The data file's rows in time order (it is not sorted), as canonical readings of no device yet. */
function sortedRows(): Record<string, unknown>[] {
  const lines = fs.readFileSync(DATA_FILE, 'utf8').split(/\r?\n/).filter((l) => l !== '');
  const header = lines[0].split(',');
  const col = new Map(header.map((h, i) => [h, i]));
  const rows = lines.slice(1).map((line) => {
    const cells = line.split(',');
    const r: Record<string, unknown> = { timestamp: Number(cells[col.get('UTC')!]) * 1000 };
    for (const [kaggle, key] of KAGGLE_TO_CANONICAL) r[key] = Number(cells[col.get(kaggle)!]);
    return r;
  });
  return rows.sort((a, b) => (a.timestamp as number) - (b.timestamp as number));
}

/**
 * Three devices on three stretches of the real data: one whose windows cross the seed's TVOC, eCO2 and
 * PM2.5 rules with fire alarms on and off, one whose average temperature rises above 50 °C and one
 * whose average falls below −10 °C.
 */
function readings(): Reading[] {
  const rows = sortedRows();
  const a = rows.slice(54_600, 57_000).map((r) => ({ ...r, deviceId: 'lab-1' }));
  const b = rows.slice(4_200, 5_800).map((r) => ({ ...r, deviceId: 'lab-2' }));
  const c = rows.slice(27_200, 28_000).map((r) => ({ ...r, deviceId: 'lab-3' }));
  return [...a, ...b, ...c] as unknown as Reading[];
}

function flow(extra: Msg = {}): Msg[] {
  return [
    { id: 'sw', type: 'smoke-sliding-window', state: 'none', wires: [['wa'], ['late']] },
    { id: 'wa', type: 'smoke-window-alert', state: 'none', ...extra, wires: [['pass'], ['alerts']] },
    { id: 'late', type: 'helper' },
    { id: 'pass', type: 'helper' },
    { id: 'alerts', type: 'helper' },
  ];
}

describe('window-alert node > behind a real sliding window on the real data', function () {
  this.timeout(20000);
  afterEach(async function () {
    await helper.unload();
  });

  it('passes every window result on and raises the alerts the lib raises on them', async function () {
    await helper.load(modules, flow());
    const results: Msg[] = [];
    const alerts: Alert[] = [];
    let late = 0;
    helper.getNode('late').on('input', (msg: Msg) => {
      late += Array.isArray(msg.payload) ? msg.payload.length : 1;
    });
    helper.getNode('alerts').on('input', (msg: Msg) => {
      if (Array.isArray(msg.payload)) alerts.push(...msg.payload);
      else alerts.push(msg.payload);
    });
    const flushed = new Promise<void>((resolve) => {
      helper.getNode('pass').on('input', (msg: Msg) => {
        assert.ok(Array.isArray(msg.payload), 'a batch in gives arrays of results');
        results.push(...msg.payload);
        if (msg.payload.length > 0 && msg.payload.every((r: Msg) => r.final === false)) resolve();
      });
    });
    const sw = helper.getNode('sw');
    sw.receive({ payload: readings() });
    sw.receive({ flush: true });
    await flushed;

    const expected: Alert[] = [];
    const d = new WindowAlertDetector();
    for (const r of results) d.process(r as unknown as Reading, 0, expected);
    // Alerts of the last results follow their pass-through message.
    for (let i = 0; i < 200 && alerts.length < expected.length; i++) await new Promise((r) => setImmediate(r));

    assert.equal(late, 0, 'readings in time order: none is late');
    assert.ok(results.length > 50, `window results: ${results.length}`);
    assert.deepEqual(new Set(results.map((r) => r.deviceId)), new Set(['lab-1', 'lab-2', 'lab-3']));
    assert.deepEqual(alerts, expected);
    const kinds = new Set(alerts.map((a) => `${a.sensor} ${a.severity}`));
    for (const k of ['fireAlarmCount CRITICAL', 'avgTvoc HIGH', 'avgEco2 HIGH', 'avgPm25 HIGH', 'avgTemperature HIGH']) {
      assert.ok(kinds.has(k), `the data raises ${k} (raised: ${[...kinds].join(', ')})`);
    }
    const quiet = results.filter((r) => r.fireAlarmCount === 0);
    assert.ok(quiet.length > 0, 'some windows have no fire alarm');
    for (const a of alerts) {
      if (a.sensor === 'avgTemperature') assert.ok(a.deviceId === 'lab-2' ? a.value! > 50 : a.value! < -10, a.message);
      const r = results.find((x) => x.deviceId === a.deviceId && x.windowEnd === a.timestamp);
      assert.ok(r, 'each alert names its window by deviceId and window end');
      assert.equal(a.value, r[a.sensor], `${a.sensor} is the window's value`);
      assert.equal(a.type, 'THRESHOLD');
    }
    const fire = alerts.find((a) => a.sensor === 'fireAlarmCount')!;
    assert.match(fire.message, /^\d+ fire alarms? \(fireAlarmCount > 0, CRITICAL\) in window \d{4}-\d\d-\d\dT/);
  });

  it('in emit change, raises one alert per episode and clears it', async function () {
    await helper.load(modules, flow({ emit: 'change' }));
    const alerts: Alert[] = [];
    helper.getNode('alerts').on('input', (msg: Msg) => alerts.push(msg.payload));
    const done = new Promise<void>((resolve) => {
      let n = 0;
      helper.getNode('pass').on('input', () => {
        if (++n === 3) resolve();
      });
    });
    const w = (avgTemperature: number, end: number): Msg => ({ deviceId: 'd', windowStart: end - 300_000, windowEnd: end, count: 300, fireAlarmCount: 0, avgTemperature, final: true });
    const wa = helper.getNode('wa');
    wa.receive({ payload: w(55, 60_000_000) });
    wa.receive({ payload: w(56, 60_060_000) });
    wa.receive({ payload: w(20, 60_120_000) });
    await done;
    for (let i = 0; i < 20 && alerts.length < 2; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual(alerts.map((a) => [a.sensor, a.severity, a.cleared === true, a.timestamp]), [
      ['avgTemperature', 'HIGH', false, 60_000_000],
      ['avgTemperature', 'NORMAL', true, 60_120_000],
    ]);
  });

  it('passes a message through unchanged and uncloned', async function () {
    await helper.load(modules, flow());
    const sent: Msg = { payload: { deviceId: 'd', windowEnd: 1, fireAlarmCount: 2 }, topic: 't' };
    const got = new Promise<Msg>((resolve) => helper.getNode('pass').on('input', resolve));
    helper.getNode('wa').receive(sent);
    const msg = await got;
    assert.equal(msg, sent, 'the same object');
    assert.deepEqual(msg.payload, { deviceId: 'd', windowEnd: 1, fireAlarmCount: 2 });
  });

  it('a bad rule table puts the node in a red status and it handles nothing', async function () {
    await helper.load(modules, flow({ rules: [{ sensor: 'temperature', op: '>', bound: 1, severity: 'HIGH' }] }));
    const wa = helper.getNode('wa');
    const calls = (m: 'status' | 'error'): any[][] => wa[m].getCalls().filter((c: any) => c.thisValue === wa).map((c: any) => c.args);
    assert.ok(calls('error').some((e) => /unknown aggregate "temperature"/.test(String(e[0]))), JSON.stringify(calls('error')));
    assert.deepEqual(calls('status').pop(), [{ fill: 'red', shape: 'ring', text: 'bad config' }]);
    assert.ok(!wa._inputCallback && !wa._inputCallbacks, 'no input handler registered');
  });
});

describe('window-alert node > editor', function () {
  it("the editor's default rules are the lib's (the seed's)", function () {
    const def = editorDefinition('smoke-window-alert');
    assert.deepEqual(JSON.parse(JSON.stringify(def.defaults.rules.value)), DEFAULT_WINDOW_RULES.map((x) => ({ ...x })));
    assert.deepEqual([...def.defaults.rules.keys], [...WINDOW_AGGREGATES], 'a rule may name each aggregate of a window result');
  });
});
