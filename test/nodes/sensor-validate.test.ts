import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import { createValidator } from '../../nodes/lib/reading-validator';
import { callsOf, helper, nodeModule } from './_helper';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Msg = Record<string, any>;

const validateModule = nodeModule('sensor-validate');
const DATA = path.resolve(__dirname, '../../../shared/data/smoke_detection_iot.csv');

/** The first row of the data file as csv-parse gives it (Kaggle headers, text values, index column). */
const KAGGLE_ROW = {
  '': '0',
  UTC: '1654733331',
  'Temperature[C]': '20.0',
  'Humidity[%]': '57.36',
  'TVOC[ppb]': '0',
  'eCO2[ppm]': '400',
  'Raw H2': '12306',
  'Raw Ethanol': '18520',
  'Pressure[hPa]': '939.735',
  'PM1.0': '0.0',
  'PM2.5': '0.0',
  'NC0.5': '0.0',
  'NC1.0': '0.0',
  'NC2.5': '0.0',
  CNT: '0',
  'Fire Alarm': '0',
};

function reading(values: Record<string, unknown> = {}): Msg {
  return {
    deviceId: 'd1',
    timestamp: 1_654_733_331_000,
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
    ...values,
  };
}

interface Harness {
  v: any;
  ok: Msg[];
  bad: Msg[];
  /** Resolves once `n` messages have arrived on output 1 and `m` on output 2. */
  until(n: number, m: number): Promise<void>;
}

async function start(config: Record<string, unknown> = {}): Promise<Harness> {
  const flow = [
    { id: 'v', type: 'smoke-sensor-validate', wires: [['ok'], ['bad']], ...config },
    { id: 'ok', type: 'helper' },
    { id: 'bad', type: 'helper' },
  ];
  await helper.load(validateModule, flow);
  const h: Harness = {
    v: helper.getNode('v'),
    ok: [],
    bad: [],
    until(n, m) {
      return new Promise((resolve) => {
        const check = () => {
          if (h.ok.length >= n && h.bad.length >= m) resolve();
        };
        helper.getNode('ok').on('input', check);
        helper.getNode('bad').on('input', check);
        check();
      });
    },
  };
  helper.getNode('ok').on('input', (msg: Msg) => h.ok.push(msg));
  helper.getNode('bad').on('input', (msg: Msg) => h.bad.push(msg));
  return h;
}


describe('sensor-validate > single readings', function () {
  this.timeout(20000);
  afterEach(async function () {
    await helper.unload();
  });

  it('sends a valid Kaggle row on output 1 as the canonical reading, in the same message', async function () {
    const h = await start();
    const kafka = { topic: 'smoke_stream', partition: 0, offset: 7, key: 'kitchen', timestamp: 99, headers: {} };
    h.v.receive({ payload: { ...KAGGLE_ROW }, topic: 'smoke_stream', kafka, extra: 'kept' });
    await h.until(1, 0);
    const [out] = h.ok;
    assert.deepEqual(out.payload, reading({ deviceId: 'kitchen' }), 'UTC seconds → ms, device id from the Kafka key');
    assert.deepEqual(Object.keys(out.payload), Object.keys(reading()));
    assert.equal(out.kafka, kafka, 'msg.kafka is the same object');
    assert.equal(out.extra, 'kept', 'the message object is reused: its other properties stay');
    assert.equal(out.topic, 'smoke_stream');
    assert.equal(out.validation, undefined);
    assert.equal(h.bad.length, 0);
  });

  it('routes an invalid reading to output 2 with the payload as it arrived and msg.validation.errors', async function () {
    const h = await start();
    const input = reading({ temperature: 'hot', humidity: 120 });
    delete input.cnt;
    const kafka = { topic: 't', partition: 1, offset: 3, key: 'd1', timestamp: 5, headers: {} };
    h.v.receive({ payload: input, kafka });
    await h.until(0, 1);
    const [out] = h.bad;
    assert.deepEqual(out.payload, input);
    assert.equal(out.payload.temperature, 'hot');
    assert.deepEqual(
      out.validation.errors.map((e: Msg) => [e.field, e.code]),
      [
        ['temperature', 'not-a-number'],
        ['humidity', 'out-of-range'],
        ['cnt', 'missing'],
      ],
    );
    for (const e of out.validation.errors) assert.equal(typeof e.message, 'string');
    assert.deepEqual(out.kafka, kafka);
    assert.equal(h.ok.length, 0);
  });

  it('rejects a payload that is not an object (text, null) as not-an-object', async function () {
    const h = await start();
    h.v.receive({ payload: 'temperature=20' });
    h.v.receive({ payload: null });
    await h.until(0, 2);
    assert.deepEqual(
      h.bad.map((m) => [m.payload, m.validation.errors.map((e: Msg) => e.code)]),
      [
        ['temperature=20', ['not-an-object']],
        [null, ['not-an-object']],
      ],
    );
  });

  it('falls back to msg.key, msg.topic and the arrival time without msg.kafka', async function () {
    const h = await start();
    const bare = reading();
    delete bare.deviceId;
    delete bare.timestamp;
    const before = Date.now();
    h.v.receive({ payload: { ...bare }, key: 'from-key', topic: 'from-topic' });
    h.v.receive({ payload: { ...bare }, topic: 'from-topic' });
    h.v.receive({ payload: { ...bare } });
    await h.until(3, 0);
    const after = Date.now();
    assert.deepEqual(
      h.ok.map((m) => m.payload.deviceId),
      ['from-key', 'from-topic', 'default'],
    );
    for (const m of h.ok) assert.ok(m.payload.timestamp >= before && m.payload.timestamp <= after);
  });

  it('applies missing: fill and outOfRange: replace from the node settings', async function () {
    const h = await start({ missing: 'fill', outOfRange: 'replace', maxBytes: '0' });
    const input = reading({ temperature: 500, humidity: null });
    delete input.pressure;
    h.v.receive({ payload: input });
    await h.until(1, 0);
    assert.deepEqual([h.ok[0].payload.temperature, h.ok[0].payload.humidity, h.ok[0].payload.pressure], [20, 50, 1013.25]);
  });

  it('reads and writes another message property when configured', async function () {
    const h = await start({ property: 'data.reading' });
    h.v.receive({ payload: 'untouched', data: { reading: reading({ temperature: '21.5' }) } });
    h.v.receive({ payload: 'untouched', data: { reading: reading({ temperature: 'x' }) } });
    await h.until(1, 1);
    assert.equal(h.ok[0].data.reading.temperature, 21.5);
    assert.equal(h.ok[0].payload, 'untouched');
    assert.equal(h.bad[0].data.reading.temperature, 'x');
    assert.equal(h.bad[0].validation.errors[0].field, 'temperature');
  });

  it('counts in a blue status: ok n / bad m', async function () {
    const h = await start();
    const shown = new Promise<void>((resolve) => {
      h.v.on('call:status', (call: { args: [{ text?: string; fill?: string }] }) => {
        if (call.args[0].text === 'ok 2 / bad 1' && call.args[0].fill === 'blue') resolve();
      });
    });
    h.v.receive({ payload: reading() });
    h.v.receive({ payload: [reading(), 'bad'] });
    await shown;
  });
});

