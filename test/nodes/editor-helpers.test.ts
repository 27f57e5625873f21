/**
 * resources/editor.js, the helpers every node editor loads before its RED.nodes.registerType script
 * (Node-RED serves the package's resources/ folder at resources/<module name>/), and the node editors'
 * use of it: each .html loads it with a <script src> tag, registers its node with one literal top-level
 * RED.nodes.registerType call (STYLE.md), and keeps no copy of what the helpers now do.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { changelogTopic } from '../../nodes/lib/changelog';
import { parseDuration } from '../../nodes/lib/duration';
import { STATE_MODES } from '../../nodes/nr/detector-node';
import { EDITOR_JS, editorContext, editorRedSettings, editorScript, editorTemplate } from './_editor';

/* eslint-disable @typescript-eslint/no-explicit-any */

const root = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string; 'node-red': { nodes: Record<string, string> } };
const TAG = `<script src="resources/${pkg.name}/editor.js"></script>`;

// acorn comes with Node-RED's own nodes (the function node parses with it).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const acorn = require(require.resolve('acorn', { paths: [path.dirname(require.resolve('@node-red/nodes/package.json'))] }));

/** The helpers as the editor page has them: resources/editor.js run once in a fresh global scope. */
function helpers(globals: Record<string, unknown> = {}): any {
  return editorContext(globals).SmokeStreamEditor;
}

/** `validate` applied to each value, as [value, result] pairs (the failure message shows every value). */
function results(validate: (v: unknown) => boolean, values: unknown[]): [unknown, boolean][] {
  return values.map((v) => [v, validate(v)]);
}

/** Each value paired with the answer it should get. */
function expect(values: unknown[], answer: boolean): [unknown, boolean][] {
  return values.map((v) => [v, answer]);
}

