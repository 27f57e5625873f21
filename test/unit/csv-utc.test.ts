import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { READINGS_HEADER, WINDOW_COLUMNS, layoutFor, windowColumnsOf, type CsvLayout, type CsvPreset } from '../../nodes/lib/csv-layouts';
import { CsvFormatter } from '../../nodes/lib/csv-formatter';
import { rejectRows } from '../../nodes/lib/csv-rejects';
import { UtcTexts, utcText, withUtcColumns } from '../../nodes/lib/csv-utc';

/** The one readable form of every readable time column: `YYYY-MM-DD HH:MM:SS`, UTC. */
const READABLE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

/** The file `layout` writes for `items` (header and rows, through the formatter as the sink does), read back by header. */
function written(layout: CsvLayout, items: object[]): Record<string, string>[] {
  const text = layout.header + '\n' + new CsvFormatter(layout, false).format(items, 0).map((c) => c.text).join('');
  const [header, ...rows] = parse(text) as string[][];
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
}

const header = (preset: CsvPreset): string[] => parse(layoutFor(preset).header)[0] as string[];

/** What a spreadsheet user reads: the time as `Date` shows it, in the readable form. */
const reference = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19).replace('T', ' ');

const windowResult = {
  deviceId: 'd1', windowStart: Date.UTC(2022, 5, 9, 23, 58), windowEnd: Date.UTC(2022, 5, 10, 0, 3), count: 2, fireAlarmCount: 1,
  avgTemperature: 20.5, avgHumidity: 50, avgTvoc: 0, avgEco2: 400, avgPm25: 1.5, avgPressure: 935, maxTemperature: 21,
  minTemperature: 20, stddevTemperature: 0.5, final: true,
};
const alert = {
  type: 'THRESHOLD', severity: 'HIGH', sensor: 'temperature', value: 55, threshold: 50, message: 'temperature 55 > 50',
  deviceId: 'd1', timestamp: Date.UTC(2022, 5, 8, 18, 16, 27, 123),
};

