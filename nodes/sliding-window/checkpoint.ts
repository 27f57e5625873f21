/**
 * The sliding window's checkpoints, and the Kafka commit holds that wait for them.
 *
 * Why: `kafka in` (after-sink) commits an offset once the sinks wrote the records. The window keeps
 * those records in its state, which reaches disk only with a checkpoint; after a crash it restores the
 * last checkpoint, and records between that checkpoint and the committed offset would never come
 * again. So, with a persistent store, the window holds every incoming message's ack token
 * (nodes/nr/ack.ts) and releases the tokens once a checkpoint that contains their records is on disk.
 *
 * Cadence: while tokens are held, a checkpoint is taken `holdMs` after the first hold, or as soon as
 * `holdRecords` records are held, whichever comes first, so that kafka in's in-flight limit (its
 * `maxInFlight`, which counts held records) is not reached while the window waits; but never sooner
 * after the previous one than `costRatio` times what that one took, so that checkpoints of a large
 * state (3 MB for 1,000 devices) take at most about a tenth of the time. Without holds, the node's
 * `every` interval applies (when the state changed). The state is taken synchronously (a snapshot);
 * the store writes it asynchronously.
 *
 * On disk: a store that writes through (localfilesystem with `cache: false`, other persistent modules)
 * calls back once the checkpoint is stored. localfilesystem with its cache (its default) calls back at
 * once and writes to disk up to `flushInterval` later: the checkpoint carries a sequence number
 * (`seq`, first in the object), and the tokens are released once the file on disk holds that seq or a
 * later one (read back every `pollMs`).
 *
 * Results: a checkpoint also carries the window results emitted during the last `replayMs` (as JSON
 * text), re-emitted on restore. A result is emitted before the checkpoint that records it as emitted
 * is written; if the process dies after that checkpoint is on disk but before the results sink wrote
 * the result (the csv sink writes within ~200 ms), the restored state would never emit it again.
 * Re-emitting the recent ones makes that a duplicate instead (at-least-once) as long as the sink
 * writes within `replayMs`. The checkpoint of a clean stop carries none: sinks drain on close.
 */
import * as fs from 'node:fs/promises';
import { hold, release, type AckToken } from '../nr/ack';
import type { WindowResult } from '../lib/window';

/** How a checkpoint handed to the store reaches disk. */
export type Durability =
  /** The set callback means stored (or the store is not persistent: nothing to wait for). */
  | { kind: 'set' }
  /** Write-behind store: on disk once `diskSeq()` reports this checkpoint's seq or a later one. */
  | { kind: 'file'; flushMs: number; diskSeq: () => Promise<number | undefined> }
  /** Write-behind store whose file is unknown: on disk `flushMs` (plus a margin) after the set. */
  | { kind: 'time'; flushMs: number };

export interface CheckpointTarget {
  /** Hand a checkpoint to the store (the node's context); `cb` once the store took it or failed. */
  set(value: Record<string, unknown>, cb: (err?: Error) => void): void;
  durable: Durability;
}

/** The window state the checkpoints save. */
export interface CheckpointSource {
  /** Whether the state changed since the last checkpoint. */
  readonly dirty: boolean;
  /** The state to save (JSON-safe, new objects); marks it clean. */
  take(): Record<string, unknown>;
  /** The save of a taken state failed: it is dirty again. */
  failed(): void;
}

export interface CheckpointerOptions {
  /** The holder id for ack.ts: the node id. */
  holderId: string;
  /** Hold Kafka commits until checkpointed (only sensible with a persistent store). */
  hold: boolean;
  /** Keep recent results in checkpoints (periodic checkpoints to a persistent store). */
  replay: boolean;
  /** Checkpoint the changed state this often (ms); 0: only when tokens are held and on close. */
  intervalMs: number;
  holdMs?: number;
  holdRecords?: number;
  replayMs?: number;
  pollMs?: number;
  /** After a checkpoint that took d ms (state, serialisation, store), the next waits at least d × this. */
  costRatio?: number;
  /** A checkpoint not on disk after flushMs + this is reported (once). */
  overdueMs?: number;
  warn: (key: 'save-failed' | 'hold-late' | 'not-on-disk' | 'slow-flush', info?: Record<string, unknown>) => void;
}

interface Awaiting {
  seq: number;
  tokens: AckToken[];
  /** When the store took it (ms). */
  at: number;
}

/** A write-behind flush interval beyond this slows a held Kafka stream down noticeably (see slow-flush). */
const SLOW_FLUSH_MS = 5000;

const DEFAULTS = { holdMs: 1000, holdRecords: 2500, replayMs: 2000, pollMs: 100, costRatio: 9, overdueMs: 10_000 };

