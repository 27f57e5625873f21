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
      // scripts/test.js runs the suite in lanes, each with a file of its own, and sums them.
      try {
        const file = process.env.SMOKE_MOCHA_SUMMARY || path.join(__dirname, 'artifacts', 'mocha-summary.txt');
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, line + '\n');
      } catch {}
    });
  }
}

module.exports = SummaryReporter;
