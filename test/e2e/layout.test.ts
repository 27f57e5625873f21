/**
 * The demo flow (flows/flows.json) and every example (examples/*.json) as a person first sees them: imported
 * into a real Node-RED editor in Debian's chromium, deployed, at 100 % zoom in a 1600×1000 window with
 * the palette and the sidebar open. Each tab must read at a glance:
 *   - no node's box overlaps another node's box (a debug node on top of a csv sink, a comment over a wire's end);
 *   - no node's status (drawn below the node) overlaps another node or another status;
 *   - the flow fits the visible canvas: nothing lies right of (or left of) what the window shows.
 * Geometry is read from the editor's SVG (`g.red-ui-flow-node-group`, its `rect.red-ui-flow-node` and
 * its status group). Statuses are the ones the running flow shows after deploy; a node of this package
 * (or a debug node writing its status) that has not shown one yet gets a typical status text
 * (`PLACEHOLDER_STATUS`), so that the room a status will need is checked too (in the Kafka examples
 * nothing flows without a broker). A screenshot of each tab goes to test/artifacts/layout-*.png.
 *
 * The demo's Dashboard 2.0 widgets are drawn by a stand-in (_dashboard-stub/), sized as the real ones.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { deploy, launchBrowser, newPage, openEditor, root, screenshot, startNodeRed, type NodeRedInstance, requireBrowser } from './_browser';

/** A status text as long as the longest usual ones of this package's nodes ("rows 12,345", "17 alerts, last HIGH"). */
const PLACEHOLDER_STATUS = '1.2k alerts, last CRITICAL';

interface Flow {
  /** What the failures and the screenshot call it. */
  name: string;
  file: string;
  nodes: { id: string; type: string; z?: string; label?: string }[];
}

const flows: Flow[] = [
  { name: 'demo', file: path.join(root, 'flows', 'flows.json') },
  ...fs
    .readdirSync(path.join(root, 'examples'))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ name: f.replace(/\.json$/, ''), file: path.join(root, 'examples', f) })),
].map((f) => ({ ...f, nodes: JSON.parse(fs.readFileSync(f.file, 'utf8')) }));

interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

interface Shown {
  id: string;
  /** "type "label"" for the messages. */
  what: string;
  node: Box;
  status: Box | null;
  statusText: string;
  placeholder: boolean;
}

interface Geometry {
  zoom: number;
  canvas: Box;
  nodes: Shown[];
}


/** The overlap of two boxes in px² (0 when they only touch or are apart). */
function overlap(a: Box, b: Box): number {
  const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
  const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
  return w > 0.5 && h > 0.5 ? w * h : 0;
}

const fmt = (b: Box) => `[${Math.round(b.left)},${Math.round(b.top)} – ${Math.round(b.right)},${Math.round(b.bottom)}]`;

/** Every broken layout rule of one tab, as sentences. */
function layoutProblems(g: Geometry): string[] {
  const problems: string[] = [];
  if (Math.abs(g.zoom - 1) > 1e-6) problems.push(`the editor is at ${Math.round(g.zoom * 100)} % zoom, not 100 %`);
  const n = g.nodes;
  for (let i = 0; i < n.length; i++) {
    for (let j = i + 1; j < n.length; j++) {
      if (overlap(n[i].node, n[j].node) > 0) problems.push(`${n[i].what} ${fmt(n[i].node)} overlaps ${n[j].what} ${fmt(n[j].node)}`);
    }
  }
  for (const a of n) {
    if (!a.status) continue;
    const whose = `the status "${a.statusText}"${a.placeholder ? ' (a typical text)' : ''} of ${a.what} ${fmt(a.status)}`;
    for (const b of n) {
      if (b === a) continue;
      if (overlap(a.status, b.node) > 0) problems.push(`${whose} is hidden by ${b.what} ${fmt(b.node)}`);
      if (b.status && b.id > a.id && overlap(a.status, b.status) > 0) problems.push(`${whose} overlaps the status of ${b.what} ${fmt(b.status)}`);
    }
  }
  const all = n.flatMap((x) => (x.status ? [x.node, x.status] : [x.node]));
  if (all.length > 0) {
    const left = Math.min(...all.map((b) => b.left));
    const right = Math.max(...all.map((b) => b.right));
    const width = g.canvas.right - g.canvas.left;
    if (right - left > width) problems.push(`the flow is ${Math.round(right - left)} px wide, the visible canvas ${Math.round(width)} px`);
    for (const x of n) {
      const edge = Math.max(x.node.right, x.status?.right ?? -Infinity);
      if (edge > g.canvas.right) problems.push(`${x.what} reaches ${Math.round(edge - g.canvas.right)} px beyond the right edge of the visible canvas`);
      if (x.node.left < g.canvas.left) problems.push(`${x.what} starts ${Math.round(g.canvas.left - x.node.left)} px left of the visible canvas`);
    }
  }
  return problems;
}

