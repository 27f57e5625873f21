/**
 * `smoke-sliding-window`: event-time sliding windows per device with a watermark (CONTRACT §5), on the
 * pane-based aggregation of `lib/window.ts`. Output 1: window results (new messages); output 2: late
 * readings. Window state is checkpointed to the node's context (a persistent context store keeps open
 * windows across restarts); with a persistent store, Kafka commits wait for the checkpoint that holds
 * their records (checkpoint.ts), and redelivered Kafka records are not counted twice (OffsetGate).
 */
import type { Done, Node, NodeDef, NodeMessage, RED, Send } from '../nr/types';
import { ConfigReader } from '../nr/config';
import { handleInputError, reportBadConfig } from '../nr/errors';
import { compact, setStatus } from '../nr/status';
import { NodeMetrics, installMetricsEndpoint } from '../nr/metrics';
import { parseAggregates, DEFAULT_AGGREGATES } from '../lib/panes';
import { SlidingWindows, windowOptionProblems, type OutputMode, type WindowResult } from '../lib/window';
import { OffsetGate, checkpointStore, kafkaPosition, nodeContextFile, readingTime, type TimeSource } from './support';
import { Checkpointer, checkpointSeqInFile, type Durability } from './checkpoint';

const CHECKPOINT_KEY = 'slidingWindow';

/**
 * Checkpoints of stopped nodes by node id, for runtimes without configured context stores: Node-RED
 * then deletes a node's context when it stops, and this keeps open windows across a redeploy.
 */
const stash = new Map<string, unknown>();
const TIME_SOURCES: readonly TimeSource[] = ['event', 'kafka', 'arrival'];
const MODES: readonly OutputMode[] = ['append', 'update'];

