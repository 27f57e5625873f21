/**
 * Hostile input, fuzzed with fast-check, through the real broker: kafka in → sensor validate. Random
 * JSON, non-JSON bytes, NaN / Infinity / huge-number strings, wrong types, deeply nested values,
 * `__proto__` / `constructor` / `prototype` keys, empty values and tombstones, and 10 MB values. Each
 * record must leave on exactly one output (kafka in output 2, validate output 1, validate output 2),
 * nothing may throw or pollute a prototype, and the heap after GC must not grow over the run.
 *
 * SMOKE_FUZZ_RUNS scales the number of fast-check runs (records per run: 1–12).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { Partitioners, type Message, type Producer } from 'kafkajs';
import { createTopic, kafkaClient, requireKafka, uniqueTopic } from '../kafka/broker';
import { brokerModule, brokerNode, committedOffsets, helper, inModule, nodeModule, sleep } from '../kafka/_kafka-nodes';
import { forgetSpyCalls, heapAfterGc, mb } from './_check';

const RUNS = Number(process.env.SMOKE_FUZZ_RUNS) || 60;
const BIG = 10 * 1024 * 1024;
const validateModule = nodeModule('sensor-validate');

const SENSOR_NAMES = ['Temperature[C]', 'Humidity[%]', 'TVOC[ppb]', 'eCO2[ppm]', 'Raw H2', 'Raw Ethanol', 'Pressure[hPa]', 'PM1.0', 'PM2.5', 'NC0.5', 'NC1.0', 'NC2.5', 'CNT', 'Fire Alarm'];
const KEYS = [...SENSOR_NAMES, 'temperature', 'pm2_5', 'fireAlarm', 'cnt', 'UTC', 'timestamp', 'device_id', 'deviceId', 'location', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];

/** Values a sensor field may hold in hostile input, as JSON text. */
const hostileValue: fc.Arbitrary<string> = fc.oneof(
  fc.double().map((d) => JSON.stringify(d)),
  fc.integer().map(String),
  fc.constantFrom('"NaN"', '"Infinity"', '"-Infinity"', '"1e309"', '1e308', '-1e308', '"-0"', '"0x1F"', '" 12 "', '"1_000"', '"12abc"', '""', 'true', 'false', 'null', '[]', '{}', '"1"', '"0"', '2'),
  fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map((b) => (Math.random() < 0.5 ? b.toString() : JSON.stringify(b.toString()))),
  fc.string({ maxLength: 40 }).map((s) => JSON.stringify(s)),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.constant('{"polluted":"yes","__proto__":{"polluted":"yes"}}'),
);

/** An object as JSON text: keys (prototype keys included) that JavaScript object literals cannot write. */
const hostileObject: fc.Arbitrary<string> = fc
  .array(fc.tuple(fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 12 })), hostileValue), { maxLength: 20 })
  .map((pairs) => `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`);

/** A nearly valid reading with one or two fields spoilt. */
const spoiltReading: fc.Arbitrary<string> = fc
  .tuple(fc.subarray(SENSOR_NAMES), fc.array(fc.tuple(fc.constantFrom(...KEYS), hostileValue), { maxLength: 3 }), fc.integer({ min: 0, max: 2 ** 31 }))
  .map(([present, extra, t]) => {
    const pairs = present.map((k) => `${JSON.stringify(k)}:${(t % 97) / 3}`);
    pairs.push(`"UTC":${t}`, `"device_id":"fuzz-${t % 13}"`);
    for (const [k, v] of extra) pairs.push(`${JSON.stringify(k)}:${v}`);
    return `{${pairs.join(',')}}`;
  });

/** A complete reading (valid) carrying hostile extra keys, which validation must drop. */
const validWithExtras: fc.Arbitrary<string> = fc
  .tuple(fc.array(fc.tuple(fc.constantFrom('__proto__', 'constructor', 'prototype', 'polluted', 'toString', 'seq'), hostileValue), { maxLength: 4 }), fc.integer({ min: 0, max: 62_000 }))
  .map(([extra, t]) => {
    const pairs = SENSOR_NAMES.map((k) => `${JSON.stringify(k)}:${k === 'Pressure[hPa]' ? 939.5 : k === 'Fire Alarm' ? t % 2 : (t % 50) / 2}`);
    pairs.push(`"UTC":${1_654_733_331 + t}`, `"device_id":"fuzz-${t % 13}"`);
    for (const [k, v] of extra) pairs.push(`${JSON.stringify(k)}:${v}`);
    return `{${pairs.join(',')}}`;
  });

