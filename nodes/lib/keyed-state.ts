/**
 * Per-key state with a bound on the number of keys (least-recently-used eviction) and an optional idle
 * timeout. Framework-free: time is passed in by the caller (epoch ms), nothing runs on a timer.
 *
 * A JavaScript Map keeps insertion order, so re-inserting on access keeps the least recently used key
 * first; eviction and idle sweeps then only look at the front.
 */
export interface KeyedStateOptions<V> {
  /** Maximum number of keys kept; the least recently used key is evicted beyond it. `0` = unbounded. */
  maxKeys: number;
  /** Keys untouched for longer than this (ms) are removed by {@link KeyedState.sweep}. `0` = never. */
  idleMs?: number;
  /** Called with each evicted or idle-swept entry before it is forgotten (e.g. to flush open windows). */
  onEvict?: (key: string, value: V, reason: 'lru' | 'idle') => void;
}

interface Entry<V> {
  value: V;
  lastSeen: number;
}

export class KeyedState<V> {
  private readonly map = new Map<string, Entry<V>>();
  private readonly maxKeys: number;
  private readonly idleMs: number;
  private readonly onEvict?: (key: string, value: V, reason: 'lru' | 'idle') => void;
  private lastKey: string | undefined;
  /** Number of keys evicted since creation (LRU and idle). */
  evictions = 0;

  constructor(opts: KeyedStateOptions<V>) {
    if (!Number.isInteger(opts.maxKeys) || opts.maxKeys < 0) throw new RangeError('maxKeys must be an integer >= 0');
    this.maxKeys = opts.maxKeys;
    this.idleMs = opts.idleMs ?? 0;
    this.onEvict = opts.onEvict;
  }

  get size(): number {
    return this.map.size;
  }

  /** Value for `key`, creating it with `create()` when absent; marks the key as used at `now`. */
  get(key: string, now: number, create: () => V): V {
    let e = this.map.get(key);
    if (e !== undefined) {
      e.lastSeen = now;
      // Re-insert only when the key is not already the most recent one: a device's readings often
      // come in runs (batches), and delete + set on every one of them would be wasted work.
      if (key !== this.lastKey) {
        this.map.delete(key);
        this.map.set(key, e);
        this.lastKey = key;
      }
      return e.value;
    }
    e = { value: create(), lastSeen: now };
    this.map.set(key, e);
    this.lastKey = key;
    if (this.maxKeys > 0 && this.map.size > this.maxKeys) this.evictOldest();
    return e.value;
  }

  /** Value for `key` without creating or touching it. */
  peek(key: string): V | undefined {
    return this.map.get(key)?.value;
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  delete(key: string): boolean {
    if (key === this.lastKey) this.lastKey = undefined;
    return this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
    this.lastKey = undefined;
  }

  keys(): IterableIterator<string> {
    return this.map.keys();
  }

  *entries(): IterableIterator<[string, V]> {
    for (const [k, e] of this.map) yield [k, e.value];
  }

  /** Remove keys idle for longer than the idle timeout at time `now`; returns how many were removed. */
  sweep(now: number): number {
    if (this.idleMs <= 0) return 0;
    let n = 0;
    for (const [k, e] of this.map) {
      if (now - e.lastSeen <= this.idleMs) break; // LRU order: the rest are fresher
      this.delete(k);
      this.evictions++;
      n++;
      this.onEvict?.(k, e.value, 'idle');
    }
    return n;
  }

  private evictOldest(): void {
    const first = this.map.entries().next();
    if (first.done) return;
    const [k, e] = first.value;
    this.delete(k);
    this.evictions++;
    this.onEvict?.(k, e.value, 'lru');
  }
}
