/**
 * The Node-RED side shared by the detector nodes (threshold alert, zscore anomaly, fire pattern, window
 * alert): their registration, the common settings (emit mode, max devices, idle timeout, state) and the
 * input handler.
 *
 * Messages (CONTRACT §4, §6):
 * - Output 1: the input message itself, unchanged and uncloned, always sent.
 * - Output 2: alerts, as new messages. One reading in → one message per alert (`{ payload: alert }`);
 *   an array of readings in → one message whose payload is the array of all alerts (reading order, then
 *   sensor order), not sent when empty. Alerts of a Kafka partition's state (changelog, see
 *   attachDetector) carry their position in `msg.kafka` (nodes/nr/task-store.ts OutputMeta); others none.
 * - `msg.reset`: `true` forgets every device, a string forgets that device. A message with `reset` and
 *   no `payload` is consumed (nothing is sent), as Node-RED's smooth node does; with a payload the reset
 *   happens first and the payload is then processed.
 * - Items that are not objects pass through (output 1) and raise nothing: validation is
 *   `sensor validate`'s job.
 */
import type { Detector, DetectorOptions } from '../lib/detector';
import { DEFAULT_IDLE_MS, DEFAULT_MAX_DEVICES } from '../lib/detector';
import type { Alert, EmitMode, Reading } from '../lib/types';
import { taskKey } from '../lib/changelog';
import { ConfigReader } from './config';
import { handleInputError, reportBadConfig } from './errors';
import { shared } from './i18n';
import { NodeMetrics, installMetricsEndpoint, kafkaTimeOf } from './metrics';
import { ThrottledStatus, compact } from './status';
import type { Done, Node, NodeDef, NodeMessage, RED, Send } from './types';
import { settle } from './ack';
import { changelogSource, isExactlyOnce, recordEnds, trackedSinks } from './flow-graph';
import { watchFlowAround } from './flow-watch';
import { TaskStore, itemMeta, type OutputMeta } from './task-store';

export const EMIT_MODES: readonly EmitMode[] = ['every', 'change'];

/** Where per-device state lives: `auto` (a changelog behind one `kafka in`, else memory), `changelog`, `none` (memory). */
export const STATE_MODES = ['auto', 'changelog', 'none'] as const;
export type StateMode = (typeof STATE_MODES)[number];

/** The `state` setting, and the `kafka in` whose partitions the state follows (undefined: memory only). */
export function readStateOption(RED: RED, node: Node, c: ConfigReader): { mode: string; changelogOf: string | undefined } {
  const mode = c.oneOf('state', STATE_MODES, 'auto');
  return { mode, changelogOf: changelogSource(RED, node.id, mode, c.problems) };
}

/**
 * The unit of a bare-number `idleTimeout` in the detectors, as their editors state it beside the field
 * (seconds: "3600" is one hour, as flows have always meant it). Text with a unit ("1 hour", "500ms")
 * means what it says.
 */
export const IDLE_TIMEOUT_UNIT = 's';

/** Emit mode, max devices and idle timeout from a node's configuration (defaults per lib/detector). */
export function readDetectorOptions(c: ConfigReader): DetectorOptions {
  return {
    emit: c.oneOf('emit', EMIT_MODES, 'every'),
    maxDevices: c.number('maxDevices', DEFAULT_MAX_DEVICES, { min: 0, integer: true }),
    // 0 = never.
    idleMs: c.duration('idleTimeout', DEFAULT_IDLE_MS, IDLE_TIMEOUT_UNIT, { min: 0 }),
  };
}

