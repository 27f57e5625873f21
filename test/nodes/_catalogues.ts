/**
 * The package's node modules with Node-RED's real message catalogues, for node-red-node-test-helper.
 *
 * The helper hands every module a `RED._` that returns the key it is given, so a node would show
 * `smoke-csv-sink.status.rows` where a user sees `rows 12`. Here each module gets the `RED._` that
 * Node-RED's registry gives it when it loads the package (@node-red/registry's createNodeApi: keys
 * without a namespace are looked up in the module's own node set), over the package's catalogues,
 * registered as the registry's loader registers them (namespace `<package name>/<set name>`, each
 * set's `locales` folder next to its file). The texts under test are then the texts a user reads.
 */
import * as path from 'node:path';
import * as fs from 'node:fs';
import { useCatalogues } from '../../nodes/nr/i18n';

/* eslint-disable @typescript-eslint/no-require-imports */
const { i18n } = require('@node-red/util') as {
  i18n: {
    init(settings: { lang?: string }): void;
    registerMessageCatalog(namespace: string, dir: string, file: string): Promise<void>;
    _(key: string, substitutions?: Record<string, unknown>): string;
  };
};
const registryUtil = require('@node-red/registry/lib/util') as {
  createNodeApi(node: { id: string; namespace: string }): { _: (key: string, substitutions?: Record<string, unknown>) => string };
};
/* eslint-enable @typescript-eslint/no-require-imports */

const root = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string; 'node-red': { nodes: Record<string, string> } };

/** Node set name by its built file (absolute path), as package.json lists them. */
const setOf = new Map(Object.entries(pkg['node-red'].nodes).map(([set, file]) => [path.join(root, file), set]));

/** Node-RED's namespace of a node set's catalogue. */
export function namespaceOf(set: string): string {
  return `${pkg.name}/${set}`;
}

let ready: Promise<void> | null = null;

/** Initialise Node-RED's i18n (en-US) and register every node set's catalogue; once per process. */
export function cataloguesReady(): Promise<void> {
  ready ??= (async () => {
    i18n.init({ lang: 'en-US' });
    await Promise.all(
      Object.entries(pkg['node-red'].nodes).map(([set, file]) => {
        const full = path.join(root, file);
        return i18n.registerMessageCatalog(namespaceOf(set), path.join(path.dirname(full), 'locales'), path.basename(full).replace(/\.[^.]+$/, '.json'));
      }),
    );
  })();
  return ready;
}

/**
 * `RED._` of the kafka broker's node set, for code under test without a Node-RED runtime (a unit test
 * of nodes/nr): hand it to `useCatalogues` (nodes/nr/i18n.ts) once the catalogues are ready.
 */
export async function brokerRed(): Promise<{ _: (key: string, substitutions?: Record<string, unknown>) => string }> {
  await cataloguesReady();
  const ns = namespaceOf('smoke-kafka-broker');
  return { _: (key, substitutions) => i18n._(key.includes(':') ? key : `${ns}:${key}`, substitutions) };
}

/**
 * For code under test without a Node-RED runtime that looks its texts up itself (nodes/nr/i18n.ts `text`,
 * `shared`: the partition tasks, the csv sink's writer, the sliding window's runner): hand the sources'
 * i18n module the runtime's lookup, as a loaded node module does.
 */
export async function useRuntimeCatalogues(): Promise<void> {
  useCatalogues((await brokerRed()) as never);
}

/** Node-RED's own lookup (`i18n._`), for tests that resolve a key themselves. */
export async function translate(key: string, substitutions?: Record<string, unknown>): Promise<string> {
  await cataloguesReady();
  return i18n._(key, substitutions);
}

type NodeModule = (RED: object) => unknown;
const wrapped = new Map<string, NodeModule>();

/**
 * The built module at `file` (absolute), with `RED._` as Node-RED gives it to that node set. The module
 * registers its types once the catalogues are loaded (the helper waits for a promise a module returns).
 * One wrapper per file: the helper loads a module once however often a test lists it.
 */
export function withCatalogues(file: string): NodeModule {
  let fn = wrapped.get(file);
  if (fn === undefined) {
    const set = setOf.get(file);
    if (set === undefined) throw new Error(`${file} is not a node set of package.json`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(file) as NodeModule;
    fn = (red: object) =>
      cataloguesReady().then(() => {
        const ns = namespaceOf(set);
        return mod(Object.assign(Object.create(red) as object, { _: registryUtil.createNodeApi({ id: ns, namespace: ns })._ }));
      });
    wrapped.set(file, fn);
  }
  return fn;
}
