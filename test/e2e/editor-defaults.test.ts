/**
 * Settings left out of a flow in the real editor (CONTRACT §1: an omitted setting means the runtime
 * default). A flow with one node of every smoke type and no settings at all (the kafka nodes pointing
 * at a broker config node without settings) is deployed through the admin API, then opened in
 * Node-RED's editor in Chromium (playwright-core):
 * - every node is valid (no red triangle, no warning on deploy);
 * - the editor's validators still reject unusable values (a red field, not a silent default);
 * - the editor's defaults are the runtime's defaults;
 * - opening each node's dialog and clicking Done, then deploying, changes no setting's meaning: each
 *   deployed value is absent, empty, or means the runtime default; and the runtime reports no
 *   invalid configuration;
 * - the kafka broker's dialog edits the credentials the runtime registers (they reach the editor as a
 *   node setting): what is typed in is deployed as credentials, not into the flow.
 *
 * Without /usr/bin/chromium the suite is skipped (under CI=true it fails).
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { parseDuration } from '../../nodes/lib/duration';
import { DEFAULT_AGGREGATES } from '../../nodes/lib/panes';
import { DEFAULT_MAX_BYTES } from '../../nodes/lib/reading-types';
import { DEFAULT_RULES } from '../../nodes/lib/thresholds';
import { ZSCORE_DEFAULT_SENSORS } from '../../nodes/lib/types';
import { DEFAULT_WINDOW_RULES } from '../../nodes/lib/window-alert';
import { ZSCORE_DEFAULTS } from '../../nodes/lib/zscore';
import { trayOpened } from './_browser';
import { freePort, stopProcess, waitForHttp } from './_process';

const root = path.resolve(__dirname, '..', '..');
const CHROMIUM = '/usr/bin/chromium';
const PACKAGE = '@smoke-stream/node-red-smoke-stream';
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };

/** How the runtime reads a setting (nodes/nr/config.ts), and the value it takes when the setting is omitted. */
type Setting =
  | { kind: 'number'; def: number }
  | { kind: 'duration'; def: number; unit: 'ms' | 's' | 'min' }
  | { kind: 'text'; def: string }
  | { kind: 'boolean'; def: boolean }
  | { kind: 'json'; def: unknown }
  | { kind: 'list'; def: readonly string[] };

const num = (def: number): Setting => ({ kind: 'number', def });
const dur = (def: number, unit: 'ms' | 's' | 'min' = 'ms'): Setting => ({ kind: 'duration', def, unit });
const text = (def: string): Setting => ({ kind: 'text', def });
const bool = (def: boolean): Setting => ({ kind: 'boolean', def });

const DETECTOR_COMMON: Record<string, Setting> = { emit: text('every'), maxDevices: num(10_000), idleTimeout: dur(3_600_000, 's'), state: text('auto') };

/**
 * The runtime default of every setting of every node type, as the adapters read them (nodes/<name>/<name>.ts),
 * written out here so that neither the editor nor the runtime is checked against itself.
 */
