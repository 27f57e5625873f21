/**
 * The demo's dashboard (Dashboard 2.0, as `npm start` installs it) as a person sees it in Debian's
 * chromium, once it has data: the charts' time labels are not cut off, the legend lists the devices
 * in natural order (sensor-1, sensor-2, …, sensor-9, sensor-10) whatever order their first window
 * results came in, and the pipeline-health panel is in view without scrolling, at 1600×1000 and on a
 * 1366×768 laptop, when the alerts table is full.
 *
 * The demo runs as `npm start` runs it (test/e2e/_demo.ts); then this test deploys the same flow with the
 * simulated detectors disabled and two HTTP endpoints of its own on the demo tab, through which it
 * feeds window results into the flow's `window alert` node (whose output 1 feeds the charts) and
 * alerts into its "HIGH and CRITICAL" switch (which feeds the alerts table): the rest of the path to the
 * browser is the demo's own. One page is open while the data comes in (1600×1000), one is opened
 * afterwards (1366×768) and draws what the dashboard kept. What the charts drew is read from their
 * canvas (_dashboard-probe.js). Screenshots go to test/artifacts/dashboard-*.png. Also: the flow's
 * `chart options` function on its own.
 *
 * Without chromium, or offline (Dashboard 2.0 cannot be installed), the suite is skipped with the
 * reason; under CI=true either is a failure.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { deployedFlow, launchBrowser, newPage, root, screenshot, requireBrowser } from './_browser';
import { startDemo, type Demo } from './_demo';

const CHARTS = ['demo-chart-temp', 'demo-chart-tvoc', 'demo-chart-pm'];
const HEALTH_GROUP = '#nrdb-ui-group-smoke-ui-group-health';
/** The order in which the devices' first window results arrive: 3 after 4 and 5 (as in issue 15), 10 before 3 and 9. */
const ARRIVAL = ['sensor-1', 'sensor-2', 'sensor-4', 'sensor-5', 'sensor-10', 'sensor-3', 'sensor-9'];
const NATURAL = ['sensor-1', 'sensor-2', 'sensor-3', 'sensor-4', 'sensor-5', 'sensor-9', 'sensor-10'];
/** Window results per device: 1-minute windows every 10 s, as the demo's window emits them. */
const ROUNDS = 9;
/** More alerts than any sensible table shows at once. */
const ALERTS = 14;
const TIME_LABEL = /^\d{1,2}:\d{2}(:\d{2})?$/;

/* eslint-disable @typescript-eslint/no-explicit-any */
type FlowNode = Record<string, any>;

interface TextBox {
  text: string;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

interface ChartDrawing {
  width: number;
  height: number;
  texts: TextBox[];
  bottomRowInk: number;
  box: { left: number; top: number; right: number; bottom: number };
}

const fmtBox = (b: { left: number; top: number; right: number; bottom: number }) => `[${[b.left, b.top, b.right, b.bottom].map((v) => Math.round(v)).join(', ')}]`;

/** The demo flow as deployed, with its simulated detectors off and the test's two feeding endpoints on the demo tab. */
function feedingFlow(nodes: FlowNode[]): FlowNode[] {
  const sim = nodes.find((n) => n.id === 'demo-sim');
  assert.ok(sim, 'the demo flow has its sensor sim');
  sim.d = true;
  const z = 'smoke-demo-tab';
  const endpoint = (id: string, url: string, target: string, y: number): FlowNode => {
    assert.ok(nodes.some((n) => n.id === target), `the demo flow has ${target}`);
    return { id, type: 'http in', z, name: '', url, method: 'post', upload: false, swaggerDoc: '', x: 120, y, wires: [[target, 'e2e-feed-ok']] };
  };
  return [
    ...nodes,
    endpoint('e2e-feed-window', '/e2e/window', 'demo-window-alert', 900),
    endpoint('e2e-feed-alert', '/e2e/alert', 'demo-alerts-serious', 940),
    { id: 'e2e-feed-ok', type: 'http response', z, name: '', statusCode: '204', headers: {}, x: 320, y: 920, wires: [] },
  ];
}

async function deployFlow(base: string, nodes: FlowNode[]): Promise<void> {
  const r = await fetch(`${base}/flows`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Node-RED-API-Version': 'v1', 'Node-RED-Deployment-Type': 'full' },
    body: JSON.stringify(nodes),
  });
  assert.equal(r.status, 204, `deploy: HTTP ${r.status} ${await r.text()}`);
}

