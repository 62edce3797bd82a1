#!/usr/bin/env bash
# Builds the real Pulumi engine for the engine tests (tests/engine), pinned by flinkplat/versions.py:
#   - the Pulumi CLI `pulumi` from github.com/pulumi/pulumi/pkg/v3 on the Go module proxy,
#   - the Kubernetes resource provider plugin `pulumi-resource-kubernetes` from
#     github.com/pulumi/pulumi-kubernetes/provider/v4 on the Go module proxy.
# No registry reachable here ships Pulumi binaries, so both are compiled (≈ 13 min cold on 2 cores, ≈ 8 GB of Go
# module + build caches). Result: ${FLINKPLAT_CACHE:-$HOME/.cache/flink-platform}/pulumi/<versions>/pulumi.json
# (read by tests/engine/harness.py). Idempotent: a second run only re-checks the stamp. Quiet: one line of timing on
# success, the build log on failure. Set FLINKPLAT_PULUMI_VERBOSE=1 to see everything.
set -euo pipefail

start=$(date +%s)
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

CLI=$(pin PULUMI_CLI_VERSION)
K8S_MODULE=$(pin PULUMI_KUBERNETES_PROVIDER_MODULE_VERSION)
K8S=$(pin PULUMI_KUBERNETES_PROVIDER_VERSION)
K8S_SDK_GO=$(pin PULUMI_KUBERNETES_SDK_GO_REPLACEMENT_VERSION)

DIR="$CACHE_ROOT/pulumi/cli-$CLI-kubernetes-$K8S"
STAMP="$DIR/pulumi.json"
WANT="pulumi=$CLI pulumi-kubernetes=$K8S ($K8S_MODULE, sdk/v4 => $K8S_SDK_GO) recipe=1"

if [ -f "$STAMP" ] && grep -qF "\"stamp\": \"$WANT\"" "$STAMP" \
    && [ -x "$DIR/bin/pulumi" ] && [ -x "$DIR/bin/pulumi-resource-kubernetes" ]; then
  echo "pulumi: cached (CLI v$CLI, pulumi-resource-kubernetes v$K8S) in $DIR [$(($(date +%s) - start))s]"
  exit 0
fi

command -v go >/dev/null \
  || { echo "pulumi: 'go' is required to build the Pulumi CLI (see docs/engine-tests.md)" >&2; exit 1; }

# A stamp of other pins (module pseudo-version, sdk replacement, recipe) means the binaries are stale: rebuild both.
# No stamp at all means an interrupted run: what it finished is kept.
if [ -f "$STAMP" ] && ! grep -qF "\"stamp\": \"$WANT\"" "$STAMP"; then
  rm -f "$DIR/bin/pulumi" "$DIR/bin/pulumi-resource-kubernetes" "$STAMP"
fi
mkdir -p "$DIR/bin"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/go-build.sh"
go_build_env pulumi FLINKPLAT_PULUMI_VERBOSE

# ---------------------------------------------------------------------------------------------------------------
# The CLI. `go install …@version` refuses modules with replace directives, and pkg/go.mod has some. A throwaway main
# module requires pkg/v3 and sdk/v3 at the same version (pkg's `sdk/v3 => ../sdk` is the same code, released at the
# same tag) and copies pkg's non-directory replaces (e.g. the clipboard fork), so MVS resolves pkg's own build list.
build_cli() {
  local mod="$WORK/cli" gomod
  mkdir -p "$mod"
  gomod=$(modinfo "github.com/pulumi/pulumi/pkg/v3@v$CLI" GoMod) || return 1
  (cd "$mod" && go mod edit -json "$gomod") >"$WORK/pkg-gomod.json" || return 1
  "$PY" - "$WORK/pkg-gomod.json" "$CLI" >"$mod/go.mod" <<'EOF' || return 1
import json, sys
gomod, version = json.load(open(sys.argv[1])), sys.argv[2]
print("module flinkplat.invalid/pulumi-cli")
print(f"go {gomod['Go']}")
for entry in gomod.get("Godebug") or []:
    print(f"godebug {entry['Key']}={entry['Value']}")
print(f"require github.com/pulumi/pulumi/pkg/v3 v{version}")
print(f"require github.com/pulumi/pulumi/sdk/v3 v{version}")
for r in gomod.get("Replace") or []:
    if r["New"].get("Version"):  # module replaces only: directory replaces point into pulumi's own repository
        old = r["Old"]["Path"] + (f" {r['Old']['Version']}" if r["Old"].get("Version") else "")
        print(f"replace {old} => {r['New']['Path']} {r['New']['Version']}")
EOF
  (cd "$mod" && run go build -trimpath \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$CLI" \
      -o "$DIR/bin/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi) || return 1
  mv "$DIR/bin/pulumi.tmp" "$DIR/bin/pulumi"
}