describe('sensor-validate > batches', function () {
  this.timeout(20000);
  afterEach(async function () {
    await helper.unload();
  });

  it('splits a mixed batch into one message per output, arrays in input order, with msg.kafka aligned to each part', async function () {
    const h = await start();
    const noIds = (values: Record<string, unknown>) => {
      const r = reading(values);
      delete r.deviceId;
      delete r.timestamp;
      return r;
    };
    const items = [noIds({}), noIds({ temperature: 'x' }), noIds({ cnt: 5 }), 'text', [reading()], noIds({ fireAlarm: 2 })];
    const kafka = {
      topic: 'smoke_stream',
      partition: 2,
      firstOffset: 10,
      lastOffset: 15,
      count: 6,
      offsets: [10, 11, 12, 13, 14, 15],
      keys: ['a', 'b', 'c', 'd', 'e', 'f'],
      timestamps: [1000, 2000, 3000, 4000, 5000, 6000],
    };
    h.v.receive({ payload: items, topic: 'smoke_stream', kafka });
    await h.until(1, 1);
    const [valid] = h.ok;
    const [invalid] = h.bad;
    assert.deepEqual(valid.payload, [reading({ deviceId: 'a', timestamp: 1000 }), reading({ deviceId: 'c', timestamp: 3000, cnt: 5 })], 'per-item Kafka key and time as fallbacks');
    assert.deepEqual(invalid.payload, [items[1], items[3], items[4], items[5]], 'the invalid items as they arrived');
    assert.deepEqual(invalid.validation.index, [1, 3, 4, 5]);
    assert.deepEqual(
      invalid.validation.errors.map((list: Msg[]) => list.map((e) => `${e.field}:${e.code}`)),
      [['temperature:not-a-number'], ['*:not-an-object'], ['*:not-an-object'], ['fireAlarm:out-of-range']],
    );
    // Later nodes read msg.kafka.timestamps[i] for payload[i]: each part's arrays follow its items.
    assert.deepEqual(valid.kafka, { ...kafka, count: 2, offsets: [10, 12], keys: ['a', 'c'], timestamps: [1000, 3000] });
    assert.deepEqual(invalid.kafka, { ...kafka, count: 4, offsets: [11, 13, 14, 15], keys: ['b', 'd', 'e', 'f'], timestamps: [2000, 4000, 5000, 6000] });
    assert.deepEqual(kafka.offsets, [10, 11, 12, 13, 14, 15], "the input's msg.kafka is not mutated");
    assert.equal(invalid.topic, 'smoke_stream');
    assert.equal(valid.validation, undefined);
  });

  it('sends an all-valid batch on output 1 only and an all-invalid batch on output 2 only', async function () {
    const h = await start();
    const bad = [{ temperature: 1 }, 42];
    h.v.receive({ payload: [reading(), reading({ deviceId: 'd2' })] });
    h.v.receive({ payload: bad });
    h.v.receive({ payload: reading({ deviceId: 'last' }) });
    h.v.receive({ payload: 'last bad' });
    await h.until(2, 2);
    assert.deepEqual(
      h.ok.map((m) => (Array.isArray(m.payload) ? m.payload.map((r: Msg) => r.deviceId) : m.payload.deviceId)),
      [['d1', 'd2'], 'last'],
    );
    assert.deepEqual(h.bad[0].payload, bad);
    assert.deepEqual(
      h.bad[0].validation.errors.map((l: Msg[]) => l[0].code),
      ['missing', 'not-an-object'],
    );
    assert.equal(h.bad[1].payload, 'last bad');
  });

  it('splits a mixed batch read from another property, sharing the ack token between the parts', async function () {
    const h = await start({ property: 'data' });
    const ack = { consumer: 'kin', id: 7, records: 2 };
    const kafka = { topic: 't', partition: 0, keys: ['a', 'b'], timestamps: [1, 2], ack };
    h.v.receive({ payload: 'p', data: [reading(), { temperature: 1 }], kafka });
    await h.until(1, 1);
    assert.deepEqual(h.ok[0].data, [reading()]);
    assert.deepEqual(h.bad[0].data, [{ temperature: 1 }]);
    assert.deepEqual(h.bad[0].validation.index, [1]);
    assert.deepEqual(h.ok[0].kafka, { topic: 't', partition: 0, keys: ['a'], timestamps: [1], ack });
    assert.deepEqual(h.bad[0].kafka, { topic: 't', partition: 0, keys: ['b'], timestamps: [2], ack });
    assert.equal(h.ok[0].kafka.ack, ack, 'the sinks of both parts acknowledge the same unit');
    assert.equal(h.bad[0].kafka.ack, ack);
    assert.deepEqual([h.ok[0].payload, h.bad[0].payload], ['p', 'p']);
  });

  it('sends nothing for an empty array', async function () {
    const h = await start();
    h.v.receive({ payload: [] });
    h.v.receive({ payload: reading({ deviceId: 'after' }) });
    h.v.receive({ payload: 'after' });
    await h.until(1, 1);
    assert.equal(h.ok[0].payload.deviceId, 'after', 'the first message on output 1 is the one after the empty batch');
    assert.equal(h.bad[0].payload, 'after', 'the first message on output 2 is the one after the empty batch');
  });

  it('gives the same readings and errors, in the same order, for a batch as for single messages (real rows)', async function () {
    const rows: Msg[] = parse(fs.readFileSync(DATA), { columns: true, to: 300 });
    const items: unknown[] = rows.map((r, i) => (i % 7 === 3 ? { ...r, 'Humidity[%]': 'n/a' } : i % 11 === 5 ? { ...r, CNT: '-1' } : { ...r, device_id: `dev-${i % 4}` }));
    const h = await start();
    h.v.receive({ payload: items, topic: 'x' });
    await h.until(1, 1);
    for (const item of items) h.v.receive({ payload: item, topic: 'x' });
    const batchValid = h.ok[0].payload as Msg[];
    const batchInvalid = h.bad[0].payload as unknown[];
    await h.until(1 + batchValid.length, 1 + batchInvalid.length);
    assert.deepEqual(
      h.ok.slice(1).map((m) => m.payload),
      batchValid,
    );
    assert.deepEqual(
      h.bad.slice(1).map((m) => m.validation.errors),
      h.bad[0].validation.errors,
    );
    const v = createValidator();
    assert.equal(batchValid.length, items.filter((x) => v.validate(x, { arrival: 0 }).ok).length);
    assert.ok(batchInvalid.length > 0 && batchValid.length > 0);
  });
});