export = function (RED: RED) {
  installMetricsEndpoint(RED);

  function SlidingWindowNode(this: Node, config: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, config);
    const node = this;
    const c = new ConfigReader(config);
    const sizeMs = c.duration('size', 300_000);
    const slideMs = c.duration('slide', 60_000);
    const delayMs = c.duration('watermark', 600_000, 'ms', { min: 0 });
    const timeSource = c.oneOf('timeSource', TIME_SOURCES, 'event');
    const mode = c.oneOf('outputMode', MODES, 'append');
    const maxDevices = c.number('maxDevices', 10_000, { min: 0, integer: true });
    const idleMs = c.duration('idleTimeout', 0, 'ms', { min: 0 });
    const checkpointMs = c.duration('checkpoint', 10_000, 'ms', { min: 0 });
    const aggs = parseAggregates(c.string('aggregates', DEFAULT_AGGREGATES.join(', ')));
    const store = checkpointStore(RED.settings as unknown as Record<string, unknown>, c.string('store', ''));
    const holdCommits = c.boolean('holdCommits', true);
    const opts = { sizeMs, slideMs, delayMs, aggregates: aggs.specs, mode, arrival: timeSource === 'arrival', maxDevices, idleMs };
    const problems = [...c.problems, ...aggs.problems, ...store.problems, ...windowOptionProblems(opts)];
    if (problems.length > 0) return reportBadConfig(node, problems);

    const windows = new SlidingWindows(opts);
    const gate = new OffsetGate();
    const metrics = new NodeMetrics(node as Node & { name?: string });
    const ctx = node.context();
    const timers: NodeJS.Timeout[] = [];
    let lastWasArray = false;
    let queue: [NodeMessage, Send, Done][] | null = [];
    let shown = '';
    let shownAt = 0;
    let statusTimer: NodeJS.Timeout | null = null;
    let gateMoved = false;
    let skipped = 0;

    const file = store.writeBehind ? nodeContextFile(store.writeBehind.dir, node as Node & { z?: string; _alias?: string }) : undefined;
    const durable: Durability = !store.persistent || store.writeBehind === null
      ? { kind: 'set' }
      : file !== undefined
        ? { kind: 'file', flushMs: store.writeBehind.flushMs, diskSeq: () => checkpointSeqInFile(file) }
        : { kind: 'time', flushMs: store.writeBehind.flushMs };
    const checkpoints = new Checkpointer(
      { set: (value, cb) => ctx.set(CHECKPOINT_KEY, value, store.name, (err?: Error) => cb(err ?? undefined)), durable },
      {
        get dirty() {
          return windows.dirty || gateMoved;
        },
        take: () => {
          windows.dirty = false;
          gateMoved = false;
          return { ...windows.snapshot(), offsets: gate.toJSON() };
        },
        failed: () => {
          windows.dirty = true;
        },
      },
      {
        holderId: node.id,
        hold: holdCommits && store.persistent,
        replay: store.persistent,
        intervalMs: store.persistent ? checkpointMs : 0,
        warn: (key, info) => node.warn(RED._(`smoke-sliding-window.warn.${key}`, info as Record<string, string | number> | undefined)),
      },
    );

    /** Results as messages: one per window after a single reading, one with an array after a batch. */
    function emit(out: WindowResult[], asArray: boolean, send: Send): void {
      if (out.length === 0) return;
      metrics.windows.inc(out.length);
      checkpoints.emitted(out, Date.now());
      // One send() per result: in one call Node-RED deep-copies every message after the first.
      if (asArray) send([{ payload: out }, null]);
      else for (const w of out) send([{ payload: w, key: w.deviceId }, null]);
    }

    function handle(msg: NodeMessage, send: Send, done: Done): void {
      const now = Date.now();
      const out: WindowResult[] = [];
      if (msg.reset) {
        windows.reset(typeof msg.reset === 'string' ? msg.reset : undefined);
        // A full reset also forgets the Kafka offsets taken: the same records may be windowed again.
        if (typeof msg.reset !== 'string') {
          gate.clear();
          gateMoved = true;
        }
      } else if (msg.flush) {
        windows.flush(out, typeof msg.flush === 'string' ? msg.flush : undefined);
        emit(out, lastWasArray, send);
      } else if (Array.isArray(msg.payload)) {
        lastWasArray = true;
        const items = msg.payload as unknown[];
        const pos = kafkaPosition(msg, items.length);
        const high = pos === null ? -1 : gate.highest(pos.key);
        let late: unknown[] | null = null;
        let info: Record<string, unknown>[] | null = null;
        let top = high;
        for (let i = 0; i < items.length; i++) {
          if (pos !== null) {
            const offset = (pos.offsets as readonly number[])[i];
            if (offset <= high) {
              skipped++;
              continue;
            }
            if (offset > top) top = offset;
          }
          const why = addOne(items[i], msg, i, now, out);
          if (why !== null) {
            (late ??= []).push(items[i]);
            (info ??= []).push(why);
          }
        }
        if (pos !== null) took(pos.key, high, top);
        metrics.readingsIn.inc(items.length);
        emit(out, true, send);
        // Late readings keep the record metadata (msg.kafka) of the batch they came in.
        if (late !== null) send([null, { ...msg, payload: late, late: info }]);
      } else {
        lastWasArray = false;
        const pos = kafkaPosition(msg, -1);
        if (pos !== null && pos.offset <= gate.highest(pos.key)) {
          skipped++;
          return done();
        }
        if (pos !== null) took(pos.key, -1, pos.offset);
        const why = addOne(msg.payload, msg, -1, now, out);
        metrics.readingsIn.inc();
        emit(out, false, send);
        if (why !== null) {
          msg.late = why;
          send([null, msg]);
        }
      }
      showStatus();
      done();
    }

    /** Offsets up to `top` of a partition were taken; log the redeliveries skipped before them. */
    function took(key: string, high: number, top: number): void {
      if (top > high) {
        gate.advance(key, top);
        gateMoved = true;
      }
      if (skipped > 0) {
        node.log(RED._('smoke-sliding-window.log.skipped', { count: skipped, partition: key }));
        skipped = 0;
      }
    }

    /** Aggregate one item; returns null, or the `msg.late` entry when it goes to output 2. */
    function addOne(r: unknown, msg: NodeMessage, i: number, now: number, out: WindowResult[]): Record<string, unknown> | null {
      if (typeof r !== 'object' || r === null || Array.isArray(r)) return { watermark: null, error: 'not a reading' };
      const rec = r as Record<string, unknown>;
      const t = readingTime(timeSource, rec, msg, i, now);
      if (!Number.isFinite(t)) return { watermark: null, error: 'no usable time' };
      if (windows.add(rec, t, now, out)) return null;
      metrics.late.inc();
      return { watermark: windows.lastWatermark };
    }

    /** Status at most every 500 ms: counting open windows walks every device. */
    function showStatus(): void {
      const wait = 500 - (Date.now() - shownAt);
      if (wait > 0) {
        statusTimer ??= setTimeout(() => {
          statusTimer = null;
          showStatus();
        }, wait);
        return;
      }
      shownAt = Date.now();
      const s = windows.stats();
      let text = `${compact(s.devices)} dev / ${compact(s.openWindows)} win`;
      if (windows.lateCount > 0) text += ` ${compact(windows.lateCount)} late`;
      if (text !== shown) setStatus(node, 'count', (shown = text));
    }

    node.on('input', (msg: NodeMessage, send: Send, done: Done) => {
      // Hold first, synchronously: the sink that got the same records may acknowledge them soon.
      checkpoints.arrived(msg);
      if (queue !== null) queue.push([msg, send, done]);
      else {
        try {
          handle(msg, send, done);
        } catch (err) {
          handleInputError(node, err, done);
        }
        checkpoints.handled();
      }
    });

    // Restore the last checkpoint before the first message; messages meanwhile wait in order.
    const restore = (err: Error | undefined, saved: unknown): void => {
      const out: WindowResult[] = [];
      let restored = false;
      if (err) node.warn(RED._('smoke-sliding-window.warn.restore-failed', { error: err.message }));
      else if (saved !== undefined) {
        restored = windows.restore(saved, Date.now(), out);
        if (restored) gate.restore((saved as { offsets?: unknown }).offsets);
        else node.warn(RED._('smoke-sliding-window.warn.checkpoint-mismatch'));
      }
      // Results emitted shortly before the checkpoint was taken go out again (see checkpoint.ts).
      const again = checkpoints.restored(saved);
      emit(restored ? [...again, ...out] : out, false, node.send.bind(node));
      checkpoints.ready = true;
      const waiting = queue ?? [];
      queue = null;
      for (const [m, s, d] of waiting) {
        try {
          handle(m, s, d);
        } catch (e) {
          handleInputError(node, e, d);
        }
      }
      checkpoints.handled();
      showStatus();
    };
    if (store.configured) ctx.get(CHECKPOINT_KEY, store.name, restore);
    else {
      const saved = stash.get(node.id);
      stash.delete(node.id);
      restore(undefined, saved);
    }

    // Timers: windows that close without a reading (arrival time, idle devices) and checkpoints.
    const send = node.send.bind(node);
    if (timeSource === 'arrival') {
      const tick = (): void => {
        const out: WindowResult[] = [];
        windows.advance(Date.now(), out);
        emit(out, lastWasArray, send);
        if (out.length) showStatus();
        timers[0] = setTimeout(tick, slideMs - (Date.now() % slideMs) + 1);
        timers[0].unref?.();
      };
      timers[0] = setTimeout(tick, slideMs - (Date.now() % slideMs) + 1);
    }
    if (idleMs > 0) {
      timers.push(
        setInterval(() => {
          const out: WindowResult[] = [];
          if (windows.sweep(Date.now(), out) > 0) {
            emit(out, lastWasArray, send);
            showStatus();
          }
        }, Math.min(Math.max(idleMs / 4, 1000), 60_000)),
      );
    }
    for (const t of timers) t.unref?.();

    node.on('close', (removed: boolean, done: () => void) => {
      for (const t of timers) clearTimeout(t);
      if (statusTimer) clearTimeout(statusTimer);
      metrics.remove();
      // A deleted node's context goes with it; otherwise keep the open windows for the next start.
      if (removed) stash.delete(node.id);
      else if (!store.configured && queue === null) stash.set(node.id, { ...windows.snapshot(), offsets: gate.toJSON() });
      checkpoints.close(removed, store.configured && queue === null, done);
    });
  }

  RED.nodes.registerType('smoke-sliding-window', SlidingWindowNode);
};
