/**
 * `smoke-sensor-sim`: simulated smoke detectors (nodes/lib/sim.ts) on a timer. The lib makes the
 * readings; this adapter owns the clock's timer, the start/stop/fire commands and the status.
 */
import { MAX_DEVICES, SensorSim, SimClock, simOptionProblems, type FireMode, type MissingAs, type SimOptions, type SimShape } from '../lib/sim';
import { ConfigReader } from '../nr/config';
import { reportBadConfig } from '../nr/errors';
import { useCatalogues } from '../nr/i18n';
import { NodeMetrics, installMetricsEndpoint } from '../nr/metrics';
import { compact, setStatus } from '../nr/status';
import type { Done, Node, NodeDef, NodeMessage, RED, Send } from '../nr/types';

/** Readings handed out per timer firing at most: a burst after a stall must not block the event loop. */
const MAX_READINGS_PER_FIRE = 10_000;

export = function (RED: RED) {
  useCatalogues(RED);
  // The editor's button on the node toggles it: node id → toggle, for nodes deployed in this runtime.
  const toggles = new Map<string, () => boolean>();
  function SensorSimNode(this: Node, def: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, def);
    const node = this;
    const cfg = new ConfigReader(def);
    const seedText = cfg.string('seed', '');
    const opts: SimOptions = {
      devices: cfg.number('devices', 10, { min: 1, max: MAX_DEVICES, integer: true }),
      idPattern: cfg.string('idPattern', 'sensor-{n}'),
      pad: cfg.number('pad', 0, { min: 0, max: 12, integer: true }),
      shape: cfg.oneOf<SimShape>('shape', ['kaggle', 'canonical'], 'kaggle'),
      drift: cfg.boolean('drift', true),
      fire: cfg.oneOf<FireMode>('fire', ['schedule', 'random', 'off'], 'schedule'),
      fireEveryMs: cfg.duration('fireEvery', 600_000, 'min'),
      fireDurationMs: cfg.duration('fireDuration', 60_000, 's'),
      fireProbability: cfg.number('fireProbability', 0.01, { min: 0, max: 1 }),
      missingRate: cfg.number('missingPercent', 0, { min: 0, max: 100 }) / 100,
      missingAs: cfg.oneOf<MissingAs>('missingAs', ['null', 'absent'], 'null'),
      // No seed: a different run each deploy; a seed: the same readings for the same event times.
      seed: seedText.trim() === '' ? Math.floor(Math.random() * 2 ** 32) : cfg.number('seed', 1, { integer: true }),
    };
    const rate = cfg.number('rate', 1, { min: 0, exclusiveMin: true, max: 1000 });
    const speed = cfg.number('speed', 1, { min: 0, exclusiveMin: true, max: 100_000 });
    const batch = cfg.oneOf('output', ['single', 'batch'], 'single') === 'batch';
    const autostart = cfg.boolean('autostart', true);
    const problems = [...cfg.problems, ...(cfg.problems.length ? [] : simOptionProblems(opts))];
    if (problems.length) return reportBadConfig(node, problems);

    const sim = new SensorSim(opts);
    const clock = new SimClock(rate, speed);
    const metrics = new NodeMetrics(node as Node & { name?: string });
    installMetricsEndpoint(RED);
    const stepsPerFire = Math.max(1, Math.floor(MAX_READINGS_PER_FIRE / sim.ids.length));
    // Wake often enough that a reading leaves within 250 ms of its event time, never more than every 10 ms.
    const intervalMs = Math.min(250, Math.max(10, clock.stepMs / speed));
    let timer: NodeJS.Timeout | null = null;
    let startTimer: NodeJS.Timeout | null = null;
    let burningShown = -1;
    let skippedShown = 0;
    let nextIgnite = 0;

    function showStatus(): void {
      if (!clock.isRunning) return setStatus(node, 'idle', RED._('smoke-sensor-sim.status.stopped'));
      const burning = sim.burning(clock.last);
      burningShown = burning;
      const count = sim.ids.length;
      setStatus(node, 'ok', burning > 0 ? RED._('smoke-sensor-sim.status.burning', { count, fires: burning }) : RED._('smoke-sensor-sim.status.running', { count }));
    }

    function emit(): void {
      const times = clock.due(Date.now(), stepsPerFire);
      if (times.length === 0) return;
      if (batch) {
        // Appended in place: concat per step would copy the growing batch once per step.
        const readings = sim.tick(times[0]);
        for (let i = 1; i < times.length; i++) {
          const more = sim.tick(times[i]);
          for (let j = 0; j < more.length; j++) readings.push(more[j]);
        }
        node.send({ payload: readings });
        metrics.readingsOut.inc(readings.length);
      } else {
        // One send() per reading: in one call with an array of messages Node-RED deep-clones every
        // message after the first (Node.prototype.send marks them `cloneMessage`).
        let sent = 0;
        for (const t of times) {
          const readings = sim.tick(t);
          for (let i = 0; i < readings.length; i++) {
            const r = readings[i];
            const id = r.device_id ?? r.deviceId;
            node.send({ payload: r, topic: id, key: id } as NodeMessage);
          }
          sent += readings.length;
        }
        metrics.readingsOut.inc(sent);
      }
      if (clock.skipped !== skippedShown) {
        // More readings are due than the event loop can hand out: say so instead of silently thinning.
        skippedShown = clock.skipped;
        burningShown = -1;
        setStatus(node, 'connecting', RED._('smoke-sensor-sim.status.lagging', { count: compact(clock.skipped) }));
      } else if (sim.burning(clock.last) !== burningShown) showStatus();
    }

    function start(): void {
      if (startTimer) clearTimeout(startTimer);
      startTimer = null;
      if (timer) return;
      clock.start(Date.now());
      timer = setInterval(emit, intervalMs);
      emit();
      showStatus();
    }

    function stop(): void {
      if (timer) clearInterval(timer);
      timer = null;
      clock.stop();
      showStatus();
    }

    node.on('input', (msg: NodeMessage, _send: Send, done: Done) => {
      const command = String(msg.command ?? msg.payload ?? '').toLowerCase();
      if (command === 'start') start();
      else if (command === 'stop') stop();
      else if (command === 'toggle') toggle();
      else if (command === 'fire') {
        const given = msg.device !== undefined && msg.device !== null && msg.device !== '';
        const found = deviceIndex(msg.device, sim.ids);
        if (given && found === undefined) {
          node.warn(RED._('smoke-sensor-sim.errors.unknown-device', { device: String(msg.device).slice(0, 40) }));
          return done();
        }
        const index = found ?? nextIgnite++ % sim.ids.length;
        const t = clock.isRunning ? clock.now(Date.now()) : clock.last === clock.last ? clock.last : Date.now();
        sim.ignite(index, t);
        showStatus();
      } else node.warn(RED._('smoke-sensor-sim.errors.unknown-command', { command: command.slice(0, 40) }));
      done();
    });

    function toggle(): boolean {
      if (timer) stop();
      else start();
      return timer !== null;
    }
    toggles.set(node.id, toggle);

    node.on('close', (_removed: boolean, done: () => void) => {
      if (toggles.get(node.id) === toggle) toggles.delete(node.id);
      if (startTimer) clearTimeout(startTimer);
      startTimer = null;
      if (timer) clearInterval(timer);
      timer = null;
      clock.stop();
      metrics.remove();
      done();
    });

    // Like inject's "once": start a moment after deploy, when every node of the flow exists.
    if (autostart) startTimer = setTimeout(start, 100);
    showStatus();
  }

  /** `msg.device` as a device id or a 1-based device number; undefined when unknown. */
  function deviceIndex(device: unknown, ids: readonly string[]): number | undefined {
    const byId = ids.indexOf(String(device));
    if (byId >= 0) return byId;
    const n = Number(device);
    return Number.isInteger(n) && n >= 1 && n <= ids.length ? n - 1 : undefined;
  }

  RED.nodes.registerType('smoke-sensor-sim', SensorSimNode);

  RED.httpAdmin.post('/smoke-sensor-sim/:id/toggle', RED.auth.needsPermission('smoke-sensor-sim.write'), (req, res) => {
    const toggle = toggles.get(String(req.params.id));
    if (!toggle) return void res.sendStatus(404);
    res.json({ running: toggle() });
  });
};
