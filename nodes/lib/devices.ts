/**
 * The one rule for a reading's device (CONTRACT §2, deviceId row), shared by every node that keeps
 * per-device state (detectors, sliding window) and by sensor validate's fallbacks, so that one reading is
 * one device everywhere.
 */

/** The `deviceId` when neither the input nor a fallback gives one. */
export const DEFAULT_DEVICE_ID = 'default';

/**
 * Devices whose state a node keeps by default (detectors and sliding window alike): the least recently
 * used is evicted beyond it; `0` means unbounded.
 */
export const DEFAULT_MAX_DEVICES = 10_000;

/**
 * The device key of a `deviceId` value: non-empty text as is; a safe integer as its decimal text (as
 * sensor validate turns `42` into `"42"`); anything else (absent, `""`, a fraction, NaN) is
 * {@link DEFAULT_DEVICE_ID}. Readings from sensor validate always carry text, so this only decides for
 * readings that skipped validation.
 */
export function deviceKey(id: unknown): string {
  if (typeof id === 'string') return id !== '' ? id : DEFAULT_DEVICE_ID;
  return typeof id === 'number' && Number.isSafeInteger(id) ? String(id) : DEFAULT_DEVICE_ID;
}
