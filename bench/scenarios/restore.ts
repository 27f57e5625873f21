/**
 * (f) Restore time: how long a new owner of a source partition waits before `kafka in` may emit its
 * records, for a partition whose state holds `devices` devices (issue 13: "restore time per 10,000
 * devices"). No Node-RED: the built modules the nodes use (dist/nodes/nr/partition-tasks.js,
 * task-store.js, dist/nodes/lib ZScoreDetector and SlidingWindows, with the codecs and default settings
 * of nodes/nr/detector-node.ts and nodes/sliding-window/runner.ts) on a kafkajs client of the local broker.
 *
 * 1. A 1-partition source topic; a PartitionTasks of a first owner (consumer id `…-writer`) with two
 *    TaskStores, `zscore` and `window`; assigned partition 0 and restored (empty).
 * 2. State: `devices × perDevice` readings of the bench data (validated as sensor validate does),
 *    interleaved over the devices, `stepSeconds` of event time apart, fed in batches of 1,000 as kafka in's
 *    batch messages (`msg.kafka = { topic, partition, offsets, epoch }`) through each store's `accept`
 *    into the z-score detector and the sliding windows of the partition. With the defaults (40 readings
 *    30 s apart) every device has 40 values per sensor in each of its 12 z-score windows (scoring starts
 *    at 30) and its windows' panes at their steady count (size 5 min + watermark 10 min, slide 1 min:
 *    15 panes, as a 1 Hz stream holds them).
 * 3. Checkpoint: `checkpointNow` of each store (one transaction each: snapshot, JSON, chunked records,
 *    commit). The first owner closes (nothing changed: no final write), so each changelog holds one
 *    checkpoint of the task, as compaction leaves it.
 * 4. Restore: a new PartitionTasks (another consumer id, the same group id, so the same changelog
 *    topics) with the stores asked for; timed from `assigned({ topic: [0] }, true)` to the task being
 *    ready (`whenReady`, `epochOf` defined): changelog topic check, a transactional producer per task
 *    (init fences the previous owner), one transaction with a marker in each changelog, a throwaway consumer group
 *    that reads each changelog partition from its start to the marker, and the stores' decode (JSON.parse
 *    and the codec's restore, timed on its own). Restores of z-score alone, the window alone and both,
 *    `repeats` times each, and of an empty state (another group: its changelog topics exist but hold no
 *    checkpoint of the task) for the part that does not depend on the state.
 * 5. The last owner checkpoints each store `repeats − 1` times more (commit times: median over all),
 *    then both stores in one transaction as the periodic checkpoint writes them (by closing), and one
 *    more restore of both reads the changelogs with all those checkpoints still in them: until the
 *    broker compacts a segment (never the active one) a restore reads every checkpoint written since.
 */
import path from 'node:path';
import type { Kafka } from 'kafkajs';
import { scenarioMain } from '../lib/child';
import { loadDataset, readingAt } from '../lib/dataset';
import { createTopic, deleteStateOf, kafkaClient, uniqueName } from '../lib/kafka';

type PartitionTasksModule = typeof import('../../nodes/nr/partition-tasks');
type TaskStoreModule = typeof import('../../nodes/nr/task-store');
type PartitionTasks = import('../../nodes/nr/partition-tasks').PartitionTasks;
type TaskStore<S> = import('../../nodes/nr/task-store').TaskStore<S>;
type StateCodec<S> = import('../../nodes/nr/task-store').StateCodec<S>;
type ZScoreDetector = import('../../nodes/lib/zscore').ZScoreDetector;
type SlidingWindows = import('../../nodes/lib/window').SlidingWindows;
type Reading = import('../../nodes/lib/types').Reading;

const DIST = path.resolve(__dirname, '..', '..', 'dist', 'nodes');
/** The built modules, as the nodes load them (one module instance: the store registry is module state). */
const { PartitionTasks } = require(path.join(DIST, 'nr', 'partition-tasks.js')) as PartitionTasksModule;
const { TaskStore } = require(path.join(DIST, 'nr', 'task-store.js')) as TaskStoreModule;
const lib = require(path.join(DIST, 'lib', 'index.js')) as typeof import('../../nodes/lib/index');

export interface RestoreConfig {
  brokers: string[];
  /** Devices in the partition's state. */
  devices: number;
  /** Readings per device (≥ 30: the z-score's minValues). */
  perDevice: number;
  /** Event-time seconds between a device's readings. */
  stepSeconds: number;
  /** Timed restores of each kind. */
  repeats: number;
  /** Also restore each store on its own (else only both, and the empty state). */
  separate: boolean;
}

