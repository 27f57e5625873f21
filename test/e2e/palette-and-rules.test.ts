/**
 * What a new user meets in the editor before any flow runs, in Debian's chromium (playwright-core):
 * the palette (colours by role, an icon of its own for each node that does something different, and
 * the palette filter finding a node by the words a person types) and the threshold alert's rule table
 * (a checkbox per rule that says which rule it switches, and why the PM1.0 and pressure rules are off).
 * Screenshots go to test/artifacts/.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newPage, openEditor, root, screenshot, startNodeRed, type NodeRedInstance, requireBrowser } from './_browser';

/** Each palette node of the package by its role: nodes of one role share a colour, roles differ. */
const ROLES: Record<string, string[]> = {
  source: ['smoke-kafka-in', 'smoke-sensor-sim'],
  processing: ['smoke-sensor-validate', 'smoke-sliding-window'],
  detector: ['smoke-threshold-alert', 'smoke-zscore-anomaly', 'smoke-fire-pattern', 'smoke-window-alert'],
  sink: ['smoke-kafka-out', 'smoke-csv-sink'],
};


/** Types `text` into the palette filter and returns the types of the palette nodes it leaves shown. */
async function filterPalette(page: Page, text: string): Promise<string[]> {
  const input = page.locator('#red-ui-palette-search input');
  await input.fill('');
  await input.pressSequentially(text);
  // The filter runs after the search box's typing delay: wait until what is shown matches the text.
  await page.waitForFunction(
    (t) => {
      const re = new RegExp(t.replace(/[-/\\^$*+?.()|[\]{}]/g, '\\$&'), 'i');
      return Array.from(document.querySelectorAll('#red-ui-palette-container .red-ui-palette-node')).every((el) => {
        const e = el as HTMLElement;
        const matches = re.test(e.getAttribute('data-palette-type') ?? '') || re.test(e.getAttribute('data-palette-label') ?? '');
        return matches === (e.style.display !== 'none');
      });
    },
    text,
    { timeout: 5_000 },
  );
  return page.$$eval('#red-ui-palette-container .red-ui-palette-node[data-palette-type]', (els) =>
    els.filter((e) => (e as HTMLElement).style.display !== 'none' && (e as HTMLElement).offsetParent !== null).map((e) => e.getAttribute('data-palette-type') ?? ''),
  );
}

