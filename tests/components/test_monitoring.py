"""FlinkMonitoring under Pulumi mocks: one PodMonitor, PrometheusRule and dashboard per Flink cluster copy."""

from __future__ import annotations

import copy

from flinkplat.plan.runner import plan_stack
from tests.conftest import resources_of, stack_document

MONITORING = "flinkplatform:monitoring:FlinkMonitoring"


def _by_key(plan: dict, kind: str) -> dict[str, dict]:
    return {r["name"].rsplit("/", 1)[0]: r for r in resources_of(plan, kind)}


def test_every_flink_cluster_copy_is_monitored(prod_plan, dev_plan):
    for plan in (prod_plan, dev_plan):
        deployments = {r["name"].rsplit("/", 1)[0]: r for r in resources_of(plan, "FlinkDeployment")}
        monitors, rules = _by_key(plan, "PodMonitor"), _by_key(plan, "PrometheusRule")
        dashboards = _by_key(plan, "ConfigMap")
        assert set(monitors) == set(rules) == set(deployments)
        assert set(deployments) <= set(dashboards)
        for key, deployment in deployments.items():
            for resource in (monitors[key], rules[key], dashboards[key]):
                assert resource["provider"] == deployment["provider"]
                assert MONITORING in resource["parent"]
                assert deployment["urn"] in resource["options"]["dependsOn"]
            assert monitors[key]["type"] == "kubernetes:monitoring.coreos.com/v1:PodMonitor"
            assert dashboards[key]["type"] == "kubernetes:core/v1:ConfigMap"
            assert dashboards[key]["inputs"]["metadata"]["labels"]["grafana_dashboard"] == "1"


def test_pod_monitor_port_is_the_port_the_pods_declare(prod_plan):
    monitors = _by_key(prod_plan, "PodMonitor")
    for deployment in resources_of(prod_plan, "FlinkDeployment"):
        spec = deployment["inputs"]["spec"]
        key = deployment["name"].rsplit("/", 1)[0]
        port = monitors[key]["inputs"]["spec"]["podMetricsEndpoints"][0]["port"]
        declared = [p["name"] for p in spec["podTemplate"]["spec"]["containers"][0]["ports"]]
        assert port in declared
        tm_template = spec["taskManager"].get("podTemplate")
        if tm_template:  # hostNetwork TaskManagers declare the metrics port as a hostPort
            assert port in [p["name"] for p in tm_template["spec"]["containers"][0]["ports"]]
        selector = monitors[key]["inputs"]["spec"]["selector"]["matchLabels"]
        pod_labels = spec["podTemplate"]["metadata"]["labels"]
        assert all(pod_labels.get(k) == v for k, v in selector.items())


def test_monitoring_can_be_switched_off(write_stack):
    document = copy.deepcopy(stack_document("dev"))
    document["config"]["flink-platform:monitoring"] = {"enabled": False}
    plan = plan_stack(stack_file=write_stack(document)).to_json()
    assert resources_of(plan, "PodMonitor") == resources_of(plan, "PrometheusRule") == []
    assert not [r for r in resources_of(plan, "NetworkPolicy")
                if r["inputs"]["metadata"]["name"] == "allow-monitoring-scrape"]


def test_dashboards_can_be_switched_off(write_stack):
    document = copy.deepcopy(stack_document("dev"))
    document["config"]["flink-platform:monitoring"] = {"grafanaDashboards": False,
                                                       "selectorLabels": {"prometheus": "k8s"}}
    plan = plan_stack(stack_file=write_stack(document)).to_json()
    assert not [r for r in resources_of(plan, "ConfigMap") if MONITORING in r["parent"]]
    for rule in resources_of(plan, "PrometheusRule"):
        assert rule["inputs"]["metadata"]["labels"]["prometheus"] == "k8s"
