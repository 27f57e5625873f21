/**
 * The Node-RED adapter sources (nodes/nr/*.ts, nodes/<node>/*.ts; not nodes/lib, whose messages are
 * data) and the catalogue keys they use, for the rule that every text a node shows or logs comes from
 * its locale catalogue (nodes/nr/i18n.ts): test/unit/catalogue-rule.test.ts checks the sources
 * statically, test/nodes/catalogues.test.ts resolves the keys with Node-RED's i18n.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const root = path.resolve(__dirname, '..', '..');

/** Every adapter source file, relative to the root. */
export function adapterSources(): string[] {
  const out: string[] = [];
  for (const dir of fs.readdirSync(path.join(root, 'nodes'), { withFileTypes: true })) {
    if (!dir.isDirectory() || dir.name === 'lib') continue;
    for (const f of fs.readdirSync(path.join(root, 'nodes', dir.name))) if (f.endsWith('.ts')) out.push(`nodes/${dir.name}/${f}`);
  }
  return out.sort();
}

/** Source text without comments (block comments and `//` comments), line numbers kept. */
export function code(file: string): string {
  const text = fs.readFileSync(path.join(root, file), 'utf8');
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '))
    .replace(/(^|\s)\/\/.*$/gm, (_m, lead: string) => lead);
}

export type Catalogue = Record<string, unknown>;

/** The en-US catalogue of each node set, by its top-level key (the node type, `smoke-…`). */
export function catalogues(): Map<string, Catalogue> {
  const out = new Map<string, Catalogue>();
  for (const dir of fs.readdirSync(path.join(root, 'nodes'))) {
    const file = path.join(root, 'nodes', dir, 'locales', 'en-US', `${dir}.json`);
    if (!fs.existsSync(file)) continue;
    for (const [k, v] of Object.entries(JSON.parse(fs.readFileSync(file, 'utf8')) as Catalogue)) out.set(k, v as Catalogue);
  }
  return out;
}

/** The text at a dotted key (`smoke-csv-sink.status.rows`), or undefined when it is not a text. */
export function textAt(cats: Map<string, Catalogue>, key: string): string | undefined {
  const [head, ...rest] = key.split('.');
  let v: unknown = cats.get(head);
  for (const part of rest) v = v !== null && typeof v === 'object' ? (v as Catalogue)[part] : undefined;
  return typeof v === 'string' ? v : undefined;
}

export interface KeyUse {
  file: string;
  line: number;
  key: string;
}

const lineOf = (src: string, index: number): number => src.slice(0, index).split('\n').length;

/**
 * The catalogue keys the sources use: every complete string literal `smoke-<type>.<…>` (not a
 * permission name passed to `needsPermission`), and the sliding window's short keys, which its node
 * puts under `smoke-sliding-window.warn` / `.log` (`warn('hold-late')`, `log('skipped', …)`).
 */
export function keysUsed(): KeyUse[] {
  const out: KeyUse[] = [];
  for (const file of adapterSources()) {
    const src = code(file);
    for (const m of src.matchAll(/(['"`])(smoke-[a-z0-9-]+(?:\.[A-Za-z0-9_-]+)+)\1/g)) {
      if (/needsPermission\(\s*$/.test(src.slice(0, m.index))) continue;
      out.push({ file, line: lineOf(src, m.index!), key: m[2] });
    }
    if (file.startsWith('nodes/sliding-window/')) {
      for (const m of src.matchAll(/\.(warn|log)\(\s*'([a-z][a-z0-9-]*)'/g)) {
        out.push({ file, line: lineOf(src, m.index!), key: `smoke-sliding-window.${m[1]}.${m[2]}` });
      }
    }
  }
  return out;
}
