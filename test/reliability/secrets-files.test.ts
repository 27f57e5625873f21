/**
 * Secrets and files, on a real Node-RED runtime (child process, the package linked in node_modules):
 * - a flow with a SASL password and TLS key material deployed through the admin API: the password, key
 *   and passphrase appear neither in flows.json on disk, nor in GET /flows, nor in GET /credentials;
 *   flows_cred.json holds them encrypted, and after a restart the broker still logs in with them;
 * - csv sinks refuse file names outside their folder (configured, or from msg.filename: `..`, absolute,
 *   through a symbolic link), and write nothing outside it;
 * - text cells that a spreadsheet would run as a formula are neutralised.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import { SASL_PASSWORD, SASL_USERNAME, brokerAvailable, createTopic, saslBootstrap, uniqueTopic } from '../kafka/broker';
import { sleep } from '../kafka/_kafka-nodes';
import { NodeRedChild, createUserDir, killLeftovers, removeDir, type FlowNode } from './_runtime';

const KEY = `-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC-reliability-${Date.now()}\n-----END PRIVATE KEY-----`;
const PASSPHRASE = `passphrase-${process.pid}-${Date.now()}`;
const SECRETS = [SASL_PASSWORD, KEY, KEY.split('\n')[1], PASSPHRASE];
const FORMULAS = ['=HYPERLINK("http://evil.example","click")', '+1+2', '-2+3', '@SUM(A1:A2)', '\tTAB', '\rCR', "'=already quoted"];

describe('reliability > secrets and files (real runtime, admin API)', function () {
  this.timeout(120_000);
  let userDir = '';
  let outside = '';
  let nr: NodeRedChild;

  before(function () {
    userDir = createUserDir({ flow: [], credentialSecret: 'reliability secrets test key' });
    outside = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-outside-'));
    nr = new NodeRedChild(userDir);
  });

  after(async function () {
    await nr?.stop(5000);
    killLeftovers();
    removeDir(userDir);
    removeDir(outside);
  });

  it('keeps SASL passwords and TLS keys out of flows.json, GET /flows and GET /credentials; flows_cred.json is encrypted and still works after a restart', async function () {
    await nr.start();
    const kafkaUp = await brokerAvailable(3000);
    const topic = uniqueTopic('rel-secrets');
    if (kafkaUp) await createTopic(topic, 1);
    const flow: FlowNode[] = [
      { id: 'tab', type: 'tab', label: 'secrets' },
      {
        id: 'sasl-broker',
        type: 'smoke-kafka-broker',
        brokers: saslBootstrap().join(','),
        clientId: 'smoke-credentials-test',
        sasl: 'plain',
        tls: false,
        connectionTimeout: 1000,
        retryInitial: 100,
        retryMax: 1000,
        credentials: { username: SASL_USERNAME, password: SASL_PASSWORD, key: KEY, passphrase: PASSPHRASE, cert: 'CERT-TEXT', ca: 'CA-TEXT' },
      },
      // a user of the broker, so that it connects (and logs in with the stored password)
      { id: 'kin', type: 'smoke-kafka-in', z: 'tab', x: 100, y: 100, broker: 'sasl-broker', topics: topic, groupId: 'rel-secrets', wires: [[], [], []] },
    ];
    await deploy(nr, flow);

    const flowsOnDisk = await waitForFile(path.join(userDir, 'flows.json'), (t) => t.includes('sasl-broker'));
    const credFile = path.join(userDir, 'flows_cred.json');
    const credOnDisk = await waitForFile(credFile, (t) => t.length > 2);
    const getFlows = await nr.api('GET', '/flows');
    const getFlowsV2 = await nr.api('GET', '/flows', undefined, { 'Node-RED-API-Version': 'v2' });
    const getCreds = await nr.api('GET', '/credentials/smoke-kafka-broker/sasl-broker');
    assert.equal(getFlows.status, 200);
    assert.equal(getCreds.status, 200);

    for (const [where, text] of [
      ['flows.json', flowsOnDisk],
      ['flows_cred.json', credOnDisk],
      ['GET /flows', getFlows.text],
      ['GET /flows (v2)', getFlowsV2.text],
      ['GET /credentials', getCreds.text],
    ] as const) {
      for (const s of SECRETS) assert.ok(!text.includes(s), `${where} contains a secret (${s.slice(0, 12)}…)`);
    }
    // flows.json holds no credentials at all; flows_cred.json is one encrypted blob
    assert.ok(!flowsOnDisk.includes('"credentials"'), 'flows.json has no credentials property');
    const cred = JSON.parse(credOnDisk) as Record<string, unknown>;
    assert.deepEqual(Object.keys(cred), ['$'], 'flows_cred.json is encrypted (credentialSecret set)');
    // the editor learns only that the secrets are set
    const c = getCreds.json as Record<string, unknown>;
    assert.equal(c.username, SASL_USERNAME);
    assert.equal(c.has_password, true);
    assert.equal(c.has_key, true);
    assert.equal(c.has_passphrase, true);
    assert.equal(c.password, undefined);
    assert.equal(c.key, undefined);

    // The stored credentials are usable: after a restart the broker logs in with them.
    const before = nr.log().length;
    assert.equal(await nr.stop(), 0);
    await nr.start();
    const sinceRestart = () => nr.log().slice(before);
    if (kafkaUp) {
      for (let deadline = Date.now() + 30_000; !/sasl-broker\] [^\n]*: connected/.test(sinceRestart()); await sleep(200)) {
        if (Date.now() > deadline) throw new Error(`the broker did not log in after the restart:\n${sinceRestart().slice(-3000)}`);
      }
    } else {
      console.log('      (no Kafka broker: the login after the restart is not checked)');
    }
    assert.ok(!/Error loading credentials|credentials.*could not be decrypted/i.test(sinceRestart()), 'credentials decrypted');
    for (const s of SECRETS) assert.ok(!nr.log().includes(s), 'the log contains a secret');
  });

  it('refuses csv file names outside the folder (configured, .., absolute, through a symlink) and writes nothing outside', async function () {
    const folder = path.join(userDir, 'files');
    fs.mkdirSync(folder, { recursive: true });
    fs.symlinkSync(outside, path.join(folder, 'escape'));
    fs.symlinkSync(path.join(outside, 'target.csv'), path.join(folder, 'link.csv'));
    const reading = { deviceId: 'd1', timestamp: 1_654_733_331_000, temperature: 20 };
    const names = ['../evil_{date}.csv', 'a/../../evil.csv', path.join(outside, 'abs.csv'), 'escape/x.csv', 'escape/newdir/y.csv', 'link.csv', 'ok/inside_{date}.csv'];
    const flow: FlowNode[] = [
      { id: 'tab', type: 'tab', label: 'files' },
      { id: 'badcfg', type: 'smoke-csv-sink', z: 'tab', x: 100, y: 40, folder, filename: '../configured_{date}.csv', wires: [[]] },
      { id: 'sink', type: 'smoke-csv-sink', z: 'tab', x: 300, y: 100, folder, allowMsgFilename: true, wires: [[]] },
      ...names.map((filename, i) => inject(`inj${i}`, 'sink', reading, { filename })),
    ];
    const mark = nr.log().length;
    await deploy(nr, flow);
    await waitForLog(nr, mark, /\[smoke-csv-sink:badcfg\][^\n]*leaves the folder/);
    for (let i = 0; i < names.length; i++) assert.equal((await nr.api('POST', `/inject/inj${i}`)).status, 200);
    const log = await waitForLog(nr, mark, (t) => (t.match(/\[error\] \[smoke-csv-sink:sink\]/g) ?? []).length >= names.length - 1);
    await waitFor(() => fs.existsSync(path.join(folder, 'ok', 'inside_2022-06-09.csv')), 10_000, 'the file inside the folder');

    const refusals = log.split('\n').filter((l) => l.includes('[smoke-csv-sink:sink]') && l.includes('[error]'));
    assert.equal(refusals.length, names.length - 1, refusals.join('\n'));
    assert.deepEqual(fs.readdirSync(outside), [], `nothing created outside the folder (${fs.readdirSync(outside).join(', ')})`);
    assert.equal(fs.existsSync(path.join(userDir, 'evil_2022-06-09.csv')), false);
    assert.equal(fs.existsSync(path.join(userDir, 'configured_2022-06-09.csv')), false);
    assert.equal(fs.existsSync(path.join(userDir, 'evil.csv')), false);
  });

  it('neutralises formula-like text cells (=, +, -, @, tab, CR) in the files', async function () {
    const folder = path.join(userDir, 'formulas');
    const readings = FORMULAS.map((deviceId, i) => ({ deviceId, timestamp: 1_654_733_331_000 + i * 1000, temperature: -5.5 }));
    const custom = { a: FORMULAS[0], b: FORMULAS[1], c: FORMULAS[2], d: FORMULAS[3], e: FORMULAS[4], f: FORMULAS[5], text: '-5.2', n: -5.2 };
    const flow: FlowNode[] = [
      { id: 'tab', type: 'tab', label: 'formulas' },
      { id: 'sinkReadings', type: 'smoke-csv-sink', z: 'tab', x: 300, y: 40, folder, wires: [[]] },
      { id: 'sinkCustom', type: 'smoke-csv-sink', z: 'tab', x: 300, y: 100, folder, preset: 'custom', filename: 'custom.csv', wires: [[]] },
      inject('injR', 'sinkReadings', readings),
      inject('injC', 'sinkCustom', custom),
    ];
    await deploy(nr, flow);
    assert.equal((await nr.api('POST', '/inject/injR')).status, 200);
    assert.equal((await nr.api('POST', '/inject/injC')).status, 200);
    const rFile = path.join(folder, 'historical_smoke_data_2022-06-09.csv');
    const cFile = path.join(folder, 'custom.csv');
    await waitFor(() => fs.existsSync(rFile) && fs.existsSync(cFile) && fs.readFileSync(cFile, 'utf8').split('\n').length > 2, 10_000, 'the two files');

    const rows: string[][] = parse(fs.readFileSync(rFile, 'utf8'));
    const devices = rows.slice(1).map((r) => r[r.length - 1]);
    assert.deepEqual(devices, FORMULAS.map((f) => `'${f}`), 'every device id cell starts with a quote');
    assert.ok(rows.slice(1).every((r) => r[1] === '-5.5'), 'numbers stay numbers (a negative temperature is not quoted)');
    const [head, row] = parse(fs.readFileSync(cFile, 'utf8')) as string[][];
    const got = Object.fromEntries(head.map((h, i) => [h, row[i]]));
    for (const k of ['a', 'b', 'c', 'd', 'e', 'f']) assert.equal(got[k], `'${custom[k as keyof typeof custom]}`, `cell ${k}`);
    assert.equal(got.text, '-5.2', 'a number literal in text form cannot carry a formula: kept');
    assert.equal(got.n, '-5.2');
    for (const cell of [...devices, ...Object.values(got)]) assert.ok(!/^[=+@\t\r]/.test(cell) && !/^-[^0-9.]/.test(cell), `cell ${JSON.stringify(cell)} could run as a formula`);
  });
});

/** Deploy a whole flow through the admin API and wait until it runs. */
async function deploy(nr: NodeRedChild, flow: FlowNode[]): Promise<void> {
  const started = (nr.log().match(/Started flows/g) ?? []).length;
  const res = await nr.api('POST', '/flows', flow, { 'Node-RED-Deployment-Type': 'full' });
  assert.equal(res.status, 204, res.text);
  await waitFor(() => (nr.log().match(/Started flows/g) ?? []).length > started, 15_000, 'the deployed flow to start');
}

