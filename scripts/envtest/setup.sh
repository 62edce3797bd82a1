#!/usr/bin/env bash
# Prepares everything the envtest acceptance tests need, pinned by flinkplat/versions.py:
#   - kube-apiserver and kube-controller-manager built from k8s.io/kubernetes on the Go module proxy (the controller
#     manager runs the namespace controller and the garbage collector, so deletions finish: the engine tests' destroy),
#   - kubectl from the same module (the rollout's health gate reads FlinkDeployment status with it),
#   - etcd built from go.etcd.io/etcd/server/v3 on the Go module proxy,
#   - the CRDs, fetched from registries (Maven Central, Go module proxy) and checked against
#     ../shared/reference/crds when that folder exists.
# Result: ${FLINKPLAT_CACHE:-$HOME/.cache/flink-platform}/envtest/<k8s-version>/envtest.json (read by
# tests/acceptance/envtest.py). Idempotent: a second run only re-checks the stamp. Quiet: one line of timing on
# success, the build log on failure. Set FLINKPLAT_ENVTEST_VERBOSE=1 to see everything.
set -euo pipefail

start=$(date +%s)
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
HERE="$ROOT/scripts/envtest"

K8S=$(pin KUBERNETES_VERSION)
ETCD=$(pin ETCD_VERSION)
OPERATOR=$(pin FLINK_OPERATOR_VERSION)
KEDA=$(pin KEDA_VERSION)
PROM=$(pin PROMETHEUS_OPERATOR_VERSION)

DIR="$CACHE_ROOT/envtest/$K8S"
STAMP="$DIR/envtest.json"
WANT="kubernetes=$K8S etcd=$ETCD flink-operator=$OPERATOR keda=$KEDA prometheus-operator=$PROM recipe=3"

if [ -f "$STAMP" ] && grep -qF "\"stamp\": \"$WANT\"" "$STAMP" \
    && [ -x "$DIR/kube-apiserver" ] && [ -x "$DIR/kube-controller-manager" ] && [ -x "$DIR/kubectl" ] \
    && [ -x "$DIR/etcd-$ETCD" ]; then
  echo "envtest: cached (kube-apiserver + kube-controller-manager + kubectl v$K8S, etcd v$ETCD, CRDs) in $DIR [$(($(date +%s) - start))s]"
  exit 0
fi

for tool in go mvn; do
  command -v "$tool" >/dev/null || { echo "envtest: '$tool' is required (see docs/acceptance-tests.md)" >&2; exit 1; }
done

mkdir -p "$DIR"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/go-build.sh"
go_build_env envtest FLINKPLAT_ENVTEST_VERBOSE

# ---------------------------------------------------------------------------------------------------------------
# kube-apiserver, kube-controller-manager, kubectl. k8s.io/kubernetes points its k8s.io/* staging modules at
# ./staging with replace directives, which only apply inside its own repository. A throwaway main module requires the same staging modules at v0.<minor>.<patch>
# (the tags published from staging) and replaces them to those versions, so MVS resolves the original build list.
build_control_plane() {  # build_control_plane BINARY... (commands of k8s.io/kubernetes/cmd, one go build)
  local mod="$WORK/apiserver" gomod gover godebug staging m
  mkdir -p "$mod"
  gomod=$(modinfo "k8s.io/kubernetes@v$K8S" GoMod) || return 1
  gover=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod")
  godebug=$(grep '^godebug ' "$gomod" || true)
  # the staging modules k8s.io/kubernetes requires (it also replaces a few it never requires, e.g. sample-controller)
  staging=$(sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) => \./staging/.*#\1#p' "$gomod" | while read -r m; do
    if grep -qE "^[[:space:]]*$m v0\.0\.0" "$gomod"; then echo "$m"; fi; done)
  {
    echo "module flinkplat.invalid/envtest-apiserver"
    echo "go $gover"
    [ -z "$godebug" ] || echo "$godebug"
    echo "require k8s.io/kubernetes v$K8S"
    for m in $staging; do echo "require $m v0.${K8S#1.}"; done
    for m in $staging; do echo "replace $m => $m v0.${K8S#1.}"; done
  } >"$mod/go.mod"
  local minor=${K8S#1.}; minor=${minor%%.*}
  local ldflags="-s -w -X k8s.io/component-base/version.gitVersion=v$K8S -X k8s.io/component-base/version.gitMajor=1"
  ldflags+=" -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
  ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=v$K8S"
  local out="$WORK/bin" cmd packages=()
  for cmd in "$@"; do packages+=("k8s.io/kubernetes/cmd/$cmd"); done
  mkdir -p "$out"
  (cd "$mod" && run go build -trimpath -ldflags "$ldflags" -o "$out/" "${packages[@]}") || return 1
  for cmd in "$@"; do mv "$out/$cmd" "$DIR/$cmd"; done
}

