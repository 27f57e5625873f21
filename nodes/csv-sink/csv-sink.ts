/**
 * `smoke-csv-sink`: durable CSV files (CONTRACT §8). Rows are formatted by nodes/lib/csv-formatter.ts, written by
 * the queue in ./writer.ts; output 1 passes each input message on only once its rows are on disk, and
 * acknowledges its Kafka records then (`after-sink` commits).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ack, type HoldRelease, holdUntilAcked, holdUntilHandedOn, NOTHING_HELD } from '../nr/ack';
import { Deadline, settleWithin } from '../nr/kafka-client';
import { ConfigReader } from '../nr/config';
import { errorMessage, handleInputError, reportBadConfig } from '../nr/errors';
import { NodeMetrics, installMetricsEndpoint, kafkaTimeOf } from '../nr/metrics';
import { useCatalogues, type Translate } from '../nr/i18n';
import { ThrottledStatus, compact, setStatus } from '../nr/status';
import type { Done, Node, NodeDef, NodeMessage, RED, Send } from '../nr/types';
import {
  CSV_PRESETS,
  layoutFor,
  windowColumnsOf,
  parseColumns,
} from '../lib/csv-layouts';
import { CsvFormatter, CsvRowError } from '../lib/csv-formatter';
import { DEFAULT_FILE_PATTERN, checkRelativeName, fileName } from '../lib/csv-files';
import { rejectRows } from '../lib/csv-rejects';
import { splitTaskKey } from '../lib/changelog';
import { CsvWriter, UnwrittenError, type GroupCommit, type Segment } from './writer';
import { JournalFile, journalPath, recoverFiles } from './exactly-once';
import { SinkPositions, advance, covers, ofWriterGroup, parseSinkState, type Positions } from '../nr/sink-positions';
import { sinkRole, upstreamKafkaIns } from '../nr/flow-graph';
import { afterEveryDeploy, watchFlowAround } from '../nr/flow-watch';
import { tasksOf } from '../nr/partition-tasks';

/** Node-RED abandons a close after 15 s: give up on unwritten rows (with errors) well before, keeping time for the last commit. */
const CLOSE_WRITE_MS = 8000;

/**
 * A write error's cause as a user reads it in the status: each cause (its catalogue key under
 * `smoke-csv-sink.status.cause`) with the error codes that mean it.
 */
const CAUSE_CODES = { 'disk-full': ['ENOSPC'], quota: ['EDQUOT'], 'read-only': ['EROFS'], permission: ['EACCES', 'EPERM'], io: ['EIO'] };
const CAUSES = new Map(Object.entries(CAUSE_CODES).flatMap(([cause, codes]) => codes.map((code) => [code, `smoke-csv-sink.status.cause.${cause}`] as const)));

