"""The rendered PrometheusRules, proven with Prometheus's own tool (promtool, from scripts/promtool/setup.sh):

* `promtool check rules` accepts every PrometheusRule of the dev and prod plans;
* `promtool test rules`: for every Flink cluster copy of both plans, scraped through its PodMonitor and through
  the ServiceMonitor variant, every alert fires on a failing series and stays silent on a healthy one and on a
  failing series of another Flink cluster. The input series carry exactly the labels the rendered monitor's
  relabelling produces (tests/support/scrape.py applies it), plus the labels Flink's Prometheus reporter adds.

Without promtool these tests skip locally and FAIL when CI=true.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import zlib
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from flinkplat import versions
from flinkplat.config.fleet import Placement, resolve
from flinkplat.k8s import monitoring
from tests.conftest import resources_of, service_monitor_document, stack_document
from tests.k8s.conftest import load_document
from tests.support import scrape

PROMTOOL = (Path(os.environ.get("FLINKPLAT_CACHE", Path.home() / ".cache" / "flink-platform")) / "promtool"
            / versions.PROMTOOL_DEBIAN_VERSION / "promtool")
OTHER_CLUSTER = "another-flink-cluster"  # same namespace, another Flink cluster: its series must never count


@pytest.fixture(scope="module")
def promtool() -> Path:
    if not (PROMTOOL.is_file() and os.access(PROMTOOL, os.X_OK)):
        reason = f"promtool {versions.PROMTOOL_DEBIAN_VERSION} not found at {PROMTOOL}; run scripts/promtool/setup.sh"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and {reason}", pytrace=False)
        pytest.skip(reason)
    return PROMTOOL


def _run(promtool: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(promtool), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def _by_key(plan: dict, kind: str) -> dict[str, dict]:
    return {r["name"].rsplit("/", 1)[0]: r["inputs"] for r in resources_of(plan, kind)}


# ---------------------------------------------------------------------------------------------------------------
# promtool check rules
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_promtool_checks_every_rendered_prometheus_rule(stack, dev_plan, prod_plan, promtool, tmp_path):
    rules = _by_key(dev_plan if stack == "dev" else prod_plan, "PrometheusRule")
    assert rules
    files = []
    for i, (key, rule) in enumerate(sorted(rules.items())):
        path = tmp_path / f"rules-{i}.yaml"
        path.write_text(yaml.safe_dump(rule["spec"], sort_keys=False))  # a PrometheusRule spec is a rule file
        files.append((path.name, sum(len(g["rules"]) for g in rule["spec"]["groups"])))
    proc = _run(promtool, "check", "rules", *[f for f, _ in files], cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name, count in files:
        assert f"Checking {name}\n  SUCCESS: {count} rules found" in proc.stdout, proc.stdout


def test_promtool_check_rejects_a_broken_expression(prod_plan, promtool, tmp_path):
    """The check is real: promtool refuses what Prometheus would refuse to load."""
    spec = copy.deepcopy(next(iter(_by_key(prod_plan, "PrometheusRule").values()))["spec"])
    spec["groups"][0]["rules"][0]["expr"] = "increase(flink_jobmanager_job_numRestarts[10m] > 0"
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(spec))
    proc = _run(promtool, "check", "rules", "broken.yaml", cwd=tmp_path)
    assert proc.returncode == 1 and "FAILED" in proc.stdout + proc.stderr


# ---------------------------------------------------------------------------------------------------------------
# promtool test rules: one scenario per alert
# ---------------------------------------------------------------------------------------------------------------


def _series(name: str, labels: dict[str, str]) -> str:
    return name + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


class Cluster:
    """The scraped series labels of one Flink cluster copy: a JobManager and two TaskManager pods."""

    def __init__(self, placement: Placement, monitor: dict, deployment: dict, name: str | None = None):
        self.placement = placement
        self.name = name or placement.cluster.name
        spec = deployment["spec"]
        mode = spec.get("mode") or "native"
        base = {**spec["podTemplate"]["metadata"]["labels"], "app.kubernetes.io/name": self.name,
                "app": self.name, "type": monitoring.OPERATOR_TYPE[mode]}
        port = spec["podTemplate"]["spec"]["containers"][0]["ports"][0]
        service = monitoring.metrics_service_name(placement) if monitor["kind"] == "ServiceMonitor" else None
        if service and name:
            service = f"{name}-metrics"

        def pod(pod_name: str, component: str, ip: str) -> dict[str, str]:
            found = scrape.discovery_labels(placement.namespace, pod_name, {**base, "component": component}, ip,
                                            port["containerPort"], port["name"], service)
            return scrape.target_labels(monitor, found)

        jm_pod = f"{self.name}-6d4cf56db6-x7k2p"
        self.jobmanager = {**pod(jm_pod, "jobmanager", "10.1.0.10"), "host": "10.1.0.10"}
        self.taskmanagers = [
            {**pod(f"{self.name}-taskmanager-1-{i}", "taskmanager", f"10.1.0.{20 + i}"), "host": f"10.1.0.{20 + i}",
             "tm_id": f"{self.name}-taskmanager-1-{i}"}
            for i in (1, 2)]

    def job(self, job_name: str) -> dict[str, str]:
        return {**self.jobmanager, "job_id": f"{zlib.crc32(job_name.encode()):08x}", "job_name": job_name}

    def task(self, job_name: str, task_name: str, tm: int = 0) -> dict[str, str]:
        return {**self.taskmanagers[tm], "job_id": f"{zlib.crc32(job_name.encode()):08x}", "job_name": job_name,
                "task_id": "cbc357ccb763df2852fee8c4fc7d55f2", "task_attempt_id": "2ef46ac4b9d0b6a7b95e4a0d7b1b66a6",
                "task_attempt_num": "0", "task_name": task_name, "subtask_index": "0"}

    def operator(self, job_name: str, task_name: str) -> dict[str, str]:
        return {**self.task(job_name, task_name), "operator_id": "bc764cd8ddf7a0cff126f51c16239658",
                "operator_name": "Source:_kafka"}


FAILING, HEALTHY = "failing-job", "healthy-job"


def _minutes(duration: str) -> int:
    assert duration.endswith("m"), duration
    return int(duration[:-1])


# Each scenario: (input series [(metric, labels, values)], evaluation minute, labels of the ONE failing series,
# the alert's $value). Thresholds come from the cluster's own settings, as the rule builder computes them.
Scenario = tuple[list[tuple[str, dict[str, str], str]], int, dict[str, str], float]


def _restarting(c: Cluster, other: Cluster) -> Scenario:
    m = "flink_jobmanager_job_numRestarts"
    return ([(m, c.job(FAILING), "0x10 1x20"), (m, c.job(HEALTHY), "0x30"),
             (m, other.job(FAILING), "0x10 1x20")], 15, c.job(FAILING), 1)


def _not_running(c: Cluster, other: Cluster) -> Scenario:
    m = "flink_jobmanager_job_runningTime"
    return ([(m, c.job(FAILING), "0x30"), (m, c.job(HEALTHY), "60000+60000x30"),
             (m, other.job(FAILING), "0x30")], 10, c.job(FAILING), 0)


def _checkpoints_failing(c: Cluster, other: Cluster) -> Scenario:
    m = "flink_jobmanager_job_numberOfFailedCheckpoints"
    return ([(m, c.job(FAILING), "0x10 1x20"), (m, c.job(HEALTHY), "0x30"),
             (m, other.job(FAILING), "0x10 1x20")], 20, c.job(FAILING), 1)


def _checkpoints_not_completing(c: Cluster, other: Cluster) -> Scenario:
    m = "flink_jobmanager_job_numberOfCompletedCheckpoints"
    window = max(15, -(-monitoring.checkpoint_interval_ms(c.placement) * 3 // 60_000))
    n = window + 30
    return ([(m, c.job(FAILING), f"7x{n}"), (m, c.job(HEALTHY), f"0+1x{n}"),
             (m, other.job(FAILING), f"7x{n}")], window + 15, c.job(FAILING), 0)


def _duration_near_timeout(c: Cluster, other: Cluster) -> Scenario:
    m = "flink_jobmanager_job_lastCheckpointDuration"
    near = int(monitoring.checkpoint_timeout_ms(c.placement) * monitoring.CHECKPOINT_TIMEOUT_RATIO)
    slow = near + 60_000
    return ([(m, c.job(FAILING), f"{slow}x30"), (m, c.job(HEALTHY), f"{near // 2}x30"),
             (m, other.job(FAILING), f"{slow}x30")], 10, c.job(FAILING), slow)


def _backpressure(c: Cluster, other: Cluster) -> Scenario:
    m = "flink_taskmanager_job_task_backPressuredTimeMsPerSecond"
    high = monitoring.BACKPRESSURE_MS_PER_S + 300
    failing = c.task(FAILING, "Map_enrich")
    return ([(m, failing, f"{high}x30"), (m, c.task(FAILING, "Sink_kafka", tm=1), "100x30"),
             (m, other.task(FAILING, "Map_enrich"), f"{high}x30")], 20, failing, 0)


def _backlog_growing(c: Cluster, other: Cluster) -> Scenario:
    m = "flink_taskmanager_job_task_operator_pendingRecords"
    above = monitoring.backlog_threshold(c.placement) + 1000
    # the healthy job is above the threshold but not growing: the `deriv > 0` half must hold too
    return ([(m, c.operator(FAILING, "Source_kafka"), f"{above}+100x60"),
             (m, c.operator(HEALTHY, "Source_kafka"), f"{above}x60"),
             (m, other.operator(FAILING, "Source_kafka"), f"{above}+100x60")], 40, c.operator(FAILING, "Source_kafka"),
            0)


def _heap_near_max(c: Cluster, other: Cluster) -> Scenario:
    used, heap_max = "flink_taskmanager_Status_JVM_Memory_Heap_Used", "flink_taskmanager_Status_JVM_Memory_Heap_Max"
    limit = 1_000_000_000
    full = int(limit * (monitoring.HEAP_RATIO + 0.05))
    series = [(used, c.taskmanagers[0], f"{full}x40"), (heap_max, c.taskmanagers[0], f"{limit}x40"),
              (used, c.taskmanagers[1], f"{limit // 2}x40"), (heap_max, c.taskmanagers[1], f"{limit}x40"),
              (used, other.taskmanagers[0], f"{full}x40"), (heap_max, other.taskmanagers[0], f"{limit}x40")]
    return series, 30, c.taskmanagers[0], 0


SCENARIOS: dict[str, Callable[[Cluster, Cluster], Scenario]] = {
    "FlinkJobRestarting": _restarting,
    "FlinkJobNotRunning": _not_running,
    "FlinkCheckpointsFailing": _checkpoints_failing,
    "FlinkCheckpointsNotCompleting": _checkpoints_not_completing,
    "FlinkCheckpointDurationNearTimeout": _duration_near_timeout,
    "FlinkBackpressure": _backpressure,
    "FlinkSourceBacklogGrowing": _backlog_growing,
    "FlinkTaskManagerHeapNearMax": _heap_near_max,
}


def _alert_labels(rule: dict, series: dict[str, str]) -> dict[str, str]:
    """What the alert carries: the aggregation's `by` labels (or every series label), then the rule's labels."""
    grouping = re.search(r"\b(?:max|min|sum|avg) by \(([^)]*)\)", rule["expr"])
    kept = [label.strip() for label in grouping.group(1).split(",")] if grouping else list(series)
    return {**{k: series[k] for k in kept if k in series}, **rule["labels"]}


def _go_value(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _render(template: str, labels: dict[str, str], value: float) -> str:
    text = re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels.get(m.group(1), ""), template)
    return text.replace("{{ $value }}", _go_value(value))


def _test_groups(rule_spec: dict, cluster: Cluster, other: Cluster) -> list[dict[str, Any]]:
    groups = []
    (group,) = rule_spec["groups"]
    alerts = {r["alert"]: r for r in group["rules"]}
    assert set(alerts) == set(SCENARIOS), "every alert needs a fire/silent scenario here"
    for name, rule in alerts.items():
        series, minute, failing, value = SCENARIOS[name](cluster, other)
        labels = _alert_labels(rule, failing)
        groups.append({
            "interval": "1m",
            "input_series": [{"series": _series(metric, series_labels), "values": values}
                             for metric, series_labels, values in series],
            "alert_rule_test": [{
                "eval_time": f"{minute}m",
                "alertname": name,
                # exactly one alert: the failing series; the healthy one and the other cluster's stay silent
                "exp_alerts": [{"exp_labels": labels,
                                "exp_annotations": {k: _render(v, labels, value)
                                                    for k, v in rule["annotations"].items()}}],
            }],
        })
        for_ = _minutes(rule.get("for", "0m"))
        if for_:
            # before `for` has elapsed the alert is only pending: nothing fires yet
            groups[-1]["alert_rule_test"].append({"eval_time": f"{max(0, for_ - 2)}m", "alertname": name,
                                                  "exp_alerts": []})
    return groups


def _unit_test_files(stack: str, scrape_mode: str, plan: dict, tmp_path: Path) -> list[str]:
    document = service_monitor_document(stack) if scrape_mode == "serviceMonitor" else stack_document(stack)
    placements = {p.key: p for p in resolve(load_document(document, stack).config)}
    kind = "ServiceMonitor" if scrape_mode == "serviceMonitor" else "PodMonitor"
    rules, monitors, deployments = (_by_key(plan, "PrometheusRule"), _by_key(plan, kind),
                                    _by_key(plan, "FlinkDeployment"))
    assert set(rules) == set(monitors) == set(deployments) == set(placements)
    files = []
    for i, key in enumerate(sorted(rules)):
        cluster = Cluster(placements[key], monitors[key], deployments[key])
        other = Cluster(placements[key], monitors[key], deployments[key], name=OTHER_CLUSTER)
        # the relabelling really produced what the alerts select on
        assert cluster.jobmanager["flink_cluster"] == placements[key].cluster.name
        assert cluster.jobmanager["namespace"] == placements[key].namespace
        assert cluster.taskmanagers[0]["pod"].startswith(placements[key].cluster.name + "-taskmanager")
        rule_file = f"{stack}-{scrape_mode}-{i}.rules.yaml"
        (tmp_path / rule_file).write_text(yaml.safe_dump(rules[key]["spec"], sort_keys=False))
        test_file = f"{stack}-{scrape_mode}-{i}.test.yaml"
        (tmp_path / test_file).write_text(yaml.safe_dump({
            "rule_files": [rule_file], "evaluation_interval": "1m",
            "tests": _test_groups(rules[key]["spec"], cluster, other)}, sort_keys=False))
        files.append(test_file)
    return files


@pytest.mark.parametrize("scrape_mode", ["podMonitor", "serviceMonitor"])
def test_every_alert_fires_on_failure_and_only_then(scrape_mode, dev_plan, prod_plan, service_monitor_plan,
                                                    promtool, tmp_path):
    files = []
    for stack, plan in (("dev", dev_plan), ("prod", prod_plan)):
        if scrape_mode == "serviceMonitor":
            plan = service_monitor_plan(stack)
        files += _unit_test_files(stack, scrape_mode, plan, tmp_path)
    assert len(files) == 11  # 2 dev + 9 prod Flink cluster copies
    proc = _run(promtool, "test", "rules", *files, cwd=tmp_path)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    assert proc.stdout.count("  SUCCESS") == len(files), proc.stdout


def test_the_unit_tests_depend_on_the_relabelling(prod_plan, promtool, tmp_path):
    """Negative control: without the PodMonitor's `flink_cluster` relabelling the series no longer match the
    alerts' selector, and promtool reports the missing alerts."""
    plan = copy.deepcopy(prod_plan)
    for resource in resources_of(plan, "PodMonitor"):
        endpoint = resource["inputs"]["spec"]["podMetricsEndpoints"][0]
        endpoint["relabelings"] = [r for r in endpoint["relabelings"] if r["targetLabel"] != "flink_cluster"]
    placements = {p.key: p for p in resolve(load_document(stack_document("prod"), "prod").config)}
    key = "use1-main/flink-logistics/warehouse"
    monitor = _by_key(plan, "PodMonitor")[key]
    deployment = _by_key(plan, "FlinkDeployment")[key]
    cluster = Cluster(placements[key], monitor, deployment)
    assert "flink_cluster" not in cluster.jobmanager
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(_by_key(plan, "PrometheusRule")[key]["spec"]))
    other = Cluster(placements[key], monitor, deployment, name=OTHER_CLUSTER)
    groups = _test_groups(_by_key(plan, "PrometheusRule")[key]["spec"], cluster, other)
    (tmp_path / "t.yaml").write_text(yaml.safe_dump({"rule_files": ["r.yaml"], "evaluation_interval": "1m",
                                                     "tests": groups}))
    proc = _run(promtool, "test", "rules", "t.yaml", cwd=tmp_path)
    assert proc.returncode == 1
    assert "FAILED" in proc.stdout + proc.stderr
