/**
 * Records that end at a node with nobody behind to acknowledge them (nodes/nr/flow-graph.ts
 * recordsEndHere / recordEnds, nodes/nr/ack.ts settle): the sliding window that keeps the readings
 * of `kafka in → sensor validate → sliding window`, an output without wires. Without them an after-sink
 * kafka in stops at its in-flight limit (test/kafka/records-end.test.ts runs the flows on the broker).
 */
import { strict as assert } from 'node:assert';
import { ackingSinks, changelogSource, recordEnds, recordsEndHere, sinkRole, trackedSinks } from '../../nodes/nr/flow-graph';
import { ack, holdUntilAcked, holdUntilHandedOn, registerConsumer, settle, unregisterConsumer } from '../../nodes/nr/ack';
import { OffsetTracker } from '../../nodes/lib/kafka-offsets';
import type { RED } from '../../nodes/nr/types';

type Def = { id: string; type: string; wires?: string[][]; links?: string[]; d?: boolean };

function red(defs: Def[]): RED {
  return { nodes: { eachNode: (cb: (n: Def) => void) => defs.forEach(cb) } } as unknown as RED;
}

const kin = (wires: string[][], extra: Partial<Def> = {}): Def => ({ id: 'in', type: 'smoke-kafka-in', wires, ...extra });

