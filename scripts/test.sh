#!/usr/bin/env bash
# The whole test suite on a fresh machine: Python env, Flink's own memory code (oracle), a real kube-apiserver +
# etcd (+ controller manager) with the upstream CRDs, the operator's own validator, promtool, the Pulumi CLI and
# Kubernetes provider (engine tests); then pytest. Extra arguments go to pytest.
# Downloads and builds are cached under ${FLINKPLAT_CACHE:-~/.cache/flink-platform}.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
for step in scripts/flink_oracle/setup.sh scripts/envtest/setup.sh scripts/operator_validator/setup.sh scripts/promtool/setup.sh \
    scripts/pulumi/setup.sh; do
  if [ -f "$step" ]; then
    t0=$(date +%s)
    if ! bash "$step"; then
      echo "test: $step failed" >&2
      [ "${CI:-}" = "true" ] && exit 1
      echo "test: continuing; the tests that need it will skip with a reason (locally only)" >&2
    fi
    echo "test: $step took $(( $(date +%s) - t0 ))s" >&2
  fi
done
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
# pytest exit 5 = no tests collected: that is a failure for us, not a pass.
exit $status
