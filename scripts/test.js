#!/usr/bin/env node
// `npm test`: build, make sure a Kafka broker answers (start the project's own one when none does),
// run every mocha suite (unit + nodes beside kafka + reliability, then e2e), stop the broker again if
// this run started it.
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

  const given = process.argv.slice(2);
  let status;
  if (given.some((a) => !a.startsWith('-'))) {
    status = (await mochaRun(given)).status;
  } else {
    // The whole suite in two lanes, then the tests that rebuild dist/: the CPU-bound unit and node
    // tests, then the browser and start tests, run beside the Kafka and multi-process suites, which
    // mostly wait for the broker and their child runtimes (each waits for the events it means, so a
    // busier machine makes them slower, not wrong). The build test and the palette install (`npm pack`
    // runs the build) replace dist/, which the other lanes load, so they run last, alone.
    const globs = (dirs) => dirs.filter((d) => fs.existsSync(path.join(root, d))).map((d) => `${d}/**/*.test.ts`);
    const REBUILDS = ['test/e2e/build.test.ts', 'test/e2e/palette-install.test.ts'];
    const browser = fs
      .readdirSync(path.join(root, 'test', 'e2e'))
      .filter((f) => f.endsWith('.test.ts'))
      .map((f) => `test/e2e/${f}`)
      .filter((f) => !REBUILDS.includes(f));
    const lanes = [
      { name: 'unit+nodes', specs: globs(['test/unit', 'test/nodes']), buffered: true },
      { name: 'kafka+reliability', specs: globs(['test/kafka', 'test/reliability']) },
      { name: 'e2e', specs: browser, buffered: true },
      { name: 'e2e-rebuild', specs: REBUILDS.filter((f) => fs.existsSync(path.join(root, f))) },
    ];
    const run1 = (l) => mochaRun([...given, ...l.specs], l);
    const results = await Promise.all([
      run1(lanes[0]).then(async (r) => [r, await run1(lanes[2])]),
      run1(lanes[1]),
    ]).then(([[unit, e2e], kafka]) => [unit, kafka, e2e]);
    results.push(await run1(lanes[3]));
    // One closing line for the whole suite, in the form CI reads (test/reporter.cjs).
    const total = [0, 0, 0];
    lanes.forEach((l, i) => {
      const m = /mocha: (\d+) passed, (\d+) failed, (\d+) skipped/.exec(readText(summaryFile(l.name)));
      console.log(`test: ${l.name} ${results[i].status === 0 ? 'passed' : 'FAILED'}${m ? ` (${m[0].slice(7)})` : ''}`);
      if (m) for (let k = 0; k < 3; k++) total[k] += Number(m[k + 1]);
    });
    const line = `mocha: ${total[0]} passed, ${total[1]} failed, ${total[2]} skipped`;
    console.log(line);
    fs.writeFileSync(summaryFile(''), line + '\n');
    status = results.every((r) => r.status === 0) ? 0 : 1;
  }

  if (started && !process.env.SMOKE_KEEP_KAFKA) run('bash', [path.join(root, 'scripts', 'kafka', 'kafka.sh'), 'stop']);
  process.exit(status ?? 1);
}

const mochaBin = require.resolve('mocha/bin/mocha.js');
const reporter = path.join(root, 'test', 'reporter.cjs');
const summaryFile = (lane) => path.join(root, 'test', 'artifacts', lane ? `mocha-summary-${lane}.txt` : 'mocha-summary.txt');

function readText(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/**
 * One mocha run. A `buffered` lane keeps its output and prints it in one piece when it ends, so that
 * two lanes running at once do not interleave; the other prints as it goes. Resolves with its status.
 */
function mochaRun(args, lane = { name: '' }) {
  const { spawn } = require('node:child_process');
  const env = lane.name ? { ...process.env, SMOKE_MOCHA_SUMMARY: summaryFile(lane.name) } : process.env;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [mochaBin, '--reporter', reporter, ...args], { cwd: root, env, stdio: lane.buffered ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    const chunks = [];
    if (lane.buffered) {
      child.stdout.on('data', (c) => chunks.push(c));
      child.stderr.on('data', (c) => chunks.push(c));
    }
    child.on('close', (code, signal) => {
      if (lane.buffered) {
        process.stdout.write(`\n---- ${lane.name} (ran beside the Kafka suites) ----\n`);
        process.stdout.write(Buffer.concat(chunks));
        process.stdout.write(`---- end of ${lane.name} ----\n\n`);
      }
      resolve({ status: code ?? (signal ? 1 : 0) });
    });
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
