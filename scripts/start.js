#!/usr/bin/env node
// `npm start`: build, then run Node-RED with this package loaded and the demo flow from flows/.
// The user directory lives in .userdir/ (gitignored); the package is linked into its node_modules
// exactly as the palette manager would install it, so Import ▸ Examples lists our examples too.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const userDir = process.env.SMOKE_USERDIR || path.join(root, '.userdir');

const b = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.js')], { cwd: root, stdio: 'inherit' });
if (b.status !== 0) process.exit(b.status ?? 1);

const link = path.join(userDir, 'node_modules', '@smoke-stream', 'node-red-smoke-stream');
fs.mkdirSync(path.dirname(link), { recursive: true });
try {
  fs.rmSync(link, { recursive: true, force: true });
} catch {}
fs.symlinkSync(root, link, 'dir');
fs.writeFileSync(
  path.join(userDir, 'package.json'),
  JSON.stringify({ name: 'smoke-stream-demo', private: true, dependencies: { '@smoke-stream/node-red-smoke-stream': 'file:..' } }, null, 2),
);

console.log('smoke-stream: starting Node-RED; open the editor at http://' + (process.env.HOST || '127.0.0.1') + ':' + (process.env.PORT || 1880) + '/');
const nodeRed = require.resolve('node-red/red.js');
const args = [nodeRed, '--userDir', userDir, '--settings', path.join(root, 'flows', 'settings.js'), path.join(root, 'flows', 'flows.json')];
const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit', env: process.env });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code) => process.exit(code ?? 0));
