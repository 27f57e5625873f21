'use strict';
// TypeScript tests run through tsx; the node adapters under test are the built files in dist/.
module.exports = {
  'node-option': ['import=tsx'],
  extension: ['ts'],
  spec: ['test/unit/**/*.test.ts', 'test/nodes/**/*.test.ts', 'test/kafka/**/*.test.ts', 'test/reliability/**/*.test.ts', 'test/e2e/**/*.test.ts'],
  timeout: 20000,
  exit: true,
};
