/**
 * Helpers for the real-browser tests: Debian's chromium driven by playwright-core, and Node-RED run
 * as a child process with this package installed the way the palette manager installs it (linked
 * into <userDir>/node_modules/@smoke-stream/node-red-smoke-stream).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort, stopProcess, waitForHttp } from './_process';

export const root = path.resolve(__dirname, '..', '..');
export const artifacts = path.join(root, 'test', 'artifacts');
export const CHROMIUM = '/usr/bin/chromium';
const PACKAGE = '@smoke-stream/node-red-smoke-stream';

/**
 * The reason the browser tests cannot run here, or '' when they can. Under CI=true a missing browser
 * is a failure (`.ci/run` installs chromium), elsewhere the suite is skipped with this reason.
 */
export function browserMissing(): string {
  return fs.existsSync(CHROMIUM) ? '' : `${CHROMIUM} not found (apt-get install -y chromium)`;
}

/** Skip a browser test where Debian's chromium is missing; with CI=true fail instead (the browser tests must run there). */
export function requireBrowser(ctx: Mocha.Context): void {
  const missing = browserMissing();
  if (!missing) return;
  if (process.env.CI === 'true') throw new Error(`${missing} (CI=true: the browser tests must run)`);
  // eslint-disable-next-line no-console
  console.log(`    [skip] ${missing}`);
  ctx.skip();
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A page of the size a laptop shows, collecting the page's console errors. */
export async function newPage(browser: Browser): Promise<{ page: Page; consoleErrors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (err) => consoleErrors.push(err.message));
  page.on('requestfailed', (r) => consoleErrors.push(`request failed: ${r.url()} (${r.failure()?.errorText ?? ''})`));
  return { page, consoleErrors };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(artifacts, { recursive: true });
  const file = path.join(artifacts, name);
  await page.screenshot({ path: file });
  return file;
}

export interface NodeRedInstance {
  base: string;
  userDir: string;
  /** Where relative file names of the flow (csv sink folders) resolve. */
  workDir: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Node-RED's `nodesDir`: a folder of extra node files (.js + .html) to load besides the package. */
  nodesDir?: string;
  /** Environment variables of the Node-RED process: a value replaces the inherited one, `undefined` removes it. */
  env?: Record<string, string | undefined>;
}

/**
 * Node-RED 4 from node_modules in a temporary user directory with the package linked in, an empty
 * flow (or `flows`), on a free port. Resolves once the editor answers.
 */
export async function startNodeRed(flows: unknown[] = [], options: StartOptions = {}): Promise<NodeRedInstance> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-browser-'));
  const userDir = path.join(tmp, 'userdir');
  const workDir = path.join(tmp, 'work');
  fs.mkdirSync(workDir, { recursive: true });
  const link = path.join(userDir, 'node_modules', ...PACKAGE.split('/'));
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.symlinkSync(root, link, 'dir');
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows));
  const port = await freePort();
  const settings = path.join(userDir, 'settings.js');
  fs.writeFileSync(
    settings,
    `module.exports = ${JSON.stringify(
      {
        uiPort: port,
        uiHost: '127.0.0.1',
        flowFile: 'flows.json',
        credentialSecret: 'smoke-stream-e2e',
        fileWorkingDirectory: workDir,
        ...(options.nodesDir ? { nodesDir: options.nodesDir } : {}),
        // No update check, no welcome tour: nothing may cover the editor.
        telemetry: { enabled: false },
        editorTheme: { tours: false, projects: { enabled: false } },
        logging: { console: { level: 'info', metrics: false, audit: false } },
      },
      null,
      2,
    )};\n`,
  );
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_RED_ENABLE_PROJECTS: 'false' };
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const child = spawn(process.execPath, [require.resolve('node-red/red.js'), '--userDir', userDir, '--settings', settings], {
    cwd: workDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c) => (out += String(c)));
  child.stderr!.on('data', (c) => (out += String(c)));
  const base = `http://127.0.0.1:${port}`;
  const instance: NodeRedInstance = {
    base,
    userDir,
    workDir,
    child,
    output: () => out,
    stop: async () => {
      await stopProcess(child, 15_000);
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
  try {
    await waitForHttp(`${base}/settings`, 60_000, () => out);
  } catch (err) {
    await instance.stop();
    throw err;
  }
  return instance;
}

/** The deployed flow, from the admin API. */
export async function deployedFlow(base: string): Promise<Record<string, unknown>[]> {
  const r = await fetch(`${base}/flows`, { headers: { Accept: 'application/json', 'Node-RED-API-Version': 'v1' } });
  if (r.status !== 200) throw new Error(`GET /flows: HTTP ${r.status}`);
  return (await r.json()) as Record<string, unknown>[];
}

/** Opens the editor and waits until the palette and the workspace are ready. */
export async function openEditor(page: Page, base: string): Promise<void> {
  await page.goto(base + '/');
  await page.waitForSelector('#red-ui-palette-container .red-ui-palette-node', { state: 'visible', timeout: 60_000 });
  await page.waitForSelector('#red-ui-workspace-chart svg', { state: 'visible' });
  // The header toolbar appears and the loading bar goes once the flows are in.
  await page.waitForSelector('#red-ui-header-button-deploy', { state: 'visible' });
  await page.waitForSelector('#red-ui-loading-progress', { state: 'hidden' });
  await page.waitForSelector('#red-ui-workspace-tabs li', { state: 'visible' });
}

/**
 * Waits until the editor's top tray (an edit dialog) has finished opening. Node-RED builds the dialog,
 * then, a timer later, sizes its panes and focuses its first field; a dialog that fetches credentials
 * (the kafka broker) is built only once they arrive. Done or Cancel clicked before that closes the panes
 * first, and Node-RED's opening step then throws "Cannot read properties of null (reading 'resize')" in
 * the page. A user cannot click that fast; a test can, on a loaded machine: wait for the focus.
 */
export async function trayOpened(page: Page, timeout = 15_000): Promise<void> {
  await page.waitForFunction(
    () => {
      const trays = document.querySelectorAll('#red-ui-editor-stack .red-ui-tray');
      const top = trays[trays.length - 1];
      return !!top && !!document.activeElement && top.contains(document.activeElement);
    },
    undefined,
    { timeout },
  );
}

/**
 * Clicks Deploy and waits for the editor to report success: the "Successfully deployed" notification,
 * and the deploy button back to "nothing to deploy".
 */
export async function deploy(page: Page): Promise<void> {
  const button = page.locator('#red-ui-header-button-deploy:not(.disabled)');
  await button.waitFor({ state: 'visible' });
  const before = await page.locator('.red-ui-notification', { hasText: 'Successfully deployed' }).count();
  await button.click();
  try {
    await page.waitForFunction(
      (n) => Array.from(document.querySelectorAll('.red-ui-notification')).filter((e) => /Successfully deployed/.test(e.textContent ?? '')).length > n,
      before,
      { timeout: 30_000 },
    );
    await page.waitForSelector('#red-ui-header-button-deploy.disabled', { state: 'attached', timeout: 30_000 });
  } catch (err) {
    await screenshot(page, 'failed-deploy.png');
    const dialog = await page.locator('.ui-dialog:visible').allInnerTexts();
    throw new Error(`deploy did not finish${dialog.length ? `; dialog: ${dialog.join(' | ')}` : ''} (${(err as Error).message.split('\n')[0]})`);
  }
}
