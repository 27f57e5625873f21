/**
 * Kafka record and setting helpers without Kafka or Node-RED: decoding a record's value (JSON, with
 * the reason when it cannot be decoded, CONTRACT §3), headers as text, and the broker and topic lists
 * of the node settings.
 */

/** Why a record went to `kafka in`'s output 2 (its `msg.error`). */
export const TOMBSTONE = 'tombstone: the record has no value';
export const EMPTY = 'empty value';
export const EMPTY_ARRAY = 'empty JSON array: the record carries no reading';
/**
 * Deepest JSON nesting accepted. Deeper values parse, but Node-RED's message cloning (and any other
 * recursive walk downstream) would overflow the stack on them: such a record would crash the consumer
 * on every redelivery (a poison pill), so it is routed to output 2 instead.
 */
export const MAX_DEPTH = 256;

/**
 * Decodes record values one at a time without allocating a result object per record: `decode()`
 * returns the value and leaves `error` null, or returns undefined with `error` the reason and `raw`
 * the text that was received (`''` for a tombstone).
 */
export class RecordDecoder {
  /** Reason the last value could not be decoded, or null. */
  error: string | null = null;
  /** Text of the last value (set whenever `error` is set). */
  raw = '';

  /** @param json parse the text as JSON (else the payload is the UTF-8 text itself) */
  constructor(private readonly json: boolean) {}

  decode(value: Buffer | string | null | undefined): unknown {
    return this.decodeText(value === null || value === undefined ? null : typeof value === 'string' ? value : value.toString('utf8'));
  }

  /** {@link decode} of a value already read as UTF-8 text (null: a tombstone). */
  decodeText(text: string | null): unknown {
    if (text === null) return this.fail(TOMBSTONE, '');
    if (text.length === 0) return this.fail(EMPTY, '');
    this.error = null;
    if (!this.json) return text;
    if (isBlank(text)) return this.fail(EMPTY, text);
    // JSON nested deeper than the limit holds more than the limit's opening brackets, each with its
    // closing one: more than 2 × MAX_DEPTH characters (a shorter text with that many openers does not
    // parse, and goes to output 2 as invalid JSON). A reading (about 260 characters with 6 brackets, five
    // of them in Kaggle keys such as "Temperature[C]") skips even the count of brackets.
    if (text.length > 2 * MAX_DEPTH && moreOpenersThan(text, MAX_DEPTH) && nestingDepth(text) > MAX_DEPTH) {
      return this.fail(`JSON nested deeper than ${MAX_DEPTH} levels`, text);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      return this.fail(`invalid JSON: ${(err as Error).message}`, text);
    }
    // An empty array holds no item: nothing downstream would ever answer for it (nor acknowledge it).
    if (Array.isArray(parsed) && parsed.length === 0) return this.fail(EMPTY_ARRAY, text);
    return parsed;
  }

  private fail(reason: string, raw: string): undefined {
    this.error = reason;
    this.raw = raw;
    return undefined;
  }
}

/**
 * Whether a text holds more than `limit` opening brackets (`{` or `[`, in strings or not), counted
 * with native searches: a few calls for a reading, far cheaper than {@link nestingDepth}'s scan.
 */
function moreOpenersThan(text: string, limit: number): boolean {
  let n = 0;
  for (let i = text.indexOf('{'); i >= 0; i = text.indexOf('{', i + 1)) if (++n > limit) return true;
  for (let i = text.indexOf('['); i >= 0; i = text.indexOf('[', i + 1)) if (++n > limit) return true;
  return false;
}

/** Deepest bracket nesting of a JSON text, brackets inside strings not counted. */
export function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      // A string: jump to its closing quote, the first one after an even run of backslashes (keys and
      // text are most of a record, and a native search passes over them far faster than this loop).
      let j = i;
      for (;;) {
        j = text.indexOf('"', j + 1);
        if (j < 0) return max; // unterminated: JSON.parse refuses it
        let k = j - 1;
        while (text.charCodeAt(k) === 92) k--;
        if ((j - k) % 2 === 1) break;
      }
      i = j;
    } else if (c === 91 || c === 123) {
      if (++depth > max) max = depth;
    } else if (c === 93 || c === 125) depth--;
  }
  return max;
}

