/**
 * Rejects keep their Kafka position (issue 14): kafka in (batch mode, after-sink commits) → sensor
 * validate → csv sink (readings, rejects), with kafka in's own output 2 (records that are not JSON)
 * into the same rejects sink. Every rejected record's row holds its topic, partition, offset, key and
 * reasons, read back from the file and checked against the records as produced.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Message } from 'kafkajs';
import { createTopic, requireKafka, uniqueTopic } from './broker';
import { brokerModule, brokerNode, endOffsets, helper, inModule, kafkaInNode, nodeModule, produce, waitForCommitted } from './_kafka-nodes';
import { badReadings, expectedReasons, goodReading, readRejects } from '../fixtures/rejects';

describe('kafka in → sensor validate → csv sink: rejects keep their Kafka position', function () {
  this.timeout(60_000);
  let dir: string | undefined;

  before(async function () {
    await requireKafka(this);
  });

  afterEach(async function () {
    await helper.unload();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('batch mode: 12 bad readings among good ones in one batch, plus 2 records that are not JSON, each written with its offset, key and reasons', async function () {
    const topic = uniqueTopic('rejects-batch');
    // One partition: the offsets are the positions in `messages`, and one fetch brings the whole batch.
    await createTopic(topic, 1);
    const bad = badReadings();
    const messages: Message[] = [];
    /** Offset → what its row must say. */
    const expected = new Map<number, { key: string; reasons: string; input: string; source: string }>();
    for (let i = 0, b = 0; i < 40; i++) {
      const key = `dev-${i % 5}`;
      if (i % 3 === 2 && b < bad.length) {
        const input = bad[b++];
        messages.push({ key, value: JSON.stringify(input) });
        expected.set(i, { key, reasons: expectedReasons(input), input: JSON.stringify(input), source: 'validate' });
      } else if (i === 10 || i === 30) {
        const raw = i === 10 ? '{"device_id": "dev-0", broken' : 'not json at all';
        messages.push({ key, value: raw });
        expected.set(i, { key, reasons: '', input: raw, source: 'kafka' });
      } else messages.push({ key, value: JSON.stringify(goodReading(i)) });
    }
    assert.equal([...expected.values()].filter((e) => e.source === 'validate').length, 12);
    await produce(topic, messages);

    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-kafka-rejects-'));
    const flow = [
      brokerNode(),
      { ...kafkaInNode(topic, { mode: 'batch', commit: 'after-sink', commitInterval: 100 }), wires: [['validate', 'batches'], ['csvRejects'], []] },
      { id: 'batches', type: 'helper' },
      { id: 'validate', type: 'smoke-sensor-validate', wires: [['csvReadings'], ['csvRejects']] },
      { id: 'csvReadings', type: 'smoke-csv-sink', preset: 'readings', folder: dir, flushInterval: 20, wires: [] },
      { id: 'csvRejects', type: 'smoke-csv-sink', preset: 'rejects', folder: dir, flushInterval: 20, wires: [] },
    ];
    await helper.load([brokerModule, inModule, nodeModule('sensor-validate'), nodeModule('csv-sink')], flow);
    const batches: number[] = [];
    helper.getNode('batches').on('input', (msg: { payload: unknown[] }) => batches.push(msg.payload.length));
    // Committed to the end: every record, the rejects included, is on disk.
    await waitForCommitted(`${topic}-group`, topic, await endOffsets(topic), 30_000);

    assert.deepEqual(batches, [38], 'the 38 decodable records came in one batch');
    const rows = readRejects(dir);
    assert.equal(rows.length, expected.size, 'one row per rejected record');
    for (const row of rows) {
      const want = expected.get(Number(row.offset));
      assert.ok(want, `a row with an offset of a rejected record (got ${JSON.stringify(row.offset)})`);
      const { source, topic: t, partition, key, input } = row;
      assert.deepEqual({ source, topic: t, partition, key, input }, { source: want.source, topic, partition: '0', key: want.key, input: want.input }, `offset ${row.offset}`);
      if (want.source === 'validate') assert.equal(row.reasons, want.reasons, `reasons of offset ${row.offset}`);
      else assert.match(row.reasons, /^invalid JSON: /, `reason of offset ${row.offset}`);
    }
    assert.deepEqual(rows.map((r) => Number(r.offset)).sort((a, b) => a - b), [...expected.keys()], 'every rejected record once');
  });
});
