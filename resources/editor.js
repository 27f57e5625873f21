/*
 * Editor helpers shared by the node editors of @smoke-stream/node-red-smoke-stream.
 *
 * Node-RED serves this folder at resources/@smoke-stream/node-red-smoke-stream/ and every node's .html
 * loads this file with a <script src> tag before its own RED.nodes.registerType(...) script, so the
 * global SmokeStreamEditor exists when the definitions are registered. Every .html carries the tag,
 * so this file may run more than once: the first run wins.
 *
 * Plain ES5 for the browser, no build step. The validators return true or false, as RED.validators do.
 *
 * CONTRACT §1: a flow that omits a setting gets the runtime default, so every validator accepts an
 * absent or empty value. What else a validator leaves to the runtime (null, ${ENV}) is the `unset`
 * predicate it is built with; the editors differ there, and each keeps what it had:
 *   absent      undefined or ''              choices (selects, checkboxes) of the detectors, sensor
 *                                            validate, csv sink and kafka broker
 *   unset       absent or exactly ${NAME}    typed-in values of the detectors, sensor validate, csv
 *                                            sink and sensor sim (the form Node-RED substitutes)
 *   unsetLoose  absent, null, or ${NAME}     every value of kafka in / out, sliding window and the
 *               with spaces around it        kafka broker's numbers
 */