describe('sensor-validate > configuration', function () {
  this.timeout(20000);
  afterEach(async function () {
    await helper.unload();
  });

  it('a flow node without settings uses the contract defaults (absent sensor → missing)', async function () {
    const h = await start();
    const input = reading();
    delete input.humidity;
    h.v.receive({ payload: input, _msgid: 'm1' });
    await h.until(0, 1);
    assert.deepEqual(h.bad[0].validation.errors.map((e: Msg) => e.code), ['missing']);
  });

  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ missing: 'bogus' }, /missing must be one of reject, null, fill/],
    [{ outOfRange: 'clip' }, /outOfRange must be one of reject, replace/],
    [{ maxBytes: -1 }, /maxBytes must be >= 0/],
    [{ maxBytes: 'big' }, /maxBytes must be a number/],
    [{ property: 'payload..x' }, /property is not a message property/],
  ];
  for (const [config, re] of bad) {
    it(`${JSON.stringify(config)} → red status, node.error, no input handler`, async function () {
      const h = await start(config);
      const errors = callsOf(h.v, 'error').map((a) => String(a[0]));
      assert.ok(errors.some((e) => re.test(e)), errors.join('\n'));
      assert.deepEqual(callsOf(h.v, 'status').pop(), [{ fill: 'red', shape: 'ring', text: 'bad config' }]);
      assert.ok(!h.v._inputCallback && !h.v._inputCallbacks, 'no input handler registered');
    });
  }
});
