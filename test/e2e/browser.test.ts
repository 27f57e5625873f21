/**
 * The package in the Node-RED editor and in the demo dashboard, driven through a real browser
 * (Debian's chromium via playwright-core): the palette, a node dragged in with the mouse and edited
 * in its dialog, an example imported from Import ▸ Examples running with its results in the debug
 * sidebar, and the `npm start` dashboard drawing window averages. Screenshots go to test/artifacts/.
 *
 * Without chromium the suite is skipped (under CI=true it fails). The dashboard test needs Dashboard 2.0,
 * which `npm start` installs into its user directory on the first start; offline, that test is skipped
 * with the reason.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { deploy, deployedFlow, launchBrowser, newPage, openEditor, root, screenshot, startNodeRed, type NodeRedInstance, requireBrowser } from './_browser';
import { startDemo, type Demo } from './_demo';

const PALETTE_LABELS = ['kafka in', 'kafka out', 'sensor validate', 'threshold alert', 'z-score anomaly', 'fire pattern', 'sliding window', 'window alert', 'csv sink', 'sensor sim'];


/** Text of the debug sidebar's messages, each as "<node name> <message text>". */
function debugMessages(page: Page): Promise<string[]> {
  return page.$$eval('.red-ui-debug-msg', (els) => els.map((e) => `${e.querySelector('.red-ui-debug-msg-name')?.textContent ?? ''} ${e.querySelector('.red-ui-debug-msg-payload, .red-ui-debug-msg-content')?.textContent ?? e.textContent ?? ''}`));
}

/**
 * Waits for a message of the debug node named `name` whose text matches `text`; on a timeout the
 * error lists the messages the sidebar shows, and a screenshot is taken.
 */
async function waitForDebug(page: Page, name: string, text: RegExp, what: string): Promise<void> {
  try {
    await page.waitForFunction(
      ([n, src, flags]) =>
        Array.from(document.querySelectorAll('.red-ui-debug-msg')).some(
          // The sidebar names the source as "node: <name>".
          (m) => (m.querySelector('.red-ui-debug-msg-name')?.textContent ?? '').trim().replace(/^node: /, '') === n && new RegExp(src, flags).test(m.textContent ?? ''),
        ),
      [name, text.source, text.flags] as const,
      { timeout: 60_000, polling: 250 },
    );
  } catch (err) {
    await screenshot(page, 'failed-debug-sidebar.png');
    const shown = await debugMessages(page);
    throw new Error(`no debug message for ${what} (node "${name}", ${text}) within 60 s; the sidebar shows ${shown.length}:\n${shown.slice(-10).join('\n')}\n(${(err as Error).message.split('\n')[0]})`);
  }
}

