/**
 * Kafka commit holds of the sliding window in a real Node-RED runtime (a child process, the
 * localfilesystem context store with a 1 s flushInterval, the built node from dist/): a fake `kafka in`
 * registered in the child's ack registry records every hold and release, and, at each release, what
 * the context file on disk holds. Then a SIGKILL mid-stream, a restart, and a redelivery from the
 * offset kafka in would have committed: the final windows are those of an uninterrupted run.
 */
import { strict as assert } from 'node:assert';
import { SlidingWindows, type WindowResult } from '../../nodes/lib/window';
import { cleanUpWindowRuntimes, startWindowRuntime, windowUserDir, type Msg, type WindowRuntime } from './_window-child';

/** Window results of output 1, in order (a batch's array flattened). */
function results(rt: WindowRuntime): WindowResult[] {
  return rt.out.flatMap((m) => (Array.isArray(m.payload) ? m.payload : [m.payload]));
}

/** Six devices, one reading every 5 s each, in event-time order (record i has Kafka offset i). */
function readings(n: number): Msg[] {
  const t0 = 1_654_733_331_000;
  return Array.from({ length: n }, (_, i) => ({
    deviceId: `dev-${i % 6}`,
    timestamp: t0 + Math.floor(i / 6) * 5000,
    temperature: 20 + ((i * 37) % 100) / 10,
    humidity: i % 11 === 0 ? null : 40 + (i % 13),
    tvoc: i % 300,
    eco2: 400 + (i % 50),
    pm2_5: (i % 17) / 2,
    pressure: 935 + (i % 5) / 10,
    fireAlarm: i % 9 === 0 ? 1 : 0,
  }));
}

interface Unit {
  msg: Msg;
  /** Offsets [first, last] of its records. */
  first: number;
  last: number;
}

/** Messages as kafka in (batch mode) stamps them: batches of 60 with single records in between, one unit each. */
function units(rs: Msg[]): Unit[] {
  const out: Unit[] = [];
  for (let i = 0; i < rs.length; ) {
    const id = out.length + 1;
    if (i % 600 < 2) {
      out.push({ msg: { payload: rs[i], kafka: { topic: 't', partition: 0, offset: i, ack: { consumer: 'kin', id, records: 1 } } }, first: i, last: i });
      i++;
    } else {
      const n = Math.min(60, rs.length - i);
      const offsets = Array.from({ length: n }, (_, k) => i + k);
      out.push({ msg: { payload: rs.slice(i, i + n), kafka: { topic: 't', partition: 0, offsets, ack: { consumer: 'kin', id, records: n } } }, first: i, last: i + n - 1 });
      i += n;
    }
  }
  return out;
}

/** The final windows of an uninterrupted run, by `deviceId@windowStart`. */
function reference(rs: Msg[]): Map<string, WindowResult> {
  const w = new SlidingWindows({ sizeMs: 300_000, slideMs: 60_000, delayMs: 600_000 });
  const out: WindowResult[] = [];
  for (const r of rs) w.add(r, r.timestamp, 0, out);
  return new Map(out.map((r) => [`${r.deviceId}@${r.windowStart}`, r]));
}

async function waitFor(cond: () => boolean, ms: number, what: () => string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`not within ${ms} ms: ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('sliding-window > Kafka commit holds in a real runtime (localfilesystem store)', function () {
  this.timeout(120_000);
  after(cleanUpWindowRuntimes);

  const rs = readings(3600);
  const us = units(rs);
  const ref = reference(rs);

  it('holds every Kafka message and releases it only once a checkpoint with its records is on disk', async function () {
    const dir = windowUserDir('smoke-window-hold-');
    const rt = await startWindowRuntime(dir, { holds: true });
    for (const u of us) await rt.input(u.msg);
    assert.deepEqual(rt.holds.map((h) => h.id), us.map((_, k) => k + 1), 'one hold per message, in the input handler');
    assert.ok(rt.holds.every((h) => h.holder === 'win') && rt.releases.every((r) => r.holder === 'win'), 'held and released by the window');
    await waitFor(() => rt.releases.length === us.length, 10_000, () => `${rt.releases.length}/${us.length} released`);
    const byId = new Map(us.map((u, k) => [k + 1, u]));
    for (const r of rt.releases) {
      const u = byId.get(r.id)!;
      assert.ok(r.onDisk !== null && r.onDisk['t:0'] >= u.last, `unit ${r.id} (offsets ${u.first}..${u.last}) released with ${JSON.stringify(r.onDisk)} on disk`);
    }
    assert.equal(new Set(rt.releases.map((r) => r.id)).size, us.length, 'each released once');
    await rt.stop();
  });

  it('holds nothing when "hold Kafka commits" is off', async function () {
    const dir = windowUserDir('smoke-window-hold-', { holdCommits: false });
    const rt = await startWindowRuntime(dir, { holds: true });
    for (const u of us.slice(0, 5)) await rt.input(u.msg);
    await rt.stop();
    assert.deepEqual(rt.holds, []);
    assert.deepEqual(rt.releases, []);
  });

  it('after a SIGKILL, redelivery from the commit offset gives every final window of an uninterrupted run', async function () {
    const dir = windowUserDir('smoke-window-hold-');
    const first = await startWindowRuntime(dir, { holds: true });
    // A paced stream, killed a few messages after the first release: some released, the last ones held.
    let cut = 0;
    let after = -1;
    while (cut < us.length && after !== 0) {
      await first.input(us[cut++].msg);
      if (after < 0 && first.releases.length > 0) after = 3;
      else if (after > 0) after--;
      await new Promise((r) => setTimeout(r, 50));
    }
    await first.kill();
    const released = new Set(first.releases.map((r) => r.id));
    assert.ok(cut < us.length, 'killed mid-stream');
    assert.ok(released.size > 0 && released.size < cut, `killed with messages still held (${released.size}/${cut} released)`);

    // What kafka in would have committed (the sink acknowledged everything): up to the first unit still held.
    const from = us.findIndex((_, k) => !released.has(k + 1));
    const second = await startWindowRuntime(dir, { holds: true });
    for (const u of us.slice(from)) await second.input(u.msg);
    await second.stop();

    const got = [...results(first), ...results(second)];
    const seen = new Set<string>();
    const wrong: string[] = [];
    for (const r of got) {
      const key = `${r.deviceId}@${r.windowStart}`;
      seen.add(key);
      if (!ref.has(key)) wrong.push(`${key}: not a final window of the stream`);
      else if (JSON.stringify(r) !== JSON.stringify(ref.get(key))) wrong.push(`${key}: ${JSON.stringify(r)} != ${JSON.stringify(ref.get(key))}`);
    }
    const missing = [...ref.keys()].filter((k) => !seen.has(k));
    assert.deepEqual(missing, [], 'no final window missing');
    assert.deepEqual(wrong, [], 'every result as in the uninterrupted run (duplicates allowed)');
    assert.ok(from < cut, 'some messages were delivered again');
  });
});
