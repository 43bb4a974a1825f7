#!/usr/bin/env bash
# Resolves the Kafka server, Kafka's tools (ProducerPerformance, for bench:e2e) and their runtime
# dependencies (plus the reload4j logging binding) from Maven Central into .cache/kafka/<version>/libs,
# with Maven's download cache in .cache/m2. Skips when they were resolved from this very pom.xml (its
# hash is the stamp in libs/.complete); --check only tells whether they were (exit status 0) or not (1).
set -euo pipefail
cd "$(dirname "$0")/../../.."
VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' localstack/services/kafka/pom.xml)
LIBS=.cache/kafka/$VERSION/libs
STAMP=$(sha256sum localstack/services/kafka/pom.xml | cut -c1-16)
if [ "$(cat "$LIBS/.complete" 2>/dev/null)" = "$STAMP" ]; then
  exit 0
elif [ "${1:-}" = --check ]; then
  exit 1
fi
if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    printf '\033[1m==> Java 17 and Maven from Debian packages (Kafka runs on the JVM)\033[0m\n'
    apt-get update -q && apt-get install -y -q openjdk-17-jre-headless maven
  else
    echo "Kafka needs java (17+) and mvn on PATH (Debian: sudo apt-get install openjdk-17-jre-headless maven)" >&2
    exit 1
  fi
fi
printf '\033[1m==> Kafka %s from Maven Central into %s (about 60 jars, ~40 MB)\033[0m\n' "$VERSION" "$LIBS"
# A complete install of an older pom gets the new jars beside its own (a broker may be running from
# them: deleting them under it would break its class loading); a partial one starts over.
[ -f "$LIBS/.complete" ] || rm -rf "$LIBS"
# Progress: one line per jar as Maven downloads it (pom and metadata downloads are not shown).
mvn -B -Dstyle.color=never -f localstack/services/kafka/pom.xml -Dmaven.repo.local="$PWD/.cache/m2" \
  dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$PWD/$LIBS" |
  sed -un 's#^\[INFO\] Downloaded from [^:]*: .*/\([^/]*\.jar\) (\(.*\))#  \1 (\2)#p; /ERROR/p'
[ -f "$LIBS/kafka_2.13-$VERSION.jar" ] || { echo "Kafka download failed (see Maven output above)" >&2; exit 1; }
echo "$STAMP" >"$LIBS/.complete"
echo "Kafka $VERSION: $(ls "$LIBS" | wc -l) jars in $LIBS"
