/**
 * smoke-fire-pattern: several fire indicators in one reading (CONTRACT §4). Output 1 passes every
 * message on unchanged; output 2 carries PATTERN alerts (HIGH / CRITICAL). Thin adapter over
 * lib/fire-pattern.
 */
import { DEFAULT_FIRE_BOUNDS, FirePatternDetector } from '../lib/fire-pattern';
import { ConfigReader } from '../nr/config';
import { attachDetector, readDetectorOptions, readStateOption } from '../nr/detector-node';
import { reportBadConfig } from '../nr/errors';
import { useCatalogues } from '../nr/i18n';
import type { Node, NodeDef, RED } from '../nr/types';

interface FirePatternDef extends NodeDef {
  temperature?: number | string;
  tvoc?: number | string;
  eco2?: number | string;
  pm2_5?: number | string;
  emit?: string;
  maxDevices?: number | string;
  idleTimeout?: number | string;
}

export = function (RED: RED) {
  useCatalogues(RED);
  function FirePatternNode(this: Node, config: FirePatternDef) {
    RED.nodes.createNode(this, config);
    const c = new ConfigReader(config as unknown as Record<string, unknown>);
    const bounds = {
      temperature: c.number('temperature', DEFAULT_FIRE_BOUNDS.temperature),
      tvoc: c.number('tvoc', DEFAULT_FIRE_BOUNDS.tvoc),
      eco2: c.number('eco2', DEFAULT_FIRE_BOUNDS.eco2),
      pm2_5: c.number('pm2_5', DEFAULT_FIRE_BOUNDS.pm2_5),
    };
    const opts = readDetectorOptions(c);
    const changelogOf = readStateOption(RED, this, c);
    if (c.problems.length > 0) {
      reportBadConfig(this, c.problems);
      return;
    }
    attachDetector(RED, this, () => new FirePatternDetector({ ...opts, bounds }), opts.emit, changelogOf, opts.emit === 'change');
  }
  RED.nodes.registerType('smoke-fire-pattern', FirePatternNode);
};
