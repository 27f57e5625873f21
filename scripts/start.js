#!/usr/bin/env node
// `npm start`: build (only when a source changed since the last build), then run Node-RED 4 with this package loaded and the demo flow deployed.
//
// - User directory: .userdir/ (gitignored; SMOKE_USERDIR overrides). The package is linked into its
//   node_modules as @smoke-stream/node-red-smoke-stream, where the palette manager would install it,
//   so Node-RED loads it like an installed package and lists its examples/ under Import ▸ Examples.
// - Dashboard: Node-RED Dashboard 2.0 is a dependency of this demo instance only (not of the palette
//   package). The first start installs it into the user directory; when that fails (offline), the
//   demo runs without it and its dashboard nodes are left out of the deployed flow.
// - Flow: flows/flows.json stays pristine; Node-RED runs on a copy in the user directory, written
//   when the repository's flow (or the dashboard / data folder choice) changed since the last start,
//   so edits made in the editor survive a restart otherwise. The Kafka tab is enabled only when
//   KAFKA_BOOTSTRAP_SERVERS is set.
//
// Environment: PORT (1880), HOST (127.0.0.1), KAFKA_BOOTSTRAP_SERVERS, SMOKE_USERDIR, SMOKE_DATA_DIR
// (CSV folder, default <repo>/data), SMOKE_DASHBOARD=off (never install or deploy the dashboard),
// SMOKE_RESET_FLOWS=1 (redeploy the repository's flow, dropping editor changes; the old copy is kept
// as flows.json.prev), SMOKE_SKIP_BUILD=1 (use dist/ as it is), LOG_FILE, LOG_LEVEL.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const userDir = path.resolve(process.env.SMOKE_USERDIR || path.join(root, '.userdir'));
const dataDir = path.resolve(process.env.SMOKE_DATA_DIR || path.join(root, 'data'));
const port = Number(process.env.PORT || 1880);
const host = process.env.HOST || '127.0.0.1';
const kafka = (process.env.KAFKA_BOOTSTRAP_SERVERS || '').trim();
const dashboardWanted = !/^(off|0|false|no)$/i.test(process.env.SMOKE_DASHBOARD || '');

const PACKAGE = '@smoke-stream/node-red-smoke-stream';
const DASHBOARD = '@flowfuse/node-red-dashboard';
const DASHBOARD_RANGE = '^1.31.0';
const KAFKA_TAB = 'smoke-kafka-tab';
/** Config and widget node types of Dashboard 2.0 used by the demo flow. */
const isDashboardType = (t) => typeof t === 'string' && /^ui-/.test(t);

function say(text) {
  console.log(`smoke-stream: ${text}`);
}

function build() {
  if (process.env.SMOKE_SKIP_BUILD === '1') return;
  // Only when a source changed since the last build (a start after the first one takes no tsc run).
  const b = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.js'), '--if-changed'], { cwd: root, stdio: 'inherit' });
  if (b.status !== 0) {
    say('the build failed (see above); fix it, or run with SMOKE_SKIP_BUILD=1 to start on the last build');
    process.exit(b.status ?? 1);
  }
}

function readJson(file, fallback) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return fallback;
  }
}

function writeJson(file, value) {
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}

/** The user directory's package.json lists the dashboard; modules installed from the palette stay. */
function writeUserPackage() {
  const file = path.join(userDir, 'package.json');
  const pkg = readJson(file, {});
  pkg.name = pkg.name || 'smoke-stream-demo';
  pkg.description = pkg.description || 'Node-RED user directory of the smoke-stream demo (npm start)';
  pkg.private = true;
  pkg.version = pkg.version || '0.0.0';
  pkg.dependencies = pkg.dependencies || {};
  // The package itself is linked (below), not listed: npm would otherwise install its dependencies
  // into the repository's own node_modules whenever anything is installed here.
  delete pkg.dependencies[PACKAGE];
  if (dashboardWanted && !pkg.dependencies[DASHBOARD]) pkg.dependencies[DASHBOARD] = DASHBOARD_RANGE;
  writeJson(file, pkg);
}

const linkPath = path.join(userDir, 'node_modules', ...PACKAGE.split('/'));

function unlinkPackage() {
  try {
    const st = fs.lstatSync(linkPath);
    if (st.isSymbolicLink()) fs.unlinkSync(linkPath);
    else fs.rmSync(linkPath, { recursive: true, force: true });
  } catch {}
}

/**
 * Link the package where the palette manager would install it. Returns false when the file system
 * refuses links: Node-RED then loads it from settings.nodesDir instead (same nodes and examples, but
 * listed as a local folder rather than an installed module).
 */
function linkPackage() {
  unlinkPackage();
  fs.mkdirSync(path.dirname(linkPath), { recursive: true });
  try {
    // A junction on Windows needs no admin rights; elsewhere the type is ignored.
    fs.symlinkSync(root, linkPath, process.platform === 'win32' ? 'junction' : 'dir');
    return true;
  } catch (err) {
    say(`could not link the package into ${linkPath} (${err.code || err.message}): loading it through nodesDir`);
    return false;
  }
}

function dashboardInstalled() {
  return fs.existsSync(path.join(userDir, 'node_modules', ...DASHBOARD.split('/'), 'package.json'));
}

/** Install the dashboard on first start; true when it is there afterwards. */
function ensureDashboard() {
  if (!dashboardWanted) return false;
  if (dashboardInstalled()) return true;
  say(`installing ${DASHBOARD} into ${userDir} (first start only)…`);
  // npm would prune the link to this package as extraneous: take it away during the install.
  unlinkPackage();
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['install', '--no-audit', '--no-fund', '--omit=dev', '--prefer-offline', '--fetch-retries=1', '--fetch-timeout=60000'], {
    cwd: userDir,
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 10 * 60_000,
    shell: process.platform === 'win32',
  });
  if (r.status === 0 && dashboardInstalled()) return true;
  say(`could not install ${DASHBOARD} (offline?): starting WITHOUT the dashboard; the next start tries again`);
  return false;
}

