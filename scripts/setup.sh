#!/usr/bin/env bash
# Installs what the platform needs, idempotently, into ignored folders of the repository:
#   --for start (default): node_modules (npm ci), .venv (Python: requirements.txt), Kafka and the Spark jars
#     (Maven) in .cache;
#   --for test: also what only the tests and benchmarks need: .venv with requirements-test.txt, Airflow's
#     .venv-airflow, ministack's .venv-hybrid and headless Chromium;
#   --for hybrid: what `npm run hybrid` needs: node_modules, Kafka and .venv-hybrid (the AWS emulator).
# Independent steps run in parallel. Each prints one line when done (size, seconds); its whole output goes
# to .local/setup/<step>.log, and a failing step prints the tail of its log and what to do. --verbose (or
# LAKEHOUSE_VERBOSE=1) shows every step's output live instead. A step whose inputs have not changed since it
# last succeeded is skipped silently.
set -euo pipefail
cd "$(dirname "$0")/.."

FOR=start
VERBOSE=${LAKEHOUSE_VERBOSE:-0}
while [ $# -gt 0 ]; do
  case $1 in
    --for) FOR=${2:-}; shift 2 || shift ;;
    --for=*) FOR=${1#--for=}; shift ;;
    --verbose) VERBOSE=1; shift ;;
    *) echo "Usage: bash scripts/setup.sh [--for start|test|hybrid] [--verbose]" >&2; exit 2 ;;
  esac
done
case $FOR in start | test | hybrid) ;; *) echo "--for is \"$FOR\": use start, test or hybrid" >&2; exit 2 ;; esac

LOGS=.local/setup
mkdir -p .cache "$LOGS"
# On a terminal: bold step lines, each clearing the transient "Installing …" line first.
BOLD=$([ -t 1 ] && printf '\r\033[2K\033[1m' || true)
PLAIN=$([ -t 1 ] && printf '\033[0m' || true)

# stamp NAME FILE...: fresh NAME FILE... is true when FILE... are unchanged since `mark NAME` last ran.
stamp_of() { cat "$@" | sha256sum | cut -c1-16; }
fresh() { local name=$1; shift; [ -f ".cache/$name.stamp" ] && [ "$(cat ".cache/$name.stamp")" = "$(stamp_of "$@")" ]; }
mark() { local name=$1; shift; stamp_of "$@" >".cache/$name.stamp"; }
size() { du -sm "$@" 2>/dev/null | awk '{ n += $1 } END { printf "%d MB", n }'; }
have_chromium() { command -v chromium-headless-shell >/dev/null || command -v chromium >/dev/null; }
PIP=(--disable-pip-version-check --progress-bar off)

# Every step: todo_<step> (true when there is work), do_<step> (the work, run with errexit in a subshell),
# and its label, size and advice when it fails.
todo_npm() { [ ! -d node_modules ] || ! fresh npm package-lock.json; }
do_npm() {
  # Some registry mirrors lack other platforms' optional binaries (e.g. @biomejs/cli-android-*), and
  # npm ci then refuses the lock file; npm install --no-save installs the same locked versions.
  npm ci --no-audit --no-fund || npm install --no-save --no-audit --no-fund
  mark npm package-lock.json
}

# npm start's packages (requirements.txt), or with --for test those and the tests' (requirements-test.txt).
VENV_INPUTS=(requirements.txt)
[ "$FOR" = test ] && VENV_INPUTS=(requirements.txt requirements-test.txt)
todo_venv() { [ ! -x .venv/bin/python ] || ! fresh "venv-$FOR" "${VENV_INPUTS[@]}"; }
do_venv() {
  [ -x .venv/bin/python ] || python3 -m venv .venv
  # Python 3.11's own pip (23.2) took 64 s for requirements.txt where pip 26 takes 51 s, its upgrade included.
  .venv/bin/pip install "${PIP[@]}" --upgrade pip
  # --no-compile: compiling every module of pyspark and moto took 16 of those seconds; Python compiles (and
  # caches) the few hundred a process imports when it first imports them.
  .venv/bin/pip install "${PIP[@]}" --no-compile -r "${VENV_INPUTS[-1]}"
  mark "venv-$FOR" "${VENV_INPUTS[@]}"
  [ "$FOR" = start ] || mark venv-start requirements.txt
}

# Kafka and the Spark jars share Maven's repository in .cache/m2, which Maven 3.8 does not lock: one lane.
todo_kafka() { ! bash localstack/services/kafka/install.sh --check; }
do_kafka() { bash localstack/services/kafka/install.sh; }

todo_spark_jars() { [ ! -d .cache/spark-jars ] || ! fresh spark-jars glue-scripts/spark-jars.pom.xml; }
do_spark_jars() {
  bash scripts/spark-jars.sh
  mark spark-jars glue-scripts/spark-jars.pom.xml
}

AIRFLOW_INPUTS=(test/dags/requirements.txt test/dags/constraints.txt)
todo_airflow() { [ ! -x .venv-airflow/bin/python ] || ! fresh airflow "${AIRFLOW_INPUTS[@]}"; }
do_airflow() {
  python3 -m venv .venv-airflow
  .venv-airflow/bin/pip install "${PIP[@]}" -r test/dags/requirements.txt -c test/dags/constraints.txt
  mark airflow "${AIRFLOW_INPUTS[@]}"
}

