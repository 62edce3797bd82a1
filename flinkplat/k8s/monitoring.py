"""Monitoring of one Flink cluster copy: a PodMonitor (JobManager and TaskManager pods — native TaskManagers have no
Service) or, with `monitoring.scrape: serviceMonitor`, a headless metrics Service of our own plus a ServiceMonitor;
a PrometheusRule written on Flink's real Prometheus metric names (FACTS §4.2) and a Grafana dashboard ConfigMap for
the Grafana sidecar.

Metric names: `flink_` + scope + metric, joined by `_`; counters are exported as gauges without `_total`. The
PodMonitor copies the pod label `app.kubernetes.io/name` into the series label `flink_cluster`, so every alert and
panel selects one cluster copy with `{namespace="<ns>", flink_cluster="<name>"}`.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Any

from flinkplat.config.fleet import Placement
from flinkplat.config.models import Monitoring
from flinkplat.flink.durations import parse_duration_ms
from flinkplat.flink.deployment import METRICS_PORT_NAME, labels as flink_labels, metrics_port
from flinkplat.flink.scaling import decide
from flinkplat.k8s.tenancy import COMPONENT_LABEL, NAME_LABEL

CLUSTER_LABEL = "flink_cluster"
DASHBOARD_LABEL = "grafana_dashboard"
CHECKPOINT_TIMEOUT_KEY = "execution.checkpointing.timeout"
CHECKPOINT_INTERVAL_KEY = "execution.checkpointing.interval"
CHECKPOINT_TIMEOUT_RATIO = 0.8  # alert when the last checkpoint took 80 % of the configured timeout
BACKPRESSURE_MS_PER_S = 500  # backPressuredTimeMsPerSecond is 0–1000: half of every second back-pressured
HEAP_RATIO = 0.9
DEFAULT_BACKLOG_RECORDS = 100_000  # pendingRecords alert threshold without kafka-lag autoscaling

# Every Flink metric this module queries. Each is a real name of Flink's Prometheus reporter (FACTS §4.2 and the
# Flink metrics reference): tests fail if a query uses anything else.
FLINK_METRICS = (
    "flink_jobmanager_job_numRestarts",
    "flink_jobmanager_job_runningTime",
    "flink_jobmanager_job_numberOfFailedCheckpoints",
    "flink_jobmanager_job_numberOfCompletedCheckpoints",
    "flink_jobmanager_job_lastCheckpointDuration",
    "flink_jobmanager_job_lastCheckpointSize",
    "flink_taskmanager_job_task_backPressuredTimeMsPerSecond",
    "flink_taskmanager_job_task_busyTimeMsPerSecond",
    "flink_taskmanager_job_task_numRecordsInPerSecond",
    "flink_taskmanager_job_task_numRecordsOutPerSecond",
    "flink_taskmanager_job_task_operator_pendingRecords",
    "flink_taskmanager_Status_JVM_Memory_Heap_Used",
    "flink_taskmanager_Status_JVM_Memory_Heap_Max",
    "flink_taskmanager_Status_JVM_CPU_Load",
)
# cAdvisor/kubelet series for container CPU and memory per TaskManager pod.
CONTAINER_METRICS = ("container_cpu_usage_seconds_total", "container_memory_working_set_bytes")

def flink_duration_ms(value: Any) -> int | None:
    """Milliseconds of a Flink Duration option (`10 min`, `600s`, `600000` = ms); None if Flink could not read it."""
    try:
        return int(parse_duration_ms(str(value)))
    except ValueError:
        return None


def _effective_ms(placement: Placement, key: str, modelled: str) -> int:
    """The value Flink runs with: a flinkConfiguration override wins over the typed checkpointing setting."""
    override = placement.cluster.flink_configuration.get(key)
    parsed = flink_duration_ms(override) if override is not None else None
    return parsed if parsed is not None else flink_duration_ms(modelled)


def checkpoint_timeout_ms(placement: Placement) -> int:
    return _effective_ms(placement, CHECKPOINT_TIMEOUT_KEY, placement.cluster.checkpointing.timeout)


def checkpoint_interval_ms(placement: Placement) -> int:
    return _effective_ms(placement, CHECKPOINT_INTERVAL_KEY, placement.cluster.checkpointing.interval)


def _prom_duration(ms: int) -> str:
    minutes = math.ceil(ms / 60_000)
    return f"{minutes}m"


def selector(placement: Placement) -> str:
    return f'namespace="{placement.namespace}", {CLUSTER_LABEL}="{placement.cluster.name}"'


def object_name(placement: Placement) -> str:
    return f"{placement.cluster.name}-flink"


def _metadata(placement: Placement, monitoring: Monitoring, extra: dict[str, str] | None = None) -> dict[str, Any]:
    return {"name": object_name(placement), "namespace": placement.namespace,
            "labels": {**flink_labels(placement), **monitoring.selector_labels, **(extra or {})}}


# ---------------------------------------------------------------------------------------------------------------
# PodMonitor
# ---------------------------------------------------------------------------------------------------------------


def relabelings() -> list[dict[str, Any]]:
    """The labels every Flink series gets besides Prometheus Operator's own (namespace, pod, container, endpoint,
    job, instance): `flink_cluster` from the pod label the platform sets, `component` from Flink's/the operator's.
    The PodMonitor and the ServiceMonitor use the same list, so alerts and dashboards see the same series."""
    return [
        {"action": "replace", "sourceLabels": [f"__meta_kubernetes_pod_label_{_label_name(NAME_LABEL)}"],
         "targetLabel": CLUSTER_LABEL},
        {"action": "replace", "sourceLabels": [f"__meta_kubernetes_pod_label_{COMPONENT_LABEL}"],
         "targetLabel": "component"},
    ]


def pod_monitor(placement: Placement, monitoring: Monitoring) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": _metadata(placement, monitoring),
        "spec": {
            # JobManager and TaskManager pods of this cluster (native TaskManagers have no Service to select).
            "selector": {
                "matchLabels": {NAME_LABEL: placement.cluster.name},
                "matchExpressions": [{"key": COMPONENT_LABEL, "operator": "In",
                                      "values": ["jobmanager", "taskmanager"]}],
            },
            "namespaceSelector": {"matchNames": [placement.namespace]},
            "podMetricsEndpoints": [{
                "port": METRICS_PORT_NAME,  # the named container port of flink-main-container
                "path": "/metrics",
                "interval": "30s",
                "relabelings": relabelings(),
            }],
        },
    }


# ---------------------------------------------------------------------------------------------------------------
# Headless metrics Service + ServiceMonitor (monitoring.scrape: serviceMonitor)
# ---------------------------------------------------------------------------------------------------------------

# Labels Flink (native) and the operator (standalone) put on every JobManager and TaskManager pod.
OPERATOR_APP_LABEL = "app"  # = the FlinkDeployment name
OPERATOR_TYPE_LABEL = "type"
OPERATOR_TYPE = {"native": "flink-native-kubernetes", "standalone": "flink-standalone-kubernetes"}
METRICS_SERVICE_LABEL = "flink-platform/metrics"  # marks the Service the ServiceMonitor selects


def metrics_service_name(placement: Placement) -> str:
    return f"{placement.cluster.name}-metrics"


def metrics_pod_selector(placement: Placement) -> dict[str, str]:
    """Every JobManager and TaskManager pod of this cluster copy, and nothing else: the operator's/Flink's own
    `app` and `type` labels, plus the platform's pod label the relabelling reads `flink_cluster` from. (A Service
    selector cannot say `component In [...]`; both components carry these labels, other pods do not.)"""
    name = placement.cluster.name
    return {OPERATOR_APP_LABEL: name, OPERATOR_TYPE_LABEL: OPERATOR_TYPE[decide(placement.cluster).deployment_mode],
            NAME_LABEL: name}


def metrics_service(placement: Placement, monitoring: Monitoring) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": metrics_service_name(placement), "namespace": placement.namespace,
                     "labels": {**flink_labels(placement), METRICS_SERVICE_LABEL: "true"}},
        "spec": {
            # Headless: endpoints are the pod IPs, so Prometheus scrapes each JobManager and TaskManager itself.
            "clusterIP": "None",
            "selector": metrics_pod_selector(placement),
            "ports": [{"name": METRICS_PORT_NAME, "port": metrics_port(placement), "protocol": "TCP",
                       "targetPort": METRICS_PORT_NAME}],  # the named container port every Flink pod declares
        },
    }


def service_monitor(placement: Placement, monitoring: Monitoring) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": _metadata(placement, monitoring),
        "spec": {
            "selector": {"matchLabels": {NAME_LABEL: placement.cluster.name, METRICS_SERVICE_LABEL: "true"}},
            "namespaceSelector": {"matchNames": [placement.namespace]},
            "endpoints": [{
                "port": METRICS_PORT_NAME,  # the Service port name of metrics_service
                "path": "/metrics",
                "interval": "30s",
                "relabelings": relabelings(),
            }],
        },
    }


def scrape_objects(placement: Placement, monitoring: Monitoring) -> list[dict[str, Any]]:
    """What makes Prometheus scrape this cluster copy, per `monitoring.scrape`."""
    if monitoring.scrape == "serviceMonitor":
        return [metrics_service(placement, monitoring), service_monitor(placement, monitoring)]
    return [pod_monitor(placement, monitoring)]


def _label_name(label: str) -> str:
    """Prometheus' sanitised form of a Kubernetes label name (`app.kubernetes.io/name` -> `app_kubernetes_io_name`)."""
    return re.sub(r"[^a-zA-Z0-9_]", "_", label)


