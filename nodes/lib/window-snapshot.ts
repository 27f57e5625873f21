/**
 * The checkpoint format of the sliding windows: every device's state, JSON-safe, and the check that a
 * value is one before anything is replaced. Framework-free.
 */

/** A checkpoint of every device's state (JSON-safe; panes as base64 of little-endian doubles). */
export interface WindowSnapshot {
  v: 1;
  /** Slide, size, arrival flag and pane layout: a snapshot only restores into the same shape. */
  sig: string;
  /** `[deviceId, maxT, nextWin, nextProv, lo, panes]`, least recently used device first. */
  devices: [string, number | null, number | null, number | null, number, string][];
}

/** A number, or null for ±Infinity / NaN (JSON has neither). */
export function finiteOrNull(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** A well-formed snapshot whose panes have `stride` doubles each (checked before anything is replaced). */
export function isSnapshot(s: unknown, stride: number): s is WindowSnapshot {
  if (typeof s !== 'object' || s === null) return false;
  const o = s as WindowSnapshot;
  if (o.v !== 1 || typeof o.sig !== 'string' || !Array.isArray(o.devices)) return false;
  const num = (x: unknown): boolean => x === null || (typeof x === 'number' && Number.isFinite(x));
  return o.devices.every(
    (d) =>
      Array.isArray(d) &&
      typeof d[0] === 'string' &&
      num(d[1]) &&
      num(d[2]) &&
      num(d[3]) &&
      Number.isInteger(d[4]) &&
      typeof d[5] === 'string' &&
      BASE64.test(d[5]) &&
      Buffer.byteLength(d[5], 'base64') % (stride * 8) === 0,
  );
}
