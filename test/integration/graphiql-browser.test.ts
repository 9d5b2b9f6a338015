/**
 * GraphiQL in real headless Chromium against a real server on a loopback port: the page renders offline (every
 * request stays on the server's origin), opens with the example tabs, and running an example fills the result pane
 * with data from the fixture warehouse. Skipped, with the reason, only when /usr/bin/chromium is absent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../../src/config.ts';
import { startApiServer, type RunningServer } from '../../src/main.ts';
import { EXAMPLE_QUERIES } from '../../src/graphql/graphiql-tabs.ts';
import { writeFixtureWarehouse } from '../helpers/warehouse-fixture.ts';
import { chromiumMissingReason, launchChromium, type LaunchedBrowser } from '../helpers/browser.ts';
import { AGGREGATE_FIXTURE } from '../fixtures/aggregate-flows.ts';

const missing = chromiumMissingReason();
/** Editor text as plain text: the editors render spaces as no-break spaces. */
const plain = (text: string | null) => (text ?? '').replaceAll('\u00a0', ' ');
if (missing) console.warn(`skipping the GraphiQL browser test: ${missing}`);

describe.skipIf(missing !== null)('GraphiQL in headless Chromium', () => {
  let root = '';
  let server: RunningServer;
  let browser: LaunchedBrowser;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'flowql-graphiql-'));
    await writeFixtureWarehouse(root, AGGREGATE_FIXTURE);
    server = await startApiServer(
      parseConfig({}, { dataDir: root, port: 0, host: '127.0.0.1' }),
      pino({ level: 'silent' }),
    );
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('renders offline with the example tabs and runs one into the result pane', async () => {
    const page = await browser.context.newPage();
    const foreign: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(server.url) && !r.url().startsWith('data:') && !r.url().startsWith('blob:'))
        foreign.push(r.url());
    });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));

    await page.goto(`${server.url}/graphql`);
    await page.waitForSelector('.graphiql-container', { timeout: 30_000 });
    const tabs = page.locator('.graphiql-tab-button');
    await expect.poll(() => tabs.allTextContents(), { timeout: 15_000 }).toEqual(EXAMPLE_QUERIES.map((e) => e.name));

    // The tab strip animates into place after load (framer-motion transforms), so a pointer click can land on the
    // wrong tab; dispatching the click on the button is what a user's click does once the strip has settled.
    await tabs.filter({ hasText: 'TopTalkers' }).dispatchEvent('click');
    const activeTab = page.locator('.graphiql-tab-active .graphiql-tab-button');
    await expect.poll(() => activeTab.textContent(), { timeout: 10_000 }).toBe('TopTalkers');
    const editor = page.locator('.graphiql-query-editor');
    await expect
      .poll(async () => plain(await editor.textContent()), { timeout: 10_000 })
      .toContain('query TopTalkers(');
    const result = page.locator('.result-window');
    // GraphiQL learns the operation name from the editor after a debounce; on a loaded machine a click right after
    // the tab switch can still carry the previous tab's name ("Cannot infer operation ..."), an answer that comes
    // from the browser, not the server. Click again, as a user would, until the server's answer is shown.
    await page.click('.graphiql-execute-button');
    await expect
      .poll(
        async () => {
          const shown = plain(await result.textContent());
          if (shown.includes('Cannot infer operation')) await page.click('.graphiql-execute-button');
          return shown;
        },
        { timeout: 30_000, interval: 1000 },
      )
      // The newest fixture day (2024-03-02) has one address pair, 64000 bytes over 1 record.
      .toContain('"label": "10.1.0.1 -> 10.1.0.2"');
    const text = plain(await result.textContent());
    expect(text).toContain('"bytes": "64000"');
    expect(text).not.toContain('"errors"');

    expect(foreign, 'GraphiQL must not fetch anything from the internet').toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('opens clean with the default limits: the schema loads, the Docs panel lists it, no error on screen', async () => {
    const page = await browser.context.newPage();
    const introspection: { status: number; errors: unknown }[] = [];
    page.on('response', async (r) => {
      const body = r.request().postData() ?? '';
      if (!r.url().startsWith(`${server.url}/graphql`) || !body.includes('__schema')) return;
      const json = (await r.json().catch(() => ({}))) as { errors?: unknown };
      introspection.push({ status: r.status(), errors: json.errors ?? null });
    });
    await page.goto(`${server.url}/graphql`);
    await page.waitForSelector('.graphiql-container', { timeout: 30_000 });
    await expect.poll(() => introspection.length, { timeout: 15_000 }).toBeGreaterThan(0);
    expect(introspection[0]).toEqual({ status: 200, errors: null });

    await page.locator('[aria-label="Show Documentation Explorer"]').dispatchEvent('click');
    const docs = page.locator('.graphiql-doc-explorer');
    await expect.poll(async () => plain(await docs.textContent()), { timeout: 10_000 }).toContain('Query');
    await docs.getByText('Query', { exact: true }).first().click();
    await expect.poll(async () => plain(await docs.textContent()), { timeout: 10_000 }).toContain('flowSummary');
    // What the user sees (rendered text, not the page's scripts): no schema error anywhere on the opening screen.
    const screen = plain(await page.locator('body').innerText());
    expect(screen.includes('Error fetching schema'), screen.slice(0, 500)).toBe(false);
    expect(screen.includes('QUERY_TOO_COMPLEX'), screen.slice(0, 500)).toBe(false);
    await page.screenshot({ path: join(root, 'graphiql-opening.png') });
    if (process.env.FLOWQL_SCREENSHOT_DIR)
      await page.screenshot({ path: join(process.env.FLOWQL_SCREENSHOT_DIR, 'graphiql-opening.png') });
    // GraphiQL keeps its tabs in the profile's localStorage: leave the next page the opening state.
    await page.evaluate(() => localStorage.clear());
    await page.close();
  });
});