# ---------------------------------------------------------------------------------------------------------------
# PrometheusRule
# ---------------------------------------------------------------------------------------------------------------


def backlog_threshold(placement: Placement) -> int:
    """Kafka-lag autoscaling: the lag at which even maxReplicas TaskManagers are over target; else a fixed backlog."""
    scaling = placement.cluster.autoscaling
    if scaling.mode == "kafka-lag":
        return scaling.lag_threshold * scaling.max_replicas
    return DEFAULT_BACKLOG_RECORDS


def alert_rules(placement: Placement) -> list[dict[str, Any]]:
    s = selector(placement)
    job = "namespace, flink_cluster, job_name"
    timeout_ms = checkpoint_timeout_ms(placement)
    near_timeout_ms = int(timeout_ms * CHECKPOINT_TIMEOUT_RATIO)
    # A window that always spans several checkpoint intervals, so one slow interval does not fire the alert.
    completed_window = _prom_duration(max(15 * 60_000, 3 * checkpoint_interval_ms(placement)))
    backlog = backlog_threshold(placement)
    pending = f"sum by ({job}) (flink_taskmanager_job_task_operator_pendingRecords{{{s}}})"
    labels = {"team": placement.team.name, CLUSTER_LABEL: placement.cluster.name}
    where = f"{placement.cluster.name} in {placement.namespace} on {placement.kube.name}"

    def rule(name: str, expr: str, severity: str, summary: str, description: str, for_: str | None = None):
        out: dict[str, Any] = {"alert": name, "expr": expr}
        if for_:
            out["for"] = for_
        out["labels"] = {**labels, "severity": severity}
        out["annotations"] = {"summary": summary, "description": description}
        return out

    return [
        rule("FlinkJobRestarting", f"increase(flink_jobmanager_job_numRestarts{{{s}}}[10m]) > 0", "warning",
             f"Flink job {{{{ $labels.job_name }}}} of {where} restarted",
             "numRestarts increased by {{ $value }} in 10 minutes; check the JobManager log for the failure cause."),
        rule("FlinkJobNotRunning", f"max by ({job}) (flink_jobmanager_job_runningTime{{{s}}}) == 0", "critical",
             f"Flink job {{{{ $labels.job_name }}}} of {where} is not running",
             "runningTime has been 0 for 5 minutes: the job is restarting, failing or suspended.", "5m"),
        rule("FlinkCheckpointsFailing",
             f"increase(flink_jobmanager_job_numberOfFailedCheckpoints{{{s}}}[15m]) > 0", "warning",
             f"Checkpoints of {where} fail",
             "{{ $value }} checkpoints failed in 15 minutes (numberOfFailedCheckpoints is cumulative)."),
        rule("FlinkCheckpointsNotCompleting",
             f"increase(flink_jobmanager_job_numberOfCompletedCheckpoints{{{s}}}[{completed_window}]) == 0",
             "critical", f"No checkpoint of {where} completed in {completed_window}",
             "Without completed checkpoints a restart loses progress and Kafka offsets are not committed.", "5m"),
        rule("FlinkCheckpointDurationNearTimeout",
             f"max by ({job}) (flink_jobmanager_job_lastCheckpointDuration{{{s}}}) > {near_timeout_ms}", "warning",
             f"Checkpoints of {where} approach the timeout",
             f"The last checkpoint took {{{{ $value }}}} ms; the configured timeout is {timeout_ms} ms "
             f"({CHECKPOINT_TIMEOUT_KEY}). Check backpressure and state size.", "5m"),
        rule("FlinkBackpressure",
             f"max by ({job}, task_name) (avg_over_time("
             f"flink_taskmanager_job_task_backPressuredTimeMsPerSecond{{{s}}}[5m])) > {BACKPRESSURE_MS_PER_S}",
             "warning", f"Task {{{{ $labels.task_name }}}} of {where} is back-pressured",
             "More than half of every second back-pressured (backPressuredTimeMsPerSecond, 0–1000) for 10 minutes.",
             "10m"),
        rule("FlinkSourceBacklogGrowing",
             f"({pending} > {backlog}) and (deriv({pending}[15m:1m]) > 0)", "warning",
             f"Source backlog of {where} keeps growing",
             f"pendingRecords is above {backlog} and still growing: the job cannot keep up with its sources.",
             "15m"),
        rule("FlinkTaskManagerHeapNearMax",
             f"max by (namespace, flink_cluster, pod) (flink_taskmanager_Status_JVM_Memory_Heap_Used{{{s}}} "
             f"/ flink_taskmanager_Status_JVM_Memory_Heap_Max{{{s}}}) > {HEAP_RATIO}", "warning",
             f"TaskManager {{{{ $labels.pod }}}} of {where} is near its heap limit",
             f"Heap used above {int(HEAP_RATIO * 100)} % of max for 15 minutes; expect long GC pauses or "
             "OutOfMemoryError.", "15m"),
    ]


