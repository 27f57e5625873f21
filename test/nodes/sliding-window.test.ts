import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { deploy, helper, nodeModule } from './_helper';
import { quietReading } from '../unit/_reading';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Msg = Record<string, any>;

const MIN = 60_000;
const DATA = path.resolve(__dirname, '../../../shared/data/smoke_detection_iot.csv');
const SENTINEL = 'end-of-test';
const windowModule = nodeModule('sliding-window');

function reading(deviceId: string, timestamp: number, values: Record<string, unknown> = {}): Msg {
  return quietReading({ deviceId, timestamp, ...values }) as Msg;
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

/** Three devices at about 1 reading / 5 s, with jitter that makes some readings late, and nulls. */
function stream(n: number, seed: number): Msg[] {
  const r = rng(seed);
  const t0 = 1_654_712_187_000;
  return Array.from({ length: n }, (_, i) =>
    reading(`dev-${i % 3}`, t0 + i * 5000 - Math.floor(r() * r() * 16 * MIN), {
      temperature: 20 + r() * 30,
      humidity: r() < 0.1 ? null : 40 + r() * 10,
      pm2_5: r() * 40,
      fireAlarm: r() < 0.2 ? 1 : 0,
    }),
  );
}

interface Harness {
  node: any;
  /** Messages from output 1 (window results) and output 2 (late readings), sentinels left out. */
  out: Msg[];
  late: Msg[];
  send(msg: Msg): void;
  /** Resolves once every message sent so far has been handled and its output delivered. */
  drain(): Promise<void>;
}

/**
 * A fresh node id per flow: a node that stops without configured context stores leaves its windows
 * to the next node with its id (a redeploy), and tests must not inherit each other's windows.
 */
let seq = 0;
const nextId = (): string => `w${++seq}`;

async function start(config: Record<string, unknown> = {}): Promise<Harness> {
  const id = nextId();
  const flow = [
    { id, type: 'smoke-sliding-window', name: 'win', ...config, wires: [['out'], ['late']] },
    { id: 'out', type: 'helper' },
    { id: 'late', type: 'helper' },
  ];
  await helper.load(windowModule, flow);
  return harness(id);
}

function harness(id: string): Harness {
  const node = helper.getNode(id);
  const h: Harness = {
    node,
    out: [],
    late: [],
    send: (m) => node.receive(m),
    drain: () => Promise.resolve(),
  };
  let ended: (() => void) | null = null;
  helper.getNode('out').on('input', (m: Msg) => h.out.push(m));
  helper.getNode('late').on('input', (m: Msg) => {
    if (m.payload === SENTINEL) ended?.();
    else h.late.push(m);
  });
  h.drain = () =>
    new Promise<void>((resolve) => {
      // Not a reading: it leaves on output 2 after everything sent before it has been delivered.
      ended = () => setImmediate(resolve);
      node.receive({ payload: SENTINEL });
    });
  return h;
}

/** Window results of output 1, flattened (single: one per message; batch: arrays). */
const results = (out: Msg[]): Msg[] => out.flatMap((m) => (Array.isArray(m.payload) ? m.payload : [m.payload]));
const lateReadings = (late: Msg[]): Msg[] => late.flatMap((m) => (Array.isArray(m.payload) ? m.payload : [m.payload]));

function waitFor(cond: () => boolean, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const poll = setInterval(() => {
      if (cond()) {
        clearInterval(poll);
        resolve();
      } else if (Date.now() - t0 > ms) {
        clearInterval(poll);
        reject(new Error(`condition not met within ${ms} ms`));
      }
    }, 20);
  });
}