/** Deeply nested JSON (arrays, objects or both), 1,000 – 200,000 levels. */
const deep: fc.Arbitrary<string> = fc.tuple(fc.integer({ min: 1000, max: 200_000 }), fc.constantFrom('[', '{"a":', '{"__proto__":')).map(([d, open]) => {
  const close = open === '[' ? ']' : '}';
  return open.repeat(d) + '1' + close.repeat(d);
});

type Value = string | Buffer | null;

const recordValue: fc.Arbitrary<Value> = fc.oneof(
  { weight: 3, arbitrary: hostileObject },
  { weight: 3, arbitrary: spoiltReading },
  { weight: 2, arbitrary: validWithExtras },
  { weight: 2, arbitrary: fc.json() },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 100 }) },
  { weight: 1, arbitrary: fc.array(hostileObject, { maxLength: 5 }).map((a) => `[${a.join(',')}]`) },
  { weight: 1, arbitrary: fc.constantFrom<Value>(null, '', '   ', '\n', 'NaN', 'Infinity', 'undefined', '{', '{"a":1}garbage', '\u0000', '"just a string"', '12', 'true', 'null') },
  { weight: 1, arbitrary: deep },
);

/** The three 10 MB values: a reading with a 10 MB text field, 10 MB of non-JSON bytes, a 10 MB array. */
function bigValues(): Value[] {
  const text = 'x'.repeat(BIG);
  return [
    `{"Temperature[C]":20,"Humidity[%]":50,"device_id":"big","location":"${text}"}`,
    Buffer.alloc(BIG, 0xfe),
    `[${new Array(BIG / 2).fill('1').join(',')}]`,
  ];
}

interface Outcome {
  where: 'decode' | 'valid' | 'invalid';
  offset: number;
}

