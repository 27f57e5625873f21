import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { DEFAULT_FIRE_BOUNDS } from '../../nodes/lib/fire-pattern';
import { DEFAULT_RULES } from '../../nodes/lib/thresholds';
import { NUMERIC_SENSORS } from '../../nodes/lib/types';
import { editorDefinition } from './_editor';
import { callsOf, helper, nodeModule, root } from './_helper';
import { quietReading } from '../unit/_reading';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Msg = Record<string, any>;

const modules = [nodeModule('threshold-alert'), nodeModule('zscore-anomaly'), nodeModule('fire-pattern')];

const TYPES = {
  threshold: 'smoke-threshold-alert',
  zscore: 'smoke-zscore-anomaly',
  fire: 'smoke-fire-pattern',
} as const;
type Kind = keyof typeof TYPES;

function reading(values: Record<string, unknown> = {}): Msg {
  return quietReading(values);
}

/** A reading that raises at least one alert on each detector (z-score: after a calm warm-up). */
const HOT = reading({ temperature: 72, tvoc: 2500, eco2: 1600, pm2_5: 60, fireAlarm: 1 });

/** Calm readings with a little variation, so that σ > 0 for every sensor. */
function calm(n: number, deviceId = 'd1'): Msg[] {
  return Array.from({ length: n }, (_, i) => {
    const w = i % 2;
    return reading({ deviceId, temperature: 20 + w, humidity: 50 + w, tvoc: w, eco2: 400 + w, rawH2: 12000 + w, rawEthanol: 19000 + w, pressure: 935 + w, pm1_0: w, pm2_5: w, nc0_5: w, nc1_0: w, nc2_5: w });
  });
}

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A mixed stream: 3 devices, noise, spikes, nulls, fire episodes. */
function stream(n: number, seed: number): Msg[] {
  const r = rng(seed);
  const out: Msg[] = [];
  for (let i = 0; i < n; i++) {
    const fire = i % 97 > 80;
    const spike = r() < 0.03 ? 30 : 1;
    out.push(
      reading({
        deviceId: `dev-${i % 3}`,
        timestamp: 1_654_712_187_000 + i * 1000,
        temperature: (fire ? 48 : 22) + r() * 4 * spike,
        humidity: r() < 0.05 ? null : 40 + r() * 10 * spike,
        tvoc: (fire ? 900 : 50) + r() * 300 * spike,
        eco2: (fire ? 900 : 420) + r() * 200 * spike,
        pm2_5: (fire ? 40 : 5) + r() * 5 * spike,
        pm1_0: r() * 10,
        pressure: 935 + r(),
        fireAlarm: fire && r() < 0.5 ? 1 : 0,
      }),
    );
  }
  return out;
}

interface Harness {
  node: any;
  out: Msg[];
  alerts: Msg[];
  /** Resolves once the sentinel sent after everything else has come out of output 1. */
  drain(): Promise<void>;
}

const SENTINEL = 'end-of-test';

async function start(kind: Kind, config: Record<string, unknown> = {}): Promise<Harness> {
  const flow = [
    { id: 'n1', type: TYPES[kind], name: kind, ...config, wires: [['out'], ['alerts']] },
    { id: 'out', type: 'helper' },
    { id: 'alerts', type: 'helper' },
  ];
  await helper.load(modules, flow);
  const h: Harness = { node: helper.getNode('n1'), out: [], alerts: [], drain: () => Promise.resolve() };
  let ended: (() => void) | null = null;
  helper.getNode('out').on('input', (m: Msg) => {
    if (m.payload === SENTINEL) ended?.();
    else h.out.push(m);
  });
  helper.getNode('alerts').on('input', (m: Msg) => h.alerts.push(m));
  h.drain = () =>
    new Promise<void>((resolve) => {
      // The sentinel is not an object: it passes through and raises nothing. Alerts of earlier
      // messages were queued before it, so they have been delivered once it comes out.
      ended = () => setImmediate(resolve);
      h.node.receive({ payload: SENTINEL });
    });
  return h;
}