const RUNTIME_DEFAULTS: Record<string, Record<string, Setting>> = {
  'smoke-sensor-sim': {
    devices: num(10),
    rate: num(1),
    idPattern: text('sensor-{n}'),
    pad: num(0),
    output: text('single'),
    shape: text('kaggle'),
    fire: text('schedule'),
    fireEvery: dur(600_000, 'min'),
    fireDuration: dur(60_000, 's'),
    fireProbability: num(0.01),
    drift: bool(true),
    missingPercent: num(0),
    missingAs: text('null'),
    // Empty: a random seed per start.
    seed: text(''),
    speed: num(1),
    autostart: bool(true),
  },
  'smoke-sensor-validate': { property: text('payload'), missing: text('reject'), outOfRange: text('reject'), maxBytes: num(DEFAULT_MAX_BYTES) },
  'smoke-threshold-alert': { rules: { kind: 'json', def: DEFAULT_RULES }, ...DETECTOR_COMMON },
  'smoke-window-alert': { rules: { kind: 'json', def: DEFAULT_WINDOW_RULES }, ...DETECTOR_COMMON },
  'smoke-zscore-anomaly': {
    windowSize: num(ZSCORE_DEFAULTS.windowSize),
    minValues: num(ZSCORE_DEFAULTS.minValues),
    zMedium: num(ZSCORE_DEFAULTS.zMedium),
    zHigh: num(ZSCORE_DEFAULTS.zHigh),
    sensors: { kind: 'list', def: ZSCORE_DEFAULT_SENSORS },
    ...DETECTOR_COMMON,
  },
  'smoke-fire-pattern': { temperature: num(45), tvoc: num(800), eco2: num(800), pm2_5: num(30), ...DETECTOR_COMMON },
  'smoke-sliding-window': {
    size: dur(300_000),
    slide: dur(60_000),
    watermark: dur(600_000),
    timeSource: text('event'),
    outputMode: text('append'),
    aggregates: { kind: 'list', def: DEFAULT_AGGREGATES },
    maxDevices: num(10_000),
    idleTimeout: dur(0),
    state: text('auto'),
    store: text(''),
    checkpoint: dur(10_000),
    holdCommits: bool(true),
  },
  'smoke-csv-sink': {
    preset: text('readings'),
    folder: text('data'),
    // Empty: the preset's file name pattern.
    filename: text(''),
    columns: text(''),
    timeKey: text('timestamp'),
    dateBy: text('event'),
    allowMsgFilename: bool(false),
    flushInterval: dur(200),
    flushRows: num(10_000),
    fsync: bool(true),
    exactlyOnce: text('auto'),
  },
  'smoke-kafka-in': {
    topics: text('smoke_stream'),
    groupId: text('smoke_detection_group'),
    start: text('earliest'),
    json: bool(true),
    mode: text('single'),
    maxBatch: num(1000),
    processing: text('at-least-once'),
    isolation: text('read_committed'),
    commit: text('auto'),
    commitInterval: dur(1000),
    checkpointInterval: dur(5000),
    maxInFlight: num(30_000),
    sinkWarn: dur(30_000, 's'),
    sessionTimeout: dur(30_000),
    heartbeatInterval: dur(3000),
    // Empty: the mode's fetch sizes (lib/kafka-fetch.ts).
    fetchMaxBytes: text(''),
    fetchMaxBytesPerPartition: text(''),
    backoffInitial: dur(1000),
    backoffMax: dur(15_000),
    metricsInterval: dur(0, 's'),
  },
  'smoke-kafka-out': {
    // Empty: the topic comes from msg.topic; the key from msg.key.
    topic: text(''),
    keyProperty: text(''),
    acks: text('-1'),
    compression: text('none'),
    idempotent: bool(false),
    maxQueue: num(10_000),
    backoffInitial: dur(1000),
    backoffMax: dur(15_000),
  },
  'smoke-kafka-broker': {
    brokers: text(''),
    clientId: text('node-red-smoke-stream'),
    tls: bool(false),
    rejectUnauthorized: bool(true),
    sasl: text('none'),
    connectionTimeout: num(3000),
    requestTimeout: num(30_000),
    retryInitial: num(300),
    retryMax: num(30_000),
    retries: num(5),
  },
};

/** Editor defaults that are not runtime settings: the label, the flow format version, the config reference. */
const NOT_SETTINGS = new Set(['name', 'version', 'broker']);

