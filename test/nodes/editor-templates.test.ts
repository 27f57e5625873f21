/**
 * The dialog templates: each node's `<script type="text/html" data-template-name>` describes its
 * common form rows by placeholders (`data-row`, `data-rows`) that resources/editor.js fills in as the
 * node's type is registered, before Node-RED builds a dialog from the template.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { EDITOR_JS, editorContext, editorHtml, editorRedSettings, editorScript, editorTemplate } from './_editor';

/* eslint-disable @typescript-eslint/no-explicit-any */

const root = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
const E = (): any => editorContext({}).SmokeStreamEditor;

/** The opening tags of `html` with their attributes, and its text, in order (end tags and white space aside). */
function tags(html: string): string[] {
  return [...html.matchAll(/<\/[a-z]+>|<([a-z]+)((?:\s+[\w-]+(?:="[^"]*")?)*)\s*\/?>|([^<>]+)/g)]
    .map((m) => (m[1] ? `<${m[1]}${m[2]}>` : (m[3] ?? '').trim()))
    .filter((t) => t !== '');
}

describe('editor templates > formRow', function () {
  it('a text field: the label with its icon and message, the field, its placeholder and unit', function () {
    assert.deepEqual(
      tags(E().formRow('smoke-x', 'node-input', 'maxBatch', { icon: 'list', width: '100px', placeholder: '1000', unitKey: 'label.records' })),
      ['<label for="node-input-maxBatch">', '<i class="fa fa-list">', '<span data-i18n="smoke-x.label.maxBatch">', '<input type="text" id="node-input-maxBatch" style="width: 100px" placeholder="1000">', '<span data-i18n="smoke-x.label.records">'],
    );
  });

  it('a select: each option a message of its group in camelCase, `value:name` a named message, `value=Text` the text', function () {
    const html = E().formRow('smoke-x', 'node-config-input', 'processing', { input: 'select', options: 'at-least-once read_committed -1:all plain=PLAIN' });
    assert.deepEqual(tags(html).slice(2), [
      '<select id="node-config-input-processing">',
      '<option value="at-least-once" data-i18n="smoke-x.processing.atLeastOnce">',
      '<option value="read_committed" data-i18n="smoke-x.processing.readCommitted">',
      '<option value="-1" data-i18n="smoke-x.processing.all">',
      '<option value="plain">',
      'PLAIN',
    ]);
    assert.match(E().formRow('smoke-x', 'node-input', 'fire', { input: 'select', group: 'label', options: 'off:fireOff' }), /data-i18n="smoke-x\.label\.fireOff"/);
  });

  it('checkboxes: the box before its label (indent: under the fields), or after the label', function () {
    const e = E();
    assert.deepEqual(tags(e.formRow('smoke-x', 'node-input', 'json', { input: 'check' })), ['<input type="checkbox" id="node-input-json" style="display: inline-block; width: auto; vertical-align: top;">', '<label for="node-input-json" style="width: auto" data-i18n="smoke-x.label.json">']);
    assert.deepEqual(tags(e.formRow('smoke-x', 'node-input', 'fsync', { input: 'check', indent: '' })).slice(0, 2), ['<label>', '&nbsp;']);
    assert.deepEqual(tags(e.formRow('smoke-x', 'node-input', 'drift', { input: 'checkbox', icon: 'random' })).slice(-1), ['<input type="checkbox" id="node-input-drift" style="display: inline-block; width: auto; vertical-align: top">']);
  });

  it('a blank label, a message before the field, number bounds, a textarea, messages of another namespace, more markup after', function () {
    const e = E();
    assert.deepEqual(tags(e.formRow('smoke-x', 'node-input', 'every', { label: '-', beforeKey: 'label.every', input: 'number', min: '0', max: '1', step: 'any' })), ['<label for="node-input-every">', '&nbsp;', '<span data-i18n="smoke-x.label.every">', '<input type="number" id="node-input-every" min="0" max="1" step="any">']);
    assert.deepEqual(tags(e.formRow('smoke-x', 'node-input', 'ca', { input: 'textarea', width: '70%' })).slice(-1), ['<textarea rows="3" id="node-input-ca" style="width: 70%; font-family: monospace">']);
    assert.deepEqual(tags(e.formRow('smoke-x', 'node-input', 'name', { label: 'node-red:common.label.name', placeholderKey: 'node-red:common.label.name' })), ['<label for="node-input-name">', '<span data-i18n="node-red:common.label.name">', '<input type="text" id="node-input-name" data-i18n="[placeholder]node-red:common.label.name">']);
    assert.deepEqual(tags(e.formRow('smoke-x', 'node-input', 'a', { unit: '&hellip;', inner: '\n <input id="node-input-b"> ms\n' })).slice(-3), ['&hellip;', '<input id="node-input-b">', 'ms']);
  });
});

describe('editor templates > template', function () {
  it('fills in data-row placeholders, keeping their classes and what they hold, and leaves other markup alone', function () {
    const html = '<div class="form-row smoke-a" data-row="size" data-width="80px"><span id="x"></span></div>\n<div class="form-tips" data-i18n="smoke-x.tip"></div><div class="form-row"><div id="y"></div></div>';
    assert.equal(
      E().template('smoke-x', html, 'node-input'),
      '<div class="form-row smoke-a"><label for="node-input-size"><span data-i18n="smoke-x.label.size"></span></label> <input type="text" id="node-input-size" style="width: 80px"> <span id="x"></span></div>\n' +
        '<div class="form-tips" data-i18n="smoke-x.tip"></div><div class="form-row"><div id="y"></div></div>',
    );
  });

  it('data-rows="rules": the rule table rows (with data-off, the tip #node-input-rules-off)', function () {
    const e = E();
    const off = tags(e.template('smoke-x', '<div data-rows="rules" data-off="tip.offByDefault"></div>', 'node-input'));
    assert.ok(off.includes('<button id="node-input-rules-defaults" class="red-ui-button red-ui-button-small">'));
    assert.ok(off.includes('<div class="form-tips" id="node-input-rules-off" style="margin-top: 6px" data-i18n="smoke-x.tip.offByDefault">'));
    assert.ok(off.includes('<ol id="node-input-rule-container">'));
    assert.ok(!e.template('smoke-x', '<div data-rows="rules"></div>', 'node-input').includes('node-input-rules-off'));
  });

  it('data-rows="detector": emit, max devices, idle timeout in seconds, the tip, state and the "here" line', function () {
    const html = E().template('smoke-x', '<div data-rows="detector" data-tip="tip.state"></div>', 'node-input');
    const ids = [...html.matchAll(/id="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(ids, ['node-input-emit', 'node-input-maxDevices', 'node-input-idleTimeout', 'node-input-state', 'node-input-state-here']);
    assert.match(html, /id="node-input-idleTimeout"[^>]*placeholder="1 hour"> <span data-i18n="smoke-x\.label\.idleUnit">/);
    assert.match(html, /<div class="form-tips" data-i18n="smoke-x\.tip\.state"[^>]*><\/div><div class="form-row"><label for="node-input-state">/);
    assert.deepEqual([...html.matchAll(/<option value="([^"]+)"/g)].map((m) => m[1]), ['every', 'change', 'auto', 'changelog', 'none']);
  });

  for (const type of Object.keys(pkg['node-red'].nodes)) {
    const html = editorHtml(type);
    it(`${type}: every placeholder filled in, and a field for each setting the dialog edits`, function () {
      const filled = editorTemplate(html);
      assert.doesNotMatch(filled, /data-rows?=/, 'a placeholder left');
      const defs: Record<string, any> = {};
      const RED = { nodes: { registerType: (_t: string, d: any) => Object.assign(defs, d) }, validators: { typedInput: () => () => true }, settings: editorRedSettings() };
      vm.runInContext(editorScript(html)!, editorContext({ RED }));
      const prefix = defs.category === 'config' ? 'node-config-input' : 'node-input';
      // Edited by widgets of their own: the rule table (rules), the sensor boxes (sensors).
      const own = new Set(['version', 'rules', 'sensors']);
      const keys = [...Object.keys(defs.defaults), ...Object.keys(defs.credentials ?? {})].filter((k) => !own.has(k));
      const missing = keys.filter((k) => (filled.match(new RegExp(`id="${prefix}-${k}"`, 'g')) ?? []).length !== 1);
      assert.deepEqual(missing, [], 'settings without exactly one field');
    });
  }
});

describe('editor templates > in the editor', function () {
  it('fills in the template of each type as it is registered (registry:node-type-added), once', function () {
    const templates: Record<string, string> = {
      'smoke-a': '<div class="form-row" data-row="size"></div>',
      'smoke-b': '<div class="form-row" data-row="retries"></div>',
      other: '<div class="form-row"><input id="node-input-x"></div>',
    };
    const writes: string[] = [];
    const $ = (selector: string) => {
      const type = /data-template-name="([^"]+)"/.exec(selector)![1];
      return {
        length: type in templates ? 1 : 0,
        text: (t?: string) => (t === undefined ? templates[type] : (writes.push(type), (templates[type] = t))),
      };
    };
    const listeners: Record<string, ((type: string) => void)[]> = {};
    const RED = {
      events: { on: (event: string, fn: (type: string) => void) => (listeners[event] = listeners[event] ?? []).push(fn) },
      nodes: { getType: (type: string) => ({ category: type === 'smoke-b' ? 'config' : 'smoke stream' }) },
    };
    const context = vm.createContext({ $, RED, window: { $, RED } });
    const source = fs.readFileSync(EDITOR_JS, 'utf8');
    vm.runInContext(source, context);
    vm.runInContext(source, context);
    assert.equal(listeners['registry:node-type-added']?.length, 1, 'one listener, however often the file runs');
    for (const type of ['smoke-a', 'smoke-b', 'other', 'missing', 'smoke-a']) listeners['registry:node-type-added'][0](type);
    assert.match(templates['smoke-a'], /^<div class="form-row"><label for="node-input-size">.*<input type="text" id="node-input-size"><\/div>$/);
    assert.match(templates['smoke-b'], /id="node-config-input-retries"/, 'a config node has node-config-input- fields');
    assert.deepEqual(writes, ['smoke-a', 'smoke-b'], 'nothing else written, and a filled template is left as it is');
  });
});
