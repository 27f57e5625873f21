/**
 * The rejects path without a broker: sensor validate output 2 → csv sink (rejects), fed with the
 * message shapes kafka in sends (a batch with per-record arrays, a single record). Every rejected
 * reading keeps its Kafka record (partition, offset, key) and all its reasons, and no cell carries a
 * control character. The same path against the real broker: test/kafka/rejects.test.ts.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { badReadings, expectedReasons, goodReading, readRejects } from '../fixtures/rejects';
import { helper, nodeModule } from './_helper';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Msg = Record<string, any>;

const modules = [nodeModule('sensor-validate'), nodeModule('csv-sink')];

describe('rejects > sensor validate → csv sink', function () {
  this.timeout(20_000);
  let dir: string;

  beforeEach(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-rejects-'));
    await helper.load(modules, [
      { id: 'validate', type: 'smoke-sensor-validate', wires: [['valid'], ['sink']] },
      { id: 'sink', type: 'smoke-csv-sink', preset: 'rejects', folder: dir, flushInterval: 10, wires: [['written']] },
      { id: 'valid', type: 'helper' },
      { id: 'written', type: 'helper' },
    ]);
  });

  afterEach(async function () {
    await helper.unload();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Sends `msgs` into sensor validate; resolves once the sink passed on `rejectMessages` messages (their rows are on disk). */
  function send(msgs: Msg[], rejectMessages: number): Promise<void> {
    return new Promise((resolve) => {
      let n = 0;
      helper.getNode('written').on('input', () => {
        if (++n === rejectMessages) resolve();
      });
      for (const m of msgs) helper.getNode('validate').receive(m);
    });
  }

  it('batch mode: each rejected reading of a batch keeps its own offset and key, the batch topic and partition, and all its reasons', async function () {
    // 12 bad readings spread among 24 good ones, as kafka in's batch mode sends them.
    const bad = badReadings();
    const items: unknown[] = [];
    const badAt: number[] = [];
    for (let i = 0; i < 36; i++) {
      if (i % 3 === 1) {
        badAt.push(i);
        items.push(bad[badAt.length - 1]);
      } else items.push(goodReading(i));
    }
    const offsets = items.map((_, i) => 500 + i);
    const keys = items.map((_, i) => (i === badAt[3] ? null : `key-${i}`));
    const kafka = { topic: 'smoke_stream', partition: 3, firstOffset: 500, lastOffset: 535, count: 36, offsets, keys, timestamps: items.map(() => 1654733331000) };
    await send([{ payload: items, topic: 'smoke_stream', kafka }], 1);

    const rows = readRejects(dir);
    assert.equal(rows.length, 12);
    rows.forEach((row, j) => {
      const i = badAt[j];
      assert.deepEqual(
        { source: row.source, topic: row.topic, partition: row.partition, offset: row.offset, key: row.key, reasons: row.reasons, input: row.input },
        {
          source: 'validate',
          topic: 'smoke_stream',
          partition: '3',
          offset: String(offsets[i]),
          // A record without a key: NULL, as any null value.
          key: keys[i] === null ? 'NULL' : keys[i],
          reasons: expectedReasons(items[i]),
          input: JSON.stringify(items[i]),
        },
        `reject ${j} (item ${i})`,
      );
    });
  });

  it('batch mode: a batch with one bad reading writes every one of its reasons', async function () {
    const worst = { ...goodReading(7), 'Temperature[C]': -80, 'eCO2[ppm]': -1, 'Fire Alarm': 2 };
    const items = [goodReading(6), worst, goodReading(8)];
    const kafka = { topic: 't', partition: 0, firstOffset: 6, lastOffset: 8, count: 3, offsets: [6, 7, 8], keys: ['a', 'b', 'c'], timestamps: [1, 2, 3] };
    await send([{ payload: items, topic: 't', kafka }], 1);
    const [row] = readRejects(dir);
    assert.equal(row.offset, '7');
    assert.equal(row.key, 'b');
    assert.equal(row.reasons, expectedReasons(worst));
    assert.equal(row.reasons.split('; ').length, 3, 'temperature, eco2 and fireAlarm');
  });

  it('single mode: the record offset, key and reasons', async function () {
    const input = { ...goodReading(1), 'Humidity[%]': 'wet' };
    await send([{ payload: input, topic: 't', key: 'dev-1', kafka: { topic: 't', partition: 1, offset: 41, key: 'dev-1', timestamp: 1, headers: {} } }], 1);
    const [row] = readRejects(dir);
    assert.deepEqual([row.partition, row.offset, row.key, row.reasons], ['1', '41', 'dev-1', expectedReasons(input)]);
  });

  it('rejects a device id with a NUL byte, and the rejects file holds no control character', async function () {
    const input = { ...goodReading(2), device_id: 'dev\u0000\u00072' };
    await send([{ payload: input, kafka: { topic: 't', partition: 0, offset: 3, key: 'k\u0000', timestamp: 1, headers: {} } }], 1);
    const text = fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('');
    assert.doesNotMatch(text, /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/);
    const [row] = readRejects(dir);
    assert.match(row.reasons, /^deviceId: bad-device-id \(deviceId must not contain control characters .*"dev\\u0000\\u00072"\)\)$/);
    assert.equal(row.input, JSON.stringify(input), 'the input as JSON text: control characters escaped by JSON');
    assert.equal(row.key, 'k\ufffd', 'the Kafka key with its NUL replaced by U+FFFD');
  });
});