/** Whether `value` (as deployed) means the same to the runtime as the omitted setting. */
function meansDefault(value: unknown, s: Setting): boolean {
  // nodes/nr/config.ts: empty, null and absent all mean "the default".
  if (value === undefined || value === null || value === '') return true;
  switch (s.kind) {
    case 'number':
      return String(value).trim() !== '' && Number(value) === s.def;
    case 'duration':
      return parseDuration(value, s.unit) === s.def;
    case 'text':
      return String(value) === s.def;
    case 'boolean':
      return value === s.def || value === String(s.def);
    case 'json': {
      try {
        const v = typeof value === 'string' ? JSON.parse(value) : value;
        assert.deepEqual(JSON.parse(JSON.stringify(v)), JSON.parse(JSON.stringify(s.def)));
        return true;
      } catch {
        return false;
      }
    }
    case 'list': {
      const list = Array.isArray(value) ? value.map(String) : String(value).split(/[\s,;]+/).filter(Boolean);
      return list.length === s.def.length && list.every((k, i) => k === s.def[i]);
    }
  }
}

/** Values the editor must mark invalid (the runtime refuses each one with a red "bad config" status). */
const BAD_VALUES: [type: string, key: string, value: unknown][] = [
  ['smoke-sensor-sim', 'devices', '0'],
  ['smoke-sensor-sim', 'rate', '-1'],
  ['smoke-sensor-sim', 'fireProbability', '2'],
  ['smoke-sensor-validate', 'missing', 'drop'],
  ['smoke-sensor-validate', 'outOfRange', 'clip'],
  ['smoke-sensor-validate', 'maxBytes', '-1'],
  ['smoke-sensor-validate', 'maxBytes', 'lots'],
  ['smoke-sensor-validate', 'property', 'payload..x'],
  ['smoke-threshold-alert', 'rules', [{ sensor: 'temperature', op: '>', bound: 1, severity: 'LOW', enabled: true }]],
  ['smoke-threshold-alert', 'emit', 'sometimes'],
  ['smoke-threshold-alert', 'maxDevices', '-1'],
  ['smoke-threshold-alert', 'idleTimeout', 'soon'],
  ['smoke-threshold-alert', 'state', 'context'],
  ['smoke-window-alert', 'rules', [{ sensor: 'temperature', op: '>', bound: 1, severity: 'HIGH', enabled: true }]],
  ['smoke-window-alert', 'rules', [{ sensor: 'avgTvoc', op: '>', bound: 1, severity: 'LOW', enabled: true }]],
  ['smoke-window-alert', 'emit', 'sometimes'],
  ['smoke-zscore-anomaly', 'windowSize', '-5'],
  ['smoke-zscore-anomaly', 'windowSize', '1'],
  ['smoke-zscore-anomaly', 'minValues', '101'],
  ['smoke-zscore-anomaly', 'zMedium', 'abc'],
  ['smoke-zscore-anomaly', 'zMedium', '0'],
  ['smoke-zscore-anomaly', 'zHigh', '2.5'],
  ['smoke-zscore-anomaly', 'sensors', ['smoke']],
  ['smoke-zscore-anomaly', 'sensors', []],
  ['smoke-zscore-anomaly', 'emit', 'often'],
  ['smoke-zscore-anomaly', 'maxDevices', '1.5'],
  ['smoke-zscore-anomaly', 'idleTimeout', '-1'],
  ['smoke-zscore-anomaly', 'state', 'disk'],
  ['smoke-fire-pattern', 'temperature', 'hot'],
  ['smoke-fire-pattern', 'emit', 'often'],
  ['smoke-fire-pattern', 'maxDevices', '-1'],
  ['smoke-fire-pattern', 'state', 'memory'],
  ['smoke-sliding-window', 'size', '-5 minutes'],
  ['smoke-sliding-window', 'size', '90 seconds'],
  ['smoke-sliding-window', 'size', '5 fortnights'],
  ['smoke-sliding-window', 'slide', '0'],
  ['smoke-sliding-window', 'watermark', 'late'],
  ['smoke-sliding-window', 'timeSource', 'wallclock'],
  ['smoke-sliding-window', 'outputMode', 'complete'],
  ['smoke-sliding-window', 'aggregates', 'avgSmoke'],
  ['smoke-sliding-window', 'maxDevices', '-1'],
  ['smoke-sliding-window', 'idleTimeout', 'never'],
  ['smoke-sliding-window', 'checkpoint', '-1 s'],
  ['smoke-sliding-window', 'state', 'kafka'],
  ['smoke-csv-sink', 'preset', 'json'],
  ['smoke-csv-sink', 'filename', '../outside.csv'],
  ['smoke-csv-sink', 'dateBy', 'arrival'],
  ['smoke-csv-sink', 'flushInterval', '-1'],
  ['smoke-csv-sink', 'flushRows', '0'],
  ['smoke-csv-sink', 'fsync', 'maybe'],
  ['smoke-csv-sink', 'exactlyOnce', 'on'],
  ['smoke-kafka-in', 'topics', 'bad topic!'],
  ['smoke-kafka-in', 'start', 'middle'],
  ['smoke-kafka-in', 'json', 'maybe'],
  ['smoke-kafka-in', 'mode', 'stream'],
  ['smoke-kafka-in', 'maxBatch', '0'],
  ['smoke-kafka-in', 'processing', 'twice'],
  ['smoke-kafka-in', 'isolation', 'serializable'],
  ['smoke-kafka-in', 'commit', 'never'],
  ['smoke-kafka-in', 'commitInterval', '-1'],
  ['smoke-kafka-in', 'checkpointInterval', '0'],
  ['smoke-kafka-in', 'maxInFlight', '0'],
  ['smoke-kafka-in', 'sinkWarn', 'soon'],
  ['smoke-kafka-in', 'sessionTimeout', '0'],
  ['smoke-kafka-in', 'heartbeatInterval', '40000'],
  ['smoke-kafka-in', 'fetchMaxBytes', '100'],
  ['smoke-kafka-in', 'fetchMaxBytesPerPartition', '99999999'],
  ['smoke-kafka-in', 'backoffMax', '500'],
  ['smoke-kafka-in', 'metricsInterval', '-1'],
  ['smoke-kafka-out', 'topic', 'bad topic'],
  ['smoke-kafka-out', 'acks', '2'],
  ['smoke-kafka-out', 'compression', 'zstd'],
  ['smoke-kafka-out', 'idempotent', 'maybe'],
  ['smoke-kafka-out', 'maxQueue', '0'],
  ['smoke-kafka-out', 'backoffMax', '10'],
  ['smoke-kafka-broker', 'brokers', 'localhost'],
  ['smoke-kafka-broker', 'sasl', 'kerberos'],
  ['smoke-kafka-broker', 'connectionTimeout', '50'],
  ['smoke-kafka-broker', 'retryMax', '100'],
  ['smoke-kafka-broker', 'retries', '101'],
];

