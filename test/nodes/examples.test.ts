/**
 * The example flows (examples/*.json, listed by Node-RED under Import ▸ Examples): their shape, their
 * settings as the editor checks them, and each one running in a real Node-RED runtime with the
 * package's nodes and the core nodes it uses. The Kafka examples start and stop cleanly with no broker,
 * connect nowhere without KAFKA_BOOTSTRAP_SERVERS and produce nothing until a button is clicked; with
 * the local broker, examples 02, 03 and 04 run together end to end on topics of their own.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { editorDefs } from './_editor';
import { allNodeModules, helper, pkg, root } from './_helper';
import { freePort } from '../e2e/_process';
import { bootstrap, createTopic, kafkaClient, requireKafka, uniqueTopic } from '../kafka/broker';

type FlowNode = Record<string, unknown> & { id: string; type: string; z?: string; x?: number; y?: number; wires?: string[][] };

interface Example {
  file: string;
  label: string;
  nodes: FlowNode[];
}

const DATA = path.resolve(__dirname, '../../../shared/data/smoke_detection_iot.csv');
const examplesDir = path.join(root, 'examples');
const examples: Example[] = fs
  .readdirSync(examplesDir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((file) => ({ file, label: file.replace(/\.json$/, ''), nodes: JSON.parse(fs.readFileSync(path.join(examplesDir, file), 'utf8')) as FlowNode[] }));

/** Core node types the examples may use, and the module of Node-RED that registers each. */
const CORE_MODULES: Record<string, string> = {
  comment: 'common/90-comment.js',
  inject: 'common/20-inject.js',
  debug: 'common/21-debug.js',
  function: 'function/10-function.js',
  change: 'function/15-change.js',
  switch: 'function/10-switch.js',
  'file in': 'storage/10-file.js',
  csv: 'parsers/70-CSV.js',
};
const coreDir = path.dirname(require.resolve('@node-red/nodes/package.json'));

