/**
 * The `/docs` (Swagger UI) and `/redoc` pages, with the HTML FastAPI's `get_swagger_ui_html` and
 * `get_redoc_html` produce, so people who used the replaced service find the same pages. The JavaScript and
 * CSS come from `<assetsUrl><package>@<version>/<file>`: jsDelivr's npm layout, which the local API
 * mirrors from node_modules so the pages also work offline.
 */

/** The npm packages the pages load, at the versions package.json pins (a test keeps them equal). */
export const DOCS_ASSET_PACKAGES = { 'swagger-ui-dist': '5.35.0', redoc: '2.5.4' } as const;

/** FastAPI's CDN. */
export const CDN_ASSETS_URL = 'https://cdn.jsdelivr.net/npm/';

export interface DocsPage {
  /** The API's title (the OpenAPI document's `info.title`). */
  readonly title: string;
  /** URL of the OpenAPI document, as the browser should request it. */
  readonly openapiUrl: string;
  /** Base URL of the assets, ending in `/`: CDN_ASSETS_URL on AWS, the local API's mirror locally. */
  readonly assetsUrl: string;
}

const asset = (assetsUrl: string, name: keyof typeof DOCS_ASSET_PACKAGES, file: string) =>
  `${assetsUrl}${name}@${DOCS_ASSET_PACKAGES[name]}/${file}`;

/** FastAPI's `swagger_ui_default_parameters`. */
const SWAGGER_UI_PARAMETERS = {
  dom_id: '#swagger-ui',
  layout: 'BaseLayout',
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
};

export function swaggerUiHtml({ title, openapiUrl, assetsUrl }: DocsPage): string {
  const parameters = Object.entries(SWAGGER_UI_PARAMETERS)
    .map(([key, value]) => `${JSON.stringify(key)}: ${JSON.stringify(value)},\n`)
    .join('');
  return `
    <!DOCTYPE html>
    <html>
    <head>
    <link type="text/css" rel="stylesheet" href="${asset(assetsUrl, 'swagger-ui-dist', 'swagger-ui.css')}">
    <link rel="shortcut icon" href="${asset(assetsUrl, 'swagger-ui-dist', 'favicon-32x32.png')}">
    <title>${title} - Swagger UI</title>
    </head>
    <body>
    <div id="swagger-ui">
    </div>
    <script src="${asset(assetsUrl, 'swagger-ui-dist', 'swagger-ui-bundle.js')}"></script>
    <!-- \`SwaggerUIBundle\` is now available on the page -->
    <script>
    const ui = SwaggerUIBundle({
        url: '${openapiUrl}',
    ${parameters}
    presets: [
        SwaggerUIBundle.presets.apis,
        SwaggerUIBundle.SwaggerUIStandalonePreset
        ],
    })
    </script>
    </body>
    </html>
    `;
}

export function redocHtml({ title, openapiUrl, assetsUrl }: DocsPage): string {
  // FastAPI's with_google_fonts, only when the assets come from a CDN: offline the fonts could not load.
  const fonts = /^https?:\/\//.test(assetsUrl)
    ? `
    <link href="https://fonts.googleapis.com/css?family=Montserrat:300,400,700|Roboto:300,400,700" rel="stylesheet">
    `
    : '';
  return `
    <!DOCTYPE html>
    <html>
    <head>
    <title>${title} - ReDoc</title>
    <!-- needed for adaptive design -->
    <meta charset="utf-8"/>
    <meta name="viewport" content="width=device-width, initial-scale=1">
    ${fonts}
    <link rel="shortcut icon" href="${asset(assetsUrl, 'swagger-ui-dist', 'favicon-32x32.png')}">
    <!--
    ReDoc doesn't change outer page styles
    -->
    <style>
      body {
        margin: 0;
        padding: 0;
      }
    </style>
    </head>
    <body>
    <noscript>
        ReDoc requires Javascript to function. Please enable it to browse the documentation.
    </noscript>
    <redoc spec-url="${openapiUrl}"></redoc>
    <script src="${asset(assetsUrl, 'redoc', 'bundles/redoc.standalone.js')}"> </script>
    </body>
    </html>
    `;
}