describe('e2e > the editor in a real browser', function () {
  this.timeout(120_000);
  let nr: NodeRedInstance | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let consoleErrors: string[] = [];

  before(async function () {
    requireBrowser(this);
    assert.ok(fs.existsSync(path.join(root, 'dist', 'nodes')), 'build first (node scripts/build.js)');
    [nr, browser] = await Promise.all([startNodeRed(), launchBrowser()]);
    ({ page, consoleErrors } = await newPage(browser));
    await openEditor(page, nr.base);
  });

  after(async function () {
    await browser?.close();
    await nr?.stop();
  });

  it('lists every node of the package under the "smoke stream" palette category', async function () {
    const header = page.locator('#red-ui-palette-header-smoke_stream');
    assert.equal((await header.innerText()).trim(), 'smoke stream');
    const nodes = page.locator('#red-ui-palette-container-smoke_stream .red-ui-palette-node');
    const labels = (await nodes.locator('.red-ui-palette-label').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
    assert.deepEqual([...labels].sort(), [...PALETTE_LABELS].sort(), 'the palette labels are the plain names');
    for (const n of await nodes.all()) assert.ok(await n.isVisible(), 'each palette node is shown');
    // The config node is not in the palette: it appears where a kafka node asks for a broker.
    assert.equal(await page.locator('.red-ui-palette-node[data-palette-type="smoke-kafka-broker"]').count(), 0);
    await header.scrollIntoViewIfNeeded();
    await screenshot(page, '01-palette.png');
  });

  it('drags "sliding window" onto the workspace with the mouse, changes its window in the dialog and deploys it', async function () {
    const paletteNode = page.locator('#red-ui-palette-container-smoke_stream .red-ui-palette-node[data-palette-type="smoke-sliding-window"]');
    await paletteNode.scrollIntoViewIfNeeded();
    const from = (await paletteNode.boundingBox())!;
    const chart = (await page.locator('#red-ui-workspace-chart').boundingBox())!;
    await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
    await page.mouse.down();
    await page.mouse.move(chart.x + 320, chart.y + 180, { steps: 25 });
    await page.mouse.up();

    // The dropped node is drawn on the canvas (its SVG group carries the node id).
    const node = page.locator('#red-ui-workspace-chart g.red-ui-flow-node-group', { hasText: 'sliding window' });
    await node.first().waitFor({ state: 'visible' });
    assert.equal(await node.count(), 1, 'one sliding window on the workspace');
    const id = await node.first().getAttribute('id');
    assert.ok(id, 'the node on the canvas has an id');

    await node.first().locator('.red-ui-flow-node').dblclick();
    const size = page.locator('#node-input-size');
    await size.waitFor({ state: 'visible' });
    assert.equal(await size.inputValue(), '5 minutes', 'the dialog opens with the default window');
    assert.equal(await page.locator('#node-input-slide').inputValue(), '1 minute');
    await size.fill('10 minutes');
    await screenshot(page, '02-sliding-window-dialog.png');
    await page.click('#node-dialog-ok');
    await size.waitFor({ state: 'detached' });
    await page.locator(`[id="${id}"]`, { hasText: '10 minutes' }).waitFor({ state: 'visible' });

    await deploy(page);
    const flows = await deployedFlow(nr!.base);
    const deployed = flows.find((n) => n.id === id);
    assert.ok(deployed, 'the node is in the deployed flow');
    assert.equal(deployed.type, 'smoke-sliding-window');
    assert.equal(deployed.size, '10 minutes');
    assert.equal(deployed.slide, '1 minute');
    await screenshot(page, '03-sliding-window-deployed.png');
  });

  it("imports every example with every node properly configured by the editor's own checks", async function () {
    // A second page of the editor: what is imported there is never deployed.
    const { page: check } = await newPage(browser!);
    await openEditor(check, nr!.base);
    const dir = path.join(root, 'examples');
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      const invalid = await check.evaluate((text) => {
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const RED = (globalThis as any).RED;
        const nodes = JSON.parse(text) as { id: string; type: string }[];
        RED.view.importNodes(nodes, { generateIds: false, addFlow: false });
        const bad: string[] = [];
        for (const n of nodes) {
          const imported = n.type === 'tab' ? RED.nodes.workspace(n.id) : RED.nodes.node(n.id);
          if (!imported) bad.push(`${n.id}: not imported`);
          else if (imported.valid === false) bad.push(`${n.id} (${imported.type}): ${JSON.stringify(imported.validationErrors)}`);
        }
        return bad;
      }, fs.readFileSync(path.join(dir, file), 'utf8'));
      assert.deepEqual(invalid, [], `${file}: nodes the editor marks as not properly configured`);
    }
    await check.close();
  });

  it('says in the dialogs of the stateful nodes where their state goes: the changelog topic behind one kafka in, else the context store or memory', async function () {
    // A page of its own: the examples imported here are never deployed.
    const { page: check } = await newPage(browser!);
    await openEditor(check, nr!.base);
    for (const file of ['01 - Simulated pipeline.json', '02 - Kafka pipeline.json']) {
      await check.evaluate((text) => {
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        (globalThis as any).RED.view.importNodes(JSON.parse(text), { generateIds: false, addFlow: false });
      }, fs.readFileSync(path.join(root, 'examples', file), 'utf8'));
    }
    /** Opens the dialog of node `id`, sets the selects in `set` (id → value), reads `read`, and cancels. */
    async function dialog(id: string, set: Record<string, string>, read: (p: Page) => Promise<Record<string, unknown>>, shot?: string): Promise<Record<string, unknown>> {
      await check.evaluate((nodeId) => {
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const RED = (globalThis as any).RED;
        RED.editor.edit(RED.nodes.node(nodeId));
      }, id);
      await check.locator('#node-dialog-cancel').waitFor({ state: 'visible' });
      for (const [select, value] of Object.entries(set)) await check.selectOption(`#node-input-${select}`, value);
      const out = await read(check);
      if (shot) await screenshot(check, shot);
      await check.click('#node-dialog-cancel');
      await check.locator('#node-dialog-cancel').waitFor({ state: 'detached' });
      return out;
    }
    const note = (p: Page, id = '#node-input-state-here') => p.locator(id).innerText();
    const window = (p: Page) => Promise.all([note(p), p.locator('.smoke-window-context').isVisible(), p.locator('.smoke-window-hold').isVisible()]).then(([text, store, hold]) => ({ text, store, hold }));

    const kafkaWindow = await dialog('ex2-window', {}, window, '03b-window-state-dialog.png');
    assert.match(String(kafkaWindow.text), /smoke_detection_group-ex2-window-changelog/, 'behind kafka in: the changelog topic');
    assert.deepEqual([kafkaWindow.store, kafkaWindow.hold], [false, true], 'no context store row; the hold applies');
    const contextWindow = await dialog('ex2-window', { state: 'context' }, window);
    assert.deepEqual([contextWindow.store, contextWindow.hold], [true, true], 'context store: its row is shown');
    const noneWindow = await dialog('ex2-window', { state: 'none' }, window);
    assert.deepEqual([noneWindow.store, noneWindow.hold], [false, false], 'none: neither the store nor the hold');
    const simWindow = await dialog('ex1-window', {}, window);
    assert.match(String(simWindow.text), /context store.*: 0/, 'without kafka in: auto falls back to the context store');
    assert.equal(simWindow.store, true);
    const missing = await dialog('ex1-window', { state: 'changelog' }, window);
    assert.match(String(missing.text), /exactly one kafka in.*found: 0/i);

    const zscore = await dialog('ex2-zscore', {}, async (p) => ({ text: await note(p) }));
    assert.match(String(zscore.text), /smoke_detection_group-ex2-zscore-changelog/);
    const every = await dialog('ex2-threshold', {}, async (p) => ({ text: await note(p) }));
    assert.match(String(every.text), /emit every keeps no per-device state/i, 'threshold alert in emit: every');
    const change = await dialog('ex2-fire', { emit: 'change' }, async (p) => ({ text: await note(p) }));
    assert.match(String(change.text), /smoke_detection_group-ex2-fire-changelog/, 'fire pattern in emit: change');

    const csv = (p: Page) => note(p, '#node-input-exactlyOnce-here').then((text) => ({ text }));
    assert.match(String((await dialog('ex2-csv-windows', {}, csv, '03c-csv-exactly-once-dialog.png')).text), /exactly once.*smoke_detection_group-ex2-csv-windows-changelog/i);
    assert.match(String((await dialog('ex2-csv-rejects', {}, csv)).text), /rejects are written at least once/i);
    assert.match(String((await dialog('ex2-csv-readings', { exactlyOnce: 'off' }, csv)).text), /^at least once/i);
    assert.match(String((await dialog('ex1-csv-readings', {}, csv)).text), /at least once.*: 0/i);
    await check.close();
  });

  it('imports "01 - Simulated pipeline" from Import ▸ Examples, deploys it, and alerts and window results arrive in the debug sidebar', async function () {
    await page.click('#red-ui-header-button-sidemenu');
    await page.click('#menu-item-import');
    await page.click('#red-ui-tab-red-ui-clipboard-dialog-import-tab-examples a');
    const examples = page.locator('#red-ui-clipboard-dialog-import-tab-examples');
    await examples.locator('.red-ui-treeList-label-text', { hasText: '@smoke-stream/node-red-smoke-stream' }).click();
    const files = examples.locator('.red-ui-treeList-label-text', { hasText: /^0\d - / });
    await files.first().waitFor({ state: 'visible' });
    assert.deepEqual(await files.allInnerTexts(), ['01 - Simulated pipeline', '02 - Kafka pipeline', '03 - Load generator to Kafka', '04 - Replay a CSV file into Kafka']);
    await files.filter({ hasText: '01 - Simulated pipeline' }).click();
    await screenshot(page, '04-import-examples.png');
    await page.click('#red-ui-clipboard-dialog-ok');

    // The example comes as a tab of its own; what a new user sees first is its explaining comment.
    const tab = page.locator('#red-ui-workspace-tabs li', { hasText: 'Smoke stream: simulated pipeline' });
    await tab.waitFor({ state: 'visible' });
    await tab.click();
    await page.locator('[id="ex1-about"]').waitFor({ state: 'visible' });
    await page.locator('[id="ex1-sim"]').waitFor({ state: 'visible' });
    await screenshot(page, '05-example-imported.png');

    await deploy(page);
    const flows = await deployedFlow(nr!.base);
    for (const id of ['ex1-sim', 'ex1-validate', 'ex1-window', 'ex1-debug-alerts']) assert.ok(flows.some((n) => n.id === id), `${id} deployed`);

    await page.locator('#red-ui-tab-debug-link-button').click();
    await page.locator('.red-ui-debug-content-list').waitFor({ state: 'visible' });
    // Click the inject button of "start a fire now": the simulation starts a fire at once.
    const injected = page.waitForResponse((r) => r.url().endsWith('/inject/ex1-fire-now') && r.status() === 200);
    await page.locator('[id="ex1-fire-now"] .red-ui-flow-node-button').click();
    await injected;

    await waitForDebug(page, 'alerts', /severity.*(HIGH|CRITICAL)|(HIGH|CRITICAL).*severity/, 'a HIGH or CRITICAL alert');
    await waitForDebug(page, 'window results', /windowStart.*windowEnd/, 'a window result');
    const texts = await debugMessages(page);
    assert.ok(texts.some((t) => /PATTERN|THRESHOLD/.test(t)), 'the fire raised a threshold or pattern alert');
    await screenshot(page, '06-example-debug-sidebar.png');
  });

  it('leaves no script errors in the page', function () {
    // Failed requests to outside hosts (fonts, the flow library) are not the package's doing: the
    // machine may be offline. Errors of the page's own scripts are.
    const own = consoleErrors.filter((e) => !/ERR_NAME_NOT_RESOLVED|ERR_INTERNET_DISCONNECTED|request failed: https?:\/\/(?!127\.0\.0\.1)/.test(e));
    assert.deepEqual(own, []);
  });
});