# The Kubernetes provider. provider/v4 is built inside a writable copy of its module: its two `//go:embed` files
# (schema-embed.json, terraform-mapping-embed.json) are gitignored upstream and made by its own generate.go, and its
# go.mod replaces sdk/v4 with ../sdk, which exists only in the repository; that replace points at a served version.
build_provider() {
  local src mod="$WORK/provider"
  src=$(modinfo "github.com/pulumi/pulumi-kubernetes/provider/v4@$K8S_MODULE" Dir) || return 1
  cp -r "$src" "$mod" && chmod -R u+w "$mod"
  (cd "$mod" && go mod edit \
      -replace "github.com/pulumi/pulumi-kubernetes/sdk/v4=github.com/pulumi/pulumi-kubernetes/sdk/v4@v$K8S_SDK_GO") \
    || return 1
  (cd "$mod/cmd/pulumi-resource-kubernetes" && VERSION=$K8S run go run ./generate.go) || return 1
  (cd "$mod" && run go build -trimpath \
      -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$K8S" \
      -o "$DIR/bin/pulumi-resource-kubernetes.tmp" ./cmd/pulumi-resource-kubernetes) || return 1
  mv "$DIR/bin/pulumi-resource-kubernetes.tmp" "$DIR/bin/pulumi-resource-kubernetes"
}

# Only a missing binary is built (the directory name carries both versions, the stamp the rest of the recipe).
if [ ! -x "$DIR/bin/pulumi" ]; then
  t0=$(date +%s); build_cli || fail "building the Pulumi CLI v$CLI"; cli_took="$(($(date +%s) - t0))s"
else cli_took=cached; fi
if [ ! -x "$DIR/bin/pulumi-resource-kubernetes" ]; then
  t0=$(date +%s); build_provider || fail "building pulumi-resource-kubernetes v$K8S"; k8s_took="$(($(date +%s) - t0))s"
else k8s_took=cached; fi

reported=$("$DIR/bin/pulumi" version 2>>"$LOG") || fail "running the built CLI"
[ "$reported" = "v$CLI" ] \
  || { echo "built CLI reports '$reported', expected v$CLI" >>"$LOG"; fail "checking the CLI version"; }

"$PY" - "$STAMP" "$WANT" "$DIR" "$CLI" "$K8S" "$K8S_MODULE" <<'EOF'
import json, os, sys
stamp, want, d, cli, k8s, k8s_module = sys.argv[1:]
doc = {"stamp": want, "bin_dir": os.path.join(d, "bin"),
       "pulumi": os.path.join(d, "bin", "pulumi"), "pulumi_cli_version": cli,
       "pulumi_resource_kubernetes": os.path.join(d, "bin", "pulumi-resource-kubernetes"),
       "kubernetes_provider_version": k8s,
       "kubernetes_provider_source": f"go-module-proxy:github.com/pulumi/pulumi-kubernetes/provider/v4@{k8s_module}"}
with open(stamp + ".tmp", "w") as out:
    json.dump(doc, out, indent=1)
os.replace(stamp + ".tmp", stamp)
EOF
echo "pulumi: ready (CLI v$CLI [$cli_took], pulumi-resource-kubernetes v$K8S [$k8s_took]) in $DIR" \
  "[$(($(date +%s) - start))s]"