/** An inject node (triggered through POST /inject/:id) sending `payload` and extra msg properties. */
function inject(id: string, to: string, payload: unknown, props: Record<string, string> = {}): FlowNode {
  return {
    id,
    type: 'inject',
    z: 'tab',
    x: 100,
    y: 100,
    props: [{ p: 'payload' }, ...Object.keys(props).map((p) => ({ p, v: props[p], vt: 'str' }))],
    payload: JSON.stringify(payload),
    payloadType: 'json',
    repeat: '',
    once: false,
    wires: [[to]],
  };
}

async function waitForFile(file: string, ok: (text: string) => boolean, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (ok(text)) return text;
    if (Date.now() > deadline) throw new Error(`${file}: not as expected after ${timeoutMs} ms:\n${text.slice(0, 500)}`);
    await sleep(100);
  }
}

async function waitForLog(nr: NodeRedChild, from: number, want: RegExp | ((t: string) => boolean), timeoutMs = 15_000): Promise<string> {
  const test = typeof want === 'function' ? want : (t: string) => want.test(t);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = nr.log().slice(from);
    if (test(t)) return t;
    if (Date.now() > deadline) throw new Error(`log: not as expected after ${timeoutMs} ms:\n${t.slice(-3000)}`);
    await sleep(100);
  }
}

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
