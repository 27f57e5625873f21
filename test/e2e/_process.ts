/** Helpers for tests that run Node-RED (or other servers) as child processes. */
import * as net from 'node:net';
import type { ChildProcess } from 'node:child_process';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Poll `url` until it answers (any HTTP status below 500) or `timeoutMs` passes. */
export async function waitForHttp(url: string, timeoutMs: number, log?: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < end) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.status < 500) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms (${last})${log ? '\n' + log().slice(-2000) : ''}`);
}

/** SIGINT, then SIGKILL after `graceMs`; resolves with the exit code (null when killed). */
export function stopProcess(child: ChildProcess, graceMs = 15_000): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
    child.kill('SIGINT');
  });
}
