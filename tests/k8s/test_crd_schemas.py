"""Every ScaledObject, TriggerAuthentication, PodMonitor, ServiceMonitor and PrometheusRule of the dev and prod plans
(and of their `monitoring.scrape: serviceMonitor` variants) validates against the upstream CRD openAPIV3Schema
(KEDA 2.x, Prometheus Operator) in shared/reference/crds, including the API server's pruning of unknown fields."""

from __future__ import annotations

import copy

import pytest

from tests.conftest import CRDS, resources_of
from tests.support.crd import crd_errors, load_crd_schema

SCHEMAS = {
    "ScaledObject": (CRDS / "keda.sh_scaledobjects.yaml", "v1alpha1", "keda.sh/v1alpha1"),
    "TriggerAuthentication": (CRDS / "keda.sh_triggerauthentications.yaml", "v1alpha1", "keda.sh/v1alpha1"),
    "PodMonitor": (CRDS / "monitoring.coreos.com_podmonitors.yaml", "v1", "monitoring.coreos.com/v1"),
    "PrometheusRule": (CRDS / "monitoring.coreos.com_prometheusrules.yaml", "v1", "monitoring.coreos.com/v1"),
    "ServiceMonitor": (CRDS / "monitoring.coreos.com_servicemonitors.yaml", "v1", "monitoring.coreos.com/v1"),
}
# How many of each the checked-in stacks render (so a silently skipped component fails the test).
EXPECTED = {
    "dev": {"ScaledObject": 0, "TriggerAuthentication": 0, "PodMonitor": 2, "PrometheusRule": 2, "ServiceMonitor": 0},
    "prod": {"ScaledObject": 3, "TriggerAuthentication": 2, "PodMonitor": 9, "PrometheusRule": 9,
             "ServiceMonitor": 0},
}


def _schema(kind: str) -> dict:
    path, version, _ = SCHEMAS[kind]
    return load_crd_schema(path, version)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_rendered_objects_match_the_upstream_crds(stack, dev_plan, prod_plan):
    plan = dev_plan if stack == "dev" else prod_plan
    counts = {}
    for kind, (_, _, api_version) in SCHEMAS.items():
        resources = resources_of(plan, kind)
        counts[kind] = len(resources)
        for resource in resources:
            assert resource["type"] == f"kubernetes:{api_version}:{kind}"
            assert resource["inputs"]["apiVersion"] == api_version
            assert crd_errors(resource["inputs"], _schema(kind)) == [], resource["name"]
    assert counts == EXPECTED[stack]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_service_monitor_variant_matches_the_upstream_crds(stack, service_monitor_plan):
    """monitoring.scrape: serviceMonitor renders a ServiceMonitor instead of each PodMonitor."""
    plan = service_monitor_plan(stack)
    monitors = resources_of(plan, "ServiceMonitor")
    assert len(monitors) == EXPECTED[stack]["PodMonitor"] and resources_of(plan, "PodMonitor") == []
    for kind in ("ServiceMonitor", "PrometheusRule"):
        for resource in resources_of(plan, kind):
            assert resource["type"] == f"kubernetes:monitoring.coreos.com/v1:{kind}"
            assert crd_errors(resource["inputs"], _schema(kind)) == [], resource["name"]


def test_a_misspelt_service_monitor_field_is_caught(service_monitor_plan):
    manifest = copy.deepcopy(resources_of(service_monitor_plan("prod"), "ServiceMonitor")[0]["inputs"])
    manifest["spec"]["endpoints"][0]["targetPort"] = 9249  # a real field, but deprecated; then a wrong one
    assert crd_errors(manifest, _schema("ServiceMonitor")) == []
    manifest["spec"]["endpoints"][0]["relabelings"][0]["sourceLabel"] = "x"
    assert crd_errors(manifest, _schema("ServiceMonitor")) == [
        ".spec.endpoints[0].relabelings[0].sourceLabel: unknown field (the API server would prune it)"]


def test_a_numeric_trigger_value_is_caught(prod_plan):
    manifest = copy.deepcopy(next(r for r in resources_of(prod_plan, "ScaledObject")
                                  if r["inputs"]["spec"]["triggers"][0]["type"] == "kafka")["inputs"])
    manifest["spec"]["triggers"][0]["metadata"]["lagThreshold"] = 50
    assert crd_errors(manifest, _schema("ScaledObject")) == [
        "spec.triggers.0.metadata.lagThreshold: 50 is not of type 'string'"]


def test_a_misspelt_pod_monitor_field_is_caught(prod_plan):
    manifest = copy.deepcopy(resources_of(prod_plan, "PodMonitor")[0]["inputs"])
    manifest["spec"]["podMetricsEndpoints"][0]["ports"] = "metrics"
    assert crd_errors(manifest, _schema("PodMonitor")) == [
        ".spec.podMetricsEndpoints[0].ports: unknown field (the API server would prune it)"]
