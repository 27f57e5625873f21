#!/usr/bin/env node
// Build: tsc (CommonJS) for nodes/**/*.ts into dist/nodes, then copy each node's editor html (its
// shared parts filled in: scripts/editor-parts.js), locales and icons next to its .js so Node-RED finds them.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { expandEditor } = require('./editor-parts');

const root = path.resolve(__dirname, '..');
const tsc = require.resolve('typescript/bin/tsc');
const out = path.join(root, 'dist', 'nodes');

// `--if-changed` (npm start): skip the build when the sources are what the last build was made from.
const stampFile = path.join(root, 'dist', '.build-stamp');
const stamp = sourceStamp();
if (process.argv.includes('--if-changed') && fs.existsSync(out) && readText(stampFile) === stamp) {
  console.log('build: up to date (no source changed since the last build)');
  process.exit(0);
}
// A clean output: a source moved or deleted must not leave its old build behind (npm would pack it).
fs.rmSync(stampFile, { force: true });
fs.rmSync(out, { recursive: true, force: true });

/** A hash of everything the build reads: nodes/, the tsconfigs, this script and the TypeScript version. */
function sourceStamp() {
  const crypto = require('node:crypto');
  const h = crypto.createHash('sha1');
  const add = (file) => {
    h.update(path.relative(root, file));
    h.update('\0');
    h.update(fs.readFileSync(file));
    h.update('\0');
  };
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile()) add(full);
    }
  };
  walk(path.join(root, 'nodes'));
  for (const f of ['tsconfig.json', 'tsconfig.build.json', 'scripts/build.js', 'scripts/editor-parts.js']) if (fs.existsSync(path.join(root, f))) add(path.join(root, f));
  h.update(require('typescript').version);
  return h.digest('hex');
}

function readText(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
// tsc still emits when it reports type errors; copy the editor assets anyway and fail at the end, so
// one broken file does not hide every other node from a test run.
let tscFailed = false;
try {
  execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
} catch {
  tscFailed = true;
}

const nodesDir = path.join(root, 'nodes');
let copied = 0;
for (const entry of fs.readdirSync(nodesDir, { withFileTypes: true })) {
  if (!entry.isDirectory() || entry.name === 'lib' || entry.name === 'nr') continue;
  const src = path.join(nodesDir, entry.name);
  const dst = path.join(out, entry.name);
  fs.mkdirSync(dst, { recursive: true });
  for (const f of fs.readdirSync(src, { withFileTypes: true })) {
    const from = path.join(src, f.name);
    if (f.isDirectory() && (f.name === 'locales' || f.name === 'icons')) {
      fs.cpSync(from, path.join(dst, f.name), { recursive: true });
      copied++;
    } else if (f.isFile() && f.name.endsWith('.html')) {
      const html = fs.readFileSync(from, 'utf8');
      const type = /RED\.nodes\.registerType\('([^']+)'/.exec(html)?.[1] ?? `smoke-${entry.name}`;
      fs.writeFileSync(path.join(dst, f.name), expandEditor(html, type));
      copied++;
    }
  }
}
// The help pages name the sensors of the sensor table (nodes/lib/sensor-fields.ts) where they say
// `<!--sensor-keys-->` (a comma list) or `<!--sensor-keys:code-->` (each key in <code>): a sensor added
// to the table reaches the help with it.
const sensorFields = path.join(out, 'lib', 'sensor-fields.js');
let helpPages = 0;
if (fs.existsSync(sensorFields)) {
  const keys = require(sensorFields).SENSOR_KEYS;
  const listed = (code) => keys.map((k) => (code ? `<code>${k}</code>` : k)).join(', ');
  // dist/nodes/<node>/locales/<lang>/<node>.html
  for (const rel of fs.readdirSync(out, { recursive: true }).filter((f) => /^[^/\\]+[/\\]locales[/\\][^/\\]+[/\\][^/\\]+\.html$/.test(f))) {
    const file = path.join(out, rel);
    const text = fs.readFileSync(file, 'utf8');
    const filled = text.replace(/<!--sensor-keys(:code)?-->/g, (_, code) => listed(code !== undefined));
    if (filled !== text) {
      fs.writeFileSync(file, filled);
      helpPages++;
    }
  }
}
console.log(`build: tsc ${tscFailed ? 'FAILED' : 'done'}, ${copied} editor assets copied to dist/nodes, sensor keys in ${helpPages} help pages`);
if (tscFailed) process.exit(1);
fs.writeFileSync(stampFile, stamp);
