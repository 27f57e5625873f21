/**
 * Feeds a bench-source node at full speed with a bounded number of records in flight, the way a
 * consumer with back-pressure would: send while fewer than `maxInFlight` records have not yet reached
 * the tap at the end, then yield one event-loop turn so Node-RED delivers (it delivers asynchronously,
 * one hop per turn).
 */
import type { SourceNode, TapState } from './nodered';
import { nextTurn } from './stats';

export interface PumpResult {
  records: number;
  messages: number;
  /** First send to the last record at the tap, ms. */
  elapsedMs: number;
  recordsPerSec: number;
  messagesPerSec: number;
  /** CPU time (user + system) of this process over the timed interval, ms. */
  cpuMs: number;
  /** Records per CPU-second: less sensitive than records/s to other work on a shared machine. */
  recordsPerCpuSec: number;
}

export async function pump(
  source: SourceNode,
  tap: TapState,
  total: number,
  perMsg: number,
  makeMsg: (start: number, count: number) => Record<string, unknown>,
  maxInFlight: number,
  timeoutMs = 600_000,
): Promise<PumpResult> {
  const baseRecords = tap.records;
  let sent = 0;
  let messages = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const deadline = t0 + timeoutMs;
  while (tap.records - baseRecords < total) {
    const inFlight = sent - (tap.records - baseRecords);
    let room = maxInFlight - inFlight;
    while (room > 0 && sent < total) {
      const n = Math.min(perMsg, total - sent);
      source.send(makeMsg(sent, n));
      sent += n;
      room -= n;
      messages++;
    }
    await nextTurn();
    if (performance.now() > deadline) throw new Error(`pump: ${tap.records - baseRecords} of ${total} records arrived within ${timeoutMs} ms`);
  }
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return {
    records: total,
    messages,
    elapsedMs,
    recordsPerSec: (total / elapsedMs) * 1000,
    messagesPerSec: (messages / elapsedMs) * 1000,
    cpuMs,
    recordsPerCpuSec: (total / cpuMs) * 1000,
  };
}
