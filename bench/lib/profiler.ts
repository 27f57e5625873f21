/**
 * CPU profile of the measured interval only (the same .cpuprofile format `node --cpu-prof` writes, but
 * without process startup, module loading and Node-RED's start, which --cpu-prof would include), and
 * beside it a sampled allocation profile of the same interval (`.heapprofile`, the format DevTools'
 * "Allocation sampling" saves): every allocation is sampled, also the objects a scavenge or a
 * mark-compact collected, so it shows where the bytes per reading are allocated, not what is live.
 */
import fs from 'node:fs';
import { Session } from 'node:inspector';

export interface IntervalProfiler {
  /** Starts sampling (idempotent). */
  start(): void;
  /**
   * Stops sampling and writes the CPU profile to `file` and the allocation profile next to it (the
   * same name ending in .heapprofile); resolves with the CPU profile's file, or undefined if never started.
   */
  stop(file: string): Promise<string | undefined>;
}

/** The allocation profile's file beside a CPU profile's. */
export function heapProfileOf(cpuProfile: string): string {
  return cpuProfile.replace(/\.cpuprofile$/, '') + '.heapprofile';
}

/** Mean bytes between two allocation samples (V8's default is 32 KiB; finer, for runs of a few seconds). */
const HEAP_SAMPLING_BYTES = 8 * 1024;

export function intervalProfiler(samplingIntervalUs = 500): IntervalProfiler {
  const session = new Session();
  session.connect();
  let started: Promise<void> | undefined;
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res))));
  return {
    start() {
      started ??= post('Profiler.enable')
        .then(() => post('Profiler.setSamplingInterval', { interval: samplingIntervalUs }))
        .then(() => post('Profiler.start'))
        .then(() => post('HeapProfiler.enable'))
        .then(() =>
          post('HeapProfiler.startSampling', {
            samplingInterval: HEAP_SAMPLING_BYTES,
            includeObjectsCollectedByMajorGC: true,
            includeObjectsCollectedByMinorGC: true,
          }),
        )
        .then(() => undefined);
    },
    async stop(file) {
      if (!started) return undefined;
      await started;
      const res = (await post('Profiler.stop')) as { profile: unknown };
      const heap = (await post('HeapProfiler.stopSampling')) as { profile: unknown };
      session.disconnect();
      fs.writeFileSync(file, JSON.stringify(res.profile));
      fs.writeFileSync(heapProfileOf(file), JSON.stringify(heap.profile));
      return file;
    },
  };
}
