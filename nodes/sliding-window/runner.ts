/**
 * The per-message work of `smoke-sliding-window`, apart from Node-RED's node API: the windows
 * (lib/window.ts), the redelivery gate and the checkpoints with their Kafka commit holds (support.ts,
 * checkpoint.ts) and the messages that wait for the restore; its timers and status text live in
 * window-timers.ts. The adapter (sliding-window.ts) parses the config, hands over what it needs of the
 * node as a {@link WindowHost} and wires `handle` and `close` to the node's input and close events.
 */
import { settle } from '../nr/ack';
import { text } from '../nr/i18n';
import type { TimerErrorHandler } from '../nr/timers';
import type { Done, NodeMessage, Send } from '../nr/types';
import type { NodeMetrics } from '../nr/metrics';
import { SlidingWindows, type SlidingWindowOptions, type WindowResult } from '../lib/window';
import { taskKey } from '../lib/changelog';
import { OffsetGate, kafkaPosition, readingTime, type CheckpointStore, type TimeSource } from './support';
import { Checkpointer, checkpointSeqInFile, type CheckpointerOptions, type Durability } from './checkpoint';
import { TaskStore, itemMeta, type OutputMeta } from '../nr/task-store';
import { WindowTimers } from './window-timers';

const CHECKPOINT_KEY = 'slidingWindow';

/** Warnings, by their key under `smoke-sliding-window.warn` in the locale. */
export type WindowWarning = Parameters<CheckpointerOptions['warn']>[0] | 'restore-failed' | 'checkpoint-mismatch' | 'changelog';

/** What the runner uses of the node's context (the callback forms of Node-RED's `node.context()`). */
export interface CheckpointContext {
  get(key: string, storeName: string | undefined, cb: (err: Error, value: unknown) => void): void;
  set(key: string, value: unknown, storeName: string | undefined, cb?: (err: Error) => void): void;
}

/** What the runner needs of its node. */
export interface WindowHost {
  /** The node id: holder of Kafka commit holds, key of the redeploy stash. */
  readonly id: string;
  readonly context: CheckpointContext;
  readonly metrics: Pick<NodeMetrics, 'readingsIn' | 'late' | 'windows' | 'remove'>;
  /** Send on the node's own account (results of the restore and of the timers). */
  send: Send;
  /** Show the counts (a blue status). */
  status(text: string): void;
  warn(key: WindowWarning, info?: Record<string, unknown>): void;
  /** Log a line; `key` under `smoke-sliding-window.log` in the locale. */
  log(key: 'skipped', info: Record<string, unknown>): void;
  /** The node's own failure while handling a message: report it and call `done(err)`. */
  fail(err: unknown, done: Done): void;
  /** A failure in a timer's callback (nodes/nr/timers.ts): a log line and a red status. */
  timerError: TimerErrorHandler;
}

export interface WindowRunnerOptions {
  windows: SlidingWindowOptions;
  timeSource: TimeSource;
  store: CheckpointStore;
  /** The node's file in a write-behind store's folder (support.ts nodeContextFile); undefined: unknown. */
  contextFile: string | undefined;
  /** Hold Kafka commits until checkpointed (with a persistent store only). */
  holdCommits: boolean;
  /** Checkpoint interval (ms) for a persistent store; 0: only on close and while commits are held. */
  checkpointMs: number;
  /** Checkpoints of stopped nodes by node id, for runtimes without configured context stores. */
  stash: Map<string, unknown>;
  /**
   * State per source partition in a changelog topic of this `kafka in` (its node id): the windows of
   * Kafka records live in its partition tasks (nodes/nr/partition-tasks.ts); other messages use the
   * node's own windows, which are not checkpointed. Undefined: the context store checkpoints above.
   */
  changelogOf?: string;
  /**
   * Acknowledging sinks the results reach (a csv sink, a kafka out): track them until all
   * of them wrote each (exactly-once, with `changelogOf`); 0 or absent: not tracked.
   */
  trackResults?: number;
  /** Records this window acknowledges (ack.ts settle): `kept` windowed ones, `late` ones to an unwired output 2. */
  recordsEnd?: { kept: boolean; late: boolean };
}

export class WindowRunner {
  private readonly windows: SlidingWindows;
  private readonly ends: { kept: boolean; late: boolean };
  /** Windows per source partition, in the changelog (with `changelogOf`). */
  private readonly tasks: TaskStore<SlidingWindows> | null = null;
  private readonly gate = new OffsetGate();
  private readonly checkpoints: Checkpointer;
  private readonly clock: WindowTimers;
  /** Messages that arrived before the restore; null once it is done. */
  private queue: [NodeMessage, Send, Done][] | null = [];
  private closed = false;
  /** Whether the last reading came in a batch: results of flushes and timers come the same way. */
  private lastWasArray = false;
  private gateMoved = false;
  /** Redelivered records skipped since the last log line. */
  private skipped = 0;

