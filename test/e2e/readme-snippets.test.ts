/**
 * The README's library snippets (issue 15 point 7) run as written, in the project folder of a clone: the
 * package resolves its own name (package.json "exports"), and each `# ` line under a command is in its
 * output (`...` standing for what the README leaves out).
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');

function snippets(): { command: string; expected: string[] }[] {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const lib = readme.slice(readme.indexOf('## The logic as a library'), readme.indexOf('## Development'));
  const out: { command: string; expected: string[] }[] = [];
  for (const block of lib.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const lines = block[1].split('\n').filter(Boolean);
    out.push({ command: lines.filter((l) => !l.startsWith('#')).join('\n'), expected: lines.filter((l) => l.startsWith('# ')).map((l) => l.slice(2)) });
  }
  return out;
}

describe('e2e > README library snippets, from the clone', function () {
  this.timeout(30_000);
  const found = snippets();

  it('finds the snippets', function () {
    assert.ok(found.length >= 2, `${found.length} snippets`);
  });

  for (const [i, s] of found.entries()) {
    it(`snippet ${i + 1} prints what the README says`, function () {
      const r = spawnSync('sh', ['-c', s.command], { cwd: root, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      for (const want of s.expected) {
        // `...` in the README stands for the part left out
        const pattern = new RegExp(want.split('...').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*'));
        assert.match(r.stdout, pattern);
      }
    });
  }
});
