#!/usr/bin/env bash
# The main job: set up (if needed) and render the dev stack offline with every policy — no cloud, no cluster,
# no Pulumi CLI. Extra arguments go to `flinkplat plan` (e.g. --json, --out plan-out).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/flinkplat plan --stack dev "$@"