const TAB = 'ed-tab';
const BROKER = 'ed-broker';
const smokeTypes = Object.keys(pkg['node-red'].nodes);
const idOf = (type: string): string => `ed-${type.replace(/^smoke-/, '')}`;

/** One node of every smoke type with no settings at all; kafka nodes reference the bare broker node. */
function bareFlow(): Record<string, unknown>[] {
  const flow: Record<string, unknown>[] = [{ id: TAB, type: 'tab', label: 'settings left out' }];
  smokeTypes.forEach((type, i) => {
    if (type === 'smoke-kafka-broker') flow.push({ id: BROKER, type });
    else flow.push({ id: idOf(type), type, z: TAB, x: 200 + 250 * (i % 3), y: 80 + 80 * Math.floor(i / 3), wires: [], ...(type.startsWith('smoke-kafka-') ? { broker: BROKER } : {}) });
  });
  return flow;
}

interface NodeRed {
  base: string;
  child: ChildProcess;
  output(): string;
  tmp: string;
}

/** Node-RED 4 with the package linked into a temporary user directory (as scripts/start.js does) and an empty flow. */
async function startNodeRed(): Promise<NodeRed> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-editor-defaults-'));
  const userDir = path.join(tmp, 'userdir');
  const workDir = path.join(tmp, 'work');
  fs.mkdirSync(workDir, { recursive: true });
  const link = path.join(userDir, 'node_modules', ...PACKAGE.split('/'));
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.symlinkSync(root, link, 'dir');
  fs.writeFileSync(path.join(userDir, 'flows.json'), '[]');
  const port = await freePort();
  const settings = {
    uiPort: port,
    uiHost: '127.0.0.1',
    flowFile: 'flows.json',
    credentialSecret: 'smoke-editor-defaults',
    // The csv sink's default folder "data" resolves here, not in the repository.
    fileWorkingDirectory: workDir,
    telemetry: { enabled: false },
    editorTheme: { tours: false, projects: { enabled: false } },
    logging: { console: { level: 'info', metrics: false, audit: false } },
  };
  fs.writeFileSync(path.join(userDir, 'settings.js'), `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_RED_ENABLE_PROJECTS: 'false' };
  // The broker node's default (empty) takes KAFKA_BOOTSTRAP_SERVERS, else localhost:9092: a port where
  // nothing listens, whatever the shell has.
  env.KAFKA_BOOTSTRAP_SERVERS = `127.0.0.1:${await freePort()}`;
  const child = spawn(process.execPath, [require.resolve('node-red/red.js'), '--userDir', userDir, '--settings', path.join(userDir, 'settings.js')], {
    cwd: workDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c) => (out += String(c)));
  child.stderr!.on('data', (c) => (out += String(c)));
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/settings`, 60_000, () => out);
  return { base, child, output: () => out, tmp };
}

