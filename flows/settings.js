// Node-RED settings of the runnable demo instance (`npm start`, see scripts/start.js, which sets the
// user directory and writes the flow file there from flows/flows.json).
'use strict';
const path = require('node:path');

const root = path.resolve(__dirname, '..');

module.exports = {
  uiPort: Number(process.env.PORT || 1880),
  uiHost: process.env.HOST || '127.0.0.1',

  // Relative to the user directory: the runtime copy of flows/flows.json (the repository copy stays
  // as it is; editor changes are saved here).
  flowFile: 'flows.json',
  flowFilePretty: true,
  // The demo has no secrets of its own; a fixed key keeps flows_cred.json readable across restarts.
  // Set NODE_RED_CREDENTIAL_SECRET for anything that holds real credentials.
  credentialSecret: process.env.NODE_RED_CREDENTIAL_SECRET || 'smoke-stream-demo',

  // start.js links the package into <userDir>/node_modules; only where links are refused does it ask
  // for the repository to be loaded as a nodes folder instead.
  ...(process.env.SMOKE_NODES_DIR ? { nodesDir: [process.env.SMOKE_NODES_DIR] } : {}),

  // Relative folders of file-writing nodes (the csv sinks' "data") resolve against the project root.
  fileWorkingDirectory: process.env.SMOKE_ROOT || root,

  logging: {
    console: { level: process.env.LOG_LEVEL || 'info', metrics: false, audit: false },
    // The seed's JSON-lines log (LOG_FILE, default stream_processing.log in the project root).
    jsonFile: require('../scripts/json-logger').settings({ file: process.env.LOG_FILE || path.join(root, 'stream_processing.log') }),
  },

  // A persistent context store: the sliding window checkpoints its open windows and watermarks here,
  // so a restart of `npm start` loses no open window. A 1 s flush, because a window that holds Kafka
  // commits until its checkpoint is on disk can go no faster than maxInFlight / flushInterval.
  contextStorage: { default: { module: 'localfilesystem', config: { flushInterval: 1 } } },

  // Prometheus metrics of every smoke-stream node on <http>/smoke-stream/metrics.
  smokeStream: { metrics: { path: '/smoke-stream/metrics' } },

  // No update-check prompt and no calls home: the demo must run offline.
  telemetry: { enabled: false },
  diagnostics: { enabled: true, ui: true },
  externalModules: { palette: { allowInstall: true } },

  editorTheme: {
    page: { title: 'smoke stream · Node-RED' },
    header: { title: 'smoke stream' },
    // Projects stay off (Node-RED's default); naming `enabled: false` would log a warning at every start.
    projects: {},
    tours: false,
  },
};