describe('e2e > the palette and the threshold rule table for a new user', function () {
  this.timeout(60_000);
  let nr: NodeRedInstance | undefined;
  let browser: Browser | undefined;
  let page: Page;

  before(async function () {
    requireBrowser(this);
    assert.ok(fs.existsSync(path.join(root, 'dist', 'nodes')), 'build first (node scripts/build.js)');
    [nr, browser] = await Promise.all([startNodeRed(), launchBrowser()]);
    ({ page } = await newPage(browser));
    await openEditor(page, nr.base);
  });

  after(async function () {
    await browser?.close();
    await nr?.stop();
  });

  it('colours the palette by role: one colour per role (source, processing, detector, sink), four different colours', async function () {
    const colour = (type: string) => page.locator(`.red-ui-palette-node[data-palette-type="${type}"]`).evaluate((e) => getComputedStyle(e).backgroundColor);
    const byRole: Record<string, string> = {};
    for (const [role, types] of Object.entries(ROLES)) {
      const colours = await Promise.all(types.map(colour));
      assert.equal(new Set(colours).size, 1, `the ${role} nodes share one colour: ${types.map((t, i) => `${t} ${colours[i]}`).join(', ')}`);
      byRole[role] = colours[0];
    }
    assert.equal(new Set(Object.values(byRole)).size, 4, `each role has a colour of its own: ${JSON.stringify(byRole)}`);
    // The whole category in view: its last node at the bottom of the palette.
    await page.locator('#red-ui-palette-container-smoke_stream .red-ui-palette-node').last().scrollIntoViewIfNeeded();
    await screenshot(page, 'palette-colours.png');
  });

  it('gives fire pattern and sensor sim different icons', async function () {
    const icon = (type: string) =>
      page.locator(`.red-ui-palette-node[data-palette-type="${type}"] .red-ui-palette-icon-container`).evaluate((e) => {
        const fa = e.querySelector('i.fa');
        if (fa) return Array.from(fa.classList).filter((c) => c.startsWith('fa-')).join(' ');
        return getComputedStyle(e.querySelector('.red-ui-palette-icon') ?? e).backgroundImage;
      });
    const [fire, sim] = await Promise.all([icon('smoke-fire-pattern'), icon('smoke-sensor-sim')]);
    assert.ok(fire && sim, `both have an icon (fire pattern: ${fire}, sensor sim: ${sim})`);
    assert.notEqual(sim, fire, `sensor sim has an icon of its own (both: ${sim})`);
  });

  it('finds the z-score anomaly node by "z-score", "zscore", "Z-Score" and "anomaly" in the palette filter', async function () {
    const label = await page.locator('.red-ui-palette-node[data-palette-type="smoke-zscore-anomaly"] .red-ui-palette-label').innerText();
    assert.equal(label.replace(/\s+/g, ' ').trim(), 'z-score anomaly', 'the palette shows the name as written');
    for (const text of ['z-score', 'zscore', 'Z-Score', 'anomaly']) {
      const shown = await filterPalette(page, text);
      assert.ok(shown.includes('smoke-zscore-anomaly'), `"${text}" finds the z-score anomaly node (shown: ${shown.join(', ') || 'nothing'})`);
      if (text === 'z-score') await screenshot(page, 'palette-filter-z-score.png');
    }
  });

  it('finds every node of the package by "smoke", and each by a word of its name', async function () {
    const all = Object.values(ROLES).flat();
    const shown = await filterPalette(page, 'smoke');
    assert.deepEqual(all.filter((t) => !shown.includes(t)), [], '"smoke" shows every node of the package');
    const words: Record<string, string> = {
      kafka: 'smoke-kafka-in',
      validate: 'smoke-sensor-validate',
      threshold: 'smoke-threshold-alert',
      fire: 'smoke-fire-pattern',
      window: 'smoke-sliding-window',
      alert: 'smoke-window-alert',
      csv: 'smoke-csv-sink',
      sim: 'smoke-sensor-sim',
    };
    for (const [text, type] of Object.entries(words)) assert.ok((await filterPalette(page, text)).includes(type), `"${text}" finds ${type}`);
    await filterPalette(page, '');
  });

  it("names each rule's checkbox in the threshold alert dialog, and says why the PM1.0 and pressure rules are off", async function () {
    await page.evaluate(() => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const RED = (globalThis as any).RED;
      RED.view.importNodes([{ id: 'rules-t1', type: 'smoke-threshold-alert', z: RED.workspaces.active(), x: 300, y: 120, wires: [[], []] }], { generateIds: false, addFlow: false });
      RED.editor.edit(RED.nodes.node('rules-t1'));
    });
    const rows = page.locator('#node-input-rule-container li');
    await rows.first().waitFor({ state: 'visible' });
    const table = await rows.evaluateAll((lis) =>
      lis.map((li) => {
        const box = li.querySelector('input.node-input-rule-enabled') as HTMLInputElement;
        const labelled = box.getAttribute('aria-label') || (box.id && document.querySelector(`label[for="${box.id}"]`)?.textContent) || box.closest('label')?.textContent || '';
        return {
          sensor: (li.querySelector('.node-input-rule-sensor') as HTMLSelectElement).value,
          op: (li.querySelector('.node-input-rule-op') as HTMLSelectElement).value,
          bound: (li.querySelector('.node-input-rule-bound') as HTMLInputElement).value,
          severity: (li.querySelector('.node-input-rule-severity') as HTMLSelectElement).value,
          checked: box.checked,
          label: labelled.trim(),
        };
      }),
    );
    assert.ok(table.length >= 27, `the default rule table (${table.length} rows)`);
    for (const r of table) {
      assert.ok(r.label.includes(r.sensor), `the checkbox of the rule ${r.sensor} ${r.op} ${r.bound} ${r.severity} has a label naming its sensor (label: "${r.label}")`);
      assert.ok(r.label.includes(r.severity) && r.label.includes(`${r.op} ${r.bound}`), `the label says which rule: "${r.label}"`);
    }
    assert.equal(new Set(table.map((r) => r.label)).size, table.length, 'every checkbox has a label of its own');
    // The accessible name as assistive technology reads it.
    await page.getByRole('checkbox', { name: 'Enable the rule: pm1_0 > 45 (CRITICAL)' }).waitFor({ state: 'visible' });

    const off = table.filter((r) => !r.checked).map((r) => r.sensor);
    assert.deepEqual([...new Set(off)].sort(), ['pm1_0', 'pressure'], 'the rules off by default are those of PM1.0 and pressure');
    const note = page.locator('#node-input-rules-off');
    assert.ok(await note.isVisible(), 'a note beside the table');
    const text = await note.innerText();
    assert.match(text, /PM1\.0/);
    assert.match(text, /pressure/i);
    assert.match(text, /off by default/i);
    assert.match(text, /seed's alert rules have none/i, 'the note says why: the seed has no rule for them');

    // The label follows the row when it is edited.
    const first = rows.first();
    await first.locator('.node-input-rule-sensor').selectOption('humidity');
    await first.locator('.node-input-rule-bound').fill('12');
    assert.equal(await first.locator('input.node-input-rule-enabled').getAttribute('aria-label'), 'Enable the rule: humidity > 12 (CRITICAL)');
    await screenshot(page, 'threshold-rules-dialog.png');
    await page.click('#node-dialog-cancel');
    await page.locator('#node-dialog-cancel').waitFor({ state: 'detached' });
  });

  it("names each rule's checkbox in the window alert dialog too (the same rule table)", async function () {
    await page.evaluate(() => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const RED = (globalThis as any).RED;
      RED.view.importNodes([{ id: 'rules-w1', type: 'smoke-window-alert', z: RED.workspaces.active(), x: 300, y: 220, wires: [[], []] }], { generateIds: false, addFlow: false });
      RED.editor.edit(RED.nodes.node('rules-w1'));
    });
    await page.getByRole('checkbox', { name: 'Enable the rule: avgTemperature > 50 (HIGH)' }).waitFor({ state: 'visible' });
    const labels = await page.locator('#node-input-rule-container input.node-input-rule-enabled').evaluateAll((boxes) => boxes.map((b) => b.getAttribute('aria-label') ?? ''));
    assert.ok(labels.length >= 8 && labels.every((l) => l.startsWith('Enable the rule: ')), JSON.stringify(labels));
    await page.click('#node-dialog-cancel');
    await page.locator('#node-dialog-cancel').waitFor({ state: 'detached' });
  });
});
