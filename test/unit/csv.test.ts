import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import {
  ALERT_COLUMNS,
  READINGS_HEADER,
  WINDOW_COLUMNS,
  WINDOW_KEYS,
  layoutFor,
  parseColumns,
  windowColumnsOf,
} from '../../nodes/lib/csv-layouts';
import { CsvBytes } from '../../nodes/lib/csv-bytes';
import { CsvFormatter, CsvRowError } from '../../nodes/lib/csv-formatter';
import {
  DEFAULT_FILE_PATTERN,
  checkRelativeName,
  dayDate,
  fileName,
  utcDay,
} from '../../nodes/lib/csv-files';
import {
  cell,
  controlFree,
  formatLine,
  neutralise,
  quote,
  restoreText,
  utcSeconds,
} from '../../nodes/lib/csv-cells';
import { rejectRows } from '../../nodes/lib/csv-rejects';
import type { Reading } from '../../nodes/lib/types';
import { loadReadings } from '../fixtures/csv-readings';

/** csv-parse that keeps an unquoted NULL apart from the quoted text "NULL" (CONTRACT §8). */
function parseCsv(text: string): (string | null)[][] {
  return parse(text, { cast: (v: string, ctx: { quoting: boolean }) => (!ctx.quoting && v === 'NULL' ? null : v) });
}

const reading = (over: Partial<Reading> = {}): Reading => ({
  deviceId: 'dev-1',
  timestamp: 1654733331000,
  temperature: 20,
  humidity: 57.36,
  tvoc: 0,
  eco2: 400,
  rawH2: 12306,
  rawEthanol: 18520,
  pressure: 939.735,
  pm1_0: 0,
  pm2_5: 0,
  nc0_5: 0,
  nc1_0: 0,
  nc2_5: 0,
  cnt: 0,
  fireAlarm: 0,
  ...over,
});

/** Text with a good share of the characters CSV and spreadsheets care about. */
const trickyText = fc
  .array(
    fc.oneof(
      fc.constantFrom(',', '"', '\n', '\r', '\r\n', '=', '+', '-', '@', '\t', "'", 'NULL', ' ', 'é', '🔥', '中', '1', '.5', '\0', '\x07', '\x1b', '\x7f', '\x85'),
      fc.string({ maxLength: 4 }),
      fc.string({ unit: 'grapheme', maxLength: 3 }),
    ),
    { maxLength: 8 },
  )
  .map((parts) => parts.join(''));

describe('csv > neutralising formula injection', function () {
  it('prefixes a quote to text starting with = + - @ tab or CR', function () {
    for (const s of ['=SUM(A1)', '+cmd', '-2+3', '@x', '\tx', '\rx']) assert.equal(neutralise(s), "'" + s);
  });

  it('leaves other text, and plain numbers in text form, unchanged', function () {
    for (const s of ['abc', '', ' =x', "'abc", '-5.2', '+3', '-1e-3', '.5']) assert.equal(neutralise(s), s);
  });

  it('never neutralises number values: a negative temperature stays -5.2', function () {
    assert.equal(cell(-5.2), '-5.2');
    assert.equal(layoutFor('readings').line(reading({ temperature: -5.2 })).split(',')[1], '-5.2');
  });

  it('adds one more quote to text already starting with quotes before a trigger, so it can be undone', function () {
    assert.equal(neutralise("'=x"), "''=x");
    assert.equal(restoreText("''=x"), "'=x");
  });

  it('restoreText undoes neutralise for any text', function () {
    fc.assert(fc.property(trickyText, (s) => restoreText(neutralise(s)) === s));
  });
});

