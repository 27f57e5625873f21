/**
 * One way for the texts a node shows or logs: the locale catalogue (nodes/nr/i18n.ts). A status text,
 * a log / warn / error line, a configuration problem or a node's own error message written as an
 * English literal in an adapter fails here with its file and line; so does a catalogue key that is not
 * in the en-US catalogue (a typo would show the raw key to a user).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PACKAGE_NAME, SHARED_NAMESPACE } from '../../nodes/nr/i18n';
import { adapterSources, catalogues, code, keysUsed, root, textAt } from './_catalogue-sources';

/**
 * Where a text goes, and the call that takes it: each pattern ends at the opening quote of a literal
 * argument. A literal is allowed only when it is a catalogue key.
 */
// `d`: the index of the opening quote (group 1) of each match.
const SINKS: { what: string; re: RegExp }[] = [
  { what: 'log line', re: /\.(?:warn|error|log|debug|trace)\(\s*(['"`])/dg },
  { what: 'status text', re: /\bsetStatus\([^,()]+,\s*'[a-z]+',\s*(['"`])/dg },
  { what: 'status text', re: /\.(?:now|set)\(\s*'(?:ok|connecting|failed|count|idle)',\s*(['"`])/dg },
  { what: 'status text', re: /\.status\(\s*\{[^}]*\btext:\s*(['"`])/dg },
  { what: 'status text', re: /\bhandleInputError\([^;]*,\s*(['"`])[^'"`]*\1\s*\)/dg },
  { what: 'status text', re: /\w*[Tt]ext\s*=\s*\(\)\s*(?::\s*string\s*)?=>\s*(['"`])/dg },
  // A status decided apart from where it is set ({ kind, text }), or a text built up in a variable.
  { what: 'status text', re: /\btext:\s*(['"`])/dg },
  { what: 'status text', re: /\blet\s+\w*[Tt]ext\s*=\s*(['"`])/dg },
  { what: 'log line', re: /\bwarnOnce\([^,()]+,\s*(['"`])/dg },
  { what: 'error message', re: /\bnew [A-Za-z]*Error\(\s*(['"`])/dg },
  // A configuration problem, which reaches the user inside "Invalid configuration: …".
  { what: 'config problem', re: /\bproblems\.push\(\s*(['"`])/dg },
  { what: 'config problem', re: /\bproblems:\s*\[\s*(['"`])/dg },
];

/**
 * Error messages that stay as they are: technical causes, like kafkajs's and Node's own messages, that
 * reach a user only inside a catalogue text (`crash recovery of … failed (<cause>)`), and guards against
 * a caller's programming error (an argument or a result a contract rules out), as Node's own are English.
 */
const TECHNICAL_CAUSES: { file: string; starts: string; why: string }[] = [
  { file: 'nodes/nr/kafka-client.ts', starts: '${what} timed out after', why: 'a stand-in for a kafkajs timeout; lib/kafka-errors.ts reads "timed out" in it' },
  { file: 'nodes/nr/changelog-io.ts', starts: 'restore read did not reach', why: 'the cause of a failed restore read, next to kafkajs crash errors' },
  { file: 'nodes/csv-sink/exactly-once.ts', starts: '${full} ends at', why: 'the cause of a failed crash recovery, next to fs errors' },
  { file: 'nodes/csv-sink/file-ops.ts', starts: 'truncateTo: bad size', why: 'a guard (RangeError): the recovery passes sizes from a checksummed journal' },
  { file: 'nodes/csv-sink/csv-file.ts', starts: 'folder must be an absolute path', why: 'a guard (RangeError): csv-sink.ts resolves the folder first' },
  { file: 'nodes/csv-sink/sink-writes.ts', starts: 'group commit of ${group} resolved', why: "a guard: SinkCommit.commit's type allows only 'ok' and 'abort'" },
  { file: 'nodes/nr/kafkajs-record-batch-decode.ts', starts: 'Tried to decode a partial record batch', why: "kafkajs' own error, word for word: its fetch decoder catches it by name (the cut tail of a fetch)" },
];

/** The literal that starts at `open` (its opening quote) in `src`. */
function literalAt(src: string, open: number): string {
  const q = src[open];
  let i = open + 1;
  while (i < src.length && src[i] !== q) i += src[i] === '\\' ? 2 : 1;
  return src.slice(open + 1, i);
}

describe('catalogue > the rule: no text literals in the Node-RED adapters', function () {
  const cats = catalogues();

  it('finds the adapter sources it checks (the scan is not empty)', function () {
    const files = adapterSources();
    assert.ok(files.includes('nodes/nr/errors.ts') && files.includes('nodes/csv-sink/csv-sink.ts'), files.join(', '));
    assert.ok(!files.some((f) => f.startsWith('nodes/lib/')));
  });

  it('has no status text, log line or error message as a literal outside the catalogue', function () {
    const found: string[] = [];
    for (const file of adapterSources()) {
      const src = code(file);
      for (const { what, re } of SINKS) {
        for (const m of src.matchAll(re)) {
          const open = m.indices![1][0];
          const lit = literalAt(src, open);
          if (lit === '') continue;
          if (textAt(cats, lit) !== undefined) continue;
          if (file.startsWith('nodes/sliding-window/') && (textAt(cats, `smoke-sliding-window.warn.${lit}`) ?? textAt(cats, `smoke-sliding-window.log.${lit}`)) !== undefined) continue;
          if (TECHNICAL_CAUSES.some((c) => c.file === file && lit.startsWith(c.starts))) continue;
          found.push(`${file}:${src.slice(0, m.index).split('\n').length} ${what}: ${JSON.stringify(lit)}`);
        }
      }
    }
    assert.deepEqual(found, [], `move these texts into the node's locales/en-US catalogue:\n${found.join('\n')}`);
  });

  it('flags the literals it should (the patterns still match the code they are for)', function () {
    const samples = [
      "node.warn('CSV writes fail');",
      'node.error(`csv sink close: ${e}`);',
      "setStatus(node, 'failed', 'bad config');",
      "status.now('ok', 'rows 0');",
      "node.status({ fill: 'red', shape: 'ring', text: 'down' });",
      "handleInputError(node, err, done, 'bad payload');",
      'const rowsText = (): string => `rows ${n}`;',
      "return { kind: 'connecting', text: 'waiting for sink' };",
      'let text = `${n} dev`;',
      "host.warnOnce('restore', `restore of ${tp} failed`);",
      "throw new Error('no topic');",
      "cfg.problems.push(`filename: ${problem}`);",
      "return { problems: [`context store ${name} is not configured`] };",
    ];
    for (const s of samples) assert.ok(SINKS.some(({ re }) => new RegExp(re.source).test(s)), s);
    assert.ok(!SINKS.some(({ re }) => new RegExp(re.source).test("node.warn(RED._('smoke-csv-sink.warn.torn-row'));")));
  });

  it('uses only catalogue keys that are texts in the en-US catalogues', function () {
    const used = keysUsed();
    assert.ok(used.length > 50, `only ${used.length} keys found: is the scan still right?`);
    const missing = used.filter((u) => textAt(cats, u.key) === undefined).map((u) => `${u.file}:${u.line} ${u.key}`);
    assert.deepEqual(missing, [], `keys without a text in locales/en-US:\n${missing.join('\n')}`);
  });

  it('addresses the shared texts by the namespace Node-RED gives the kafka broker node set', function () {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string; 'node-red': { nodes: Record<string, string> } };
    assert.equal(PACKAGE_NAME, pkg.name);
    const set = SHARED_NAMESPACE.slice(PACKAGE_NAME.length + 1);
    assert.equal(pkg['node-red'].nodes[set], 'dist/nodes/kafka-broker/kafka-broker.js');
    assert.ok(cats.get('smoke-kafka-broker')?.common, 'the shared texts are under smoke-kafka-broker.common');
  });
});
