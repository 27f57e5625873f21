/**
 * `npm start` builds only when a source changed (issue 15 point 11): scripts/build.js `--if-changed`
 * compares a hash of what the build reads (nodes/, the tsconfigs, the script, the TypeScript version)
 * with the one the last build wrote to dist/.build-stamp.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const build = (...args: string[]) => spawnSync(process.execPath, [path.join(root, 'scripts', 'build.js'), ...args], { cwd: root, encoding: 'utf8' });

describe('e2e > build (npm start)', function () {
  this.timeout(120_000);

  it('skips tsc when no source changed since the last build, and builds when the stamp does not match', function () {
    // The first may build (a source changed since the last build); the second has nothing to do.
    assert.equal(build('--if-changed').status, 0);
    const again = build('--if-changed');
    assert.equal(again.status, 0);
    assert.match(again.stdout, /build: up to date/);
    const stamp = path.join(root, 'dist', '.build-stamp');
    const saved = fs.readFileSync(stamp, 'utf8');
    fs.writeFileSync(stamp, 'something else');
    const rebuilt = build('--if-changed');
    assert.equal(rebuilt.status, 0);
    assert.match(rebuilt.stdout, /build: tsc done/);
    assert.equal(fs.readFileSync(stamp, 'utf8'), saved, 'the same sources give the same stamp');
  });
});
