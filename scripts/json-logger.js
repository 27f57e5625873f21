// A Node-RED log handler that writes JSON lines (one object per line) to a file: the seed's
// LOG_FILE / LOG_LEVEL (defaults `stream_processing.log`, `info`). Used from flows/settings.js:
//   logging: { console: {...}, jsonFile: require('../scripts/json-logger').settings() }
// A line: { time (ISO-8601), level, type, id, name, flow, msg } (type/id/name/flow for node logs).
// A node's warning thus carries its id, type and name and the reason. Payloads are never logged at
// info level: an object that is not an Error is logged as a summary of its keys (as JSON only at
// debug/trace level), and a long text is cut.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const LEVELS = { off: 1, fatal: 10, error: 20, warn: 30, info: 40, debug: 50, trace: 60, audit: 98, metric: 99 };
const NAMES = Object.fromEntries(Object.entries(LEVELS).map(([k, v]) => [v, k]));
/** Longest `msg` text at info level and coarser, and at debug/trace (characters). */
const MAX_TEXT = 1000;
const MAX_TEXT_DEBUG = 16000;

function cut(s, max) {
  return s.length <= max ? s : `${s.slice(0, max)}… (${s.length} chars)`;
}

/** The text of a log message; `verbose` (debug/trace) allows an object's JSON. */
function text(m, verbose) {
  const max = verbose ? MAX_TEXT_DEBUG : MAX_TEXT;
  if (typeof m === 'string') return cut(m, max);
  if (m instanceof Error) return cut(m.message, max);
  if (m && typeof m.message === 'string') return cut(m.message, max);
  if (m !== null && typeof m === 'object') {
    if (verbose) {
      try {
        return cut(JSON.stringify(m), max);
      } catch {
        // a cyclic object: the summary below
      }
    }
    const keys = Object.keys(m);
    return `[${Array.isArray(m) ? `array of ${m.length}` : `object with keys ${cut(keys.slice(0, 10).join(', '), 200)}${keys.length > 10 ? ', …' : ''}`}]`;
  }
  return cut(String(m), max);
}

/** Logging settings block for Node-RED, honouring LOG_FILE and LOG_LEVEL (options win over both). */
function settings(opts = {}) {
  const wanted = String(opts.level || process.env.LOG_LEVEL || 'info').toLowerCase();
  const level = LEVELS[wanted] ? wanted : 'info';
  const file = path.resolve(opts.file || process.env.LOG_FILE || 'stream_processing.log');
  const verbose = LEVELS[level] >= LEVELS.debug && LEVELS[level] <= LEVELS.trace;
  return {
    level,
    metrics: false,
    audit: false,
    handler() {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const out = fs.createWriteStream(file, { flags: 'a' });
      let failed = false;
      // An unwritable log file must not take the runtime down: say so once on stderr.
      out.on('error', (err) => {
        if (!failed) console.error(`json-logger: cannot write ${file}: ${err.message}`);
        failed = true;
      });
      return (msg) => {
        if (failed) return;
        const line = { time: new Date(msg.timestamp || Date.now()).toISOString(), level: NAMES[msg.level] || String(msg.level) };
        if (msg.type) line.type = msg.type;
        if (msg.id) line.id = msg.id;
        if (msg.name) line.name = msg.name;
        if (msg.z) line.flow = msg.z;
        line.msg = text(msg.msg, verbose);
        out.write(JSON.stringify(line) + '\n');
      };
    },
  };
}

module.exports = { settings, LEVELS, text };