describe('csv > RFC 4180 cells', function () {
  it('quotes cells with a comma, quote, CR or LF and doubles quotes', function () {
    assert.equal(quote('a,b'), '"a,b"');
    assert.equal(quote('say "hi"'), '"say ""hi"""');
    assert.equal(quote('a\nb'), '"a\nb"');
    assert.equal(quote('a\rb'), '"a\rb"');
    assert.equal(quote('plain text'), 'plain text');
  });

  it('writes null as NULL, undefined as empty, and quotes the text "NULL"', function () {
    assert.equal(formatLine([null, undefined, 'NULL', 'x']), 'NULL,,"NULL",x');
  });

  it('writes booleans, Dates, arrays and objects readably', function () {
    assert.equal(formatLine([true, false, new Date(0), [1, 2], { a: 1 }]), 'true,false,1970-01-01T00:00:00.000Z,"[1,2]","{""a"":1}"');
  });

  it('replaces NUL and the other control characters by U+FFFD, keeps tab, CR and LF (quoted)', function () {
    assert.equal(cell('dev\u00001'), 'dev\ufffd1');
    assert.equal(formatLine(['a\u0007b', '\u001b[31mred', 'x\u007fy\u0085z', 'one\ttwo', 'l1\r\nl2']), 'a\ufffdb,\ufffd[31mred,x\ufffdy\ufffdz,one\ttwo,"l1\r\nl2"');
    // Together with a quote: replaced and quoted.
    assert.equal(cell('\u0000"x"'), '"\ufffd""x"""');
    // Objects are written as JSON text, which escapes C0 controls itself; DEL and C1 are replaced.
    assert.equal(cell({ id: 'a\u0000\u007f' }), '"{""id"":""a\\u0000\ufffd""}"');
  });

  it('leaves no control character but tab, CR and LF in any line (property)', function () {
    fc.assert(
      fc.property(fc.array(fc.oneof(trickyText, fc.string({ unit: 'binary', maxLength: 6 })), { minLength: 1, maxLength: 6 }), (values) => {
        assert.doesNotMatch(formatLine(values), /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/);
      }),
      { numRuns: 1000 },
    );
  });

  it('writes a line of one empty cell as "" so that it is not an empty line', function () {
    assert.equal(formatLine(['']), '""');
    assert.deepEqual(parseCsv(formatLine(['']) + '\n'), [['']]);
  });

  it('quotes exactly like csv-stringify (property, neutralised text)', function () {
    fc.assert(
      fc.property(fc.array(trickyText, { minLength: 2, maxLength: 6 }), (values) => {
        const ours = formatLine(values) + '\n';
        const theirs = stringify([values.map((v) => neutralise(controlFree(v)))], { quoted_match: /^NULL$/ });
        assert.equal(ours, theirs);
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips rows of text, numbers and nulls through csv-parse (property)', function () {
    const value = fc.oneof(trickyText, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.constant(null));
    fc.assert(
      fc.property(fc.array(fc.array(value, { minLength: 2, maxLength: 6 }), { minLength: 1, maxLength: 5 }), (rows) => {
        const width = Math.max(...rows.map((r) => r.length));
        const padded = rows.map((r) => [...r, ...new Array<null>(width - r.length).fill(null)]);
        const text = padded.map((r) => formatLine(r) + '\n').join('');
        const back = parseCsv(text);
        assert.equal(back.length, padded.length);
        padded.forEach((r, i) =>
          r.forEach((v, j) => {
            const c = back[i][j];
            if (v === null) assert.equal(c, null);
            else if (typeof v === 'number') assert.ok(Number(c) === v, `${c} !== ${v}`);
            else assert.equal(restoreText(c as string), controlFree(v));
          }),
        );
      }),
      { numRuns: 1000 },
    );
  });
});

describe('csv > readings layout', function () {
  it('has the contract header exactly', function () {
    assert.equal(
      layoutFor('readings').header,
      'UTC,Temperature[C],Humidity[%],TVOC[ppb],eCO2[ppm],Raw H2,Raw Ethanol,Pressure[hPa],PM1.0,PM2.5,NC0.5,NC1.0,NC2.5,CNT,Fire Alarm,device_id',
    );
    assert.equal(READINGS_HEADER.length, 16);
  });

  it('writes UTC as unix seconds and sensors in header order', function () {
    const line = layoutFor('readings').line(reading({ cnt: 7, fireAlarm: 1 }));
    assert.equal(line, '1654733331,20,57.36,0,400,12306,18520,939.735,0,0,0,0,0,7,1,dev-1');
  });

  it('keeps milliseconds as decimals when the timestamp is not a whole second', function () {
    assert.equal(utcSeconds(1654712187123), '1654712187.123');
    assert.equal(utcSeconds(1654712187005), '1654712187.005');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4102444800000 }), (ms) => Math.round(Number(utcSeconds(ms)) * 1000) === ms),
    );
  });

  it('writes NULL for a sensor that did not report', function () {
    const cells = layoutFor('readings').line(reading({ humidity: null, pm2_5: null })).split(',');
    assert.equal(cells[2], 'NULL');
    assert.equal(cells[9], 'NULL');
  });

  it('quotes and neutralises the device id', function () {
    const layout = layoutFor('readings');
    assert.ok(layout.line(reading({ deviceId: 'a,b' })).endsWith(',"a,b"'));
    assert.ok(layout.line(reading({ deviceId: '=cmd' })).endsWith(",'=cmd"));
    assert.ok(layout.line(reading({ deviceId: 'plain' })).endsWith(',plain'));
  });

  it('writes a row as bytes exactly as its line, for the real data file', function () {
    const layout = layoutFor('readings');
    const rows = loadReadings();
    const out = new CsvBytes(64);
    for (const r of rows) layout.writeRow!(r, out);
    assert.equal(out.take(), rows.map((r) => layout.line(r) + '\n').join(''));
  });

  it('writes a row as bytes exactly as its line (property: any numbers, nulls, odd values and device ids)', function () {
    const layout = layoutFor('readings');
    const num = fc.oneof(
      fc.double(),
      fc.integer(),
      fc.integer({ min: -1e15, max: 1e15 }).chain((m) => fc.integer({ min: 0, max: 4 }).map((d) => m / 10 ** d)),
      fc.constantFrom(-0, 0.1 + 0.2, 2 ** 31, -(2 ** 31), 1e12 - 0.001, 1e12, 999999999999.5, 0.0005, 1e21),
    );
    const value = fc.oneof(num, num, num, fc.constant(null), trickyText, fc.boolean(), fc.constant(undefined), fc.constant({ a: 'é' }));
    const sensors = ['temperature', 'humidity', 'tvoc', 'eco2', 'rawH2', 'rawEthanol', 'pressure', 'pm1_0', 'pm2_5', 'nc0_5', 'nc1_0', 'nc2_5', 'cnt', 'fireAlarm'];
    const item = fc.record({
      deviceId: fc.oneof(trickyText, fc.constantFrom('sensor-1', 'lab, room "2"', '=HYPERLINK("x")', 'café 🔥'), fc.integer()),
      timestamp: fc.oneof(fc.integer({ min: -8.64e15, max: 8.64e15 }), num, fc.constant(null), fc.constant(undefined), trickyText),
      ...Object.fromEntries(sensors.map((k) => [k, value])),
    });
    const out = new CsvBytes(16);
    fc.assert(
      fc.property(fc.array(item, { maxLength: 20 }), (items) => {
        for (const it of items) layout.writeRow!(it, out);
        assert.equal(out.take(), items.map((it) => layout.line(it) + '\n').join(''));
      }),
      { numRuns: 2000 },
    );
  });

  it('writes numbers as bytes exactly as String(n) around every digit count and the int32 limits', function () {
    const out = new CsvBytes(8);
    const values: number[] = [];
    for (let e = 0; e <= 16; e++) {
      for (const base of [10 ** e, 2 ** 31, 2 ** 32]) for (const d of [-1, -0.5, -0.001, 0, 0.001, 0.5, 1]) values.push(base + d, -(base + d));
    }
    for (const n of values) out.number(n);
    for (const n of values) out.byte(44);
    const text = out.take();
    assert.equal(text, values.map(String).join('') + ','.repeat(values.length));
  });

  it('formats a batch through the byte path as the lines joined, day by day', function () {
    const f = new CsvFormatter(layoutFor('readings'), false);
    const layout = layoutFor('readings');
    const day = 86_400_000;
    const items = [reading({ timestamp: 3 * day + 1 }), reading({ timestamp: 4 * day, deviceId: 'é,"x"' }), reading({ timestamp: 3 * day + 2.5 })];
    const chunks = f.format(items, 0);
    assert.deepEqual(
      chunks.map((c) => [c.date, c.rows, c.text]),
      [
        ['1970-01-04', 2, layout.line(items[0]) + '\n' + layout.line(items[2]) + '\n'],
        ['1970-01-05', 1, layout.line(items[1]) + '\n'],
      ],
    );
  });

  it("formats a batch as bytes exactly as format()'s text in UTF-8, with and without a byte writer (property)", function () {
    const day = 86_400_000;
    const item = fc.record({
      deviceId: fc.oneof(trickyText, fc.constantFrom('sensor-1', 'café 🔥', '=cmd')),
      timestamp: fc.oneof(fc.integer({ min: 0, max: 5 * day }), fc.constant(null)),
      temperature: fc.oneof(fc.double(), fc.integer(), fc.constant(null)),
      humidity: fc.oneof(fc.double({ min: 0, max: 100, noNaN: true }), trickyText),
      note: trickyText,
    });
    // readings: the byte writer (layout.writeRow); custom: lines joined, then encoded.
    const formatters = [new CsvFormatter(layoutFor('readings'), false), new CsvFormatter(layoutFor('custom', ['deviceId', 'timestamp', 'note', 'humidity'], 'timestamp'), false)];
    assert.ok(formatters[0].layout.writeRow !== undefined && formatters[1].layout.writeRow === undefined);
    fc.assert(
      fc.property(fc.array(item, { minLength: 1, maxLength: 30 }), fc.integer({ min: 0, max: 5 * day }), (items, now) => {
        for (const f of formatters) {
          // Both ways in turn through the same formatter: its reused byte buffer must not leak between them.
          const text = f.format(items, now);
          const bytes = f.formatBytes(items, now);
          assert.deepEqual(
            bytes.map((c) => [c.day, c.date, c.rows, c.bytes.toString('hex')]),
            text.map((c) => [c.day, c.date, c.rows, Buffer.from(c.text, 'utf8').toString('hex')]),
          );
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('csv > windows, alerts and custom layouts', function () {
  it('writes window results with the contract keys as columns, dated by windowStart', function () {
    const layout = layoutFor('windows');
    assert.equal(layout.header, WINDOW_COLUMNS.join(','));
    const w = {
      deviceId: 'd1', windowStart: 1654733100000, windowEnd: 1654733400000, count: 3, fireAlarmCount: 0,
      avgTemperature: 20.5, avgHumidity: 50, avgTvoc: 0, avgEco2: 400, avgPm25: 0, avgPressure: 939.7,
      maxTemperature: 21, minTemperature: -1.5, stddevTemperature: null, final: true,
    };
    assert.equal(layout.line(w), 'd1,1654733100000,2022-06-09 00:05:00,1654733400000,2022-06-09 00:10:00,3,0,20.5,50,0,400,0,939.7,21,-1.5,NULL,true');
    assert.equal(layout.eventTime(w), 1654733100000);
  });

  it("takes a window result's own keys as columns when its aggregates are not the default ones", function () {
    const def = Object.fromEntries(WINDOW_KEYS.map((k) => [k, 0]));
    assert.equal(windowColumnsOf(def), WINDOW_COLUMNS, 'the default aggregates: the contract columns');
    assert.equal(windowColumnsOf({ ...def, final: true, deviceId: 'd1' }), WINDOW_COLUMNS, 'in any key order');
    const custom = { deviceId: 'd1', windowStart: 0, windowEnd: 60_000, count: 2, fireAlarmCount: 0, maxPm25: 7, sumTvoc: 20, final: true };
    assert.deepEqual(windowColumnsOf(custom), ['deviceId', 'windowStart', 'windowStartUtc', 'windowEnd', 'windowEndUtc', 'count', 'fireAlarmCount', 'maxPm25', 'sumTvoc', 'final']);
    assert.equal(layoutFor('windows', windowColumnsOf(custom)).line(custom), 'd1,0,1970-01-01 00:00:00,60000,1970-01-01 00:01:00,2,0,7,20,true');
    for (const other of [null, 'x', [1], { a: 1 }]) assert.equal(windowColumnsOf(other), WINDOW_COLUMNS, JSON.stringify(other));
  });

  it('writes alerts with indicators joined and absent optional keys empty', function () {
    const layout = layoutFor('alerts');
    assert.equal(layout.header, ALERT_COLUMNS.join(','));
    const line = layout.line({
      type: 'PATTERN', severity: 'CRITICAL', sensor: 'firePattern', value: 3, threshold: 3,
      message: 'fire: 3 indicators', deviceId: 'd1', timestamp: 1654733331000, indicators: ['temperature', 'tvoc', 'pm2_5'],
    });
    assert.equal(line, 'PATTERN,CRITICAL,firePattern,3,3,fire: 3 indicators,d1,1654733331000,2022-06-09 00:08:51,,temperature;tvoc;pm2_5,,');
  });

  it('takes custom columns from the list, and reads only own keys', function () {
    const layout = layoutFor('custom', ['a', 'constructor', 'b']);
    assert.equal(layout.header, 'a,constructor,b');
    assert.equal(layout.line({ a: 1, b: 'x' }), '1,,x');
  });

  it('parses column lists as text or JSON and refuses duplicates', function () {
    assert.deepEqual(parseColumns('a, b ,c'), ['a', 'b', 'c']);
    assert.deepEqual(parseColumns('["a","b"]'), ['a', 'b']);
    assert.deepEqual(parseColumns(''), []);
    assert.equal(parseColumns('a,a'), null);
    assert.equal(parseColumns('a,,b'), null);
    assert.equal(parseColumns('[1]'), null);
  });

  it('has a default file name per preset with {date}', function () {
    assert.equal(DEFAULT_FILE_PATTERN.readings, 'historical_smoke_data_{date}.csv');
    assert.equal(fileName(DEFAULT_FILE_PATTERN.alerts, '2022-06-09'), 'alerts_2022-06-09.csv');
  });
});

describe('csv > rejects', function () {
  const now = Date.UTC(2024, 0, 2, 3, 4, 5);

  it('writes sensor validate output 2: the input as JSON and the reasons', function () {
    const rows = rejectRows(
      {
        payload: { 'Temperature[C]': 'hot', UTC: 1 },
        validation: { errors: [{ field: 'temperature', code: 'not-a-number', message: 'not a number: "hot"' }] },
        kafka: { topic: 'smoke_stream', partition: 0, offset: '42', key: 'd1' },
      },
      now,
    );
    assert.equal(rows.length, 1);
    const line = layoutFor('rejects').line(rows[0]);
    const [back] = parseCsv(line + '\n');
    assert.deepEqual(back, [
      '2024-01-02 03:04:05', 'validate', 'smoke_stream', '0', '42', 'd1',
      'temperature: not-a-number (not a number: "hot")', '{"Temperature[C]":"hot","UTC":1}',
    ]);
  });

  it('writes kafka in output 2: the raw text as it arrived and msg.error', function () {
    const rows = rejectRows({ payload: '{"broken', error: 'Unexpected end of JSON input' }, now);
    assert.equal(rows[0].source, 'kafka');
    assert.equal(rows[0].input, '{"broken');
    assert.equal(rows[0].reasons, 'Unexpected end of JSON input');
  });

  it('gives one row per item of a batch, with per-item reasons when present', function () {
    const rows = rejectRows({ payload: [1, 'x'], validation: [{ errors: [{ code: 'not-an-object' }] }, { errors: [{ field: 'f', code: 'missing' }] }] }, now);
    assert.deepEqual(rows.map((r) => [r.input, r.reasons]), [['1', 'not-an-object'], ['"x"', 'f: missing']]);
    const flat = rejectRows({ payload: [{}, {}], validation: { errors: [{ index: 1, field: 't', code: 'missing' }] } }, now);
    assert.deepEqual(flat.map((r) => r.reasons), ['', 't: missing']);
  });

  it('gives each item of a batch its own record: offsets[i] and keys[i] of kafka in, the batch topic and partition', function () {
    // sensor validate output 2 of a kafka in batch: the invalid items, one error list each, msg.kafka filtered to them.
    const rows = rejectRows(
      {
        payload: [{ temperature: 'x' }, 7, { deviceId: '' }],
        validation: {
          errors: [
            [{ field: 'temperature', code: 'not-a-number', message: 'm1' }],
            [{ field: '*', code: 'not-an-object', message: 'm2' }],
            [{ field: 'deviceId', code: 'bad-device-id', message: 'm3' }, { field: 'humidity', code: 'missing', message: 'm4' }],
          ],
          index: [1, 4, 6],
        },
        kafka: { topic: 't', partition: 2, firstOffset: 100, lastOffset: 106, count: 3, offsets: [101, 104, 106], keys: ['d1', null, 'd3'], timestamps: [1, 2, 3] },
      },
      now,
    );
    assert.deepEqual(
      rows.map((r) => [r.topic, r.partition, r.offset, r.key, r.reasons]),
      [
        ['t', 2, 101, 'd1', 'temperature: not-a-number (m1)'],
        ['t', 2, 104, null, '*: not-an-object (m2)'],
        ['t', 2, 106, 'd3', 'deviceId: bad-device-id (m3); humidity: missing (m4)'],
      ],
    );
  });

  it('writes every reason of a one-item batch (its error list is nested like any batch)', function () {
    const rows = rejectRows(
      {
        payload: [{ temperature: 500 }],
        validation: { errors: [[{ field: 'temperature', code: 'out-of-range', message: 'm1' }, { field: 'cnt', code: 'missing', message: 'm2' }]], index: [0] },
        kafka: { topic: 't', partition: 0, offsets: [9], keys: ['k9'] },
      },
      now,
    );
    assert.deepEqual(rows.map((r) => [r.offset, r.key, r.reasons]), [[9, 'k9', 'temperature: out-of-range (m1); cnt: missing (m2)']]);
  });

  it("gives every item of one record's array (single mode) that record's offset and key", function () {
    const rows = rejectRows(
      { payload: [1, 2], validation: { errors: [[{ code: 'not-an-object' }], [{ code: 'not-an-object' }]], index: [0, 1] }, kafka: { topic: 't', partition: 1, offset: 77, key: 'k' } },
      now,
    );
    assert.deepEqual(rows.map((r) => [r.partition, r.offset, r.key]), [[1, 77, 'k'], [1, 77, 'k']]);
  });

  it('keeps the record of a kafka in reject (single record metadata, in batch mode too)', function () {
    const [row] = rejectRows({ payload: 'not json', error: 'Unexpected token', kafka: { topic: 't', partition: 3, offset: 12, key: 'dev-9', timestamp: 1, headers: {} } }, now);
    assert.deepEqual([row.source, row.topic, row.partition, row.offset, row.key, row.reasons, row.input], ['kafka', 't', 3, 12, 'dev-9', 'Unexpected token', 'not json']);
  });
});

describe('csv > days and file names', function () {
  it('dates by UTC day', function () {
    assert.equal(dayDate(utcDay(Date.UTC(2022, 5, 8, 23, 59, 59, 999))), '2022-06-08');
    assert.equal(dayDate(utcDay(Date.UTC(2022, 5, 9))), '2022-06-09');
    assert.ok(Number.isNaN(utcDay(NaN)));
    assert.ok(Number.isNaN(utcDay(1e300)));
  });

  it('splits a batch across UTC midnight into two chunks, each with its own rows', function () {
    const f = new CsvFormatter(layoutFor('readings'), false);
    const mid = Date.UTC(2022, 5, 9);
    const chunks = f.format([reading({ timestamp: mid - 1000 }), reading({ timestamp: mid }), reading({ timestamp: mid - 500 })], 0);
    assert.deepEqual(chunks.map((c) => [c.date, c.rows]), [['2022-06-08', 2], ['2022-06-09', 1]]);
    assert.ok(chunks.every((c) => c.text.endsWith('\n')));
    assert.equal(chunks[0].text.split('\n')[1].split(',')[0], '1654732799.5');
  });

  it('dates by processing time when asked, or when a row has no event time', function () {
    const now = Date.UTC(2024, 0, 1, 12);
    assert.equal(new CsvFormatter(layoutFor('readings'), true).format([reading()], now)[0].date, '2024-01-01');
    assert.equal(new CsvFormatter(layoutFor('custom', ['x']), false).format([{ x: 1 }], now)[0].date, '2024-01-01');
    assert.equal(new CsvFormatter(layoutFor('custom', ['x']), false).format([{ x: 1, timestamp: '2022-06-09T10:00:00Z' }], now)[0].date, '2022-06-09');
  });

  it('refuses a batch with an item that is not an object, formatting nothing', function () {
    const f = new CsvFormatter(layoutFor('readings'), false);
    assert.throws(() => f.format([reading(), 'x'], 0), (e: unknown) => e instanceof CsvRowError && e.index === 1);
  });

  it('accepts relative file names and refuses absolute ones, .. and folders', function () {
    assert.equal(checkRelativeName('a_{date}.csv'), null);
    assert.equal(checkRelativeName('sub/a.csv'), null);
    for (const bad of ['/etc/passwd', '../x.csv', 'a/../../x.csv', 'C:\\x.csv', '\\\\server\\x', 'a/', '.', '', 'a\0b', 123]) {
      assert.notEqual(checkRelativeName(bad), null, JSON.stringify(bad));
    }
  });
});