describe('records that end at a node (after-sink acknowledgements)', () => {
  it('a node behind kafka in with no csv sink on the way: records end there', () => {
    const r = red([kin([['validate'], [], []]), { id: 'validate', type: 'smoke-sensor-validate', wires: [['window'], []] }, { id: 'window', type: 'smoke-sliding-window', wires: [['csv'], []] }, { id: 'csv', type: 'smoke-csv-sink', wires: [] }]);
    assert.equal(recordsEndHere(r, 'window'), true);
    assert.equal(recordsEndHere(r, 'validate'), true);
    assert.deepEqual(recordEnds(r, 'validate', 2).outputs, [false, true], 'rejects to an output without wires');
    assert.deepEqual(recordEnds(r, 'window', 2).outputs, [false, true], 'late readings to an output without wires');
  });

  it('behind a csv sink the sink acknowledges: the node does not, not even on a mixed path', () => {
    const r = red([
      kin([['validate'], [], []]),
      { id: 'validate', type: 'smoke-sensor-validate', wires: [['readings', 'window'], ['rejects']] },
      { id: 'readings', type: 'smoke-csv-sink', wires: [['window', 'threshold']] },
      { id: 'rejects', type: 'smoke-csv-sink', wires: [] },
      { id: 'threshold', type: 'smoke-threshold-alert', wires: [[], []] },
      { id: 'window', type: 'smoke-sliding-window', wires: [[], []] },
    ]);
    assert.equal(recordsEndHere(r, 'threshold'), false);
    assert.deepEqual(recordEnds(r, 'threshold', 2).outputs, [false, false]);
    assert.equal(recordsEndHere(r, 'window'), false, 'one path through the readings sink: it acknowledges');
    assert.deepEqual(recordEnds(r, 'validate', 2).outputs, [false, false], 'both outputs wired');
  });

  it('a csv sink beside the way gets the same records (a fan-out): it acknowledges, the node does not', () => {
    // The reliability pipeline: fire pattern → csv sink (readings) and → sliding window.
    const r = red([
      kin([['validate'], ['rejects'], []]),
      { id: 'validate', type: 'smoke-sensor-validate', wires: [['fire'], ['rejects']] },
      { id: 'fire', type: 'smoke-fire-pattern', wires: [['readings', 'window'], ['alerts']] },
      { id: 'readings', type: 'smoke-csv-sink', wires: [[]] },
      { id: 'rejects', type: 'smoke-csv-sink', wires: [[]] },
      { id: 'alerts', type: 'smoke-csv-sink', wires: [[]] },
      { id: 'window', type: 'smoke-sliding-window', wires: [['windows'], []] },
      { id: 'windows', type: 'smoke-csv-sink', wires: [[]] },
    ]);
    assert.equal(recordsEndHere(r, 'window'), false);
    assert.deepEqual(recordEnds(r, 'window', 2).outputs, [false, false], 'late readings: the readings sink has them too');
    // A function node may send one record on both outputs: a sink on its other output gets it too.
    const f = red([
      kin([['fn'], [], []]),
      { id: 'fn', type: 'function', wires: [['window'], ['csv']] },
      { id: 'csv', type: 'smoke-csv-sink', wires: [[]] },
      { id: 'window', type: 'smoke-sliding-window', wires: [[], []] },
    ]);
    assert.equal(recordsEndHere(f, 'window'), false);
  });

  it('a sink on another output of sensor validate, or behind the results, gets other records: the node still acknowledges its own', () => {
    // The seed's query with its rejects written: validate → window → csv sink (windows), validate's rejects → csv sink.
    const r = red([
      kin([['validate'], ['rejects'], []]),
      { id: 'validate', type: 'smoke-sensor-validate', wires: [['window'], ['rejects']] },
      { id: 'rejects', type: 'smoke-csv-sink', wires: [[]] },
      { id: 'window', type: 'smoke-sliding-window', wires: [['windows', 'windowAlert'], []] },
      { id: 'windows', type: 'smoke-csv-sink', wires: [[]] },
      { id: 'windowAlert', type: 'smoke-window-alert', wires: [[], ['alerts']] },
      { id: 'alerts', type: 'smoke-csv-sink', wires: [[]] },
      { id: 'threshold', type: 'smoke-threshold-alert', wires: [[], ['alerts']] },
    ]);
    assert.equal(recordsEndHere(r, 'window'), true);
    assert.deepEqual(recordEnds(r, 'window', 2).outputs, [false, true]);
    // The sinks that acknowledge the window's results (the same downstream walk): both csv sinks behind output 1.
    assert.equal(ackingSinks(r, 'window', 0), 2);
    assert.equal(ackingSinks(r, 'window', 1), 0);
    assert.equal(ackingSinks(r, 'validate', 1), 1);
  });

  it("a stateful node's changelog: the one kafka in upstream in state auto or changelog, none in any other mode; results tracked only with one", () => {
    const window = { id: 'window', type: 'smoke-sliding-window', wires: [['csv'], []] };
    const csv = { id: 'csv', type: 'smoke-csv-sink', wires: [] };
    const one = red([kin([['window'], [], []]), window, csv]);
    const two = red([kin([['window'], [], []]), kin([['window'], [], []], { id: 'in2' }), window, csv]);
    for (const mode of ['auto', 'changelog']) assert.equal(changelogSource(one, 'window', mode), 'in', mode);
    for (const mode of ['none', 'context']) assert.equal(changelogSource(one, 'window', mode), undefined, mode);
    const problems: string[] = [];
    assert.equal(changelogSource(two, 'window', 'auto', problems), undefined);
    assert.deepEqual(problems, [], 'auto: memory only, no problem');
    assert.equal(changelogSource(two, 'window', 'changelog', problems), undefined);
    assert.equal(problems.length, 1, 'changelog needs exactly one kafka in');
    assert.equal(trackedSinks(one, 'window', 0, 'in'), 1);
    assert.equal(trackedSinks(one, 'window', 0, undefined), 0, 'without a changelog nothing is tracked');
  });

  it('a kafka out acknowledges what it sends, in either processing mode: it counts as a sink of the results, and the node behind it does not settle', () => {
    const r = red([
      kin([['validate'], [], []]),
      { id: 'validate', type: 'smoke-sensor-validate', wires: [['threshold', 'out'], []] },
      { id: 'out', type: 'smoke-kafka-out', wires: [] },
      { id: 'threshold', type: 'smoke-threshold-alert', wires: [[], ['alertsOut', 'alertsCsv']] },
      { id: 'alertsOut', type: 'smoke-kafka-out', wires: [] },
      { id: 'alertsCsv', type: 'smoke-csv-sink', wires: [[]] },
    ]);
    assert.equal(ackingSinks(r, 'threshold', 1), 2, 'the alerts reach a kafka out and a csv sink: both acknowledge each');
    assert.equal(recordsEndHere(r, 'threshold'), false, 'the kafka out beside the detector gets the same readings and acknowledges them');
  });

  it('no kafka in upstream (or only a disabled one): nothing to acknowledge', () => {
    assert.equal(recordsEndHere(red([{ id: 'sim', type: 'smoke-sensor-sim', wires: [['window']] }, { id: 'window', type: 'smoke-sliding-window', wires: [[], []] }]), 'window'), false);
    assert.equal(recordsEndHere(red([kin([['window']], { d: true }), { id: 'window', type: 'smoke-sliding-window', wires: [[], []] }]), 'window'), false);
  });

  it('follows link out → link in, and a loop ends', () => {
    const r = red([
      kin([['lo'], [], []]),
      { id: 'lo', type: 'link out', links: ['li'] },
      { id: 'li', type: 'link in', wires: [['fire']] },
      { id: 'fire', type: 'smoke-fire-pattern', wires: [['fire'], []] },
    ]);
    assert.equal(recordsEndHere(r, 'fire'), true);
    assert.deepEqual(recordEnds(r, 'fire', 2).outputs, [false, true]);
  });

  it('settle acknowledges the records of a kafka in token, and leaves the tokens of a node\'s own outputs alone', () => {
    const acks: [number, number][] = [];
    const outputs: [number, number][] = [];
    registerConsumer('unit-in', { ack: (id, n) => acks.push([id, n]) });
    registerConsumer('unit-window/out', (id, n) => outputs.push([id, n]));
    try {
      settle({ payload: [1, 2, 3], kafka: { ack: { consumer: 'unit-in', id: 7, records: 10 } } });
      settle({ payload: { deviceId: 'a' }, kafka: { ack: { consumer: 'unit-in', id: 8, records: 1 } } });
      settle({ payload: [1, 2], kafka: { ack: { consumer: 'unit-in', id: 9, records: 10 } } }, 0);
      settle({ payload: [1], kafka: { ack: { consumer: 'unit-window/out', id: 1, records: 1 } } });
      settle({ payload: [1] });
      settle({ payload: [1], kafka: { ack: { consumer: 'gone', id: 1, records: 1 } } });
    } finally {
      unregisterConsumer('unit-in');
      unregisterConsumer('unit-window/out');
    }
    assert.deepEqual(acks, [
      [7, 3],
      [8, 1],
    ]);
    assert.deepEqual(outputs, []);
  });

  it('a sink shares records when another csv sink or kafka out gets the same ones, on the way or beside it; not the valid readings and the rejects', () => {
    const r = red([
      kin([['validate'], ['rejects'], []]),
      { id: 'validate', type: 'smoke-sensor-validate', wires: [['readings', 'backup', 'forward', 'threshold'], ['rejects']] },
      { id: 'readings', type: 'smoke-csv-sink', wires: [] },
      { id: 'backup', type: 'smoke-csv-sink', wires: [] },
      { id: 'forward', type: 'smoke-kafka-out', wires: [] },
      { id: 'rejects', type: 'smoke-csv-sink', wires: [] },
      { id: 'threshold', type: 'smoke-threshold-alert', wires: [[], ['alerts']] },
      { id: 'alerts', type: 'smoke-csv-sink', wires: [] },
    ]);
    for (const id of ['readings', 'backup', 'forward']) assert.equal(sinkRole(r, id).holds, true, id);
    assert.equal(sinkRole(r, 'rejects').holds, false, "validate's outputs carry other records; kafka in's output 2 others again");
    assert.equal(sinkRole(r, 'alerts').holds, true, "alerts carry no records, but the detector's readings reach the other sinks beside it (its hold is then a no-op: no kafka in token)");
    const alone = red([kin([['validate'], [], []]), { id: 'validate', type: 'smoke-sensor-validate', wires: [['readings'], ['rejects']] }, { id: 'readings', type: 'smoke-csv-sink', wires: [] }, { id: 'rejects', type: 'smoke-csv-sink', wires: [] }]);
    assert.equal(sinkRole(alone, 'readings').holds, false, 'one sink a record: nothing to hold');
    assert.equal(sinkRole(red([{ id: 'sim', type: 'smoke-sensor-sim', wires: [['a', 'b']] }, { id: 'a', type: 'smoke-csv-sink' }, { id: 'b', type: 'smoke-csv-sink' }]), 'a').holds, false, 'no kafka in: no tokens');
  });

  it('two sinks of the same records: the unit completes when the second one acknowledged, not the first', () => {
    const tracker = new OffsetTracker();
    registerConsumer('unit-in2', { ack: (id, n) => tracker.ack(id, n), hold: (id, h) => tracker.hold(id, h), release: (id, h) => void tracker.release(id, h) });
    try {
      const id = tracker.track('t', 0, 0, 9, 10, Date.now());
      const msg = (): { payload: number[]; kafka: unknown } => ({ payload: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], kafka: { ack: { consumer: 'unit-in2', id, records: 10 } } });
      // Both sinks get the message in the same step (a fan-out), before either wrote it.
      const [a, b] = [msg(), msg()];
      const releaseA = holdUntilAcked(a, 'csvA');
      const releaseB = holdUntilAcked(b, 'outB');
      ack((a.kafka as { ack: unknown }).ack, 10);
      releaseA();
      assert.equal(tracker.commitOffset('t', 0), 0, 'one sink wrote the records, the other has not: no commit past them');
      ack((b.kafka as { ack: unknown }).ack, 10);
      releaseB();
      assert.equal(tracker.commitOffset('t', 0), 10, 'both wrote them');
      assert.doesNotThrow(() => holdUntilAcked({ payload: 1 }, 'csvA')(), 'no token: nothing held, the release does nothing');
    } finally {
      unregisterConsumer('unit-in2');
    }
  });

  it('a csv sink whose output leads to another sink (archive, then publish) leaves the acknowledgement to that sink', () => {
    const r = red([
      kin([['validate'], [], []]),
      { id: 'validate', type: 'smoke-sensor-validate', wires: [['archive', 'threshold'], []] },
      { id: 'archive', type: 'smoke-csv-sink', wires: [['fn']] },
      { id: 'fn', type: 'function', wires: [['publish']] },
      { id: 'publish', type: 'smoke-kafka-out', wires: [] },
      { id: 'threshold', type: 'smoke-threshold-alert', wires: [[], ['alertsCsv', 'alertsDebugCsv']] },
      { id: 'alertsCsv', type: 'smoke-csv-sink', wires: [['publishAlerts']] },
      { id: 'publishAlerts', type: 'smoke-kafka-out', wires: [] },
      { id: 'alertsDebugCsv', type: 'smoke-csv-sink', wires: [['debug']] },
      { id: 'debug', type: 'debug', wires: [] },
    ]);
    assert.equal(sinkRole(r, 'archive').acknowledges, false, 'the kafka out behind it acknowledges, once it has them too');
    assert.equal(sinkRole(r, 'archive').holds, false, 'no other sink gets its records: only the kafka out behind it completes them');
    assert.equal(sinkRole(r, 'publish').holds, true, 'a sink on the way: it holds until sent');
    assert.equal(sinkRole(r, 'publish').acknowledges, true);
    assert.equal(sinkRole(r, 'alertsDebugCsv').acknowledges, true, 'a debug node behind a sink is no sink');
    assert.equal(ackingSinks(r, 'threshold', 1), 2, "the detector's alerts: acknowledged by the kafka out behind the first csv sink, and by the second csv sink");
  });

  it('archive, then publish, beside another sink of the same records: the archive holds them until the kafka out behind it holds them', () => {
    const r = red([
      kin([['validate'], [], []]),
      { id: 'validate', type: 'smoke-sensor-validate', wires: [['archive', 'backup'], []] },
      { id: 'archive', type: 'smoke-csv-sink', wires: [['publish']] },
      { id: 'publish', type: 'smoke-kafka-out', wires: [] },
      { id: 'backup', type: 'smoke-csv-sink', wires: [] },
    ]);
    assert.deepEqual(sinkRole(r, 'archive'), { acknowledges: false, holds: true });
    assert.deepEqual(sinkRole(r, 'backup'), { acknowledges: true, holds: true });
    assert.deepEqual(sinkRole(r, 'publish'), { acknowledges: true, holds: true });

    const tracker = new OffsetTracker();
    registerConsumer('unit-in3', {
      ack: (id, n) => tracker.ack(id, n),
      hold: (id, h) => tracker.hold(id, h),
      release: (id, h) => void tracker.release(id, h),
      handOn: (id, h) => tracker.handOn(id, h),
    });
    try {
      const id = tracker.track('t', 0, 0, 9, 10, Date.now());
      const msg = (): { payload: number[]; kafka: unknown } => ({ payload: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], kafka: { ack: { consumer: 'unit-in3', id, records: 10 } } });
      const [toArchive, toBackup] = [msg(), msg()];
      const handOn = holdUntilHandedOn(toArchive, 'archive');
      const releaseBackup = holdUntilAcked(toBackup, 'backup');
      // archive wrote its rows and passes the message on; backup writes its rows before publish has it
      handOn();
      ack((toBackup.kafka as { ack: unknown }).ack, 10);
      releaseBackup();
      assert.equal(tracker.commitOffset('t', 0), 0, 'on its way to publish: no commit past it');
      const releasePublish = holdUntilAcked(toArchive, 'publish');
      ack((toArchive.kafka as { ack: unknown }).ack, 10);
      assert.equal(tracker.commitOffset('t', 0), 0, 'publish holds them until the broker has them');
      releasePublish();
      assert.equal(tracker.commitOffset('t', 0), 10, 'every sink has them');
    } finally {
      unregisterConsumer('unit-in3');
    }
  });
});
