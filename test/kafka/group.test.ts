import { strict as assert } from 'node:assert';
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { bootstrap, createTopic, requireKafka, uniqueTopic } from './broker';
import { endOffsets, groupMembers, jsonMessages, produce, readings, sleep, waitFor, waitForCommitted } from './_kafka-nodes';

const FIXTURE = path.join(__dirname, 'fixtures', 'runtime.cjs');
const DEVICES = 40;

interface Runtime {
  name: string;
  child: ChildProcess;
  /** seq → deliveries as [partition, offset] */
  records: Array<[number, number, number]>;
  status: Array<{ fill?: string; text?: string }>;
  ready: Promise<void>;
  stderr: string[];
}

/** A separate Node-RED process with kafka in (after-sink) and a recording sink (fixtures/runtime.cjs). */
function startRuntime(name: string, topic: string, groupId: string): Runtime {
  const child = fork(FIXTURE, [JSON.stringify({ brokers: bootstrap().join(','), topic, groupId, name })], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const rt: Runtime = { name, child, records: [], status: [], stderr: [], ready: Promise.resolve() };
  child.stderr!.on('data', (d: Buffer) => rt.stderr.push(d.toString()));
  rt.ready = new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`runtime ${name} exited (${code}): ${rt.stderr.join('')}`)));
    child.on('message', (m: { type: string; items?: Array<[number, number, number]>; status?: { fill?: string; text?: string } }) => {
      if (m.type === 'ready') resolve();
      else if (m.type === 'records') rt.records.push(...m.items!);
      else if (m.type === 'status') rt.status.push(m.status!);
    });
  });
  return rt;
}

async function stopRuntime(rt: Runtime): Promise<void> {
  if (rt.child.exitCode !== null || rt.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => rt.child.once('exit', () => resolve()));
  rt.child.send({ type: 'stop' });
  const timer = setTimeout(() => rt.child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

function seqsOf(rts: Runtime[]): Set<number> {
  const s = new Set<number>();
  for (const rt of rts) for (const [seq] of rt.records) s.add(seq);
  return s;
}

describe('kafka in > two runtimes in one consumer group', function () {
  this.timeout(120_000);
  const runtimes: Runtime[] = [];

  before(async function () {
    await requireKafka(this);
  });

  after(async function () {
    await Promise.all(runtimes.map(stopRuntime));
  });

  it('shares the partitions (each record once, each device on one runtime); when one dies the other takes over and, with after-sink commits, nothing is lost', async function () {
    const topic = uniqueTopic('group');
    await createTopic(topic, 4);
    const groupId = `${topic}-group`;
    const a = startRuntime('A', topic, groupId);
    const b = startRuntime('B', topic, groupId);
    runtimes.push(a, b);
    await Promise.all([a.ready, b.ready]);

    // steady state: both joined, the group is stable with two members
    await waitFor(() => [a, b].every((rt) => rt.status.at(-1)?.fill === 'green'), 30_000, () => JSON.stringify([a.status.at(-1), b.status.at(-1)]), 100);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const g = await groupMembers(groupId);
      if (g.state === 'Stable' && g.members === 2 && [a, b].every((rt) => rt.status.at(-1)?.fill === 'green')) break;
      if (Date.now() > deadline) throw new Error(`group not stable with 2 members: ${JSON.stringify(g)}`);
      await sleep(250);
    }

    const all = readings(4000, DEVICES);
    await produce(topic, jsonMessages(all.slice(0, 2000)));
    await waitFor(() => seqsOf([a, b]).size === 2000, 30_000, () => `${seqsOf([a, b]).size}/2000 (A ${a.records.length}, B ${b.records.length})`);
    // Every record handled and committed: one delivered twice would have come before this.
    await waitForCommitted(groupId, topic, await endOffsets(topic), 20_000);

    assert.equal(a.records.length + b.records.length, 2000, 'every record exactly once across the two runtimes');
    assert.ok(a.records.length > 0 && b.records.length > 0, `both runtimes consume (A ${a.records.length}, B ${b.records.length})`);
    const deviceRuntime = new Map<string, string>();
    for (const rt of [a, b]) {
      for (const [seq] of rt.records) {
        const dev = String(all[seq].device_id);
        const owner = deviceRuntime.get(dev) ?? rt.name;
        assert.equal(owner, rt.name, `device ${dev} seen on both runtimes`);
        deviceRuntime.set(dev, owner);
      }
    }
    assert.equal(deviceRuntime.size, DEVICES);

    // runtime A dies mid-stream (no goodbye to the group); B must take over A's partitions
    const aPartitions = new Set(a.records.map(([, p]) => p));
    await produce(topic, jsonMessages(all.slice(2000, 2500)));
    await sleep(300);
    a.child.kill('SIGKILL');
    for (let i = 2500; i < 4000; i += 500) {
      await produce(topic, jsonMessages(all.slice(i, i + 500)));
      await sleep(200);
    }
    await waitFor(() => seqsOf([a, b]).size === 4000, 60_000, () => `union ${seqsOf([a, b]).size}/4000 (B ${b.records.length})`);

    const union = seqsOf([a, b]);
    for (const r of all) assert.ok(union.has(r.seq as number), `record ${r.seq} lost`);
    const bLater = new Set(b.records.filter(([seq]) => seq >= 2500).map(([, p]) => p));
    for (const p of aPartitions) assert.ok(bLater.has(p), `B took over partition ${p} of the dead runtime`);
    assert.ok(b.status.some((s) => s.text === 'rebalancing'), 'B showed the rebalance');
  });
});
