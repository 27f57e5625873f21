/**
 * How the Flow Library sees each node without running its editor: flows.nodered.org lists a package's
 * node types, and node-red-dev's scorecard checks them, by parsing the `<script>` blocks of each shipped
 * .html with acorn and reading the `RED.nodes.registerType('type', {...})` calls. Only an object literal
 * definition counts; `defaults` and `credentials` must be object literals and `category`, `color`,
 * `icon`, `inputs`, `outputs` literals. Anything else is recorded as an error entry, which the library
 * then lists as a node type named "__errors__", and which fails the scorecard's "an example for every
 * node" check (no example uses a node "__errors__"). STYLE.md: keep the registration literal.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as acorn from 'acorn';
import * as walk from 'acorn-walk';
import { editorDefs } from './_editor';
import { pkg, root } from './_helper';

/** What a static reader gets from one registration: the type, its settings' names, and what it could not read. */
interface StaticDef {
  type: string;
  defaults: string[];
  problems: string[];
}

/** The keys of the definition the Flow Library reads, and the kind of value each must be. */
const LITERAL_KEYS = ['category', 'color', 'icon', 'inputs', 'outputs'];
const OBJECT_KEYS = ['defaults', 'credentials'];

/** The name of a property's key, or undefined for a spread or a computed key (a static reader sees neither). */
function keyName(p: acorn.Property | acorn.SpreadElement): string | undefined {
  if (p.type !== 'Property' || p.computed) return undefined;
  if (p.key.type === 'Identifier') return p.key.name;
  if (p.key.type === 'Literal') return String(p.key.value);
  return undefined;
}

/** The JavaScript blocks of an editor file as the library picks them: `<script>` without `src`, untyped or text/javascript. */
function scriptBlocks(html: string): string[] {
  const out: string[] = [];
  for (const m of html.matchAll(/<script(\s[^>]*)?>([\s\S]*?)<\/script>/gi)) {
    const attrs = m[1] ?? '';
    if (/\ssrc=/i.test(attrs)) continue;
    const type = /\stype=['"]([^'"]+)['"]/i.exec(attrs)?.[1];
    if (type === undefined || type === 'text/javascript') out.push(m[2]);
  }
  return out;
}

/** Every registration in an editor file, read statically as the Flow Library reads it. */
function staticDefs(html: string): StaticDef[] {
  const defs: StaticDef[] = [];
  for (const block of scriptBlocks(html)) {
    walk.simple(acorn.parse(block, { ecmaVersion: 'latest' }), {
      CallExpression(call) {
        const callee = call.callee;
        if (callee.type !== 'MemberExpression' || callee.property.type !== 'Identifier' || callee.property.name !== 'registerType') return;
        const [typeArg, defArg] = call.arguments;
        const problems: string[] = [];
        const def: StaticDef = { type: typeArg?.type === 'Literal' ? String(typeArg.value) : '', defaults: [], problems };
        defs.push(def);
        if (typeArg?.type !== 'Literal') problems.push('the type is not a string literal');
        if (defArg?.type !== 'ObjectExpression') {
          problems.push('the definition is not an object literal');
          return;
        }
        for (const prop of defArg.properties) {
          const key = keyName(prop);
          if (key === undefined) {
            problems.push('a spread or computed key in the definition');
            continue;
          }
          const value = (prop as acorn.Property).value;
          if (LITERAL_KEYS.includes(key) && value.type !== 'Literal') problems.push(`${key} is not a literal`);
          if (!OBJECT_KEYS.includes(key)) continue;
          if (value.type !== 'ObjectExpression') {
            problems.push(`${key} is not an object literal`);
            continue;
          }
          for (const setting of value.properties) {
            const name = keyName(setting);
            if (name === undefined) problems.push(`a spread or computed key in ${key}`);
            else if (key === 'defaults') def.defaults.push(name);
          }
        }
      },
    });
  }
  return defs;
}

describe('package > the Flow Library reads every editor file', function () {
  const registered = editorDefs();
  for (const [set, file] of Object.entries(pkg['node-red'].nodes)) {
    it(`${set}: one literal registration of its type, every setting visible`, function () {
      const html = fs.readFileSync(path.join(root, file.replace(/\.js$/, '.html')), 'utf8');
      const defs = staticDefs(html);
      assert.deepEqual(defs.map((d) => d.type), [set], 'the types the library lists for this file');
      assert.deepEqual(defs[0].problems, [], 'what the library cannot read (it would list a node "__errors__")');
      const runtime = registered.get(set);
      assert.ok(runtime, `${set}: the editor script registers no definition when run`);
      assert.deepEqual([...defs[0].defaults].sort(), Object.keys(runtime.defaults).sort(), 'the settings the library sees are the ones the editor has');
    });
  }

  it('reads what it must not accept: a definition built by a call, spread settings, a computed colour', function () {
    const wrap = (js: string) => `<script src="x.js"></script>\n<script type="text/javascript">${js}</script>`;
    assert.deepEqual(staticDefs(wrap("RED.nodes.registerType('a', make());"))[0].problems, ['the definition is not an object literal']);
    assert.deepEqual(staticDefs(wrap("RED.nodes.registerType('a', { defaults: base({ x: { value: 1 } }) });"))[0].problems, ['defaults is not an object literal']);
    assert.deepEqual(staticDefs(wrap("RED.nodes.registerType('a', { defaults: { ...base, x: { value: 1 } } });"))[0], {
      type: 'a',
      defaults: ['x'],
      problems: ['a spread or computed key in defaults'],
    });
    assert.deepEqual(staticDefs(wrap("RED.nodes.registerType('a', { color: COLOURS.sink, inputs: 1 });"))[0].problems, ['color is not a literal']);
    assert.deepEqual(staticDefs('<script type="text/html" data-template-name="a"><b>RED.nodes.registerType</b></script>'), [], 'templates are not scripts');
  });
});
