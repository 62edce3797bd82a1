"""The platform add-ons of one Kubernetes cluster as pinned Helm release specs. Pure: `components/addons.py` turns
them into `helm.v3.Release`s and the rollout planner lists them per wave.

- cert-manager (with its CRDs): the Flink operator's admission webhook gets its certificate from it.
- the Apache Flink Kubernetes Operator, webhook on, watching the team namespaces placed on the cluster (all
  namespaces when no Flink cluster is placed there).
- KEDA, when `addons.keda` is set or any Flink cluster on the cluster scales through KEDA.
- kube-prometheus-stack, when `addons.prometheusStack` is set; its release name is the `release` label of
  `monitoring.selectorLabels`, so it selects the platform's PodMonitors and PrometheusRules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from flinkplat import versions
from flinkplat.config.models import KubernetesCluster, Monitoring

CERT_MANAGER_NAMESPACE = "cert-manager"
KEDA_NAMESPACE = "keda"


@dataclass(frozen=True)
class ReleaseSpec:
    """One Helm release: everything `helm upgrade --install` needs, pinned."""

    addon: str  # cert-manager | flink-operator | keda | prometheus-stack
    release: str  # Helm release name (fixed: Pulumi must not add a random suffix)
    chart: str
    version: str
    repo: str
    namespace: str
    values: dict[str, Any] = field(default_factory=dict)
    after: tuple[str, ...] = ()  # add-ons that must be ready first


def operator_values(watch_namespaces: Sequence[str]) -> dict[str, Any]:
    """Values of the flink-kubernetes-operator chart. The platform's FlinkCluster component creates each cluster's
    own service account and RBAC, so the chart's shared `flink` job account and role are not created."""
    values: dict[str, Any] = {
        "webhook": {"create": True},
        "jobServiceAccount": {"create": False},
        "rbac": {"create": True, "jobRole": {"create": False}, "jobRoleBinding": {"create": False}},
    }
    if watch_namespaces:
        values["watchNamespaces"] = sorted(set(watch_namespaces))
    return values


def addon_releases(kube: KubernetesCluster, needs_keda: bool = False, watch_namespaces: Sequence[str] = (),
                   monitoring: Monitoring | None = None) -> list[ReleaseSpec]:
    """The Helm releases the stack asks for on `kube`, in install order."""
    monitoring = monitoring or Monitoring()
    addons = kube.addons
    releases: list[ReleaseSpec] = []
    if addons.cert_manager:
        releases.append(ReleaseSpec(
            addon="cert-manager", release="cert-manager", chart="cert-manager",
            version=versions.CERT_MANAGER_VERSION, repo=versions.CERT_MANAGER_HELM_REPO,
            namespace=CERT_MANAGER_NAMESPACE, values={"crds": {"enabled": True}}))
    if addons.flink_operator:
        releases.append(ReleaseSpec(
            addon="flink-operator", release="flink-kubernetes-operator", chart="flink-kubernetes-operator",
            version=versions.FLINK_OPERATOR_VERSION, repo=versions.FLINK_OPERATOR_HELM_REPO,
            namespace=kube.operator_namespace, values=operator_values(watch_namespaces),
            after=("cert-manager",) if addons.cert_manager else ()))
    if addons.keda or (addons.keda is None and needs_keda):  # an explicit false: KEDA is installed elsewhere
        releases.append(ReleaseSpec(
            addon="keda", release="keda", chart="keda", version=versions.KEDA_VERSION,
            repo=versions.KEDA_HELM_REPO, namespace=KEDA_NAMESPACE))
    if addons.prometheus_stack:
        release = monitoring.selector_labels.get("release", "kube-prometheus-stack")
        releases.append(ReleaseSpec(
            addon="prometheus-stack", release=release, chart="kube-prometheus-stack",
            version=versions.KUBE_PROMETHEUS_STACK_CHART_VERSION, repo=versions.PROMETHEUS_COMMUNITY_HELM_REPO,
            namespace=monitoring.namespace,
            values={"prometheus": {"prometheusSpec": {
                "podMonitorSelectorNilUsesHelmValues": True, "ruleSelectorNilUsesHelmValues": True}}}))
    return releases
