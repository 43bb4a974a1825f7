import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { REPO_ROOT } from '../lib/constructs/lambda-function';

/** Resources per stack of a synthesized assembly. */
export function resourcesPerStack(assembly: CloudAssembly): Record<string, number> {
  return Object.fromEntries(
    assembly.stacks.map((s) => [s.stackName, Object.keys(s.template.Resources ?? {}).length]),
  );
}

interface LambdaJson {
  readonly Type: string;
  readonly Properties?: { readonly FunctionName?: string; readonly Code?: { readonly S3Key?: unknown } };
}

/** Size in bytes of each esbuild bundle (index.js of the function's code asset), by function name. */
export function lambdaBundleSizes(assembly: CloudAssembly): Record<string, number> {
  const sizes: Record<string, number> = {};
  for (const stack of assembly.stacks) {
    for (const [id, resource] of Object.entries<LambdaJson>(stack.template.Resources ?? {})) {
      const key = resource.Properties?.Code?.S3Key;
      if (resource.Type !== 'AWS::Lambda::Function' || typeof key !== 'string') continue;
      const bundle = path.join(assembly.directory, `asset.${key.replace(/\.zip$/, '')}`, 'index.js');
      const name = resource.Properties?.FunctionName;
      if (fs.existsSync(bundle)) sizes[typeof name === 'string' ? name : id] = fs.statSync(bundle).size;
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