export interface StoreCheckpoint {
  /** Devices in the state that was checkpointed. */
  devices: number;
  /** Open windows (window store) or values per sensor of a device (z-score store). */
  detail: number;
  /** The checkpoint's JSON text, bytes (the changelog records' values; keys add ~30 bytes a chunk). */
  bytes: number;
  chunks: number;
  /** Snapshot and JSON.stringify of the state (TaskStore.take), ms. */
  snapshotMs: number;
  /** checkpointNow: take, the chunked records in one transaction, commit, ms (median of `repeats`). */
  commitMs: number;
}

export interface RestoreRun {
  kind: 'empty' | 'zscore' | 'window' | 'both';
  /** assigned() until the task is ready, ms. */
  ms: number;
  /** Of which the stores' restore (JSON.parse and the codec's restore), ms. */
  decodeMs: number;
  /** Devices restored (summed over the stores). */
  devices: number;
}

export interface RestoreResult {
  devices: number;
  perDevice: number;
  stepSeconds: number;
  /** Feeding the readings through both stores (validation included), readings/s. */
  feedPerSec: number;
  zscore: StoreCheckpoint;
  window: StoreCheckpoint;
  /** Both stores' checkpoints in one transaction (as the periodic checkpoint writes them), ms. */
  commitBothMs: number;
  runs: RestoreRun[];
  /** Median restore of each kind, ms. */
  median: Record<RestoreRun['kind'], number>;
  /** Median restore × 10,000 / devices, ms (the state-independent part included: see median.empty). */
  per10k: { zscore: number; window: number; both: number };
  /**
   * A restore of both stores from changelogs that still hold every checkpoint written (compaction had
   * no chance yet: the latest segment is never compacted): `checkpoints` of each store, read in full.
   */
  bothUncompacted: { ms: number; checkpoints: number };
}

const CHUNK_CHARS = 300_000;
const BATCH = 1000;

function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

/** The nodes' default settings, with room for `devices` (both default to 10,000 devices). */
function codecs(devices: number): { zscore: StateCodec<ZScoreDetector>; window: StateCodec<SlidingWindows> } {
  const maxDevices = Math.max(lib.DEFAULT_MAX_DEVICES, devices);
  const zopts = { emit: 'every' as const, maxDevices, idleMs: lib.DEFAULT_IDLE_MS, ...lib.ZSCORE_DEFAULTS, sensors: [...lib.NUMERIC_SENSORS] };
  // smoke-sliding-window's defaults (sliding-window.ts): 5 min every 1 min, watermark 10 min, event time.
  const wopts = {
    sizeMs: 300_000,
    slideMs: 60_000,
    delayMs: 600_000,
    aggregates: lib.parseAggregates(lib.DEFAULT_AGGREGATES.join(', ')).specs,
    mode: 'append' as const,
    arrival: false,
    maxDevices,
    idleMs: 0,
  };
  return {
    // As nodes/nr/detector-node.ts builds it.
    zscore: { create: () => new lib.ZScoreDetector(zopts), snapshot: (d) => d.snapshot(), restore: (d, saved) => d.restore(saved), devices: (d) => d.devices },
    // As nodes/sliding-window/runner.ts builds it.
    window: {
      create: () => new lib.SlidingWindows(wopts),
      snapshot: (w) => w.snapshot(),
      restore: (w, saved) => w.restore(saved, Date.now(), []),
      devices: (w) => w.stats().devices,
    },
  };
}

/** A partition-tasks owner: its tasks and stores, with the stores' take and restore timed. */
class Owner {
  readonly tasks: PartitionTasks;
  readonly stores: { zscore?: TaskStore<ZScoreDetector>; window?: TaskStore<SlidingWindows> } = {};
  decodeMs = 0;
  lastTake = { bytes: 0, ms: 0 };
  readonly warnings: string[] = [];

  constructor(kafka: Kafka, groupId: string, consumerId: string, which: ('zscore' | 'window')[], devices: number) {
    const c = codecs(devices);
    const warn = (t: string) => this.warnings.push(t);
    // No periodic checkpoints: the scenario asks for each one.
    this.tasks = new PartitionTasks(kafka, { groupId, consumerId, intervalMs: 1e9, log: () => undefined, warn, changed: () => undefined });
    if (which.includes('zscore')) this.stores.zscore = this.timed(new TaskStore<ZScoreDetector>('zscore', consumerId, c.zscore, { hold: true, warn }));
    if (which.includes('window')) this.stores.window = this.timed(new TaskStore<SlidingWindows>('window', consumerId, c.window, { hold: true, warn }));
  }

