/**
 * The approximate JSON size of an input, for the validators' `maxBytes` abuse guard: a bounded walk
 * whose cost is capped by the limit, never by the input.
 */

export function primitiveSize(v: unknown): number {
  return typeof v === 'string' ? v.length + 2 : typeof v === 'number' ? 8 : typeof v === 'boolean' ? 5 : 4;
}

/**
 * Approximate JSON size of `value` in characters, for the `maxBytes` check. It walks the value
 * without recursion and stops as soon as the count passes `limit`, so its cost is bounded by the
 * limit, never by the input (a 10 MB string costs one `length`). Counts: string = length + 2,
 * number = 8, boolean = 5, null/other = 4, each object key = its length + 4, each array item + 1,
 * a typed array / Buffer = its byteLength; keys are those for-in visits (own and inherited
 * enumerable). Characters, not UTF-8 bytes: it is an abuse guard, not a byte-exact limit. A cyclic
 * object counts as larger than any limit.
 */
export function approxSize(value: unknown, limit: number): number {
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value)) {
    return objectSize(value, limit);
  }
  return walkSize(value, limit);
}

/**
 * Size of an object whose values are all primitives (a reading), in one for-in pass; a nested value
 * hands over to {@link walkSize}. for-in allocates no key array (Object.keys costs 4 times as much)
 * and visits inherited enumerable keys too, which only a polluted or unusual prototype has: counting
 * them errs on the safe side, and an own-key test would double the cost of the pass.
 */
function objectSize(o: object, limit: number): number {
  let size = 2;
  for (const k in o) {
    const e: unknown = (o as Record<string, unknown>)[k];
    if (typeof e === 'object' && e !== null) return walkSize(o, limit);
    size += k.length + 4 + primitiveSize(e);
    if (size > limit) break;
  }
  return size;
}

/** The general walk of {@link approxSize}: any nesting, no recursion, stops past `limit`. */
function walkSize(value: unknown, limit: number): number {
  let size = 0;
  let stack: object[] | undefined;
  let v: unknown = value;
  for (;;) {
    if (typeof v !== 'object' || v === null) {
      size += primitiveSize(v);
    } else if (ArrayBuffer.isView(v)) {
      size += v.byteLength + 2;
    } else if (Array.isArray(v)) {
      size += 2;
      for (let i = 0; i < v.length && size <= limit; i++) {
        const e: unknown = v[i];
        if (typeof e === 'object' && e !== null) {
          size += 1;
          (stack ??= []).push(e);
        } else size += 1 + primitiveSize(e);
      }
    } else {
      size += 2;
      const o = v;
      for (const k in o) {
        const e: unknown = (o as Record<string, unknown>)[k];
        size += k.length + 4;
        if (typeof e === 'object' && e !== null) (stack ??= []).push(e);
        else size += primitiveSize(e);
        if (size > limit) break;
      }
    }
    if (size > limit || stack === undefined || stack.length === 0) return size;
    v = stack.pop();
  }
}
