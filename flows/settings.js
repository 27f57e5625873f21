// Node-RED settings for `npm start` (the runnable demo instance). See scripts/start.js.
'use strict';
const path = require('node:path');

const port = Number(process.env.PORT || 1880);
const host = process.env.HOST || '127.0.0.1';

module.exports = {
  uiPort: port,
  uiHost: host,
  flowFile: path.join(__dirname, 'flows.json'),
  // The demo flow is part of the repository: edits in the editor are written to the user directory copy.
  flowFilePretty: true,
  credentialSecret: process.env.NODE_RED_CREDENTIAL_SECRET || 'smoke-stream-demo',
  functionExternalModules: true,
  logging: {
    console: { level: process.env.LOG_LEVEL || 'info', metrics: false, audit: false },
  },
  editorTheme: { projects: { enabled: false }, tours: false },
};
