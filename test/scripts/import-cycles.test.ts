import { join } from 'node:path';
import { backArrows, importCycles, importGraph } from '../../scripts/import-cycles';

/**
 * The structure stays a tree of layers: no file reaches itself through its imports, and no folder imports
 * one above it (handlers never import lib/ or localstack/, the local platform never imports scripts/).
 */
describe('import graph (npm run imports)', () => {
  const graph = importGraph(join(__dirname, '..', '..'));

  it('reads the tree, type-only imports included', () => {
    expect(graph.get('lambdas/ingest/routes/health.ts')).toContain('lambdas/ingest/http.ts');
    expect(graph.get('lambdas/ingest/core.ts')).toContain('lambdas/ingest/routes/health.ts');
  });

  it('has no import circles', () => {
    expect(importCycles(graph)).toEqual([]);
  });

  it('has no back-arrows between the top-level folders', () => {
    expect(backArrows(graph)).toEqual([]);
  });

  it('finds a circle through several files and a file that imports itself, and a back-arrow', () => {
    const sample = new Map([
      ['lambdas/a.ts', ['lambdas/b.ts']],
      ['lambdas/b.ts', ['lambdas/c.ts', 'schemas/s.ts']],
      ['lambdas/c.ts', ['lambdas/a.ts']],
      ['schemas/s.ts', ['schemas/s.ts', 'lib/l.ts']],
      ['lib/l.ts', []],
    ]);
    expect(importCycles(sample)).toEqual([
      ['lambdas/a.ts', 'lambdas/b.ts', 'lambdas/c.ts'],
      ['schemas/s.ts'],
    ]);
    expect(backArrows(sample)).toEqual([{ from: 'schemas/s.ts', to: 'lib/l.ts' }]);
  });
});
