'use strict';
// No default spec here, so `npx mocha test/unit/foo.test.ts` runs just that file; scripts/test.js
// (npm test) passes every suite.
// TypeScript tests run through tsx; the node adapters under test are the built files in dist/.
module.exports = {
  'node-option': ['import=tsx'],
  extension: ['ts'],
  timeout: 20000,
  exit: true,
  recursive: true,
};
