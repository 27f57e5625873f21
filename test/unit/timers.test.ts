import { strict as assert } from 'node:assert';
import { guardedInterval, guardedTimeout, reportTimerErrors } from '../../nodes/nr/timers';
import { useCatalogues } from '../../nodes/nr/i18n';
import { brokerRed } from '../nodes/_catalogues';

describe('timers (nodes/nr/timers.ts): a callback that fails is reported, never uncaught', function () {
  // The error line and the status are shared texts of the catalogues, as a node's runtime gives them.
  before(async function () {
    useCatalogues((await brokerRed()) as never);
  });

  it('an interval whose callback throws reports each failure and keeps running', async function () {
    const errors: unknown[] = [];
    let runs = 0;
    const t = guardedInterval(
      () => {
        runs++;
        throw new Error(`boom ${runs}`);
      },
      5,
      (err) => errors.push(err),
    );
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (runs >= 3) {
          clearInterval(check);
          resolve();
        }
      }, 5);
    });
    clearInterval(t);
    assert.ok(errors.length >= 3);
    assert.equal((errors[0] as Error).message, 'boom 1');
  });

  it('a timeout whose callback returns a rejected promise reports the rejection', async function () {
    const err = await new Promise<unknown>((resolve) => {
      guardedTimeout(() => Promise.reject(new Error('async boom')), 1, resolve);
    });
    assert.equal((err as Error).message, 'async boom');
  });

  it('reportTimerErrors: one error line per distinct message, a red status each time', function () {
    const lines: string[] = [];
    const statuses: unknown[] = [];
    const report = reportTimerErrors({ error: (t: unknown) => lines.push(String(t)), status: (s: unknown) => statuses.push(s) } as never, 'kafka in');
    report(new Error('a'));
    report(new Error('a'));
    report(new Error('b'));
    assert.deepEqual(lines, ['kafka in: a', 'kafka in: b']);
    assert.equal(statuses.length, 3);
    assert.deepEqual(statuses[0], { fill: 'red', shape: 'ring', text: 'internal error' });
  });
});
