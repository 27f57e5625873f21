import type { Reading } from '../../nodes/lib/types';

/** A reading of device `d1` at t = 1,000 ms with every sensor null, then `values`: where the detector unit tests start. */
export function reading(values: Partial<Reading> = {}): Reading {
  return {
    deviceId: 'd1',
    timestamp: 1_000,
    temperature: null,
    humidity: null,
    tvoc: null,
    eco2: null,
    rawH2: null,
    rawEthanol: null,
    pressure: null,
    pm1_0: null,
    pm2_5: null,
    nc0_5: null,
    nc1_0: null,
    nc2_5: null,
    cnt: null,
    fireAlarm: null,
    ...values,
  };
}

/** A quiet reading of device `d1` (every sensor at an unremarkable value), then `values`: no detector alerts on it. */
export function quietReading(values: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    deviceId: 'd1',
    timestamp: 1_654_712_187_000,
    temperature: 20,
    humidity: 50,
    tvoc: 0,
    eco2: 400,
    rawH2: 12000,
    rawEthanol: 19000,
    pressure: 935,
    pm1_0: 0,
    pm2_5: 0,
    nc0_5: 0,
    nc1_0: 0,
    nc2_5: 0,
    cnt: 0,
    fireAlarm: 0,
    ...values,
  };
}