  constructor(
    private readonly o: WindowRunnerOptions,
    private readonly host: WindowHost,
  ) {
    this.windows = new SlidingWindows(o.windows);
    this.ends = o.recordsEnd ?? { kept: false, late: false };
    this.clock = new WindowTimers(o.windows, o.timeSource, {
      eachWindows: (fn) => this.eachWindows(fn),
      touch: (tp) => this.tasks!.touch(tp),
      emit: (out) => this.emit(out, this.lastWasArray, host.send),
      status: (text) => host.status(text),
      timerError: host.timerError,
    });
    const changelog = o.changelogOf !== undefined;
    if (changelog) {
      this.tasks = new TaskStore<SlidingWindows>(host.id, o.changelogOf!, {
        create: () => new SlidingWindows(o.windows),
        snapshot: (w) => w.snapshot(),
        // Devices beyond maxDevices (a smaller bound than when saved) are evicted: their results were
        // final at the previous owner's bound only, so they are not emitted.
        restore: (w, saved) => w.restore(saved, Date.now(), []),
        devices: (w) => w.stats().devices,
      }, {
        hold: o.holdCommits,
        warn: (text) => host.warn('changelog', { text }),
        outputs: o.trackResults ? { sinks: o.trackResults, reemit: (_tp, items, meta) => this.sendResults(items as WindowResult[], true, host.send, meta) } : undefined,
      });
    }
    const { store } = o;
    const file = o.contextFile;
    const durable: Durability = !store.persistent || store.writeBehind === null
      ? { kind: 'set' }
      : file !== undefined
        ? { kind: 'file', flushMs: store.writeBehind.flushMs, diskSeq: () => checkpointSeqInFile(file) }
        : { kind: 'time', flushMs: store.writeBehind.flushMs };
    const runner = this;
    this.checkpoints = new Checkpointer(
      { set: (value, cb) => host.context.set(CHECKPOINT_KEY, value, store.name, (err?: Error) => cb(err ?? undefined)), durable },
      {
        get dirty() {
          return runner.windows.dirty || runner.gateMoved;
        },
        take() {
          runner.windows.dirty = false;
          runner.gateMoved = false;
          return runner.state();
        },
        failed() {
          runner.windows.dirty = true;
        },
      },
      {
        holderId: host.id,
        hold: !changelog && o.holdCommits && store.persistent,
        replay: !changelog && store.persistent,
        intervalMs: !changelog && store.persistent ? o.checkpointMs : 0,
        warn: (key, info) => host.warn(key, info),
      },
    );
  }

  /** Restore the last checkpoint (messages meanwhile wait in order), then start the timers. */
  start(): void {
    const { store, stash } = this.o;
    if (this.tasks !== null) this.restore(undefined, undefined);
    else if (store.configured) this.host.context.get(CHECKPOINT_KEY, store.name, (err, saved) => this.restore(err, saved));
    else {
      const saved = stash.get(this.host.id);
      stash.delete(this.host.id);
      this.restore(undefined, saved);
    }
    this.clock.start();
  }

  /** An input message (Node-RED's input event). */
  handle(msg: NodeMessage, send: Send, done: Done): void {
    // Hold first, synchronously: the sink that got the same records may acknowledge them soon.
    this.checkpoints.arrived(msg);
    if (this.queue !== null) this.queue.push([msg, send, done]);
    else {
      this.run(msg, send, done);
      this.checkpoints.handled();
    }
  }

  /**
   * The node stops: timers off, and the state kept for the next start (unless `removed`): in the
   * stash without context stores, else in a final checkpoint. Resolves once every Kafka hold is
   * released (within Node-RED's 15 s: see Checkpointer.close).
   */
  close(removed: boolean): Promise<void> {
    this.closed = true;
    const tasksClosed = this.tasks?.close() ?? Promise.resolve();
    if (this.queue !== null) {
      // Stopped before the saved windows came back: what waited for them was never processed. Say so
      // (a Kafka record unacknowledged here is delivered again after the restart).
      const err = new Error(text('smoke-sliding-window.errors.not-restored'));
      for (const [, , done] of this.queue.splice(0)) done(err);
    }
    this.clock.stop();
    this.host.metrics.remove();
    const { store, stash } = this.o;
    // A deleted node's context goes with it; otherwise keep the open windows for the next start.
    if (removed) stash.delete(this.host.id);
    else if (this.tasks === null && !store.configured && this.queue === null) stash.set(this.host.id, this.state());
    const saved = new Promise<void>((resolve) => this.checkpoints.close(removed, this.tasks === null && store.configured && this.queue === null, resolve));
    return Promise.all([saved, tasksClosed]).then(() => undefined);
  }

