/**
 * smoke-window-alert: the seed's window-level alerts, rules on the aggregates of `sliding window`
 * results (CONTRACT §4 alert shape, §5 results). Output 1 passes every message on unchanged; output 2
 * carries THRESHOLD alerts whose `sensor` names the aggregate. Thin adapter over lib/window-alert, wired
 * as the per-reading detectors are (nodes/nr/detector-node.ts).
 *
 * A node of its own rather than a mode of `threshold alert`: its input is a window result, not a
 * reading, its rule table names aggregates with defaults of their own, and `threshold alert` keeps its
 * settings and behaviour exactly as they are.
 */
import { WindowAlertDetector, defaultWindowRules, parseWindowRules } from '../lib/window-alert';
import { ConfigReader } from '../nr/config';
import { attachDetector, readDetectorOptions, readStateOption } from '../nr/detector-node';
import { reportBadConfig } from '../nr/errors';
import type { Node, NodeDef, RED } from '../nr/types';

interface WindowAlertDef extends NodeDef {
  /** The rule table as JSON text or an array; absent = the seed's rules. */
  rules?: unknown;
  emit?: string;
  maxDevices?: number | string;
  idleTimeout?: number | string;
}

export = function (RED: RED) {
  function WindowAlertNode(this: Node, config: WindowAlertDef) {
    RED.nodes.createNode(this, config);
    const c = new ConfigReader(config as unknown as Record<string, unknown>);
    const table = c.json<unknown>('rules', defaultWindowRules());
    const { rules, problems } = parseWindowRules(table);
    const opts = readDetectorOptions(c);
    const changelogOf = readStateOption(RED, this, c);
    const all = [...c.problems, ...problems];
    if (all.length > 0) {
      reportBadConfig(this, all);
      return;
    }
    attachDetector(RED, this, () => new WindowAlertDetector(rules, opts), opts.emit, opts.emit === 'change' ? changelogOf : undefined);
  }
  RED.nodes.registerType('smoke-window-alert', WindowAlertNode);
};
