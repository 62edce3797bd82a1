#!/usr/bin/env bash
# Install promtool (Prometheus's own rule checker and rule unit-test runner) for tests/k8s/test_promtool_rules.py.
#
# Only the promtool binary is taken from Debian's `prometheus` package, at the version pinned in
# flinkplat.versions.PROMTOOL_DEBIAN_VERSION: the .deb is fetched with `apt-get download` (no install, so no
# Prometheus service is created or started) and unpacked with dpkg-deb into
# ${FLINKPLAT_CACHE:-$HOME/.cache/flink-platform}/promtool/<version>/promtool. Idempotent: nothing is fetched when
# that binary is present and runs. Nothing is written into the repository.
#
# Needs: apt-get and dpkg-deb (Debian/Ubuntu with the Debian archive reachable); `apt-get update` runs only when
# apt does not know the pinned version yet (as root, or through passwordless sudo).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
VERSION="$(pin PROMTOOL_DEBIAN_VERSION)"
DEST_DIR="$CACHE_ROOT/promtool/$VERSION"
DEST="$DEST_DIR/promtool"

log() { echo "[promtool] $*" >&2; }

if [[ -x "$DEST" ]] && "$DEST" --version >/dev/null 2>&1; then
  log "cached: $DEST"
  exit 0
fi

for tool in apt-get apt-cache dpkg-deb tar; do
  command -v "$tool" >/dev/null || { echo "error: '$tool' is required to fetch promtool from Debian" >&2; exit 1; }
done

as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo -n "$@"
  else echo "error: '$*' needs root (or passwordless sudo)" >&2; return 1
  fi
}

known() { apt-cache madison prometheus 2>/dev/null | awk -F'|' '{gsub(/ /, "", $2); print $2}' | grep -qxF "$VERSION"; }
if ! known; then
  log "apt does not know prometheus=$VERSION yet: apt-get update"
  as_root apt-get update -qq
  known || { echo "error: Debian has no prometheus=$VERSION (see flinkplat/versions.py PROMTOOL_DEBIAN_VERSION)" >&2; exit 1; }
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/promtool.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
chmod 0777 "$WORK"  # apt downloads as its sandbox user (_apt), which must be able to write here
log "downloading prometheus=$VERSION (.deb, not installed)"
(cd "$WORK" && apt-get download -qq "prometheus=$VERSION")
deb="$(ls "$WORK"/prometheus_*.deb)"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$WORK" ./usr/bin/promtool
mkdir -p "$DEST_DIR"
install -m 0755 "$WORK/usr/bin/promtool" "$DEST.tmp"
mv "$DEST.tmp" "$DEST"
"$DEST" --version >&2
log "installed: $DEST"
