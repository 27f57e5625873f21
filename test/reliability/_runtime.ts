/**
 * A real Node-RED runtime in a child process for the reliability suites: `node-red/red.js` with its own
 * temporary user directory, the package linked into `<userDir>/node_modules` as scripts/start.js does
 * (so Node-RED loads it like an installed package), the localfilesystem context store, and the admin
 * API on a free port. The parent can SIGKILL it, restart it on the same user directory, stop it
 * cleanly, and read its RSS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, stopProcess, waitForHttp } from '../e2e/_process';

export const root = path.resolve(__dirname, '..', '..');
const PACKAGE = '@smoke-stream/node-red-smoke-stream';
export const RED_JS = require.resolve('node-red/red.js');

export type FlowNode = Record<string, unknown> & { id: string; type: string };

export interface UserDirOptions {
  flow: FlowNode[];
  /** settings.credentialSecret (default: a fixed test key). */
  credentialSecret?: string;
  /** localfilesystem flushInterval, seconds (Node-RED's default is 30). */
  contextFlushSec?: number;
  /** Console log level of the child (default 'info': the suites read "Started flows" from it). */
  logLevel?: string;
  /** Add Node.js process metrics (heap, event-loop lag) to the metrics endpoint. */
  processMetrics?: boolean;
}

/** Every child started by this module, so that an `after()` can kill leftovers of a failed test. */
const children = new Set<ChildProcess>();

export function killLeftovers(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
}

/** Run a test's undo steps newest first, each even when one before it failed (its message logged). */
export async function undoAll(steps: Array<() => unknown>): Promise<void> {
  for (const undo of steps.reverse()) {
    try {
      await undo();
    } catch (err) {
      console.log(`      cleanup: ${err instanceof Error ? err.message : err}`);
    }
  }
}

/**
 * A suite's undo steps: push to the returned list; after each test (a failed one too) they run newest
 * first (undoAll) and any runtime left running is killed.
 */
export function undoAfterEach(): Array<() => unknown> {
  const steps: Array<() => unknown> = [];
  afterEach(async function () {
    await undoAll(steps.splice(0));
    killLeftovers();
  });
  return steps;
}

/** A fresh user directory with the package linked in, settings.js and flows.json. */
export function createUserDir(opts: UserDirOptions): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-reliability-'));
  const link = path.join(dir, 'node_modules', ...PACKAGE.split('/'));
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.symlinkSync(root, link, 'dir');
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'smoke-reliability-userdir', private: true, version: '0.0.0' }, null, 2));
  const settings = {
    flowFile: 'flows.json',
    credentialSecret: opts.credentialSecret ?? 'reliability-test-secret',
    contextStorage: { default: { module: 'localfilesystem', config: { flushInterval: opts.contextFlushSec ?? 1 } } },
    logging: { console: { level: opts.logLevel ?? 'info', metrics: false, audit: false } },
    smokeStream: { metrics: { path: '/smoke-stream/metrics', defaultMetrics: opts.processMetrics ?? false } },
    telemetry: { enabled: false },
    diagnostics: { enabled: false },
    editorTheme: { projects: { enabled: false }, tours: false },
    externalModules: { palette: { allowInstall: false } },
  };
  fs.writeFileSync(
    path.join(dir, 'settings.js'),
    `'use strict';\nmodule.exports = Object.assign(${JSON.stringify(settings, null, 2)}, { uiHost: '127.0.0.1', uiPort: Number(process.env.PORT) });\n`,
  );
  fs.writeFileSync(path.join(dir, 'flows.json'), JSON.stringify(opts.flow, null, 2));
  return dir;
}

/** How the child is spawned (default: as the test process's own user, Node-RED from this checkout). */
export interface SpawnOptions {
  /** Run Node-RED as this user and group (the test must be root); the user directory must be theirs. */
  uid?: number;
  gid?: number;
  /**
   * node-red/red.js to run: the one of this checkout by default; another path to the same file (a bind
   * mount of the checkout) when the checkout's own path is not readable by `uid`.
   */
  redJs?: string;
}

