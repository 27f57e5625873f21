/**
 * Palette-manager install: `npm pack`, install the tarball into a fresh Node-RED user directory the
 * way the palette manager does, start Node-RED, and check that every node type of the package is
 * listed on `/nodes` with no load error. Runs on Node-RED 4.1 (this Node.js 20) and on Node-RED 5
 * (Node.js 22 from the `node@22` npm package, installed once into .cache/).
 */
import { strict as assert } from 'node:assert';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, waitForHttp, stopProcess } from './_process';

const root = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const types: string[] = Object.keys(pkg['node-red'].nodes);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface NodeSet {
  id: string;
  module: string;
  types: string[];
  enabled: boolean;
  err?: string;
}

let tarball = '';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-palette-'));

/** Install the tarball as the palette manager does (see @node-red/registry installer). */
function installInto(userDir: string, nodeBin?: string): void {
  fs.mkdirSync(userDir, { recursive: true });
  fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', private: true }));
  const env = { ...process.env };
  if (nodeBin) env.PATH = `${path.dirname(nodeBin)}${path.delimiter}${env.PATH}`;
  execFileSync(
    npm,
    ['install', '--no-audit', '--no-update-notifier', '--no-fund', '--save', '--save-prefix=~', '--omit=dev', '--engine-strict', tarball],
    { cwd: userDir, stdio: 'pipe', env, timeout: 240_000 },
  );
}

async function startAndList(nodeBin: string, redJs: string, userDir: string): Promise<{ sets: NodeSet[]; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(nodeBin, [redJs, '--userDir', userDir, '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_RED_ENABLE_PROJECTS: 'false' },
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  try {
    await waitForHttp(`http://127.0.0.1:${port}/`, 60_000, () => out);
    const res = await fetch(`http://127.0.0.1:${port}/nodes`, { headers: { Accept: 'application/json' } });
    assert.equal(res.status, 200);
    // Every node's editor loads the shared script: without it the whole editor would hang loading.
    const editorJs = await fetch(`http://127.0.0.1:${port}/resources/${pkg.name}/editor.js`);
    assert.equal(editorJs.status, 200, 'the package ships resources/editor.js and Node-RED serves it');
    assert.match(await editorJs.text(), /SmokeStreamEditor/);
    return { sets: (await res.json()) as NodeSet[], child };
  } catch (err) {
    await stopProcess(child);
    throw new Error(`${(err as Error).message}\n--- Node-RED output ---\n${out.slice(-3000)}`);
  }
}

function checkSets(sets: NodeSet[]): void {
  const ours = sets.filter((s) => s.module === pkg.name);
  assert.equal(ours.length, types.length, `expected ${types.length} node sets of ${pkg.name}, got ${ours.map((s) => s.id).join(', ')}`);
  for (const t of types) {
    const set = ours.find((s) => s.types.includes(t));
    assert.ok(set, `type ${t} not listed on /nodes`);
    assert.equal(set.err, undefined, `type ${t} failed to load: ${set.err}`);
    assert.ok(set.enabled, `type ${t} not enabled: ${JSON.stringify(set)}`);
  }
}

describe('package > palette-manager install of the npm tarball', function () {
  this.timeout(400_000);

  before(function () {
    const out = execFileSync(npm, ['pack', '--json', '--pack-destination', tmp], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] }).toString();
    const info = JSON.parse(out.slice(out.indexOf('[')))[0];
    tarball = path.join(tmp, info.filename);
    assert.ok(fs.existsSync(tarball), `npm pack wrote no ${info.filename}`);
  });

  after(function () {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('ships dist and examples, and never the data file or the tests', function () {
    const listed = execFileSync('tar', ['-tzf', tarball]).toString().split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    for (const f of Object.values(pkg['node-red'].nodes) as string[]) assert.ok(listed.includes(f), `${f} not in the tarball`);
    assert.ok(listed.some((f) => f.startsWith('examples/') && f.endsWith('.json')), 'no example flow in the tarball');
    assert.ok(!listed.some((f) => /\.csv$/i.test(f)), 'a CSV file is in the tarball');
    assert.ok(!listed.some((f) => f.startsWith('test/') || f.startsWith('nodes/') || f.startsWith('bench/')), 'sources or tests in the tarball');
  });

  it('loads every node on Node-RED 4.1 (Node.js 20)', async function () {
    const userDir = path.join(tmp, 'user-nr4');
    installInto(userDir);
    const { sets, child } = await startAndList(process.execPath, require.resolve('node-red/red.js'), userDir);
    try {
      checkSets(sets);
    } finally {
      await stopProcess(child);
    }
  });

  it('loads every node on Node-RED 5 (Node.js 22 from the node@22 npm package)', async function () {
    const cache = path.join(root, '.cache', 'nr5');
    const node22 = path.join(cache, 'node_modules', 'node', 'bin', 'node');
    const red5 = path.join(cache, 'node_modules', 'node-red', 'red.js');
    if (!fs.existsSync(node22) || !fs.existsSync(red5)) {
      fs.mkdirSync(cache, { recursive: true });
      fs.writeFileSync(path.join(cache, 'package.json'), JSON.stringify({ name: 'nr5-runtime', private: true }));
      execFileSync(npm, ['install', '--no-audit', '--no-fund', 'node@22', 'node-red@5'], { cwd: cache, stdio: 'pipe', timeout: 300_000 });
    }
    const version = execFileSync(node22, ['--version']).toString().trim();
    assert.match(version, /^v22\./);
    const userDir = path.join(tmp, 'user-nr5');
    installInto(userDir, node22);
    const { sets, child } = await startAndList(node22, red5, userDir);
    try {
      checkSets(sets);
    } finally {
      await stopProcess(child);
    }
  });
});