function isObject(v: unknown): v is Reading {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Wire a detector to its node: input handler, throttled status, metrics, close. `create` makes the
 * detector; with `changelogOf` (a `kafka in` node id, see {@link readStateOption}) the records of each
 * Kafka partition go to a detector of their own, checkpointed in the changelog and restored by whichever
 * runtime is assigned the partition (nodes/nr/partition-tasks.ts); other messages use the node's own.
 */
export function attachDetector(RED: RED, node: Node, create: () => Detector, emit: EmitMode = 'every', changelogOf?: string, stateful = true): void {
  const detector = create();
  // Alerts that reach a csv sink or a kafka out are tracked until written and kept in
  // checkpoints (exactly-once).
  const sinks = trackedSinks(RED, node.id, 1, changelogOf);
  // A detector without state between readings (emit: every) needs partition tasks only behind an
  // exactly-once kafka in whose alerts reach a sink: for their positions, and to hold their records
  // until the alerts are written.
  const store = changelogOf !== undefined && (stateful || (sinks > 0 && isExactlyOnce(RED, changelogOf)));
  const tasks =
    !store
      ? null
      : new TaskStore<Detector>(node.id, changelogOf, {
          create,
          snapshot: (d) => d.snapshot(),
          restore: (d, saved) => d.restore(saved),
          devices: (d) => d.devices,
        }, {
          hold: true,
          warn: (t) => node.warn(t),
          outputs: sinks > 0 ? { sinks, reemit: (_tp, items, meta) => node.send([null, { payload: items, kafka: meta }]) } : undefined,
        });
  // Readings passed on to an output 1 without wires end here: acknowledged, when nobody behind would (flow-graph.ts).
  const passedOnEnds = recordEnds(RED, node.id, 1).outputs[0];
  // Only `emit: change` raises cleared alerts (severity NORMAL); the status counts them apart.
  const change = emit === 'change';
  installMetricsEndpoint(RED);
  const metrics = new NodeMetrics(node as Node & { name?: string });
  const status = new ThrottledStatus(node);
  // Reused for single readings: the alerts become messages right away, so the array can be emptied.
  const scratch: Alert[] = [];
  /** Alerts raised, and (emit: change) cleared; the severity of the last one raised. */
  let raised = 0;
  let cleared = 0;
  let lastSeverity = '';
  // One function for the node's lifetime: the throttle calls it (and so the catalogue) only when it
  // writes the status. "17 alerts, last HIGH"; in emit: change "12 alerts, 5 cleared" (a clear is no
  // alert of its own). `count` picks the plural, `n` is the compact figure shown.
  const statusText = (): string =>
    change
      ? shared('smoke-kafka-broker.common.status.alerts-cleared', { count: raised, n: compact(raised), cleared: compact(cleared) })
      : shared('smoke-kafka-broker.common.status.alerts-last', { count: raised, n: compact(raised), severity: lastSeverity });
  /** Items that are not readings (an inject's timestamp): passed on, said once, counted in the status until an alert (after a warm-up). */
  let ignored = 0;
  let warming: { have: number; need: number } | null = null;
  const quietText = (): string =>
    warming !== null
      ? shared('smoke-kafka-broker.common.status.warming-up', { have: warming.have, need: warming.need })
      : shared('smoke-kafka-broker.common.status.ignored', { n: compact(ignored) });
  const ignore = (what: unknown, n: number): void => {
    if (ignored === 0) {
      const kind = what === null ? 'null' : Array.isArray(what) ? shared('smoke-kafka-broker.common.kind.array') : typeof what;
      node.warn(shared('smoke-kafka-broker.common.warn.not-a-reading', { kind }));
    }
    ignored += n;
  };

  const handle = (msg: NodeMessage, send: Send, done: Done): void => {
    try {
      const now = Date.now();
      const reset = msg.reset;
      if (reset === true || typeof reset === 'string') {
        const id = reset === true ? undefined : reset;
        detector.reset(id);
        tasks?.forEach((d, tp) => {
          d.reset(id);
          tasks.touch(tp);
        });
      }
      const payload = msg.payload;
      if (reset !== undefined && payload === undefined) {
        done();
        return;
      }
      const batch = Array.isArray(payload);
      let d = detector;
      /** Items before this index are redeliveries the partition's state holds already. */
      let from = 0;
      /** A partition task's message: the trigger offset of each alert, for its position (see OutputMeta). */
      let task: { topic: string; partition: number; epoch: unknown; offset?: number; offsets?: number[] } | null = null;
      if (tasks !== null) {
        const a = tasks.accept(msg, batch ? payload.length : -1);
        if (a === 'wait') return tasks.defer(msg, () => handle(msg, send, done));
        if (a === 'skip') {
          // A partition this runtime no longer owns: passed on, but it does not touch the state.
          send([msg, null]);
          if (passedOnEnds) settle(msg);
          done();
          return;
        }
        if (a !== 'local') {
          d = a.state;
          from = a.from;
          task = msg.kafka as typeof task;
        }
      }
      // A single reading's trigger offsets are made only when it raised alerts (below).
      let trig: number[] | null = task === null || !batch ? null : [];
      d.sweep(now);
      let alerts: Alert[];
      let readings: number;
      let skipped = 0;
      if (batch) {
        readings = payload.length;
        alerts = [];
        for (let i = from; i < payload.length; i++) {
          const r: unknown = payload[i];
          if (!isObject(r)) {
            skipped++;
            continue;
          }
          const n = d.process(r, now, alerts);
          if (trig !== null) for (let j = 0; j < n; j++) trig.push(task!.offsets![i]);
        }
        if (skipped > 0) ignore(payload[from], skipped);
      } else {
        readings = 1;
        alerts = scratch;
        if (from === 0) {
          if (isObject(payload)) d.process(payload, now, alerts);
          else ignore(payload, (skipped = 1));
        }
        const t = task as { offset?: number } | null;
        if (t !== null && alerts.length > 0) trig = new Array<number>(alerts.length).fill(t.offset as number);
      }
      metrics.readingsIn.inc(readings);
      metrics.readingsOut.inc(readings);
      const n = alerts.length;
      if (n > 0) {
        const clears = count(metrics, alerts);
        // End-to-end latency from the record's Kafka timestamp (once per message: a batch shares one).
        const ts = kafkaTimeOf(msg);
        if (ts > 0) metrics.latencyMs('alert', now - ts);
        raised += n - clears;
        cleared += clears;
        if (clears < n) lastSeverity = lastRaised(alerts);
        status.set('count', statusText);
      } else if (raised + cleared === 0 && (d.warmup !== undefined || skipped > 0)) {
        // Before the first alert: why there is none yet (a z-score history filling, items that are not readings).
        const was = warming;
        warming = d.warmup?.() ?? null;
        if (warming !== null || ignored > 0) status.set('idle', quietText);
        else if (was !== null) status.set('count', statusText);
      }
      // One send() per message: within one call Node-RED deep-clones every message after the first
      // (Node.prototype.send marks them `cloneMessage`), which would copy each alert message. Alert
      // messages are new, so they keep the input's _msgid as a single send would have given them.
      // The scratch array is emptied before any send: with runtimeSyncDelivery a flow that loops back
      // here would otherwise run this handler again while the alerts are still in it.
      const list = batch || n === 0 ? alerts : scratch.slice();
      scratch.length = 0;
      send([msg, null]);
      if (passedOnEnds) settle(msg);
      if (n > 0) {
        const id = msg._msgid;
        const meta = trig === null ? undefined : positions(tasks!, task!, list, trig);
        if (meta === undefined) {
          if (batch) send([null, { _msgid: id, payload: list }]);
          else for (let i = 0; i < n; i++) send([null, { _msgid: id, payload: list[i] }]);
        } else if (batch) send([null, { _msgid: id, payload: list, kafka: meta }]);
        else for (let i = 0; i < n; i++) send([null, { _msgid: id, payload: list[i], kafka: itemMeta(meta, i) }]);
      }
      done();
    } catch (err) {
      scratch.length = 0;
      handleInputError(node, err, done);
    }
  };
  node.on('input', handle);

  node.on('close', (_removed: boolean, done: () => void) => {
    status.stop();
    metrics.remove();
    // A final checkpoint of the partitions' state (bounded: see TaskStore.close).
    void (tasks?.close() ?? Promise.resolve()).then(() => {
      detector.reset();
      done();
    });
  });
}

/** Positions of a partition task's alerts: trigger offset and rank among that record's alerts; tracked in the outbox when wired to a sink. */
function positions(tasks: TaskStore<Detector>, task: { topic: string; partition: number; epoch: unknown }, alerts: Alert[], trig: number[]): OutputMeta {
  const seqs: number[] = new Array(alerts.length);
  for (let j = 0; j < alerts.length; j++) seqs[j] = j > 0 && trig[j] === trig[j - 1] ? seqs[j - 1] + 1 : 0;
  return tasks.outputs(taskKey(task.topic, task.partition), task.epoch, alerts, trig, seqs, false);
}

/** Alert counters by type and severity, one increment per kind and message; returns the cleared alerts (NORMAL: not counted). */
function count(metrics: NodeMetrics, alerts: Alert[]): number {
  const type = alerts[0].type;
  let medium = 0;
  let high = 0;
  let critical = 0;
  let normal = 0;
  for (let i = 0; i < alerts.length; i++) {
    const s = alerts[i].severity;
    if (s === 'MEDIUM') medium++;
    else if (s === 'HIGH') high++;
    else if (s === 'CRITICAL') critical++;
    else normal++;
  }
  if (medium > 0) metrics.alert(type, 'MEDIUM', medium);
  if (high > 0) metrics.alert(type, 'HIGH', high);
  if (critical > 0) metrics.alert(type, 'CRITICAL', critical);
  return normal;
}

/** Severity of the last raised (not cleared) alert of a non-empty list that has one. */
function lastRaised(alerts: Alert[]): string {
  for (let i = alerts.length - 1; i >= 0; i--) if (alerts[i].severity !== 'NORMAL') return alerts[i].severity;
  return '';
}

/** registerType's options: the values a node's editor reads (nr/editor-settings.ts). */
type Registration = Parameters<RED['nodes']['registerType']>[2];

/** What a detector node's settings come to (see {@link registerDetectorNode}). */
export interface DetectorSetup {
  /** Make a detector (one for the node, and one per Kafka partition with a changelog). */
  create: () => Detector;
  emit: EmitMode | undefined;
  /** Whether the detector keeps per-device state between readings (see {@link attachDetector}; default true). */
  stateful?: boolean;
  /**
   * The problems of the settings that the lib finds; asked after the common `state` setting was read
   * (so it may look at the reader's problems).
   */
  problems?: () => string[];
}

/**
 * Register a detector node: `setup` reads its settings from the ConfigReader `c` (the common ones with
 * {@link readDetectorOptions}) and says how to make its detector; then the `state` setting is read. A
 * problem with any setting makes the node report it and take no input; otherwise the detector is
 * attached ({@link attachDetector}).
 */
export function registerDetectorNode<D extends NodeDef = NodeDef>(RED: RED, type: string, setup: (c: ConfigReader, config: D) => DetectorSetup, registration?: Registration): void {
  function DetectorNode(this: Node, config: D) {
    RED.nodes.createNode(this, config);
    const c = new ConfigReader(config as unknown as Record<string, unknown>);
    const { create, emit, stateful, problems } = setup(c, config);
    const { mode, changelogOf } = readStateOption(RED, this, c);
    const all = [...c.problems, ...(problems?.() ?? [])];
    if (all.length > 0) return reportBadConfig(this, all);
    attachDetector(RED, this, create, emit, changelogOf, stateful);
    // What attachDetector took from the flow: the kafka in its state follows, the sinks of its alerts
    // and whether readings passed on end here.
    watchFlowAround(RED, this, () => {
      const source = changelogSource(RED, this.id, mode);
      return [source, trackedSinks(RED, this.id, 1, source), recordEnds(RED, this.id, 1).outputs[0]];
    });
  }
  RED.nodes.registerType(type, DetectorNode, registration);
}

/**
 * Register a detector node driven by a rule table (threshold alert, window alert): setting `rules` as
 * JSON text or an array (absent: `defaults()`), checked by `parse`, plus the common detector settings.
 */
export function registerRuleTableNode<R>(
  RED: RED,
  type: string,
  defaults: () => R[],
  parse: (table: unknown) => { rules: R[]; problems: string[] },
  create: (rules: R[], opts: DetectorOptions) => Detector,
  registration?: Registration,
): void {
  registerDetectorNode(
    RED,
    type,
    (c) => {
      const { rules, problems } = parse(c.json<unknown>('rules', defaults()));
      const opts = readDetectorOptions(c);
      return { create: () => create(rules, opts), emit: opts.emit, stateful: opts.emit === 'change', problems: () => problems };
    },
    registration,
  );
}
