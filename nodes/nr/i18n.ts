/**
 * Every text a node shows or logs comes from a locale catalogue (`nodes/<node>/locales/en-US/<node>.json`)
 * through Node-RED's `RED._` (model: the core MQTT node's `RED._("mqtt.state.connected")`): a node's own
 * texts under its own keys (`RED._('smoke-csv-sink.status.rows', { count })`), and the texts that many
 * nodes share from one home, below.
 *
 * The home of the shared texts is the `kafka broker` node's catalogue: its connection states (which
 * `kafka in` and `kafka out` show) are its own, and the texts of every node's common failures (a bad
 * configuration, a failing timer, an unusable checkpoint; `smoke-kafka-broker.common.*`) sit next to them.
 * Why there and not in a catalogue of their own: Node-RED registers catalogues per node set only (the
 * node API has no way to add another), and it registers every set's catalogue when it loads the package,
 * even that of a set disabled in the palette manager, so the broker's is there for every node of the
 * package. A text from another set's catalogue is addressed with that set's namespace,
 * `<package name>/<set name>:` (Node-RED's registry loader names it so).
 */
import type { RED } from './types';

/** Values for a text's `__name__` placeholders. */
export type Substitutions = Record<string, string | number>;

/** `RED._` of a node's module: a catalogue key (and its substitutions) to the text in the runtime's language. */
export type Translate = (key: string, substitutions?: Substitutions) => string;

/** The package name (package.json `name`): the first half of each of its catalogue namespaces. */
export const PACKAGE_NAME = '@smoke-stream/node-red-smoke-stream';

/** The namespace of the catalogue that holds the shared texts: the kafka broker's node set. */
export const SHARED_NAMESPACE = `${PACKAGE_NAME}/smoke-kafka-broker`;

/** A key of a shared text (`smoke-kafka-broker.common.status.bad-config`). */
export type SharedKey = `smoke-kafka-broker.${string}`;

/** A key of any node set's catalogue: the node type first (`smoke-csv-sink.errors.closing`), as its set is named. */
export type NodeKey = `smoke-${string}`;

/**
 * The runtime's lookup, for helpers that have no `RED` at hand (nodes/nr/errors.ts, timers.ts,
 * task-store.ts, the partition tasks, the csv sink's writer, the sliding window's runner): every node
 * module hands its `RED` over when Node-RED loads it. One runtime's catalogues are process-wide (Node-RED
 * keeps one i18n instance), so the last one given serves all.
 */
let runtime: Translate | null = null;

/** Call from a node module's entry point: shared texts resolve through this runtime's catalogues. */
export function useCatalogues(RED: RED): void {
  runtime = (key, substitutions) => RED._(key, substitutions);
}

/** A shared text, from the kafka broker's catalogue; the bare key until a node module was loaded. */
export function shared(key: SharedKey, substitutions?: Substitutions): string {
  return text(key, substitutions);
}

/**
 * A text of node set `smoke-…`'s own catalogue (the set named as the key's first part), for a helper
 * that works for that node without its `RED`; the bare key until a node module was loaded.
 */
export function text(key: NodeKey, substitutions?: Substitutions): string {
  return runtime === null ? key : runtime(`${PACKAGE_NAME}/${key.slice(0, key.indexOf('.'))}:${key}`, substitutions);
}
