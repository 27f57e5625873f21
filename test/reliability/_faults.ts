/**
 * Real file-system faults for the reliability suites (root only): a small tmpfs the test mounts itself
 * (filled to the last page for ENOSPC), read-only mounts (EROFS), and an unprivileged user for Node-RED
 * (EACCES once a folder is `chmod 000`), plus the rule for when a scenario that needs them may skip.
 *
 * What the kernel allows shapes the faults. A file system cannot be made read-only while a process has a
 * file on it open for writing: `mount -o remount,ro` (and a read-only bind remount of the same mount)
 * fails with EBUSY then. Permissions likewise are checked when a file is opened, not on each write. So
 * a writer that keeps its files open meets EROFS and EACCES when it opens or creates a file (a new
 * day's file, a reopen after an error, a journal's temporary file), which is when they happen in
 * production too; a full disk fails the next append at once.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RED_JS, root } from './_runtime';

/** The outcome of a command: its exit status and what it printed. */
export interface CommandResult {
  ok: boolean;
  out: string;
}

export function run(cmd: string, args: string[], timeoutMs = 20_000): CommandResult {
  // C locale: the messages are matched (mount's "busy")
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, LC_ALL: 'C' } });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}`.trim();
  return { ok: r.status === 0 && !r.error, out };
}

/** Run a command that must succeed. */
export function must(cmd: string, args: string[]): void {
  const r = run(cmd, args);
  if (!r.ok) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.out}`);
}

/** Whether this run may skip a scenario whose privileges are missing: never under CI=true as root. */
export function mustRun(): boolean {
  return process.env.CI === 'true' && process.getuid?.() === 0;
}

/**
 * A scenario's privilege is missing (`reason`): skip it with the reason printed, except under CI=true as
 * root, where the machine is expected to allow it and the scenario fails instead.
 */
export function unavailable(ctx: Mocha.Context, reason: string): void {
  if (mustRun()) throw new Error(`${reason} (CI=true as root: this scenario must run, not skip)`);
  console.log(`      [skip] ${reason}`);
  ctx.skip();
}

/** Why mounting a tmpfs is impossible here, or null when it works (tried on a scratch directory). */
export function mountProblem(): string | null {
  if (process.platform !== 'linux') return `mounting a tmpfs needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-mount-probe-'));
  try {
    const r = run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]);
    if (!r.ok) return `mount -t tmpfs is not allowed here (${r.out})`;
    run('umount', [dir]);
    return null;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Mount points of this process's namespace (from /proc/self/mountinfo, octal escapes decoded). */
function mountPoints(): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ')[4].replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
}

/** How many mounts are stacked on `dir`. */
export function mountsOn(dir: string): number {
  return mountPoints().filter((m) => m === dir).length;
}

/** Unmount everything stacked on `dir` (lazily when busy); never throws. Returns what went wrong, if anything. */
export function unmountAll(dir: string): string[] {
  const problems: string[] = [];
  for (let i = 0; i < 10 && mountsOn(dir) > 0; i++) {
    const r = run('umount', [dir]);
    if (!r.ok) {
      problems.push(r.out);
      run('umount', ['-l', dir]);
    }
  }
  if (mountsOn(dir) > 0) problems.push(`${dir} is still mounted`);
  return problems;
}

/** A fresh empty directory with a tmpfs of `sizeBytes` mounted on it. */
export function mountTmpfs(prefix: string, sizeBytes: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  must('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0755`, 'tmpfs', dir]);
  return dir;
}

/**
 * Fill the file system of `dir` to its last page with one ballast file: write until ENOSPC (a short
 * write first, then the error). Returns the ballast's path and size.
 */
