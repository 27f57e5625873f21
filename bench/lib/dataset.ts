/**
 * The bench's readings: the real Kaggle file, cycled, re-keyed to devices 1…D and re-timed so each
 * device sends a plausible 1 Hz event-time stream (so sliding windows close), shaped as the seed
 * producer sends them (JSON with the Kaggle headers plus `device_id`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { SENSOR_FIELDS } from '../../nodes/lib/sensor-fields';

/** Relative to bench/ (and bench/lib, bench/scenarios resolve it through this module). */
export const DATA_FILE = path.resolve(__dirname, '../../../shared/data/smoke_detection_iot.csv');

/** The Kaggle columns after the unnamed row index and UTC, in file order. */
export const SENSOR_HEADERS: readonly string[] = SENSOR_FIELDS.map((f) => f.header);

/** First event time of every device: 2022-06-09T00:00:00Z (unix seconds, a whole minute). */
export const T0_SECONDS = 1_654_732_800;

/** Spreads the devices' starting rows over the file, so devices do not replay the same trace in step. */
const DEVICE_STRIDE = 7_919;

export interface Dataset {
  rows: number;
  /** Column-major sensor values: columns[c][row]. */
  columns: Float64Array[];
}

let cached: Dataset | undefined;

export function loadDataset(file = DATA_FILE): Dataset {
  if (cached) return cached;
  if (!fs.existsSync(file)) throw new Error(`data file not found: ${file} (the bench reads ../shared/data beside the repository)`);
  const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/).filter((l) => l.length > 0);
  const header = lines[0].split(',');
  const idx = SENSOR_HEADERS.map((h) => {
    const i = header.indexOf(h);
    if (i < 0) throw new Error(`data file has no column ${h}`);
    return i;
  });
  const rows = lines.length - 1;
  const columns = SENSOR_HEADERS.map(() => new Float64Array(rows));
  for (let r = 0; r < rows; r++) {
    const cells = lines[r + 1].split(',');
    for (let c = 0; c < idx.length; c++) columns[c][r] = Number(cells[idx[c]]);
  }
  cached = { rows, columns };
  return cached;
}

/** Device of the n-th reading (0-based): readings are interleaved round-robin over the devices. */
export function deviceOf(n: number, devices: number): number {
  return (n % devices) + 1;
}


/** Key of a reading for latency bookkeeping: the alert carries the same deviceId and timestamp (ms). */
export function readingKey(deviceId: string, timestampMs: number): string {
  return `${deviceId}|${timestampMs}`;
}

/**
 * The n-th reading as the seed sends it (a fresh object, as JSON.parse would give one). The i-th
 * reading of a device has event time T0 + i × stepSeconds (1 Hz unless the memory sweep asks for
 * larger steps, to reach steady-state window panes with fewer readings).
 */
export function readingAt(ds: Dataset, n: number, devices: number, stepSeconds = 1): Record<string, number | string> {
  const d = deviceOf(n, devices);
  const i = Math.floor(n / devices);
  const row = (d * DEVICE_STRIDE + i) % ds.rows;
  const c = ds.columns;
  return {
    UTC: T0_SECONDS + i * stepSeconds,
    'Temperature[C]': c[0][row],
    'Humidity[%]': c[1][row],
    'TVOC[ppb]': c[2][row],
    'eCO2[ppm]': c[3][row],
    'Raw H2': c[4][row],
    'Raw Ethanol': c[5][row],
    'Pressure[hPa]': c[6][row],
    'PM1.0': c[7][row],
    'PM2.5': c[8][row],
    'NC0.5': c[9][row],
    'NC1.0': c[10][row],
    'NC2.5': c[11][row],
    CNT: c[12][row],
    'Fire Alarm': c[13][row],
    device_id: String(d),
  };
}
