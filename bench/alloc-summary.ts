/**
 * Summarises a sampled allocation profile (`.heapprofile`, written beside each `.cpuprofile` by
 * `npm run bench -- --profile`, lib/profiler.ts): the bytes allocated in the measured interval, per
 * reading when the run's reading count is given, by owner (the same owners as the CPU summary: a
 * builtin's allocation counts for its nearest caller with an owner) and the top allocating functions.
 * The profile samples every allocation, also what the next scavenge collects, so these are the bytes
 * the garbage collector has to deal with, not what stays live.
 *
 *   node --import tsx bench/alloc-summary.ts bench/results/<file>.heapprofile [--top 20] [--readings N]
 */
import fs from 'node:fs';
import { ownerOf } from './profile-summary';

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  selfSize: number;
  children: HeapNode[];
}

export interface AllocEntry {
  name: string;
  mb: number;
  pct: number;
  /** Bytes per reading (when the readings are known). */
  perReading?: number;
}

export interface AllocSummary {
  file: string;
  totalMb: number;
  readings?: number;
  byOwner: AllocEntry[];
  topSelf: (AllocEntry & { where: string; owner: string })[];
}

export function summariseAllocations(file: string, top = 15, readings?: number): AllocSummary {
  const root = (JSON.parse(fs.readFileSync(file, 'utf8')) as { head: HeapNode }).head;
  const byFn = new Map<string, { bytes: number; name: string; where: string; owner: string }>();
  const byOwner = new Map<string, number>();
  let total = 0;
  // Depth-first with the owner inherited from the nearest caller that has one (as the CPU summary does).
  const stack: { n: HeapNode; inherited: string }[] = [{ n: root, inherited: 'root' }];
  while (stack.length > 0) {
    const { n, inherited } = stack.pop()!;
    const own = ownerOf(n.callFrame);
    const owner = own === '' ? inherited : own;
    if (n.selfSize > 0) {
      total += n.selfSize;
      const cf = n.callFrame;
      const where = cf.url ? `${cf.url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules|dist|bench)\//, '$1/')}:${cf.lineNumber + 1}` : '(native)';
      const key = `${cf.functionName || '(anonymous)'}@${where}@${owner}`;
      const e = byFn.get(key) ?? { bytes: 0, name: cf.functionName || '(anonymous)', where, owner };
      e.bytes += n.selfSize;
      byFn.set(key, e);
      byOwner.set(owner, (byOwner.get(owner) ?? 0) + n.selfSize);
    }
    for (const c of n.children) stack.push({ n: c, inherited: owner });
  }
  const entry = (name: string, bytes: number): AllocEntry => ({
    name,
    mb: bytes / 1e6,
    pct: total > 0 ? (100 * bytes) / total : 0,
    ...(readings ? { perReading: bytes / readings } : {}),
  });
  return {
    file,
    totalMb: total / 1e6,
    ...(readings ? { readings } : {}),
    byOwner: [...byOwner.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([name, bytes]) => entry(name, bytes)),
    topSelf: [...byFn.values()]
      .sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name))
      .slice(0, top)
      .map((e) => ({ ...entry(e.name, e.bytes), where: e.where, owner: e.owner })),
  };
}

export function formatAllocations(s: AllocSummary): string {
  const per = (e: AllocEntry) => (e.perReading !== undefined ? `${e.perReading.toFixed(0).padStart(6)} B/reading` : '');
  const lines = [
    `${s.file}: ${s.totalMb.toFixed(0)} MB allocated (sampled)${s.readings ? `, ${((s.totalMb * 1e6) / s.readings).toFixed(0)} bytes per reading` : ''}`,
    '  allocated by owner:',
  ];
  for (const e of s.byOwner.filter((x) => x.pct >= 1)) lines.push(`    ${e.pct.toFixed(1).padStart(5)} %  ${per(e)}  ${e.name}`);
  lines.push('  top allocating functions:');
  for (const e of s.topSelf) lines.push(`    ${e.pct.toFixed(1).padStart(5)} %  ${per(e)}  ${e.name}  ${e.where}  [${e.owner}]`);
  return lines.join('\n');
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const opt = (name: string): number | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args.splice(i, 2)[1]) : undefined;
  };
  const top = opt('--top') ?? 15;
  const readings = opt('--readings');
  if (args.length === 0) {
    console.error('usage: node --import tsx bench/alloc-summary.ts <file.heapprofile>... [--top N] [--readings N]');
    process.exit(2);
  }
  for (const f of args) console.log(formatAllocations(summariseAllocations(f, top, readings)) + '\n');
}