def prometheus_rule(placement: Placement, monitoring: Monitoring) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": _metadata(placement, monitoring),
        "spec": {"groups": [{"name": f"flink.{placement.namespace}.{placement.cluster.name}",
                             "rules": alert_rules(placement)}]},
    }


# ---------------------------------------------------------------------------------------------------------------
# Grafana dashboard
# ---------------------------------------------------------------------------------------------------------------


def _panel(panel_id: int, title: str, exprs: list[tuple[str, str]], unit: str, x: int, y: int) -> dict[str, Any]:
    return {
        "id": panel_id,
        "type": "timeseries",
        "title": title,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [{"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend}
                    for i, (expr, legend) in enumerate(exprs)],
    }


def dashboard_uid(placement: Placement) -> str:
    return "flink-" + hashlib.sha256(placement.key.encode()).hexdigest()[:16]


def dashboard(placement: Placement) -> dict[str, Any]:
    return _dashboard(placement.namespace, placement.cluster.name, placement.team.name, placement.kube.name,
                      dashboard_uid(placement))


def _dashboard(namespace: str, cluster: str, team: str, kube: str, uid: str) -> dict[str, Any]:
    s = f'namespace="{namespace}", {CLUSTER_LABEL}="{cluster}"'  # = selector(placement)
    tm_pods = f'namespace="{namespace}", pod=~"{cluster}-taskmanager-.*", container!=""'
    job = "job_name"
    specs = [
        ("Throughput in (records/s)",
         [(f"sum by ({job}, task_name) (flink_taskmanager_job_task_numRecordsInPerSecond{{{s}}})",
           "{{task_name}} in")], "short"),
        ("Throughput out (records/s)",
         [(f"sum by ({job}, task_name) (flink_taskmanager_job_task_numRecordsOutPerSecond{{{s}}})",
           "{{task_name}} out")], "short"),
        ("Backpressure (ms/s, max 1000)",
         [(f"max by ({job}, task_name) (flink_taskmanager_job_task_backPressuredTimeMsPerSecond{{{s}}})",
           "{{task_name}}")], "ms"),
        ("Busy time (ms/s, max 1000)",
         [(f"max by ({job}, task_name) (flink_taskmanager_job_task_busyTimeMsPerSecond{{{s}}})",
           "{{task_name}}")], "ms"),
        ("Checkpoint duration",
         [(f"max by ({job}) (flink_jobmanager_job_lastCheckpointDuration{{{s}}})", "{{job_name}}")], "ms"),
        ("Checkpoint size",
         [(f"max by ({job}) (flink_jobmanager_job_lastCheckpointSize{{{s}}})", "{{job_name}}")], "bytes"),
        ("Source backlog (pendingRecords)",
         [(f"sum by ({job}) (flink_taskmanager_job_task_operator_pendingRecords{{{s}}})", "{{job_name}}")], "short"),
        ("Restarts and failed checkpoints (1h)",
         [(f"increase(flink_jobmanager_job_numRestarts{{{s}}}[1h])", "restarts {{job_name}}"),
          (f"increase(flink_jobmanager_job_numberOfFailedCheckpoints{{{s}}}[1h])", "failed checkpoints {{job_name}}")],
         "short"),
        ("CPU per TaskManager (cores)",
         [(f"sum by (pod) (rate(container_cpu_usage_seconds_total{{{tm_pods}}}[5m]))", "{{pod}}"),
          (f"max by (pod) (flink_taskmanager_Status_JVM_CPU_Load{{{s}}})", "{{pod}} JVM load")], "short"),
        ("Memory per TaskManager",
         [(f"sum by (pod) (container_memory_working_set_bytes{{{tm_pods}}})", "{{pod}} working set"),
          (f"max by (pod) (flink_taskmanager_Status_JVM_Memory_Heap_Used{{{s}}})", "{{pod}} heap used"),
          (f"max by (pod) (flink_taskmanager_Status_JVM_Memory_Heap_Max{{{s}}})", "{{pod}} heap max")], "bytes"),
    ]
    panels = [_panel(i + 1, title, exprs, unit, (i % 2) * 12, (i // 2) * 8)
              for i, (title, exprs, unit) in enumerate(specs)]
    return {
        "uid": uid,
        "title": f"Flink {cluster} ({kube}/{namespace})",
        "tags": ["flink", team, kube],
        "timezone": "browser",
        "schemaVersion": 39,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": [{"name": "datasource", "type": "datasource", "query": "prometheus",
                                 "label": "Prometheus"}]},
        "panels": panels,
    }