describe('sliding-window node', function () {
  this.timeout(30_000);
  afterEach(async function () {
    await helper.unload();
    delete process.env.SW_TEST_WINDOW;
    delete process.env.SW_TEST_SLIDE;
  });

  describe('sliding-window > single messages', function () {
    it('emits one new message per closed window, in window order, keyed by device, without msg.kafka', async function () {
      const h = await start();
      const kafka = (offset: number) => ({ topic: 'smoke_stream', partition: 0, offset, key: 'a', timestamp: 0, headers: {} });
      h.send({ payload: reading('a', 0), kafka: kafka(1) });
      h.send({ payload: reading('a', 30_000, { temperature: 30 }), kafka: kafka(2) });
      h.send({ payload: reading('a', 16 * MIN), kafka: kafka(3) });
      await h.drain();
      // watermark 6 min: the windows holding pane 0 (starting at -4..0 min, ending by 5 min) are final
      assert.deepEqual(
        h.out.map((m) => m.payload.windowStart),
        [-4, -3, -2, -1, 0].map((x) => x * MIN),
      );
      for (const m of h.out) {
        assert.equal(m.key, 'a');
        assert.equal(m.kafka, undefined);
        assert.equal(m.payload.final, true);
      }
      assert.deepEqual(h.out[0].payload, {
        deviceId: 'a',
        windowStart: -4 * MIN,
        windowEnd: MIN,
        count: 2,
        fireAlarmCount: 0,
        avgTemperature: 25,
        avgHumidity: 50,
        avgTvoc: 0,
        avgEco2: 400,
        avgPm25: 0,
        avgPressure: 935,
        maxTemperature: 30,
        minTemperature: 20,
        stddevTemperature: Math.sqrt(50),
        final: true,
      });
      assert.equal(h.late.length, 0);
    });

    it('routes a reading older than the watermark to output 2: the same message, with msg.late and msg.kafka', async function () {
      const h = await start();
      const late = { payload: reading('a', 5 * MIN), kafka: { topic: 't', partition: 0, offset: 7, timestamp: 0 } };
      let seen: Msg | undefined;
      helper.getNode('late').on('input', (m: Msg) => {
        if (m.payload !== SENTINEL) seen = m;
      });
      h.send({ payload: reading('a', 15 * MIN) });
      h.send(late);
      await h.drain();
      assert.equal(seen, late, 'not cloned');
      assert.deepEqual(late.payload, reading('a', 5 * MIN));
      assert.deepEqual((late as Msg).late, { watermark: 5 * MIN });
      assert.equal((late as Msg).kafka.offset, 7);
      assert.equal(h.out.length, 0);
    });

    it('routes an item that is not a reading, or has no usable time, to output 2 with an error', async function () {
      const h = await start();
      h.send({ payload: 42 });
      h.send({ payload: { deviceId: 'a', timestamp: 'yesterday-ish' } });
      await h.drain();
      assert.deepEqual(
        h.late.map((m) => m.late),
        [
          { watermark: null, error: 'not a reading' },
          { watermark: null, error: 'no usable time' },
        ],
      );
    });
  });

  describe('sliding-window > batches', function () {
    it('gives the same windows and late readings for arrays as for single messages, in the same order', async function () {
      const rs = stream(1500, 7);
      const single = await start();
      for (const r of rs) single.send({ payload: { ...r } });
      single.send({ flush: true });
      await single.drain();
      await helper.unload();

      const batch = await start();
      for (let i = 0; i < rs.length; ) {
        const n = 1 + ((i * 7) % 250);
        batch.send({ payload: rs.slice(i, i + n).map((r) => ({ ...r })), kafka: { topic: 't', partition: 0, timestamps: [] } });
        i += n;
      }
      batch.send({ flush: true });
      await batch.drain();

      assert.ok(batch.out.every((m) => Array.isArray(m.payload) && m.payload.length > 0), 'one message with an array per batch, none empty');
      assert.ok(batch.out.length < results(batch.out).length);
      assert.deepEqual(results(batch.out), results(single.out));
      assert.ok(results(single.out).some((w) => w.final) && results(single.out).some((w) => !w.final));
      assert.ok(lateReadings(single.late).length > 20, 'the stream has late readings');
      assert.deepEqual(lateReadings(batch.late), lateReadings(single.late));
      for (const m of batch.late) {
        assert.ok(Array.isArray(m.late) && m.late.length === m.payload.length, 'one msg.late entry per late reading');
        assert.ok(m.late.every((l: Msg) => typeof l.watermark === 'number'));
        assert.equal(m.kafka.topic, 't', 'the batch metadata stays on late readings');
      }
      assert.deepEqual(
        batch.late.flatMap((m) => m.late),
        single.late.map((m) => m.late),
      );
    });

    it('sends nothing on output 1 for a batch that closes no window', async function () {
      const h = await start();
      h.send({ payload: [reading('a', 0), reading('a', 1000)] });
      h.send({ payload: [] });
      await h.drain();
      assert.equal(h.out.length, 0);
      assert.equal(h.late.length, 0);
    });
  });

  describe('sliding-window > flush and reset', function () {
    it('msg.flush emits every open window with final: false and clears them; msg.reset forgets without emitting', async function () {
      const h = await start();
      h.send({ payload: reading('a', 0) });
      h.send({ payload: reading('b', 0) });
      h.send({ flush: 'a' });
      await h.drain();
      assert.deepEqual(
        h.out.map((m) => [m.payload.deviceId, m.payload.final]),
        Array(5).fill(['a', false]),
      );
      h.send({ reset: true });
      h.send({ flush: true });
      await h.drain();
      assert.equal(h.out.length, 5, 'reset dropped b without emitting');
      h.send({ payload: reading('a', 0) });
      await h.drain();
      assert.equal(h.late.length, 0, 'reset forgot the watermark as well');
    });
  });

  describe('sliding-window > time source', function () {
    it('windows by Kafka record time when asked (per record of a batch: msg.kafka.timestamps), else the reading timestamp', async function () {
      const h = await start({ timeSource: 'kafka' });
      h.send({ payload: reading('a', 0), kafka: { timestamp: String(10 * MIN) } });
      h.send({ payload: [reading('a', 0), reading('a', 0)], kafka: { timestamps: [10 * MIN + 1, 2 * MIN] } });
      // no Kafka metadata: its own timestamp (0), at or before the watermark (10 min + 1 ms - 10 min)
      h.send({ payload: reading('a', 0) });
      h.send({ flush: true });
      await h.drain();
      assert.deepEqual(
        h.late.map((m) => m.late),
        [{ watermark: 1 }],
      );
      assert.deepEqual(
        h.out.map((m) => [m.payload.windowStart / MIN, m.payload.count]),
        [
          [-2, 1],
          [-1, 1],
          [0, 1],
          [1, 1],
          [2, 1],
          [6, 2],
          [7, 2],
          [8, 2],
          [9, 2],
          [10, 2],
        ],
      );
    });

    it('closes windows by arrival time on a timer, without further readings', async function () {
      const h = await start({ timeSource: 'arrival', size: '200ms', slide: '100ms' });
      h.send({ payload: reading('a', 0) });
      h.send({ payload: [reading('b', 0), reading('b', -1e12)] });
      await waitFor(() => results(h.out).length >= 4, 5000);
      const res = results(h.out);
      assert.ok(res.every((w) => w.final === true && w.windowEnd - w.windowStart === 200));
      assert.deepEqual(new Set(res.map((w) => w.deviceId)), new Set(['a', 'b']));
      assert.equal(h.late.length, 0, 'nothing is late by arrival time');
      assert.ok(h.out.some((m) => Array.isArray(m.payload)), 'after a batch, timer results come as an array');
    });
  });

  describe('sliding-window > devices', function () {
    it('emits the open windows of a device idle for longer than the idle timeout', async function () {
      const h = await start({ idleTimeout: '300ms' });
      h.send({ payload: reading('a', 0) });
      await waitFor(() => h.out.length >= 5, 5000);
      assert.deepEqual(
        h.out.map((m) => [m.payload.deviceId, m.payload.final]),
        Array(5).fill(['a', false]),
      );
    });

    it('evicts the least recently seen device beyond max devices, emitting its windows first', async function () {
      const h = await start({ maxDevices: 1 });
      h.send({ payload: reading('a', 0) });
      h.send({ payload: reading('b', 0) });
      await h.drain();
      assert.deepEqual(
        h.out.map((m) => m.payload.deviceId),
        Array(5).fill('a'),
      );
    });

    it('shows devices, open windows and late readings in a blue status', async function () {
      const h = await start();
      const statuses: Msg[] = [];
      h.node.on('call:status', (call: { args: Msg[] }) => statuses.push(call.args[0]));
      h.send({ payload: [reading('a', 0), reading('b', 20 * MIN), reading('b', 0)] });
      await waitFor(() => statuses.some((s) => /late/.test(s.text)), 3000);
      const last = statuses[statuses.length - 1];
      assert.equal(last.fill, 'blue');
      assert.equal(last.text, '2 dev / 10 win 1 late');
    });
  });

  describe('sliding-window > configuration', function () {
    it('reports a window that is not a multiple of the slide with a red status and handles no input', async function () {
      const id = nextId();
      const flow = [
        { id, type: 'smoke-sliding-window', size: '7 minutes', slide: '2 minutes', wires: [['out'], ['late']] },
        { id: 'out', type: 'helper' },
        { id: 'late', type: 'helper' },
      ];
      await helper.load(windowModule, flow);
      const node = helper.getNode(id);
      const statuses = node.status.args.map((a: Msg[]) => a[0]);
      assert.ok(statuses.some((s: Msg) => s.fill === 'red' && s.text === 'bad config'));
      const errors = node.error.args.map((a: unknown[]) => String(a[0]));
      assert.ok(errors.some((e: string) => /multiple of the slide/.test(e)), errors.join('\n'));
      assert.equal(node.listenerCount('input'), 0);
    });

    it('reports unknown aggregates, an unknown context store and a negative watermark', async function () {
      const id = nextId();
      const flow = [{ id, type: 'smoke-sliding-window', aggregates: 'avgTemperature, medianPm25', store: 'nowhere', watermark: '-1s', wires: [[], []] }];
      await helper.load(windowModule, flow);
      const errors = helper
        .getNode(id)
        .error.args.map((a: unknown[]) => String(a[0]))
        .join('\n');
      assert.match(errors, /medianPm25/);
      assert.match(errors, /context store "nowhere"/);
      assert.match(errors, /watermark must be >= 0/);
    });

    it('takes the window and slide from environment variables (${WINDOW_DURATION}-style substitution)', async function () {
      process.env.SW_TEST_WINDOW = '2 minutes';
      process.env.SW_TEST_SLIDE = '30 seconds';
      const h = await start({ size: '${SW_TEST_WINDOW}', slide: '${SW_TEST_SLIDE}' });
      h.send({ payload: reading('a', 0) });
      h.send({ flush: true });
      await h.drain();
      assert.deepEqual(
        h.out.map((m) => [m.payload.windowStart, m.payload.windowEnd]),
        [-90_000, -60_000, -30_000, 0].map((s) => [s, s + 2 * MIN]),
      );
    });

    it('emits the configured aggregate keys, and update-mode provisional results', async function () {
      const h = await start({ aggregates: 'maxPm25, sumTvoc', outputMode: 'update' });
      h.send({ payload: reading('a', 0, { pm2_5: 3, tvoc: 5 }) });
      h.send({ payload: reading('a', MIN) });
      await h.drain();
      assert.deepEqual(h.out[0].payload, { deviceId: 'a', windowStart: -4 * MIN, windowEnd: MIN, count: 1, fireAlarmCount: 0, maxPm25: 3, sumTvoc: 5, final: false });
    });
  });

  describe('sliding-window > checkpoint in the node context', function () {
    it('keeps open windows across a redeploy of the node (memory context)', async function () {
      const id = nextId();
      const flow = (name: string) => [
        { id, type: 'smoke-sliding-window', name, wires: [['out'], ['late']] },
        { id: 'out', type: 'helper' },
        { id: 'late', type: 'helper' },
      ];
      await helper.load(windowModule, flow('before'));
      let h = harness(id);
      h.send({ payload: reading('a', 0) });
      h.send({ payload: reading('a', 20 * MIN) });
      await h.drain();
      await deploy(flow('after'), 'nodes');
      h = harness(id);
      assert.equal(h.node.name, 'after', 'a new node instance');
      h.send({ payload: reading('a', 5 * MIN) });
      h.send({ flush: true });
      await h.drain();
      assert.equal(h.late.length, 1, 'the watermark survived the redeploy');
      assert.deepEqual(
        h.out.map((m) => m.payload.windowStart / MIN),
        [16, 17, 18, 19, 20],
      );
    });
  });

  describe('sliding-window > replay of the Kaggle file through the node', function () {
    this.timeout(120_000);
    it('sends the 2022-06-08 session to output 2 and emits the reference windows (batches of 1000)', async function () {
      const text = fs.readFileSync(DATA, 'utf8').split(/\r?\n/);
      const head = text[0].split(',');
      const at = (name: string): number => head.indexOf(name);
      const rs = text
        .slice(1)
        .filter((l) => l !== '')
        .map((l) => {
          const v = l.split(',').map(Number);
          return {
            deviceId: 'kaggle',
            timestamp: v[at('UTC')] * 1000,
            temperature: v[at('Temperature[C]')],
            humidity: v[at('Humidity[%]')],
            tvoc: v[at('TVOC[ppb]')],
            eco2: v[at('eCO2[ppm]')],
            rawH2: v[at('Raw H2')],
            rawEthanol: v[at('Raw Ethanol')],
            pressure: v[at('Pressure[hPa]')],
            pm1_0: v[at('PM1.0')],
            pm2_5: v[at('PM2.5')],
            nc0_5: v[at('NC0.5')],
            nc1_0: v[at('NC1.0')],
            nc2_5: v[at('NC2.5')],
            cnt: v[at('CNT')],
            fireAlarm: v[at('Fire Alarm')],
          };
        });
      // Independent reference: late iff UTC·1000 <= running max − 10 min; windows gathered plainly.
      let max = -Infinity;
      const late = rs.map((r) => {
        const l = r.timestamp <= max - 10 * MIN;
        max = Math.max(max, r.timestamp);
        return l;
      });
      const expectedLate = late.filter(Boolean).length;
      const windows = new Map<number, (typeof rs)[number][]>();
      rs.forEach((r, i) => {
        if (late[i]) return;
        for (let s = Math.floor(r.timestamp / MIN) * MIN; s > r.timestamp - 5 * MIN; s -= MIN) {
          if (!windows.has(s)) windows.set(s, []);
          (windows.get(s) as (typeof rs)[number][]).push(r);
        }
      });
      const watermark = max - 10 * MIN;

      const h = await start();
      for (let i = 0; i < rs.length; i += 1000) h.send({ payload: rs.slice(i, i + 1000) });
      await h.drain();

      assert.equal(lateReadings(h.late).length, expectedLate);
      assert.equal(expectedLate, 56885 - 51142 + 1, 'rows 51142–56885, the 2022-06-08 session');
      const got = results(h.out);
      const finals = [...windows.keys()].filter((s) => s + 5 * MIN <= watermark).sort((a, b) => a - b);
      assert.deepEqual(
        got.map((w) => w.windowStart),
        finals,
      );
      const near = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
      for (const w of got) {
        const xs = windows.get(w.windowStart) as (typeof rs)[number][];
        const temps = xs.map((r) => r.temperature);
        const mean = temps.reduce((a, b) => a + b, 0) / temps.length;
        const sd = Math.sqrt(temps.reduce((a, t) => a + (t - mean) ** 2, 0) / (temps.length - 1));
        assert.equal(w.count, xs.length);
        assert.equal(w.fireAlarmCount, xs.filter((r) => r.fireAlarm === 1).length);
        assert.ok(near(w.avgTemperature, mean), `avg ${w.windowStart}`);
        assert.ok(near(w.avgPm25, xs.reduce((a, r) => a + r.pm2_5, 0) / xs.length), `pm2.5 ${w.windowStart}`);
        assert.ok(near(w.avgPressure, xs.reduce((a, r) => a + r.pressure, 0) / xs.length), `pressure ${w.windowStart}`);
        assert.equal(w.maxTemperature, Math.max(...temps));
        assert.equal(w.minTemperature, Math.min(...temps));
        assert.ok(xs.length < 2 ? w.stddevTemperature === null : near(w.stddevTemperature, sd), `stddev ${w.windowStart}`);
      }
    });
  });
});
