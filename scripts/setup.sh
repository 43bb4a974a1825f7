#!/usr/bin/env bash
# Installs everything the platform and its tests need, idempotently, into ignored folders of the
# repository: node_modules (npm ci), .venv (Python), .cache (Maven artifacts: Kafka, Spark jars).
# A step whose inputs have not changed since it last succeeded is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
mkdir -p .cache

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
# stamp NAME FILE...: true when FILE... are unchanged since `mark NAME` last ran.
stamp_of() { cat "$@" | sha256sum | cut -c1-16; }
fresh() { local name=$1; shift; [ -f ".cache/$name.stamp" ] && [ "$(cat ".cache/$name.stamp")" = "$(stamp_of "$@")" ]; }
mark() { local name=$1; shift; stamp_of "$@" >".cache/$name.stamp"; }

if [ ! -d node_modules ] || ! fresh npm package-lock.json; then
  step "npm ci"
  # Some registry mirrors lack other platforms' optional binaries (e.g. @biomejs/cli-android-*), and
  # npm ci then refuses the lock file; npm install --no-save installs the same locked versions.
  npm ci --no-audit --no-fund 2>/dev/null || npm install --no-save --no-audit --no-fund
  mark npm package-lock.json
fi

if [ ! -x .venv/bin/python ] || ! fresh venv requirements.txt; then
  step "Python virtualenv (.venv) from requirements.txt — pyspark is ~300 MB, first run takes a few minutes"
  python3 -m venv .venv
  .venv/bin/pip install --disable-pip-version-check --progress-bar on -q --upgrade pip
  .venv/bin/pip install --disable-pip-version-check --progress-bar on -r requirements.txt
  mark venv requirements.txt
fi

# Headless Chromium (Debian package) for the /docs and /redoc browser test; without it that test is skipped.
if ! command -v chromium-headless-shell >/dev/null && ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    step "Headless Chromium from Debian packages (the API docs browser test)"
    apt-get update -q && apt-get install -y -q chromium-headless-shell
  else
    echo "Skipping Chromium: not root or no apt-get; the API docs browser test will be skipped" \
      "(Debian: sudo apt-get install chromium-headless-shell)" >&2
  fi
fi

# Further steps (Kafka from Maven Central, Spark jars, Airflow venv) are added below by their areas.

# Kafka broker (KRaft) and its runtime jars from Maven Central into .cache/kafka/<version>/libs; skips when present.
bash localstack/services/kafka/install.sh

if [ ! -d .cache/spark-jars ] || ! fresh spark-jars glue-scripts/spark-jars.pom.xml; then
  step "Spark jars (Delta Lake, s3a) from Maven Central into .cache/spark-jars"
  bash scripts/spark-jars.sh
  mark spark-jars glue-scripts/spark-jars.pom.xml
fi

if [ ! -x .venv-airflow/bin/python ] || ! fresh airflow test/dags/requirements.txt test/dags/constraints.txt; then
  step "Airflow virtualenv (.venv-airflow) for the DAG integrity test"
  python3 -m venv .venv-airflow
  .venv-airflow/bin/pip install --disable-pip-version-check -q -r test/dags/requirements.txt -c test/dags/constraints.txt
  mark airflow test/dags/requirements.txt test/dags/constraints.txt
fi
