import { readFileSync } from 'node:fs';
import { createIngestCore } from '../../../lambdas/ingest/core';
import { CDN_ASSETS_URL, DOCS_ASSET_PACKAGES } from '../../../lambdas/ingest/docs';
import { createRegistry } from '../../../schemas';
import { coreWith, get, LIMITS, memoryProducer } from './support';

/** /docs and /redoc as FastAPI serves them; test/localstack/docs-browser.test.ts renders them in Chromium. */
describe('/docs and /redoc', () => {
  const { core } = coreWith();

  test('/docs: FastAPI Swagger UI page on the CDN, over the relative OpenAPI document URL', async () => {
    const { response } = await core(get('/docs'));
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    const html = response.body;
    expect(html).toContain('<title>Data Ingestor API - Swagger UI</title>');
    expect(html).toContain('<div id="swagger-ui">');
    expect(html).toContain(`src="${CDN_ASSETS_URL}swagger-ui-dist@5.35.0/swagger-ui-bundle.js"`);
    expect(html).toContain(`href="${CDN_ASSETS_URL}swagger-ui-dist@5.35.0/swagger-ui.css"`);
    expect(html).toContain("url: 'openapi.json',");
    expect(html).toContain('"dom_id": "#swagger-ui",\n"layout": "BaseLayout",\n"deepLinking": true,');
    expect(html).toContain('SwaggerUIBundle.presets.apis,');
  });

  test('/redoc: FastAPI ReDoc page with Google fonts on the CDN', async () => {
    const { response } = await core(get('/redoc'));
    expect(response.statusCode).toBe(200);
    const html = response.body;
    expect(html).toContain('<title>Data Ingestor API - ReDoc</title>');
    expect(html).toContain('<redoc spec-url="openapi.json"></redoc>');
    expect(html).toContain(
      `<script src="${CDN_ASSETS_URL}redoc@2.5.4/bundles/redoc.standalone.js"> </script>`,
    );
    expect(html).toContain('https://fonts.googleapis.com/css?family=Montserrat');
  });

  test('a trailing slash still finds the document; a local asset base URL replaces the CDN and the fonts', async () => {
    const local = createIngestCore({
      registry: createRegistry(),
      producer: memoryProducer().producer,
      clock: Date.now,
      limits: LIMITS,
      docsAssetsUrl: '/docs-assets/',
    });
    const docs = (await local(get('/docs/'))).response.body;
    expect(docs).toContain("url: '../openapi.json',");
    expect(docs).toContain('src="/docs-assets/swagger-ui-dist@5.35.0/swagger-ui-bundle.js"');
    const redoc = (await local(get('/redoc'))).response.body;
    expect(redoc).toContain('src="/docs-assets/redoc@2.5.4/bundles/redoc.standalone.js"');
    expect(redoc).not.toContain('googleapis');
  });

  test('like FastAPI, the pages are not operations of the OpenAPI document; POST is 405', async () => {
    const document = JSON.parse((await core(get('/openapi.json'))).response.body);
    expect(Object.keys(document.paths)).not.toEqual(expect.arrayContaining(['/docs']));
    expect(Object.keys(document.paths)).not.toEqual(expect.arrayContaining(['/redoc']));
    expect((await core({ ...get('/docs'), method: 'POST' })).response.statusCode).toBe(405);
  });

  test('the CDN versions are the ones package.json pins (the local API serves those files)', () => {
    const { dependencies, devDependencies } = JSON.parse(readFileSync('package.json', 'utf8'));
    for (const [name, version] of Object.entries(DOCS_ASSET_PACKAGES)) {
      expect({ name, version: { ...dependencies, ...devDependencies }[name] }).toEqual({ name, version });
      expect(require(`${name}/package.json`).version).toBe(version);
    }
  });
});
