/**
 * The CDK app: `cdk synth|deploy -c env=dev|staging|prod` (default dev). cdk-nag runs as a validation
 * plugin: any finding not acknowledged (with its reason, on its construct) fails synth.
 */
import { buildLakehouse, newApp } from '../lib/app';

const app = newApp();
buildLakehouse(app, {
  env: app.node.tryGetContext('env') ?? 'dev',
  confirmDestroyData: app.node.tryGetContext('confirmDestroyData'),
});
app.synth();
