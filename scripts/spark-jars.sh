#!/usr/bin/env bash
# The Spark jars of glue-scripts/spark-jars.pom.xml (Delta Lake, s3a, the OpenLineage listener) from Maven
# Central into .cache/spark-jars: local Spark runs with them, and CDK uploads the listener for Glue and EMR
# from there (so `cdk synth` and `cdk deploy` need them too). Into a fresh folder swapped in at the end, so
# a Spark already running keeps its jars meanwhile.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .cache/spark-jars.new
mvn -q -B -f glue-scripts/spark-jars.pom.xml -Dmaven.repo.local="$PWD/.cache/m2" \
  dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$PWD/.cache/spark-jars.new"
rm -rf .cache/spark-jars && mv .cache/spark-jars.new .cache/spark-jars
