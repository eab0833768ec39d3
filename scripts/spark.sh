#!/usr/bin/env bash
# Java for the Spark target (docs/targets.md): PySpark runs Spark in a local JVM, and Spark 4 needs
# Java 17 or later. Java comes from Debian packages; PySpark and dbt-spark come from
# requirements/spark.lock (`make spark-setup`). Nothing is downloaded at run time: Spark's own jars,
# Hive's metastore (Derby) and Parquet support all ship inside the pyspark wheel.
#
#   scripts/spark.sh   install a headless JRE with apt-get when no `java` 17+ is on the PATH, then
#                      print java's path and version. Exit 1 when it cannot.
#
# Installing needs root (or a Java already there); like scripts/postgres.sh, a test that needs it
# fails with this script's message rather than skipping.
set -euo pipefail

log() { echo "spark.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

# shellcheck source=lib/debian.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/debian.sh"

java_major() {
    # `java -version` prints e.g. openjdk version "17.0.15" 2025-04-15 (on stderr)
    java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1
}

if ! command -v java >/dev/null 2>&1 || [[ "$(java_major)" -lt 17 ]]; then
    apt_install "Java 17 (for PySpark)" openjdk-17-jre-headless
    command -v java >/dev/null 2>&1 || die "openjdk-17-jre-headless installed but java is not on the PATH"
fi
[[ "$(java_major)" -ge 17 ]] || die "java $(java_major) is too old: Spark 4 needs Java 17 or later"
command -v java
java -version 2>&1 | head -1
