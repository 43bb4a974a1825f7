#!/usr/bin/env bash
# Deploys the data-lake stack with cdklocal into the LocalStack of docker-compose.yml (needs Docker):
#   docker compose -f localstack/compose/docker-compose.yml up -d --wait localstack
#   bash localstack/compose/cdklocal.sh [stack id, default Data (the data-lake stack)]
# The stacks are synthesized for `dev` with its account overridden to LocalStack's (000000000000).
set -euo pipefail
cd "$(dirname "$0")/../.."
STACKS=${1:-Data}
export LAKEHOUSE_DEV_ACCOUNT=000000000000 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=eu-west-1 AWS_ENDPOINT_URL=http://127.0.0.1:4566
# cdklocal wraps the project's own CDK CLI (aws-cdk in package.json).
cdklocal() { npx --yes --package=aws-cdk-local@3.0.4 cdklocal "$@"; }
cdklocal bootstrap "aws://000000000000/$AWS_REGION" -c env=dev
cdklocal deploy "$STACKS" -c env=dev --require-approval never
