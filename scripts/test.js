#!/usr/bin/env node
// `npm test`: build, make sure a Kafka broker answers (start the project's own one when none does),
// run every mocha suite, stop the broker again if this run started it.
//   npm test                      all suites
//   npm test -- test/unit         only the given files / folders
'use strict';
const { spawnSync } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');
const fs = require('node:fs');

const root = path.resolve(__dirname, '..');
const isCI = process.env.CI === 'true';

function run(cmd, args, opts = {}) {
  return spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
}

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function probe(hostPort, timeoutMs = 1500) {
  const [host, port] = hostPort.split(':');
  return new Promise((resolve) => {
    const s = net.connect({ host, port: Number(port) });
    const t = setTimeout(() => (s.destroy(), resolve(false)), timeoutMs);
    s.once('connect', () => (clearTimeout(t), s.end(), resolve(true)));
    s.once('error', () => (clearTimeout(t), resolve(false)));
  });
}

async function main() {
  const b = run(process.execPath, [path.join(root, 'scripts', 'build.js')]);
  if (b.status !== 0) process.exit(b.status ?? 1);

  const bootstrap = process.env.KAFKA_BOOTSTRAP_SERVERS || '127.0.0.1:9092';
  process.env.KAFKA_BOOTSTRAP_SERVERS = bootstrap;
  let started = false;
  if (!(await probe(bootstrap.split(',')[0]))) {
    if (has('java') && has('mvn')) {
      console.log(`test: no Kafka broker at ${bootstrap}; starting the project's local broker`);
      const r = run('bash', [path.join(root, 'scripts', 'kafka', 'kafka.sh'), 'start']);
      if (r.status === 0) started = true;
      else if (isCI) {
        console.error('test: the local Kafka broker did not start (CI=true: failing)');
        process.exit(1);
      } else process.env.SMOKE_KAFKA_UNAVAILABLE = 'the local Kafka broker did not start (see scripts/kafka/kafka.sh)';
    } else {
      process.env.SMOKE_KAFKA_UNAVAILABLE = 'Java and Maven are needed to start the local Kafka broker';
      if (isCI) {
        console.error(`test: ${process.env.SMOKE_KAFKA_UNAVAILABLE} (CI=true: failing)`);
        process.exit(1);
      }
    }
  }

  const mocha = require.resolve('mocha/bin/mocha.js');
  const suites = ['test/unit', 'test/nodes', 'test/kafka', 'test/reliability', 'test/e2e']
    .filter((d) => fs.existsSync(path.join(root, d)))
    .map((d) => `${d}/**/*.test.ts`);
  const given = process.argv.slice(2);
  const specs = given.some((a) => !a.startsWith('-')) ? [] : suites;
  const args = [mocha, '--reporter', path.join(root, 'test', 'reporter.cjs'), ...given, ...specs];
  const t = run(process.execPath, args, { env: process.env });

  if (started && !process.env.SMOKE_KEEP_KAFKA) run('bash', [path.join(root, 'scripts', 'kafka', 'kafka.sh'), 'stop']);
  process.exit(t.status ?? 1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