(function (root) {
  'use strict';
  if (root.SmokeStreamEditor) return;

  /** Milliseconds per unit, as nodes/lib/duration.ts reads them. */
  var UNITS = {
    ms: 1, millisecond: 1, milliseconds: 1,
    s: 1000, sec: 1000, secs: 1000, second: 1000, seconds: 1000,
    m: 60000, min: 60000, mins: 60000, minute: 60000, minutes: 60000,
    h: 3600000, hr: 3600000, hour: 3600000, hours: 3600000,
    d: 86400000, day: 86400000, days: 86400000
  };

  /** The severities of an alert rule, most severe first. */
  var SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM'];

  /** Undefined or '': the setting is left out, the runtime default applies. */
  function absent(v) {
    return v === undefined || v === '';
  }

  /** Exactly `${NAME}`: Node-RED puts the environment variable in its place before the node starts. */
  function isEnv(v) {
    return /^\$\{\S+\}$/.test(String(v));
  }

  /** Absent, or `${NAME}`: nothing the editor can check. */
  function unset(v) {
    return absent(v) || isEnv(v);
  }

  /** Absent, null, or `${NAME}` with white space around it (the kafka nodes and the sliding window). */
  function unsetLoose(v) {
    return v === undefined || v === null || v === '' || /^\s*\$\{\S+\}\s*$/.test(String(v));
  }

  /**
   * A duration in ms as the runtime reads it (nodes/lib/duration.ts): "<n>", "<n> <unit>" or
   * "<n><unit>", a plain number being in `unitMs` (default 1: ms). NaN when it is not a duration.
   */
  function ms(v, unitMs) {
    var m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(String(v));
    if (!m) return NaN;
    var unit = m[2] === '' ? (unitMs === undefined ? 1 : unitMs) : UNITS[m[2].toLowerCase()];
    return unit === undefined ? NaN : Number(m[1]) * unit;
  }

  /** The setting `key` of `node` in ms: `defMs` when it is left out or null, NaN when it is ${ENV}. */
  function msOf(node, key, defMs, unitMs) {
    var v = node[key];
    return v === undefined || v === null || v === '' ? defMs : ms(v, unitMs);
  }

  /**
   * Whether `v` is a number, not blank text, within `range`: `min` and `max` inclusive, `above` an
   * exclusive lower bound; each optional.
   */
  function isNumber(v, range) {
    var r = range || {};
    var n = String(v).trim() === '' ? NaN : Number(v);
    return isFinite(n) &&
      (r.min === undefined || n >= r.min) &&
      (r.above === undefined || n > r.above) &&
      (r.max === undefined || n <= r.max);
  }

  /** Whether `v` is a whole number, not blank text, within `range` ({ min, max }, inclusive, optional). */
  function isInteger(v, range) {
    return isNumber(v, range) && Number.isInteger(Number(v));
  }

  /** Validator: unset (`range.unset`, default `unset`) or a number within `range` (see isNumber). */
  function number(range) {
    var leave = (range && range.unset) || unset;
    return function (v) { return leave(v) || isNumber(v, range); };
  }

  /** Validator: unset (`range.unset`, default `unset`) or a whole number within `range`. */
  function integer(range) {
    var leave = (range && range.unset) || unset;
    return function (v) { return leave(v) || isInteger(v, range); };
  }

  /**
   * Validator: unset (`opts.unset`, default `unset`) or a duration (see ms; `opts.unit` for a plain
   * number) that is above `opts.above` when given.
   */
  function duration(opts) {
    var o = opts || {};
    var leave = o.unset || unset;
    return function (v) {
      if (leave(v)) return true;
      var t = ms(v, o.unit);
      return o.above === undefined ? t >= 0 : t > o.above;
    };
  }

  /**
   * Validator of an upper bound in ms: unset (`leave`, default `unset`) or a duration above 0 that is
   * not below the node's `lowerKey` setting (`lowerDefault` when that is left out; not compared while
   * it is ${ENV}). For backoffMax against backoffInitial.
   */
  function durationNotBelow(lowerKey, lowerDefault, leave) {
    var l = leave || unset;
    return function (v) {
      if (l(v)) return true;
      var max = ms(v);
      var lower = msOf(this, lowerKey, lowerDefault);
      return max > 0 && (isNaN(lower) || max >= lower);
    };
  }

  /** Validator: unset (`leave`, default `absent`) or one of `values`. */
  function oneOf(values, leave) {
    var l = leave || absent;
    return function (v) { return l(v) || values.indexOf(v) >= 0; };
  }

  /** Validator: unset (`leave`, default `absent`) or a boolean, also as the text "true" / "false". */
  function bool(leave) {
    var l = leave || absent;
    return function (v) { return l(v) || v === true || v === false || v === 'true' || v === 'false'; };
  }

  /** A Kafka topic name: 1 to 249 of a-z, A-Z, 0-9, ".", "_" and "-", and not "." or "..". */
  function isTopic(t) {
    return /^[a-zA-Z0-9._-]{1,249}$/.test(t) && t !== '.' && t !== '..';
  }

  /** Validator: unsetLoose, or one topic name (white space around it ignored), or blank for none. */
  function topicName() {
    return function (v) {
      var t = String(v).trim();
      return unsetLoose(v) || t === '' || isTopic(t);
    };
  }

  /** Validator: unsetLoose, or topic names separated by commas, at least one. */
  function topicList() {
    return function (v) {
      if (unsetLoose(v)) return true;
      var list = String(v).split(',').map(function (t) { return t.trim(); }).filter(Boolean);
      return list.length > 0 && list.every(isTopic);
    };
  }

  /**
   * Validator (the kafka broker's list): absent or empty, one ${ENV} reference, or host:port entries
   * separated by commas (an IPv6 host in brackets, a scheme such as "kafka://" and ${ENV} parts inside
   * an entry and empty entries allowed).
   */
  function brokerList() {
    return function (v) {
      if (absent(v)) return true;
      return /^\s*\$\{[A-Za-z_][A-Za-z0-9_]*\}\s*$/.test(v) || String(v).split(',').every(function (b) {
        b = b.trim().replace(/^[A-Za-z_]+:\/\//, '').replace(/\$\{[A-Za-z_][A-Za-z0-9_]*\}/g, 'host');
        return b === '' || /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/.test(b);
      });
    };
  }

  /**
   * For oneditprepare: a flow that omits a setting runs with its default, so show that default in the
   * dialog; saving it then keeps the behaviour instead of turning an absent setting into a different
   * one. A checkbox shows what the runtime reads: "true" / "false" as text, its default when unset.
   */
  function showDefaults(node) {
    var prefix = node._def.category === 'config' ? '#node-config-input-' : '#node-input-';
    Object.keys(node._def.defaults).forEach(function (key) {
      var input = $(prefix + key);
      var v = node[key];
      var def = node._def.defaults[key].value;
      if (input.is(':checkbox')) {
        if (v === 'true' || v === 'false') input.prop('checked', v === 'true');
        else if (v === undefined || v === null || v === '') input.prop('checked', def === true);
        return;
      }
      if (v !== undefined && v !== null && !(v === '' && input.is('select'))) return;
      input.val(def);
    });
  }

  /**
   * For oneditprepare: runs `sync` now and whenever a field of `selector` changes (`events`, default
   * "change"), for the parts of a dialog that follow its fields.
   */
  function follow(selector, sync, events) {
    $(selector).on(events || 'change', sync);
    sync();
  }

  /**
   * The enabled `smoke-kafka-in` nodes upstream of `node` in the editor, nearest first: the wires
   * followed backwards through every node, and from a `link in` to the `link out` nodes that send to
   * it, as the runtime finds them in the deployed flows (nodes/nr/flow-graph.ts). A stateful node keeps
   * its state in a changelog topic behind exactly one of them.
   */
  function upstreamKafkaIns(node) {
    var RED = root.RED;
    var into = {};
    function edge(from, to) {
      if (!from || !to) return;
      (into[to.id] = into[to.id] || []).push(from);
    }
    RED.nodes.eachLink(function (l) { edge(l.source, l.target); });
    RED.nodes.eachNode(function (n) {
      if (n.type === 'link out' && Array.isArray(n.links)) {
        n.links.forEach(function (id) { edge(n, RED.nodes.node(id)); });
      }
    });
    var found = [];
    var seen = {};
    seen[node.id] = true;
    var frontier = [node];
    while (frontier.length > 0) {
      var next = [];
      frontier.forEach(function (n) {
        (into[n.id] || []).forEach(function (from) {
          if (seen[from.id]) return;
          seen[from.id] = true;
          if (from.d === true) return;
          if (from.type === 'smoke-kafka-in') found.push(from);
          else next.push(from);
        });
      });
      frontier = next;
    }
    return found;
  }

  /**
   * The changelog topic of node `nodeId` behind `kafkaIn` (its group id, `smoke_detection_group` when
   * left out), named as nodes/lib/changelog.ts names it: `<group>-<node id>-changelog`. A group id of
   * the form ${NAME} is shown as it is (the runtime substitutes it).
   */
  function changelogTopic(kafkaIn, nodeId) {
    var g = kafkaIn.groupId;
    var group = g === undefined || g === null || String(g).trim() === '' ? 'smoke_detection_group' : String(g).trim();
    function clean(s) { return String(s).replace(/[^a-zA-Z0-9._-]/g, '_'); }
    var tail = '-' + clean(nodeId) + '-changelog';
    return (isEnv(group) ? group : clean(group).slice(0, 249 - tail.length)) + tail;
  }

  /**
   * For a dialog's note on where a node's state goes: `found`, the number of `kafka in` nodes upstream,
   * and `topic`, the node's changelog topic when there is exactly one (else null).
   */
  function kafkaUpstream(node) {
    var ins = upstreamKafkaIns(node);
    return { found: ins.length, topic: ins.length === 1 ? changelogTopic(ins[0], node.id) : null };
  }

  /** A node's label function: its name, else `text`. */
  function label(text) {
    return function () { return this.name || text; };
  }

  /** A node's labelStyle: italic when it has a name. */
  function labelStyle() {
    return this.name ? 'node_label_italic' : '';
  }

  /** A node's outputLabels function: the message `<keyPrefix><port number from 1>` of its catalog. */
  function outputLabels(keyPrefix) {
    return function (i) { return this._(keyPrefix + (i + 1)); };
  }

  /**
   * The "here" line of a detector's dialog: where its per-device state goes, from the wires as the
   * runtime will find them (`<type>.here.missing|every|none|changelog|memory`), kept up to date as State
   * and Emit change. Threshold alert, fire pattern and window alert keep state only with emit on change
   * (`every` otherwise); z-score anomaly (`everyKeepsState`) keeps its windows in both modes.
   */
  function stateHint(node, everyKeepsState) {
    var upstream = kafkaUpstream(node);
    function sync() {
      var mode = $('#node-input-state').val() || 'auto';
      var here = mode === 'changelog' && !upstream.topic ? 'missing'
        : !everyKeepsState && $('#node-input-emit').val() !== 'change' ? 'every'
        : mode === 'none' ? 'none' : upstream.topic ? 'changelog' : 'memory';
      $('#node-input-state-here').text(node._(node.type + '.here.' + here, upstream));
    }
    follow('#node-input-state, #node-input-emit', sync);
  }

  /**
   * A setting every detector has, as nodes/nr/detector-node.ts reads it: `emit`, `maxDevices`,
   * `idleTimeout` (a plain number in seconds) or `state`, a new `{ value, validate }` each call. The
   * detectors list them by name in their own literal `defaults`, where the Flow Library reads the
   * settings of a node (test/nodes/flow-library.test.ts).
   */
  function detectorSetting(key) {
    switch (key) {
      case 'emit': return { value: 'every', validate: oneOf(['every', 'change']) };
      case 'maxDevices': return { value: 10000, validate: integer({ min: 0 }) };
      case 'idleTimeout': return { value: '1 hour', validate: duration() };
      case 'state': return { value: 'auto', validate: oneOf(['auto', 'changelog', 'none']) };
      default: throw new Error('not a setting every detector has: ' + key);
    }
  }

  /**
   * oneditprepare of a detector: its defaults shown (showDefaults), the "here" line of its state
   * (stateHint; `opts.everyKeepsState` for z-score anomaly), and with `opts.rules` its rule table
   * (ruleTable, the keys of its `rules` setting, `opts.rules` the table's options).
   */
  function detectorPrepare(node, opts) {
    var o = opts || {};
    showDefaults(node);
    stateHint(node, o.everyKeepsState === true);
    if (o.rules) ruleTable(node, node._def.defaults.rules.keys, o.rules);
  }

  /**
   * The `rules` setting of a rule-table detector, from the lists the runtime exports to the editor
   * (nodes/nr/editor-settings.ts): `RED.settings[keysSetting]` the sensors (or aggregates) a rule may
   * name, read when asked, and `RED.settings[rulesSetting]` the default table. Valid: left out or null,
   * or an array (or its JSON text) of rules with a known key, `>` or `<`, a known severity and a bound
   * that is a finite number.
   */
  function ruleSetting(keysSetting, rulesSetting) {
    function setting(name) { return root.RED.settings[name] || []; }
    return {
      value: setting(rulesSetting),
      get keys() { return setting(keysSetting); },
      validate: function (v) {
        if (v === null || absent(v)) return true;
        var list = v;
        if (typeof v === 'string') {
          try { list = JSON.parse(v); } catch (e) { return false; }
        }
        if (!Array.isArray(list)) return false;
        var known = setting(keysSetting);
        return list.every(function (r) {
          return !!r && known.indexOf(r.sensor) >= 0 && (r.op === '>' || r.op === '<') &&
            SEVERITIES.indexOf(r.severity) >= 0 &&
            r.bound !== '' && r.bound !== null && isFinite(Number(r.bound));
        });
      }
    };
  }

  /**
   * The rule table of a rule-table detector (threshold alert, window alert): an editable list of
   * `{ sensor, op, bound, severity, enabled }` rows over the dialog's `#node-input-rule-container`, a
   * "defaults" button `#node-input-rules-defaults`, and the rows' keys from `keys`. Each enable checkbox
   * is named after its rule (`<type>.label.enableRule`), as it has no visible text of its own.
   * `opts`: `keyWidth` (CSS width of the key select), `newKey` (the key of an added row).
   * With {@link ruleTableRows} (oneditsave) and {@link ruleTableResize} (oneditresize).
   */
  function ruleTable(node, keys, opts) {
    var type = node.type;
    var defaults = RED.nodes.getType(type).defaults.rules.value;
    function select(options, value, width) {
      var s = $('<select/>').css({ width: width, 'margin-right': '6px' });
      options.forEach(function (o) { $('<option/>').val(o).text(o).appendTo(s); });
      s.val(value);
      return s;
    }
    var list = $('#node-input-rule-container').css('min-height', '200px').css('min-width', '450px').editableList({
      addItem: function (row, i, rule) {
        if (!rule.sensor) rule = { sensor: opts.newKey, op: '>', bound: '', severity: 'MEDIUM', enabled: true };
        row.css({ overflow: 'hidden', whiteSpace: 'nowrap', display: 'flex', 'align-items': 'center' });
        var enabled = $('<input type="checkbox" class="node-input-rule-enabled"/>').css({ width: 'auto', margin: '0 8px 0 0' })
          .prop('checked', rule.enabled !== false && rule.enabled !== 'false').appendTo(row);
        var sensor = select(keys, rule.sensor, opts.keyWidth).addClass('node-input-rule-sensor').appendTo(row);
        var op = select(['>', '<'], rule.op, '55px').addClass('node-input-rule-op').appendTo(row);
        var bound = $('<input type="text" class="node-input-rule-bound"/>').css({ width: '90px', 'margin-right': '6px' })
          .attr('placeholder', node._(type + '.label.bound')).val(rule.bound).appendTo(row);
        var severity = select(SEVERITIES, rule.severity, '110px').addClass('node-input-rule-severity').appendTo(row);
        // The accessible name (and tooltip) follows the row's fields as they are edited.
        function name() {
          var text = node._(type + '.label.enableRule', {
            sensor: sensor.val(), op: op.val(), bound: String(bound.val()).trim() || '?', severity: severity.val()
          });
          enabled.attr({ 'aria-label': text, title: text });
        }
        row.find('select, input[type="text"]').on('change input', name);
        name();
      },
      removable: true,
      sortable: true
    });
    function fill(rules) {
      list.editableList('empty');
      rules.forEach(function (r) { list.editableList('addItem', $.extend({}, r)); });
    }
    var rules = node.rules;
    if (typeof rules === 'string') {
      try { rules = JSON.parse(rules); } catch (e) { rules = defaults; }
    }
    fill(Array.isArray(rules) ? rules : defaults);
    $('#node-input-rules-defaults').on('click', function (e) {
      e.preventDefault();
      fill(defaults);
    });
  }

  /** The rows of the rule table (see ruleTable), for oneditsave: bounds that are numbers as numbers. */
  function ruleTableRows() {
    var rules = [];
    $('#node-input-rule-container').editableList('items').each(function () {
      var row = $(this);
      var bound = row.find('.node-input-rule-bound').val().trim();
      rules.push({
        sensor: row.find('.node-input-rule-sensor').val(),
        op: row.find('.node-input-rule-op').val(),
        bound: bound !== '' && isFinite(Number(bound)) ? Number(bound) : bound,
        severity: row.find('.node-input-rule-severity').val(),
        enabled: row.find('.node-input-rule-enabled').prop('checked')
      });
    });
    return rules;
  }

  /** oneditsave of a node with the rule table: its rows as the node's `rules` (see ruleTableRows). */
  function ruleTableSave() {
    this.rules = ruleTableRows();
  }

  /** oneditresize of a dialog with the rule table: the table takes the height the other rows leave. */
  function ruleTableResize(size) {
    var rows = $('#dialog-form>div:not(.node-input-rule-container-row)');
    var height = size.height;
    for (var i = 0; i < rows.length; i++) height -= $(rows[i]).outerHeight(true);
    var row = $('#dialog-form>div.node-input-rule-container-row');
    height -= parseInt(row.css('marginTop'), 10) + parseInt(row.css('marginBottom'), 10);
    $('#node-input-rule-container').editableList('height', height);
  }

  /** An option value as a message key: at-least-once → atLeastOnce, read_committed → readCommitted. */
  function camel(v) {
    return String(v).replace(/[-_]+([a-zA-Z0-9])/g, function (m, c) { return c.toUpperCase(); });
  }

  /** ` name="value"`, or nothing when `value` is undefined. */
  function attr(name, value) {
    return value === undefined ? '' : ' ' + name + '="' + value + '"';
  }

  /** The message key `key` of node `type` (a key with a namespace, `node-red:…`, as it is). */
  function msg(type, key) {
    return key.indexOf(':') >= 0 ? key : type + '.' + key;
  }

  /** A select's options from `d.options` (see formRow). */
  function options(type, key, d) {
    return String(d.options || '').split(/\s+/).filter(Boolean).map(function (o) {
      var text = /^([^=:]+)=(.*)$/.exec(o);
      if (text) return '<option' + attr('value', text[1]) + '>' + text[2] + '</option>';
      var named = /^([^=:]+):(.*)$/.exec(o);
      var value = named ? named[1] : o;
      return '<option' + attr('value', value) + attr('data-i18n', msg(type, (d.group || key) + '.' + (named ? named[2] : camel(o)))) + '></option>';
    }).join('');
  }

  /**
   * The inside of a form row from its description `d` (the data- attributes of its placeholder in a
   * node's template, see template): a label, the field `<prefix>-<key>`, and what follows it. Message
   * keys are under `<type>.` unless they name a namespace (`node-red:common.label.name`).
   *   d.icon        the label's Font Awesome icon, without "fa-"
   *   d.label       the label's message (default `label.<key>`); "-" for a blank label, the field under
   *                 the other rows' fields; d.beforeKey: a message between label and field
   *   d.input       text (default), password, number (d.min, d.max, d.step), textarea, select;
   *                 checkbox: a box after the label; check: a box with the label after it (d.indent:
   *                 the box under the other rows' fields)
   *   d.width       the field's CSS width
   *   d.options     a select's values, by spaces; each one's text is the message
   *                 `<d.group or key>.<value in camelCase>`, `value:name` the message `<…>.<name>`,
   *                 `value=Text` the text as written
   *   d.placeholder, d.placeholderKey   the field's placeholder: as written, or a message
   *   d.unit, d.unitKey                  what follows the field: as written, or a message
   *   d.inner       the placeholder's own markup (more fields), after all that
   */
  function formRow(type, prefix, key, d) {
    var id = prefix + '-' + key;
    var label = msg(type, d.label || 'label.' + key);
    var input = d.input || 'text';
    if (input === 'check') {
      var indent = d.indent !== undefined;
      return (indent ? '<label>&nbsp;</label> ' : '') +
        '<input type="checkbox"' + attr('id', id) + ' style="display: inline-block; width: auto; vertical-align: top;"> ' +
        '<label' + attr('for', id) + attr('style', indent ? 'width: 70%' : 'width: auto') + attr('data-i18n', label) + '></label>';
    }
    var html = '<label' + attr('for', id) + '>' + (d.label === '-' ? '&nbsp;'
      : (d.icon ? '<i class="fa fa-' + d.icon + '"></i> ' : '') + '<span' + attr('data-i18n', label) + '></span>') + '</label> ' +
      (d.beforeKey ? '<span' + attr('data-i18n', msg(type, d.beforeKey)) + '></span> ' : '');
    var style = input === 'checkbox' ? 'display: inline-block; width: auto; vertical-align: top'
      : d.width === undefined ? undefined : 'width: ' + d.width + (input === 'textarea' ? '; font-family: monospace' : '');
    var field = attr('id', id) + attr('min', d.min) + attr('max', d.max) + attr('step', d.step) + attr('style', style) +
      attr('placeholder', d.placeholder) + attr('data-i18n', d.placeholderKey && '[placeholder]' + msg(type, d.placeholderKey));
    if (input === 'select') html += '<select' + field + '>' + options(type, key, d) + '</select>';
    else if (input === 'textarea') html += '<textarea rows="3"' + field + '></textarea>';
    else html += '<input' + attr('type', input) + field + '>';
    return html + (d.unit !== undefined ? ' ' + d.unit : '') +
      (d.unitKey ? ' <span' + attr('data-i18n', msg(type, d.unitKey)) + '></span>' : '') + (d.inner ? ' ' + d.inner.trim() : '');
  }

  /** A form row of node `type`'s dialog (see formRow), with the `classes` after form-row. */
  function row(type, key, d, classes) {
    return '<div class="form-row' + (classes ? ' ' + classes : '') + '">' + formRow(type, 'node-input', key, d) + '</div>';
  }

  /**
   * The rule table's rows (see ruleTable): its label, the defaults button, the message tip.rules, with
   * `off` one more tip (`#node-input-rules-off`), and the list.
   */
  function ruleRows(type, off) {
    return '<div class="form-row"><label><i class="fa fa-list"></i> <span' + attr('data-i18n', type + '.label.rules') + '></span></label> ' +
      '<button id="node-input-rules-defaults" class="red-ui-button red-ui-button-small"><i class="fa fa-undo"></i> <span' + attr('data-i18n', type + '.label.defaults') + '></span></button>' +
      '<div class="form-tips" style="margin-top: 6px"' + attr('data-i18n', type + '.tip.rules') + '></div>' +
      (off ? '<div class="form-tips" id="node-input-rules-off" style="margin-top: 6px"' + attr('data-i18n', type + '.' + off) + '></div>' : '') +
      '</div><div class="form-row node-input-rule-container-row"><ol id="node-input-rule-container"></ol></div>';
  }

  /**
   * The rows every detector's dialog ends with: emit, max devices, idle timeout (seconds), the message
   * `tip` when given, state (auto / changelog / none) and the "here" line of stateHint.
   */
  function detectorRows(type, tip) {
    return row(type, 'emit', { icon: 'filter', input: 'select', width: '70%', options: 'every change' }) +
      row(type, 'maxDevices', { icon: 'microchip', width: '120px', placeholder: '10000' }) +
      row(type, 'idleTimeout', { icon: 'clock-o', width: '120px', placeholder: '1 hour', unitKey: 'label.idleUnit' }) +
      (tip ? '<div class="form-tips"' + attr('data-i18n', type + '.' + tip) + ' style="margin-bottom: 12px"></div>' : '') +
      row(type, 'state', { icon: 'history', input: 'select', width: '70%', options: 'auto changelog none' }) +
      '<div class="form-tips" id="node-input-state-here"></div>';
  }

  /** Each data- attribute of an HTML tag's text, by its name without "data-" in camelCase. */
  function dataAttributes(tag) {
    var d = {};
    var re = /\sdata-([\w-]+)(?:="([^"]*)")?/g;
    var m;
    while ((m = re.exec(tag)) !== null) d[camel(m[1])] = m[2] === undefined ? '' : m[2];
    return d;
  }

  /**
   * A node's template (the text of its `<script type="text/html" data-template-name>`) with its
   * placeholders filled in, as the dialog is built from it:
   *   <div class="form-row …" data-row="key" data-…>more</div>   a form row, its inside from formRow
   *   <div data-rows="rules" data-off="…"></div>                   the rule table's rows (ruleRows)
   *   <div data-rows="detector" data-tip="…"></div>                the detector rows (detectorRows)
   * `prefix`: node-input, or node-config-input for a config node. All else stays as it is.
   */
  function template(type, html, prefix) {
    return html.replace(/<div\b([^>]*\sdata-rows?="[^"]*"[^>]*)>((?:(?!<\/?div\b)[\s\S])*)<\/div>/g, function (whole, tag, inner) {
      var d = dataAttributes(tag);
      if (d.rows === 'detector') return detectorRows(type, d.tip);
      if (d.rows === 'rules') return ruleRows(type, d.off);
      if (d.row === undefined) return whole;
      d.inner = inner;
      return '<div' + tag.replace(/\sdata-[\w-]+(?:="[^"]*")?/g, '') + '>' + formRow(type, prefix, d.row, d) + '</div>';
    });
  }

  /**
   * Fills in the placeholders of the template of `type` in the page (see template), once: Node-RED
   * builds each dialog from that text. Run for every type as it is registered, when its module's
   * templates are already in the page (Node-RED adds a module's HTML, then runs its scripts).
   */
  function expandTemplate(type) {
    var script = $('script[data-template-name="' + type + '"]');
    if (script.length !== 1) return;
    var def = root.RED.nodes.getType(type);
    var text = script.text();
    var filled = template(type, text, def && def.category === 'config' ? 'node-config-input' : 'node-input');
    if (filled !== text) script.text(filled);
  }

  if (root.RED && root.RED.events && typeof root.RED.events.on === 'function') {
    root.RED.events.on('registry:node-type-added', expandTemplate);
  }

  root.SmokeStreamEditor = {
    absent: absent,
    isEnv: isEnv,
    unset: unset,
    unsetLoose: unsetLoose,
    ms: ms,
    msOf: msOf,
    isNumber: isNumber,
    isInteger: isInteger,
    number: number,
    integer: integer,
    duration: duration,
    durationNotBelow: durationNotBelow,
    oneOf: oneOf,
    bool: bool,
    isTopic: isTopic,
    topicName: topicName,
    topicList: topicList,
    brokerList: brokerList,
    showDefaults: showDefaults,
    follow: follow,
    upstreamKafkaIns: upstreamKafkaIns,
    changelogTopic: changelogTopic,
    kafkaUpstream: kafkaUpstream,
    label: label,
    labelStyle: labelStyle,
    outputLabels: outputLabels,
    stateHint: stateHint,
    detectorSetting: detectorSetting,
    detectorPrepare: detectorPrepare,
    ruleSetting: ruleSetting,
    ruleTable: ruleTable,
    ruleTableRows: ruleTableRows,
    ruleTableSave: ruleTableSave,
    ruleTableResize: ruleTableResize,
    camel: camel,
    formRow: formRow,
    ruleRows: ruleRows,
    detectorRows: detectorRows,
    template: template,
    expandTemplate: expandTemplate
  };
})(typeof window !== 'undefined' ? window : this);
