/**
 * The sensor cells of a historical readings row (CONTRACT §8): one per row of the sensor table, in table
 * order, each followed by a comma, as text ({@link sensorCells}) and as bytes ({@link writeSensorCells}).
 * Compiled from the table (sensor-code.ts says why: a row is written for every reading).
 */
import { numberText } from './number-text';
import { NULL_CELL, cell } from './csv-cells';
import type { CsvBytes } from './csv-bytes';
import { SENSOR_KEYS } from './sensor-fields';
import { compile, prop } from './sensor-code';
import type { Reading } from './types';

/** A sensor's cell: a number is written as is, null → NULL; anything else (not canonical) as a cell. */
function sensorCell(v: unknown): string {
  return typeof v === 'number' ? numberText(v) : v === null ? NULL_CELL : cell(v);
}

/** The sensor cells of a reading, each followed by `,` (`20.5,46.1,…,0,`). */
export const sensorCells = compile<(cellOf: (v: unknown) => string) => (r: Reading) => string>(
  'csv-sensor-cells',
  ['cellOf'],
  `return function sensorCells(r) {
  return (
${SENSOR_KEYS.map((k) => `    cellOf(${prop('r', k)}) + ','`).join(' +\n')}
  );
};`,
)(sensorCell);

/** {@link sensorCells} as UTF-8 bytes appended to `out` (each value with {@link CsvBytes.sensor}). */
export const writeSensorCells = compile<() => (r: Reading, out: CsvBytes) => void>(
  'csv-write-sensor-cells',
  [],
  `return function writeSensorCells(r, out) {
${SENSOR_KEYS.map((k) => `  out.sensor(${prop('r', k)}, 44);`).join('\n')}
};`,
)();