# etcd. go.etcd.io/etcd/server/v3 has a `main` package; its replace directives (../api, ../pkg, ...) are again
# ignored outside the etcd repository, and its require lines already carry the real versions.
build_etcd() {
  local mod="$WORK/etcd"
  mkdir -p "$mod"
  printf 'module flinkplat.invalid/envtest-etcd\ngo 1.23.0\nrequire go.etcd.io/etcd/server/v3 v%s\n' "$ETCD" >"$mod/go.mod"
  (cd "$mod" && run go build -trimpath -ldflags "-s -w" -o "$DIR/etcd-$ETCD.tmp" go.etcd.io/etcd/server/v3) || return 1
  mv "$DIR/etcd-$ETCD.tmp" "$DIR/etcd-$ETCD"
}

# ---------------------------------------------------------------------------------------------------------------
# CRDs from registries.
fetch_crds() {
  local crds="$DIR/crds" jar dir
  rm -rf "$crds.tmp" && mkdir -p "$crds.tmp/flink-kubernetes-operator-$OPERATOR" "$crds.tmp/keda-$KEDA" \
    "$crds.tmp/prometheus-operator-$PROM"

  # Flink operator: Maven Central, org.apache.flink:flink-kubernetes-operator-api:<v>, META-INF/fabric8/*-v1.yml
  # (the files the operator's build generates and copies into its Helm chart). Apache has not published every
  # operator release there (the newest on Maven Central is 1.10.0): when Maven reports the artifact absent, the
  # byte-for-byte upstream copies in ../shared/reference/crds/release-<v>/ are used instead, and envtest.json says so.
  local fdir="$crds.tmp/flink-kubernetes-operator-$OPERATOR" ref="$ROOT/../shared/reference/crds/release-$OPERATOR"
  FLINK_CRD_SOURCE="maven-central:org.apache.flink:flink-kubernetes-operator-api:$OPERATOR"
  if mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
      -Dartifact="org.apache.flink:flink-kubernetes-operator-api:$OPERATOR" -DoutputDirectory="$WORK/jar" \
      >"$WORK/mvn.log" 2>&1; then
    jar="$WORK/jar/flink-kubernetes-operator-api-$OPERATOR.jar"
    (cd "$fdir" && "$PY" - "$jar" <<'EOF2'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as jar:
    for name in jar.namelist():
        if name.startswith("META-INF/fabric8/") and name.endswith("-v1.yml"):
            with open(name.rsplit("/", 1)[1], "wb") as out:
                out.write(jar.read(name))
EOF2
    ) || fail "extracting CRDs from $jar"
  elif grep -qE "(was not found|Could not find artifact)" "$WORK/mvn.log" && [ -d "$ref" ]; then
    cat "$WORK/mvn.log" >>"$LOG"
    cp "$ref"/*.yml "$fdir/"
    FLINK_CRD_SOURCE="fallback:shared/reference/crds/release-$OPERATOR (flink-kubernetes-operator-api:$OPERATOR is not on Maven Central)"
  else
    cat "$WORK/mvn.log" >>"$LOG"
    fail "fetching flink-kubernetes-operator-api $OPERATOR from Maven Central"
  fi

  # KEDA: Go module github.com/kedacore/keda/v2, config/crd/bases.
  dir=$(modinfo "github.com/kedacore/keda/v2@v$KEDA" Dir) || fail "downloading keda v$KEDA"
  cp "$dir/config/crd/bases/keda.sh_scaledobjects.yaml" "$dir/config/crd/bases/keda.sh_triggerauthentications.yaml" \
    "$crds.tmp/keda-$KEDA/"

  # Prometheus Operator: Go module github.com/prometheus-operator/prometheus-operator, example/prometheus-operator-crd.
  dir=$(modinfo "github.com/prometheus-operator/prometheus-operator@v$PROM" Dir) || fail "downloading prometheus-operator v$PROM"
  for f in podmonitors servicemonitors prometheusrules; do
    cp "$dir/example/prometheus-operator-crd/monitoring.coreos.com_$f.yaml" "$crds.tmp/prometheus-operator-$PROM/"
  done
  chmod -R u+w "$crds.tmp"
  rm -rf "$crds" && mv "$crds.tmp" "$crds"
}

# Only missing binaries are built (an install of an older recipe gains the controller manager and kubectl and
# keeps its apiserver).
control_plane=()
for cmd in kube-apiserver kube-controller-manager kubectl; do [ -x "$DIR/$cmd" ] || control_plane+=("$cmd"); done
[ ${#control_plane[@]} -eq 0 ] || build_control_plane "${control_plane[@]}" || fail "building ${control_plane[*]} v$K8S"
[ -x "$DIR/etcd-$ETCD" ] || build_etcd || fail "building etcd v$ETCD"
fetch_crds
comparison=$("$PY" "$HERE/check_crds.py" "$DIR/crds" "$ROOT/../shared/reference/crds" 2>>"$LOG") \
  || fail "comparing CRDs with ../shared/reference/crds"

"$PY" - "$STAMP" "$WANT" "$DIR" "$ETCD" "$K8S" "$comparison" "$FLINK_CRD_SOURCE" "$KEDA" "$PROM" <<'EOF'
import json, os, sys
stamp, want, d, etcd, k8s, comparison, flink_source, keda, prom = sys.argv[1:]
crds = sorted(
    os.path.join(root, f) for root, _, files in os.walk(os.path.join(d, "crds")) for f in files
    if f.endswith((".yaml", ".yml"))
)
comparison = json.loads(comparison)
if flink_source.startswith("fallback:"):
    for entry in comparison:
        if entry["file"].startswith("flink-kubernetes-operator-"):
            entry["result"] = "fallback-to-reference-copy"
doc = {"stamp": want, "kubernetes_version": k8s, "etcd_version": etcd,
       "kube_apiserver": os.path.join(d, "kube-apiserver"),
       "kube_controller_manager": os.path.join(d, "kube-controller-manager"),
       "kubectl": os.path.join(d, "kubectl"), "etcd": os.path.join(d, f"etcd-{etcd}"),
       "crds": crds, "crd_comparison": comparison,
       "crd_sources": {"flink-kubernetes-operator": flink_source,
                       "keda": f"go-module-proxy:github.com/kedacore/keda/v2@v{keda}/config/crd/bases",
                       "prometheus-operator": f"go-module-proxy:github.com/prometheus-operator/prometheus-operator@v{prom}"
                                              "/example/prometheus-operator-crd"}}
with open(stamp + ".tmp", "w") as out:
    json.dump(doc, out, indent=1)
os.replace(stamp + ".tmp", stamp)
EOF
echo "envtest: ready (kube-apiserver + kube-controller-manager + kubectl v$K8S, etcd v$ETCD, CRDs) in $DIR [$(($(date +%s) - start))s]"
