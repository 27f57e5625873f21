/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`, as `npm run bench -- --profile` writes):
 *   - the top functions by self time;
 *   - time by owner: each sample goes to the nearest frame on its stack that belongs to a known owner
 *     (one of our nodes, our lib, kafkajs, the Node-RED runtime, …), so JSON.parse called by kafka in
 *     counts for kafka in, and a builtin called by the z-score node counts for the z-score node.
 *
 *   node --import tsx bench/profile-summary.ts bench/results/<file>.cpuprofile [--top 25]
 */
import fs from 'node:fs';
import type { AllocSummary } from './alloc-summary';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  name: string;
  ms: number;
  pct: number;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  /** Share of the profile that is not idle, %. */
  busyPct: number;
  topSelf: (ProfileEntry & { where: string; owner: string })[];
  byOwner: ProfileEntry[];
  /** The allocation profile of the same interval (bench --profile writes it beside the CPU profile). */
  allocations?: AllocSummary;
}

/** Owner of a frame by its script URL; '' for frames that inherit their caller's owner. */
export function ownerOf(cf: CallFrame): string {
  const u = cf.url.replace(/^file:\/\//, '');
  if (u === '') {
    if (cf.functionName === '(garbage collector)') return 'GC';
    if (cf.functionName === '(idle)') return 'idle';
    if (cf.functionName === '(program)') return 'program (V8/native, unattributed)';
    if (cf.functionName === '(root)') return 'root';
    return '';
  }
  let m = /\/dist\/nodes\/(lib|nr)\/([^/]+)\.js$/.exec(u);
  if (m) return `${m[1]}/${m[2]}`;
  m = /\/dist\/nodes\/([^/]+)\//.exec(u);
  if (m) return `node ${m[1]}`;
  if (/\/bench\/nodes\//.test(u)) return 'bench nodes (source/pass/tap)';
  if (/\/bench\//.test(u)) return 'bench harness';
  m = /node_modules\/(@[^/]+\/[^/]+|[^/]+)\//.exec(u);
  if (m) {
    if (m[1] === '@node-red/runtime' || m[1] === '@node-red/util' || m[1] === '@node-red/registry') return 'node-red runtime';
    return m[1];
  }
  if (u.startsWith('node:')) return '';
  return '';
}

function nodeCoreOwner(cf: CallFrame): string {
  const u = cf.url;
  if (u.startsWith('node:internal/timers') || u.startsWith('node:timers')) return 'node core (timers/setImmediate)';
  if (u.startsWith('node:')) return `node core (${u.replace(/^node:(internal\/)?/, '').split('/')[0]})`;
  return 'V8 builtins (unattributed)';
}

export function summariseProfile(file: string, top = 25): ProfileSummary {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of prof.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  // Owner of each profile node: its own, else the nearest caller's that has one.
  const owner = new Map<number, string>();
  const resolveOwner = (id: number): string => {
    const known = owner.get(id);
    if (known !== undefined) return known;
    const n = byId.get(id)!;
    let o = ownerOf(n.callFrame);
    if (o === '') {
      const p = parent.get(id);
      const po = p === undefined ? 'root' : resolveOwner(p);
      o = po === 'root' || po === 'program (V8/native, unattributed)' ? nodeCoreOwner(n.callFrame) : po;
    }
    owner.set(id, o);
    return o;
  };
  const self = new Map<number, number>();
  let total = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    // timeDeltas[i] is the time before sample i; charge it to sample i (µs).
    const dt = prof.timeDeltas[i] ?? 0;
    if (dt <= 0) continue;
    total += dt;
    self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + dt);
  }
  const fnSelf = new Map<string, { ms: number; where: string; owner: string; name: string }>();
  const ownerSelf = new Map<string, number>();
  for (const [id, us] of self) {
    const cf = byId.get(id)!.callFrame;
    const where = cf.url ? `${cf.url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules|dist|bench)\//, '$1/')}:${cf.lineNumber + 1}` : '(native)';
    const o = resolveOwner(id);
    // A builtin called by several owners is a row per owner (as in the allocation summary).
    const key = `${cf.functionName || '(anonymous)'}@${where}@${o}`;
    const e = fnSelf.get(key) ?? { ms: 0, where, owner: o, name: cf.functionName || '(anonymous)' };
    e.ms += us / 1000;
    fnSelf.set(key, e);
    ownerSelf.set(o, (ownerSelf.get(o) ?? 0) + us / 1000);
  }
  const totalMs = total / 1000;
  const idle = ownerSelf.get('idle') ?? 0;
  const pct = (ms: number) => (100 * ms) / totalMs;
  return {
    file,
    totalMs,
    busyPct: pct(totalMs - idle),
    topSelf: [...fnSelf.values()]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top)
      .map((e) => ({ name: e.name, where: e.where, owner: e.owner, ms: e.ms, pct: pct(e.ms) })),
    byOwner: [...ownerSelf.entries()].sort((a, b) => b[1] - a[1]).map(([name, ms]) => ({ name, ms, pct: pct(ms) })),
  };
}

export function formatSummary(s: ProfileSummary): string {
  const lines: string[] = [];
  lines.push(`${s.file}: ${(s.totalMs / 1000).toFixed(1)} s sampled, ${s.busyPct.toFixed(0)} % busy`);
  lines.push('  time by owner (self time, builtins charged to their caller):');
  for (const e of s.byOwner.filter((x) => x.pct >= 0.5)) lines.push(`    ${e.pct.toFixed(1).padStart(5)} %  ${e.ms.toFixed(0).padStart(7)} ms  ${e.name}`);
  lines.push('  top functions by self time:');
  for (const e of s.topSelf) lines.push(`    ${e.pct.toFixed(1).padStart(5)} %  ${e.ms.toFixed(0).padStart(7)} ms  ${e.name}  ${e.where}  [${e.owner}]`);
  return lines.join('\n');
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const t = args.indexOf('--top');
  const top = t >= 0 ? Number(args.splice(t, 2)[1]) : 25;
  if (args.length === 0) {
    console.error('usage: node --import tsx bench/profile-summary.ts <file.cpuprofile>... [--top N]');
    process.exit(2);
  }
  for (const f of args) console.log(formatSummary(summariseProfile(f, top)) + '\n');
}