/** The package's modules plus the core modules `nodes` needs (the helper registers only what it is given). */
function modulesFor(nodes: FlowNode[]): unknown[] {
  const core = new Set<string>();
  for (const n of nodes) {
    if (n.type === 'tab' || n.type.startsWith('smoke-')) continue;
    const m = CORE_MODULES[n.type];
    assert.ok(m, `example node ${n.id} has type "${n.type}", which this test does not know how to load`);
    core.add(m);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return [...allNodeModules(), ...[...core].map((m) => require(path.join(coreDir, 'core', m)))];
}

const smokeTypes = Object.keys(pkg['node-red'].nodes);

/** Keys every flow node may carry besides its editor defaults. */
const FLOW_KEYS = new Set(['id', 'type', 'z', 'x', 'y', 'w', 'h', 'g', 'wires', 'name', 'info', 'd', 'l']);

describe('examples > files', function () {
  it('are four example flows', function () {
    assert.deepEqual(
      examples.map((e) => e.label),
      ['01 - Simulated pipeline', '02 - Kafka pipeline', '03 - Load generator to Kafka', '04 - Replay a CSV file into Kafka'],
    );
  });

  it('use every non-config node of the package at least once', function () {
    const used = new Set(examples.flatMap((e) => e.nodes.map((n) => n.type)));
    const defs = editorDefs();
    const regular = smokeTypes.filter((t) => defs.get(t)?.category !== 'config');
    assert.equal(regular.length, smokeTypes.length - 1, 'kafka broker is the only config node');
    assert.deepEqual(
      regular.filter((t) => !used.has(t)),
      [],
      'node types that no example uses',
    );
  });

  it('have ids that are unique across all examples (importing several never clashes)', function () {
    const seen = new Map<string, string>();
    for (const e of examples) {
      for (const n of e.nodes) {
        assert.equal(typeof n.id, 'string');
        assert.ok(!seen.has(n.id), `id ${n.id} of ${e.file} is also in ${seen.get(n.id)}`);
        seen.set(n.id, e.file);
      }
    }
  });

  const defs = editorDefs();
  for (const e of examples) {
    describe(e.label, function () {
      const tabs = e.nodes.filter((n) => n.type === 'tab');
      const onTab = e.nodes.filter((n) => typeof n.x === 'number');

      it('has one tab, and every node with a position sits on it', function () {
        assert.equal(tabs.length, 1);
        assert.ok(typeof tabs[0].label === 'string' && tabs[0].label.length > 0, 'the tab has a label');
        for (const n of onTab) assert.equal(n.z, tabs[0].id, `${n.id} is on the tab`);
        for (const n of e.nodes.filter((x) => x.type !== 'tab' && typeof x.x !== 'number')) {
          assert.equal(defs.get(n.type)?.category, 'config', `${n.id} (${n.type}) has no position but is not a config node`);
        }
      });

      it('opens with a comment node at the top that says what it does and how to use it', function () {
        const first = e.nodes.find((n) => n.type !== 'tab');
        assert.equal(first?.type, 'comment', 'the first node of the file is a comment');
        const top = Math.min(...onTab.map((n) => n.y as number));
        assert.equal(first!.y, top, 'the comment is the topmost node of the tab');
        assert.ok(String(first!.name).length > 20, 'the comment has a telling name');
        const info = String(first!.info);
        assert.ok(info.length > 300, 'the comment explains the flow in its info');
        assert.match(info, /what it does/i);
        assert.match(info, /how to use it|before you deploy/i);
      });

      it('wires and config references point at nodes of the same file', function () {
        const ids = new Set(e.nodes.map((n) => n.id));
        for (const n of e.nodes) {
          for (const port of n.wires ?? []) for (const to of port) assert.ok(ids.has(to), `${n.id} is wired to the unknown node ${to}`);
          const def = defs.get(n.type);
          for (const [key, d] of Object.entries(def?.defaults ?? {})) {
            if (d.type && n[key] !== undefined) assert.ok(ids.has(String(n[key])), `${n.id}.${key} refers to the unknown ${d.type} ${String(n[key])}`);
          }
        }
      });

      // The editor does not fill in settings missing from an imported node: it checks them as they
      // are, and a missing one can mark the node "not properly configured". So, as in a flow exported
      // from the editor, every setting is there.
      it('gives each smoke node every setting of its editor and no other, each valid as the editor checks it', function () {
        for (const n of e.nodes.filter((x) => x.type.startsWith('smoke-'))) {
          const def = defs.get(n.type);
          assert.ok(def, `${n.type} has an editor definition`);
          for (const key of Object.keys(n)) {
            assert.ok(FLOW_KEYS.has(key) || key in def.defaults, `${n.id}: "${key}" is not a setting of ${n.type}`);
          }
          for (const [key, d] of Object.entries(def.defaults)) {
            assert.ok(key in n, `${n.id} lacks the setting "${key}"`);
            const v = n[key];
            if (d.required) assert.ok(v !== '' && v !== undefined && v !== null, `${n.id}.${key} is required`);
            if (d.validate) assert.equal(d.validate.call(n, v), true, `${n.id}.${key} = ${JSON.stringify(v)} fails the editor's check`);
          }
        }
      });
    });
  }
});

/** Calls of a Node.prototype spy (the helper proxies log, status, warn, error) made by `node`. */
function callsOf(node: unknown, method: 'status' | 'error'): { args: unknown[] }[] {
  const spy = (node as Record<string, { getCalls(): { thisValue: unknown; args: unknown[] }[] }>)[method];
  return spy.getCalls().filter((c) => c.thisValue === node);
}

/** Error-level entries of Node-RED's log since the flow was loaded. */
function loggedErrors(): string[] {
  const log = helper.log();
  return log
    .getCalls()
    .map((c: { args: [{ level: number; msg: unknown; type?: string; id?: string }] }) => c.args[0])
    .filter((l: { level: number }) => l.level <= log.ERROR)
    .map((l: { msg: unknown; type?: string; id?: string }) => `${l.type ?? ''} ${l.id ?? ''}: ${l.msg instanceof Error ? l.msg.message : String(l.msg)}`);
}

async function waitFor<T>(what: string, ms: number, check: () => T | undefined | false): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Resolves with the first message that reaches node `id` and satisfies `test`. */
function nextInput(id: string, test: (msg: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    helper.getNode(id).on('input', (msg: Record<string, unknown>) => {
      if (test(msg)) resolve(msg);
    });
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)))]).finally(() => clearTimeout(t));
}

