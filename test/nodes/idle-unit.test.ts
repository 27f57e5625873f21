/**
 * One rule for a bare-number idle timeout: the runtime reads it in the unit the editor states beside the
 * field (detectors: seconds, so that an existing flow's 3600 is still one hour; sliding window: ms, as
 * all its durations). Text with a unit means what it says in every node.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDuration } from '../../nodes/lib/duration';
import { ConfigReader } from '../../nodes/nr/config';
import { IDLE_TIMEOUT_UNIT as DETECTOR_UNIT, readDetectorOptions } from '../../nodes/nr/detector-node';
import { IDLE_TIMEOUT_UNIT as WINDOW_UNIT } from '../../nodes/sliding-window/support';
import { editorHtml, editorTemplate } from './_editor';
import { root } from './_helper';

/** Words that state each unit in an editor's label. */
const UNIT_WORDS: Record<string, RegExp> = { s: /\bseconds\b/, ms: /^ms$|\bmilliseconds\b/ };

/** The text the editor of `node` shows right after its idleTimeout field (the locale label of the span there). */
function unitLabel(node: string): string {
  const html = editorTemplate(editorHtml(`smoke-${node}`));
  const m = /id="node-input-idleTimeout"[^>]*>\s*<span data-i18n="smoke-[\w-]+\.label\.(\w+)"><\/span>/.exec(html);
  assert.ok(m, `${node}: no unit label after the idle timeout field`);
  const locale = JSON.parse(fs.readFileSync(path.join(root, 'nodes', node, 'locales', 'en-US', `${node}.json`), 'utf8'));
  return locale[`smoke-${node}`].label[m[1]] as string;
}

describe('idle timeout > a bare number is in the unit the editor states', () => {
  for (const [node, unit] of [
    ['threshold-alert', DETECTOR_UNIT],
    ['zscore-anomaly', DETECTOR_UNIT],
    ['fire-pattern', DETECTOR_UNIT],
    ['window-alert', DETECTOR_UNIT],
    ['sliding-window', WINDOW_UNIT],
  ] as const) {
    it(`${node}: the editor states ${unit}, the unit the runtime reads`, () => {
      assert.match(unitLabel(node), UNIT_WORDS[unit]);
    });
  }

  it('detectors keep reading an existing 3600 as one hour, number or text', () => {
    for (const v of [3600, '3600', ' 3600 ', '1 hour', '60 min', '3600s', '3600000ms']) {
      assert.equal(readDetectorOptions(new ConfigReader({ idleTimeout: v })).idleMs, 3_600_000, JSON.stringify(v));
    }
    assert.equal(readDetectorOptions(new ConfigReader({ idleTimeout: 0 })).idleMs, 0);
  });

  it('the sliding window reads a bare number as ms and text by its unit', () => {
    assert.equal(WINDOW_UNIT, 'ms');
    assert.equal(new ConfigReader({ idleTimeout: '300' }).duration('idleTimeout', 0, WINDOW_UNIT, { min: 0 }), 300);
    assert.equal(parseDuration('1 hour', WINDOW_UNIT), 3_600_000);
  });
});
