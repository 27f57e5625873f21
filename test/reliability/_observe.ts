/**
 * Watching a child Node-RED from outside, for the reliability suites:
 * - node statuses: the admin API does not expose them, so the flow gets a `status` node (scoped to the
 *   nodes to watch) → a function node that makes one JSON line `{ t, id, fill, shape, text }` → a core
 *   `file` node appending it to a file the test reads;
 * - kafka in's health reports (its output 3) the same way, one JSON line each with the time it came;
 * - log lines of the child's console, each with the time the test received it;
 * - a counter of the package's metrics endpoint;
 * - the rows of CSV files while they are being written (a torn last line skipped).
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import { find, parseExposition } from '../nodes/_prometheus';
import type { FlowNode } from './_runtime';

/** One status a node showed, as the status tap wrote it (t: the child's clock, ms). */
export interface StatusLine {
  t: number;
  id: string;
  fill?: string;
  shape?: string;
  text?: string;
}

/** Flow nodes that append every status of the `scope` nodes to `file` as JSON lines. */
export function statusTap(file: string, scope: string[], tab: string): FlowNode[] {
  const [line, ...rest] = jsonLineTap(
    { id: 'statusLine', name: 'status as a JSON line', file: 'statusFile', y: 540 },
    'const s = msg.status || {};\nmsg.payload = JSON.stringify({ t: Date.now(), id: s.source && s.source.id, fill: s.fill, shape: s.shape, text: s.text });\nreturn msg;',
    file,
    tab,
  );
  return [{ id: 'statusTap', type: 'status', name: 'watched statuses', scope, wires: [[line.id]], z: tab, x: 700, y: 500 }, line, ...rest];
}

/**
 * A function node `id` that turns each message into one JSON line (`func`) → a core `file` node that
 * appends it to `file`; below each other at `y`.
 */
function jsonLineTap(o: { id: string; name: string; file: string; y: number }, func: string, file: string, tab: string): FlowNode[] {
  const at = (n: FlowNode, y: number): FlowNode => ({ z: tab, x: 700, y, ...n });
  return [
    at({ id: o.id, type: 'function', name: o.name, func, outputs: 1, noerr: 0, initialize: '', finalize: '', libs: [], wires: [[o.file]] }, o.y),
    at({ id: o.file, type: 'file', name: path.basename(file), filename: file, filenameType: 'str', appendNewline: true, createDir: true, overwriteFile: 'false', encoding: 'none', wires: [[]] }, o.y + 40),
  ];
}

/** The complete lines of a status tap's file so far. */
export function readStatuses(file: string): StatusLine[] {
  return readJsonLines<StatusLine>(file);
}

/** One health report of a kafka in (its output 3, `metricsInterval`), as the health tap wrote it (t: the child's clock, ms). */
export interface HealthLine {
  t: number;
  /** Records emitted since the node started. */
  records: number;
  /** Records emitted and not yet acknowledged by every sink (nor held by a node that keeps them). */
  inFlight: number;
  state: string;
}

/**
 * Flow nodes that append each health report they get to `file` as a JSON line: wire a kafka in's
 * output 3 to `healthLine` (and give it a `metricsInterval`).
 */
export function healthTap(file: string, tab: string): FlowNode[] {
  return jsonLineTap({ id: 'healthLine', name: 'health as a JSON line', file: 'healthFile', y: 620 }, 'msg.payload = JSON.stringify(Object.assign({ t: Date.now() }, msg.payload));\nreturn msg;', file, tab);
}

/** The complete lines of a health tap's file so far. */
export function readHealth(file: string): HealthLine[] {
  return readJsonLines<HealthLine>(file);
}

/** The complete JSON lines of a file a core `file` node appends to (a line it is still writing left out). */
function readJsonLines<T>(file: string): T[] {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: T[] = [];
  for (const line of text.slice(0, text.lastIndexOf('\n') + 1).split('\n')) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // a line the file node is still writing
    }
  }
  return out;
}

