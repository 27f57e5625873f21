/**
 * smoke-fire-pattern: several fire indicators in one reading (CONTRACT §4). Output 1 passes every
 * message on unchanged; output 2 carries PATTERN alerts (HIGH / CRITICAL). Thin adapter over
 * lib/fire-pattern.
 */
import { DEFAULT_FIRE_BOUNDS, FirePatternDetector } from '../lib/fire-pattern';
import { readDetectorOptions, registerDetectorNode } from '../nr/detector-node';
import { useCatalogues } from '../nr/i18n';
import type { RED } from '../nr/types';

export = function (RED: RED) {
  useCatalogues(RED);
  // The indicator bounds (temperature, tvoc, eco2, pm2_5) and the common detector settings.
  registerDetectorNode(RED, 'smoke-fire-pattern', (c) => {
    const bounds = {
      temperature: c.number('temperature', DEFAULT_FIRE_BOUNDS.temperature),
      tvoc: c.number('tvoc', DEFAULT_FIRE_BOUNDS.tvoc),
      eco2: c.number('eco2', DEFAULT_FIRE_BOUNDS.eco2),
      pm2_5: c.number('pm2_5', DEFAULT_FIRE_BOUNDS.pm2_5),
    };
    const opts = readDetectorOptions(c);
    // State between readings only in emit: change.
    return { create: () => new FirePatternDetector({ ...opts, bounds }), emit: opts.emit, stateful: opts.emit === 'change' };
  });
};
