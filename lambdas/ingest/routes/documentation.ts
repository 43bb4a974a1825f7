import type { RegisteredDataset } from '../../../schemas';
import { OPENAPI_ROUTE, openApiDocument } from '../../../schemas/api/openapi';
import type { IngestLimits } from '../config';
import { type DocsPage, redocHtml, swaggerUiHtml } from '../docs';
import type { HttpRequest, IngestResult } from '../http';
import { JSON_HEADERS } from '../reply';

/** GET /openapi.json, /docs and /redoc: the document is built once, on first request. */
export class Documentation {
  private document: { info: { title: string } } | undefined;
  private documentBody: string | undefined;

  constructor(
    private readonly datasets: readonly RegisteredDataset[],
    private readonly limits: IngestLimits,
    private readonly assetsUrl: string,
  ) {}

  private openapi() {
    this.document ??= openApiDocument(
      this.datasets.map((d) => d.definition),
      this.limits,
    ) as { info: { title: string } };
    return this.document;
  }

  openapiJson(): IngestResult {
    this.documentBody ??= JSON.stringify(this.openapi());
    return { response: { statusCode: 200, headers: { ...JSON_HEADERS }, body: this.documentBody } };
  }

  swaggerUi(request: HttpRequest): IngestResult {
    return this.page(swaggerUiHtml, request);
  }

  redoc(request: HttpRequest): IngestResult {
    return this.page(redocHtml, request);
  }

  /** A docs page; the document's URL is relative, so it resolves under API Gateway's stage path too. */
  private page(render: (page: DocsPage) => string, request: HttpRequest): IngestResult {
    return {
      response: {
        statusCode: 200,
        headers: { 'content-type': 'text/html; charset=utf-8' },
        body: render({
          title: this.openapi().info.title,
          openapiUrl: `${request.path.endsWith('/') ? '../' : ''}${OPENAPI_ROUTE.slice(1)}`,
          assetsUrl: this.assetsUrl,
        }),
      },
    };
  }
}