/**
 * Opens the dashboard of the demo and waits for window results on its three charts, drawn, and for a
 * HIGH or CRITICAL alert in its table after a click on "Start a fire now".
 */
async function dashboardShowsData(page: Page, base: string, chartFrames: string[]): Promise<void> {
  await page.goto(`${base}/dashboard`);
  await page.locator('text=Window averages per device').waitFor({ state: 'visible', timeout: 60_000 });
  for (const id of ['demo-chart-temp', 'demo-chart-tvoc', 'demo-chart-pm']) await page.locator(`#nrdb-ui-widget-${id}`).waitFor({ state: 'visible' });

  // Window results reach the charts over the dashboard's socket …
  const end = Date.now() + 90_000;
  while (!chartFrames.some((f) => /avgTemperature/.test(f)) && Date.now() < end) await page.waitForTimeout(250);
  assert.ok(chartFrames.some((f) => /avgTemperature/.test(f) && /windowEnd/.test(f)), 'window results sent to the charts');

  // … and are drawn (ECharts on a canvas): coloured series pixels in the plot area of each chart
  // (the grid and the axes are grey).
  await page.waitForFunction(
    () =>
      ['demo-chart-temp', 'demo-chart-tvoc', 'demo-chart-pm'].every((id) => {
        const c = document.querySelector(`#nrdb-ui-widget-${id} canvas`) as HTMLCanvasElement | null;
        const ctx = c?.getContext('2d');
        if (!c || !ctx || c.width === 0) return false;
        const top = Math.floor(c.height * 0.3);
        const data = ctx.getImageData(0, top, c.width, c.height - top).data;
        let coloured = 0;
        for (let i = 0; i < data.length; i += 4) {
          const max = Math.max(data[i], data[i + 1], data[i + 2]);
          const min = Math.min(data[i], data[i + 1], data[i + 2]);
          if (data[i + 3] > 200 && max - min > 100) coloured++;
        }
        return coloured > 150;
      }),
    null,
    { timeout: 60_000, polling: 500 },
  );

  await page.getByRole('button', { name: /Start a fire now/i }).click();
  await page.locator('.nrdb-ui-table td', { hasText: /^(HIGH|CRITICAL)$/ }).first().waitFor({ state: 'visible', timeout: 60_000 });
  const rows = await page.locator('.nrdb-ui-table tbody tr').count();
  assert.ok(rows > 0, 'the alerts table has rows');
}

