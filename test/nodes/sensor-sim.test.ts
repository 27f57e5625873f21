import { strict as assert } from 'node:assert';
import { helper, nodeModule } from './_helper';

const simNode = nodeModule('sensor-sim');

type Msg = { payload: unknown; topic?: string; key?: string };
interface TestNode {
  on(event: string, cb: (arg: never) => void): void;
  receive(msg: Record<string, unknown>): void;
  status: { getCalls(): { thisValue: unknown; args: [{ fill?: string; shape?: string; text?: string }] }[] };
}

function flow(sim: Record<string, unknown>) {
  return [
    { id: 'sim', type: 'smoke-sensor-sim', wires: [['out']], ...sim },
    { id: 'out', type: 'helper' },
  ];
}

/**
 * Loads `sim` next to a reference simulator that runs (autostart, the same rate) into `ref`: the moment
 * the reference has sent `n` messages is the moment `sim`, had it run, would have sent some too.
 */
async function loadWithReference(
  sim: Record<string, unknown>,
  refConfig: Record<string, unknown> = { devices: sim.devices, rate: sim.rate },
): Promise<{ sim: TestNode; out: TestNode; reference: (n: number) => Promise<Msg[]> }> {
  await helper.load(simNode, [
    ...flow(sim),
    { id: 'refSim', type: 'smoke-sensor-sim', wires: [['ref']], ...refConfig },
    { id: 'ref', type: 'helper' },
  ]);
  const ref = helper.getNode('ref') as TestNode;
  return { sim: helper.getNode('sim'), out: helper.getNode('out'), reference: (n) => collect(ref, n) };
}

/** Node-RED keeps input handlers outside EventEmitter: whether the node registered one. */
function hasInputHandler(n: unknown): boolean {
  const node = n as { _inputCallback?: unknown; _inputCallbacks?: unknown[] | null };
  return Boolean(node._inputCallback) || (node._inputCallbacks?.length ?? 0) > 0;
}

async function load(sim: Record<string, unknown>): Promise<{ sim: TestNode; out: TestNode }> {
  await helper.load(simNode, flow(sim));
  return { sim: helper.getNode('sim'), out: helper.getNode('out') };
}

/** Collects the next `n` messages that reach `out`. */
function collect(out: TestNode, n: number): Promise<Msg[]> {
  return new Promise((resolve) => {
    const got: Msg[] = [];
    out.on('input', ((msg: Msg) => {
      got.push(msg);
      if (got.length === n) resolve(got);
    }) as (arg: never) => void);
  });
}

/** The last status of node `n` (the spy is on the prototype: it records every node's calls). */
function lastStatus(n: TestNode) {
  return n.status.getCalls().filter((c) => c.thisValue === n).at(-1)?.args[0] ?? {};
}

/** Resolves on the next status call of `n` that satisfies `pred`. */
function statusWhere(n: TestNode, pred: (s: { fill?: string; text?: string }) => boolean): Promise<void> {
  return new Promise((resolve) => {
    n.on('call:status', ((call: { args: [{ fill?: string; text?: string }] }) => {
      if (pred(call.args[0])) resolve();
    }) as (arg: never) => void);
  });
}

