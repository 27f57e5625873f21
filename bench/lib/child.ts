/**
 * Each measured configuration runs in a child process of its own: a fresh heap, a fresh JIT, and an
 * honest peak RSS. The parent forks `bench/scenarios/<name>.ts` (through tsx) with the configuration as
 * JSON in argv[2]; the child answers with one IPC message `{ ok, result | error, memory }`.
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';

export interface MemoryPeak {
  /** Peak resident set size (the kernel's maxrss), MB. */
  peakRssMB: number;
  /** Highest sampled V8 heap in use, MB (sampled every 50 ms). */
  peakHeapMB: number;
}

export interface ChildOutcome<T> {
  ok: boolean;
  result?: T;
  error?: string;
  memory?: MemoryPeak;
  wallMs: number;
  profile?: string;
}

interface ChildMessage<T> {
  ok: boolean;
  result?: T;
  error?: string;
  memory: MemoryPeak;
}

const MB = 1024 * 1024;

export interface RunOptions {
  timeoutMs: number;
  /**
   * Where the child writes a CPU profile of its measured interval (BENCH_PROFILE in its environment;
   * the scenario starts and stops the profiler, see lib/profiler.ts).
   */
  profileFile?: string;
}

export function runScenario<T>(scenario: string, config: unknown, opts: RunOptions): Promise<ChildOutcome<T>> {
  const file = path.join(__dirname, '..', 'scenarios', `${scenario}.ts`);
  // tsx's CommonJS hook only: `--import tsx` also starts a loader worker thread (~45 MB of RSS that
  // would be counted against the pipeline).
  const execArgv = ['--require', 'tsx/cjs', '--expose-gc', ...(process.env.BENCH_V8_FLAGS ? process.env.BENCH_V8_FLAGS.split(' ') : [])];
  const t0 = performance.now();
  return new Promise((resolve) => {
    const env = { ...process.env };
    if (opts.profileFile) env.BENCH_PROFILE = opts.profileFile;
    else delete env.BENCH_PROFILE;
    const child = fork(file, [JSON.stringify(config)], { execArgv, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let msg: ChildMessage<T> | undefined;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.on('message', (m) => {
      msg = m as ChildMessage<T>;
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const wallMs = performance.now() - t0;
      const profile = opts.profileFile && fs.existsSync(opts.profileFile) ? opts.profileFile : undefined;
      if (msg) {
        resolve({ ok: msg.ok, result: msg.result, error: msg.error, memory: msg.memory, wallMs, profile });
      } else {
        const why = timedOut ? `timed out after ${Math.round(opts.timeoutMs / 1000)} s` : `exited with ${signal ?? code} before reporting`;
        resolve({ ok: false, error: why, wallMs });
      }
    });
  });
}

/** Child side: runs `main(config)`, reports the result and the memory peaks, then exits. */
export function scenarioMain<C, T>(main: (config: C) => Promise<T>): void {
  const config = JSON.parse(process.argv[2] ?? '{}') as C;
  let peakHeap = 0;
  // v8's heap statistics are cheap; process.memoryUsage() reads /proc and shows up in profiles.
  const sample = () => {
    const h = v8.getHeapStatistics().used_heap_size;
    if (h > peakHeap) peakHeap = h;
  };
  const sampler = setInterval(sample, 50);
  sampler.unref();
  const memory = (): MemoryPeak => {
    sample();
    return { peakRssMB: process.resourceUsage().maxRSS / 1024, peakHeapMB: peakHeap / MB };
  };
  const finish = (m: ChildMessage<T>) => {
    clearInterval(sampler);
    // Exit only once the message is out: the parent reads nothing else from us.
    process.send?.(m, () => process.exit(m.ok ? 0 : 1));
    if (!process.send) {
      console.log(JSON.stringify(m));
      process.exit(m.ok ? 0 : 1);
    }
  };
  main(config).then(
    (result) => finish({ ok: true, result, memory: memory() }),
    (err: unknown) => finish({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err), memory: memory() }),
  );
}

/**
 * Memory retained after a full collection (needs --expose-gc), MB: the V8 heap plus external memory
 * (typed-array backing stores live outside the heap: the z-score windows are Float64Arrays).
 */
export function retainedMB(): { heap: number; external: number } {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
  const m = process.memoryUsage();
  return { heap: m.heapUsed / MB, external: m.external / MB };
}

export function currentRssMB(): number {
  return process.memoryUsage().rss / MB;
}
