/**
 * `smoke-sliding-window`: event-time sliding windows per device with a watermark (CONTRACT §5), on the
 * pane-based aggregation of `lib/window.ts`. Output 1: window results (new messages); output 2: late
 * readings. Behind one `kafka in` (state `auto` / `changelog`) the windows of each source partition are
 * checkpointed into the node's changelog topic and follow the partition (nodes/nr/partition-tasks.ts);
 * otherwise (`context`) they are checkpointed to the node's context: a persistent context store keeps
 * open windows across restarts, Kafka commits wait for the checkpoint that holds their records
 * (checkpoint.ts), and redelivered Kafka records are not counted twice (OffsetGate). This file parses
 * the config; the per-message work is runner.ts.
 */
import { reportTimerErrors } from '../nr/timers';
import type { Done, Node, NodeDef, NodeMessage, RED, Send } from '../nr/types';
import { ConfigReader } from '../nr/config';
import { handleInputError, reportBadConfig } from '../nr/errors';
import { useCatalogues } from '../nr/i18n';
import { setStatus } from '../nr/status';
import { NodeMetrics, installMetricsEndpoint } from '../nr/metrics';
import { parseAggregates, DEFAULT_AGGREGATES } from '../lib/panes';
import { windowOptionProblems, type OutputMode } from '../lib/window';
import { DEFAULT_MAX_DEVICES } from '../lib/devices';
import { IDLE_TIMEOUT_UNIT, checkpointStore, nodeContextFile, type TimeSource } from './support';
import { WindowRunner } from './runner';
import { changelogSource, recordEnds, trackedSinks } from '../nr/flow-graph';
import { watchFlowAround } from '../nr/flow-watch';
import { editorSettings } from '../nr/editor-settings';

/**
 * Checkpoints of stopped nodes by node id, for runtimes without configured context stores: Node-RED
 * then deletes a node's context when it stops, and this keeps open windows across a redeploy.
 */
const stash = new Map<string, unknown>();
const TIME_SOURCES: readonly TimeSource[] = ['event', 'kafka', 'arrival'];
const MODES: readonly OutputMode[] = ['append', 'update'];
/** Where the state lives: `auto` is the changelog behind a `kafka in`, else the context store. */
const STATES = ['auto', 'changelog', 'context', 'none'] as const;
type Substitutions = Record<string, string | number> | undefined;

export = function (RED: RED) {
  useCatalogues(RED);
  installMetricsEndpoint(RED);

  function SlidingWindowNode(this: Node & { name?: string; z?: string; _alias?: string }, config: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, config);
    const node = this;
    const c = new ConfigReader(config);
    const sizeMs = c.duration('size', 300_000);
    const slideMs = c.duration('slide', 60_000);
    const delayMs = c.duration('watermark', 600_000, 'ms', { min: 0 });
    const timeSource = c.oneOf('timeSource', TIME_SOURCES, 'event');
    const mode = c.oneOf('outputMode', MODES, 'append');
    const maxDevices = c.number('maxDevices', DEFAULT_MAX_DEVICES, { min: 0, integer: true });
    const idleMs = c.duration('idleTimeout', 0, IDLE_TIMEOUT_UNIT, { min: 0 });
    const checkpointMs = c.duration('checkpoint', 10_000, 'ms', { min: 0 });
    const aggs = parseAggregates(c.string('aggregates', DEFAULT_AGGREGATES.join(', ')));
    const state = c.oneOf('state', STATES, 'auto');
    const changelogOf = changelogSource(RED, node.id, state, c.problems);
    const settings = RED.settings as unknown as Record<string, unknown>;
    const store = state === 'none' ? checkpointStore({}, '') : checkpointStore(settings, c.string('store', ''));
    const holdCommits = c.boolean('holdCommits', true);
    const opts = { sizeMs, slideMs, delayMs, aggregates: aggs.specs, mode, arrival: timeSource === 'arrival', maxDevices, idleMs };
    const problems = [...c.problems, ...aggs.problems, ...store.problems, ...windowOptionProblems(opts)];
    if (problems.length > 0) return reportBadConfig(node, problems);

    // Readings that end here (kept, or late to an output 2 without wires) with nobody behind to acknowledge them.
    const ends = recordEnds(RED, node.id, 2);
    watchFlowAround(RED, node, () => {
      const source = changelogSource(RED, node.id, state);
      return [source, trackedSinks(RED, node.id, 0, source), recordEnds(RED, node.id, 2)];
    });
    const runner = new WindowRunner(
      {
        windows: opts,
        timeSource,
        store,
        contextFile: store.writeBehind ? nodeContextFile(store.writeBehind.dir, node) : undefined,
        holdCommits,
        checkpointMs,
        stash,
        changelogOf,
        trackResults: trackedSinks(RED, node.id, 0, changelogOf),
        recordsEnd: { kept: ends.here, late: ends.outputs[1] },
      },
      {
        id: node.id,
        context: node.context(),
        metrics: new NodeMetrics(node),
        send: node.send.bind(node),
        status: (text) => setStatus(node, 'count', text),
        warn: (key, info) => node.warn(RED._(`smoke-sliding-window.warn.${key}`, info as Substitutions)),
        log: (key, info) => node.log(RED._(`smoke-sliding-window.log.${key}`, info as Substitutions)),
        fail: (err, done) => handleInputError(node, err, done),
        timerError: reportTimerErrors(node, RED._('smoke-sliding-window.log.timer')),
      },
    );
    node.on('input', (msg: NodeMessage, send: Send, done: Done) => runner.handle(msg, send, done));
    node.on('close', (removed: boolean, done: () => void) => void runner.close(removed).then(() => done()));
    runner.start();
  }

  RED.nodes.registerType('smoke-sliding-window', SlidingWindowNode, editorSettings('smoke-sliding-window'));
};
