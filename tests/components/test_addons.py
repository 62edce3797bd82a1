"""ClusterAddons: pinned Helm releases per Kubernetes cluster, what decides which ones, and their ordering."""

from __future__ import annotations

from flinkplat import versions
from flinkplat.addons import addon_releases, operator_values
from flinkplat.config.models import KubernetesCluster, Monitoring
from tests.conftest import resources_of

RELEASE = "kubernetes:helm.sh/v3:Release"


def _kube(**addons) -> KubernetesCluster:
    return KubernetesCluster.model_validate({"name": "c1", "context": "c1", "addons": addons})


def test_default_cluster_gets_cert_manager_then_the_pinned_operator_with_its_webhook():
    releases = addon_releases(_kube(), watch_namespaces=["flink-b", "flink-a"])
    assert [(r.addon, r.release, r.chart, r.version, r.repo, r.namespace, r.after) for r in releases] == [
        ("cert-manager", "cert-manager", "cert-manager", versions.CERT_MANAGER_VERSION,
         "https://charts.jetstack.io", "cert-manager", ()),
        ("flink-operator", "flink-kubernetes-operator", "flink-kubernetes-operator", "1.15.0",
         "https://downloads.apache.org/flink/flink-kubernetes-operator-1.15.0/", "flink-operator", ("cert-manager",)),
    ]
    assert releases[0].values == {"crds": {"enabled": True}}
    assert releases[1].values == {
        "webhook": {"create": True},
        "jobServiceAccount": {"create": False},
        "rbac": {"create": True, "jobRole": {"create": False}, "jobRoleBinding": {"create": False}},
        "watchNamespaces": ["flink-a", "flink-b"],
    }


def test_operator_watches_all_namespaces_when_no_team_is_placed_on_the_cluster():
    assert "watchNamespaces" not in operator_values([])


def test_keda_when_asked_or_when_a_job_scales_through_keda():
    assert "keda" not in [r.addon for r in addon_releases(_kube())]
    for releases in (addon_releases(_kube(keda=True)), addon_releases(_kube(), needs_keda=True)):
        keda = next(r for r in releases if r.addon == "keda")
        assert (keda.chart, keda.version, keda.repo, keda.namespace) == (
            "keda", versions.KEDA_VERSION, "https://kedacore.github.io/charts", "keda")


def test_explicit_keda_false_is_never_overridden():
    """keda: false means KEDA is managed elsewhere (or, in the engine tests, its CRDs are installed by a fixture):
    no Helm release even when jobs scale through KEDA."""
    assert "keda" not in [r.addon for r in addon_releases(_kube(keda=False), needs_keda=True)]
    assert "keda" in [r.addon for r in addon_releases(_kube(), needs_keda=True)]


def test_prometheus_stack_release_name_matches_the_monitoring_selector():
    monitoring = Monitoring(namespace="observability", selector_labels={"release": "prom"})
    stack = next(r for r in addon_releases(_kube(prometheusStack=True), monitoring=monitoring)
                 if r.addon == "prometheus-stack")
    assert (stack.release, stack.chart, stack.version, stack.namespace) == (
        "prom", "kube-prometheus-stack", versions.KUBE_PROMETHEUS_STACK_CHART_VERSION, "observability")


def test_nothing_installed_when_every_addon_is_off():
    assert addon_releases(_kube(flinkOperator=False, certManager=False)) == []


def test_operator_without_cert_manager_does_not_wait_for_it():
    (operator,) = addon_releases(_kube(certManager=False))
    assert operator.after == ()


def test_prod_plan_has_pinned_releases_per_cluster_in_their_namespaces(prod_plan):
    releases = {(r["provider"], r["inputs"]["name"]): r for r in resources_of(prod_plan, "Release")}
    for cluster in ("use1-canary", "use1-main", "euw1-main"):
        provider = f"kubernetes:{cluster}"
        assert {name for p, name in releases if p == provider} == {"cert-manager", "flink-kubernetes-operator", "keda"}
        operator = releases[(provider, "flink-kubernetes-operator")]
        assert operator["type"] == RELEASE
        assert (operator["inputs"]["chart"], operator["inputs"]["version"]) == ("flink-kubernetes-operator", "1.15.0")
        assert operator["inputs"]["repositoryOpts"] == {"repo": versions.FLINK_OPERATOR_HELM_REPO}
        assert operator["inputs"]["namespace"] == "flink-operator"
        # the operator's release waits for cert-manager and for its namespace
        cert_manager = releases[(provider, "cert-manager")]["urn"]
        assert cert_manager in operator["options"]["dependsOn"]
        assert any(u.endswith(f"Namespace::{cluster}/flink-operator") for u in operator["options"]["dependsOn"])
    watched = {p: releases[(p, "flink-kubernetes-operator")]["inputs"]["values"]["watchNamespaces"]
               for p in ("kubernetes:use1-canary", "kubernetes:use1-main")}
    assert watched == {"kubernetes:use1-canary": ["flink-payments"],
                       "kubernetes:use1-main": ["flink-logistics", "flink-payments"]}


def test_operator_release_waits_for_the_team_namespaces_it_creates_rbac_in(prod_plan):
    operator = next(r for r in resources_of(prod_plan, "Release")
                    if r["provider"] == "kubernetes:use1-canary" and r["inputs"]["name"] == "flink-kubernetes-operator")
    assert any(u.endswith("Namespace::use1-canary/flink-payments") for u in operator["options"]["dependsOn"])


def test_dev_cluster_has_no_keda_and_add_on_namespaces(dev_plan):
    names = sorted(r["inputs"]["name"] for r in resources_of(dev_plan, "Release"))
    assert names == ["cert-manager", "flink-kubernetes-operator"]
    namespaces = {r["inputs"]["metadata"]["name"] for r in resources_of(dev_plan, "Namespace")
                  if "flink-platform/addon" in r["inputs"]["metadata"].get("labels", {})}
    assert namespaces == {"cert-manager", "flink-operator"}