/** The flow Node-RED runs: the repository's flow adapted to this start. */
function runtimeFlow(source, withDashboard) {
  let nodes = JSON.parse(source);
  if (!withDashboard) {
    const gone = new Set(nodes.filter((n) => isDashboardType(n.type)).map((n) => n.id));
    nodes = nodes.filter((n) => !gone.has(n.id));
    for (const n of nodes) if (Array.isArray(n.wires)) n.wires = n.wires.map((port) => port.filter((id) => !gone.has(id)));
  }
  if (process.env.SMOKE_DATA_DIR) {
    // The repository's flow writes to the relative folder "data" (under the project); an override moves it.
    for (const n of nodes) {
      if (n.type !== 'smoke-csv-sink') continue;
      const folder = n.folder === undefined || n.folder === '' ? 'data' : String(n.folder);
      if (folder === 'data' || folder.startsWith('data/')) n.folder = path.join(dataDir, folder.slice('data'.length));
    }
  }
  return nodes;
}

function setKafkaTab(nodes) {
  for (const n of nodes) if (n.id === KAFKA_TAB && n.type === 'tab') n.disabled = !kafka;
  return nodes;
}

function prepareFlow(withDashboard) {
  const source = fs.readFileSync(path.join(root, 'flows', 'flows.json'), 'utf8');
  const flowFile = path.join(userDir, 'flows.json');
  const stampFile = path.join(userDir, '.smoke-flow-source');
  const stamp = crypto
    .createHash('sha256')
    .update(JSON.stringify({ source, withDashboard, dataDir: process.env.SMOKE_DATA_DIR ? dataDir : null }))
    .digest('hex');
  const current = fs.existsSync(flowFile) ? readJson(flowFile, null) : null;
  const fresh = current === null || process.env.SMOKE_RESET_FLOWS === '1' || (fs.existsSync(stampFile) ? fs.readFileSync(stampFile, 'utf8').trim() : '') !== stamp;
  let nodes;
  if (fresh) {
    if (current !== null) {
      fs.copyFileSync(flowFile, flowFile + '.prev');
      say(`deploying the demo flow from flows/flows.json (the previous one is kept as ${flowFile}.prev)`);
    }
    nodes = runtimeFlow(source, withDashboard);
  } else {
    nodes = current;
  }
  writeJson(flowFile, setKafkaTab(nodes));
  fs.writeFileSync(stampFile, stamp + '\n');
  writeEmptyCredentials();
}

/**
 * An encrypted, empty credentials file when there is none: the demo has no secrets, and without the
 * file Node-RED starts with "[warn] Encrypted credentials not found" (its credentialSecret is set in
 * flows/settings.js). The format is Node-RED's own (runtime/lib/nodes/credentials.js): aes-256-ctr
 * under sha256(secret), the IV in hex before the base64 text.
 */
function writeEmptyCredentials() {
  const file = path.join(userDir, 'flows_cred.json');
  if (fs.existsSync(file)) return;
  const secret = process.env.NODE_RED_CREDENTIAL_SECRET || require(path.join(root, 'flows', 'settings.js')).credentialSecret;
  const key = crypto.createHash('sha256').update(secret).digest();
  const iv = crypto.randomBytes(16);
  const cipher = crypto.createCipheriv('aes-256-ctr', key, iv);
  writeJson(file, { $: iv.toString('hex') + cipher.update('{}', 'utf8', 'base64') + cipher.final('base64') });
}

function banner(withDashboard) {
  const base = `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${port}`;
  const lines = [
    '',
    `  Node-RED editor:  ${base}/`,
    withDashboard ? `  Dashboard:        ${base}/dashboard` : `  Dashboard:        not available (${dashboardWanted ? `${DASHBOARD} is not installed` : 'SMOKE_DASHBOARD=off'})`,
    `  Metrics:          ${base}/smoke-stream/metrics`,
    `  CSV files:        ${dataDir}`,
    `  Kafka flow:       ${kafka ? `enabled (${kafka})` : 'disabled (set KAFKA_BOOTSTRAP_SERVERS to enable it)'}`,
    '  Stop with Ctrl-C.',
    '',
  ];
  console.log(lines.join('\n'));
}

function main() {
  build();
  fs.mkdirSync(userDir, { recursive: true });
  fs.mkdirSync(dataDir, { recursive: true });
  writeUserPackage();
  const withDashboard = ensureDashboard();
  const linked = linkPackage();
  prepareFlow(withDashboard);

  say(`starting Node-RED (user directory ${userDir})`);
  const args = [require.resolve('node-red/red.js'), '--userDir', userDir, '--settings', path.join(root, 'flows', 'settings.js')];
  const env = { ...process.env, PORT: String(port), HOST: host, SMOKE_DATA_DIR: dataDir, SMOKE_ROOT: root };
  if (linked) delete env.SMOKE_NODES_DIR;
  else env.SMOKE_NODES_DIR = root;
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['inherit', 'pipe', 'inherit'], env });
  let announced = false;
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    if (!announced && /Server now running at/.test(String(chunk))) {
      announced = true;
      banner(withDashboard);
    }
  });
  let signalled = false;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      // On Ctrl-C the terminal signals both processes; forward once for the case where only we got it.
      if (signalled) return;
      signalled = true;
      child.kill(sig);
    });
  }
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

main();