describe('e2e > the npm start dashboard in a real browser', function () {
  // The first start installs Dashboard 2.0 into the user directory (npm's cache makes it quick after
  // the first time); the demo's window emits its first results within about 30 s.
  this.timeout(300_000);
  let browser: Browser | undefined;
  let demo: Demo | undefined;
  let base: string;

  before(async function () {
    requireBrowser(this);
    [demo, browser] = await Promise.all([startDemo('smoke-stream-e2e-dashboard-userdir'), launchBrowser()]);
    base = demo.base;
    if (!demo.dashboard) {
      // eslint-disable-next-line no-console
      console.log(`    [skip] Dashboard 2.0 is not installed: npm start could not install @flowfuse/node-red-dashboard (offline?):\n${demo.dashboardMissing()}`);
      this.skip();
    }
  });

  after(async function () {
    await browser?.close();
    await demo?.stop();
  });

  it('draws the window averages per device as charts with data, and lists alerts after "Start a fire now"', async function () {
    const { page } = await newPage(browser!);
    const chartFrames: string[] = [];
    page.on('websocket', (ws) => ws.on('framereceived', (f) => {
      const text = String(f.payload);
      if (/msg-input:demo-chart-/.test(text)) chartFrames.push(text);
    }));
    try {
      await dashboardShowsData(page, base, chartFrames);
    } catch (err) {
      await screenshot(page, 'failed-dashboard.png');
      throw err;
    }
    await screenshot(page, '07-dashboard.png');
  });
});
