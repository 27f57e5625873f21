/**
 * CPU profile of the measured interval only (the same .cpuprofile format `node --cpu-prof` writes, but
 * without process startup, module loading and Node-RED's start, which --cpu-prof would include).
 */
import fs from 'node:fs';
import { Session } from 'node:inspector';

export interface IntervalProfiler {
  /** Starts sampling (idempotent). */
  start(): void;
  /** Stops sampling and writes the profile to `file`; resolves with the file, or undefined if never started. */
  stop(file: string): Promise<string | undefined>;
}

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
        .then(() => undefined);
    },
    async stop(file) {
      if (!started) return undefined;
      await started;
      const res = (await post('Profiler.stop')) as { profile: unknown };
      session.disconnect();
      fs.writeFileSync(file, JSON.stringify(res.profile));
      return file;
    },
  };
}
