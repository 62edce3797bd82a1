#!/usr/bin/env bash
# Builds the operator-validator driver (pom.xml + src/) against the Flink Kubernetes Operator from Maven Central,
# into ${FLINKPLAT_CACHE:-$HOME/.cache/flink-platform}/operator-validator/<operator-version>/, for
#   - the pinned operator (FLINK_OPERATOR_VERSION in flinkplat/versions.py), and
#   - OPERATOR_VALIDATOR_HARNESS_CHECK_VERSION in flinkplat/versions.py: the newest release whose operator jar (the artifact that holds DefaultValidator)
#     Apache published on Maven Central. The tests run the driver on it to prove the driver itself works.
# Each gets validator.json (read by tests/acceptance/operator_validator.py): {"available": true, "classpath": ...},
# or {"available": false, "reason": ...} when Maven Central does not have that release (not an error: the tests
# report it as a skip). Idempotent and offline once cached (Maven's ~/.m2); prints one line of timing.
set -euo pipefail


start=$(date +%s)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
PIN=$(pin FLINK_OPERATOR_VERSION)
HARNESS_CHECK_VERSION=$(pin OPERATOR_VALIDATOR_HARNESS_CHECK_VERSION)

for tool in java mvn; do
  command -v "$tool" >/dev/null || { echo "operator-validator: '$tool' is required (see docs/acceptance-tests.md)" >&2; exit 1; }
done

# Anything that changes the build invalidates the cache.
SOURCES_HASH=$(cd "$HERE" && find pom.xml src -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)

summary=()
build() {  # build VERSION
  local v=$1 out="$CACHE_ROOT/operator-validator/$1" log
  local stamp="$out/validator.json" want="operator=$1 sources=$SOURCES_HASH java=$(java -version 2>&1 | head -1 | tr -d '"')"
  if [ -f "$stamp" ] && grep -qF "\"stamp\": \"$want\"" "$stamp" && grep -q '"available": true' "$stamp"; then
    summary+=("$v cached")
    return 0
  fi
  mkdir -p "$out"
  log="$out/build.log"
  if mvn -B -q -Dstyle.color=never -f "$HERE/pom.xml" -Doperator.version="$v" -Dflinkplat.build.dir="$out/target" \
      compile dependency:build-classpath -Dmdep.outputFile="$out/classpath.txt" >"$log" 2>&1; then
    "$PY" - "$stamp" "$want" "$v" "$out" <<'EOF'
import json, os, sys
stamp, want, version, out = sys.argv[1:]
classpath = [os.path.join(out, "target", "classes")] + open(os.path.join(out, "classpath.txt")).read().strip().split(os.pathsep)
json.dump({"stamp": want, "operator_version": version, "available": True, "main": "flinkplat.validator.Main",
           "classpath": classpath}, open(stamp, "w"), indent=1)
EOF
    summary+=("$v built")
  # The operator jar, or its parent POM (imported as a BOM in pom.xml), is not on Maven Central for that release.
  elif grep -qE "org\.apache\.flink:flink-kubernetes-operator(-parent)?:(jar|pom):$v .*(was not found|Could not find)|Could not find artifact org\.apache\.flink:flink-kubernetes-operator(-parent)?:(jar|pom):$v" "$log"; then
    missing=$(grep -oE "flink-kubernetes-operator(-parent)?:(jar|pom):$v" "$log" | head -1)
    "$PY" - "$stamp" "$want" "$v" "$missing" <<'EOF'
import json, sys
stamp, want, version, missing = sys.argv[1:]
reason = (f"org.apache.flink:flink-kubernetes-operator:{version} (the artifact holding DefaultValidator) is not "
          "published on Maven Central, so the operator's own validator of that release cannot be run here "
          f"(Maven could not find org.apache.flink:{missing})")
json.dump({"stamp": want, "operator_version": version, "available": False, "reason": reason}, open(stamp, "w"),
          indent=1)
EOF
    summary+=("$v not on Maven Central")
  else
    echo "operator-validator: building against operator $v failed; log follows" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
}

build "$PIN"
[ "$HARNESS_CHECK_VERSION" = "$PIN" ] || build "$HARNESS_CHECK_VERSION"
echo "operator-validator: $(IFS=,; echo "${summary[*]}" | sed 's/,/, /g') in $CACHE_ROOT/operator-validator [$(($(date +%s) - start))s]"
