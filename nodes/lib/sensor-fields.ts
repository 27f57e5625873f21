/**
 * The sensor table: one row per numeric sensor of CONTRACT §2 (canonical key, Kaggle header, unit,
 * range, integer or not, fill default), from which the validators and the CSV layouts take their
 * ranges, defaults, messages and headers.
 */
import type { SensorKey } from './types';

/** Definition of one numeric sensor: both key spellings, the valid range and the fill default. */
export interface SensorField {
  key: SensorKey;
  /** Kaggle column header, also accepted on input. */
  header: string;
  unit: string;
  /** Inclusive lower bound. */
  min: number;
  /** Inclusive upper bound (`Infinity`: none). */
  max: number;
  /** Value must be a safe integer. */
  integer: boolean;
  /** Default used by `missing: 'fill'` and `outOfRange: 'replace'`. */
  fill: number;
}

// One constant per field: the hot path (reading-validator.ts) refers to them by name (a lookup
// object keyed by sensor would be in dictionary mode with 14 keys).
export const F_TEMPERATURE: SensorField = { key: 'temperature', header: 'Temperature[C]', unit: '°C', min: -50, max: 100, integer: false, fill: 20.0 };
export const F_HUMIDITY: SensorField = { key: 'humidity', header: 'Humidity[%]', unit: '%', min: 0, max: 100, integer: false, fill: 50.0 };
export const F_TVOC: SensorField = { key: 'tvoc', header: 'TVOC[ppb]', unit: 'ppb', min: 0, max: Infinity, integer: false, fill: 0 };
export const F_ECO2: SensorField = { key: 'eco2', header: 'eCO2[ppm]', unit: 'ppm', min: 0, max: Infinity, integer: false, fill: 400 };
export const F_RAW_H2: SensorField = { key: 'rawH2', header: 'Raw H2', unit: 'raw', min: 0, max: Infinity, integer: false, fill: 0 };
export const F_RAW_ETHANOL: SensorField = { key: 'rawEthanol', header: 'Raw Ethanol', unit: 'raw', min: 0, max: Infinity, integer: false, fill: 0 };
export const F_PRESSURE: SensorField = { key: 'pressure', header: 'Pressure[hPa]', unit: 'hPa', min: 800, max: 1200, integer: false, fill: 1013.25 };
export const F_PM1_0: SensorField = { key: 'pm1_0', header: 'PM1.0', unit: 'µg/m³', min: 0, max: Infinity, integer: false, fill: 0 };
export const F_PM2_5: SensorField = { key: 'pm2_5', header: 'PM2.5', unit: 'µg/m³', min: 0, max: Infinity, integer: false, fill: 0 };
export const F_NC0_5: SensorField = { key: 'nc0_5', header: 'NC0.5', unit: '#/cm³', min: 0, max: Infinity, integer: false, fill: 0 };
export const F_NC1_0: SensorField = { key: 'nc1_0', header: 'NC1.0', unit: '#/cm³', min: 0, max: Infinity, integer: false, fill: 0 };
export const F_NC2_5: SensorField = { key: 'nc2_5', header: 'NC2.5', unit: '#/cm³', min: 0, max: Infinity, integer: false, fill: 0 };
export const F_CNT: SensorField = { key: 'cnt', header: 'CNT', unit: 'counter', min: 0, max: Infinity, integer: true, fill: 0 };
export const F_FIRE_ALARM: SensorField = { key: 'fireAlarm', header: 'Fire Alarm', unit: '0/1', min: 0, max: 1, integer: true, fill: 0 };

/** The 14 numeric sensors of CONTRACT §2, in the order of the data file's columns. */
export const SENSOR_FIELDS: readonly SensorField[] = [
  F_TEMPERATURE,
  F_HUMIDITY,
  F_TVOC,
  F_ECO2,
  F_RAW_H2,
  F_RAW_ETHANOL,
  F_PRESSURE,
  F_PM1_0,
  F_PM2_5,
  F_NC0_5,
  F_NC1_0,
  F_NC2_5,
  F_CNT,
  F_FIRE_ALARM,
];

/** Canonical key → Kaggle header, for every field that has one (CONTRACT §2). */
export const KAGGLE_HEADERS: Readonly<Record<string, string>> = {
  deviceId: 'device_id',
  timestamp: 'UTC',
  ...Object.fromEntries(SENSOR_FIELDS.map((f) => [f.key, f.header])),
  location: 'location',
};