export class NodeRedChild {
  child: ChildProcess | null = null;
  port = 0;
  private logText = '';
  starts = 0;

  constructor(
    readonly userDir: string,
    private readonly env: Record<string, string> = {},
    private readonly spawnOpts: SpawnOptions = {},
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The child's stdout and stderr so far (last 200 kB). */
  log(): string {
    return this.logText;
  }

  get pid(): number {
    return this.child?.pid ?? 0;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Start Node-RED and resolve once its flows run ("Started flows" in the log). */
  async start(timeoutMs = 60_000): Promise<void> {
    if (this.running) throw new Error('already running');
    this.port = await freePort();
    const startedBefore = (this.logText.match(/Started flows/g) ?? []).length;
    const { uid, gid, redJs } = this.spawnOpts;
    const child = spawn(process.execPath, [redJs ?? RED_JS, '--userDir', this.userDir, '--settings', path.join(this.userDir, 'settings.js')], {
      cwd: this.userDir,
      env: { ...process.env, ...this.env, PORT: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(uid === undefined ? {} : { uid }),
      ...(gid === undefined ? {} : { gid }),
    });
    this.child = child;
    this.starts++;
    children.add(child);
    child.once('exit', () => children.delete(child));
    const append = (b: Buffer) => {
      this.logText += b.toString('utf8');
      if (this.logText.length > 200_000) this.logText = this.logText.slice(-150_000);
    };
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    await waitForHttp(`${this.url}/settings`, timeoutMs, () => this.logText);
    const deadline = Date.now() + timeoutMs;
    while ((this.logText.match(/Started flows/g) ?? []).length <= startedBefore) {
      if (!this.running) throw new Error(`Node-RED exited before its flows started:\n${this.logText.slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`Node-RED flows did not start within ${timeoutMs} ms:\n${this.logText.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** SIGKILL: no close handlers, no flush, like a power cut of the process. */
  async kill(): Promise<void> {
    const c = this.child;
    if (!c || !this.running) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGKILL');
    await exited;
  }

  /** A clean stop (SIGINT: Node-RED closes every node); SIGKILL after `graceMs`. Returns the exit code. */
  async stop(graceMs = 20_000): Promise<number | null> {
    const c = this.child;
    if (!c || !this.running) return c?.exitCode ?? null;
    return stopProcess(c, graceMs);
  }

  /** Resident set size of the child, kB (Linux /proc; 0 elsewhere or when not running). */
  rssKb(): number {
    if (!this.running) return 0;
    try {
      const m = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${this.pid}/status`, 'utf8'));
      return m ? Number(m[1]) : 0;
    } catch {
      return 0;
    }
  }

  /**
   * Polls `cond` every `everyMs` until it gives a value, while Node-RED runs: fails when it exits or
   * after `timeoutMs`, with `story()` (what the test saw so far) in the message.
   */
  async waitFor<T>(
    what: string,
    cond: () => Promise<T | null | false | undefined> | T | null | false | undefined,
    o: { timeoutMs: number; everyMs?: number; story: () => string },
  ): Promise<T> {
    const deadline = Date.now() + o.timeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`Node-RED exited while waiting for ${what}\n${o.story()}`);
      const v = await cond();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out after ${(o.timeoutMs / 1000).toFixed(1)} s waiting for ${what}\n${o.story()}`);
      await new Promise((r) => setTimeout(r, o.everyMs ?? 100));
    }
  }

  /** The admin API (no adminAuth in these settings). */
  async api(method: string, pathname: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; text: string; json: unknown }> {
    const res = await fetch(`${this.url}${pathname}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    let json: unknown = undefined;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, text, json };
  }
}

/** Remove a user directory (and whatever the flow wrote under it). */
export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
