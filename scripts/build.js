#!/usr/bin/env node
// Build: tsc (CommonJS) for nodes/**/*.ts into dist/nodes, then copy each node's editor html,
// locales and icons next to its .js so Node-RED finds them.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const tsc = require.resolve('typescript/bin/tsc');
// tsc still emits when it reports type errors; copy the editor assets anyway and fail at the end, so
// one broken file does not hide every other node from a test run.
let tscFailed = false;
try {
  execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
} catch {
  tscFailed = true;
}

const nodesDir = path.join(root, 'nodes');
const out = path.join(root, 'dist', 'nodes');
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
      fs.copyFileSync(from, path.join(dst, f.name));
      copied++;
    }
  }
}
console.log(`build: tsc ${tscFailed ? 'FAILED' : 'done'}, ${copied} editor assets copied to dist/nodes`);
if (tscFailed) process.exit(1);
