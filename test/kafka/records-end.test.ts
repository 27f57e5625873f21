/**
 * After-sink commits when a reading's path ends without a csv sink: in the sliding window that keeps it
 * (the seed's query: kafka in → sensor validate → sliding window → csv sink of the window results), or
 * on an output without wires (sensor validate's rejects, a detector's pass-through). The node where the
 * records end acknowledges them (after its checkpoint holds them, when it keeps state); before, nothing
 * did, and kafka in stopped at its in-flight limit without ever committing.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createTopic, requireKafka, uniqueTopic } from './broker';
import { brokerModule, brokerNode, endOffsets, helper, inModule, jsonMessages, kafkaInNode, nodeModule, produce, readings, waitFor, waitForCommitted } from './_kafka-nodes';

const modules = [brokerModule, inModule, nodeModule('sensor-validate'), nodeModule('sliding-window'), nodeModule('threshold-alert'), nodeModule('csv-sink')];

describe('kafka in > after-sink commits of records that end without a sink', function () {
  this.timeout(90_000);
  let dir = '';

  before(async function () {
    await requireKafka(this);
  });

  afterEach(async function () {
    await helper.unload();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    dir = '';
  });

  for (const [processing, mode] of [
    ['at-least-once', 'batch'],
    ['exactly-once', 'batch'],
    ['exactly-once', 'single'],
  ] as const) {
    it(`${processing}, ${mode} mode: kafka in → validate → sliding window → csv sink (windows) commits every offset, past its in-flight limit`, async function () {
      const topic = uniqueTopic('records-end-window');
      await createTopic(topic, 2);
      // 20 devices × 60 readings = 20 minutes of event time a device: windows close and are written.
      await produce(topic, jsonMessages(readings(1200, 20)));
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-records-end-'));
      const flow = [
        brokerNode(),
        { ...kafkaInNode(topic, { commit: 'after-sink', processing, mode, maxBatch: 50, maxInFlight: 100, commitInterval: 100 }), wires: [['validate'], [], []] },
        { id: 'validate', type: 'smoke-sensor-validate', wires: [['window'], []] },
        { id: 'window', type: 'smoke-sliding-window', wires: [['csv'], []] },
        { id: 'csv', type: 'smoke-csv-sink', preset: 'windows', folder: dir, wires: [] },
      ];
      await helper.load(modules, flow);
      await waitForCommitted(`${topic}-group`, topic, await endOffsets(topic), 60_000);
      const rows = () =>
        fs
          .readdirSync(dir)
          .filter((f) => f.startsWith('window_results_'))
          .flatMap((f) => fs.readFileSync(path.join(dir, f), 'utf8').split(/\r?\n/).slice(1).filter(Boolean));
      await waitFor(() => rows().length > 0, 10_000, () => 'window results in the csv file');
    });
  }

  it('rejects to an output without wires and a threshold alert whose readings output has none: every offset committed', async function () {
    const topic = uniqueTopic('records-end-unwired');
    await createTopic(topic, 2);
    const msgs = jsonMessages(readings(400, 8));
    // Invalid readings (validate's output 2, not wired) among the valid ones.
    for (let i = 0; i < 40; i++) msgs.splice(i * 10, 0, { key: 'dev-00', value: JSON.stringify({ device_id: 'dev-00', UTC: 1654733331, 'Temperature[C]': 'hot' }) });
    await produce(topic, msgs);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-records-end-'));
    const flow = [
      brokerNode(),
      { ...kafkaInNode(topic, { commit: 'after-sink', mode: 'batch', maxBatch: 20, maxInFlight: 60, commitInterval: 100 }), wires: [['validate'], [], []] },
      { id: 'validate', type: 'smoke-sensor-validate', wires: [['threshold'], []] },
      { id: 'threshold', type: 'smoke-threshold-alert', wires: [[], ['alertsCsv']] },
      { id: 'alertsCsv', type: 'smoke-csv-sink', preset: 'alerts', folder: dir, wires: [] },
    ];
    await helper.load(modules, flow);
    const ends = await endOffsets(topic);
    assert.equal(Object.values(ends).reduce((a, b) => a + b, 0), 440);
    await waitForCommitted(`${topic}-group`, topic, ends, 60_000);
  });
});
