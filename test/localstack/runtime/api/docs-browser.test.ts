import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Pipeline, startPipeline } from '../../../../localstack/runtime/pipeline';
import { financialTransactions } from '../../../../schemas';
import { exampleRecord } from '../../../lambdas/ingest/support';
import { type Browser, chromiumBinary, launchChromium, type Page } from '../../../support/chromium';
import { createTestBucket, servicesEnv, uniqueName } from '../../../support/services';

/**
 * /docs and /redoc of the local API in a real headless Chromium: every route of the OpenAPI document is
 * rendered, every asset comes from the local API (offline), and Swagger UI's "Try it out" ingests a
 * transaction. Screenshots go to .local/screenshots/ for a look.
 */
jest.setTimeout(180_000);

const binary = chromiumBinary();
if (!binary) {
  console.warn(
    'SKIPPED docs-browser.test.ts: no Chromium binary (run scripts/setup.sh as root, or apt-get install ' +
      'chromium-headless-shell, or set CHROMIUM_BIN)',
  );
}
const suite = binary ? describe : describe.skip;
const SCREENSHOTS = join('.local', 'screenshots');

suite('API docs pages in headless Chromium', () => {
  let pipeline: Pipeline;
  let browser: Browser;
  let operations: { path: string; method: string; operationId: string }[];

  beforeAll(async () => {
    pipeline = await startPipeline({
      services: servicesEnv(),
      apiPort: 0,
      rawBucket: await createTestBucket('docs-raw'),
      quarantineBucket: await createTestBucket('docs-quarantine'),
      groupPrefix: uniqueName('docs-sink'),
    });
    const document = (await (await fetch(`${pipeline.api.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { operationId: string }>>;
    };
    operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ path, method, operationId: op.operationId })),
    );
    browser = await launchChromium(binary as string);
    mkdirSync(SCREENSHOTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await pipeline?.stop();
  });

  const screenshot = async (page: Page, name: string) => {
    const { data } = await page.send<{ data: string }>('Page.captureScreenshot', {
      format: 'png',
      captureBeyondViewport: true,
    });
    writeFileSync(join(SCREENSHOTS, name), Buffer.from(data, 'base64'));
  };

  /**
   * Offline: the page, its scripts, styles and the document come from the local API. Only decoration may
   * try the internet (ReDoc's "API docs by Redocly" logo image), and its failure changes nothing.
   */
  const expectOffline = (page: Page) => {
    const needed = page.requests.filter((r) => r.type !== 'Image' && !r.url.startsWith('data:'));
    expect(new Set(needed.map((r) => new URL(r.url).origin))).toEqual(new Set([pipeline.api.url]));
  };

  test('/docs renders every route, and "Try it out" ingests a transaction', async () => {
    const page = await browser.newPage(`${pipeline.api.url}/docs`);
    const rendered = await page.waitFor<{ path: string; method: string }[]>(
      `(() => {
        const blocks = [...document.querySelectorAll('.opblock')];
        return blocks.length >= ${operations.length} && blocks.map((b) => ({
          path: b.querySelector('.opblock-summary-path').getAttribute('data-path'),
          method: b.querySelector('.opblock-summary-method').textContent.toLowerCase(),
        }));
      })()`,
      'Swagger UI to render every operation',
    );
    expect(rendered).toEqual(
      expect.arrayContaining(operations.map(({ path, method }) => ({ path, method }))),
    );
    expect(rendered).toHaveLength(operations.length);
    expect(await page.evaluate('document.title')).toBe('Data Ingestor API - Swagger UI');
    // Swagger UI shows no warning or error about the document.
    expect(
      await page.evaluate(`[...document.querySelectorAll('.errors-wrapper')].map((e) => e.textContent)`),
    ).toEqual([]);

    const id = uniqueName('docs-txn');
    const body = JSON.stringify({ ...exampleRecord(financialTransactions), transaction_id: id });
    const block = `document.querySelector('#operations-default-ingest_financial_transactions')`;
    await page.evaluate(`${block}.querySelector('.opblock-summary-control').click()`);
    await page.waitFor(`!!${block}.querySelector('.try-out__btn')`, 'the "Try it out" button');
    await page.evaluate(`${block}.querySelector('.try-out__btn').click()`);
    await page.waitFor(`!!${block}.querySelector('textarea.body-param__text')`, 'the editable request body');
    // Types into the React-controlled textarea the way a user's input event does.
    await page.evaluate(`(() => {
      const area = ${block}.querySelector('textarea.body-param__text');
      Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value').set.call(area, ${JSON.stringify(body)});
      area.dispatchEvent(new Event('input', { bubbles: true }));
    })()`);
    await page.evaluate(`${block}.querySelector('button.execute').click()`);
    const status = await page.waitFor<string>(
      `${block}.querySelector('.live-responses-table tr.response .response-col_status')?.textContent.trim()`,
      'the live response',
    );
    const responseText = await page.evaluate<string>(
      `${block}.querySelector('.live-responses-table tr.response .response-col_description pre')?.textContent ?? ''`,
    );
    await screenshot(page, 'docs.png');
    expect(status).toBe('200');
    expect(JSON.parse(responseText)).toEqual({
      message: 'Financial transaction ingested successfully',
      transaction_id: id,
    });
    expectOffline(page);
  });

  test('/redoc renders every route', async () => {
    const page = await browser.newPage(`${pipeline.api.url}/redoc`);
    const sections = await page.waitFor<string[]>(
      `(() => {
        const ids = [...document.querySelectorAll('[data-section-id^="operation/"]')]
          .map((e) => e.getAttribute('data-section-id'));
        return ids.length >= ${operations.length} && ids;
      })()`,
      'ReDoc to render every operation',
    );
    expect(new Set(sections)).toEqual(new Set(operations.map((o) => `operation/${o.operationId}`)));
    expect(await page.evaluate('document.title')).toBe('Data Ingestor API - ReDoc');
    await screenshot(page, 'redoc.png');
    expectOffline(page);
  });
});
