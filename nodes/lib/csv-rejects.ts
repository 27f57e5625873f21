/**
 * The rejects file's rows: one row per rejected input of `sensor validate` or `kafka in` (output 2),
 * with when, from which Kafka record, why, and the input as it arrived. Framework-free and pure.
 */
import { jsonText } from './csv-cells';
import { utcText } from './csv-utc';

/**
 * Columns of the rejects file: when (processing time, in the readable UTC form of every CSV file:
 * `YYYY-MM-DD HH:MM:SS`, see csv-utc.ts), from where, why, and the input as it arrived.
 */
export const REJECT_COLUMNS = ['timeUtc', 'source', 'topic', 'partition', 'offset', 'key', 'reasons', 'input'] as const;

/** The row of one rejected input (validate's output 2 or kafka in's output 2). */
export interface RejectRow {
  [key: string]: unknown;
  timeUtc: string;
  source: 'validate' | 'kafka' | 'unknown';
  topic: unknown;
  partition: unknown;
  offset: unknown;
  key: unknown;
  reasons: string;
  input: string;
}

interface ValidationErrorLike {
  field?: unknown;
  code?: unknown;
  message?: unknown;
  index?: unknown;
}

function reasonText(errors: unknown): string {
  if (!Array.isArray(errors)) return errors === undefined || errors === null ? '' : errorText(errors);
  const parts: string[] = [];
  for (const e of errors as ValidationErrorLike[]) {
    if (e === null || typeof e !== 'object') {
      parts.push(String(e));
      continue;
    }
    const field = e.field === undefined || e.field === '' ? '' : String(e.field) + ': ';
    const code = e.code === undefined ? '' : String(e.code);
    const message = e.message === undefined ? '' : String(e.message);
    parts.push(field + code + (code && message ? ' (' + message + ')' : message));
  }
  return parts.join('; ');
}

function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  if (e !== null && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string') {
    return (e as { message: string }).message;
  }
  return jsonText(e);
}

/**
 * The input as it arrived: kafka in's raw record text stays text (it is not JSON); anything else, and
 * any input of sensor validate, as JSON text (so a string input shows its quotes, apart from a number).
 */
function inputText(v: unknown, raw = true): string {
  if (typeof v === 'string' && raw) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8');
  return jsonText(v);
}

/**
 * The reasons of each item of a message, as a function of the item's index. `batch`: the payload is
 * an array (one row per item). Sensor validate gives a batch one list of errors per item
 * (`msg.validation.errors[i]`); also read are per-item objects (`msg.validation[i].errors`) and a
 * flat list whose errors carry an `index`. A single input's list, and anything else, applies to
 * every item. The shape is decided once per message, not per item.
 */
function errorsByItem(validation: unknown, batch: boolean): (i: number) => unknown {
  if (Array.isArray(validation)) {
    return (i) => {
      const v = validation[i] as { errors?: unknown } | undefined;
      return v && typeof v === 'object' ? v.errors : v;
    };
  }
  const errors = (validation as { errors?: unknown } | null | undefined)?.errors;
  if (!batch || !Array.isArray(errors) || errors.length === 0) return () => errors;
  if (errors.every((e) => Array.isArray(e))) return (i) => errors[i];
  const byIndex = new Map<number, unknown[]>();
  for (const e of errors) {
    const at = e && typeof e === 'object' ? (e as ValidationErrorLike).index : undefined;
    if (typeof at !== 'number') continue;
    const list = byIndex.get(at);
    if (list === undefined) byIndex.set(at, [e]);
    else list.push(e);
  }
  return byIndex.size > 0 ? (i) => byIndex.get(i) ?? [] : () => errors;
}

function perItem(v: unknown, i: number, n: number): unknown {
  return n > 1 && Array.isArray(v) && v.length === n ? v[i] : v;
}

/**
 * The reject rows of one message from `sensor validate` output 2 (`msg.validation.errors`) or `kafka in`
 * output 2 (`msg.error`, `msg.payload` the raw text). A payload array gives one row per item, each with
 * its own reasons ({@link errorsByItem}, or `msg.error[i]`) and its own Kafka record: a batch of
 * `kafka in` has one topic and partition and per-record arrays, `offsets[i]` and `keys[i]` describing
 * `payload[i]` (sensor validate keeps them aligned when it splits a batch); a single record's `offset`
 * and `key` hold for every item (a record whose JSON was an array of readings). `nowMs` is the
 * processing time (the rejects file is dated by it).
 */
export function rejectRows(
  msg: { payload?: unknown; validation?: unknown; error?: unknown; kafka?: unknown },
  nowMs: number,
): RejectRow[] {
  const batch = Array.isArray(msg.payload);
  const items = batch ? (msg.payload as unknown[]) : [msg.payload];
  const n = items.length;
  // One text per message (not per row): its rows share their processing time.
  const timeUtc = utcText(nowMs);
  const source: RejectRow['source'] = msg.validation !== undefined ? 'validate' : msg.error !== undefined ? 'kafka' : 'unknown';
  const errorsOf = errorsByItem(msg.validation, batch);
  const kafka = (msg.kafka && typeof msg.kafka === 'object' ? msg.kafka : {}) as Record<string, unknown>;
  const offsets = Array.isArray(kafka.offsets) ? kafka.offsets : undefined;
  const keys = Array.isArray(kafka.keys) ? kafka.keys : undefined;
  const rows: RejectRow[] = new Array(n);
  for (let i = 0; i < n; i++) {
    rows[i] = {
      timeUtc,
      source,
      topic: kafka.topic,
      partition: kafka.partition,
      offset: offsets ? offsets[i] : kafka.offset,
      key: keyText(keys ? keys[i] : kafka.key),
      reasons: reasonText(source === 'validate' ? errorsOf(i) : perItem(msg.error, i, n)),
      input: inputText(items[i], source !== 'validate'),
    };
  }
  return rows;
}

function keyText(k: unknown): unknown {
  return k instanceof Uint8Array ? inputText(k) : k;
}