/** `fill text` of a status, for messages. */
export const statusText = (s: StatusLine): string => `${s.fill ?? '-'} "${s.text ?? ''}"`;

/** One line of the child's console: Node-RED's `D Mon HH:MM:SS - [level] [type:id] message`. */
export interface LogLine {
  /** When the test received it (ms). */
  t: number;
  level: string;
  /** `type:id` of the node that logged it ('' for the runtime's own lines). */
  node: string;
  text: string;
}

const LOG_LINE = /^\d{1,2} \w{3} \d{2}:\d{2}:\d{2} - \[(\w+)\] (?:\[([^\]]+)\] )?(.*)$/;

/** Collects the child's console lines as they come (attach right after start). */
export class LineLog {
  readonly lines: LogLine[] = [];
  private partial = '';

  constructor(child: ChildProcess) {
    const take = (b: Buffer): void => {
      const now = Date.now();
      const text = this.partial + b.toString('utf8');
      const parts = text.split('\n');
      this.partial = parts.pop() ?? '';
      for (const raw of parts) {
        const m = LOG_LINE.exec(raw.replace(/\r$/, ''));
        if (m) this.lines.push({ t: now, level: m[1], node: m[2] ?? '', text: m[3] });
      }
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
  }

  /** Lines of one node (`type:id`) received in [from, to). */
  of(node: string, from = 0, to = Infinity): LogLine[] {
    return this.lines.filter((l) => l.node === node && l.t >= from && l.t < to);
  }
}

export const logText = (l: LogLine): string => `[${l.level}] [${l.node}] ${l.text}`;

/** The value of a counter of the package's metrics endpoint for one node, or null when unavailable. */
export async function nodeCounter(baseUrl: string, metric: string, nodeId: string): Promise<number | null> {
  try {
    const res = await fetch(`${baseUrl}/smoke-stream/metrics`, { signal: AbortSignal.timeout(3000) });
    if (res.status !== 200) return null;
    const samples = find(parseExposition(await res.text()), metric, { node_id: nodeId });
    return samples.length === 1 ? samples[0].value : null;
  } catch {
    return null;
  }
}

/** Name prefix of the readings CSV files (the csv sink's `readings` preset). */
export const READINGS_FILE = 'historical_smoke_data_';

/** Distinct readings (device and event time) in the complete rows of a folder's readings files now. */
export function readingsNow(folder: string): number {
  return new Set(rowsNow(folder, READINGS_FILE).map((cell) => `${cell('device_id')}|${cell('UTC')}`)).size;
}

/**
 * The complete data rows (header → cell) of the CSV files of `folder` whose name starts with `prefix`,
 * read while they may be written to: a torn last line (no newline yet, or cut short) is left out.
 */
export function rowsNow(folder: string, prefix: string): Array<(column: string) => string> {
  const out: Array<(column: string) => string> = [];
  let files: string[] = [];
  try {
    files = fs.readdirSync(folder).filter((f) => f.startsWith(prefix) && f.endsWith('.csv'));
  } catch {
    return out;
  }
  for (const f of files) {
    let text = '';
    try {
      text = fs.readFileSync(path.join(folder, f), 'utf8');
    } catch {
      continue;
    }
    text = text.slice(0, text.lastIndexOf('\n') + 1);
    if (!text) continue;
    const rows: string[][] = parse(text, { relax_column_count: true, relax_quotes: true });
    const index = new Map(rows[0].map((h, i) => [h, i]));
    for (let i = 1; i < rows.length; i++) {
      const row = rows[i];
      if (row.length !== index.size) continue;
      out.push((column) => row[index.get(column) ?? -1] ?? '');
    }
  }
  return out;
}

/** A status count like `12.3k` or `800` or `1.2M`, as a number. */
export function parseCompact(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([kM]?)$/.exec(text.replace(/,/g, ''));
  if (!m) return NaN;
  return Number(m[1]) * (m[2] === 'k' ? 1e3 : m[2] === 'M' ? 1e6 : 1);
}
