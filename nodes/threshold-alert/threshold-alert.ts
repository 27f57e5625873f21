/**
 * smoke-threshold-alert: multi-level per-sensor thresholds (CONTRACT §4). Output 1 passes every
 * message on unchanged; output 2 carries THRESHOLD alerts. Thin adapter over lib/thresholds.
 */
import { ThresholdDetector, defaultRules, parseRules } from '../lib/thresholds';
import { ConfigReader } from '../nr/config';
import { attachDetector, readDetectorOptions, readStateOption } from '../nr/detector-node';
import { reportBadConfig } from '../nr/errors';
import type { Node, NodeDef, RED } from '../nr/types';

interface ThresholdAlertDef extends NodeDef {
  /** The rule table as JSON text or an array; absent = the default table. */
  rules?: unknown;
  emit?: string;
  maxDevices?: number | string;
  idleTimeout?: number | string;
}

export = function (RED: RED) {
  function ThresholdAlertNode(this: Node, config: ThresholdAlertDef) {
    RED.nodes.createNode(this, config);
    const c = new ConfigReader(config as unknown as Record<string, unknown>);
    const table = c.json<unknown>('rules', defaultRules());
    const { rules, problems } = parseRules(table);
    const opts = readDetectorOptions(c);
    const changelogOf = readStateOption(RED, this, c);
    const all = [...c.problems, ...problems];
    if (all.length > 0) {
      reportBadConfig(this, all);
      return;
    }
    attachDetector(RED, this, () => new ThresholdDetector(rules, opts), opts.emit, opts.emit === 'change' ? changelogOf : undefined);
  }
  RED.nodes.registerType('smoke-threshold-alert', ThresholdAlertNode);
};