async function post(base: string, url: string, payload: unknown): Promise<void> {
  const r = await fetch(base + url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(payload) });
  assert.equal(r.status, 204, `POST ${url}: HTTP ${r.status}`);
}

/** A quiet window result of `deviceId` (CONTRACT §5), ending at `end`. */
function windowResult(deviceId: string, end: number, i: number): Record<string, unknown> {
  const n = Number(deviceId.replace(/\D/g, ''));
  return {
    deviceId,
    windowStart: end - 60_000,
    windowEnd: end,
    count: 60,
    fireAlarmCount: 0,
    avgTemperature: 17 + n * 0.4 + 0.05 * i,
    avgHumidity: 48,
    avgTvoc: 40 + 8 * n - i,
    avgEco2: 420,
    avgPm25: 0.8 + 0.1 * n,
    avgPressure: 938,
    maxTemperature: 18 + n * 0.4,
    minTemperature: 16 + n * 0.4,
    stddevTemperature: 0.2,
    final: true,
  };
}

/** HIGH and CRITICAL alerts (CONTRACT §4) as the demo's detectors raise them during a fire, the last one of sensor-9. */
function alerts(now: number): Record<string, unknown>[] {
  const iso = (t: number) => new Date(t).toISOString();
  const kinds = [
    { type: 'THRESHOLD', severity: 'CRITICAL', sensor: 'pm2_5', value: 97.32, threshold: 50, message: 'pm2_5 97.32 > 50 (CRITICAL)' },
    { type: 'THRESHOLD', severity: 'CRITICAL', sensor: 'tvoc', value: 2545, threshold: 2000, message: 'tvoc 2545 > 2000 (CRITICAL)' },
    { type: 'PATTERN', severity: 'CRITICAL', sensor: 'firePattern', value: 3, threshold: 3, message: 'fire pattern: tvoc, eco2, pm2_5 (CRITICAL)', indicators: ['tvoc', 'eco2', 'pm2_5'] },
    { type: 'STATISTICAL', severity: 'HIGH', sensor: 'rawH2', value: 12836, threshold: 4, zScore: 4.00217, message: 'rawH2 12836: z 4.00217 > 4 (HIGH; mean 12805.4, σ 7.65086)' },
    { type: 'THRESHOLD', severity: 'HIGH', sensor: 'avgEco2', value: 1685.19, threshold: 1000, message: `avgEco2 1685.19 > 1000 (HIGH) in window ${iso(now - 60_000)} – ${iso(now)}` },
    { type: 'THRESHOLD', severity: 'NORMAL', sensor: 'pm2_5', value: 1.33, threshold: 50, message: 'pm2_5 1.33 back to normal (was CRITICAL)', cleared: true, details: { was: 'CRITICAL' } },
  ];
  return Array.from({ length: ALERTS }, (_, i) => ({
    ...kinds[i % kinds.length],
    deviceId: i === ALERTS - 1 ? 'sensor-9' : `sensor-${1 + (i % 4)}`,
    timestamp: now - (ALERTS - i) * 1000,
  }));
}

async function chartDrawing(page: Page, id: string): Promise<ChartDrawing> {
  const d = (await page.evaluate((chartId) => (window as any).smokeDashboardProbe.chart(chartId), id)) as ChartDrawing | null;
  assert.ok(d, `the chart ${id} is mounted`);
  return d;
}

/** The legend's entries as a person reads them: row by row, left to right. */
function legendOrder(d: ChartDrawing): string[] {
  const entries = d.texts.filter((t) => NATURAL.includes(t.text)).sort((a, b) => (Math.abs(a.top - b.top) > 4 ? a.top - b.top : a.left - b.left));
  return entries.map((t) => t.text);
}

/** Opens the dashboard (with the probe) and waits until its charts are mounted. */
async function openDashboard(page: Page, base: string): Promise<void> {
  await page.addInitScript({ path: path.join(__dirname, '_dashboard-probe.js') });
  await page.goto(`${base}/dashboard`);
  await page.locator(HEALTH_GROUP).waitFor({ state: 'visible', timeout: 60_000 });
  await page.waitForFunction((ids) => ids.every((id) => (window as any).smokeDashboardProbe.chart(id)), CHARTS, { timeout: 30_000, polling: 100 });
}

