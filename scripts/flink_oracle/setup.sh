#!/usr/bin/env bash
# Fetch Flink's own memory code (BashJavaUtils + flink-dist) for every version in
# flinkplat.versions.FLINK_ORACLE_VERSIONS and compile the batch harness MemoryOracle.java against it.
#
# Idempotent: the jars are cached in ${FLINKPLAT_CACHE:-$HOME/.cache/flink-platform}/flink-oracle/<version>/
# and downloaded only when missing; the harness is recompiled only when MemoryOracle.java changed.
# Nothing is written into the repository.
#
# Usage: scripts/flink_oracle/setup.sh [--verify] [VERSION ...]
#   --verify   after setup, check the harness against the real `BashJavaUtils GET_TM/JM_RESOURCE_PARAMS` CLI
#              on a handful of configs (one JVM per config and side, ~10 s per version).
# Needs: Python with pip, Java 11+ (java + javac), tar, ~700 MB of free temporary space per download.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
CACHE_ROOT="$CACHE_ROOT/flink-oracle"

VERIFY=0
VERSIONS=()
for arg in "$@"; do
  case "$arg" in
    --verify) VERIFY=1 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    -*) echo "unknown option: $arg" >&2; exit 2 ;;
    *) VERSIONS+=("$arg") ;;
  esac
done
if [[ ${#VERSIONS[@]} -eq 0 ]]; then
  read -r -a VERSIONS <<<"$(pin FLINK_ORACLE_VERSIONS)"
fi

for tool in java javac tar; do
  command -v "$tool" >/dev/null || { echo "error: '$tool' is required" >&2; exit 1; }
done

log() { echo "[flink-oracle] $*" >&2; }

# Downloads go to one scratch dir that is removed on any exit (success, error or Ctrl-C).
WORK="$(mktemp -d "${TMPDIR:-/tmp}/flink-oracle.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

sha256() {
  if command -v sha256sum >/dev/null; then sha256sum "$1" | cut -d' ' -f1; else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

fetch_jars() {  # $1 = version, $2 = destination dir
  local v="$1" dest="$2" tmp archive
  tmp="$WORK/$v"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  log "$v: pip download --no-deps apache-flink-libraries==$v (~300 MB)"
  # --no-cache-dir: the ~300 MB archive must not linger in pip's cache either.
  "$PY" -m pip download --quiet --no-cache-dir --no-deps --dest "$tmp" "apache-flink-libraries==$v" >&2
  archive="$(find "$tmp" -maxdepth 1 -type f \( -name '*.tar.gz' -o -name '*.whl' \) | head -n 1)"
  [[ -n "$archive" ]] || { echo "error: pip download produced no archive for $v" >&2; return 1; }
  mkdir -p "$tmp/x"
  case "$archive" in
    *.tar.gz)  # sdist (<= 2.1.x): apache-flink-libraries-<v>/deps/{bin,lib}/
      tar -xzf "$archive" -C "$tmp/x" --wildcards --no-anchored \
        "deps/bin/bash-java-utils.jar" "deps/lib/flink-dist-$v.jar" ;;
    *.whl)     # wheel (>= 2.2.0): pyflink/{bin,lib}/
      "$PY" - "$archive" "$tmp/x" "$v" <<'EOF'
import sys, zipfile
archive, out, v = sys.argv[1:]
wanted = ("pyflink/bin/bash-java-utils.jar", f"pyflink/lib/flink-dist-{v}.jar")
with zipfile.ZipFile(archive) as z:
    names = [n for n in z.namelist() if n.endswith(wanted)]
    if len(names) != 2:
        sys.exit(f"error: expected 2 jars in {archive}, found {names}")
    for n in names:
        z.extract(n, out)
EOF
      ;;
  esac
  rm -f "$archive"
  local bju dist
  bju="$(find "$tmp/x" -name bash-java-utils.jar | head -n 1)"
  dist="$(find "$tmp/x" -name "flink-dist-$v.jar" | head -n 1)"
  [[ -n "$bju" && -n "$dist" ]] || { echo "error: jars not found in the $v download" >&2; return 1; }
  mkdir -p "$dest"
  mv "$bju" "$dest/bash-java-utils.jar.part" && mv "$dest/bash-java-utils.jar.part" "$dest/bash-java-utils.jar"
  mv "$dist" "$dest/flink-dist-$v.jar.part" && mv "$dest/flink-dist-$v.jar.part" "$dest/flink-dist-$v.jar"
  rm -rf "$tmp"
}

compile_harness() {  # $1 = version dir, $2 = classpath
  local dir="$1" cp="$2" sum
  sum="$(sha256 "$HERE/MemoryOracle.java")"
  if [[ -f "$dir/classes/MemoryOracle.class" && "$(cat "$dir/classes/.source-sha256" 2>/dev/null)" == "$sum" ]]; then
    return 0
  fi
  log "compiling MemoryOracle.java into $dir/classes"
  rm -rf "$dir/classes.tmp"
  mkdir -p "$dir/classes.tmp"
  javac -nowarn -encoding UTF-8 -cp "$cp" -d "$dir/classes.tmp" "$HERE/MemoryOracle.java"
  echo "$sum" >"$dir/classes.tmp/.source-sha256"
  rm -rf "$dir/classes"
  mv "$dir/classes.tmp" "$dir/classes"
}

verify() {  # $1 = version, $2 = version dir, $3 = classpath
  "$PY" "$HERE/verify_cli.py" --version "$1" --classpath "$3:$2/classes"
}

for v in "${VERSIONS[@]}"; do
  dir="$CACHE_ROOT/$v"
  cp="$dir/bash-java-utils.jar:$dir/flink-dist-$v.jar"
  if [[ -f "$dir/bash-java-utils.jar" && -f "$dir/flink-dist-$v.jar" ]]; then
    log "$v: jars cached in $dir"
  else
    start=$SECONDS
    fetch_jars "$v" "$dir"
    log "$v: fetched in $((SECONDS - start)) s"
  fi
  compile_harness "$dir" "$cp"
  if [[ $VERIFY -eq 1 ]]; then
    verify "$v" "$dir" "$cp"
  fi
done
log "ready: $CACHE_ROOT (${VERSIONS[*]})"
