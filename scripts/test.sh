#!/usr/bin/env bash
# The whole test suite: type-check, lint, TypeScript tests (jest) and Python tests (pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --for test
npx tsc --noEmit -p tsconfig.json
npx biome check .
# One real Kafka broker and AWS emulator (moto: the tests need its Glue) on free ports for every test runner
# below; stopped on exit, and by their watchdog should this shell be killed outright (--owner).
SERVICES_DIR=.local/test-run-$$
trap 'npx tsx localstack/services/cli.ts stop --dir "$SERVICES_DIR" || true; rm -rf "$SERVICES_DIR"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
SERVICES_ENV=$(npx tsx localstack/services/cli.ts start --dir "$SERVICES_DIR" --kafka-port free --aws-port free \
  --emulator moto --owner $$ --fresh --print-env)
eval "$SERVICES_ENV"
npx jest --ci
# Python tests (pytest): the Spark jobs in local mode against the same emulator, then the DAG integrity test
# on MWAA's Airflow. Any non-zero exit fails the suite, pytest's 5 ("no tests collected") included.
.venv/bin/python -m pytest -q -p no:cacheprovider --durations=8 test/glue-scripts
.venv-airflow/bin/python -m pytest -q -p no:cacheprovider test/dags
