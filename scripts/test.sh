#!/usr/bin/env bash
# The whole test suite: type-check, lint, TypeScript tests (jest) and Python tests (pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx tsc --noEmit -p tsconfig.json
npx biome check .
npx jest --ci
