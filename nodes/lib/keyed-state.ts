/**
 * Per-key state with a bound on the number of keys (least-recently-used eviction) and an optional idle
 * timeout. Framework-free: time is passed in by the caller (epoch ms), nothing runs on a timer.
 *
 * Entries sit in a Map for lookup and in a doubly linked list in least-recently-used order, so that a
 * lookup, a touch, an eviction and each step of an idle sweep cost O(1). (Taking the oldest key from
 * the Map's own insertion order, `map.keys().next()`, is not O(1): V8 leaves deleted entries as holes
 * at the front of the table until it is rehashed, and every call skips them again. With a device
 * evicted per reading, that made eviction cost grow with the bound, about 20 µs per new device at
 * 5,000 devices.)
 */
export interface KeyedStateOptions<V> {
  /** Maximum number of keys kept; the least recently used key is evicted beyond it. `0` = unbounded. */
  maxKeys: number;
  /** Keys untouched for longer than this (ms) are removed by {@link KeyedState.sweep}. `0` = never. */
  idleMs?: number;
  /** Called with each evicted or idle-swept entry after it is forgotten (e.g. to flush open windows). */
  onEvict?: (key: string, value: V, reason: 'lru' | 'idle') => void;
  /**
   * Hand the value of the key a new key evicts to `create(previous)`, to be reset and reused instead of
   * allocating another (with a device per reading, allocating ~11 kB of z-score rings per new device was
   * a quarter of the time). Only when nothing else keeps the evicted value (`onEvict` must not).
   */
  reuseEvicted?: boolean;
}

interface Entry<V> {
  key: string;
  value: V;
  lastSeen: number;
  /** Neighbours in least-recently-used order (`older` towards the next eviction). */
  older: Entry<V> | null;
  newer: Entry<V> | null;
}

export class KeyedState<V> {
  private readonly map = new Map<string, Entry<V>>();
  private readonly maxKeys: number;
  private readonly idleMs: number;
  private readonly onEvict?: (key: string, value: V, reason: 'lru' | 'idle') => void;
  private readonly reuse: boolean;
  private oldest: Entry<V> | null = null;
  private newest: Entry<V> | null = null;
  /** Number of keys evicted since creation (LRU and idle). */
  evictions = 0;

  constructor(opts: KeyedStateOptions<V>) {
    if (!Number.isInteger(opts.maxKeys) || opts.maxKeys < 0) throw new RangeError('maxKeys must be an integer >= 0');
    this.maxKeys = opts.maxKeys;
    this.idleMs = opts.idleMs ?? 0;
    this.onEvict = opts.onEvict;
    this.reuse = opts.reuseEvicted === true;
  }

  get size(): number {
    return this.map.size;
  }

  /**
   * Value for `key`, creating it with `create()` when absent; marks the key as used at `now`. With
   * `reuseEvicted`, a new key at the bound evicts first and `create` gets the evicted value to reset.
   */
  get(key: string, now: number, create: (evicted?: V) => V): V {
    let e = this.map.get(key);
    if (e !== undefined) {
      e.lastSeen = now;
      // A device's readings often come in runs (batches): the newest entry stays where it is.
      if (e !== this.newest) {
        this.unlink(e);
        this.append(e);
      }
      return e.value;
    }
    if (this.reuse && this.maxKeys > 0 && this.map.size >= this.maxKeys && this.oldest !== null) {
      const old = this.oldest;
      this.evictOldest();
      e = { key, value: create(old.value), lastSeen: now, older: null, newer: null };
    } else {
      e = { key, value: create(), lastSeen: now, older: null, newer: null };
    }
    this.map.set(key, e);
    this.append(e);
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
    const e = this.map.get(key);
    if (e === undefined) return false;
    this.map.delete(key);
    this.unlink(e);
    return true;
  }

  clear(): void {
    this.map.clear();
    this.oldest = this.newest = null;
  }

  /** Keys, least recently used first. */
  *keys(): IterableIterator<string> {
    for (let e = this.oldest; e !== null; e = e.newer) yield e.key;
  }

  /** Entries, least recently used first. */
  *entries(): IterableIterator<[string, V]> {
    for (let e = this.oldest; e !== null; e = e.newer) yield [e.key, e.value];
  }

  /** Entries with the time each was last used (`now` of its last `get` or `set`), least recently used first. */
  *entriesWithTime(): IterableIterator<[key: string, value: V, lastSeen: number]> {
    for (let e = this.oldest; e !== null; e = e.newer) yield [e.key, e.value, e.lastSeen];
  }

  /**
   * Make `key` the most recently used key, last used at `lastSeen`, with value `value` (replacing the
   * one it had). Beyond the bound the least recently used key is evicted, as by {@link get}. For
   * restoring saved state: setting the entries of {@link entriesWithTime} in order, oldest first,
   * rebuilds the same order and idle times. `lastSeen` is taken as given: the sweep expects the times
   * not to decrease from the oldest key to the newest, as they do when the caller's clock does not go back.
   */
  set(key: string, value: V, lastSeen: number): void {
    let e = this.map.get(key);
    if (e !== undefined) {
      e.value = value;
      e.lastSeen = lastSeen;
      if (e !== this.newest) {
        this.unlink(e);
        this.append(e);
      }
      return;
    }
    e = { key, value, lastSeen, older: null, newer: null };
    this.map.set(key, e);
    this.append(e);
    if (this.maxKeys > 0 && this.map.size > this.maxKeys) this.evictOldest();
  }

  /** Remove keys idle for longer than the idle timeout at time `now`; returns how many were removed. */
  sweep(now: number): number {
    if (this.idleMs <= 0) return 0;
    let n = 0;
    // LRU order: the first key seen recently enough ends the sweep, the rest are fresher.
    while (this.oldest !== null && now - this.oldest.lastSeen > this.idleMs) {
      const e = this.oldest;
      this.map.delete(e.key);
      this.unlink(e);
      this.evictions++;
      n++;
      this.onEvict?.(e.key, e.value, 'idle');
    }
    return n;
  }

  private evictOldest(): void {
    const e = this.oldest;
    if (e === null) return;
    this.map.delete(e.key);
    this.unlink(e);
    this.evictions++;
    this.onEvict?.(e.key, e.value, 'lru');
  }

  private append(e: Entry<V>): void {
    e.older = this.newest;
    e.newer = null;
    if (this.newest !== null) this.newest.newer = e;
    else this.oldest = e;
    this.newest = e;
  }

  private unlink(e: Entry<V>): void {
    if (e.older !== null) e.older.newer = e.newer;
    else if (this.oldest === e) this.oldest = e.newer;
    if (e.newer !== null) e.newer.older = e.older;
    else if (this.newest === e) this.newest = e.older;
    e.older = e.newer = null;
  }
}
