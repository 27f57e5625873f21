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
import { registerRuleTableNode } from '../nr/detector-node';
import { editorSettings } from '../nr/editor-settings';
import { useCatalogues } from '../nr/i18n';
import type { RED } from '../nr/types';

export = function (RED: RED) {
  useCatalogues(RED);
  registerRuleTableNode(
    RED,
    'smoke-window-alert',
    defaultWindowRules,
    parseWindowRules,
    (rules, opts) => new WindowAlertDetector(rules, opts),
    editorSettings('smoke-window-alert'),
  );
};
