#!/usr/bin/env bash
# npm start: the platform's setup (quiet, or live with --verbose), then localstack/start.ts with every argument.
set -euo pipefail
cd "$(dirname "$0")/.."
verbose=()
for arg in "$@"; do [ "$arg" = --verbose ] && verbose=(--verbose); done
bash scripts/setup.sh --for start "${verbose[@]}"
exec node_modules/.bin/tsx localstack/start.ts "$@"
