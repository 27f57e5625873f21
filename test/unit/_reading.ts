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
