"""The bypass rules through pulumi-policy's own analyzer, with the example pack configs: secrets that no waiver
silences, raw options that undo typed guarantees, monitoring checked on the rendered PodMonitor ↔ reporter pair, and
unschedulable prod parallelism."""

from __future__ import annotations

import copy
import json

from flinkplat.config.fleet import resolve
from flinkplat.config.load import load_stack_file
from flinkplat.k8s.monitoring import pod_monitor
from flinkplat.plan.policies import default_pack_config, run_pack
from tests.policies.test_pack import DENY, QUIET, Planned, deployment, with_waivers
from tests.rules.helpers import ROOT, prod_manifest

RESOURCE = "use1-main/flink-logistics/warehouse/deployment"


def warehouse_monitor() -> Planned:
    loaded = load_stack_file(ROOT / "Pulumi.prod.yaml", "prod")
    placement = next(p for p in resolve(loaded.config) if p.key == "use1-main/flink-logistics/warehouse")
    manifest = pod_monitor(placement, loaded.config.monitoring)
    return Planned("kubernetes:monitoring.coreos.com/v1:PodMonitor", "use1-main/flink-logistics/warehouse/podmonitor",
                   manifest)


def test_known_good_deployment_and_its_monitor_pass():
    assert run_pack([deployment(), DENY, warehouse_monitor()], QUIET) == ([], [])


def test_a_plain_secret_is_mandatory_and_cannot_be_waived():
    manifest = prod_manifest()
    manifest["spec"]["flinkConfiguration"]["fs.s3a.secret.key"] = "wJalrXUtnFEMI"
    waived = with_waivers(manifest, [{"policy": "flink-no-plain-secrets", "reason": "temporary until IRSA is live",
                                      "expires": "2099-12-31"}])
    violations, waivers = run_pack([deployment(waived), DENY], QUIET)
    assert waivers == []
    assert [(v["policy"], v["level"], v["resource"]) for v in violations] == [
        ("flink-no-plain-secrets", "mandatory", RESOURCE), ("flink-waivers", "advisory", RESOURCE)]
    assert violations[0]["message"].startswith(
        "FlinkDeployment flink-logistics/warehouse has secret values in plain configuration: "
        "spec.flinkConfiguration[\"fs.s3a.secret.key\"] (object-store credential). Why:")
    assert violations[1]["message"] == (
        "FlinkDeployment flink-logistics/warehouse waives flink-no-plain-secrets, which cannot be waived; the waiver is "
        "ignored. Why: what this policy reports (e.g. a secret in plain configuration) is not an accepted risk a reason "
        "can cover: it stays a violation. Fix: fix what flink-no-plain-secrets reports and remove the waiver; fix it "
        "under waivers: of this cluster in the stack file.")
    assert all("wJalrXUtnFEMI" not in v["message"] for v in violations)


def test_raw_hostnetwork_is_mandatory_through_the_analyzer():
    manifest = prod_manifest()
    manifest["spec"]["flinkConfiguration"]["kubernetes.hostnetwork.enabled"] = "true"
    violations, _ = run_pack([deployment(manifest), DENY], default_pack_config("prod"))
    assert [(v["policy"], v["level"]) for v in violations] == [("flink-config-bypass", "mandatory")]


def test_monitoring_pair_is_checked_in_analyze_stack():
    manifest = prod_manifest()
    manifest["spec"]["flinkConfiguration"]["metrics.reporter.prom.port"] = "9250"
    violations, _ = run_pack([deployment(manifest), DENY, warehouse_monitor()], QUIET)
    assert [(v["policy"], v["level"], v["resource"]) for v in violations] == [
        ("flink-monitoring-scrapable", "mandatory", "use1-main/flink-logistics/warehouse/podmonitor")] * 2
    # The finding belongs to the FlinkDeployment: its waiver (with a reason) covers it.
    waived = with_waivers(manifest, [{"policy": "flink-monitoring-scrapable",
                                      "reason": "scraped by the node agent during the migration"}])
    violations, waivers = run_pack([deployment(waived), DENY, warehouse_monitor()], QUIET)
    assert violations == [] and [w["policy"] for w in waivers] == ["flink-monitoring-scrapable"] * 2


def test_unschedulable_parallelism_is_mandatory_in_prod_and_advisory_in_dev():
    manifest = prod_manifest()
    manifest["spec"]["job"]["parallelism"] = 8  # 3 replicas × 2 slots = 6: the job would silently run at 6
    levels = {}
    for env in ("dev", "prod"):
        config = {**default_pack_config(env), **QUIET}
        violations, _ = run_pack([deployment(copy.deepcopy(manifest)), DENY], config)
        levels[env] = [(v["policy"], v["level"]) for v in violations if v["policy"] == "flink-parallelism"]
    assert levels == {"dev": [("flink-parallelism", "advisory")], "prod": [("flink-parallelism", "mandatory")]}
    assert json.loads((ROOT / "policies" / "config.prod.json").read_text())["flink-parallelism"] == "mandatory"