/** Shows tab `tab` at 100 % zoom scrolled to its top left corner, and reads what the editor drew. */
async function measure(page: Page, tab: string, placeholder: string): Promise<Geometry> {
  await page.evaluate(
    ([tabId, text]) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const RED = (globalThis as any).RED;
      RED.workspaces.show(tabId);
      RED.actions.invoke('core:zoom-reset');
      const chart = document.getElementById('red-ui-workspace-chart')!;
      chart.scrollLeft = 0;
      chart.scrollTop = 0;
      // A node that will show a status but has not yet: a typical one, to check the room it needs.
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      RED.nodes.eachNode((n: any) => {
        if (n.z !== tabId || n.status) return;
        const shows = (typeof n.type === 'string' && n.type.startsWith('smoke-')) || (n.type === 'debug' && n.tostatus === true);
        if (!shows) return;
        n.status = { fill: 'blue', shape: 'dot', text };
        n._placeholderStatus = true;
        n.dirtyStatus = true;
        n.dirty = true;
      });
      RED.view.redraw(true);
    },
    [tab, placeholder] as const,
  );
  // Let the redraw and the zoom settle (the editor draws on animation frames).
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  return page.evaluate((tabId) => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const RED = (globalThis as any).RED;
    const chart = document.getElementById('red-ui-workspace-chart')!;
    const c = chart.getBoundingClientRect();
    // (No named helper functions in here: tsx would wrap them in a __name() the page does not have.)
    const nodes: Shown[] = [];
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    RED.nodes.eachNode((n: any) => {
      if (n.z !== tabId) return;
      const g = document.getElementById(n.id);
      const body = g?.querySelector('rect.red-ui-flow-node');
      if (!g || !body) return;
      const statusGroup = g.querySelector('.red-ui-flow-node-status-group') as SVGGElement | null;
      const background = statusGroup?.querySelector('.red-ui-flow-node-status-background');
      const shown = statusGroup && statusGroup.style.display !== 'none' && background;
      const s = shown ? background.getBoundingClientRect() : null;
      const status = s ? { left: s.left, top: s.top, right: s.right, bottom: s.bottom } : null;
      const b = body.getBoundingClientRect();
      const label = (g.querySelector('.red-ui-flow-node-label')?.textContent ?? '').trim();
      nodes.push({
        id: n.id,
        what: `${n.type} "${label || n.id}"`,
        node: { left: b.left, top: b.top, right: b.right, bottom: b.bottom },
        status: status && status.right - status.left > 1 ? status : null,
        statusText: n.status?.text ?? '',
        placeholder: n._placeholderStatus === true,
      });
    });
    return {
      zoom: RED.view.scale(),
      // The visible part of the canvas: the chart without its scroll bars.
      canvas: { left: c.left, top: c.top, right: c.left + chart.clientWidth, bottom: c.top + chart.clientHeight },
      nodes,
    };
  }, tab);
}

describe('e2e > the demo and every example read at a glance at 100 % zoom in a 1600×1000 window', function () {
  this.timeout(90_000);
  let nr: NodeRedInstance | undefined;
  let browser: Browser | undefined;
  let page: Page;

  before(async function () {
    requireBrowser(this);
    assert.ok(fs.existsSync(path.join(root, 'dist', 'nodes')), 'build first (node scripts/build.js)');
    [nr, browser] = await Promise.all([
      // No Kafka: the Kafka examples show their "broker config" status and connect nowhere.
      startNodeRed([], { nodesDir: path.join(__dirname, '_dashboard-stub'), env: { KAFKA_BOOTSTRAP_SERVERS: undefined } }),
      launchBrowser(),
    ]);
    ({ page } = await newPage(browser));
    await openEditor(page, nr.base);
    for (const f of flows) {
      const missing = await page.evaluate((nodes) => {
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const RED = (globalThis as any).RED;
        RED.view.importNodes(nodes, { generateIds: false, addFlow: false });
        return nodes.filter((n) => (n.type === 'tab' ? !RED.nodes.workspace(n.id) : !RED.nodes.node(n.id))).map((n) => n.id);
      }, f.nodes);
      assert.deepEqual(missing, [], `${f.name}: nodes not imported`);
    }
    await deploy(page);
    // The simulated pipelines run: wait until their readings reach the CSV files, so the statuses shown
    // are the running ones.
    await page.waitForFunction(
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      () => ['demo-csv-readings', 'ex1-csv-readings'].every((id) => (globalThis as any).RED.nodes.node(id)?.status?.text),
      null,
      { timeout: 30_000, polling: 200 },
    );
    // The import and deploy notifications would cover the flows in the screenshots.
    await page.addStyleTag({ content: '.red-ui-notification { display: none !important; }' });
  });

  after(async function () {
    await browser?.close();
    await nr?.stop();
  });

  for (const f of flows) {
    for (const tab of f.nodes.filter((n) => n.type === 'tab')) {
      const title = f.nodes.filter((n) => n.type === 'tab').length > 1 ? `${f.name} (tab "${tab.label}")` : f.name;
      it(`${title}: no node overlaps another, no status is hidden, the flow fits the visible canvas`, async function () {
        const g = await measure(page, tab.id, PLACEHOLDER_STATUS);
        const slug = `${f.name}-${tab.id}`.toLowerCase().replace(/[^a-z0-9]+/g, '-');
        await screenshot(page, `layout-${slug}.png`);
        assert.ok(g.nodes.length > 0, 'the tab shows its nodes');
        const problems = layoutProblems(g);
        if (problems.length > 0) assert.fail(`${title} (see test/artifacts/layout-${slug}.png):\n  ${problems.join('\n  ')}`);
      });
    }
  }
});