export class Checkpointer {
  private readonly o: CheckpointerOptions & typeof DEFAULTS;
  /** Sequence number of the last checkpoint handed to the store. */
  private seq = 0;
  private held: AckToken[] = [];
  private heldRecords = 0;
  private holdTimer: NodeJS.Timeout | null = null;
  private readonly interval: NodeJS.Timeout | null = null;
  /** Results emitted lately, oldest first, with their emission time (ms). */
  private recent: { at: number; results: WindowResult[] }[] = [];
  private setting = false;
  private again = false;
  /** No checkpoint before this time (ms): see costRatio. */
  private notBefore = 0;
  private readonly awaiting: Awaiting[] = [];
  private pollTimer: NodeJS.Timeout | null = null;
  private polling = false;
  private overdueWarned = false;
  private lateWarned = false;
  private slowWarned = false;
  /** Stopping: no more checkpoints but the final one. */
  private closing = false;
  private closed = false;
  /** False until the restored state is in place: no checkpoint of an empty state before that. */
  ready = false;

  constructor(
    private readonly target: CheckpointTarget,
    private readonly source: CheckpointSource,
    opts: CheckpointerOptions,
  ) {
    this.o = { ...DEFAULTS, ...opts };
    if (this.o.intervalMs > 0) {
      this.interval = setInterval(() => {
        if (this.source.dirty) this.checkpoint();
      }, this.o.intervalMs);
      this.interval.unref?.();
    }
  }

  /** Records held and not yet in a checkpoint handed to the store. */
  get heldCount(): number {
    return this.heldRecords;
  }

  /** Checkpoints handed to the store and not yet known to be on disk. */
  get pending(): number {
    return this.awaiting.length;
  }

  /**
   * A message arrived (call synchronously in the input handler, before anything that may defer it):
   * hold its ack token until a checkpoint with its records is on disk.
   */
  arrived(msg: Record<string, unknown>): void {
    if (!this.o.hold || this.closed) return;
    const token = (msg.kafka as { ack?: AckToken } | undefined)?.ack;
    if (token === undefined) return;
    const r = hold(token, this.o.holderId);
    if (r === 'held') {
      this.held.push(token);
      this.heldRecords += token.records;
      if (this.holdTimer === null) this.armHoldTimer();
    } else if (r === 'late' && !this.lateWarned) {
      this.lateWarned = true;
      this.o.warn('hold-late');
    }
  }

  /** After a message was handled: checkpoint now when enough records are held. */
  handled(): void {
    if (this.heldRecords >= this.o.holdRecords) this.checkpoint();
  }

  /** Window results just emitted (kept for `replayMs` in checkpoints). */
  emitted(results: WindowResult[], now: number): void {
    if (!this.o.replay || results.length === 0) return;
    this.recent.push({ at: now, results });
    this.trim(now);
  }

  /**
   * The restored checkpoint (whatever it holds): continue its sequence numbers, and return the results
   * it kept to emit again.
   */
  restored(saved: unknown): WindowResult[] {
    const s = saved as { seq?: unknown; recent?: unknown } | undefined;
    if (s && typeof s.seq === 'number' && Number.isFinite(s.seq)) this.seq = s.seq;
    if (!s || typeof s.recent !== 'string') return [];
    try {
      const parsed: unknown = JSON.parse(s.recent);
      return Array.isArray(parsed) ? (parsed.filter((r) => typeof r === 'object' && r !== null && typeof r.deviceId === 'string') as WindowResult[]) : [];
    } catch {
      return [];
    }
  }

  /** Take a checkpoint now if there is anything to save (state changed, or tokens held). */
  checkpoint(): void {
    if (!this.ready || this.closing) return;
    if (this.setting) {
      this.again = true;
      return;
    }
    if (!this.source.dirty && this.held.length === 0) return;
    const wait = this.notBefore - Date.now();
    if (wait > 0) {
      // Too soon after the last one: come back when checkpoints are within their time share again.
      if (this.holdTimer !== null) clearTimeout(this.holdTimer);
      this.armHoldTimer(wait);
      return;
    }
    this.write(true, () => undefined);
  }

