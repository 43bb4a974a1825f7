import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { REPO_ROOT } from './constructs/lambda-function';

/** Resources per stack of a synthesized assembly. */
export function resourcesPerStack(assembly: CloudAssembly): Record<string, number> {
  return Object.fromEntries(
    assembly.stacks.map((s) => [s.stackName, Object.keys(s.template.Resources ?? {}).length]),
  );
}

/** Size in bytes of each Lambda bundle built by esbuild (index.js of its asset), by construct path. */
export function lambdaBundleSizes(assembly: CloudAssembly): Record<string, number> {
  const sizes: Record<string, number> = {};
  for (const stack of assembly.stacks) {
    for (const resource of Object.values<Record<string, any>>(stack.template.Resources ?? {})) {
      const assetPath = resource.Metadata?.['aws:asset:path'];
      const bundle = assetPath && path.join(assembly.directory, assetPath, 'index.js');
      if (resource.Type === 'AWS::Lambda::Function' && bundle && fs.existsSync(bundle)) {
        sizes[resource.Metadata['aws:cdk:path']] = fs.statSync(bundle).size;
      }
    }
  }
  return sizes;
}

export interface CfnLintProblem {
  readonly Level: 'Error' | 'Warning' | 'Informational';
  readonly Rule: { readonly Id: string };
  readonly Message: string;
  readonly Filename: string;
}

/** cfn-lint (from the project's .venv) over the assembly's templates, for the environment's region. */
export function cfnLint(assembly: CloudAssembly, region: string): CfnLintProblem[] {
  const templates = assembly.stacks.map((s) => path.join(assembly.directory, s.templateFile));
  const run = spawnSync(
    path.join(REPO_ROOT, '.venv/bin/cfn-lint'),
    ['--format', 'json', '--regions', region, '--', ...templates],
    { encoding: 'utf8' },
  );
  if (run.error) throw run.error;
  if (!run.stdout.trim()) throw new Error(`cfn-lint produced no report: ${run.stderr}`);
  return JSON.parse(run.stdout) as CfnLintProblem[];
}