describe('editor helpers > resources/editor.js', function () {
  it('is plain ES5 for the browser (no build step)', function () {
    assert.doesNotThrow(() => acorn.parse(fs.readFileSync(EDITOR_JS, 'utf8'), { ecmaVersion: 5, sourceType: 'script' }));
  });

  it('defines the one global SmokeStreamEditor, on window in the browser, and a second run keeps the first', function () {
    const context = vm.createContext({ window: {} });
    const source = fs.readFileSync(EDITOR_JS, 'utf8');
    vm.runInContext(source, context);
    const first = context.window.SmokeStreamEditor;
    assert.equal(typeof first, 'object');
    assert.equal(typeof first.integer, 'function');
    vm.runInContext(source, context);
    assert.equal(context.window.SmokeStreamEditor, first, 'every node .html loads it: the first definition stays');
    assert.deepEqual(Object.keys(context).sort(), ['window'], 'no other global');
  });

  it('absent / unset / unsetLoose: what each kind of validator leaves to the runtime', function () {
    const E = helpers();
    const values = [undefined, '', null, '${SMOKE_X}', ' ${SMOKE_X} ', '${SMOKE_X}y', '$SMOKE_X', '5', ' ', 0];
    assert.deepEqual(results(E.absent, values), values.map((v) => [v, v === undefined || v === '']));
    assert.deepEqual(results(E.unset, values), values.map((v) => [v, v === undefined || v === '' || v === '${SMOKE_X}']));
    assert.deepEqual(results(E.unsetLoose, values), values.map((v) => [v, v === undefined || v === '' || v === null || v === '${SMOKE_X}' || v === ' ${SMOKE_X} ']));
    assert.deepEqual(results(E.isEnv, ['${A}', '${A_B}', '${A-B}', ' ${A}', '${}', 'A']), [['${A}', true], ['${A_B}', true], ['${A-B}', true], [' ${A}', false], ['${}', false], ['A', false]]);
  });

  it('ms: reads a duration as the runtime does (nodes/lib/duration.ts), NaN for what is not one', function () {
    const E = helpers();
    const texts = ['0', '250', '1.5', '10s', '10 S', '90 seconds', '1 minute', '5 minutes', '2 hr', '1 hour', '3 days', '5 milliseconds', '1ms', ' 10 minutes ', '5 fortnights', 'soon', '1,5 s', ''];
    for (const unit of ['ms', 's', 'min'] as const) {
      const unitMs = { ms: 1, s: 1000, min: 60_000 }[unit];
      for (const t of texts) {
        const runtime = parseDuration(t, unit);
        const editor = E.ms(t, unitMs);
        assert.ok(runtime === null ? Number.isNaN(editor) : editor === runtime, `${JSON.stringify(t)} in ${unit}: runtime ${runtime}, editor ${editor}`);
      }
    }
    assert.equal(E.ms('250'), 250, 'a plain number is in ms unless told otherwise');
    assert.ok(Number.isNaN(E.ms('-1 s')), 'no negative durations in the editor');
  });

  it('msOf: a setting of the node in ms, its default when left out, NaN when it is ${ENV}', function () {
    const E = helpers();
    assert.equal(E.msOf({}, 'slide', 60_000), 60_000);
    assert.equal(E.msOf({ slide: null }, 'slide', 60_000), 60_000);
    assert.equal(E.msOf({ slide: '' }, 'slide', 60_000), 60_000);
    assert.equal(E.msOf({ slide: '90 seconds' }, 'slide', 60_000), 90_000);
    assert.equal(E.msOf({ warn: '30' }, 'warn', 0, 1000), 30_000);
    assert.ok(Number.isNaN(E.msOf({ slide: '${SLIDE}' }, 'slide', 60_000)));
  });

  it('integer: unset, or a whole number (not blank text) within the bounds', function () {
    const E = helpers();
    const v = E.integer({ min: 1, max: 10 });
    assert.deepEqual(results(v, [undefined, '', '${TRIES}']), expect([undefined, '', '${TRIES}'], true));
    assert.deepEqual(results(v, ['1', '10', ' 5 ', 7, '1e1']), expect(['1', '10', ' 5 ', 7, '1e1'], true));
    assert.deepEqual(results(v, ['0', '11', '1.5', 'abc', ' ', ' ${TRIES} ', '-1', NaN]), expect(['0', '11', '1.5', 'abc', ' ', ' ${TRIES} ', '-1', NaN], false));
    assert.equal(E.integer()('-12'), true, 'no bounds: any whole number');
    assert.equal(E.integer({ min: 0 })('100000000'), true, 'no upper bound');
    const loose = E.integer({ min: 100, unset: E.unsetLoose });
    assert.deepEqual(results(loose, [null, ' ${T} ', '100', '99']), [[null, true], [' ${T} ', true], ['100', true], ['99', false]]);
  });

  it('number: unset, or a finite number (not blank text) within the bounds, `above` exclusive', function () {
    const E = helpers();
    assert.deepEqual(results(E.number(), ['45', '-3.5', '1e3', '${FIRE_TVOC}', '', 'hot', ' ', 'Infinity']), [['45', true], ['-3.5', true], ['1e3', true], ['${FIRE_TVOC}', true], ['', true], ['hot', false], [' ', false], ['Infinity', false]]);
    const z = E.number({ above: 0 });
    assert.deepEqual(results(z, ['0', '0.1', '3', '-1']), [['0', false], ['0.1', true], ['3', true], ['-1', false]]);
    const p = E.number({ min: 0, max: 1 });
    assert.deepEqual(results(p, ['0', '1', '0.01', '1.01', '-0.1']), [['0', true], ['1', true], ['0.01', true], ['1.01', false], ['-0.1', false]]);
  });

  it('duration: unset, or a duration, above `above` when given, a plain number in `unit`', function () {
    const E = helpers();
    const any = E.duration();
    assert.deepEqual(results(any, ['1 hour', '90 s', '0', '200', '${IDLE}', '', 'soon', '-1', '5 fortnights']), [['1 hour', true], ['90 s', true], ['0', true], ['200', true], ['${IDLE}', true], ['', true], ['soon', false], ['-1', false], ['5 fortnights', false]]);
    const positive = E.duration({ above: 0, unset: E.unsetLoose });
    assert.deepEqual(results(positive, ['0', '1', '1 ms', null, ' ${T} ']), [['0', false], ['1', true], ['1 ms', true], [null, true], [' ${T} ', true]]);
    const seconds = E.duration({ unit: 1000, above: 29_999 });
    assert.deepEqual(results(seconds, ['30', '29', '30000 ms']), [['30', true], ['29', false], ['30000 ms', true]]);
  });

  it('durationNotBelow: unset, or a duration above 0 and not below the lower setting (its default when left out)', function () {
    const E = helpers();
    const max = E.durationNotBelow('backoffInitial', 1000, E.unsetLoose);
    const on = (node: Record<string, unknown>, v: unknown) => max.call(node, v);
    assert.equal(on({}, '1 s'), true, 'equal to the default lower bound');
    assert.equal(on({}, '999'), false, 'below the default lower bound');
    assert.equal(on({ backoffInitial: '2 s' }, '1500'), false);
    assert.equal(on({ backoffInitial: '2 s' }, '2000 ms'), true);
    assert.equal(on({ backoffInitial: '${B}' }, '5'), true, 'not compared against ${ENV}');
    assert.equal(on({}, '0'), false);
    assert.equal(on({}, 'soon'), false);
    assert.equal(on({ backoffInitial: 5000 }, null), true);
    assert.equal(on({ backoffInitial: 5000 }, ' ${MAX} '), true);
  });

  it('oneOf: left out (or `leave`), or one of the values', function () {
    const E = helpers();
    const emit = E.oneOf(['every', 'change']);
    assert.deepEqual(results(emit, [undefined, '', 'every', 'change', 'often', null, '${EMIT}']), [[undefined, true], ['', true], ['every', true], ['change', true], ['often', false], [null, false], ['${EMIT}', false]]);
    const start = E.oneOf(['earliest', 'latest'], E.unsetLoose);
    assert.deepEqual(results(start, [null, '${START}', 'latest', 'middle']), [[null, true], ['${START}', true], ['latest', true], ['middle', false]]);
  });

  it('bool: left out (or `leave`), or a boolean, also as text', function () {
    const E = helpers();
    assert.deepEqual(results(E.bool(), [undefined, '', true, false, 'true', 'false', 'maybe', 1, null]), [[undefined, true], ['', true], [true, true], [false, true], ['true', true], ['false', true], ['maybe', false], [1, false], [null, false]]);
    assert.deepEqual(results(E.bool(E.unsetLoose), [null, '${JSON}', 'yes']), [[null, true], ['${JSON}', true], ['yes', false]]);
  });

  it('topicName / topicList: a Kafka topic name (1 to 249 of a-z A-Z 0-9 . _ -, not . or ..), blank for none / a comma list of them', function () {
    const E = helpers();
    const long = 'x'.repeat(249);
    assert.deepEqual(results(E.topicName(), ['smoke', ' smoke ', 'a.b_c-D9', long, '', '   ', null, ' ${TOPIC} ', 'bad topic', '.', '..', long + 'x', 'a,b']), [['smoke', true], [' smoke ', true], ['a.b_c-D9', true], [long, true], ['', true], ['   ', true], [null, true], [' ${TOPIC} ', true], ['bad topic', false], ['.', false], ['..', false], [long + 'x', false], ['a,b', false]]);
    assert.deepEqual(results(E.topicList(), ['smoke', 'a, b,c', 'a,,b', '', null, '${TOPICS}', '   ', ',', 'a, bad topic', 'a, ..']), [['smoke', true], ['a, b,c', true], ['a,,b', true], ['', true], [null, true], ['${TOPICS}', true], ['   ', false], [',', false], ['a, bad topic', false], ['a, ..', false]]);
  });

  it('detectorSetting: emit, max devices, idle timeout and state with their runtime defaults, a new object each call', function () {
    const E = helpers();
    const d = Object.fromEntries(['emit', 'maxDevices', 'idleTimeout', 'state'].map((k) => [k, E.detectorSetting(k)]));
    assert.deepEqual([d.emit.value, d.maxDevices.value, d.idleTimeout.value, d.state.value], ['every', 10000, '1 hour', 'auto']);
    assert.notEqual(E.detectorSetting('emit'), E.detectorSetting('emit'), 'no definition shares an object with another');
    assert.throws(() => E.detectorSetting('zMedium'), /not a setting every detector has: zMedium/);
    assert.deepEqual(results(d.emit.validate, ['every', 'change', '', 'often']), [['every', true], ['change', true], ['', true], ['often', false]]);
    assert.deepEqual(results(d.maxDevices.validate, ['0', '10', '${MAX}', '-1', '1.5']), [['0', true], ['10', true], ['${MAX}', true], ['-1', false], ['1.5', false]]);
    assert.deepEqual(results(d.idleTimeout.validate, ['0', '3600', '90 s', 'soon']), [['0', true], ['3600', true], ['90 s', true], ['soon', false]]);
    assert.deepEqual(results(d.state.validate, ['auto', 'changelog', 'none', undefined, 'context']), [['auto', true], ['changelog', true], ['none', true], [undefined, true], ['context', false]]);
  });

  it('ruleSetting: the default table and its keys from RED.settings; valid when left out, or every rule has a known key, > or <, a known severity and a finite bound', function () {
    const rules = [{ sensor: 'tvoc', op: '>', bound: 500, severity: 'MEDIUM', enabled: true }];
    const settings: Record<string, unknown> = { smokeXKeys: ['tvoc', 'eco2'], smokeXRules: rules };
    const E = helpers({ RED: { settings } });
    const s = E.ruleSetting('smokeXKeys', 'smokeXRules');
    assert.equal(s.value, rules);
    assert.deepEqual([...s.keys], ['tvoc', 'eco2']);
    const rule = (r: Record<string, unknown>) => [{ sensor: 'eco2', op: '<', bound: '10', severity: 'CRITICAL', enabled: false, ...r }];
    assert.deepEqual(results(s.validate, [undefined, '', null, rules, JSON.stringify(rules), [], rule({})]), expect([undefined, '', null, rules, JSON.stringify(rules), [], rule({})], true));
    const bad = [rule({ sensor: 'smoke' }), rule({ op: '>=' }), rule({ severity: 'LOW' }), rule({ bound: '' }), rule({ bound: null }), rule({ bound: 'x' }), [null], '[{', '{}', 5];
    assert.deepEqual(results(s.validate, bad), expect(bad, false));
    settings.smokeXKeys = ['tvoc', 'eco2', 'co'];
    assert.deepEqual([...s.keys], ['tvoc', 'eco2', 'co'], 'the keys as the settings hold them when asked');
    assert.equal(s.validate(rule({ sensor: 'co' })), true);
    const none = helpers({ RED: { settings: {} } }).ruleSetting('smokeXKeys', 'smokeXRules');
    assert.deepEqual([[...none.value], [...none.keys], none.validate(rules)], [[], [], false], 'without the settings: no table and no key');
  });

  it('stateHint: the "here" line follows State and Emit, and for z-score anomaly State alone', function () {
    /** A stand-in for jQuery over the dialog's State and Emit selects and the "here" line. */
    function dialog(fields: Record<string, string>) {
      const handlers: (() => void)[] = [];
      const $ = (selector: string) => ({
        val: () => fields[selector.replace('#node-input-', '')],
        text: (t: string) => (fields.here = t),
        on: (_events: string, fn: () => void) => handlers.push(fn),
      });
      return { $, fields, change: (key: string, v: string) => { fields[key] = v; handlers.forEach((h) => h()); } };
    }
    const wired = (kafkaIns: number) => ({
      nodes: {
        node: () => null,
        eachNode: () => undefined,
        eachLink: (cb: (l: unknown) => void) => {
          for (let i = 0; i < kafkaIns; i++) cb({ source: { id: `in${i}`, type: 'smoke-kafka-in' }, target: { id: 'n1' } });
        },
      },
    });
    const node = (type: string) => ({ id: 'n1', type, _: (key: string, o: { found: number; topic: string | null }) => `${key} ${o.found} ${o.topic}` });
    for (const [kafkaIns, changelog] of [[1, 'here.changelog 1 smoke_detection_group-n1-changelog'], [0, 'here.missing 0 null']] as const) {
      const d = dialog({ state: 'changelog', emit: 'every' });
      helpers({ $: d.$, RED: wired(kafkaIns) }).stateHint(node('smoke-fire-pattern'));
      assert.equal(d.fields.here, kafkaIns === 1 ? 'smoke-fire-pattern.here.every 1 smoke_detection_group-n1-changelog' : 'smoke-fire-pattern.here.missing 0 null');
      d.change('emit', 'change');
      assert.equal(d.fields.here, `smoke-fire-pattern.${changelog}`);
      d.change('state', 'none');
      assert.equal(d.fields.here, `smoke-fire-pattern.here.none ${kafkaIns} ${kafkaIns === 1 ? 'smoke_detection_group-n1-changelog' : 'null'}`);
    }
    const z = dialog({ state: 'auto', emit: 'every' });
    helpers({ $: z.$, RED: wired(0) }).stateHint(node('smoke-zscore-anomaly'), true);
    assert.equal(z.fields.here, 'smoke-zscore-anomaly.here.memory 0 null', 'z-score keeps its windows with emit every too');
  });

  it('follow: runs the function now and on each change of the fields', function () {
    const bound: [string, string][] = [];
    const E = helpers({ $: (selector: string) => ({ on: (events: string) => bound.push([selector, events]) }) });
    let runs = 0;
    E.follow('#node-input-a, #node-input-b', () => runs++);
    E.follow('#node-input-c', () => runs++, 'change keyup');
    assert.equal(runs, 2);
    assert.deepEqual(bound, [['#node-input-a, #node-input-b', 'change'], ['#node-input-c', 'change keyup']]);
  });

  it('label, labelStyle and outputLabels: the name in italics, else the given text; ports numbered from 1', function () {
    const E = helpers();
    const label = E.label('fire pattern');
    assert.equal(label.call({}), 'fire pattern');
    assert.equal(label.call({ name: 'kitchen' }), 'kitchen');
    assert.equal(E.labelStyle.call({}), '');
    assert.equal(E.labelStyle.call({ name: 'kitchen' }), 'node_label_italic');
    const outputs = E.outputLabels('smoke-fire-pattern.label.out');
    const node = { _: (key: string) => `<${key}>` };
    assert.deepEqual([0, 1].map((i) => outputs.call(node, i)), ['<smoke-fire-pattern.label.out1>', '<smoke-fire-pattern.label.out2>']);
  });

  describe('upstreamKafkaIns, changelogTopic and kafkaUpstream: where a stateful node keeps its state', function () {
    interface EditorNode { id: string; type: string; d?: boolean; links?: string[]; groupId?: unknown }

    /** The editor's RED.nodes over `nodes` and the wires `from → to` (node ids), as eachNode / eachLink / node give them. */
    function editor(nodes: EditorNode[], wires: [string, string][]): any {
      const byId = new Map(nodes.map((n) => [n.id, n]));
      const links = wires.map(([from, to]) => ({ source: byId.get(from), sourcePort: 0, target: byId.get(to) }));
      return {
        nodes: {
          node: (id: string) => byId.get(id) ?? null,
          eachNode: (cb: (n: EditorNode) => unknown) => { for (const n of nodes) if (cb(n) === false) break; },
          eachLink: (cb: (l: unknown) => unknown) => { for (const l of links) if (cb(l) === false) break; },
        },
      };
    }

    const nodes: EditorNode[] = [
      { id: 'in1', type: 'smoke-kafka-in', groupId: 'plant 7' },
      { id: 'in2', type: 'smoke-kafka-in' },
      { id: 'off', type: 'smoke-kafka-in', d: true },
      { id: 'validate', type: 'smoke-sensor-validate' },
      { id: 'window', type: 'smoke-sliding-window' },
      { id: 'loop', type: 'function' },
      { id: 'out', type: 'link out', links: ['in'] },
      { id: 'in', type: 'link in' },
      { id: 'zscore', type: 'smoke-zscore-anomaly' },
      { id: 'both', type: 'smoke-csv-sink' },
      { id: 'disabled', type: 'smoke-csv-sink' },
      { id: 'sim', type: 'smoke-sensor-sim' },
      { id: 'alone', type: 'smoke-fire-pattern' },
    ];
    const wires: [string, string][] = [
      ['in1', 'validate'], ['validate', 'window'], ['window', 'loop'], ['loop', 'window'],
      ['validate', 'out'], ['in', 'zscore'],
      ['in1', 'both'], ['in2', 'both'],
      ['off', 'disabled'], ['in1', 'disabled'],
      ['sim', 'alone'],
    ];
    const E = () => helpers({ RED: editor(nodes, wires) });
    // Arrays and objects made in the editor's scope (another realm): copied into this one to compare.
    const ids = (found: EditorNode[]) => Array.from(found, (n) => n.id);

    it('follows the wires backwards through every node, and link in → link out, as the runtime does (nodes/nr/flow-graph.ts)', function () {
      const e = E();
      const node = (id: string) => nodes.find((n) => n.id === id);
      assert.deepEqual(ids(e.upstreamKafkaIns(node('window'))), ['in1'], 'through sensor validate, and a loop ends');
      assert.deepEqual(ids(e.upstreamKafkaIns(node('zscore'))), ['in1'], 'through a link out → link in pair');
      assert.deepEqual(ids(e.upstreamKafkaIns(node('both'))).sort(), ['in1', 'in2'], 'two consumers');
      assert.deepEqual(ids(e.upstreamKafkaIns(node('disabled'))), ['in1'], 'a disabled kafka in does not count');
      assert.deepEqual(ids(e.upstreamKafkaIns(node('alone'))), [], 'no consumer upstream');
      assert.deepEqual(ids(e.upstreamKafkaIns({ id: 'new', type: 'smoke-sliding-window' })), [], 'a node just dropped in, not wired');
    });

    it("names the changelog topic as the runtime does (nodes/lib/changelog.ts), the group's default when it is left out", function () {
      const e = E();
      const groups = ['smoke_detection_group', 'plant 7', 'ä/b:c', ' padded ', 'x'.repeat(300)];
      for (const id of ['4f2a9c1e8b7d3a60', 'a.b_c-d', 'weird id!']) {
        for (const g of groups) assert.equal(e.changelogTopic({ groupId: g }, id), changelogTopic(g.trim(), id), `group ${JSON.stringify(g)}, node ${id}`);
        for (const g of [undefined, null, '', '  ']) assert.equal(e.changelogTopic({ groupId: g }, id), changelogTopic('smoke_detection_group', id), `group ${JSON.stringify(g)}`);
      }
      assert.equal(e.changelogTopic({ groupId: '${GROUP}' }, 'abc'), '${GROUP}-abc-changelog', 'an environment variable is shown as it is');
    });

    it('kafkaUpstream: how many kafka in nodes are upstream, and the topic when there is exactly one', function () {
      const e = E();
      const node = (id: string) => nodes.find((n) => n.id === id);
      assert.deepEqual({ ...e.kafkaUpstream(node('window')) }, { found: 1, topic: 'plant_7-window-changelog' });
      assert.deepEqual({ ...e.kafkaUpstream(node('both')) }, { found: 2, topic: null });
      assert.deepEqual({ ...e.kafkaUpstream(node('alone')) }, { found: 0, topic: null });
    });
  });

  describe('showDefaults', function () {
    /** A stand-in for jQuery over a dialog of inputs, by id: what showDefaults reads and sets. */
    function dialog(inputs: Record<string, { kind: 'text' | 'select' | 'checkbox'; value?: unknown; checked?: boolean }>): (selector: string) => any {
      return (selector: string) => {
        const input = inputs[selector.replace(/^#/, '')];
        return {
          is: (what: string) => !!input && ((what === 'select' && input.kind === 'select') || (what === ':checkbox' && input.kind === 'checkbox')),
          val: (v: unknown) => input && (input.value = v),
          prop: (name: string, v: boolean) => input && name === 'checked' && (input.checked = v),
        };
      };
    }

    const defaults = { name: { value: '' }, size: { value: '5 minutes' }, mode: { value: 'append' }, hold: { value: true }, fsync: { value: true }, off: { value: false } };

    it('fills left-out settings with their defaults and leaves set ones alone', function () {
      const inputs = {
        'node-input-name': { kind: 'text' as const, value: 'mine' },
        'node-input-size': { kind: 'text' as const, value: 'as loaded' },
        'node-input-mode': { kind: 'select' as const, value: null },
        'node-input-hold': { kind: 'checkbox' as const, checked: false },
        'node-input-fsync': { kind: 'checkbox' as const, checked: true },
        'node-input-off': { kind: 'checkbox' as const, checked: true },
      };
      const E = helpers({ $: dialog(inputs) });
      E.showDefaults({ _def: { category: 'smoke stream', defaults }, name: '', size: undefined, mode: '', hold: null, fsync: 'false', off: undefined });
      assert.equal(inputs['node-input-name'].value, 'mine', "an empty text field stays empty (the name's default is empty anyway)");
      assert.equal(inputs['node-input-size'].value, '5 minutes', 'an absent setting shows its default');
      assert.equal(inputs['node-input-mode'].value, 'append', 'an empty select shows its default');
      assert.equal(inputs['node-input-hold'].checked, true, 'a null box shows its default');
      assert.equal(inputs['node-input-fsync'].checked, false, 'a box written as "false" shows unticked');
      assert.equal(inputs['node-input-off'].checked, false, 'an absent box shows its default');
    });

    it('keeps what the node has', function () {
      const inputs = { 'node-input-size': { kind: 'text' as const, value: '1 minute' }, 'node-input-mode': { kind: 'select' as const, value: 'update' } };
      const E = helpers({ $: dialog(inputs) });
      E.showDefaults({ _def: { category: 'smoke stream', defaults: { size: defaults.size, mode: defaults.mode } }, size: '1 minute', mode: 'update' });
      assert.deepEqual([inputs['node-input-size'].value, inputs['node-input-mode'].value], ['1 minute', 'update']);
    });

    it("uses a config node's node-config-input- fields", function () {
      const inputs = { 'node-config-input-size': { kind: 'text' as const, value: undefined } };
      const E = helpers({ $: dialog(inputs) });
      E.showDefaults({ _def: { category: 'config', defaults: { size: defaults.size } } });
      assert.equal(inputs['node-config-input-size'].value, '5 minutes');
    });
  });
});

/** Text of the copies the helpers replaced: none of it may come back into a node's .html. */
const REMOVED: [what: string, text: string | RegExp][] = [
  ['the left-out test (SmokeStreamEditor.absent / unset)', "v === undefined || v === ''"],
  ['the ${ENV} pattern (SmokeStreamEditor.isEnv / unset / unsetLoose)', /\\\$\\\{\\[Sw]\+\\\}/],
  ['the duration units (SmokeStreamEditor.ms / duration)', /milliseconds?\b/],
  ['the defaults loop of oneditprepare (SmokeStreamEditor.showDefaults)', '_def.defaults'],
  ['the label style (SmokeStreamEditor.labelStyle)', 'node_label_italic'],
  ['the blank-text test of the numbers (SmokeStreamEditor.isNumber / isInteger)', "String(v).trim() !== '' &&"],
  ['a local helper function', /function\s+(unset|ms|dur|durOf|slideOf|int|oneOf|bool)\s*\(/],
];

describe('editor helpers > the node editors', function () {
  const editors = Object.entries(pkg['node-red'].nodes).map(([type, file]) => ({
    type,
    file: file.replace(/\.js$/, '.html'),
  }));

  it('are one per node type of package.json', function () {
    for (const e of editors) assert.ok(fs.existsSync(path.join(root, e.file)), `${e.file} missing`);
  });

  for (const { type, file } of editors) {
    describe(file, function () {
      const html = fs.readFileSync(path.join(root, file), 'utf8');

      it(`loads resources/${pkg.name}/editor.js once, before its registerType script`, function () {
        assert.equal(html.split(TAG).length - 1, 1, `one ${TAG}`);
        assert.ok(html.indexOf(TAG) < html.indexOf('<script type="text/javascript">'), 'the helpers load first');
      });

      it(`registers ${type} with one literal top-level RED.nodes.registerType call, in ES5`, function () {
        const script = editorScript(html);
        assert.ok(script, 'an editor script');
        const program = acorn.parse(script, { ecmaVersion: 5, sourceType: 'script' });
        assert.equal(program.body.length, 1, 'one statement: no wrapper, no globals of its own');
        const call = program.body[0].expression;
        assert.equal(call?.type, 'CallExpression');
        assert.equal(script.slice(call.callee.start, call.callee.end), 'RED.nodes.registerType');
        assert.deepEqual([call.arguments[0].type, call.arguments[0].value, call.arguments[1].type], ['Literal', type, 'ObjectExpression']);
      });

      it('keeps no copy of the shared helpers', function () {
        const script = editorScript(html) ?? '';
        const found = REMOVED.filter(([, text]) => (typeof text === 'string' ? script.includes(text) : text.test(script))).map(([what]) => what);
        assert.deepEqual(found, []);
      });
    });
  }

  // The settings that choose where state goes: each editor offers exactly the values its runtime reads,
  // with 'auto' (the runtime's default) first and as the default.
  const STATE_SELECTS: [type: string, key: string, values: readonly string[]][] = [
    ['smoke-sliding-window', 'state', ['auto', 'changelog', 'context', 'none']],
    ['smoke-zscore-anomaly', 'state', STATE_MODES],
    ['smoke-threshold-alert', 'state', STATE_MODES],
    ['smoke-fire-pattern', 'state', STATE_MODES],
    ['smoke-csv-sink', 'exactlyOnce', ['auto', 'off']],
  ];
  for (const [type, key, values] of STATE_SELECTS) {
    it(`${type}: the ${key} select offers ${values.join(' / ')}, defaults to auto and refuses anything else`, function () {
      const file = editors.find((e) => e.type === type)!.file;
      const html = fs.readFileSync(path.join(root, file), 'utf8');
      const select = new RegExp(`<select id="node-input-${key}"[^>]*>([\\s\\S]*?)</select>`).exec(editorTemplate(html));
      assert.ok(select, `a <select id="node-input-${key}">`);
      assert.deepEqual([...select[1].matchAll(/<option value="([^"]*)"/g)].map((m) => m[1]), [...values]);
      const defs: Record<string, any> = {};
      const RED = { nodes: { registerType: (_t: string, d: any) => Object.assign(defs, d.defaults) }, settings: editorRedSettings() };
      vm.runInContext(editorScript(html)!, editorContext({ RED }));
      assert.equal(defs[key].value, 'auto');
      for (const v of [...values, undefined, '']) assert.equal(defs[key].validate(v), true, `${JSON.stringify(v)} accepted`);
      for (const v of ['on', 'kafka', 'memory', type === 'smoke-sliding-window' ? 'disk' : 'context']) assert.equal(defs[key].validate(v), false, `${v} refused`);
    });
  }

  it('all register in one page scope, as in the editor, leaving no global but SmokeStreamEditor', function () {
    const registered: string[] = [];
    const RED = { nodes: { registerType: (t: string) => registered.push(t) }, validators: { typedInput: () => () => true }, settings: editorRedSettings() };
    const context = editorContext({ RED });
    for (const { file } of editors) {
      const html = fs.readFileSync(path.join(root, file), 'utf8');
      vm.runInContext(fs.readFileSync(EDITOR_JS, 'utf8'), context);
      vm.runInContext(editorScript(html)!, context);
    }
    assert.deepEqual(registered.sort(), editors.map((e) => e.type).sort());
    assert.deepEqual(Object.keys(context).sort(), ['RED', 'SmokeStreamEditor']);
  });
});
