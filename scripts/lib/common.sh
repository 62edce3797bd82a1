# Sourced by every scripts/*/setup.sh: the repository root, the Python that reads the version pins
# (flinkplat/versions.py), and the cache root of downloads and builds.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PY=${FLINKPLAT_PYTHON:-${PYTHON:-$ROOT/.venv/bin/python}}
[ -x "$PY" ] || PY=$(command -v python3)
CACHE_ROOT=${FLINKPLAT_CACHE:-$HOME/.cache/flink-platform}
pin() { (cd "$ROOT" && PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" "$PY" -m flinkplat.versions "$1"); }
