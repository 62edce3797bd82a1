"""flinkplat.k8s.monitoring: PodMonitor, alerts on real Flink metric names, dashboard (pure)."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest

from flinkplat.config.errors import ConfigError
from flinkplat.config.fleet import resolve
from flinkplat.k8s import monitoring
from tests.k8s.conftest import cluster_doc, load_document, placement_of
from tests.conftest import stack_document

WAREHOUSE = "use1-main/flink-logistics/warehouse"
ENRICH = "use1-main/flink-payments/payments-enrich"
# Metric names that look right and are wrong (FACTS §4.2: blogs, UI fields, invented names).
WRONG = ("backPressureRatio", "taskManager.backPressure", "_total", "uptime", "recordsLagMax",
         "isBackPressuredTimeMsPerSecond", "isBackPressured")


def _rules(placement) -> dict[str, dict]:
    return {r["alert"]: r for r in monitoring.alert_rules(placement)}


def _metric_names(expr: str) -> set[str]:
    names = set(re.findall(r"\b((?:flink|container)_[A-Za-z0-9_]+)\s*\{", expr))
    return names


def test_pod_monitor_selects_jobmanager_and_taskmanager_pods_on_the_named_port(prod_loaded):
    placement = placement_of(prod_loaded, WAREHOUSE)
    pm = monitoring.pod_monitor(placement, prod_loaded.config.monitoring)
    assert pm["apiVersion"] == "monitoring.coreos.com/v1" and pm["kind"] == "PodMonitor"
    assert pm["metadata"]["name"] == "warehouse-flink"
    assert pm["metadata"]["namespace"] == "flink-logistics"
    assert pm["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert pm["spec"]["selector"] == {
        "matchLabels": {"app.kubernetes.io/name": "warehouse"},
        "matchExpressions": [{"key": "component", "operator": "In", "values": ["jobmanager", "taskmanager"]}]}
    (endpoint,) = pm["spec"]["podMetricsEndpoints"]
    assert endpoint["port"] == "metrics"
    assert endpoint["relabelings"][0] == {
        "action": "replace", "sourceLabels": ["__meta_kubernetes_pod_label_app_kubernetes_io_name"],
        "targetLabel": "flink_cluster"}


def test_selector_labels_come_from_the_stack(prod_doc):
    prod_doc["config"]["flink-platform:monitoring"]["selectorLabels"] = {"prometheus": "platform"}
    loaded = load_document(prod_doc)
    pm = monitoring.pod_monitor(placement_of(loaded, WAREHOUSE), loaded.config.monitoring)
    assert pm["metadata"]["labels"]["prometheus"] == "platform"
    assert "release" not in pm["metadata"]["labels"]


def test_alerts_use_only_real_flink_metric_names(prod_loaded, dev_loaded):
    for loaded in (prod_loaded, dev_loaded):
        for placement in resolve(loaded.config):
            for rule in monitoring.alert_rules(placement):
                expr = rule["expr"]
                assert expr.count("(") == expr.count(")") and expr.count("{") == expr.count("}"), expr
                names = _metric_names(expr)
                assert names and names <= set(monitoring.FLINK_METRICS), (rule["alert"], names)
                assert not any(w in expr for w in WRONG), expr
                assert f'namespace="{placement.namespace}", flink_cluster="{placement.cluster.name}"' in expr


def test_the_alert_set(prod_loaded):
    rules = _rules(placement_of(prod_loaded, WAREHOUSE))
    s = 'namespace="flink-logistics", flink_cluster="warehouse"'
    assert list(rules) == ["FlinkJobRestarting", "FlinkJobNotRunning", "FlinkCheckpointsFailing",
                           "FlinkCheckpointsNotCompleting", "FlinkCheckpointDurationNearTimeout",
                           "FlinkBackpressure", "FlinkSourceBacklogGrowing", "FlinkTaskManagerHeapNearMax"]
    assert rules["FlinkJobRestarting"]["expr"] == f"increase(flink_jobmanager_job_numRestarts{{{s}}}[10m]) > 0"
    assert rules["FlinkJobNotRunning"]["expr"] == (
        f"max by (namespace, flink_cluster, job_name) (flink_jobmanager_job_runningTime{{{s}}}) == 0")
    assert rules["FlinkJobNotRunning"]["for"] == "5m"
    assert rules["FlinkCheckpointsFailing"]["expr"] == (
        f"increase(flink_jobmanager_job_numberOfFailedCheckpoints{{{s}}}[15m]) > 0")
    assert rules["FlinkCheckpointsNotCompleting"]["expr"] == (
        f"increase(flink_jobmanager_job_numberOfCompletedCheckpoints{{{s}}}[15m]) == 0")
    assert rules["FlinkBackpressure"]["expr"] == (
        "max by (namespace, flink_cluster, job_name, task_name) (avg_over_time("
        f"flink_taskmanager_job_task_backPressuredTimeMsPerSecond{{{s}}}[5m])) > 500")
    assert rules["FlinkBackpressure"]["for"] == "10m"
    assert rules["FlinkTaskManagerHeapNearMax"]["expr"] == (
        f"max by (namespace, flink_cluster, pod) (flink_taskmanager_Status_JVM_Memory_Heap_Used{{{s}}} "
        f"/ flink_taskmanager_Status_JVM_Memory_Heap_Max{{{s}}}) > 0.9")
    for rule in rules.values():
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert rule["labels"]["team"] == "logistics"
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def test_checkpoint_duration_alert_uses_the_configured_timeout(prod_loaded, dev_loaded):
    # prod default timeout 10min -> 80 % = 480000 ms; dev clickstream sets 5min -> 240000 ms.
    prod_rule = _rules(placement_of(prod_loaded, WAREHOUSE))["FlinkCheckpointDurationNearTimeout"]
    assert prod_rule["expr"].endswith(") > 480000")
    assert "configured timeout is 600000 ms" in prod_rule["annotations"]["description"]
    dev_rule = _rules(placement_of(dev_loaded, "dev-local/flink-analytics/clickstream"))[
        "FlinkCheckpointDurationNearTimeout"]
    assert dev_rule["expr"] == ('max by (namespace, flink_cluster, job_name) (flink_jobmanager_job_lastCheckpointDuration'
                                '{namespace="flink-analytics", flink_cluster="clickstream"}) > 240000')


def test_a_flink_configuration_timeout_override_wins(prod_doc):
    cluster_doc(prod_doc, "warehouse").setdefault("flinkConfiguration", {})[
        "execution.checkpointing.timeout"] = "20 min"
    cluster_doc(prod_doc, "warehouse")["checkpointing"] = {"interval": "10min", "timeout": "30min"}
    rules = _rules(placement_of(load_document(prod_doc), WAREHOUSE))
    assert rules["FlinkCheckpointDurationNearTimeout"]["expr"].endswith(") > 960000")
    # Completed-checkpoint window spans three intervals when the interval is long.
    assert "[30m]) == 0" in rules["FlinkCheckpointsNotCompleting"]["expr"]


@pytest.mark.parametrize("value,ms", [("10 min", 600_000), ("600s", 600_000), ("600000", 600_000), ("1h", 3_600_000),
                                      ("2 minutes", 120_000), ("abc", None), ("5 fortnights", None)])
def test_flink_duration_ms(value, ms):
    assert monitoring.flink_duration_ms(value) == ms


def test_backlog_alert_threshold_follows_kafka_lag_autoscaling(prod_loaded):
    enrich = _rules(placement_of(prod_loaded, ENRICH))["FlinkSourceBacklogGrowing"]
    pending = ('sum by (namespace, flink_cluster, job_name) (flink_taskmanager_job_task_operator_pendingRecords'
               '{namespace="flink-payments", flink_cluster="payments-enrich"})')
    assert enrich["expr"] == f"({pending} > 600) and (deriv({pending}[15m:1m]) > 0)"  # 50 lag × 12 TaskManagers
    warehouse = _rules(placement_of(prod_loaded, WAREHOUSE))["FlinkSourceBacklogGrowing"]
    assert "> 100000) and" in warehouse["expr"]


def test_prometheus_rule_groups_one_cluster(prod_loaded):
    rule = monitoring.prometheus_rule(placement_of(prod_loaded, WAREHOUSE), prod_loaded.config.monitoring)
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    (group,) = rule["spec"]["groups"]
    assert group["name"] == "flink.flink-logistics.warehouse"
    assert len(group["rules"]) == 8


def test_dashboard_config_map_for_the_grafana_sidecar(prod_loaded):
    placement = placement_of(prod_loaded, WAREHOUSE)
    cm = monitoring.dashboard_config_map(placement, prod_loaded.config.monitoring)
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert cm["metadata"]["namespace"] == "monitoring"
    assert cm["metadata"]["name"] == "flink-flink-logistics-warehouse"
    (body,) = cm["data"].values()
    dashboard = json.loads(body)
    titles = [p["title"] for p in dashboard["panels"]]
    assert titles == ["Throughput in (records/s)", "Throughput out (records/s)", "Backpressure (ms/s, max 1000)",
                      "Busy time (ms/s, max 1000)", "Checkpoint duration", "Checkpoint size",
                      "Source backlog (pendingRecords)", "Restarts and failed checkpoints (1h)",
                      "CPU per TaskManager (cores)", "Memory per TaskManager"]
    allowed = set(monitoring.FLINK_METRICS) | set(monitoring.CONTAINER_METRICS)
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            names = _metric_names(target["expr"])
            assert names and names <= allowed, target["expr"]
            assert not any(w in target["expr"] for w in WRONG if w != "_total"), target["expr"]
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    assert dashboard["uid"] == monitoring.dashboard_uid(placement) and len(dashboard["uid"]) <= 40


def test_dashboard_json_from_the_template_is_byte_for_byte_the_encoders(prod_loaded, dev_loaded):
    for loaded in (prod_loaded, dev_loaded):
        for placement in resolve(loaded.config):
            assert monitoring.dashboard_json(placement) == json.dumps(monitoring.dashboard(placement), indent=1,
                                                                      sort_keys=True)
    # Strings JSON must escape, and one holding another field's marker text: replaced once, never twice.
    odd = SimpleNamespace(namespace='ns"\\é', cluster=SimpleNamespace(name="c\u2028\U0001F600"),
                          team=SimpleNamespace(name="@@flinkplat-dashboard-kube@@"), kube=SimpleNamespace(name="k</"),
                          key="odd/key")
    assert monitoring.dashboard_json(odd) == json.dumps(monitoring.dashboard(odd), indent=1, sort_keys=True)


def test_service_monitor_variant_selects_the_operators_pod_labels_per_mode(prod_doc):
    prod_doc["config"]["flink-platform:monitoring"]["scrape"] = "serviceMonitor"
    loaded = load_document(prod_doc)
    mon = loaded.config.monitoring
    assert monitoring.scrape_objects(placement_of(loaded, WAREHOUSE), mon)[1]["kind"] == "ServiceMonitor"
    for key, mode_type in ((WAREHOUSE, "flink-native-kubernetes"), (ENRICH, "flink-standalone-kubernetes")):
        placement = placement_of(loaded, key)
        service, monitor = monitoring.scrape_objects(placement, mon)
        name = placement.cluster.name
        assert service["metadata"]["name"] == f"{name}-metrics"
        assert service["spec"]["selector"] == {"app": name, "type": mode_type, "app.kubernetes.io/name": name}
        assert service["spec"]["ports"] == [{"name": "metrics", "port": 9249, "protocol": "TCP",
                                             "targetPort": "metrics"}]
        assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        assert monitor["spec"]["endpoints"][0]["relabelings"] == monitoring.relabelings()
    # the default stays a PodMonitor
    default = load_document(stack_document("prod"))
    assert [o["kind"] for o in monitoring.scrape_objects(placement_of(default, WAREHOUSE),
                                                         default.config.monitoring)] == ["PodMonitor"]


def test_unknown_scrape_mode_is_a_config_error(prod_doc):
    prod_doc["config"]["flink-platform:monitoring"]["scrape"] = "serviceMonitors"
    with pytest.raises(ConfigError) as err:
        load_document(prod_doc)
    assert ("flink-platform:monitoring.scrape: 'serviceMonitors' is not allowed; did you mean 'serviceMonitor'? "
            "allowed: 'podMonitor' or 'serviceMonitor'") in str(err.value)