# The dashboard JSON differs between clusters only in five strings, and json.dumps with `indent` runs Python's
# pure-Python encoder (slow: a fifth of a 1,000-job plan). So it is rendered once with a marker in place of each
# string, and each cluster's text is that template with the markers replaced by the strings JSON-escaped: JSON
# escapes character by character, so the result is byte for byte json.dumps(dashboard(placement), indent=1,
# sort_keys=True) (a test compares them).
_DASHBOARD_FIELDS = ("namespace", "cluster", "team", "kube", "uid")
_DASHBOARD_MARKERS = {field: f"@@flinkplat-dashboard-{field}@@" for field in _DASHBOARD_FIELDS}
_DASHBOARD_MARKER_PATTERN = re.compile("|".join(re.escape(marker) for marker in _DASHBOARD_MARKERS.values()))
_dashboard_template: str | None = None


def dashboard_json(placement: Placement) -> str:
    """json.dumps(dashboard(placement), indent=1, sort_keys=True), from the rendered template."""
    global _dashboard_template
    if _dashboard_template is None:
        _dashboard_template = json.dumps(_dashboard(**_DASHBOARD_MARKERS), indent=1, sort_keys=True)
    values = (placement.namespace, placement.cluster.name, placement.team.name, placement.kube.name,
              dashboard_uid(placement))
    escaped = {_DASHBOARD_MARKERS[field]: json.dumps(value)[1:-1] for field, value in zip(_DASHBOARD_FIELDS, values)}
    return _DASHBOARD_MARKER_PATTERN.sub(lambda match: escaped[match.group(0)], _dashboard_template)


def dashboard_config_map(placement: Placement, monitoring: Monitoring) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        # In Prometheus' namespace: Grafana's dashboard sidecar watches its own namespace unless told otherwise.
        "metadata": {"name": f"flink-{placement.namespace}-{placement.cluster.name}"[:253],
                     "namespace": monitoring.namespace,
                     "labels": {**flink_labels(placement), DASHBOARD_LABEL: "1"}},
        "data": {f"flink-{placement.namespace}-{placement.cluster.name}.json":
                 dashboard_json(placement)},
    }
