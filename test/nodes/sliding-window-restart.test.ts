/**
 * Restarts of a real Node-RED runtime (a child process with its own user directory and the
 * localfilesystem context store): the sliding window's open windows survive a stop and start, and a
 * crash after a periodic checkpoint.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cleanUpWindowRuntimes, startWindowRuntime, windowUserDir, type Msg, type WindowRuntime } from './_window-child';

const MIN = 60_000;

/** Four devices, one reading every 2 s each for 40 min, with stragglers (some late) and nulls. */
function readings(): Msg[] {
  const t0 = 1_654_733_331_000;
  const out: Msg[] = [];
  for (let i = 0; i < 4800; i++) {
    const jitter = i % 53 === 0 ? 12 * MIN : i % 7 === 0 ? 3 * MIN : 0;
    out.push({
      deviceId: `dev-${i % 4}`,
      timestamp: t0 + Math.floor(i / 4) * 2000 - jitter,
      temperature: 20 + ((i * 37) % 100) / 10,
      humidity: i % 11 === 0 ? null : 40 + (i % 13),
      tvoc: i % 300,
      eco2: 400 + (i % 50),
      pm2_5: (i % 17) / 2,
      pressure: 935 + (i % 5) / 10,
      fireAlarm: i % 9 === 0 ? 1 : 0,
    });
  }
  return out;
}

/** The readings as messages: batches of 150 with a few single messages in between. */
function messages(rs: Msg[]): Msg[] {
  const msgs: Msg[] = [];
  for (let i = 0; i < rs.length; ) {
    if (i % 900 < 3) {
      msgs.push({ payload: rs[i] });
      i++;
    } else {
      msgs.push({ payload: rs.slice(i, i + 150) });
      i += 150;
    }
  }
  return msgs;
}

const results = (out: Msg[]): Msg[] => out.flatMap((m) => (Array.isArray(m.payload) ? m.payload : [m.payload]));
const lateCount = (late: Msg[]): number => late.reduce((a, m) => a + (Array.isArray(m.payload) ? m.payload.length : 1), 0);

async function feed(rt: WindowRuntime, msgs: Msg[]): Promise<void> {
  for (const m of msgs) await rt.input(m);
}

/** Poll the localfilesystem context files until `check` accepts the saved window state. */
async function checkpointOnDisk(userDir: string, check: (snapshot: Msg) => boolean, ms: number): Promise<void> {
  const dir = path.join(userDir, 'context');
  const t0 = Date.now();
  for (;;) {
    const files = fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.json')) : [];
    for (const f of files) {
      try {
        const data = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
        if (data.slidingWindow && check(data.slidingWindow)) return;
      } catch {
        // a file being written: try again
      }
    }
    if (Date.now() - t0 > ms) throw new Error('no matching checkpoint on disk');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('sliding-window > restart with the localfilesystem context store', function () {
  this.timeout(180_000);
  after(cleanUpWindowRuntimes);

  const rs = readings();
  const msgs = messages(rs);
  const cut = Math.floor(msgs.length / 2);
  let uninterrupted: { finals: Msg[]; flushed: Msg[]; late: number } | null = null;

  before(async function () {
    const dir = windowUserDir('smoke-window-restart-');
    const rt = await startWindowRuntime(dir);
    await feed(rt, msgs);
    const finals = results(rt.out);
    await rt.input({ flush: true });
    uninterrupted = { finals, flushed: results(rt.out).slice(finals.length), late: lateCount(rt.late) };
    await rt.stop();
    assert.ok(uninterrupted.finals.length > 50 && uninterrupted.flushed.length > 0 && uninterrupted.late > 0);
  });

  it('stopping Node-RED mid-stream and starting it again gives the final windows of an uninterrupted run', async function () {
    const ref = uninterrupted as NonNullable<typeof uninterrupted>;
    const dir = windowUserDir('smoke-window-restart-');
    const first = await startWindowRuntime(dir);
    await feed(first, msgs.slice(0, cut));
    await first.stop();
    assert.ok(fs.existsSync(path.join(dir, 'context')), 'the checkpoint went to the context store on disk');

    const second = await startWindowRuntime(dir);
    await feed(second, msgs.slice(cut));
    const finals = [...results(first.out), ...results(second.out)];
    await second.input({ flush: true });
    const flushed = results(second.out).slice(finals.length - results(first.out).length);
    await second.stop();

    assert.ok(results(first.out).length > 0 && results(second.out).length > 0, 'windows closed on both sides of the restart');
    assert.deepEqual(finals, ref.finals);
    assert.deepEqual(flushed, ref.flushed, 'the windows still open at the end are the same too');
    assert.equal(lateCount(first.late) + lateCount(second.late), ref.late);
  });

  it('after a crash (SIGKILL), continues from the last periodic checkpoint', async function () {
    const ref = uninterrupted as NonNullable<typeof uninterrupted>;
    const dir = windowUserDir('smoke-window-restart-', { checkpoint: '200ms' });
    const first = await startWindowRuntime(dir);
    await feed(first, msgs.slice(0, cut));
    // The highest on-time event time per device after the first half: the checkpoint must have it.
    const maxT = new Map<string, number>();
    for (const m of msgs.slice(0, cut)) for (const r of Array.isArray(m.payload) ? m.payload : [m.payload]) maxT.set(r.deviceId, Math.max(maxT.get(r.deviceId) ?? -Infinity, r.timestamp));
    await checkpointOnDisk(dir, (s) => s.devices.length === 4 && s.devices.every((d: [string, number]) => d[1] === maxT.get(d[0])), 20_000);
    await first.kill();

    const second = await startWindowRuntime(dir);
    // The restored checkpoint first emits again the results of its last seconds (in case the sink had
    // not written them when the process died): duplicates of the last results before the crash.
    const replayed = results(second.out);
    await feed(second, msgs.slice(cut));
    const before = results(first.out);
    assert.deepEqual(replayed, before.slice(before.length - replayed.length), 'only results emitted before the crash come again');
    assert.deepEqual([...before, ...results(second.out).slice(replayed.length)], ref.finals);
    await second.stop();
  });
});
