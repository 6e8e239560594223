#!/usr/bin/env bash
# Java for the Spark tests: pyspark 4 (dbt-spark's `session` method) runs Spark inside the Python
# process and needs Java 17 or newer. Debian's openjdk-17-jre-headless is installed when no such
# Java is on the machine. Nothing is started here: each test session builds its own local
# SparkSession, with its metastore and tables in a temp directory, and the JVM ends with it.
#
#   scripts/spark.sh install     # apt-get install openjdk-17-jre-headless when Java 17+ is missing
#   scripts/spark.sh java        # print the Java found, or fail
set -euo pipefail

java_major() {
    command -v java >/dev/null 2>&1 || return 1
    # `openjdk version "17.0.15" ...` -> 17
    java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1
}

has_java() {
    local v
    v=$(java_major || true)
    [ -n "$v" ] && [ "$v" -ge 17 ]
}

install() {
    if has_java; then return 0; fi
    local SUDO=
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO=sudo; else
            echo "spark.sh: Java 17 not found and no root to install openjdk-17-jre-headless" >&2; return 1; fi
    fi
    echo "installing Debian's openjdk-17-jre-headless (apt-get)" >&2
    export DEBIAN_FRONTEND=noninteractive
    # The JRE's post-install script needs the man directory that slim images leave out.
    mkdir -p /usr/share/man/man1 2>/dev/null || true
    $SUDO apt-get install -y -q --no-install-recommends openjdk-17-jre-headless >/dev/null 2>&1 \
        || { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO apt-get install -y -q --no-install-recommends openjdk-17-jre-headless >/dev/null; }
    has_java
}

case "${1:-}" in
    install) install ;;
    java) has_java && command -v java ;;
    *) echo "usage: $0 install|java" >&2; exit 2 ;;
esac
