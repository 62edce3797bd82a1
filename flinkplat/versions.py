"""Every version the platform deploys or tests against, pinned in one place.

Python package pins live in pyproject.toml (pip cannot read them from here); everything else is here, and
scripts read it with `python -m flinkplat.versions KEY`.
"""

from __future__ import annotations

import sys

# The Apache Flink Kubernetes Operator we deploy and whose CRDs/validator we check against.
FLINK_OPERATOR_VERSION = "1.15.0"
FLINK_OPERATOR_HELM_REPO = "https://downloads.apache.org/flink/flink-kubernetes-operator-1.15.0/"
CERT_MANAGER_VERSION = "v1.19.1"
KEDA_VERSION = "2.20.2"
PROMETHEUS_OPERATOR_VERSION = "0.93.0"
KUBE_PROMETHEUS_STACK_CHART_VERSION = "88.5.3"
# Helm repositories of the per-cluster add-ons (components/addons.py); chart versions are the pins above
# (cert-manager's chart version is its app version with the leading v; KEDA's chart version equals its app version).
CERT_MANAGER_HELM_REPO = "https://charts.jetstack.io"
KEDA_HELM_REPO = "https://kedacore.github.io/charts"
PROMETHEUS_COMMUNITY_HELM_REPO = "https://prometheus-community.github.io/helm-charts"

# The newest operator release whose jar (holding DefaultValidator) Maven Central has: 1.15.0's is not published.
# Used only to prove the validator harness works; see docs/acceptance-tests.md.
OPERATOR_VALIDATOR_HARNESS_CHECK_VERSION = "1.7.0"

# Flink: the default version for new clusters and the images per supported version.
DEFAULT_FLINK_VERSION = "1.20"
FLINK_IMAGES = {
    "1.19": "flink:1.19.3-scala_2.12-java17",
    "1.20": "flink:1.20.3-scala_2.12-java17",
    "2.0": "flink:2.0.1-scala_2.12-java17",
    "2.1": "flink:2.1.1-scala_2.12-java17",
    "2.2": "flink:2.2.0-scala_2.12-java17",
}
# Full patch version of each image, used for jar names such as flink-s3-fs-presto-<patch>.jar.
FLINK_PATCH_VERSIONS = {minor: image.split(":")[1].split("-")[0] for minor, image in FLINK_IMAGES.items()}

# Flink distributions whose own memory code (BashJavaUtils) is the oracle for our memory model tests.
FLINK_ORACLE_VERSIONS = ("1.20.3", "2.2.0")

# promtool, to check and unit-test the rendered PrometheusRules (scripts/promtool/setup.sh extracts only the
# promtool binary from Debian bookworm's `prometheus` package; no Prometheus service is installed or started).
PROMTOOL_DEBIAN_VERSION = "2.42.0+ds-5+deb12u1"

# Kubernetes control plane used by the acceptance tests (a version EKS supports).
KUBERNETES_VERSION = "1.33.13"
ETCD_VERSION = "3.5.21"

# The real Pulumi engine for the engine tests (scripts/pulumi/setup.sh builds both from the Go module proxy; no
# registry ships binaries). The CLI is newer than the pinned Python SDK (pyproject.toml: pulumi 3.272.0) because
# the proxy refuses pkg/v3 v3.272.0; a CLI newer than the SDK is supported by Pulumi.
PULUMI_CLI_VERSION = "3.274.1"
# pulumi-kubernetes has no provider/v4.* tags, so the proxy serves only pseudo-versions; this one is tag v4.25.0
# (the Python SDK pinned in pyproject.toml is 4.34.2: the engine warns it expects >= 4.34.2, and works).
PULUMI_KUBERNETES_PROVIDER_MODULE_VERSION = "v4.0.0-20260115033456-f47bc2d6f199"
PULUMI_KUBERNETES_PROVIDER_VERSION = "4.25.0"
# The provider's go.mod replaces sdk/v4 with ../sdk and requires v4.24.0, which the proxy does not serve.
PULUMI_KUBERNETES_SDK_GO_REPLACEMENT_VERSION = "4.22.2"


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in globals():
        print("usage: python -m flinkplat.versions NAME", file=sys.stderr)
        return 2
    value = globals()[argv[0]]
    print(" ".join(value) if isinstance(value, tuple) else value)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
