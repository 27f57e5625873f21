/** A parser of the Prometheus text exposition format (0.0.4) for the metrics tests: it really parses. */
import { strict as assert } from 'node:assert';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export function parseNumber(s: string, line: string): number {
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) throw new Error(`bad number ${JSON.stringify(s)} in: ${line}`);
  return Number(s);
}

/** The family a sample name belongs to: a histogram's `_bucket`/`_sum`/`_count` belong to its base name. */
export function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  const own = families.get(name);
  if (own) return own;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  const f = m ? families.get(m[1]) : undefined;
  return f && (f.type === 'histogram' || f.type === 'summary') ? f : undefined;
}

/**
 * Parse the Prometheus text exposition format (version 0.0.4): `# HELP`, `# TYPE` before a family's
 * samples, sample lines `name{label="value",…} value [timestamp]` with `\\`, `\"`, `\n` escapes in
 * label values. Throws on anything malformed, on a sample without a declared family, on a repeated
 * series.
 */
export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  assert.ok(text.endsWith('\n'), 'the exposition ends with a line feed');
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) continue; // a plain comment
      const [, kind, name, rest] = m;
      if (!NAME.test(name)) throw new Error(`bad metric name in: ${line}`);
      const f = families.get(name) ?? { name, type: 'untyped', help: '', samples: [] };
      families.set(name, f);
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`bad type in: ${line}`);
        if (f.samples.length > 0) throw new Error(`TYPE after samples in: ${line}`);
        f.type = rest;
      } else f.help = rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      continue;
    }
    let i = 0;
    while (i < line.length && line[i] !== '{' && line[i] !== ' ') i++;
    const name = line.slice(0, i);
    if (!NAME.test(name)) throw new Error(`bad sample name in: ${line}`);
    const labels: Record<string, string> = {};
    if (line[i] === '{') {
      i++;
      while (line[i] !== '}') {
        let j = i;
        while (j < line.length && line[j] !== '=') j++;
        const key = line.slice(i, j);
        if (!LABEL_NAME.test(key)) throw new Error(`bad label name ${JSON.stringify(key)} in: ${line}`);
        if (line[j + 1] !== '"') throw new Error(`label value not quoted in: ${line}`);
        let value = '';
        let k = j + 2;
        for (; k < line.length && line[k] !== '"'; k++) {
          if (line[k] === '\\') {
            const e = line[++k];
            if (e === 'n') value += '\n';
            else if (e === '\\' || e === '"') value += e;
            else throw new Error(`bad escape in: ${line}`);
          } else value += line[k];
        }
        if (k >= line.length) throw new Error(`unterminated label value in: ${line}`);
        if (key in labels) throw new Error(`repeated label ${key} in: ${line}`);
        labels[key] = value;
        i = k + 1;
        if (line[i] === ',') i++;
        else if (line[i] !== '}') throw new Error(`expected , or } in: ${line}`);
      }
      i++;
    }
    const parts = line.slice(i).trim().split(/\s+/);
    if (parts.length < 1 || parts.length > 2 || parts[0] === '') throw new Error(`bad value part in: ${line}`);
    const value = parseNumber(parts[0], line);
    if (parts.length === 2 && !/^-?\d+$/.test(parts[1])) throw new Error(`bad timestamp in: ${line}`);
    const f = familyOf(name, families);
    if (!f) throw new Error(`sample without a declared family: ${line}`);
    const id = name + JSON.stringify(Object.entries(labels).sort());
    if (seen.has(id)) throw new Error(`repeated series: ${line}`);
    seen.add(id);
    f.samples.push({ name, labels, value });
  }
  return families;
}

/** Samples of `name` whose labels include `match`. */
export function find(families: Map<string, Family>, name: string, match: Record<string, string>): Sample[] {
  const f = familyOf(name, families);
  if (!f) return [];
  return f.samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
}

/** The value of exactly one series. */
export function one(families: Map<string, Family>, name: string, match: Record<string, string>): number {
  const s = find(families, name, match);
  assert.equal(s.length, 1, `one series ${name} ${JSON.stringify(match)} (found ${s.length})`);
  return s[0].value;
}