function csvFiles(dir: string, prefix: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.startsWith(prefix) && f.endsWith('.csv')) : [];
}

/** Unloads the flow and returns how long stopping took (ms). */
async function stopTimed(): Promise<number> {
  const t0 = Date.now();
  await helper.unload();
  return Date.now() - t0;
}

describe('examples > each runs in a Node-RED runtime', function () {
  this.timeout(90_000);
  let tmp: string;
  const savedEnv = process.env.KAFKA_BOOTSTRAP_SERVERS;

  before(async function () {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-examples-'));
    // Relative csv sink folders and file names resolve here, not in the repository.
    helper.settings({ fileWorkingDirectory: tmp });
    // A port where nothing listens: the Kafka examples must cope with a broker that is not there.
    process.env.KAFKA_BOOTSTRAP_SERVERS = `127.0.0.1:${await freePort()}`;
  });

  after(function () {
    helper.settings({});
    if (savedEnv === undefined) delete process.env.KAFKA_BOOTSTRAP_SERVERS;
    else process.env.KAFKA_BOOTSTRAP_SERVERS = savedEnv;
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  for (const e of examples) {
    it(`${e.label}: every node is created and starts without an error; the flow stops within 15 s`, async function () {
      let loaded = false;
      try {
        await helper.load(modulesFor(e.nodes), e.nodes);
        loaded = true;
        for (const n of e.nodes) {
          if (n.type === 'tab') continue;
          const node = helper.getNode(n.id);
          assert.ok(node, `${n.id} (${n.type}) was not created`);
          assert.equal(node.type, n.type);
        }
        const kafka = e.nodes.filter((n) => n.type === 'smoke-kafka-in' || n.type === 'smoke-kafka-out');
        if (kafka.length > 0) {
          // Started and aware that the broker is down: a red status, and no input handler missing.
          for (const n of kafka) {
            const node = helper.getNode(n.id);
            await waitFor(`${n.id} to report the missing broker`, 20_000, () =>
              callsOf(node, 'status').some((c) => (c.args[0] as { fill?: string })?.fill === 'red'),
            );
          }
        } else {
          // The simulated pipeline runs: the historical readings sink writes rows.
          await waitFor('the first readings on disk', 20_000, () =>
            csvFiles(path.join(tmp, 'data'), 'historical_smoke_data_').some((f) => fs.readFileSync(path.join(tmp, 'data', f), 'utf8').split('\n').length > 2),
          );
        }
        for (const n of e.nodes.filter((x) => x.type.startsWith('smoke-'))) {
          const bad = callsOf(helper.getNode(n.id), 'status').find((c) => /bad config|invalid/i.test(String((c.args[0] as { text?: string })?.text)));
          assert.equal(bad, undefined, `${n.id} reports a bad configuration`);
        }
        assert.deepEqual(loggedErrors(), [], 'errors logged while starting');
      } finally {
        if (loaded) {
          const ms = await stopTimed();
          assert.ok(ms < 15_000, `stopping took ${ms} ms`);
        }
      }
    });
  }

  it('01 - Simulated pipeline: a fire raises alerts on the debug node, windows close within a minute, CSV files appear', async function () {
    const e = examples.find((x) => x.label.startsWith('01 '))!;
    const dataDir = path.join(tmp, 'data');
    fs.rmSync(dataDir, { recursive: true, force: true });
    await helper.load(modulesFor(e.nodes), e.nodes);
    try {
      const serious = nextInput('ex1-debug-alerts', (m) => ['HIGH', 'CRITICAL'].includes(String((m.payload as { severity?: string }).severity)));
      const windows = nextInput('ex1-debug-windows', (m) => typeof (m.payload as { windowStart?: number }).windowStart === 'number');
      helper.getNode('ex1-fire-now').receive({});
      const alert = (await withTimeout(serious, 40_000, 'a HIGH or CRITICAL alert after "start a fire now"')).payload as Record<string, unknown>;
      assert.match(String(alert.type), /^(THRESHOLD|STATISTICAL|PATTERN)$/);
      assert.match(String(alert.deviceId), /^sensor-\d+$/);
      const win = (await withTimeout(windows, 40_000, 'a window result')).payload as Record<string, number>;
      assert.equal(win.windowEnd - win.windowStart, 60_000, 'the example window is 1 minute');
      assert.equal(win.windowStart % 10_000, 0, 'windows start on the 10 s slide');
      assert.ok(win.count > 0);
      await waitFor('the readings, alerts and window CSV files', 10_000, () =>
        ['historical_smoke_data_', 'alerts_', 'window_results_'].every((p) => csvFiles(dataDir, p).length > 0),
      );
      assert.deepEqual(loggedErrors(), []);
    } finally {
      await helper.unload();
    }
  });
});

describe('examples > never write to a broker the user did not choose', function () {
  this.timeout(60_000);
  const kafkaExamples = examples.filter((e) => e.nodes.some((n) => n.type === 'smoke-kafka-broker'));
  const savedEnv = process.env.KAFKA_BOOTSTRAP_SERVERS;

  afterEach(function () {
    if (savedEnv === undefined) delete process.env.KAFKA_BOOTSTRAP_SERVERS;
    else process.env.KAFKA_BOOTSTRAP_SERVERS = savedEnv;
  });

  it('are the three Kafka examples, each taking its broker from KAFKA_BOOTSTRAP_SERVERS (no address of its own)', function () {
    assert.deepEqual(kafkaExamples.map((e) => e.label.slice(0, 2)), ['02', '03', '04']);
    for (const e of kafkaExamples) {
      for (const b of e.nodes.filter((n) => n.type === 'smoke-kafka-broker')) assert.equal(b.brokers, '${KAFKA_BOOTSTRAP_SERVERS}', `${b.id}`);
    }
  });

  it('produce nothing on import or deploy: every simulator waits for its start button, no inject fires by itself', function () {
    for (const e of kafkaExamples) {
      for (const n of e.nodes) {
        if (n.type === 'smoke-sensor-sim') assert.equal(n.autostart, false, `${n.id} starts on deploy`);
        if (n.type === 'inject') assert.ok(n.once === false && !n.repeat && !n.crontab, `${n.id} fires by itself`);
      }
    }
  });

  for (const e of kafkaExamples) {
    it(`${e.label}: with KAFKA_BOOTSTRAP_SERVERS unset, connects nowhere and says why`, async function () {
      delete process.env.KAFKA_BOOTSTRAP_SERVERS;
      await helper.load(modulesFor(e.nodes), e.nodes);
      try {
        for (const b of e.nodes.filter((n) => n.type === 'smoke-kafka-broker')) {
          const broker = helper.getNode(b.id);
          assert.deepEqual(broker.brokers, [], 'no address to connect to');
          assert.equal(broker.kafka, null, 'no Kafka client');
          assert.match(broker.problems.join(' '), /KAFKA_BOOTSTRAP_SERVERS is not set/);
        }
        for (const n of e.nodes.filter((x) => x.type === 'smoke-kafka-in' || x.type === 'smoke-kafka-out')) {
          const status = callsOf(helper.getNode(n.id), 'status').map((c) => c.args[0]);
          assert.deepEqual(status[status.length - 1], { fill: 'red', shape: 'ring', text: 'broker config' }, `${n.id} status`);
        }
        assert.deepEqual(
          loggedErrors().filter((l) => !/KAFKA_BOOTSTRAP_SERVERS is not set/.test(l)),
          [],
          'the missing variable is the only error',
        );
      } finally {
        await helper.unload();
      }
    });
  }
});

describe('examples > 02, 03 and 04 together on a real Kafka broker', function () {
  this.timeout(120_000);
  let tmp: string;
  const savedEnv = process.env.KAFKA_BOOTSTRAP_SERVERS;
  const ROWS = 300;

  before(async function () {
    await requireKafka(this);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-examples-kafka-'));
    helper.settings({ fileWorkingDirectory: tmp });
    process.env.KAFKA_BOOTSTRAP_SERVERS = bootstrap().join(',');
    // The first rows of the real data file, as the file the replay example reads by default.
    const lines = fs.readFileSync(DATA, 'utf8').split('\r\n');
    fs.writeFileSync(path.join(tmp, 'smoke_detection_iot.csv'), lines.slice(0, ROWS + 1).join('\r\n') + '\r\n');
  });

  after(function () {
    helper.settings({});
    if (savedEnv === undefined) delete process.env.KAFKA_BOOTSTRAP_SERVERS;
    else process.env.KAFKA_BOOTSTRAP_SERVERS = savedEnv;
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('simulated and replayed readings go through Kafka into the CSV files, and alerts come back on the alerts topic', async function () {
    // Topics and group of this run only: the examples' smoke_stream / smoke_alerts / smoke_detection_group stay untouched.
    const stream = uniqueTopic('examples-stream');
    const alertsTopic = uniqueTopic('examples-alerts');
    await createTopic(stream, 4);
    await createTopic(alertsTopic, 1);
    const rename: Record<string, string> = { smoke_stream: stream, smoke_alerts: alertsTopic, smoke_detection_group: uniqueTopic('examples-group') };
    const nodes = examples
      .filter((e) => /^0[234] /.test(e.label))
      .flatMap((e) => e.nodes)
      .map((n) => {
        const copy = { ...n };
        for (const k of ['topic', 'topics', 'groupId']) if (typeof copy[k] === 'string' && rename[copy[k] as string]) copy[k] = rename[copy[k] as string];
        return copy;
      });

    await helper.load(modulesFor(nodes), nodes);
    try {
      const replayed: Record<string, unknown>[] = [];
      helper.getNode('ex4-count').on('input', (msg: { payload: Record<string, unknown> }) => replayed.push(msg.payload));
      helper.getNode('ex4-go').receive({});
      // The load generator waits for its start button.
      helper.getNode('ex3-start').receive({});
      helper.getNode('ex3-fire-now').receive({});
      await waitFor(`${ROWS} replayed rows`, 30_000, () => replayed.length >= ROWS);
      assert.equal(replayed[0].device_id, 'kaggle-1', 'rows without a device column get the example\'s device id');
      assert.equal(typeof replayed[0].UTC, 'number', 'the csv node parses numbers');

      const dataDir = path.join(tmp, 'data');
      const rowsOf = (prefix: string) => csvFiles(dataDir, prefix).flatMap((f) => fs.readFileSync(path.join(dataDir, f), 'utf8').split('\n').slice(1).filter(Boolean));
      await waitFor(`${ROWS} replayed readings and simulated readings in the historical CSV files`, 60_000, () => {
        const rows = rowsOf('historical_smoke_data_');
        return rows.filter((r) => r.endsWith(',kaggle-1')).length >= ROWS && rows.some((r) => /,sensor-\d{3}$/.test(r));
      });
      // The replayed rows keep the event time of the file: their UTC column comes from the data.
      const firstUtc = fs.readFileSync(DATA, 'utf8').split('\r\n')[1].split(',')[1];
      assert.ok(rowsOf('historical_smoke_data_').some((r) => r.startsWith(`${firstUtc},`)), 'the first replayed row has the UTC time of the file');

      // The fire in the load generator raises alerts; the pipeline sends them back to Kafka keyed by device.
      const consumer = kafkaClient().consumer({ groupId: uniqueTopic('examples-alerts-reader') });
      await consumer.connect();
      try {
        await consumer.subscribe({ topic: alertsTopic, fromBeginning: true });
        const alert = await withTimeout(
          new Promise<{ key: string; value: Record<string, unknown> }>((resolve) => {
            void consumer.run({
              eachMessage: async ({ message }) => {
                const value = JSON.parse(String(message.value)) as Record<string, unknown>;
                if (['HIGH', 'CRITICAL'].includes(String(value.severity))) resolve({ key: String(message.key), value });
              },
            });
          }),
          60_000,
          'a HIGH or CRITICAL alert on the alerts topic',
        );
        assert.equal(alert.key, alert.value.deviceId, 'alerts are keyed by device id');
        assert.match(String(alert.value.type), /^(THRESHOLD|STATISTICAL|PATTERN)$/);
      } finally {
        await consumer.disconnect();
      }
      assert.ok(csvFiles(dataDir, 'alerts_').length > 0, 'alerts are written to CSV too');
      assert.deepEqual(loggedErrors(), []);
    } finally {
      const ms = await stopTimed();
      assert.ok(ms < 15_000, `stopping took ${ms} ms`);
    }
  });
});
