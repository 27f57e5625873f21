/**
 * The fetch sizes of `kafka in`'s consumer: how many bytes one fetch may return in all and per
 * partition (kafkajs `maxBytes`, `maxBytesPerPartition`). Larger fetches mean fewer round trips and
 * larger batches for the batch mode; they also bound the memory one fetch response takes.
 *
 * Measured (issue 17, 1,000,000 readings over 1,000 devices on 4 partitions, the project's broker on
 * the same 2 cores, a raw kafkajs consumer parsing every record): kafkajs' defaults of 10 MB / 1 MB
 * gave 102k–123k readings/s, 50 MB / 10 MB 168k–195k. A partition's share is what limits a fetch when
 * few partitions are assigned (1 MB is about 2,600 readings), so the per-partition size matters most;
 * the total bounds the response buffer (one per broker) and so the peak memory.
 */

/** Fetch sizes: total bytes of one fetch (kafkajs `maxBytes`) and per partition (`maxBytesPerPartition`). */
export interface FetchSizes {
  maxBytes: number;
  maxBytesPerPartition: number;
}

/** kafkajs' own defaults: 10 MB, 1 MB per partition. */
export const FETCH_SMALL: Readonly<FetchSizes> = Object.freeze({ maxBytes: 10 * 1024 * 1024, maxBytesPerPartition: 1024 * 1024 });
/** Large fetches: 50 MB, 10 MB per partition. */
export const FETCH_LARGE: Readonly<FetchSizes> = Object.freeze({ maxBytes: 50 * 1024 * 1024, maxBytesPerPartition: 10 * 1024 * 1024 });

/**
 * The default fetch sizes of a `kafka in` mode. Measured with `npm run bench -- --only client,pipeline
 * --readings 300000` (2026-12-07, load average 2–7, two runs each; readings/s, readings per CPU-second,
 * peak RSS):
 *
 * | fetch sizes | client ceiling | pipeline, batch | pipeline, single |
 * |---|---|---|---|
 * | 10 MB / 1 MB | 94k, 90k /s; 150 MB | 53k, 47k /s; 57k, 54k /CPU-s; 313 MB | 12.3k, 12.2k /s; 394 MB |
 * | 20 MB / 4 MB | 168k, 124k /s; 246 MB | 45k, 62k /s; 63k, 57k /CPU-s; 402 MB | 11.0k, 10.4k /s; 469 MB |
 * | 50 MB / 10 MB | 171k, 156k /s; 335 MB | 53k, 65k /s; 67k, 72k /CPU-s; 507 MB | 13.1k, 13.5k /s; 690 MB |
 *
 * Batch mode turns a large fetch into large batches and gains about a quarter in readings per
 * CPU-second; single mode sends one message per record whatever the fetch and gains nothing, but holds
 * a whole fetch's messages at once (300 MB more). So batch mode fetches large, single mode as kafkajs does.
 */
export function defaultFetchSizes(mode: 'single' | 'batch'): Readonly<FetchSizes> {
  return mode === 'batch' ? FETCH_LARGE : FETCH_SMALL;
}

/**
 * The problem of a pair of fetch sizes, or none: a partition's share may not exceed the whole fetch.
 * (Each size's own bounds, a whole number >= 1024, are checked where the settings are read.)
 */
export function fetchSizeProblems(maxBytes: number, perPartition: number): string[] {
  return perPartition > maxBytes ? [`fetch max bytes per partition (${perPartition}) must not exceed fetch max bytes (${maxBytes})`] : [];
}
