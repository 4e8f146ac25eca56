#!/usr/bin/env bash
# Builds the Java example jobs into a jar for jetjobs' `script` type (runtime java):
#   bash examples/spark/build-java-example.sh OUT.jar [SRC_DIR]
# SRC_DIR defaults to examples/spark/java (every *.java in it, default package or not).
# Needs a JDK (javac and jar, 11 or later); the classes target Java 11 so older workers run them.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:?usage: build-java-example.sh OUT.jar [SRC_DIR]}"
src="${2:-$here/java}"
for tool in javac jar; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "build-java-example.sh: no '$tool' on PATH: install a JDK (e.g. apt-get install openjdk-17-jdk-headless)" >&2
    exit 2
  fi
done
mapfile -t sources < <(find "$src" -name '*.java' | sort)
[ "${#sources[@]}" -gt 0 ] || { echo "build-java-example.sh: no .java files in $src" >&2; exit 2; }
classes="$(mktemp -d)"
trap 'rm -rf "$classes"' EXIT
javac --release 11 -nowarn -d "$classes" "${sources[@]}"
mkdir -p "$(dirname "$out")"
# --date (JDK 17+) makes the jar reproducible; older jar tools build without it.
if jar --help 2>&1 | grep -q -- '--date'; then date_opt=(--date=1980-01-01T00:00:02Z); else date_opt=(); fi
jar --create "${date_opt[@]}" --file "$out" -C "$classes" .
echo "built $out" >&2
