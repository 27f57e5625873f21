/**
 * Reading a node's configuration: every setting may be absent (hand-written flows: the contract's
 * default applies), a string from the editor, or `${ENV}` already substituted by Node-RED. Problems
 * are collected so the node can show all of them at once (CONTRACT §1: an unusable setting is a red
 * status with a clear message, never a surprise). Their texts are shared ones
 * (`smoke-kafka-broker.common.config.*`, nodes/nr/i18n.ts): every node reads its settings here.
 */
import { parseDuration } from '../lib/duration';
import { shared } from './i18n';

export interface NumberRule {
  min?: number;
  max?: number;
  /** Bound `min` is exclusive (value must be > min). */
  exclusiveMin?: boolean;
  integer?: boolean;
}

export class ConfigReader {
  readonly problems: string[] = [];

  constructor(private readonly cfg: Record<string, unknown>) {}

  private raw(key: string): unknown {
    const v = this.cfg[key];
    return v === '' || v === undefined || v === null ? undefined : v;
  }

  string(key: string, def: string): string {
    const v = this.raw(key);
    return v === undefined ? def : String(v);
  }

  boolean(key: string, def: boolean): boolean {
    const v = this.raw(key);
    if (v === undefined) return def;
    if (v === true || v === 'true') return true;
    if (v === false || v === 'false') return false;
    this.problems.push(shared('smoke-kafka-broker.common.config.not-boolean', { key, got: JSON.stringify(v) }));
    return def;
  }

  number(key: string, def: number, rule: NumberRule = {}): number {
    const v = this.raw(key);
    if (v === undefined) return def;
    const n = typeof v === 'number' ? v : Number(String(v).trim());
    return this.check(key, n, v, rule) ? n : def;
  }

  /** A duration in ms: number (in `unit`) or text such as "5 minutes" / "10s". */
  duration(key: string, defMs: number, unit: 'ms' | 's' | 'min' = 'ms', rule: NumberRule = { min: 0, exclusiveMin: true }): number {
    const v = this.raw(key);
    if (v === undefined) return defMs;
    const ms = parseDuration(v, unit);
    if (ms === null) {
      this.problems.push(shared('smoke-kafka-broker.common.config.not-duration', { key, got: JSON.stringify(v) }));
      return defMs;
    }
    return this.check(key, ms, v, rule) ? ms : defMs;
  }

  oneOf<T extends string>(key: string, values: readonly T[], def: T): T {
    const v = this.raw(key);
    if (v === undefined) return def;
    if ((values as readonly string[]).includes(String(v))) return String(v) as T;
    this.problems.push(shared('smoke-kafka-broker.common.config.not-one-of', { key, values: values.join(', '), got: JSON.stringify(v) }));
    return def;
  }

  /** A JSON setting (e.g. a rule table) that may arrive as an object or as JSON text. */
  json<T>(key: string, def: T): T {
    const v = this.raw(key);
    if (v === undefined) return def;
    if (typeof v !== 'string') return v as T;
    try {
      return JSON.parse(v) as T;
    } catch {
      this.problems.push(shared('smoke-kafka-broker.common.config.not-json', { key }));
      return def;
    }
  }

  private check(key: string, n: number, v: unknown, rule: NumberRule): boolean {
    if (!Number.isFinite(n)) {
      this.problems.push(shared('smoke-kafka-broker.common.config.not-number', { key, got: JSON.stringify(v) }));
      return false;
    }
    if (rule.integer && !Number.isInteger(n)) {
      this.problems.push(shared('smoke-kafka-broker.common.config.not-whole', { key, got: String(n) }));
      return false;
    }
    if (rule.min !== undefined && (rule.exclusiveMin ? n <= rule.min : n < rule.min)) {
      const bound = rule.exclusiveMin ? 'smoke-kafka-broker.common.config.above' : 'smoke-kafka-broker.common.config.at-least';
      this.problems.push(shared(bound, { key, min: String(rule.min), got: String(n) }));
      return false;
    }
    if (rule.max !== undefined && n > rule.max) {
      this.problems.push(shared('smoke-kafka-broker.common.config.at-most', { key, max: String(rule.max), got: String(n) }));
      return false;
    }
    return true;
  }
}
