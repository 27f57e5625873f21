/**
 * node-red-node-test-helper, initialised once with the Node-RED runtime from node_modules, plus the
 * built node modules from dist/ (the same files the palette manager installs), each with Node-RED's
 * real message catalogues (./_catalogues.ts): statuses and log lines read as a user reads them.
 */
import * as path from 'node:path';
import * as fs from 'node:fs';
import { deployInto } from '../_deploy';
import { withCatalogues } from './_catalogues';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require('node-red-node-test-helper');

helper.init(require.resolve('node-red'));

export const root = path.resolve(__dirname, '..', '..');

interface PackageJson {
  'node-red': { nodes: Record<string, string> };
}

export const pkg: PackageJson = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

/** The built module of a node, by its folder name (e.g. 'sensor-validate'). */
export function nodeModule(name: string): unknown {
  return withCatalogues(path.join(root, 'dist', 'nodes', name, `${name}.js`));
}

/** Every module listed in package.json's node-red.nodes. */
export function allNodeModules(): unknown[] {
  return Object.values(pkg['node-red'].nodes).map((f) => withCatalogues(path.join(root, f)));
}

export { helper };

/** {@link deployInto} with this file's helper. */
export function deploy(flow: unknown[], type: 'full' | 'nodes' | 'flows', credentials: Record<string, unknown> = {}): Promise<void> {
  return deployInto(helper, flow, type, credentials);
}

/**
 * The arguments of every `method` call (status, warn, error, log) that `node` made: the test helper spies
 * on Node.prototype, so each spy records the calls of every node. Typed loosely, as tests read them.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function callsOf(node: unknown, method: 'status' | 'warn' | 'error' | 'log'): any[][] {
  const spy = (node as Record<string, { getCalls(): { thisValue: unknown; args: unknown[] }[] }>)[method];
  return spy
    .getCalls()
    .filter((c) => c.thisValue === node)
    .map((c) => c.args);
}