describe('sensor-sim node', function () {
  this.timeout(10000);
  afterEach(async function () {
    await helper.unload();
  });

  describe('sensor-sim > output', function () {
    it('starts on deploy and sends one message per reading, topic and key = device id', async function () {
      await helper.load(simNode, flow({ devices: 3, seed: '7' }));
      const out: TestNode = helper.getNode('out');
      const msgs = await collect(out, 3);
      assert.deepEqual(
        msgs.map((m) => m.topic),
        ['sensor-1', 'sensor-2', 'sensor-3'],
      );
      for (const m of msgs) {
        const r = m.payload as Record<string, unknown>;
        assert.equal(m.key, m.topic);
        assert.equal(r.device_id, m.topic, 'data file shape by default');
        assert.equal(typeof r['Temperature[C]'], 'number');
      }
      assert.equal(lastStatus(helper.getNode('sim')).fill, 'green');
    });

    it('batch: one message per tick with every device reading in an array', async function () {
      const { out } = await load({ devices: 4, output: 'batch', shape: 'canonical', seed: '1' });
      const [m] = await collect(out, 1);
      assert.ok(Array.isArray(m.payload));
      const rs = m.payload as Record<string, unknown>[];
      assert.equal(rs.length, 4);
      assert.deepEqual(
        rs.map((r) => r.deviceId),
        ['sensor-1', 'sensor-2', 'sensor-3', 'sensor-4'],
      );
      assert.equal(new Set(rs.map((r) => r.timestamp)).size, 1, 'one tick: one event time');
      assert.equal(m.topic, undefined, 'a batch holds many devices: no single topic');
    });

    it('stamps readings with wall-clock event time on a 1/rate grid', async function () {
      const before = Date.now();
      const { out } = await load({ devices: 1, rate: 10, shape: 'canonical' });
      const msgs = await collect(out, 3);
      const ts = msgs.map((m) => (m.payload as { timestamp: number }).timestamp);
      assert.ok(ts[0] >= before - 100 && ts[0] <= Date.now());
      assert.deepEqual([ts[1] - ts[0], ts[2] - ts[1]], [100, 100]);
    });

    it('fast-forward: speed 60 sends a simulated minute per second', async function () {
      const { out } = await load({ devices: 1, rate: 1, speed: 60, shape: 'canonical' });
      const t0 = Date.now();
      const msgs = await collect(out, 31);
      const ts = msgs.map((m) => (m.payload as { timestamp: number }).timestamp);
      assert.equal(ts[30] - ts[0], 30_000);
      assert.ok(Date.now() - t0 < 2000, 'half a simulated minute within two seconds');
    });
  });

  describe('sensor-sim > start and stop', function () {
    it('with autostart off it is stopped (grey) and sends nothing until "start"', async function () {
      const { sim, out, reference } = await loadWithReference({ devices: 2, rate: 20, autostart: false });
      assert.equal(lastStatus(sim).fill, 'grey');
      let early = 0;
      out.on('input', (() => early++) as (arg: never) => void);
      // The reference started (deferred autostart) and sent two rounds: a started sim would have too.
      await reference(4);
      assert.equal(early, 0);
      const got = collect(out, 2);
      sim.receive({ payload: 'start' });
      await got;
      assert.equal(lastStatus(sim).fill, 'green');
    });

    it('"stop" (msg.command wins over msg.payload) stops the messages and turns the status grey', async function () {
      const { sim, out, reference } = await loadWithReference({ devices: 2, rate: 20 });
      await collect(out, 2);
      const stopped = statusWhere(sim, (s) => s.fill === 'grey');
      sim.receive({ payload: 'start', command: 'stop' });
      await stopped;
      let after = 0;
      out.on('input', (() => after++) as (arg: never) => void);
      // Two more rounds of the reference, which runs at the same rate: a running sim would have sent too.
      await reference(4);
      assert.equal(after, 0, 'no reading after stop');
      const again = collect(out, 2);
      sim.receive({ command: 'start' });
      await again;
    });

    it('the editor button toggles it through the admin API', async function () {
      const { sim } = await load({ devices: 1, autostart: false });
      const res = await helper.request().post('/smoke-sensor-sim/sim/toggle').expect(200);
      assert.deepEqual(res.body, { running: true });
      assert.equal(lastStatus(sim).fill, 'green');
      const res2 = await helper.request().post('/smoke-sensor-sim/sim/toggle').expect(200);
      assert.deepEqual(res2.body, { running: false });
      await helper.request().post('/smoke-sensor-sim/nope/toggle').expect(404);
    });

    it('"fire" sets the named device on fire at once', async function () {
      const { sim, out } = await load({ devices: 3, rate: 20, fire: 'off', fireDuration: 2, shape: 'canonical' });
      await collect(out, 3);
      // The status names the fire: "3 dev, 1 on fire".
      const onFire = statusWhere(sim, (s) => s.fill === 'green' && s.text === '3 dev, 1 on fire');
      const hot = new Promise<void>((resolve) => {
        out.on('input', ((m: Msg) => {
          const r = m.payload as { deviceId: string; fireAlarm: number; temperature: number };
          if (r.deviceId === 'sensor-2' && r.fireAlarm === 1) resolve();
        }) as (arg: never) => void);
      });
      sim.receive({ payload: 'fire', device: 'sensor-2' });
      await Promise.all([onFire, hot]);
    });

    it('warns about an unknown command and keeps running', async function () {
      const { sim, out } = await load({ devices: 1, rate: 20 });
      const warned = new Promise<void>((resolve) => sim.on('call:warn', (() => resolve()) as (arg: never) => void));
      sim.receive({ payload: 'explode' });
      await warned;
      await collect(out, 2);
    });
  });

  describe('sensor-sim > close', function () {
    it('clears its timer on close: no reading after the flow stops', async function () {
      const created: unknown[] = [];
      const cleared = new Set<unknown>();
      const origSet = global.setInterval;
      const origClear = global.clearInterval;
      global.setInterval = ((...a: Parameters<typeof setInterval>) => {
        const h = origSet(...a);
        created.push(h);
        return h;
      }) as typeof setInterval;
      global.clearInterval = ((h: Parameters<typeof clearInterval>[0]) => {
        cleared.add(h);
        return origClear(h);
      }) as typeof clearInterval;
      try {
        const { out } = await load({ devices: 2, rate: 50 });
        await collect(out, 2);
        await helper.unload();
        assert.ok(created.length >= 1, 'the node ran on a timer');
        for (const h of created) assert.ok(cleared.has(h), 'every timer it started was cleared');
      } finally {
        global.setInterval = origSet;
        global.clearInterval = origClear;
      }
    });
  });

  describe('sensor-sim > close before the deferred autostart', function () {
    it('never starts when the flow stops within 100 ms of deploy', async function () {
      let intervals = 0;
      const origSet = global.setInterval;
      const origTimeout = global.setTimeout;
      const origClear = global.clearTimeout;
      // The deferred autostart is a 100 ms timeout of the node's start function: it must be cancelled
      // on close (then it can never fire), which is the event, instead of waiting past 100 ms.
      const starts: unknown[] = [];
      const cleared = new Set<unknown>();
      global.setInterval = ((...a: Parameters<typeof setInterval>) => {
        intervals++;
        return origSet(...a);
      }) as typeof setInterval;
      global.setTimeout = ((fn: (...args: unknown[]) => void, ms?: number, ...rest: unknown[]) => {
        const t = origTimeout(fn, ms, ...rest);
        if (ms === 100 && fn.name === 'start') starts.push(t);
        return t;
      }) as typeof setTimeout;
      global.clearTimeout = ((t: Parameters<typeof clearTimeout>[0]) => {
        cleared.add(t);
        return origClear(t);
      }) as typeof clearTimeout;
      try {
        await load({ devices: 2, rate: 50 });
        await helper.unload();
        assert.equal(starts.length, 1, 'one deferred start was scheduled');
        assert.ok(cleared.has(starts[0]), 'the deferred start was cancelled on close');
        assert.equal(intervals, 0, 'no timer was started');
      } finally {
        global.setInterval = origSet;
        global.setTimeout = origTimeout;
        global.clearTimeout = origClear;
      }
    });
  });

  describe('sensor-sim > bad config', function () {
    const bad: [string, Record<string, unknown>][] = [
      ['devices 0', { devices: 0 }],
      ['a rate of -1 Hz', { rate: -1 }],
      ['a pattern without {n} for several devices', { devices: 3, idPattern: 'same' }],
      ['a fire longer than its interval', { fireEvery: 1, fireDuration: 120 }],
      ['an unknown shape', { shape: 'xml' }],
      ['missing values of 150 %', { missingPercent: 150 }],
      ['a speed of 0', { speed: 0 }],
    ];
    for (const [what, cfg] of bad) {
      it(`${what}: red status, an error, no readings and no input handler`, async function () {
        const { sim, out, reference } = await loadWithReference({ devices: 2, rate: 50, ...cfg }, { devices: 2, rate: 50 });
        assert.equal(lastStatus(sim).fill, 'red');
        const errors = helper.log().args.filter((a: [{ level: number }]) => a[0].level === helper.log().ERROR);
        assert.ok(errors.length >= 1, 'node.error was called');
        assert.equal(hasInputHandler(sim), false, 'no input handler: "start" cannot start it');
        let got = 0;
        out.on('input', (() => got++) as (arg: never) => void);
        sim.receive({ payload: 'start' });
        // A valid sim deployed with it has started and sent two rounds: the bad one sent nothing.
        await reference(4);
        assert.equal(got, 0);
      });
    }
  });
});
