/**
 * smoke-threshold-alert: multi-level per-sensor thresholds (CONTRACT §4). Output 1 passes every
 * message on unchanged; output 2 carries THRESHOLD alerts. Thin adapter over lib/thresholds.
 */
import { ThresholdDetector, defaultRules, parseRules } from '../lib/thresholds';
import { registerRuleTableNode } from '../nr/detector-node';
import { editorSettings } from '../nr/editor-settings';
import { useCatalogues } from '../nr/i18n';
import type { RED } from '../nr/types';

export = function (RED: RED) {
  useCatalogues(RED);
  registerRuleTableNode(
    RED,
    'smoke-threshold-alert',
    defaultRules,
    parseRules,
    (rules, opts) => new ThresholdDetector(rules, opts),
    editorSettings('smoke-threshold-alert'),
  );
};