/** Waits until every chart shows a legend entry for every device and time labels, and the table the newest alert first. */
async function waitForData(page: Page, newestAlert: string): Promise<void> {
  await page.waitForFunction(
    ([ids, devices]) =>
      ids.every((id) => {
        const d = (window as any).smokeDashboardProbe.chart(id);
        return devices.every((name) => d.texts.some((t: TextBox) => t.text === name)) && d.texts.filter((t: TextBox) => /^\d{1,2}:\d{2}/.test(t.text)).length >= 2;
      }),
    [CHARTS, NATURAL] as const,
    { timeout: 30_000, polling: 250 },
  );
  await page.locator('.nrdb-ui-table tbody tr').first().filter({ hasText: newestAlert }).waitFor({ state: 'visible', timeout: 30_000 });
}

describe('e2e > the demo dashboard in a real browser', function () {
  // The first start installs Dashboard 2.0 (about a minute from npm's cache); later runs take about 25 s.
  this.timeout(300_000);
  let demo: Demo | undefined;
  let browser: Browser | undefined;
  /** Open while the data came in (1600×1000), and opened afterwards (1366×768, from what the dashboard kept). */
  const pages: { name: string; page: Page }[] = [];

  before(async function () {
    requireBrowser(this);
    [demo, browser] = await Promise.all([startDemo('smoke-stream-e2e-dashboard-layout-userdir'), launchBrowser()]);
    if (!demo.dashboard) {
      const why = `Dashboard 2.0 is not installed: npm start could not install @flowfuse/node-red-dashboard (offline?):\n${demo.dashboardMissing()}`;
      if (process.env.CI === 'true') throw new Error(`${why} (CI=true: the dashboard test must run)`);
      // eslint-disable-next-line no-console
      console.log(`    [skip] ${why}`);
      this.skip();
    }
    await deployFlow(demo.base, feedingFlow(await deployedFlow(demo.base)));
    const live = (await newPage(browser)).page;
    pages.push({ name: 'live', page: live });
    try {
      await openDashboard(live, demo.base);
      // Window results of 7 devices, every 10 s over the last 90 s, the first of each in ARRIVAL's order.
      const now = Date.now();
      const last = now - (now % 10_000);
      for (let i = 0; i < ROUNDS; i++) {
        for (const device of ARRIVAL) await post(demo.base, '/e2e/window', windowResult(device, last - (ROUNDS - 1 - i) * 10_000, i));
      }
      const fed = alerts(now);
      for (const a of fed) await post(demo.base, '/e2e/alert', a);
      const newest = String(fed[fed.length - 1].message);
      await waitForData(live, newest);
      await screenshot(live, 'dashboard-1600x1000.png');

      const later = await browser.newPage({ viewport: { width: 1366, height: 768 } });
      pages.push({ name: 'loaded later', page: later });
      await openDashboard(later, demo.base);
      await waitForData(later, newest);
      await screenshot(later, 'dashboard-1366x768.png');
    } catch (err) {
      for (const { name, page } of pages) await screenshot(page, `failed-dashboard-${name.replace(/ /g, '-')}.png`);
      throw err;
    }
  });

  after(async function () {
    await browser?.close();
    await demo?.stop();
  });

  it('draws every time label of the x axes inside its chart (none cut off by the canvas edge)', async function () {
    const problems: string[] = [];
    for (const { name, page } of pages) {
      for (const id of CHARTS) {
        const d = await chartDrawing(page, id);
        const labels = d.texts.filter((t) => TIME_LABEL.test(t.text));
        if (labels.length < 2) problems.push(`${name}, ${id}: ${labels.length} time labels drawn`);
        for (const t of labels) {
          if (t.left < 0 || t.top < 0 || t.right > d.width || t.bottom > d.height) {
            problems.push(`${name}, ${id}: "${t.text}" at ${fmtBox(t)} is outside the ${d.width}×${d.height} chart`);
          }
        }
        if (d.bottomRowInk > 0) problems.push(`${name}, ${id}: ${d.bottomRowInk} pixels drawn on the chart's bottom edge (cut off there)`);
        const widget = await page.locator(`#nrdb-ui-widget-${id}`).boundingBox();
        assert.ok(widget, `${id} is shown`);
        if (d.box.bottom > widget.y + widget.height + 0.5 || d.box.right > widget.x + widget.width + 0.5) problems.push(`${name}, ${id}: the chart ${fmtBox(d.box)} overflows its widget`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('lists the devices in the legend in natural order (sensor-1, sensor-2, … sensor-9, sensor-10), not in the order their first results came in', async function () {
    for (const { name, page } of pages) {
      for (const id of CHARTS) assert.deepEqual(legendOrder(await chartDrawing(page, id)), NATURAL, `the legend of ${id} (${name})`);
    }
  });

  /** The health panel is inside the window of `page`, which is not scrolled. */
  async function healthInView(page: Page): Promise<void> {
    const view = page.viewportSize()!;
    assert.equal(await page.evaluate(() => window.scrollY), 0, 'the page is not scrolled');
    const box = await page.locator(HEALTH_GROUP).boundingBox();
    assert.ok(box, 'the health panel is shown');
    const where = `the health panel at ${fmtBox({ left: box.x, top: box.y, right: box.x + box.width, bottom: box.y + box.height })} in a ${view.width}×${view.height} window`;
    assert.ok(box.y >= 0 && box.y + box.height <= view.height && box.x >= 0 && box.x + box.width <= view.width, where);
    for (const label of ['readings/s', 'invalid readings/s', 'Kafka consumer lag']) {
      assert.ok(await page.locator(HEALTH_GROUP, { hasText: label }).isVisible(), `the health panel shows "${label}"`);
    }
  }

  it('shows the latest alerts in a table of bounded length, not every alert', async function () {
    for (const { name, page } of pages) {
      const rows = await page.locator('.nrdb-ui-table tbody tr').count();
      assert.ok(rows >= 1 && rows < ALERTS, `the alerts table (${name}) shows the latest few of ${ALERTS} alerts, not all: ${rows} rows`);
    }
  });

  it('keeps the pipeline-health panel in view at 1600×1000 without scrolling, with the alerts table full', async function () {
    await healthInView(pages[0].page);
  });

  it('keeps the pipeline-health panel in view on a 1366×768 laptop screen too', async function () {
    await healthInView(pages[1].page);
  });
});

describe('e2e > the demo dashboard > the chart options function', function () {
  const demoFlow: FlowNode[] = JSON.parse(fs.readFileSync(path.join(root, 'flows', 'flows.json'), 'utf8'));
  const node = demoFlow.find((n) => n.id === 'demo-chart-options');

  /** The function as Node-RED runs it, on a context that outlives it (as the flow's context store does); `start` runs its On Start code. */
  function runner(store: Record<string, unknown> = {}) {
    assert.ok(node, 'flows/flows.json has demo-chart-options');
    const context = { get: (k: string) => store[k], set: (k: string, v: unknown) => (store[k] = v) };
    const fn = new Function('msg', 'context', node.func);
    new Function('context', node.initialize)(context);
    return { store, send: (payload: unknown) => fn({ payload }, context) };
  }
  const legendOf = (out: any) => (Array.isArray(out) ? out[0][0].ui_update.chartOptions.legend.data : null);
  const result = (deviceId: string) => ({ deviceId, windowEnd: 1_000, avgTemperature: 20 });

  it('sends the legend in natural order, without a payload, before the first result of each device, and passes every result on', function () {
    const r = runner();
    const legends: string[][] = [];
    for (const id of ['sensor-2', 'sensor-10', 'sensor-1', 'sensor-2', 'sensor-9']) {
      const out = r.send(result(id));
      const data = Array.isArray(out) ? out[0][1] : out;
      assert.equal(data.payload.deviceId, id, 'the result goes on');
      if (Array.isArray(out)) {
        assert.equal(out[0][0].payload, undefined, 'the options message has no payload');
        assert.deepEqual(out[0][0].ui_update.chartOptions.grid, { bottom: 28 });
        legends.push(legendOf(out));
      }
    }
    assert.deepEqual(legends, [['sensor-2'], ['sensor-2', 'sensor-10'], ['sensor-1', 'sensor-2', 'sensor-10'], ['sensor-1', 'sensor-2', 'sensor-9', 'sensor-10']]);
  });

  it('sends the whole list again after a restart (the chart forgets it), never a shorter one (the chart merges lists index by index)', function () {
    const first = runner();
    for (const id of ['sensor-3', 'sensor-1', 'sensor-2']) first.send(result(id));
    const restarted = runner(first.store);
    assert.deepEqual(legendOf(restarted.send(result('sensor-2'))), ['sensor-1', 'sensor-2', 'sensor-3']);
    assert.ok(!Array.isArray(restarted.send(result('sensor-2'))), 'once per device and run');
  });

  it('takes a batch of results (an array) as one message', function () {
    const out = runner().send([result('b-2'), result('b-11'), result('a-1')]);
    assert.deepEqual(legendOf(out), ['a-1', 'b-2', 'b-11']);
    assert.equal(out[0][1].payload.length, 3);
  });
});