  private timed<S>(s: TaskStore<S>): TaskStore<S> {
    const restore = s.restore.bind(s);
    const take = s.take.bind(s);
    s.restore = (tp, text, epoch) => {
      const t0 = performance.now();
      const n = restore(tp, text, epoch);
      this.decodeMs += performance.now() - t0;
      return n;
    };
    s.take = (tp) => {
      const t0 = performance.now();
      const tk = take(tp);
      this.lastTake = { bytes: tk?.text ? Buffer.byteLength(tk.text) : 0, ms: performance.now() - t0 };
      return tk;
    };
    return s;
  }

  /** Assign partition 0 of `topic` as a new member and wait until its task is ready; ms. */
  async assign(topic: string): Promise<{ ms: number; epoch: number }> {
    const t0 = performance.now();
    this.tasks.assigned({ [topic]: [0] }, true);
    await this.tasks.whenReady(topic, 0);
    const ms = performance.now() - t0;
    const epoch = this.tasks.epochOf(topic, 0);
    if (epoch === undefined) throw new Error(`partition ${topic}:0 was not restored${this.warnings.length ? `: ${this.warnings.join('; ')}` : ''}`);
    return { ms, epoch };
  }

  devices(): number {
    let n = 0;
    this.stores.zscore?.forEach((d) => (n += d.devices));
    this.stores.window?.forEach((w) => (n += w.stats().devices));
    return n;
  }

  async close(): Promise<void> {
    for (const s of [this.stores.zscore, this.stores.window]) await s?.close();
    await this.tasks.close(60_000);
  }
}