  private state(): Record<string, unknown> {
    return { ...this.windows.snapshot(), offsets: this.gate.toJSON() };
  }

  private restore(err: Error | undefined, saved: unknown): void {
    // A context store that answers after the node stopped: nothing may be sent any more.
    if (this.closed) return;
    const out: WindowResult[] = [];
    let restored = false;
    if (err) this.host.warn('restore-failed', { error: err.message });
    else if (saved !== undefined) {
      restored = this.windows.restore(saved, Date.now(), out);
      if (restored) this.gate.restore((saved as { offsets?: unknown }).offsets);
      else this.host.warn('checkpoint-mismatch');
    }
    // Results emitted shortly before the checkpoint was taken go out again (see checkpoint.ts).
    const again = this.checkpoints.restored(saved);
    this.emit(restored ? [...again, ...out] : out, false, this.host.send);
    this.checkpoints.ready = true;
    const waiting = this.queue ?? [];
    this.queue = null;
    for (const [m, s, d] of waiting) this.run(m, s, d);
    this.checkpoints.handled();
    this.clock.showStatus();
  }

  /** The node's own windows (tp null), then each partition task's. */
  private eachWindows(fn: (w: SlidingWindows, tp: string | null) => void): void {
    fn(this.windows, null);
    this.tasks?.forEach((w, tp) => fn(w, tp));
  }

  private run(msg: NodeMessage, send: Send, done: Done): void {
    try {
      this.process(msg, send, done);
    } catch (err) {
      this.host.fail(err, done);
    }
  }

  private process(msg: NodeMessage, send: Send, done: Done): void {
    const now = Date.now();
    const out: WindowResult[] = [];
    let windows = this.windows;
    /** Items before this index are redeliveries the partition task's state holds already. */
    let from = 0;
    if (msg.reset) {
      const id = typeof msg.reset === 'string' ? msg.reset : undefined;
      this.eachWindows((w, tp) => {
        w.reset(id);
        if (tp !== null) this.tasks!.touch(tp);
      });
      // A full reset also forgets the Kafka offsets taken: the same records may be windowed again.
      if (id === undefined) {
        this.gate.clear();
        this.gateMoved = true;
      }
      this.clock.showStatus();
      return done();
    }
    if (msg.flush) {
      const id = typeof msg.flush === 'string' ? msg.flush : undefined;
      this.eachWindows((w, tp) => {
        const before = out.length;
        w.flush(out, id);
        if (out.length > before && tp !== null) this.tasks!.touch(tp);
      });
      this.emit(out, this.lastWasArray, send);
      this.clock.showStatus();
      return done();
    }
    if (this.tasks !== null) {
      const a = this.tasks.accept(msg, Array.isArray(msg.payload) ? msg.payload.length : -1);
      if (a === 'wait') return this.tasks.defer(msg, () => this.run(msg, send, done));
      // Records of a partition this runtime no longer owns (or owns again, restored since): not windowed.
      if (a === 'skip') return this.ended(msg, done);
      if (a !== 'local') {
        windows = a.state;
        from = a.from;
        if (!Array.isArray(msg.payload) && from > 0) {
          this.skipped++;
          return this.ended(msg, done);
        }
      }
    }
    const gated = windows === this.windows;
    /** A partition task's message: the trigger offset of each result, for its position (see OutputMeta). */
    const task = gated ? null : (msg.kafka as { topic: string; partition: number; epoch: unknown; offset?: number; offsets?: number[] });
    const trig: number[] | null = task === null ? null : [];
    if (Array.isArray(msg.payload)) {
      this.lastWasArray = true;
      const items = msg.payload as unknown[];
      const pos = gated ? kafkaPosition(msg, items.length) : null;
      const high = pos === null ? -1 : this.gate.highest(pos.key);
      let late: unknown[] | null = null;
      let info: Record<string, unknown>[] | null = null;
      let top = high;
      this.skipped += from;
      for (let i = from; i < items.length; i++) {
        if (pos !== null) {
          const offset = (pos.offsets as readonly number[])[i];
          if (offset <= high) {
            this.skipped++;
            continue;
          }
          if (offset > top) top = offset;
        }
        const before = out.length;
        const why = this.addOne(windows, items[i], msg, i, now, out);
        if (trig !== null) for (let j = before; j < out.length; j++) trig.push(task!.offsets![i]);
        if (why !== null) {
          (late ??= []).push(items[i]);
          (info ??= []).push(why);
        }
      }
      if (pos !== null) this.took(pos.key, high, top);
      this.host.metrics.readingsIn.inc(items.length);
      this.emit(out, true, send, task === null ? undefined : this.positions(task, out, trig!));
      // Late readings keep the record metadata (msg.kafka) of the batch they came in.
      if (late !== null) send([null, { ...msg, payload: late, late: info }]);
      // Every item ends here but the late ones passed on to a wired output 2.
      if (this.ends.kept) settle(msg, items.length - (late !== null && !this.ends.late ? late.length : 0));
    } else {
      this.lastWasArray = false;
      const pos = gated ? kafkaPosition(msg, -1) : null;
      if (pos !== null && pos.offset <= this.gate.highest(pos.key)) {
        this.skipped++;
        return this.ended(msg, done);
      }
      if (pos !== null) this.took(pos.key, -1, pos.offset);
      const why = this.addOne(windows, msg.payload, msg, -1, now, out);
      this.host.metrics.readingsIn.inc();
      if (trig !== null) for (let j = 0; j < out.length; j++) trig.push(task!.offset!);
      this.emit(out, false, send, task === null ? undefined : this.positions(task, out, trig!));
      if (why !== null) {
        msg.late = why;
        send([null, msg]);
      }
      if (this.ends.kept && (why === null || this.ends.late)) settle(msg, 1);
    }
    this.clock.showStatus();
    done();
  }

