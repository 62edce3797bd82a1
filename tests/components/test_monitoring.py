"""FlinkMonitoring under Pulumi mocks: one PodMonitor (or metrics Service + ServiceMonitor), PrometheusRule and
dashboard per Flink cluster copy."""

from __future__ import annotations

import copy

import pytest

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


# -- monitoring.scrape: serviceMonitor ------------------------------------------------------------------------

# Labels Flink (native) and the operator (standalone) put on JobManager and TaskManager pods, besides the pod
# template's own (flink-kubernetes `Constants`, operator `StandaloneKubernetesUtils`).
OPERATOR_TYPE = {"native": "flink-native-kubernetes", "standalone": "flink-standalone-kubernetes"}


def _pod_labels(deployment: dict, component: str) -> dict[str, str]:
    spec = deployment["inputs"]["spec"]
    labels = dict(spec["podTemplate"]["metadata"]["labels"])
    if component == "taskmanager":
        labels.update((spec["taskManager"].get("podTemplate") or {}).get("metadata", {}).get("labels", {}))
    labels.update({"app": deployment["inputs"]["metadata"]["name"], "component": component,
                   "type": OPERATOR_TYPE[spec.get("mode") or "native"]})
    return labels


def _declared_ports(deployment: dict, component: str) -> list[str]:
    spec = deployment["inputs"]["spec"]
    template = spec["podTemplate"]
    if component == "taskmanager" and spec["taskManager"].get("podTemplate"):
        template = spec["taskManager"]["podTemplate"]
    return [p["name"] for p in template["spec"]["containers"][0]["ports"]]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_service_monitor_scrapes_every_jobmanager_and_taskmanager(stack, service_monitor_plan):
    plan = service_monitor_plan(stack)
    assert resources_of(plan, "PodMonitor") == []
    assert [(v["policy"], v["level"]) for v in plan["violations"]] == []
    deployments = {r["name"].rsplit("/", 1)[0]: r for r in resources_of(plan, "FlinkDeployment")}
    services = {r["name"].rsplit("/", 1)[0]: r for r in resources_of(plan, "Service")
                if r["name"].endswith("/metrics-service")}
    monitors = _by_key(plan, "ServiceMonitor")
    assert set(services) == set(monitors) == set(deployments)
    modes = set()
    for key, deployment in deployments.items():
        service, monitor = services[key]["inputs"], monitors[key]["inputs"]
        assert MONITORING in services[key]["parent"] and MONITORING in monitors[key]["parent"]
        assert services[key]["provider"] == monitors[key]["provider"] == deployment["provider"]
        assert service["metadata"]["namespace"] == monitor["metadata"]["namespace"] == \
            deployment["inputs"]["metadata"]["namespace"]
        assert service["spec"]["clusterIP"] == "None"  # headless: Prometheus scrapes each pod
        # the ServiceMonitor selects this Service, and its endpoint names the Service's port
        assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
        (endpoint,) = monitor["spec"]["endpoints"]
        (port,) = service["spec"]["ports"]
        assert endpoint["port"] == port["name"]
        for component in ("jobmanager", "taskmanager"):
            # the Service selects both components' pods, and targets the container port they declare
            assert service["spec"]["selector"].items() <= _pod_labels(deployment, component).items(), (key, component)
            assert port["targetPort"] in _declared_ports(deployment, component)
        modes.add(deployment["inputs"]["spec"].get("mode") or "native")
    if stack == "prod":
        assert modes == {"native", "standalone"}


def test_service_monitor_relabels_like_the_pod_monitor(prod_plan, service_monitor_plan):
    """Same series labels either way, so the alerts (tests/k8s/test_promtool_rules.py) hold for both."""
    pod_monitors = _by_key(prod_plan, "PodMonitor")
    service_monitors = _by_key(service_monitor_plan("prod"), "ServiceMonitor")
    assert set(pod_monitors) == set(service_monitors)
    for key, pod_monitor in pod_monitors.items():
        (pod_endpoint,) = pod_monitor["inputs"]["spec"]["podMetricsEndpoints"]
        (service_endpoint,) = service_monitors[key]["inputs"]["spec"]["endpoints"]
        assert service_endpoint["relabelings"] == pod_endpoint["relabelings"]
        assert (service_endpoint["path"], service_endpoint["interval"]) == (pod_endpoint["path"],
                                                                             pod_endpoint["interval"])


def test_tenancy_still_lets_prometheus_scrape_through_the_service(service_monitor_plan):
    plan = service_monitor_plan("prod")
    policies = {(r["provider"], r["inputs"]["metadata"]["namespace"]): r["inputs"]
                for r in resources_of(plan, "NetworkPolicy")
                if r["inputs"]["metadata"]["name"] == "allow-monitoring-scrape"}
    services = [r for r in resources_of(plan, "Service") if r["name"].endswith("/metrics-service")]
    assert len(services) == 9
    for resource in services:
        service = resource["inputs"]
        policy = policies[(resource["provider"], service["metadata"]["namespace"])]
        assert policy["spec"]["podSelector"] == {}  # every pod of the namespace
        [rule] = policy["spec"]["ingress"]
        assert rule["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]
        # a headless Service sends Prometheus straight to the pod port: the policy must open that (named) port
        assert {"protocol": "TCP", "port": service["spec"]["ports"][0]["targetPort"]} in rule["ports"]
