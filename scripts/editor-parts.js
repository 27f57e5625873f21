'use strict';
/**
 * The parts of the node editors that several nodes share, written once. A node's .html under nodes/
 * says where one goes with a line `// @smoke-stream <part> <arguments>` (in its dialog's template:
 * `<!-- @smoke-stream <part> <arguments> -->`); the build (scripts/build.js) writes the part's lines in
 * its place, at that line's indentation. So each shipped editor is still one
 * literal `RED.nodes.registerType('type', {...})`, which is how the Flow Library and node-red-dev's
 * scorecard read it (they parse the file, they do not run it: STYLE.md), while a setting every detector
 * has, or a role's colour, is changed in one place.
 *
 * Every shipped editor file also starts with HELPERS_TAG: the editors' validators and helpers,
 * `SmokeStreamEditor` (resources/editor.js; every validator accepts an absent or empty value, CONTRACT
 * §1, and the `unsetLoose` ones also null and ${ENV} with spaces around it). The dialogs' templates hold
 * placeholders (`data-row`, `data-rows`) that the same file fills in as each type is registered
 * (SmokeStreamEditor.template).
 */

/** The tag that loads resources/editor.js (Node-RED serves a package's resources/ at resources/<name>/). */
const HELPERS_TAG = '<script src="resources/@smoke-stream/node-red-smoke-stream/editor.js"></script>';

/** Palette colour by role: sources blue, processing yellow, detectors coral, sinks green. */
const COLOURS = { source: '#A6C9E2', processing: '#E2D96E', detector: '#F7A98B', sink: '#A8D5A2' };

const quote = (s) => `'${String(s).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** `palette <role> <label…>`: the node's entry in the palette (role `config`: in the configuration nodes). */
function palette(type, [role, ...label]) {
  if (role === 'config') return [`category: 'config',`, `paletteLabel: ${quote(label.join(' '))},`];
  if (!COLOURS[role]) throw new Error(`${type}: no palette role "${role}" (one of config, ${Object.keys(COLOURS).join(', ')})`);
  return [`category: 'smoke stream',`, `color: '${COLOURS[role]}',`, `paletteLabel: ${quote(label.join(' '))},`, 'labelStyle: SmokeStreamEditor.labelStyle,'];
}

const PARTS = {
  palette,
  /**
   * `settings`: the settings every node has, its name and the version of its settings (flow migrations);
   * `settings detector`: those and the settings every detector has (their defaults and validators:
   * resources/editor.js); `settings kafka`: those and the kafka broker a kafka node connects through.
   */
  settings: (type, [kind]) => {
    const every = [`name: { value: '' },`, 'version: { value: 1 },'];
    if (kind === undefined) return every;
    if (kind === 'detector') return [...every, ...['emit', 'maxDevices', 'idleTimeout', 'state'].map((k) => `${k}: SmokeStreamEditor.detectorSetting('${k}'),`)];
    if (kind === 'kafka') return [...every, `broker: { value: '', type: 'smoke-kafka-broker', required: true },`];
    throw new Error(`${type}: no settings "${kind}" (none, detector or kafka)`);
  },
  /**
   * `detector <icon> <label…>`: what every detector's registration has: its palette entry, one input,
   * two outputs (the alerts, and each reading passed on; their labels in the node's catalogue), and its
   * name or the label on the flow.
   */
  detector: (type, [icon, ...label]) => [
    ...palette(type, ['detector', ...label]),
    'inputs: 1,',
    'outputs: 2,',
    `outputLabels: SmokeStreamEditor.outputLabels('${type}.label.out'),`,
    `icon: ${quote(icon)},`,
    `label: SmokeStreamEditor.label(${quote(label.join(' '))}),`,
  ],
  /**
   * `rule-table-detector <key column width> <new rule's key> <icon> <label…>`: a detector configured by a
   * rule table (its `rules` setting): what every detector has, and the table shown, saved and resized
   * with the dialog.
   */
  'rule-table-detector': (type, [keyWidth, newKey, ...detector]) => [
    ...PARTS.detector(type, detector),
    'oneditprepare: function () {',
    `  SmokeStreamEditor.detectorPrepare(this, { rules: { keyWidth: ${quote(keyWidth)}, newKey: ${quote(newKey)} } });`,
    '},',
    'oneditsave: SmokeStreamEditor.ruleTableSave,',
    'oneditresize: SmokeStreamEditor.ruleTableResize,',
  ],
  /**
   * `rule-table-dialog [<tip key>]` (in the dialog's template, as an HTML comment): a rule-table
   * detector's dialog: its name, the rule table (with the message `<tip key>` under it when given: rules
   * offered but off by default) and the rows every detector's dialog ends with (resources/editor.js fills
   * in each placeholder).
   */
  'rule-table-dialog': (type, [off]) => [
    '<div class="form-row" data-row="name" data-icon="tag" data-placeholder-key="label.name"></div>',
    off === undefined ? '<div data-rows="rules"></div>' : `<div data-rows="rules" data-off="${off}"></div>`,
    '<div data-rows="detector" data-tip="tip.state"></div>',
  ],
};

/** A part's line: `// @smoke-stream <part> <arguments>` in a script, `<!-- @smoke-stream … -->` in a template. */
const DIRECTIVE = /^([ \t]*)(?:\/\/ @smoke-stream (\S+)(.*)|<!-- @smoke-stream (\S+)(.*?)-->)[ \t]*$/gm;

/**
 * A node's editor file as shipped: HELPERS_TAG first, then the source with each part's line replaced by
 * the part. `type` is the node type the file registers (for the parts named after it).
 */
function expandEditor(html, type) {
  if (html.includes(HELPERS_TAG)) throw new Error(`${type}: the build adds the helpers' tag; the source must not have it`);
  const body = html.replace(DIRECTIVE, (_, indent, jsName, jsRest, htmlName, htmlRest) => {
    const name = jsName ?? htmlName;
    const rest = jsRest ?? htmlRest;
    const part = PARTS[name];
    if (!part) throw new Error(`${type}: no editor part "${name}" (one of ${Object.keys(PARTS).join(', ')})`);
    return part(type, rest.trim().split(/\s+/).filter(Boolean)).map((line) => indent + line).join('\n');
  });
  return `${HELPERS_TAG}\n${body}`;
}

module.exports = { expandEditor, HELPERS_TAG, COLOURS };