function send(h: Harness, msgs: Msg[]): void {
  for (const m of msgs) h.node.receive(m);
}

/** Resolves once the status `node` last wrote has this text (throttled statuses arrive up to 500 ms later). */
async function statusBecomes(node: any, text: string | RegExp): Promise<any> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const last = callsOf(node, 'status').pop()?.[0];
    if (last && (typeof text === 'string' ? last.text === text : text.test(last.text))) return last;
    if (Date.now() > deadline) throw new Error(`status ${JSON.stringify(last)}, expected ${String(text)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}


describe('detector nodes > pass-through and alerts', function () {
  this.timeout(20000);
  afterEach(async function () {
    await helper.unload();
  });

  for (const kind of Object.keys(TYPES) as Kind[]) {
    it(`${kind}: passes the very same msg object on output 1 and new alert messages without msg.kafka on output 2`, async function () {
      const h = await start(kind);
      assert.equal(typeof h.node._inputCallback, 'function', 'a usable config registers the input handler');
      if (kind === 'zscore') send(h, calm(40).map((payload) => ({ payload })));
      const payload = { ...HOT };
      const snapshot = JSON.parse(JSON.stringify(payload));
      const kafka = { topic: 'smoke_stream', partition: 0, offset: '7', key: 'd1', timestamp: '1', headers: {} };
      const msg: Msg = { payload, kafka, topic: 'smoke_stream', key: 'd1' };
      send(h, [msg]);
      await h.drain();
      const last = h.out[h.out.length - 1];
      assert.equal(last, msg, 'output 1 is the input msg object itself');
      assert.equal(last.payload, payload);
      assert.equal(last.kafka, kafka);
      assert.deepEqual(last.payload, snapshot, 'the reading is unchanged');
      assert.ok(h.alerts.length >= 1);
      const type = { threshold: 'THRESHOLD', zscore: 'STATISTICAL', fire: 'PATTERN' }[kind];
      for (const a of h.alerts) {
        assert.notEqual(a, msg);
        assert.equal(a.kafka, undefined, 'alerts carry no msg.kafka');
        assert.equal(a.payload.type, type);
        assert.equal(a.payload.deviceId, 'd1');
        assert.equal(a.payload.timestamp, payload.timestamp);
      }
    });
  }

  it('threshold: one message per alert for a single reading, in sensor order', async function () {
    const h = await start('threshold');
    send(h, [{ payload: reading({ temperature: 72.1, eco2: 900 }) }]);
    await h.drain();
    assert.deepEqual(
      h.alerts.map((m) => [m.payload.sensor, m.payload.severity, m.payload.message]),
      [
        ['temperature', 'CRITICAL', 'temperature 72.1 > 70 (CRITICAL)'],
        ['eco2', 'MEDIUM', 'eco2 900 > 800 (MEDIUM)'],
      ],
    );
  });

  it('threshold: a batch gives one message with the array of alerts, and none when the batch raises nothing', async function () {
    const h = await start('threshold');
    const quiet: Msg = { payload: calm(5) };
    const noisy: Msg = { payload: [reading({ tvoc: 600 }), reading(), reading({ deviceId: 'd2', temperature: 55, pm2_5: 40 })] };
    send(h, [quiet, noisy]);
    await h.drain();
    assert.equal(h.out.length, 2);
    assert.equal(h.out[0], quiet);
    assert.equal(h.out[1], noisy);
    assert.equal(h.alerts.length, 1, 'the quiet batch sent nothing on output 2');
    assert.ok(Array.isArray(h.alerts[0].payload));
    assert.deepEqual(
      h.alerts[0].payload.map((a: Msg) => `${a.deviceId}:${a.sensor}:${a.severity}`),
      ['d1:tvoc:MEDIUM', 'd2:temperature:HIGH', 'd2:pm2_5:HIGH'],
    );
  });

  it('passes non-object items through and raises nothing for them', async function () {
    const h = await start('fire');
    const msg: Msg = { payload: 'hello' };
    const batch: Msg = { payload: [null, 42, reading({ fireAlarm: 1 })] };
    send(h, [msg, batch]);
    await h.drain();
    assert.deepEqual(h.out, [msg, batch]);
    assert.equal(h.alerts.length, 1);
    assert.deepEqual(h.alerts[0].payload.map((a: Msg) => a.severity), ['CRITICAL']);
  });

  it('counts readings and alerts in the Prometheus registry', async function () {
    // The registry of the built modules (the ones Node-RED loaded), not of the TypeScript sources.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { registry, forgetClosedNodes } = require(path.join(root, 'dist', 'nodes', 'nr', 'metrics.js'));
    // Earlier tests deployed a node of this id: its counters would go on (a redeployed node continues).
    forgetClosedNodes();
    const h = await start('fire');
    send(h, [{ payload: [reading({ fireAlarm: 1 }), reading(), reading({ tvoc: 900, eco2: 900 })] }, { payload: reading({ fireAlarm: 1 }) }]);
    await h.drain();
    const text: string = await registry.metrics();
    const line = (name: string, extra = '') => new RegExp(`^${name}\\{node_id="n1",node_name="fire",node_type="smoke-fire-pattern"${extra}\\} (\\d+)$`, 'm').exec(text)?.[1];
    assert.equal(line('smoke_readings_in_total'), '5', 'the sentinel counts as an item too');
    assert.equal(line('smoke_alerts_total', ',type="PATTERN",severity="CRITICAL"'), '2');
    assert.equal(line('smoke_alerts_total', ',type="PATTERN",severity="HIGH"'), '1');
  });

  it('zscore: shows its warm-up until the device scored last has its minimum of values, then the alert count', async function () {
    const h = await start('zscore');
    send(h, calm(12).map((payload) => ({ payload })));
    await h.drain();
    assert.deepEqual(await statusBecomes(h.node, 'warming up 12/30'), { fill: 'grey', shape: 'ring', text: 'warming up 12/30' });
    send(h, calm(40).map((payload) => ({ payload })));
    await h.drain();
    assert.deepEqual(await statusBecomes(h.node, /ignored/), { fill: 'grey', shape: 'ring', text: '2 ignored: not readings' }, 'warmed up, no alert yet: the harness end marks are not readings');
  });

  for (const kind of Object.keys(TYPES) as Kind[]) {
    it(`${kind}: says once that a payload is not a reading, and counts such items in the status until an alert (zscore: after its warm-up)`, async function () {
      const h = await start(kind);
      send(h, [{ payload: 1_654_712_187_000 }, { payload: [reading(), 'x', null] }, { payload: 'y' }]);
      await h.drain();
      const warned = callsOf(h.node, 'warn').map((a) => String(a[0]));
      assert.equal(warned.length, 1, JSON.stringify(warned));
      assert.match(warned[0], /msg\.payload \(number\) is not a reading/);
      // the harness's end mark (a string) is one more
      await statusBecomes(h.node, kind === 'zscore' ? 'warming up 1/30' : '5 ignored: not readings');
      assert.equal(h.out.length, 3, 'every message passed on');
    });
  }

  it('shows the alert count and last severity as a blue dot', async function () {
    const h = await start('fire');
    send(h, [{ payload: reading({ fireAlarm: 1 }) }]);
    await h.drain();
    assert.deepEqual(callsOf(h.node, 'status').pop(), [{ fill: 'blue', shape: 'dot', text: '1 alert, last CRITICAL' }]);
  });

  it('emit: change counts the returns to normal apart from the alerts, and a cleared alert is severity NORMAL', async function () {
    const h = await start('threshold', { emit: 'change' });
    const hot = reading({ tvoc: 1500 });
    const cool = reading({ tvoc: 100 });
    // One batch: one status update, written at once (the first).
    send(h, [{ payload: [hot, cool, hot, cool, hot] }]);
    await h.drain();
    const alerts = h.alerts.flatMap((m) => m.payload as Msg[]);
    assert.deepEqual(alerts.map((a) => `${a.severity}${a.cleared ? ' cleared' : ''}`), ['HIGH', 'NORMAL cleared', 'HIGH', 'NORMAL cleared', 'HIGH']);
    assert.deepEqual(callsOf(h.node, 'status').pop(), [{ fill: 'blue', shape: 'dot', text: '3 alerts, 2 cleared' }]);
  });
});

describe('detector nodes > batch and single give the same alerts', function () {
  this.timeout(60000);
  afterEach(async function () {
    await helper.unload();
  });

  const data = stream(600, 42);
  for (const kind of Object.keys(TYPES) as Kind[]) {
    for (const emit of ['every', 'change']) {
      it(`${kind}, emit ${emit}: single readings and batches of 50 raise identical alerts in identical order`, async function () {
        const single = await start(kind, { emit });
        send(single, data.map((r) => ({ payload: { ...r } })));
        await single.drain();
        const one = single.alerts.map((m) => m.payload);
        assert.ok(single.alerts.every((m) => !Array.isArray(m.payload)));
        await helper.unload();

        const batch = await start(kind, { emit });
        const msgs: Msg[] = [];
        for (let i = 0; i < data.length; i += 50) msgs.push({ payload: data.slice(i, i + 50).map((r) => ({ ...r })) });
        send(batch, msgs);
        await batch.drain();
        assert.equal(batch.out.length, msgs.length);
        const many = batch.alerts.flatMap((m) => m.payload);
        assert.ok(one.length > 10, `only ${one.length} alerts: the data should exercise the detector`);
        if (emit === 'change') assert.ok(one.some((a) => a.cleared === true), 'change mode clears somewhere');
        assert.deepEqual(many, one);
      });
    }
  }
});

describe('detector nodes > msg.reset', function () {
  this.timeout(20000);
  afterEach(async function () {
    await helper.unload();
  });

  it('consumes a reset message without payload and forgets every device', async function () {
    const h = await start('zscore');
    send(h, calm(40, 'a').map((payload) => ({ payload })));
    send(h, calm(40, 'b').map((payload) => ({ payload })));
    const reset: Msg = { reset: true };
    send(h, [reset, { payload: reading({ deviceId: 'a', tvoc: 5000 }) }, { payload: reading({ deviceId: 'b', tvoc: 5000 }) }]);
    await h.drain();
    assert.equal(h.out.length, 82, 'the reset message is not passed on');
    assert.ok(!h.out.includes(reset));
    assert.deepEqual(h.alerts, [], 'both devices warm up again');
  });

  it('forgets one device for a string reset, then processes the payload of the same message', async function () {
    const h = await start('zscore');
    send(h, calm(40, 'a').map((payload) => ({ payload })));
    send(h, calm(40, 'b').map((payload) => ({ payload })));
    const msg: Msg = { reset: 'a', payload: reading({ deviceId: 'a', tvoc: 5000 }) };
    send(h, [msg, { payload: reading({ deviceId: 'b', tvoc: 5000 }) }]);
    await h.drain();
    assert.equal(h.out[80], msg, 'a reset message with a payload passes through');
    assert.deepEqual(
      h.alerts.map((m) => m.payload.deviceId),
      ['b'],
      'only b kept its window',
    );
  });

  it('resets the change-mode state of the threshold node', async function () {
    const h = await start('threshold', { emit: 'change' });
    send(h, [{ payload: reading({ tvoc: 600 }) }, { payload: reading({ tvoc: 600 }) }, { reset: 'd1' }, { payload: reading({ tvoc: 600 }) }]);
    await h.drain();
    assert.equal(h.alerts.length, 2, 'raised, unchanged, forgotten, raised again');
  });
});

describe('detector nodes > configuration', function () {
  this.timeout(20000);
  afterEach(async function () {
    await helper.unload();
    delete process.env.SMOKE_TEST_Z;
    delete process.env.SMOKE_TEST_WINDOW;
  });

  const bad: [Kind, Record<string, unknown>, RegExp][] = [
    ['threshold', { rules: [{ sensor: 'smoke', op: '>', bound: 1, severity: 'HIGH' }] }, /unknown sensor "smoke"/],
    ['threshold', { rules: [{ sensor: 'tvoc', op: '>=', bound: 1, severity: 'HIGH' }] }, /comparison/],
    ['threshold', { rules: [{ sensor: 'tvoc', op: '>', bound: 'lots', severity: 'HIGH' }] }, /bound/],
    ['threshold', { rules: [{ sensor: 'tvoc', op: '>', bound: 1, severity: 'LOW' }] }, /unknown severity "LOW"/],
    ['threshold', { rules: '[{not json' }, /rules is not valid JSON/],
    ['threshold', { emit: 'sometimes' }, /emit must be one of every, change/],
    ['zscore', { zMedium: 4, zHigh: 3 }, /high z threshold/],
    ['zscore', { windowSize: 0 }, /windowSize/],
    ['zscore', { windowSize: 20, minValues: 30 }, /must not exceed the window size/],
    ['zscore', { sensors: [] }, /at least one sensor/],
    ['zscore', { sensors: 'temperature,smoke' }, /unknown sensor "smoke"/],
    ['zscore', { maxDevices: -1 }, /maxDevices/],
    ['zscore', { idleTimeout: 'soon' }, /idleTimeout is not a duration/],
    ['fire', { tvoc: 'abc' }, /tvoc must be a number/],
  ];
  for (const [kind, config, re] of bad) {
    it(`${kind}: ${JSON.stringify(config)} → red status, node.error, no input handler`, async function () {
      const h = await start(kind, config);
      const errors = callsOf(h.node, 'error').map((a) => String(a[0]));
      assert.ok(errors.some((e) => re.test(e)), errors.join('\n'));
      assert.deepEqual(callsOf(h.node, 'status').pop(), [{ fill: 'red', shape: 'ring', text: 'bad config' }]);
      assert.ok(!h.node._inputCallback && !h.node._inputCallbacks, 'no input handler registered');
    });
  }

  it('threshold: an absent rules property means the default table', async function () {
    const h = await start('threshold');
    send(h, [{ payload: reading({ temperature: 72, pressure: 800, pm1_0: 100 }) }]);
    await h.drain();
    assert.deepEqual(h.alerts.map((m) => [m.payload.sensor, m.payload.severity, m.payload.threshold]), [['temperature', 'CRITICAL', 70]]);
  });

  it('threshold: takes rules as JSON text and honours the enabled flag', async function () {
    const rules = JSON.stringify([
      { sensor: 'pressure', op: '<', bound: 950, severity: 'HIGH', enabled: true },
      { sensor: 'temperature', op: '>', bound: 30, severity: 'MEDIUM', enabled: false },
    ]);
    const h = await start('threshold', { rules });
    send(h, [{ payload: reading({ temperature: 72, pressure: 935 }) }]);
    await h.drain();
    assert.deepEqual(h.alerts.map((m) => [m.payload.sensor, m.payload.message]), [['pressure', 'pressure 935 < 950 (HIGH)']]);
  });

  it('zscore: takes ${ENV} values (the seed’s Z_SCORE_THRESHOLD / ROLLING_WINDOW_SIZE) through Node-RED substitution', async function () {
    process.env.SMOKE_TEST_Z = '2.5';
    process.env.SMOKE_TEST_WINDOW = '10';
    const h = await start('zscore', { zMedium: '${SMOKE_TEST_Z}', windowSize: '${SMOKE_TEST_WINDOW}', minValues: 10 });
    // In the window 0,1,0,1,0,1,0,1,0,3 the value 3 has z ≈ 2.56: above 2.5, below the default 3.
    send(h, [...calm(9).map((payload) => ({ payload })), { payload: reading({ tvoc: 3 }) }]);
    await h.drain();
    const tvoc = h.alerts.map((m) => m.payload).filter((a) => a.sensor === 'tvoc');
    assert.equal(tvoc.length, 1);
    assert.equal(tvoc[0].threshold, 2.5);
    assert.ok(tvoc[0].zScore > 2.5 && tvoc[0].zScore < 3, String(tvoc[0].zScore));
  });

  it('zscore: reports an environment value that cannot be used', async function () {
    process.env.SMOKE_TEST_WINDOW = '10';
    const h = await start('zscore', { windowSize: '${SMOKE_TEST_WINDOW}' });
    const errors = callsOf(h.node, 'error').map((a) => String(a[0]));
    assert.ok(errors.some((e) => /min values \(30\) must not exceed the window size \(10\)/.test(e)), errors.join('\n'));
  });

  it('fire: takes configured bounds as text from the editor', async function () {
    const h = await start('fire', { temperature: '30', tvoc: '100' });
    send(h, [{ payload: reading({ temperature: 35, tvoc: 150 }) }]);
    await h.drain();
    assert.deepEqual(h.alerts.map((m) => [m.payload.severity, m.payload.indicators]), [['HIGH', ['temperature', 'tvoc']]]);
  });
});

describe('detector nodes > editors', function () {
  it('threshold alert: the editor default table is the runtime default table', function () {
    const def = editorDefinition('smoke-threshold-alert');
    assert.deepEqual(JSON.parse(JSON.stringify(def.defaults.rules.value)), JSON.parse(JSON.stringify(DEFAULT_RULES)));
    assert.equal(def.defaults.version.value, 1);
    assert.equal(def.paletteLabel, 'threshold alert');
    assert.equal(def.category, 'smoke stream');
    const valid = def.defaults.rules.validate;
    assert.equal(valid(def.defaults.rules.value), true);
    assert.equal(valid(JSON.stringify(def.defaults.rules.value)), true);
    assert.equal(valid([{ sensor: 'smoke', op: '>', bound: 1, severity: 'HIGH' }]), false);
    assert.equal(valid([{ sensor: 'tvoc', op: '>', bound: 'x', severity: 'HIGH' }]), false);
    assert.equal(valid([{ sensor: 'tvoc', op: '>', bound: 1, severity: 'LOW' }]), false);
  });

  it('zscore anomaly: editor defaults are the runtime defaults, and the fields accept ${ENV}', function () {
    const def = editorDefinition('smoke-zscore-anomaly');
    const d = def.defaults;
    assert.deepEqual([d.windowSize.value, d.minValues.value, d.zMedium.value, d.zHigh.value], [100, 30, 3, 4]);
    assert.deepEqual([...d.sensors.value], NUMERIC_SENSORS);
    assert.deepEqual([d.emit.value, d.maxDevices.value, d.idleTimeout.value], ['every', 10000, '1 hour']);
    const node = { windowSize: 100, zMedium: 3 };
    assert.equal(d.zMedium.validate.call(node, '${Z_SCORE_THRESHOLD}'), true);
    assert.equal(d.windowSize.validate.call(node, '${ROLLING_WINDOW_SIZE}'), true);
    assert.equal(d.zHigh.validate.call(node, '2.5'), false, 'HIGH must be above MEDIUM');
    assert.equal(d.minValues.validate.call(node, '101'), false, 'min values above the window');
    assert.equal(d.windowSize.validate.call(node, '1'), false);
    assert.equal(d.idleTimeout.validate.call(node, '90 s'), true);
    assert.equal(d.idleTimeout.validate.call(node, 'soon'), false);
  });

  it('fire pattern: editor defaults are the runtime defaults', function () {
    const def = editorDefinition('smoke-fire-pattern');
    const d = def.defaults;
    assert.deepEqual({ temperature: d.temperature.value, tvoc: d.tvoc.value, eco2: d.eco2.value, pm2_5: d.pm2_5.value }, DEFAULT_FIRE_BOUNDS);
    assert.equal(d.tvoc.validate('abc'), false);
    assert.equal(d.tvoc.validate('${FIRE_TVOC}'), true);
  });
});
