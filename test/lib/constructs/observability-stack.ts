import { App, aws_apigateway as apigw, aws_lambda as lambda, Stack } from 'aws-cdk-lib';

/** A bare stack with an API and two functions, the sources the observability constructs read. */
export function observedStack() {
  const stack = new Stack(new App(), 'Observed', { env: { account: '123456789012', region: 'eu-west-1' } });
  const fn = (id: string) =>
    new lambda.Function(stack, id, {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    });
  const api = new apigw.RestApi(stack, 'Api');
  api.root.addMethod('GET');
  return { stack, api, ingest: fn('Ingest'), sink: fn('Sink') };
}