describe('reliability > hostile input (fuzz) through kafka in → sensor validate', function () {
  this.timeout(240_000);
  let producer: Producer;

  before(async function () {
    await requireKafka(this);
    producer = kafkaClient({ clientId: 'smoke-fuzz' }).producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    await producer.connect();
  });

  after(async function () {
    await producer?.disconnect();
  });

  afterEach(async function () {
    await helper.unload();
  });

  for (const mode of ['single', 'batch'] as const) {
    it(`${mode} mode: every record on exactly one output, no error, no prototype pollution, heap flat`, async function () {
      const topic = uniqueTopic(`rel-fuzz-${mode}`);
      // one partition (offsets identify records) that takes the 10 MB values
      const admin = kafkaClient().admin();
      await admin.connect();
      try {
        await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'max.message.bytes', value: String(16 * 1024 * 1024) }] }], waitForLeaders: true });
      } finally {
        await admin.disconnect();
      }
      const flow = [
        brokerNode(),
        { id: 'in', type: 'smoke-kafka-in', broker: 'broker', topics: topic, groupId: `${topic}-g`, start: 'earliest', mode, maxBatch: 50, wires: [['validate'], ['decodeErr'], []] },
        { id: 'validate', type: 'smoke-sensor-validate', wires: [['valid'], ['invalid']] },
        { id: 'decodeErr', type: 'helper' },
        { id: 'valid', type: 'helper' },
        { id: 'invalid', type: 'helper' },
      ];
      await helper.load([brokerModule, inModule, validateModule], flow);
      const errors: string[] = [];
      for (const id of ['in', 'validate']) helper.getNode(id).on('call:error', (c: { args: unknown[] }) => errors.push(`${id}: ${String(c.args[0])}`));
      const notes: string[] = [];
      helper.getNode('in').on('call:warn', (c: { args: unknown[] }) => notes.push(`warn: ${String(c.args[0])}`));
      helper.getNode('in').on('call:status', (c: { args: Array<{ text?: string }> }) => notes.push(`status: ${c.args[0]?.text}`));
      const outcomes: Outcome[] = [];
      type Msg = { payload: unknown; kafka: { offset?: number; offsets?: number[] } };
      // Single mode: one record per message (msg.kafka.offset). Batch mode: msg.kafka.offsets lists the
      // records of msg.payload, in order, also for each part of a batch that validate split.
      const listen = (id: string, where: Outcome['where']) =>
        helper.getNode(id).on('input', (m: Msg) => {
          if (mode === 'single' || where === 'decode') {
            outcomes.push({ where, offset: m.kafka.offset as number });
            return;
          }
          const offs = m.kafka.offsets as number[];
          if (!Array.isArray(m.payload) || offs.length !== m.payload.length) errors.push(`${id}: msg.kafka.offsets (${offs.length}) do not match the payload`);
          for (const offset of offs) outcomes.push({ where, offset });
        });
      listen('decodeErr', 'decode');
      listen('valid', 'valid');
      listen('invalid', 'invalid');

      const protoKeys = Object.getOwnPropertyNames(Object.prototype).sort();
      let produced = 0;
      let nextOffset = 0;
      const sendAll = async (values: Value[]): Promise<void> => {
        const messages: Message[] = values.map((value, i) => ({ key: i % 3 === 0 ? null : `fuzz-${i}`, value }));
        const [meta] = await producer.send({ topic, acks: -1, messages });
        assert.equal(Number(meta.baseOffset), nextOffset);
        const want = new Set<number>();
        for (let i = 0; i < values.length; i++) want.add(nextOffset + i);
        nextOffset += values.length;
        produced += values.length;
        const deadline = Date.now() + 30_000;
        for (;;) {
          const seen = outcomes.filter((o) => want.has(o.offset)).length;
          if (seen >= want.size) break;
          if (Date.now() > deadline) {
            const out = new Set(outcomes.map((o) => o.offset));
            const lost = values.map((v, i) => [nextOffset - values.length + i, v] as const).filter(([o]) => !out.has(o));
            const preview = lost.slice(0, 3).map(([o, v]) => `${o}: ${v === null ? 'null' : String(v).slice(0, 80)}`);
            throw new Error(`${seen}/${want.size} records came out; missing ${preview.join(' | ')}; errors: ${errors.join('; ')}; kafka in: ${notes.slice(-8).join('; ')}`);
          }
          await sleep(10);
        }
        forgetSpyCalls(helper);
      };

      // Warm-up (every kind of record, the 10 MB ones too, one per request: the topic takes records up
      // to 16 MB and a request is one record batch), then the heap baseline.
      await sendAll(fc.sample(recordValue, { numRuns: 30, seed: 42 }));
      for (const v of bigValues()) await sendAll([v]);
      const heapBefore = heapAfterGc();
      let runs = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(recordValue, { minLength: 1, maxLength: 12 }), async (values) => {
          runs++;
          await sendAll(values);
          assert.deepEqual(errors, []);
        }),
        { numRuns: RUNS, endOnFailure: true },
      );
      for (const v of bigValues()) await sendAll([v]);
      await sleep(200);
      const heapAfter = heapAfterGc();

      const byOffset = new Map<number, string[]>();
      for (const o of outcomes) byOffset.set(o.offset, [...(byOffset.get(o.offset) ?? []), o.where]);
      const twice = [...byOffset].filter(([, w]) => w.length !== 1);
      const counts = { decode: 0, valid: 0, invalid: 0 };
      for (const o of outcomes) counts[o.where]++;
      console.log(
        `      ${runs} fast-check runs, ${produced} records (6 of 10 MB): ${counts.decode} kafka in output 2, ${counts.valid} valid, ${counts.invalid} invalid;` +
          ` heap after GC ${mb(heapBefore)} → ${mb(heapAfter)}`,
      );
      assert.deepEqual(twice.slice(0, 5), [], 'a record on more than one output');
      assert.equal(byOffset.size, produced, 'every record came out');
      assert.deepEqual(errors, []);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
      assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), protoKeys, 'Object.prototype unchanged');
      assert.equal(({} as { constructor: unknown }).constructor, Object);
      assert.equal(([] as unknown as Record<string, unknown>).polluted, undefined);
      assert.ok(heapAfter - heapBefore < 24 * 1048576, `heap grew by ${mb(heapAfter - heapBefore)}`);
    });
  }
});

/**
 * Single records that once stopped or escaped the pipeline, as plain regression tests (the fuzz above
 * finds them too, with less readable counterexamples).
 */
