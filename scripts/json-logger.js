// A Node-RED log handler that writes JSON lines (one object per line) to a file: the seed's
// LOG_FILE / LOG_LEVEL (defaults `stream_processing.log`, `info`). Used from flows/settings.js:
//   logging: { console: {...}, jsonFile: require('../scripts/json-logger').settings() }
// A warning from a node carries its id, type and name and the reason; payloads are never logged at
// info level (node.warn/error with an object logs only its message text here).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const LEVELS = { fatal: 10, error: 20, warn: 30, info: 40, debug: 50, trace: 60, audit: 98, metric: 99 };
const NAMES = Object.fromEntries(Object.entries(LEVELS).map(([k, v]) => [v, k]));

function text(m) {
  if (typeof m === 'string') return m;
  if (m instanceof Error) return m.message;
  if (m && typeof m.message === 'string') return m.message;
  try {
    return JSON.stringify(m);
  } catch {
    return String(m);
  }
}

/** Logging settings block for Node-RED, honouring LOG_FILE and LOG_LEVEL. */
function settings(opts = {}) {
  const level = (opts.level || process.env.LOG_LEVEL || 'info').toLowerCase();
  const file = path.resolve(opts.file || process.env.LOG_FILE || 'stream_processing.log');
  return {
    level: LEVELS[level] ? level : 'info',
    metrics: false,
    audit: false,
    handler() {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const out = fs.createWriteStream(file, { flags: 'a' });
      return (msg) => {
        const line = { time: new Date(msg.timestamp || Date.now()).toISOString(), level: NAMES[msg.level] || String(msg.level) };
        if (msg.type) line.type = msg.type;
        if (msg.id) line.id = msg.id;
        if (msg.name) line.name = msg.name;
        if (msg.z) line.flow = msg.z;
        line.msg = text(msg.msg);
        out.write(JSON.stringify(line) + '\n');
      };
    },
  };
}

module.exports = { settings, LEVELS };
