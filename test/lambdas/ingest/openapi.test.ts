import { DATASETS } from '../../../schemas';
import { batchRouteOf, openApiDocument } from '../../../schemas/api/openapi';

const doc = openApiDocument(DATASETS, {
  maxBodyBytes: 1_048_576,
  maxBatchRecords: 500,
}) as {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
  components: { schemas: Record<string, Record<string, unknown>> };
};

function refs(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) refs(item, found);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') found.push(value);
      else refs(value, found);
    }
  }
  return found;
}

test('every $ref resolves to a component schema', () => {
  const all = refs(doc);
  expect(all.length).toBeGreaterThan(20);
  for (const ref of all) {
    expect(ref).toMatch(/^#\/components\/schemas\//);
    expect(doc.components.schemas[ref.split('/').pop() as string]).toBeDefined();
  }
});

test('one record schema, single route and batch route per dataset, derived from the registry', () => {
  expect(doc.openapi).toBe('3.1.0');
  for (const d of DATASETS) {
    const schema = doc.components.schemas[d.title];
    expect(Object.keys(schema?.properties as object)).toEqual(Object.keys(d.fields));
    expect(schema?.$schema).toBeUndefined();
    expect(Object.keys(doc.paths[d.route]?.post?.responses ?? {}).sort()).toEqual([
      '200',
      '400',
      '413',
      '415',
      '422',
      '503',
    ]);
    expect(Object.keys(doc.paths[batchRouteOf(d)]?.post?.responses ?? {}).sort()).toEqual([
      '200',
      '207',
      '400',
      '413',
      '415',
      '422',
      '503',
    ]);
  }
});