  /**
   * The node stops. `removed`: the node (and its context) is deleted, so nothing is saved. Otherwise,
   * with `save`, a final checkpoint (without recent results: sinks drain on close) is handed to the
   * store. Then every hold is released and `done` called. The release does not wait for a write-behind
   * store's flush: Node-RED flushes it when it shuts down, and for a redeploy the next instance carries
   * the state on (a crash within the flush interval after redeploying the window alone is the gap).
   */
  close(removed: boolean, save: boolean, done: () => void): void {
    if (this.holdTimer !== null) clearTimeout(this.holdTimer);
    this.holdTimer = null;
    if (this.interval) clearInterval(this.interval);
    this.closing = true;
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(guard);
      this.closed = true;
      if (this.pollTimer !== null) clearTimeout(this.pollTimer);
      this.pollTimer = null;
      this.releaseAll();
      done();
    };
    // A store that never calls back must not hold up Node-RED's close (15 s).
    const guard = setTimeout(finish, 10_000);
    if (removed || !save || !this.ready) return finish();
    const afterPendingSet = (): void => {
      if (this.setting) setTimeout(afterPendingSet, 20);
      else this.write(false, finish);
    };
    afterPendingSet();
  }

  /** Hand a checkpoint to the store; `cb(ok)` once the store took it (not necessarily on disk). */
  private write(withRecent: boolean, cb: (ok: boolean) => void): void {
    const now = Date.now();
    const tokens = this.held;
    const records = this.heldRecords;
    this.held = [];
    this.heldRecords = 0;
    if (this.holdTimer !== null) clearTimeout(this.holdTimer);
    this.holdTimer = null;
    // Monotonic across restarts too (continues the restored seq; the clock moves on meanwhile), so a
    // checkpoint on disk from before a restart never passes for a newer one.
    const seq = Math.max(this.seq + 1, now);
    this.seq = seq;
    this.trim(now);
    const recent = withRecent && this.recent.length > 0 ? JSON.stringify(this.recent.flatMap((e) => e.results)) : undefined;
    const value: Record<string, unknown> = { seq, ...this.source.take() };
    if (recent !== undefined) value.recent = recent;
    this.setting = true;
    this.target.set(value, (err) => {
      this.setting = false;
      // Checkpoints may take about a tenth of the time: a 40 ms write (1,000 devices) allows the next
      // one 360 ms later at the earliest, whatever the rate of held records.
      const end = Date.now();
      this.notBefore = end + (end - now) * this.o.costRatio;
      if (err) {
        this.o.warn('save-failed', { error: err.message });
        this.source.failed();
        // Keep holding: the next checkpoint covers these records too.
        this.held = tokens.concat(this.held);
        this.heldRecords += records;
        if (this.held.length > 0 && this.holdTimer === null && !this.closing) this.armHoldTimer();
        cb(false);
        return;
      }
      const d = this.target.durable;
      if (d.kind === 'set') this.releaseTokens(tokens);
      else {
        this.awaiting.push({ seq, tokens, at: Date.now() });
        this.schedulePoll();
      }
      cb(true);
      if (this.again || this.heldRecords >= this.o.holdRecords) {
        this.again = false;
        this.checkpoint();
      }
    });
  }

  private armHoldTimer(ms = this.o.holdMs): void {
    this.holdTimer = setTimeout(() => {
      this.holdTimer = null;
      this.checkpoint();
      // Not ready yet (restore pending) or a write in flight: try again a hold period later.
      if (this.held.length > 0 && this.holdTimer === null && !this.closing) this.armHoldTimer();
    }, ms);
  }

  private schedulePoll(): void {
    if (this.pollTimer !== null || this.polling || this.closed || this.awaiting.length === 0) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = null;
      void this.poll();
    }, this.o.pollMs);
  }

  /** Release the checkpoints now on disk. */
  private async poll(): Promise<void> {
    const d = this.target.durable;
    if (d.kind === 'set') return;
    this.polling = true;
    try {
      const now = Date.now();
      let onDisk = -Infinity;
      if (d.kind === 'file') onDisk = (await d.diskSeq()) ?? -Infinity;
      while (this.awaiting.length > 0) {
        const a = this.awaiting[0];
        const ok = d.kind === 'file' ? a.seq <= onDisk : now - a.at >= d.flushMs + 1000;
        if (!ok) break;
        this.awaiting.shift();
        if (a.tokens.length > 0 && !this.slowWarned && d.flushMs > SLOW_FLUSH_MS) {
          // Worth saying once: kafka in fetches at most its maxInFlight records per flush interval.
          this.slowWarned = true;
          this.o.warn('slow-flush', { seconds: d.flushMs / 1000 });
        }
        this.releaseTokens(a.tokens);
      }
      const oldest = this.awaiting[0];
      if (oldest && !this.overdueWarned && Date.now() - oldest.at > d.flushMs + this.o.overdueMs) {
        this.overdueWarned = true;
        this.o.warn('not-on-disk', { seconds: Math.round((Date.now() - oldest.at) / 1000) });
      }
    } finally {
      this.polling = false;
    }
    this.schedulePoll();
  }

  private releaseTokens(tokens: AckToken[]): void {
    for (const t of tokens) release(t, this.o.holderId);
  }

  private releaseAll(): void {
    this.releaseTokens(this.held);
    this.held = [];
    this.heldRecords = 0;
    for (const a of this.awaiting.splice(0)) this.releaseTokens(a.tokens);
  }

  private trim(now: number): void {
    const r = this.recent;
    let i = 0;
    while (i < r.length && now - r[i].at > this.o.replayMs) i++;
    if (i > 0) r.splice(0, i);
  }
}

/**
 * The `seq` of the checkpoint in a localfilesystem context file, or undefined when there is none (no
 * file yet, being replaced, or another layout). The seq is the checkpoint's first key, so the head of
 * the file is enough.
 */
export async function checkpointSeqInFile(file: string): Promise<number | undefined> {
  let fh: fs.FileHandle | undefined;
  try {
    fh = await fs.open(file, 'r');
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const m = /"seq"\s*:\s*(\d+)/.exec(buf.toString('utf8', 0, bytesRead));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}
