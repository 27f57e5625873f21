/**
 * Structured logs of the runnable instance: Node-RED started with flows/settings.js (as `npm start`
 * runs it) writes JSON lines to LOG_FILE at LOG_LEVEL through scripts/json-logger.js. With
 * LOG_LEVEL=warn, a flow that logs at info and warn leaves only the warnings in the file; each line
 * parses as JSON; a node's warning carries its id, type and reason; an object is never logged whole.
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, stopProcess } from './_process';

const root = path.resolve(__dirname, '..', '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const jsonLogger = require(path.join(root, 'scripts', 'json-logger.js'));

interface Line {
  time: string;
  level: string;
  type?: string;
  id?: string;
  name?: string;
  flow?: string;
  msg: string;
}

const BIG = 'x'.repeat(5000);

const flow = [
  { id: 'tab', type: 'tab', label: 'logging' },
  { id: 'go', type: 'inject', z: 'tab', once: true, onceDelay: 0.1, repeat: '', payload: 'bogus', payloadType: 'str', wires: [['fn', 'sim']] },
  {
    id: 'fn',
    type: 'function',
    z: 'tab',
    name: 'talker',
    func: `node.log('an info line'); node.warn('a warn line: sensor offline'); node.warn({ payload: { big: '${BIG}' }, _msgid: 'm1' }); return null;`,
    outputs: 1,
    wires: [[]],
  },
  { id: 'sim', type: 'smoke-sensor-sim', z: 'tab', name: 'simulator', autostart: false, wires: [[]] },
];

function readLines(file: string): Line[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Line);
}

describe('logging > JSON lines of the runnable instance (flows/settings.js)', function () {
  this.timeout(90_000);
  let tmp: string;
  let child: ChildProcess | null = null;
  let out = '';

  before(function () {
    assert.ok(fs.existsSync(path.join(root, 'dist', 'nodes', 'sensor-sim', 'sensor-sim.js')), 'build first (node scripts/build.js)');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-log-'));
  });

  afterEach(async function () {
    if (child) await stopProcess(child, 10_000);
    child = null;
  });

  after(function () {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function run(level: string | undefined, file: string, until: (lines: Line[]) => boolean): Promise<Line[]> {
    const userDir = path.join(tmp, `userdir-${level ?? 'default'}`);
    fs.mkdirSync(userDir, { recursive: true });
    fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flow));
    // The package where the palette manager would install it, as scripts/start.js links it.
    fs.mkdirSync(path.join(userDir, 'node_modules', '@smoke-stream'), { recursive: true });
    fs.symlinkSync(root, path.join(userDir, 'node_modules', '@smoke-stream', 'node-red-smoke-stream'), 'dir');
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(await freePort()), HOST: '127.0.0.1', LOG_FILE: file };
    delete env.SMOKE_NODES_DIR;
    if (level === undefined) delete env.LOG_LEVEL;
    else env.LOG_LEVEL = level;
    delete env.NODE_OPTIONS;
    out = '';
    child = spawn(process.execPath, [require.resolve('node-red/red.js'), '--userDir', userDir, '--settings', path.join(root, 'flows', 'settings.js')], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (c) => (out += String(c)));
    child.stderr!.on('data', (c) => (out += String(c)));
    const end = Date.now() + 60_000;
    for (;;) {
      assert.equal(child.exitCode, null, `Node-RED exited early:\n${out.slice(-3000)}`);
      // Every line must parse, also while the runtime is writing: a torn line would throw here.
      const lines = readLines(file);
      if (until(lines)) {
        // Give a stray later line (there must be none at info) a moment to show up.
        await new Promise((r) => setTimeout(r, 500));
        return readLines(file);
      }
      assert.ok(Date.now() < end, `the expected log lines within 60 s; file has:\n${fs.existsSync(file) ? fs.readFileSync(file, 'utf8').slice(-3000) : '(none)'}\noutput:\n${out.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  const simWarned = (lines: Line[]) => lines.some((l) => l.type === 'smoke-sensor-sim' && /bogus/.test(l.msg));

  it('LOG_LEVEL=warn: only warnings and errors reach LOG_FILE, each line JSON, node id/type/reason on each warning', async function () {
    const file = path.join(tmp, 'logs', 'warn.log');
    const lines = await run('warn', file, (ls) => simWarned(ls) && ls.filter((l) => l.type === 'function').length >= 2);
    assert.ok(lines.length >= 3);
    for (const l of lines) {
      assert.ok(['warn', 'error', 'fatal'].includes(l.level), `no ${l.level} line at LOG_LEVEL=warn: ${JSON.stringify(l)}`);
      assert.ok(!Number.isNaN(Date.parse(l.time)), 'an ISO time');
    }
    assert.equal(lines.filter((l) => /an info line/.test(l.msg)).length, 0);
    const warn = lines.find((l) => /sensor offline/.test(l.msg));
    assert.deepEqual({ ...warn, time: undefined }, { time: undefined, level: 'warn', type: 'function', id: 'fn', name: 'talker', flow: 'tab', msg: 'a warn line: sensor offline' });
    const sim = lines.find((l) => l.type === 'smoke-sensor-sim')!;
    assert.equal(sim.id, 'sim');
    assert.equal(sim.level, 'warn');
    const obj = lines.find((l) => l.type === 'function' && l !== warn)!;
    assert.ok(!obj.msg.includes('xxxxxxxxxx'), 'a payload is not logged whole');
    assert.match(obj.msg, /^\[object with keys payload, _msgid\]$/);
  });

  it('LOG_LEVEL unset: info lines too (Node-RED start-up and node.log)', async function () {
    const file = path.join(tmp, 'info.log');
    const lines = await run(undefined, file, (ls) => simWarned(ls) && ls.some((l) => /an info line/.test(l.msg)));
    assert.ok(lines.some((l) => l.level === 'info' && /Started flows/.test(l.msg)));
    assert.equal(lines.find((l) => /an info line/.test(l.msg))!.level, 'info');
    assert.ok(lines.every((l) => l.level !== 'debug' && l.level !== 'trace'));
  });
});

describe('logging > json-logger message text', function () {
  it('keeps text and error messages, summarises objects at info level, shows their JSON only at debug', function () {
    assert.equal(jsonLogger.text('plain', false), 'plain');
    assert.equal(jsonLogger.text(new Error('boom'), false), 'boom');
    assert.equal(jsonLogger.text({ payload: 1, topic: 't' }, false), '[object with keys payload, topic]');
    assert.equal(jsonLogger.text([1, 2, 3], false), '[array of 3]');
    assert.equal(jsonLogger.text({ payload: 1 }, true), '{"payload":1}');
    assert.match(jsonLogger.text('y'.repeat(5000), false), /^y{1000}… \(5000 chars\)$/);
  });

  it('takes LOG_LEVEL and LOG_FILE, and falls back to info for an unknown level', function () {
    const saved = { level: process.env.LOG_LEVEL, file: process.env.LOG_FILE };
    try {
      process.env.LOG_LEVEL = 'WARN';
      process.env.LOG_FILE = path.join(os.tmpdir(), 'x.log');
      assert.equal(jsonLogger.settings().level, 'warn');
      process.env.LOG_LEVEL = 'loud';
      assert.equal(jsonLogger.settings().level, 'info');
      delete process.env.LOG_LEVEL;
      assert.equal(jsonLogger.settings().level, 'info');
    } finally {
      if (saved.level === undefined) delete process.env.LOG_LEVEL;
      else process.env.LOG_LEVEL = saved.level;
      if (saved.file === undefined) delete process.env.LOG_FILE;
      else process.env.LOG_FILE = saved.file;
    }
  });
});
