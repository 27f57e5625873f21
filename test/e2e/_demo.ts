/**
 * `npm start` (scripts/start.js) as a child process, for the tests of the demo's dashboard: Node-RED 4
 * with flows/settings.js and the demo flow, on a free port, Kafka off. The user directory is kept
 * between runs (in the system's temporary folder, not the repository) so that Dashboard 2.0, which the
 * first start installs into it, is installed once and not on every run; the flow is redeployed from
 * flows/flows.json each time, with no context left from an earlier run. Each test file passes its own folder, so that two of them never share a
 * running user directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { root } from './_browser';
import { freePort, waitForHttp } from './_process';

export interface Demo {
  base: string;
  /** True when Dashboard 2.0 is installed and its nodes are deployed (start.js's banner says so). */
  dashboard: boolean;
  output(): string;
  /** Why the dashboard is missing: start.js's and npm's lines about it. */
  dashboardMissing(): string;
  stop(): Promise<void>;
}

/** Starts the demo with the user directory `<tmp>/<userDirName>`; resolves once the editor answers. */
export async function startDemo(userDirName: string): Promise<Demo> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-demo-'));
  const userDir = path.join(os.tmpdir(), userDirName);
  // The flow's context (a window's panes, the alerts table's list) from an earlier run would be restored
  // into this one: start from none, as a first start does.
  fs.rmSync(path.join(userDir, 'context'), { recursive: true, force: true });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    SMOKE_USERDIR: userDir,
    SMOKE_DATA_DIR: path.join(tmp, 'data'),
    SMOKE_SKIP_BUILD: '1',
    SMOKE_RESET_FLOWS: '1',
    LOG_FILE: path.join(tmp, 'stream_processing.log'),
  };
  delete env.KAFKA_BOOTSTRAP_SERVERS;
  delete env.SMOKE_DASHBOARD;
  // Its own process group, so that Node-RED (start.js's child) ends with it.
  const child: ChildProcess = spawn(process.execPath, [path.join(root, 'scripts', 'start.js')], { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let bannerSeen = (): void => {};
  const banner = new Promise<void>((resolve) => (bannerSeen = resolve));
  child.stdout!.on('data', (c) => {
    out += String(c);
    if (/Dashboard: +/.test(out)) bannerSeen();
  });
  child.stderr!.on('data', (c) => (out += String(c)));

  const stop = async (): Promise<void> => {
    if (child.pid && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(-child.pid, 'SIGINT');
      const t = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {}
      }, 15_000);
      await exited;
      clearTimeout(t);
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  try {
    // The first start installs the dashboard (npm's cache makes that quick after the first time).
    await waitForHttp(`${base}/settings`, 240_000, () => out);
    // start.js prints its banner (with the dashboard's line) when Node-RED says it listens: about when
    // the editor answers, but through a pipe; wait for it.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      banner,
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no banner from scripts/start.js within 10 s:\n${out.slice(-2000)}`)), 10_000))),
    ]).finally(() => clearTimeout(timer));
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    base,
    dashboard: /Dashboard: +http/.test(out),
    output: () => out,
    dashboardMissing: () => out.split('\n').filter((l) => /smoke-stream:|Dashboard:|npm (error|ERR)/.test(l)).join('\n'),
    stop,
  };
}
