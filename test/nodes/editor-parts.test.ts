/**
 * The editors' shared parts (scripts/editor-parts.js): a node's .html under nodes/ names them with
 * `// @smoke-stream <part>` lines and the build writes them out, so that what several nodes share is
 * written once while each shipped editor stays a literal registration (test/nodes/flow-library.test.ts
 * reads the shipped files as the Flow Library does).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { editorDefinition, editorHtml } from './_editor';
import { pkg, root } from './_helper';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const parts = require(path.join(root, 'scripts', 'editor-parts.js')) as {
  expandEditor: (html: string, type: string) => string;
  HELPERS_TAG: string;
  COLOURS: Record<string, string>;
};

const sourceHtml = (type: string): string => fs.readFileSync(path.join(root, 'nodes', type.replace(/^smoke-/, ''), `${type.replace(/^smoke-/, '')}.html`), 'utf8');

describe('editor parts > expanding a source editor', function () {
  const source = [
    '<script type="text/javascript">',
    "  RED.nodes.registerType('smoke-x-alert', {",
    '    // @smoke-stream detector font-awesome/fa-bell x alert',
    '    defaults: {',
    '      // @smoke-stream settings detector',
    "      bound: { value: 3 },",
    '    },',
    '  });',
    '</script>',
  ].join('\n');

  it('starts the file with the helpers tag and writes each part at its line, indented as the line', function () {
    const out = parts.expandEditor(source, 'smoke-x-alert');
    const lines = out.split('\n');
    assert.equal(lines[0], parts.HELPERS_TAG);
    assert.doesNotMatch(out, /\/\/ @smoke-stream |<!-- @smoke-stream /, 'no directive left');
    assert.ok(lines.includes("    color: '#F7A98B',"), 'the detector colour, at the directive indentation');
    assert.ok(lines.includes("    outputLabels: SmokeStreamEditor.outputLabels('smoke-x-alert.label.out'),"), 'named after the type');
    assert.ok(lines.includes("    label: SmokeStreamEditor.label('x alert'),"));
    assert.ok(lines.includes("      name: { value: '' },") && lines.includes("      state: SmokeStreamEditor.detectorSetting('state'),"));
    assert.ok(lines.includes('      bound: { value: 3 },'), "the node's own lines stay");
  });

  it("writes a part named in a dialog's template (an HTML comment) at its line", function () {
    const out = parts.expandEditor('<script type="text/html" data-template-name="smoke-x-alert">\n  <!-- @smoke-stream rule-table-dialog tip.off -->\n</script>', 'smoke-x-alert');
    assert.deepEqual(out.split('\n').slice(2, 5), [
      '  <div class="form-row" data-row="name" data-icon="tag" data-placeholder-key="label.name"></div>',
      '  <div data-rows="rules" data-off="tip.off"></div>',
      '  <div data-rows="detector" data-tip="tip.state"></div>',
    ]);
    assert.ok(!parts.expandEditor('  <!-- @smoke-stream rule-table-dialog -->', 'smoke-x').includes('data-off'));
  });

  it('refuses an unknown part, an unknown role or kind, and a source that loads the helpers itself', function () {
    assert.throws(() => parts.expandEditor('    // @smoke-stream colour blue', 'smoke-x'), /no editor part "colour"/);
    assert.throws(() => parts.expandEditor('    // @smoke-stream palette gadget x', 'smoke-x'), /no palette role "gadget"/);
    assert.throws(() => parts.expandEditor('    // @smoke-stream settings mqtt', 'smoke-x'), /no settings "mqtt"/);
    assert.throws(() => parts.expandEditor(`${parts.HELPERS_TAG}\n<script></script>`, 'smoke-x'), /adds the helpers' tag/);
  });
});

describe('editor parts > the node editors', function () {
  for (const type of Object.keys(pkg['node-red'].nodes)) {
    it(`${type}: its palette entry and the settings every node has come from the parts`, function () {
      const source = sourceHtml(type);
      assert.ok(!source.includes(parts.HELPERS_TAG), 'the build adds the helpers tag');
      for (const literal of [/^\s*category:/m, /^\s*color:/m, /^\s*paletteLabel:/m, /^\s*name: \{ value: '' \}/m, /^\s*version: \{ value:/m]) {
        assert.doesNotMatch(source, literal, `written out in the source: ${literal}`);
      }
      assert.match(source, /\/\/ @smoke-stream (palette|detector|rule-table-detector) /, 'a palette entry');
      assert.match(source, /\/\/ @smoke-stream settings\b/, 'the settings every node has');
      const def = editorDefinition(type);
      assert.deepEqual([def.defaults.name.value, def.defaults.version.value], ['', 1]);
      assert.equal(editorHtml(type).split(parts.HELPERS_TAG).length - 1, 1, 'the shipped file loads the helpers once');
      if (def.category === 'config') return;
      assert.equal(def.category, 'smoke stream');
      assert.ok(Object.values(parts.COLOURS).includes(def.color), `a role's colour: ${def.color}`);
    });
  }

  it('every detector has the settings every detector has, with the same definitions', function () {
    const detectors = Object.keys(pkg['node-red'].nodes).filter((t) => /@smoke-stream settings detector/.test(sourceHtml(t)));
    assert.deepEqual(detectors.sort(), ['smoke-fire-pattern', 'smoke-threshold-alert', 'smoke-window-alert', 'smoke-zscore-anomaly']);
    const settings = (t: string): string => JSON.stringify(['emit', 'maxDevices', 'idleTimeout', 'state'].map((k) => editorDefinition(t).defaults[k]?.value));
    for (const t of detectors) assert.equal(settings(t), JSON.stringify(['every', 10000, '1 hour', 'auto']), t);
  });
});