describe('csv > readable UTC times', function () {
  it('gives windows, alerts and rejects a readable UTC column per time, in the one form spreadsheets open as a date', function () {
    // Windows: the epoch-ms key columns stay (machines read them), each followed by its readable twin.
    const wh = header('windows');
    assert.deepEqual(wh.slice(0, 5), ['deviceId', 'windowStart', 'windowStartUtc', 'windowEnd', 'windowEndUtc']);
    const [w] = written(layoutFor('windows'), [windowResult]);
    assert.equal(w.windowStart, String(windowResult.windowStart));
    assert.equal(w.windowStartUtc, '2022-06-09 23:58:00');
    assert.equal(w.windowEnd, String(windowResult.windowEnd));
    assert.equal(w.windowEndUtc, '2022-06-10 00:03:00');
    // Alerts: the timestamp stays epoch ms, timestampUtc beside it (milliseconds cut: the second it falls in).
    const ah = header('alerts');
    assert.equal(ah[ah.indexOf('timestamp') + 1], 'timestampUtc');
    const [a] = written(layoutFor('alerts'), [alert]);
    assert.equal(a.timestamp, String(alert.timestamp));
    assert.equal(a.timestampUtc, '2022-06-08 18:16:27');
    // Rejects: their one time (processing time) in the same form, named as UTC.
    assert.equal(header('rejects')[0], 'timeUtc');
    const [r] = written(layoutFor('rejects'), rejectRows({ payload: 'x', error: 'bad' }, Date.UTC(2024, 0, 2, 3, 4, 5, 678)));
    assert.equal(r.timeUtc, '2024-01-02 03:04:05');
    // Every file: each readable column's header says UTC, and holds the one form.
    for (const [row, names] of [[w, ['windowStartUtc', 'windowEndUtc']], [a, ['timestampUtc']], [r, ['timeUtc']]] as const) {
      for (const n of names) assert.match(row[n], READABLE, n);
    }
    for (const p of ['windows', 'alerts', 'rejects'] as const) assert.ok(header(p).some((h) => h.endsWith('Utc')), p);
  });

  it('keeps the readings header of CONTRACT §8 byte for byte: UTC epoch seconds first, no column added', function () {
    assert.equal(
      layoutFor('readings').header,
      'UTC,Temperature[C],Humidity[%],TVOC[ppb],eCO2[ppm],Raw H2,Raw Ethanol,Pressure[hPa],PM1.0,PM2.5,NC0.5,NC1.0,NC2.5,CNT,Fire Alarm,device_id',
    );
    assert.equal(READINGS_HEADER.length, 16);
  });

  it('writes the second a time falls in, NULL for null, and an empty cell for no time', function () {
    assert.equal(utcText(Date.UTC(2022, 5, 8, 18, 16, 27, 999)), '2022-06-08 18:16:27', 'milliseconds cut, not rounded');
    assert.equal(utcText(0), '1970-01-01 00:00:00');
    assert.equal(utcText(-1), '1969-12-31 23:59:59', 'before 1970: still the second it falls in');
    assert.equal(utcText(Date.UTC(2024, 1, 29, 23, 59, 59)), '2024-02-29 23:59:59');
    assert.equal(utcText('2022-06-08T18:16:27.5Z'), '2022-06-08 18:16:27', 'ISO-8601 text (custom preset)');
    assert.equal(utcText('1654712187000'), '2022-06-08 18:16:27', 'numeric text is epoch ms');
    assert.equal(utcText(new Date(Date.UTC(2022, 0, 2))), '2022-01-02 00:00:00');
    assert.equal(utcText(null), 'NULL');
    for (const none of [undefined, 'soon', NaN, Infinity, true, {}, 8.64e15, Date.UTC(10000, 0, 1)]) assert.equal(utcText(none), '', String(none));
    assert.equal(utcText(new Date(0).setUTCFullYear(0, 0, 1)), '0000-01-01 00:00:00');
    assert.equal(utcText(Date.UTC(9999, 11, 31, 23, 59, 59, 999)), '9999-12-31 23:59:59');
  });

  it('caches texts by second: the same text as utcText for any time, in any order', function () {
    const cache = new UtcTexts();
    const min = new Date(0).setUTCFullYear(0, 0, 1);
    const max = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.integer({ min, max }),
            // Near each other: the repeats and slot collisions (1024 s apart) of a stream.
            fc.integer({ min: 0, max: 4096 }).map((k) => Date.UTC(2022, 5, 9) + k * 1000 + (k % 7) * 100),
            fc.integer({ min: 0, max: 3 }).map((k) => Date.UTC(2022, 5, 9) + k * 1024 * 1000),
            fc.double(),
            fc.constantFrom(null, undefined, '2022-06-08T18:16:27Z', 'x', min - 1, max + 1),
          ),
        ),
        (times) => {
          for (const t of times) assert.equal(cache.text(t), utcText(t), String(t));
        },
      ),
      { numRuns: 300 },
    );
    for (let s = 0; s < 5000; s += 7) {
      const t = Date.UTC(2022, 5, 9, 23, 30) + s * 1000;
      assert.equal(cache.text(t), reference(t));
    }
  });

  it('adds the readable columns to a window result with configured aggregates, once', function () {
    const custom = { deviceId: 'd1', windowStart: 0, windowEnd: 60_000, count: 2, maxPm25: 7, final: true };
    const cols = windowColumnsOf(custom);
    assert.deepEqual(cols, ['deviceId', 'windowStart', 'windowStartUtc', 'windowEnd', 'windowEndUtc', 'count', 'maxPm25', 'final']);
    assert.equal(layoutFor('windows', cols).line(custom), 'd1,0,1970-01-01 00:00:00,60000,1970-01-01 00:01:00,2,7,true');
    assert.deepEqual(withUtcColumns(['a', 'aUtc', 'b'], ['a', 'b']), ['a', 'aUtc', 'b', 'bUtc'], 'a column of that name is not added twice');
    assert.deepEqual(windowColumnsOf(Object.fromEntries(WINDOW_COLUMNS.map((k) => [k, 0]))), WINDOW_COLUMNS);
  });

  it('offers the readable form in custom columns: <key>Utc shows the time of <key> unless the item has its own <key>Utc', function () {
    const layout = layoutFor('custom', ['deviceId', 'timestamp', 'timestampUtc', 'seenUtc', 'Utc']);
    assert.equal(layout.line({ deviceId: 'd', timestamp: Date.UTC(2022, 0, 2, 3, 4, 5), seen: '2022-01-02T03:04:06Z', Utc: 1 }), 'd,1641092645000,2022-01-02 03:04:05,2022-01-02 03:04:06,1');
    assert.equal(layout.line({ deviceId: 'd', timestamp: 1, timestampUtc: 'mine' }), 'd,1,mine,,', 'an own key wins; no time, no text');
  });
});