HYBRID_INPUTS=(localstack/services/emulator/requirements-ministack.txt)
todo_hybrid() { [ ! -x .venv-hybrid/bin/ministack ] || ! fresh hybrid "${HYBRID_INPUTS[@]}"; }
do_hybrid() {
  python3 -m venv .venv-hybrid
  .venv-hybrid/bin/pip install "${PIP[@]}" -r "${HYBRID_INPUTS[@]}"
  mark hybrid "${HYBRID_INPUTS[@]}"
}

# Headless Chromium (Debian package) for the /docs and /redoc browser test; without it that test is skipped.
todo_chromium() { ! have_chromium && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }
do_chromium() { apt-get update -q && apt-get install -y -q chromium-headless-shell; }

declare -A LABEL=(
  [npm]='npm packages (node_modules)' [venv]='Python venv (.venv)' [kafka]='Kafka jars (.cache/kafka)'
  [spark_jars]='Spark jars (.cache/spark-jars)' [airflow]='Airflow venv (.venv-airflow)'
  [hybrid]='AWS emulator venv (.venv-hybrid)' [chromium]='Headless Chromium (apt)'
)
declare -A SIZE=(
  [npm]='node_modules/' [venv]='.venv/' [kafka]='.cache/kafka/' [spark_jars]='.cache/spark-jars/'
  [airflow]='.venv-airflow/' [hybrid]='.venv-hybrid/' [chromium]='/usr/lib/chromium-headless-shell/'
)
declare -A ADVICE=(
  [npm]='check that the npm registry answers (npm ping) and Node.js is 20 or later, then run it again'
  [venv]='needs python3 (3.11) with venv and the package index reachable; rm -rf .venv and run it again'
  [kafka]='needs java (17+) and mvn on PATH and Maven Central reachable (Debian: apt-get install openjdk-17-jre-headless maven)'
  [spark_jars]='needs mvn and Maven Central reachable; run it again (a partial download is retried)'
  [airflow]='needs python3 (3.11) with venv and the package index; rm -rf .venv-airflow and run it again'
  [hybrid]='needs python3 (3.11) with venv and the package index; rm -rf .venv-hybrid and run it again'
  [chromium]='apt-get install chromium-headless-shell by hand, or go without: its one test is then skipped'
)

# run STEP: does the step if there is work, and prints its line.
run() {
  local name=$1 log=$LOGS/$1.log t0=$SECONDS rc
  todo_"$name" || return 0
  if [ "$VERBOSE" = 1 ]; then
    (do_"$name" 2>&1 | tee "$log" | sed -u "s/^/[$name] /") </dev/null &
  else
    (do_"$name") </dev/null >"$log" 2>&1 &
  fi
  wait $! && rc=0 || rc=$?
  if [ "$rc" = 0 ]; then
    printf '%s==> %s … %s, %d s%s\n' "$BOLD" "${LABEL[$name]}" "$(size "${SIZE[$name]}")" $((SECONDS - t0)) "$PLAIN"
    return 0
  fi
  {
    printf '%s==> %s FAILED after %d s (exit status %d); the end of %s:%s\n' \
      "$BOLD" "${LABEL[$name]}" $((SECONDS - t0)) "$rc" "$log" "$PLAIN"
    tail -n 25 "$log" | sed 's/^/    /'
    printf '    What to do: %s.\n' "${ADVICE[$name]}"
  } >&2
  return "$rc"
}

# Lanes run in parallel; the steps of a lane one after the other. apt (Java for Kafka, Chromium) stays in
# one lane too: dpkg takes one installer at a time.
lane() { for name in "$@"; do run "$name"; done; }
LANES=('npm' 'venv' 'kafka spark_jars')
[ "$FOR" = test ] && LANES=('npm' 'venv' 'kafka spark_jars chromium' 'airflow hybrid')
[ "$FOR" = hybrid ] && LANES=('npm' 'kafka spark_jars' 'hybrid')
if [ "$FOR" = test ] && ! have_chromium && ! todo_chromium; then
  echo "Skipping Chromium: not root or no apt-get; the API docs browser test will be skipped" \
    "(Debian: sudo apt-get install chromium-headless-shell)" >&2
fi

pending=()
for name in ${LANES[*]}; do todo_"$name" && pending+=("${LABEL[$name]%% (*}"); done
[ ${#pending[@]} = 0 ] && exit 0
# On a terminal, one transient line until the first step is done.
if [ -t 1 ] && [ "$VERBOSE" != 1 ]; then
  printf 'Installing %s in parallel (logs in %s/) …\r' "$(IFS=,; echo "${pending[*]}" | sed 's/,/, /g')" "$LOGS"
fi

t0=$SECONDS
pids=()
for steps in "${LANES[@]}"; do
  # shellcheck disable=SC2086 # a lane is a list of step names
  lane $steps &
  pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
if [ "$failed" = 1 ]; then
  printf '%s==> Setup failed after %d s: see above; all logs in %s/%s\n' "$BOLD" $((SECONDS - t0)) "$LOGS" "$PLAIN" >&2
  exit 1
fi
printf '%s==> Setup for %s done in %d s (logs in %s/)%s\n' "$BOLD" "$FOR" $((SECONDS - t0)) "$LOGS" "$PLAIN"
