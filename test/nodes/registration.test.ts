import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { allNodeModules, helper, pkg, root } from './_helper';

const files = Object.entries(pkg['node-red'].nodes);

/** The type id an editor file registers: `RED.nodes.registerType('smoke-…', …)`. */
function typeOf(htmlFile: string): string {
  const m = /RED\.nodes\.registerType\(\s*['"]([^'"]+)['"]/.exec(fs.readFileSync(htmlFile, 'utf8'));
  assert.ok(m, `${htmlFile} has no RED.nodes.registerType('…') call`);
  return m[1];
}

describe('package > every node listed in package.json', function () {
  for (const [set, file] of files) {
    const js = path.join(root, file);
    const dir = path.dirname(js);
    const base = path.basename(js, '.js');
    it(`${set}: ships ${base}.js, ${base}.html and locales/en-US/${base}.json in dist`, function () {
      assert.ok(fs.existsSync(js), `${file} missing`);
      assert.ok(fs.existsSync(path.join(dir, `${base}.html`)), `${base}.html missing`);
      const loc = path.join(dir, 'locales', 'en-US', `${base}.json`);
      assert.ok(fs.existsSync(loc), `locales/en-US/${base}.json missing`);
      JSON.parse(fs.readFileSync(loc, 'utf8'));
      assert.ok(fs.existsSync(path.join(dir, 'locales', 'en-US', `${base}.html`)), `help locales/en-US/${base}.html missing`);
      assert.equal(typeOf(path.join(dir, `${base}.html`)), set, 'the set name in package.json is the node type id');
      assert.match(set, /^smoke-/, 'type ids carry the smoke- prefix (CONTRACT §1)');
    });
  }
});

describe('package > registration in a real Node-RED runtime', function () {
  this.timeout(30000);
  afterEach(async function () {
    await helper.unload();
  });

  it('loads every node, and an instance of each starts with its defaults', async function () {
    const types = files.map(([set]) => set);
    const flow: Record<string, unknown>[] = [{ id: 'broker', type: 'smoke-kafka-broker', brokers: '127.0.0.1:1' }];
    for (const t of types) {
      if (t === 'smoke-kafka-broker') continue;
      flow.push({ id: `n-${t}`, type: t, broker: 'broker', wires: [] });
    }
    await helper.load(allNodeModules(), flow);
    for (const t of types) {
      const n = t === 'smoke-kafka-broker' ? helper.getNode('broker') : helper.getNode(`n-${t}`);
      assert.ok(n, `node of type ${t} was not created`);
      assert.equal(n.type, t);
    }
  });
});