export function fillDisk(dir: string): { file: string; bytes: number } {
  const file = path.join(dir, 'ballast.bin');
  const fd = fs.openSync(file, 'w');
  let bytes = 0;
  try {
    const chunk = Buffer.alloc(1 << 20, 0x5a);
    for (let size = chunk.length; size >= 512; ) {
      try {
        const n = fs.writeSync(fd, chunk, 0, size);
        bytes += n;
        if (n < size) size = Math.floor(size / 2);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        size = Math.floor(size / 2);
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return { file, bytes };
}

/**
 * Make the mount on `dir` read-only. First as asked of an operator, `mount -o remount,ro` (the whole
 * file system); the kernel refuses that with EBUSY while a file on it is open for writing, and then a
 * read-only bind mount of the same file system is stacked on `dir` instead: every path under `dir`
 * then leads to a read-only mount (EROFS on open for writing, create, rename), while the handles opened
 * before stay on the writable mount below. Returns how it was done, for {@link makeWritable}.
 */
export function makeReadOnly(dir: string): 'remount' | 'bind' {
  const r = run('mount', ['-o', 'remount,ro', dir]);
  if (r.ok) return 'remount';
  if (!/busy/i.test(r.out)) throw new Error(`mount -o remount,ro ${dir} failed: ${r.out}`);
  must('mount', ['--bind', dir, dir]);
  must('mount', ['-o', 'remount,bind,ro', dir]);
  return 'bind';
}

/** Undo {@link makeReadOnly}: the file system (or the bind mount stacked on it) writable again. */
export function makeWritable(dir: string, how: 'remount' | 'bind'): void {
  must('mount', ['-o', how === 'remount' ? 'remount,rw' : 'remount,bind,rw', dir]);
}

/** An unprivileged user to run Node-RED as. */
export interface User {
  name: string;
  uid: number;
  gid: number;
  /** Made by {@link unprivilegedUser} (remove it with {@link removeUser}). */
  made: boolean;
}

/** `nobody`, else a system user made for these tests; null when neither can be had. */
export function unprivilegedUser(): User | null {
  const look = (name: string, made: boolean): User | null => {
    const u = run('id', ['-u', name]);
    const g = run('id', ['-g', name]);
    return u.ok && g.ok && Number(u.out) !== 0 ? { name, uid: Number(u.out), gid: Number(g.out), made } : null;
  };
  const nobody = look('nobody', false);
  if (nobody) return nobody;
  const own = 'smoke-test-nr';
  const existing = look(own, false);
  if (existing) return existing;
  run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', own]);
  return look(own, true);
}

/** Remove a user {@link unprivilegedUser} made. */
export function removeUser(user: User): void {
  if (user.made) run('userdel', [user.name]);
}

/** Files Node-RED must read to run the package, relative to the checkout. */
const NEEDED = [path.relative(root, RED_JS), 'package.json', 'dist/nodes/csv-sink/csv-sink.js', 'node_modules/kafkajs/package.json'];

/** Why `user` cannot read the checkout at `checkout` (a probe child as that user), or null. */
function readProblem(user: User, checkout: string): string | null {
  const code = `const fs=require('fs');for(const f of ${JSON.stringify(NEEDED.map((f) => path.join(checkout, f)))})fs.accessSync(f,fs.constants.R_OK)`;
  const r = spawnSync(process.execPath, ['-e', code], { uid: user.uid, gid: user.gid, encoding: 'utf8', timeout: 20_000, cwd: os.tmpdir() });
  if (r.error) return r.error.message;
  return r.status === 0 ? null : (r.stderr || `exit ${r.status}`).split('\n').find((l) => /Error/.test(l)) ?? `exit ${r.status}`;
}

/**
 * Where `user` can read this checkout: the checkout itself when its path is open to them, else a bind
 * mount of it under a world-readable temporary folder (`mounted`: unmount it afterwards). Null with the
 * reason when neither works.
 */
export function checkoutFor(user: User): { checkout: string; mounted: string | null } | { problem: string } {
  const direct = readProblem(user, root);
  if (direct === null) return { checkout: root, mounted: null };
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-checkout-'));
  fs.chmodSync(base, 0o755);
  const target = path.join(base, 'pkg');
  fs.mkdirSync(target);
  const r = run('mount', ['--bind', root, target]);
  if (!r.ok) {
    fs.rmSync(base, { recursive: true, force: true });
    return { problem: `${user.name} cannot read ${root} (${direct}) and a bind mount of it failed (${r.out})` };
  }
  const viaBind = readProblem(user, target);
  if (viaBind !== null) {
    unmountAll(target);
    fs.rmSync(base, { recursive: true, force: true });
    return { problem: `${user.name} cannot read the checkout, not even through a bind mount (${viaBind})` };
  }
  return { checkout: target, mounted: target };
}

/** chown -R (symbolic links themselves, not their targets). */
export function chownTree(dir: string, user: User): void {
  fs.lchownSync(dir, user.uid, user.gid);
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) chownTree(p, user);
    else fs.lchownSync(p, user.uid, user.gid);
  }
}
