/**
 * Running the node editors' scripts outside the browser, as the editor page runs them: Node-RED loads
 * resources/editor.js (the <script src> tag of each node's .html) before the node's own
 * `<script type="text/javascript">`, in one global scope.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { EDITOR_SETTINGS } from '../../nodes/nr/editor-settings';
import { pkg } from './_helper';

const root = path.resolve(__dirname, '..', '..');

/** The helpers shared by the node editors (Node-RED serves resources/ at resources/<module name>/). */
export const EDITOR_JS = path.join(root, 'resources', 'editor.js');

/** The editor's RED.validators that the node editors use, behaving like the editor's. */
const RED_VALIDATORS = {
  number: (blankAllowed?: boolean) => (v: unknown) =>
    (blankAllowed === true && (v === '' || v === undefined || v === null)) || (v !== '' && v !== null && Number.isFinite(Number(v))),
  regex: (re: RegExp) => (v: unknown) => re.test(String(v)),
  typedInput: () => () => true,
};

/**
 * A node's editor file as Node-RED and the Flow Library get it: the one the build ships in dist/ (its
 * shared parts filled in from `// @smoke-stream` lines: scripts/editor-parts.js), by node type.
 */
export function editorHtml(type: string): string {
  const file = pkg['node-red'].nodes[type];
  if (!file) throw new Error(`no node type ${type} in package.json`);
  return fs.readFileSync(path.join(root, file.replace(/\.js$/, '.html')), 'utf8');
}

/**
 * The definition the editor of node `type` registers, its script run after resources/editor.js with
 * `settings` as RED.settings (by default the runtime's, editorRedSettings).
 */
export function editorDefinition(type: string, settings: Record<string, unknown> = editorRedSettings()): any {
  const registered: { type: string; def: any }[] = [];
  const RED = { nodes: { registerType: (t: string, def: any) => registered.push({ type: t, def }) }, validators: RED_VALIDATORS, settings };
  vm.runInContext(editorScript(editorHtml(type)) ?? '', editorContext({ RED }));
  if (registered.length !== 1 || registered[0].type !== type) throw new Error(`${type}: registers ${registered.map((r) => r.type).join(', ') || 'nothing'}`);
  return registered[0].def;
}

/** The body of a node editor's `<script type="text/javascript">`: its RED.nodes.registerType call. */
export function editorScript(html: string): string | undefined {
  return /<script type="text\/javascript">([\s\S]*?)<\/script>/.exec(html)?.[1];
}

/**
 * A node editor's dialog template as Node-RED builds the dialog from it: the text of its
 * `<script type="text/html" data-template-name>` with the placeholders filled in by resources/editor.js
 * (SmokeStreamEditor.template; in the editor, as the node's type is registered).
 */
export function editorTemplate(html: string): string {
  const m = /<script type="text\/html" data-template-name="([^"]+)">([\s\S]*?)<\/script>/.exec(html);
  if (!m) throw new Error('no <script type="text/html" data-template-name> in the editor file');
  const prefix = /category: 'config'/.test(editorScript(html) ?? '') ? 'node-config-input' : 'node-input';
  return editorContext({}).SmokeStreamEditor.template(m[1], m[2], prefix) as string;
}

/** A vm context with `globals` in which resources/editor.js has run, ready for the editors' scripts. */
export function editorContext(globals: Record<string, unknown>): vm.Context {
  const context = vm.createContext({ ...globals });
  vm.runInContext(fs.readFileSync(EDITOR_JS, 'utf8'), context, { filename: EDITOR_JS });
  return context;
}

/**
 * `RED.settings` as the editor gets it from the runtime: the values the nodes export to their editors
 * (nodes/nr/editor-settings.ts; test/e2e/editor-defaults.test.ts sees them through a real runtime).
 */
export function editorRedSettings(): Record<string, unknown> {
  return Object.assign({}, ...Object.values(EDITOR_SETTINGS));
}

export interface EditorDef {
  category: string;
  defaults: Record<string, { value: unknown; required?: boolean; type?: string; validate?: (this: unknown, v: unknown) => boolean }>;
}

/**
 * The definition each node's editor registers, from the `RED.nodes.registerType(...)` script of its
 * .html, run after resources/editor.js against a stub of the editor's RED (validators behave like the
 * editor's).
 */
export function editorDefs(): Map<string, EditorDef> {
  const defs = new Map<string, EditorDef>();
  const RED = {
    nodes: { registerType: (type: string, def: EditorDef) => defs.set(type, def) },
    validators: RED_VALIDATORS,
    _: (key: string) => key,
    settings: editorRedSettings(),
  };
  for (const type of Object.keys(pkg['node-red'].nodes)) {
    const script = editorScript(editorHtml(type));
    if (!script) throw new Error(`${type}: no editor script`);
    vm.runInContext(script, editorContext({ RED, $: () => ({}) }));
  }
  return defs;
}