  /** A message whose records the state has already (a redelivery) or will not take: they end here. */
  private ended(msg: NodeMessage, done: Done): void {
    if (this.ends.kept) settle(msg);
    return done();
  }

  /** Results as messages: one per window after a single reading, one with an array after a batch. */
  private emit(out: WindowResult[], asArray: boolean, send: Send, meta?: OutputMeta): void {
    if (out.length === 0) return;
    this.host.metrics.windows.inc(out.length);
    this.checkpoints.emitted(out, Date.now());
    this.sendResults(out, asArray, send, meta);
  }

  /** Results of a partition task's message: their positions (trigger offset, rank among its results) and outbox entry. */
  private positions(task: { topic: string; partition: number; epoch: unknown }, out: WindowResult[], trig: number[]): OutputMeta | undefined {
    if (out.length === 0) return undefined;
    const seqs: number[] = new Array(out.length);
    for (let j = 0; j < out.length; j++) seqs[j] = j > 0 && trig[j] === trig[j - 1] ? seqs[j - 1] + 1 : 0;
    return this.tasks!.outputs(taskKey(task.topic, task.partition), task.epoch, out, trig, seqs, false);
  }

  private sendResults(out: WindowResult[], asArray: boolean, send: Send, meta?: OutputMeta): void {
    // One send() per result: in one call Node-RED deep-copies every message after the first.
    if (asArray) send([meta === undefined ? { payload: out } : { payload: out, kafka: meta }, null]);
    else if (meta === undefined) for (const w of out) send([{ payload: w, key: w.deviceId }, null]);
    else {
      // One message per result, each with its own position; they share the outbox entry's ack token.
      for (let j = 0; j < out.length; j++) send([{ payload: out[j], key: out[j].deviceId, kafka: itemMeta(meta, j) }, null]);
    }
  }

  /** Offsets up to `top` of a partition were taken; log the redeliveries skipped before them. */
  private took(key: string, high: number, top: number): void {
    if (top > high) {
      this.gate.advance(key, top);
      this.gateMoved = true;
    }
    if (this.skipped > 0) {
      this.host.log('skipped', { count: this.skipped, partition: key });
      this.skipped = 0;
    }
  }

  /** Aggregate one item; returns null, or the `msg.late` entry when it goes to output 2. */
  private addOne(windows: SlidingWindows, r: unknown, msg: NodeMessage, i: number, now: number, out: WindowResult[]): Record<string, unknown> | null {
    if (typeof r !== 'object' || r === null || Array.isArray(r)) return { watermark: null, error: 'not a reading' };
    const rec = r as Record<string, unknown>;
    const t = readingTime(this.o.timeSource, rec, msg, i, now);
    if (!Number.isFinite(t)) return { watermark: null, error: 'no usable time' };
    if (windows.add(rec, t, now, out)) return null;
    this.host.metrics.late.inc();
    return { watermark: windows.lastWatermark };
  }
}
