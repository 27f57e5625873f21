'use strict';
// The spec reporter, plus one closing line in the plain form CI reads: "mocha: N passed, N failed, N skipped".
const fs = require('node:fs');
const path = require('node:path');
const Mocha = require('mocha');

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once('end', () => {
      const s = this.stats;
      const line = `mocha: ${s.passes} passed, ${s.failures} failed, ${s.pending} skipped`;
      console.log(line);
      // Kept for .ci/run, which repeats it as its own closing line after the benchmark and soak.
      try {
        const dir = path.join(__dirname, 'artifacts');
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, 'mocha-summary.txt'), line + '\n');
      } catch {}
    });
  }
}

module.exports = SummaryReporter;
