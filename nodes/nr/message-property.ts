/**
 * Reading a message property named in a node's settings (`payload.deviceId`, `msg.topic`), on the hot
 * path: Node-RED's `RED.util.getMessageProperty` parses the expression again on every call; this
 * parses it once and reads the parts the way Node-RED does (a missing part gives undefined, a part
 * of undefined or null throws Node-RED's TypeError).
 */
import type { RED } from './types';

/** Reads the property from an object (a message, or an element of its payload). */
export type PropertyReader = (from: object) => unknown;

/**
 * The reader of property `expr` (with or without `msg.`), or null when it is no property expression.
 * An expression that refers to the message itself (`a[msg.b]`) is read by Node-RED on each call; for
 * a reader of the elements of a message's property (`under`, such as `payload`), from a message that
 * holds the element there, as Node-RED would read `<under>.<expr>`.
 */
export function propertyReader(RED: RED, expr: string, under?: string): PropertyReader | null {
  let parts: unknown[];
  try {
    parts = RED.util.normalisePropertyExpression(expr.startsWith('msg.') && under === undefined ? expr.slice(4) : expr);
  } catch {
    return null;
  }
  if (parts.some((p) => typeof p === 'object')) {
    if (under === undefined) return (from) => RED.util.getMessageProperty(from as never, expr);
    const full = `${under}.${expr}`;
    return (from) => RED.util.getMessageProperty({ [under]: from } as never, full);
  }
  const keys = parts as (string | number)[];
  if (keys.length === 1) {
    const k = keys[0];
    return (from) => (from as Record<string | number, unknown>)[k];
  }
  return (from) => {
    let v: unknown = from;
    for (let i = 0; i < keys.length; i++) v = (v as Record<string | number, unknown>)[keys[i]];
    return v;
  };
}