scenarioMain<RestoreConfig, RestoreResult>(async (cfg) => {
  if (cfg.perDevice < lib.ZSCORE_DEFAULTS.minValues) throw new Error(`perDevice ${cfg.perDevice} < the z-score's minValues ${lib.ZSCORE_DEFAULTS.minValues}`);
  const kafka = kafkaClient(cfg.brokers, 'smoke-bench-restore');
  const admin = kafka.admin();
  await admin.connect();
  const topic = uniqueName('smoke-bench-restore');
  const emptyTopic = uniqueName('smoke-bench-restore-empty');
  const groupId = uniqueName('smoke-bench-restore');
  const emptyGroup = uniqueName('smoke-bench-restore-empty');
  const owners: Owner[] = [];
  const owner = (g: string, id: string, which: ('zscore' | 'window')[]) => {
    const o = new Owner(kafka, g, id, which, cfg.devices);
    owners.push(o);
    return o;
  };
  try {
    await createTopic(admin, topic, 1);
    await createTopic(admin, emptyTopic, 1);
    const ds = loadDataset();
    const tp = `${topic}:0`;

    // ---- 1. the first owner
    const writer = owner(groupId, 'bench-restore-writer', ['zscore', 'window']);
    const { epoch } = await writer.assign(topic);
    const zs = writer.stores.zscore!;
    const ws = writer.stores.window!;

    // ---- 2. its state
    const total = cfg.devices * cfg.perDevice;
    const alerts: import('../../nodes/lib/types').Alert[] = [];
    const results: import('../../nodes/lib/window').WindowResult[] = [];
    const t0 = performance.now();
    for (let start = 0; start < total; start += BATCH) {
      const n = Math.min(BATCH, total - start);
      const payload: Reading[] = new Array(n);
      const offsets: number[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const v = lib.validateReading(readingAt(ds, start + i, cfg.devices, cfg.stepSeconds));
        if (!v.ok) throw new Error(`reading ${start + i} is invalid: ${JSON.stringify(v.errors)}`);
        payload[i] = v.reading;
        offsets[i] = start + i;
      }
      const msg = { payload, kafka: { topic, partition: 0, offsets, epoch } };
      const now = Date.now();
      const za = zs.accept(msg, n);
      if (typeof za === 'string') throw new Error(`z-score store answered ${za}`);
      za.state.sweep(now);
      for (let i = za.from; i < n; i++) za.state.process(payload[i], now, alerts);
      const wa = ws.accept(msg, n);
      if (typeof wa === 'string') throw new Error(`window store answered ${wa}`);
      for (let i = wa.from; i < n; i++) wa.state.add(payload[i], payload[i].timestamp, now, results);
      alerts.length = 0;
      results.length = 0;
    }
    const feedPerSec = (total / (performance.now() - t0)) * 1000;
    let zDevices = 0;
    let openWindows = 0;
    let wDevices = 0;
    zs.forEach((d) => (zDevices += d.devices));
    ws.forEach((w) => {
      const s = w.stats();
      wDevices += s.devices;
      openWindows += s.openWindows;
    });
    if (zDevices !== cfg.devices || wDevices !== cfg.devices) throw new Error(`state holds ${zDevices} z-score and ${wDevices} window devices, not ${cfg.devices}`);

    // ---- 3. one checkpoint of each store; the first owner leaves (nothing changed since: no final write),
    // so each changelog holds exactly one checkpoint of the task, as compaction leaves it
    const checkpoint = async <S,>(by: Owner, s: TaskStore<S>): Promise<{ bytes: number; snapshotMs: number; commitMs: number }> => {
      s.touch(tp);
      const c0 = performance.now();
      const r = await by.tasks.checkpointNow(tp, s);
      const commitMs = performance.now() - c0;
      if (r !== 'ok') throw new Error(`checkpoint of ${s.id}: ${r}${by.warnings.length ? ` (${by.warnings.join('; ')})` : ''}`);
      return { bytes: by.lastTake.bytes, snapshotMs: by.lastTake.ms, commitMs };
    };
    const zCommits = [await checkpoint(writer, zs)];
    const wCommits = [await checkpoint(writer, ws)];
    await writer.close();

    // ---- 4. restores; the empty state's changelog topics made first (as after any earlier assignment)
    const primer = owner(emptyGroup, 'bench-restore-empty-0', ['zscore', 'window']);
    await primer.assign(emptyTopic);
    await primer.close();
    const kinds: RestoreRun['kind'][] = cfg.separate ? ['empty', 'zscore', 'window', 'both'] : ['empty', 'both'];
    const runs: RestoreRun[] = [];
    let seq = 0;
    const restore = async (kind: RestoreRun['kind']): Promise<Owner> => {
      const which: ('zscore' | 'window')[] = kind === 'zscore' ? ['zscore'] : kind === 'window' ? ['window'] : ['zscore', 'window'];
      const o = owner(kind === 'empty' ? emptyGroup : groupId, `bench-restore-${kind}-${++seq}`, which);
      const { ms } = await o.assign(kind === 'empty' ? emptyTopic : topic);
      const devices = o.devices();
      const want = kind === 'empty' ? 0 : which.length * cfg.devices;
      if (devices !== want) throw new Error(`restore (${kind}) gave ${devices} devices, not ${want}${o.warnings.length ? `: ${o.warnings.join('; ')}` : ''}`);
      runs.push({ kind, ms, decodeMs: o.decodeMs, devices });
      return o;
    };
    let last: Owner | undefined;
    for (let rep = 0; rep < cfg.repeats; rep++) {
      for (const kind of kinds) {
        await last?.close();
        last = await restore(kind);
      }
    }

    // ---- 5. more checkpoints, by the last owner (restored both): each store on its own, then both in
    // one transaction (as the periodic checkpoint writes them) by closing; then a restore that reads
    // them all (a changelog whose latest segment compaction has not reached yet)
    const o = last!;
    for (let i = 1; i < cfg.repeats; i++) {
      zCommits.push(await checkpoint(o, o.stores.zscore!));
      wCommits.push(await checkpoint(o, o.stores.window!));
    }
    o.stores.zscore!.touch(tp);
    o.stores.window!.touch(tp);
    const b0 = performance.now();
    await o.tasks.close(120_000);
    const commitBothMs = performance.now() - b0;
    await o.close();
    const uncompacted = await restore('both');
    const bothUncompacted = { ms: runs.pop()!.ms, checkpoints: zCommits.length + 1 };
    await uncompacted.close();

    const byCommit = (xs: { bytes: number; snapshotMs: number; commitMs: number }[]) => [...xs].sort((a, b) => a.commitMs - b.commitMs)[Math.floor((xs.length - 1) / 2)];
    const zc = byCommit(zCommits);
    const wc = byCommit(wCommits);
    const chunks = (bytes: number) => Math.max(1, Math.ceil(bytes / CHUNK_CHARS));
    const med = (k: RestoreRun['kind']) => median(runs.filter((r) => r.kind === k).map((r) => r.ms));
    const m = { empty: med('empty'), zscore: med('zscore'), window: med('window'), both: med('both') };
    const scale = 10_000 / cfg.devices;
    return {
      devices: cfg.devices,
      perDevice: cfg.perDevice,
      stepSeconds: cfg.stepSeconds,
      feedPerSec,
      zscore: { devices: zDevices, detail: cfg.perDevice, ...zc, chunks: chunks(zc.bytes) },
      window: { devices: wDevices, detail: openWindows / wDevices, ...wc, chunks: chunks(wc.bytes) },
      commitBothMs,
      runs,
      median: m,
      per10k: { zscore: m.zscore * scale, window: m.window * scale, both: m.both * scale },
      bothUncompacted,
    };
  } finally {
    for (const o of owners) await o.close().catch(() => undefined);
    await admin.deleteTopics({ topics: [topic, emptyTopic], timeout: 15000 }).catch(() => undefined);
    await deleteStateOf(admin, [groupId, emptyGroup]).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
});
