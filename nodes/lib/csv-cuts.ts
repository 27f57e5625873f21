/**
 * Byte arithmetic of a CSV sink's group commit (nodes/csv-sink/group-files.ts does the I/O): where a
 * flush places each group's rows in a file, the ranges a group's journal records, and what an abort
 * takes out again (the cut point, and the committed rows after it that are appended again). Pure: no I/O.
 */

/** One group's rows in a flush: the byte range `[start, end)` they occupy in each file they go to. */
export interface GroupRanges {
  group: string;
  /** The jobs' tags (the sink queue's enqueue `tag`), in queue order. */
  tags: readonly unknown[];
  /** File name (as given in the segments) → `[start, end)`; `{}` for a group whose jobs have no rows. */
  ranges: Record<string, [number, number]>;
}

/**
 * The cut of one file after aborted groups: keep its first `at` bytes, then append `keep` (the rows of
 * committed groups that followed the first aborted range; empty when the aborted rows were the tail).
 */
export interface TailCut {
  file: string;
  at: number;
  keep: Buffer;
}

/** One group's rows in one file, placed: they start at byte `start`. */
export interface PlacedRows {
  group: string;
  start: number;
  buf: Buffer;
}

const EMPTY = Buffer.alloc(0);

/**
 * Place each group's rows (`parts`, in order, each contiguous) after the end of a file of `size` bytes;
 * an empty file gets its header line (`header` + LF) first, so its rows start after it.
 */
export function placeRows(size: number, header: string, parts: readonly { group: string; buf: Buffer }[]): PlacedRows[] {
  let pos = size === 0 ? Buffer.byteLength(header + '\n', 'utf8') : size;
  return parts.map((p) => {
    const start = pos;
    pos += p.buf.length;
    return { group: p.group, start, buf: p.buf };
  });
}

/**
 * Where to cut a file whose placed rows (`parts`, in file order) include rows of `failed` groups, and the
 * committed rows after them to append again; null when no failed group has rows in it. When nothing of
 * the flush stays (the first group failed and no later one committed), the file goes back to its size
 * `before` the flush (a new file's header goes too).
 */
export function cutOf(parts: readonly PlacedRows[], before: number, failed: ReadonlySet<string>): { at: number; keep: Buffer } | null {
  const first = parts.findIndex((p) => failed.has(p.group));
  if (first < 0) return null;
  const kept = parts.slice(first + 1).filter((p) => !failed.has(p.group));
  const keep = kept.length === 0 ? EMPTY : kept.length === 1 ? kept[0].buf : Buffer.concat(kept.map((p) => p.buf));
  const at = first === 0 && kept.length === 0 ? before : parts[first].start;
  return { at, keep };
}

/**
 * Each group's ranges in the files written for it, groups in the order given (`{}` for a group without
 * rows). A file named "__proto__" is an own property of `ranges`, not its prototype.
 */
export function groupRanges(
  groups: Iterable<[string, { readonly tags: readonly unknown[] }]>,
  files: Iterable<{ readonly name: string; readonly parts: readonly PlacedRows[] }>,
): GroupRanges[] {
  const out = new Map<string, GroupRanges>();
  for (const [group, g] of groups) out.set(group, { group, tags: g.tags, ranges: {} });
  for (const { name, parts } of files) {
    for (const p of parts) setOwn(out.get(p.group)!.ranges, name, [p.start, p.start + p.buf.length]);
  }
  return [...out.values()];
}

/** `o[name] = value`, also for a name such as "__proto__" (an own property, not the prototype). */
function setOwn<T>(o: Record<string, T>, name: string, value: T): void {
  if (name === '__proto__') Object.defineProperty(o, name, { value, enumerable: true, writable: true, configurable: true });
  else o[name] = value;
}