export = function (RED: RED) {
  useCatalogues(RED);
  const t: Translate = (key, substitutions) => RED._(key, substitutions);

  function causeOf(err: Error): string {
    const code = (err as NodeJS.ErrnoException).code;
    const cause = code ? CAUSES.get(code) : undefined;
    if (cause !== undefined) return t(cause);
    return code ?? t('smoke-csv-sink.status.cause.other');
  }

  function CsvSinkNode(this: Node, def: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, def);
    const node = this;
    const cfg = new ConfigReader(def);
    const preset = cfg.oneOf('preset', CSV_PRESETS, 'readings');
    // Relative folders resolve like Node-RED's file node: against settings.fileWorkingDirectory, else the
    // runtime's working directory (`npm start` runs in the project root, so its CSV lands in data/).
    const base = (RED.settings as unknown as { fileWorkingDirectory?: string }).fileWorkingDirectory || process.cwd();
    const folder = path.resolve(base, cfg.string('folder', 'data'));
    const pattern = cfg.string('filename', DEFAULT_FILE_PATTERN[preset]);
    const patternProblem = checkRelativeName(pattern);
    if (patternProblem) cfg.problems.push(t('smoke-csv-sink.config.filename', { problem: patternProblem }));
    let columns = parseColumns(def.columns);
    if (columns === null) cfg.problems.push(t('smoke-csv-sink.config.columns'));
    const timeKey = cfg.string('timeKey', 'timestamp');
    const byProcessing = preset === 'rejects' || cfg.oneOf('dateBy', ['event', 'processing'] as const, 'event') === 'processing';
    const allowMsgFilename = cfg.boolean('allowMsgFilename', false);
    const writerOpts = {
      folder,
      flushIntervalMs: cfg.duration('flushInterval', 200, 'ms', { min: 0 }),
      flushRows: cfg.number('flushRows', 10000, { min: 1, integer: true }),
      fsync: cfg.boolean('fsync', true),
      retryBaseMs: cfg.duration('retryDelay', 200, 'ms', { min: 0, max: 1000 }),
      maxQueuedRows: cfg.number('maxQueuedRows', 500_000, { min: 1, integer: true }),
    };
    // Exactly-once behind one kafka in (not for rejects: they come from two paths out of offset order).
    const eoMode = cfg.oneOf('exactlyOnce', ['auto', 'off'] as const, 'auto');
    const exactlyOnceSources = (): string[] => (eoMode === 'auto' && preset !== 'rejects' ? upstreamKafkaIns(RED, node.id) : []);
    const kafkaIns = exactlyOnceSources();
    const eoOf = kafkaIns.length === 1 ? kafkaIns[0] : undefined;
    if (cfg.problems.length > 0) return reportBadConfig(node, cfg.problems);
    const positions = eoOf === undefined ? null : new SinkPositions(node.id, eoOf);
    const journal = new JournalFile(journalPath(folder, node.id));

    installMetricsEndpoint(RED);
    const metrics = new NodeMetrics({ id: node.id, type: node.type, name: def.name as string | undefined });
    const status = new ThrottledStatus(node);
    // Evaluated only when the throttled status is written (see ThrottledStatus).
    const rowsText = (): string => t('smoke-csv-sink.status.rows', { count: compact(writer.rowsWritten) });
    // custom without configured columns and windows: the columns come from the first item (below).
    let formatter =
      columns === null || (preset === 'custom' && columns.length === 0) || preset === 'windows' ? null : new CsvFormatter(layoutFor(preset, columns, timeKey), byProcessing);
    /** Positions the rows of a writer group reach (the per-message tops it was queued with). */
    const topOf = (tags: readonly unknown[]): Positions => {
      const top: Positions = {};
      for (const t of tags as Positions[]) advance(top, t);
      return top;
    };
    /** The commit number journaled for each group of the flush in progress. */
    const seqOf = new Map<string, number>();
    const groupCommit: GroupCommit | undefined =
      positions === null
        ? undefined
        : {
            async prepare(groups) {
              seqOf.clear();
              const entries = groups.map((g) => {
                const { tp, epoch } = ofWriterGroup(g.group);
                const seq = positions.nextSeq();
                seqOf.set(g.group, seq);
                return { tp, partition: splitTaskKey(tp).partition, epoch, seq, positions: topOf(g.tags), ranges: g.ranges };
              });
              await fs.promises.mkdir(folder, { recursive: true });
              await journal.write({ writer: positions.writer, groups: entries });
            },
            async commit(group, tags) {
              const { tp, epoch } = ofWriterGroup(group);
              const tasks = tasksOf(eoOf!);
              // Rows of an earlier assignment of the partition (taken in before a rebalance or a pause):
              // the partition's owner since writes them.
              if (tasks === undefined || !tasks.current(tp, epoch)) return 'abort';
              const top = topOf(tags);
              positions.durable(tp, top, seqOf.get(group)!);
              // A failed checkpoint gives the task up ('gone'): the rows go, the partition's next owner writes them.
              const r = await tasks.checkpointNow(tp, positions, epoch);
              return r !== 'gone' && covers(positions.committedOf(tp, epoch), top) ? 'ok' : 'abort';
            },
            rewrite: (cuts) => journal.write({ writer: positions.writer, groups: [], cuts: cuts.map((c) => ({ file: c.file, at: c.at, keep: c.keep.toString('base64') })) }, true),
            // What the journal still decides (see GroupCommit.settled).
            settled: (left) => (left === 'owed' ? undefined : journal.clear(left === 'cut')),
          };
    let closing = false;
    /** The write fault in progress, from its first failed try until writes work again (logged once each way). */
    let fault: { cause: string; since: number; tries: number } | null = null;
    /** Rows (and messages) that close() left unwritten: reported once, when the node has closed. */
    const unwritten = { rows: 0, messages: 0 };
    const writer = new CsvWriter({
      ...writerOpts,
      groupCommit,
      onEvent(ev) {
        if (ev.kind === 'error') {
          metrics.csvErrors.inc();
          const cause = causeOf(ev.error);
          if (!ev.willRetry) {
            // Cannot pass (a folder in the file's place, a refused name): each message ends with the error.
            status.now('failed', cause);
            return;
          }
          if (fault === null) {
            fault = { cause, since: Date.now(), tries: 0 };
            node.warn(t('smoke-csv-sink.warn.write-failing', { file: ev.file, error: ev.error.message }));
          }
          fault.tries++;
          status.now('failed', t('smoke-csv-sink.status.rows-waiting', { cause, count: compact(writer.queuedRows) }));
        } else if (ev.kind === 'recovered') {
          if (fault !== null && writer.faults === 0) {
            const seconds = ((Date.now() - fault.since) / 1000).toFixed(1);
            node.log(t('smoke-csv-sink.log.writes-recovered', { file: ev.file, seconds, tries: fault.tries }));
            fault = null;
            status.now('ok', rowsText());
          }
        } else if (ev.kind === 'repaired') {
          node.warn(t('smoke-csv-sink.warn.torn-row', { file: ev.file, bytes: ev.droppedBytes }));
        } else if (ev.kind === 'idle') {
          // Green only when nothing failed: rows that could not be written keep the status red.
          if (writer.faults === 0) status.set('ok', rowsText);
        }
      },
    });
    setStatus(node, 'ok', t('smoke-csv-sink.status.rows', { count: 0 }));

    // The configured pattern's file name per date, made once: the same string object message after
    // message also lets the writer match a segment to the file it queued last by reference.
    const patternFiles = new Map<string, string>();
    function patternFile(date: string): string {
      let name = patternFiles.get(date);
      if (name === undefined) {
        if (patternFiles.size >= 64) patternFiles.clear();
        name = fileName(pattern, date);
        patternFiles.set(date, name);
      }
      return name;
    }

    // A journal left by a crash between the two phases of a group: keep or cut its rows (exactly-once.ts).
    let recovering: (() => void)[] | null = positions === null ? null : [];
    if (positions !== null) {
      void (async () => {
        // Until it is decided (the broker may be down at start): rows written meanwhile would bury the tail.
        for (let delay = 500, said = false; !closing; delay = Math.min(delay * 2, 10_000)) {
          try {
            await recover();
            break;
          } catch (err) {
            if (!said) node.error(t('smoke-csv-sink.errors.recovery-failed', { file: journal.file, error: errorMessage(err) }));
            said = true;
            await new Promise((r) => setTimeout(r, delay));
          }
        }
        const q = recovering ?? [];
        recovering = null;
        for (const fn of q) fn();
      })();
    }
    async function recover(): Promise<void> {
      const changed = await recoverFiles(folder, journal, async (tp, partition) => {
        let tasks = tasksOf(eoOf!);
        for (let waited = 0; tasks === undefined && waited < 30_000 && !closing; waited += 100) {
          await new Promise((r) => setTimeout(r, 100));
          tasks = tasksOf(eoOf!);
        }
        if (tasks === undefined) throw new Error(t('smoke-csv-sink.errors.no-kafka-in'));
        return parseSinkState(await tasks.readLatest(positions!, tp, partition));
      });
      if (changed.files > 0) {
        const files = changed.files;
        node.warn(changed.tps.length > 0 ? t('smoke-csv-sink.warn.rows-cut-of', { partitions: changed.tps.join(', '), files }) : t('smoke-csv-sink.warn.rows-cut', { files }));
      }
    }

    // Whether this sink acknowledges what it wrote (with another sink behind it, that sink does), and
    // whether it holds records that another sink gets too (flow-graph.ts sinkRole): taken per message on
    // arrival, from the flow as the last deploy left it.
    let role = sinkRole(RED, node.id);
    afterEveryDeploy(RED, node, () => (role = sinkRole(RED, node.id)));
    watchFlowAround(RED, node, exactlyOnceSources);
    const handle = (msg: NodeMessage, send: Send, done: Done, acknowledges: boolean, release: HoldRelease): void => {
      const now = Date.now();
      if (recovering !== null) {
        recovering.push(() => handle(msg, send, done, acknowledges, release));
        return;
      }
      let items: unknown[] = preset === 'rejects' ? rejectRows(msg, now) : Array.isArray(msg.payload) ? msg.payload : [msg.payload];
      /** Exactly-once: the partition task (writer group) and the position its last row reaches. */
      let group: string | undefined;
      let top: Positions | undefined;
      const all = items.length;
      if (positions !== null) {
        const a = positions.accept(msg, Array.isArray(msg.payload) ? items.length : -1);
        if (a === 'wait') return positions.defer(msg, () => handle(msg, send, done, acknowledges, release));
        // A partition another runtime owns now: it writes these records (not acknowledged here).
        if (a === 'skip') return done();
        if (a !== 'local') {
          // One writer group per partition task and epoch: rows of an assignment that ended meanwhile
          // are cut back alone (see commit above).
          group = a.group;
          top = a.top;
          // Rows this sink (on any runtime) wrote already: acknowledged, not written again.
          if (a.from > 0) items = items.slice(a.from);
        }
      }
      let target = pattern;
      if (allowMsgFilename && msg.filename !== undefined) {
        const problem = checkRelativeName(msg.filename);
        if (problem) return handleInputError(node, new Error(t('smoke-csv-sink.errors.filename-refused', { problem })), done, t('smoke-csv-sink.status.bad-filename'));
        target = msg.filename as string;
      }
      if (formatter === null && preset === 'windows' && items.length > 0) {
        // The aggregates the window emits, for the node's lifetime (configured columns are not used here).
        formatter = new CsvFormatter(layoutFor('windows', windowColumnsOf(items[0])), byProcessing);
      }
      if (formatter === null) {
        // custom preset without configured columns: the first item's keys, for the node's lifetime.
        const first = items[0];
        if (first !== null && typeof first === 'object' && !Array.isArray(first)) {
          columns = Object.keys(first);
          if (columns.length > 0) formatter = new CsvFormatter(layoutFor('custom', columns, timeKey), byProcessing);
        }
        if (formatter === null && items.length > 0) {
          return handleInputError(node, new Error(t('smoke-csv-sink.errors.no-columns')), done, t('smoke-csv-sink.status.no-columns'));
        }
      }
      const segments: Segment[] = [];
      let rows = 0;
      if (formatter !== null) {
        try {
          for (const c of formatter.formatBytes(items, now)) {
            segments.push({ file: target === pattern ? patternFile(c.date) : fileName(target, c.date), header: formatter.layout.header, text: c.bytes, rows: c.rows });
            rows += c.rows;
          }
        } catch (e) {
          const err = e instanceof CsvRowError && !Array.isArray(msg.payload) ? new Error(t('smoke-csv-sink.errors.not-an-object', { type: typeof msg.payload })) : e;
          return handleInputError(node, err, done, t('smoke-csv-sink.status.bad-payload'));
        }
      }
      writer.enqueue(segments, (err, aborted) => {
        if (err instanceof UnwrittenError) {
          // Closing: not acknowledged (Kafka delivers it again on the next start), reported once on close.
          unwritten.rows += rows;
          unwritten.messages++;
          return done();
        }
        if (err) return handleInputError(node, err, done, (err as NodeJS.ErrnoException).code ?? t('smoke-csv-sink.status.write-failed'));
        // Cut back: the partition moved to another runtime before these rows were committed.
        if (aborted) return done();
        if (acknowledges) ack((msg.kafka as { ack?: unknown } | undefined)?.ack, group === undefined ? rows : all);
        // Given back, or (a sink that passes its records on) handed on to the sink behind, before it gets them.
        release();
        metrics.csvRows.inc(rows);
        // End-to-end from the record's Kafka timestamp; without Kafka, from the message's arrival here.
        const ts = kafkaTimeOf(msg);
        metrics.latencyMs('csv', Date.now() - (ts > 0 ? ts : now));
        status.set('count', rowsText);
        send(msg);
        done();
      }, group, top);
    };
    // Records another sink gets too are held here until written (ack.ts holdUntilAcked), or until the
    // sink this one passes them on to holds them (holdUntilHandedOn): on arrival, before a wait for the
    // crash recovery or the partition's restore.
    const holdOf = (msg: NodeMessage, acknowledges: boolean): HoldRelease => (acknowledges ? holdUntilAcked : holdUntilHandedOn)(msg, node.id);
    node.on('input', (msg: NodeMessage, send: Send, done: Done) => handle(msg, send, done, role.acknowledges, role.holds ? holdOf(msg, role.acknowledges) : NOTHING_HELD));

    node.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      // Messages that waited for the crash recovery: they fail now (the closing writer refuses them).
      const waiting = recovering ?? [];
      recovering = null;
      for (const fn of waiting) fn();
      const budget = new Deadline();
      writer.close(budget.left(CLOSE_WRITE_MS)).then(
        () => finish(),
        (e) => {
          node.error(t('smoke-csv-sink.errors.close', { error: errorMessage(e) }));
          finish();
        },
      );
      function finish(): void {
        if (unwritten.messages > 0) {
          const counts = { rows: unwritten.rows, messages: unwritten.messages };
          node.warn(fault !== null ? t('smoke-csv-sink.warn.unwritten-cause', { ...counts, cause: fault.cause }) : t('smoke-csv-sink.warn.unwritten', counts));
        }
        status.stop();
        metrics.remove();
        void settleWithin(Promise.all([positions?.close(), journal.close()]), budget.left(), undefined).then(() => done());
      }
    });
  }

  RED.nodes.registerType('smoke-csv-sink', CsvSinkNode);
};