async function deployedFlow(base: string): Promise<Record<string, unknown>[]> {
  const r = await fetch(`${base}/flows`, { headers: { Accept: 'application/json', 'Node-RED-API-Version': 'v1' } });
  assert.equal(r.status, 200);
  return (await r.json()) as Record<string, unknown>[];
}

/**
 * Runs `body` in the page as plain text, with `arg` as JSON: a function passed to page.evaluate would
 * carry the TypeScript transpiler's helpers, which the page lacks.
 */
function inPage<T>(page: Page, body: string, arg: unknown = null): Promise<T> {
  return page.evaluate(`((arg) => { ${body} })(${JSON.stringify(arg)})`) as Promise<T>;
}

/** "type id: errors" of every node (flow and config) the editor marks invalid. */
function invalidNodes(page: Page): Promise<string[]> {
  return inPage<string[]>(
    page,
    `const out = [];
     const check = (n) => {
       RED.editor.validateNode(n);
       if (n.valid !== true) out.push(n.type + ' ' + n.id + ': ' + (n.validationErrors || []).join(', '));
     };
     RED.nodes.eachConfig(check);
     RED.nodes.eachNode(check);
     return out;`,
  );
}

describe('e2e > the editor accepts flows that leave settings out (runtime defaults)', function () {
  this.timeout(180_000);
  let nr: NodeRed | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) {
      if (process.env.CI === 'true') throw new Error(`${CHROMIUM} not found: the editor tests must run under CI`);
      // eslint-disable-next-line no-console
      console.log(`    [skip] ${CHROMIUM} not found (apt-get install -y chromium)`);
      return this.skip();
    }
    assert.ok(fs.existsSync(path.join(root, 'dist', 'nodes')), 'build first (node scripts/build.js)');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { chromium } = require('playwright-core') as typeof import('playwright-core');
    [nr, browser] = await Promise.all([
      startNodeRed(),
      chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      }),
    ]);
    const r = await fetch(`${nr.base}/flows`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Node-RED-API-Version': 'v1', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify(bareFlow()),
    });
    assert.equal(r.status, 204, `POST /flows: HTTP ${r.status} ${await r.text()}`);
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(nr.base + '/');
    await page.waitForFunction(
      `!!(window.RED && RED.nodes && RED.nodes.node && ${JSON.stringify([BROKER, ...smokeTypes.filter((t) => t !== 'smoke-kafka-broker').map(idOf)])}.every((id) => RED.nodes.node(id)))`,
      null,
      { timeout: 60_000 },
    );
    await page.waitForSelector('#red-ui-loading-progress', { state: 'hidden' });
  });

  after(async function () {
    await browser?.close();
    if (nr) {
      await stopProcess(nr.child, 15_000);
      fs.rmSync(nr.tmp, { recursive: true, force: true });
    }
  });

  it('the runtime starts every node of the bare flow without a configuration problem', async function () {
    const deployed = await deployedFlow(nr!.base);
    for (const type of smokeTypes) assert.ok(deployed.some((n) => n.type === type), `${type} deployed`);
    assert.doesNotMatch(nr!.output(), /Invalid configuration/, 'a node refused its omitted settings');
  });

  it('shows every node valid: no red triangle and no warning on deploy', async function () {
    assert.deepEqual(await invalidNodes(page), [], 'nodes the editor marks invalid');
    assert.deepEqual(pageErrors, [], 'errors in the page');
  });

  it("has the runtime's defaults as the editor's defaults, for every setting", async function () {
    const defaults = await inPage<Record<string, Record<string, unknown>>>(
      page,
      `const out = {};
       for (const type of arg) {
         const d = RED.nodes.getType(type).defaults;
         out[type] = {};
         for (const k of Object.keys(d)) out[type][k] = d[k].value === undefined ? null : d[k].value;
       }
       return out;`,
      smokeTypes,
    );
    const problems: string[] = [];
    for (const type of smokeTypes) {
      const runtime = RUNTIME_DEFAULTS[type];
      assert.ok(runtime, `${type}: no runtime defaults listed in this test`);
      for (const [key, value] of Object.entries(defaults[type])) {
        if (NOT_SETTINGS.has(key)) continue;
        const s = runtime[key];
        if (!s) problems.push(`${type}.${key}: a setting of the editor this test does not know (add its runtime default)`);
        else if (!meansDefault(value, s)) problems.push(`${type}.${key}: the editor's default ${JSON.stringify(value)} is not the runtime's ${JSON.stringify(s.def)}`);
      }
      for (const key of Object.keys(runtime)) if (!(key in defaults[type])) problems.push(`${type}.${key}: not in the editor's defaults`);
    }
    assert.deepEqual(problems, []);
  });

  it('still marks unusable values invalid (a red field instead of a surprise)', async function () {
    const accepted = await inPage<string[]>(
      page,
      `const accepted = [];
       const byType = {};
       RED.nodes.eachConfig((n) => { byType[n.type] = n; });
       RED.nodes.eachNode((n) => { byType[n.type] = n; });
       for (const [type, key, bad] of arg) {
         const n = byType[type];
         const old = n[key];
         n[key] = bad;
         RED.editor.validateNode(n);
         if (n.valid !== false) accepted.push(type + '.' + key + ' = ' + JSON.stringify(bad));
         n[key] = old;
         RED.editor.validateNode(n);
       }
       return accepted;`,
      BAD_VALUES,
    );
    assert.deepEqual(accepted, [], 'unusable values the editor accepts');
    assert.deepEqual(await invalidNodes(page), [], 'every node valid again with its settings left out');
  });

  it('opening each dialog and clicking Done, then deploying, changes no setting: each is left out or means the default', async function () {
    const before = await deployedFlow(nr!.base);
    for (const type of smokeTypes) {
      const config = type === 'smoke-kafka-broker';
      const id = config ? BROKER : idOf(type);
      const ok = config ? '#node-config-dialog-ok' : '#node-dialog-ok';
      if (config) await inPage(page, `RED.editor.editConfig('', arg.type, arg.id);`, { type, id });
      else await inPage(page, `RED.editor.edit(RED.nodes.node(arg));`, id);
      await page.locator(ok).waitFor({ state: 'visible', timeout: 15_000 });
      await trayOpened(page);
      await page.locator(ok).click();
      await page.locator(ok).waitFor({ state: 'detached', timeout: 15_000 });
    }
    assert.deepEqual(await invalidNodes(page), [], 'nodes the editor marks invalid after Done');
    assert.deepEqual(pageErrors, [], 'errors in the page');

    // Done on an untouched dialog may write the shown defaults out: deploy whatever the editor now holds.
    await inPage(page, `RED.nodes.dirty(true);`);
    const deployed = page.waitForResponse((res) => res.url().endsWith('/flows') && res.request().method() === 'POST', { timeout: 30_000 });
    await page.click('#red-ui-header-button-deploy');
    try {
      assert.equal((await deployed).status(), 200);
      await page.waitForSelector('#red-ui-header-button-deploy.disabled', { timeout: 30_000 });
    } catch (err) {
      const notes = await page.locator('.red-ui-notification').allInnerTexts();
      throw new Error(`the deploy did not finish: ${notes.join(' | ') || (err as Error).message}`);
    }

    const after = await deployedFlow(nr!.base);
    const changed: string[] = [];
    for (const type of smokeTypes) {
      const id = type === 'smoke-kafka-broker' ? BROKER : idOf(type);
      const n = after.find((x) => x.id === id);
      assert.ok(n, `${id} is still deployed`);
      const b = before.find((x) => x.id === id)!;
      if (type.startsWith('smoke-kafka-') && type !== 'smoke-kafka-broker') assert.equal(n.broker, BROKER, `${id} keeps its broker`);
      for (const [key, s] of Object.entries(RUNTIME_DEFAULTS[type])) {
        if (!meansDefault(n[key], s)) changed.push(`${type}.${key}: ${JSON.stringify(b[key])} became ${JSON.stringify(n[key])}`);
      }
    }
    assert.deepEqual(changed, [], 'settings whose meaning the dialog changed');
    assert.doesNotMatch(nr!.output(), /Invalid configuration/, 'a node refused the settings its dialog saved');
  });

  it("edits the kafka broker's credentials in its dialog (the fields the runtime registers): deployed as credentials, never in the flow", async function () {
    await inPage(page, `RED.editor.editConfig('', 'smoke-kafka-broker', arg);`, BROKER);
    const ok = '#node-config-dialog-ok';
    await page.locator(ok).waitFor({ state: 'visible', timeout: 15_000 });
    // The form is built once the dialog has fetched the node's credentials: wait for its last field.
    await page.locator('#node-config-input-passphrase').waitFor({ state: 'attached', timeout: 15_000 });
    await trayOpened(page);
    const fields = await inPage<Record<string, string | null>>(
      page,
      `const out = {};
       for (const k of arg) out[k] = $('#node-config-input-' + k).length === 1 ? ($('#node-config-input-' + k).attr('type') || $('#node-config-input-' + k).prop('tagName').toLowerCase()) : null;
       return out;`,
      ['username', 'password', 'ca', 'cert', 'key', 'passphrase'],
    );
    assert.deepEqual(fields, { username: 'text', password: 'password', ca: 'textarea', cert: 'textarea', key: 'textarea', passphrase: 'password' });
    await inPage(page, `$('#node-config-input-username').val('smoke-user'); $('#node-config-input-password').val('smoke-secret-pw');`);
    await page.locator(ok).click();
    await page.locator(ok).waitFor({ state: 'detached', timeout: 15_000 });
    const deployed = page.waitForResponse((res) => res.url().endsWith('/flows') && res.request().method() === 'POST', { timeout: 30_000 });
    await page.click('#red-ui-header-button-deploy');
    assert.equal((await deployed).status(), 200);
    const r = await fetch(`${nr!.base}/credentials/smoke-kafka-broker/${BROKER}`, { headers: { Accept: 'application/json' } });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { username: 'smoke-user', has_password: true, ca: '', cert: '', has_key: false, has_passphrase: false });
    assert.doesNotMatch(JSON.stringify(await deployedFlow(nr!.base)), /smoke-secret-pw|smoke-user/, 'no credential in the flow');
  });
});