function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return false;
  }
  return true;
}

type HeaderValue = Buffer | string | (Buffer | string)[] | undefined;

/** Record headers as text (UTF-8); a header sent several times keeps all its values as an array. */
export function headersToStrings(headers: Record<string, HeaderValue> | undefined): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (!headers) return out;
  for (const name of Object.keys(headers)) {
    const v = headers[name];
    if (v === undefined) continue;
    out[name] = Array.isArray(v) ? v.map(String) : String(v);
  }
  return out;
}

/** The text of a record key (UTF-8), or null when the record has none. */
export function keyToString(key: Buffer | string | null | undefined): string | null {
  if (key === null || key === undefined) return null;
  return typeof key === 'string' ? key : key.toString('utf8');
}

/** A `${NAME}` reference to an environment variable in a setting. */
const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Replaces each `${NAME}` in `text` by `env(NAME)` (empty when undefined). Node-RED substitutes a
 * setting that is exactly `${NAME}` only when the variable is set; this covers the unset case and
 * lists such as `${KAFKA_HOST}:9092,backup:9092`.
 */
export function substituteEnv(text: string, env: (name: string) => string | undefined): string {
  return text.replace(ENV_REF, (_, name: string) => env(name) ?? '');
}

/** The default bootstrap list (CONTRACT §7) of a broker setting left blank, when `KAFKA_BOOTSTRAP_SERVERS` is unset or empty too. */
export const DEFAULT_BROKERS = 'localhost:9092';

/**
 * The bootstrap servers of a broker setting: comma-separated `host:port`, `${ENV}` substituted.
 * - Absent or blank: the seed's environment (CONTRACT §7), `KAFKA_BOOTSTRAP_SERVERS`, and
 *   {@link DEFAULT_BROKERS} when that is unset or empty.
 * - A setting that names variables itself (`${KAFKA_BOOTSTRAP_SERVERS}`, `${HOST}:9092`) needs them:
 *   one that is unset or blank gives no brokers and a problem that says what to set, never a fallback
 *   address (the example flows name the variable, so that imported without it they connect nowhere).
 * Entries without a valid port are problems too.
 */
export function parseBrokers(setting: string | undefined, env: (name: string) => string | undefined): { brokers: string[]; problems: string[] } {
  const blank = setting === undefined || setting.trim() === '';
  const raw = blank ? env('KAFKA_BOOTSTRAP_SERVERS')?.trim() || DEFAULT_BROKERS : setting;
  const unset = blank ? [] : [...new Set([...raw.matchAll(ENV_REF)].map((m) => m[1]))].filter((name) => !env(name)?.trim());
  if (unset.length > 0) {
    const names = unset.join(', ');
    const [verb, it] = unset.length === 1 ? ['is', 'it'] : ['are', 'them'];
    return { brokers: [], problems: [`no brokers: ${names} ${verb} not set (set ${it} in the environment of Node-RED, or type the brokers, host:port, into the kafka broker node)`] };
  }
  const list = splitList(substituteEnv(raw, env));
  if (list.length === 0) return { brokers: [], problems: [`no brokers in "${raw}": type host:port (comma-separated) into the kafka broker node`] };
  const problems: string[] = [];
  const brokers: string[] = [];
  for (const entry of list) {
    // A scheme some tools print (PLAINTEXT://host:9092) is not part of kafkajs' address.
    const addr = entry.replace(/^[A-Za-z_]+:\/\//, '');
    const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/.exec(addr);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) problems.push(`broker "${entry}" is not host:port`);
    else brokers.push(addr);
  }
  return { brokers, problems };
}

/** A comma-separated list without blanks (topics, brokers). */
export function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Kafka's rule for topic names: 1–249 characters of `[a-zA-Z0-9._-]`, not `.` or `..`. */
export function isValidTopic(name: string): boolean {
  return name.length > 0 && name.length <= 249 && /^[a-zA-Z0-9._-]+$/.test(name) && name !== '.' && name !== '..';
}