describe('reliability > hostile records that must not stall a partition', function () {
  this.timeout(90_000);
  let producer: Producer;
  let folder = '';

  before(async function () {
    await requireKafka(this);
    producer = kafkaClient({ clientId: 'smoke-hostile' }).producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    await producer.connect();
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-hostile-'));
  });

  after(async function () {
    await producer?.disconnect();
    if (folder) fs.rmSync(folder, { recursive: true, force: true });
  });

  afterEach(async function () {
    await helper.unload();
  });

  const reading = (t: number) =>
    JSON.stringify({ 'Temperature[C]': 20, 'Humidity[%]': 50, 'TVOC[ppb]': 0, 'eCO2[ppm]': 400, 'Raw H2': 12000, 'Raw Ethanol': 19000, 'Pressure[hPa]': 939.7, 'PM1.0': 0, 'PM2.5': 0, 'NC0.5': 0, 'NC1.0': 0, 'NC2.5': 0, CNT: t, 'Fire Alarm': 0, UTC: 1_654_733_331 + t, device_id: 'h1' });

  /**
   * kafka in (after-sink commits) → sensor validate → csv sink (readings) and csv sink (rejects, also for
   * kafka in output 2): produce `values`, then wait for the group's commit to pass all of them.
   */
  async function throughPipeline(mode: 'single' | 'batch', values: Array<string | null>, tap = false): Promise<{ committed: number; warnings: string[]; rows: number; rejects: number }> {
    const topic = uniqueTopic(`rel-hostile-${mode}`);
    await createTopic(topic, 1);
    await producer.send({ topic, acks: -1, messages: values.map((value) => ({ key: 'h1', value })) });
    const sub = fs.mkdtempSync(path.join(folder, `${mode}-`));
    const flow = [
      brokerNode(),
      // with `tap`, output 1 also goes to a second node (a debug node, say): Node-RED then sends that one a deep copy
      { id: 'in', type: 'smoke-kafka-in', broker: 'broker', topics: topic, groupId: `${topic}-g`, mode, commit: 'after-sink', commitInterval: 200, backoffInitial: 200, backoffMax: 1000, wires: [tap ? ['validate', 'tap'] : ['validate'], ['sinkRejects'], []] },
      { id: 'tap', type: 'helper' },
      { id: 'validate', type: 'smoke-sensor-validate', wires: [['sinkReadings'], ['sinkRejects']] },
      { id: 'sinkReadings', type: 'smoke-csv-sink', folder: sub, flushInterval: 10, wires: [[]] },
      { id: 'sinkRejects', type: 'smoke-csv-sink', folder: sub, preset: 'rejects', flushInterval: 10, wires: [[]] },
    ];
    await helper.load([brokerModule, inModule, validateModule, nodeModule('csv-sink')], flow);
    const warnings: string[] = [];
    helper.getNode('in').on('call:warn', (c: { args: unknown[] }) => warnings.push(String(c.args[0])));
    let committed = 0;
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; await sleep(250)) {
      committed = (await committedOffsets(`${topic}-g`, topic))[0] ?? 0;
      if (committed >= values.length) break;
    }
    await helper.unload();
    const lines = (prefix: string) =>
      fs.readdirSync(sub).filter((f) => f.startsWith(prefix)).reduce((n, f) => n + fs.readFileSync(path.join(sub, f), 'utf8').trim().split('\n').length - 1, 0);
    return { committed, warnings, rows: lines('historical_'), rejects: lines('rejects_') };
  }

  for (const [mode, tap] of [['single', false], ['batch', true]] as const) {
    it(`${mode} mode${tap ? ', output 1 wired to two nodes' : ''}: a record nested 100,000 levels deep goes to the rejects and the records after it still flow`, async function () {
      const deepValue = '['.repeat(100_000) + ']'.repeat(100_000);
      const got = await throughPipeline(mode, [reading(1), deepValue, reading(2), reading(3)], tap);
      assert.deepEqual(got.warnings.slice(0, 2), [], 'the consumer did not stop');
      assert.equal(got.committed, 4, 'the commit passed every record');
      assert.equal(got.rows, 3);
      assert.equal(got.rejects, 1);
    });
  }

  for (const mode of ['single', 'batch'] as const) {
    it(`${mode} mode: a record whose value is an empty JSON array does not hold the after-sink commit back`, async function () {
      const got = await throughPipeline(mode, [reading(1), '[]', reading(2)]);
      assert.equal(got.committed, 3, `the commit passed the empty array (committed ${got.committed} of 3)`);
      assert.equal(got.rows, 2, 'readings written');
    });
  }
});
