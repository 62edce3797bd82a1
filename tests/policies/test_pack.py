"""The policy pack run through pulumi-policy's own analyzer (`_PolicyAnalyzerServicer`) in-process, with the pack
config reconciled and applied the way the Pulumi CLI applies it, on plan-shaped resources."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from flinkplat.plan.policies import PackConfigError, analyzer, reconcile_config, run_pack
from flinkplat.rules import RULES
from flinkplat.rules.base import UNKNOWN_SENTINELS
from tests.rules.helpers import prod_manifest

ROOT = Path(__file__).resolve().parents[2]
UNKNOWN_STRING = next(k for k, v in UNKNOWN_SENTINELS.items() if v == "string")


@dataclass
class Planned:
    """The fields of a PlannedResource the pack reads."""

    type: str
    name: str
    inputs: dict
    provider: str | None = "kubernetes:use1-main"
    parent: str | None = None
    options: dict = field(default_factory=dict)

    @property
    def urn(self) -> str:
        return f"urn:pulumi:prod::flink-platform::{self.type}::{self.name}"


def deployment(manifest: dict | None = None, **options) -> Planned:
    manifest = manifest or prod_manifest()
    name = f"use1-main/{manifest['metadata']['namespace']}/{manifest['metadata']['name']}/deployment"
    return Planned("kubernetes:flink.apache.org/v1beta1:FlinkDeployment", name, manifest,
                   options={"ignoreChanges": [], **options})


DENY = Planned("kubernetes:networking.k8s.io/v1:NetworkPolicy", "use1-main/flink-logistics/default-deny",
               {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": "default-deny", "namespace": "flink-logistics"},
                "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}})
QUIET: dict = {}  # the known-good warehouse passes every rule at its default level (the ratio rule included)


def mandatory(violations):
    return [v for v in violations if v["level"] == "mandatory"]


def test_known_good_prod_deployment_passes_through_the_analyzer():
    assert run_pack([deployment(), DENY], QUIET) == ([], [])


def test_one_mutation_is_reported_with_level_resource_and_exact_message():
    manifest = prod_manifest()
    del manifest["spec"]["flinkConfiguration"]["execution.checkpointing.interval"]
    violations, waivers = run_pack([deployment(manifest), DENY], QUIET)
    assert waivers == []
    assert violations == [{
        "policy": "flink-checkpointing", "level": "mandatory",
        "resource": "use1-main/flink-logistics/warehouse/deployment",
        "message": "FlinkDeployment flink-logistics/warehouse has checkpointing off (execution.checkpointing.interval "
                   "is not set). Why: without checkpoints a failure or an upgrade restarts the job from nothing (or "
                   "from its last savepoint): state and exactly-once guarantees are lost. Fix: set "
                   "execution.checkpointing.interval (e.g. 60s; stack file: checkpointing.interval)."}]


def test_resources_a_targeted_run_skips_are_not_checked():
    """`pulumi preview --target` (a rollout wave) sends the not-yet-created resources it skips to the analyzers with
    empty properties; they are not part of the run (the real engine failed a canary wave on them)."""
    skipped = Planned("kubernetes:flink.apache.org/v1beta1:FlinkDeployment",
                      "euw1-main/flink-logistics/warehouse/deployment", {}, provider="kubernetes:euw1-main",
                      options={"ignoreChanges": []})
    assert run_pack([deployment(), DENY, skipped], QUIET) == ([], [])
    # a declared resource is still checked: an empty spec is not "skipped"
    manifest = prod_manifest()
    manifest["spec"] = {}
    assert "flink-checkpointing" in {v["policy"] for v in run_pack([deployment(manifest), DENY], QUIET)[0]}


def test_stack_policy_runs_in_analyze_stack():
    violations, _ = run_pack([deployment()], QUIET)
    assert [(v["policy"], v["level"], v["resource"]) for v in violations] == [
        ("flink-namespace-default-deny", "mandatory", "use1-main/flink-logistics/warehouse/deployment")]


def test_default_levels_and_thresholds_come_from_the_schema():
    servicer = analyzer()
    reconciled = reconcile_config(servicer, None)
    assert reconciled["flink-memory-ratio"] == {"level": "advisory", "properties": {"ratio": 0.7, "tolerance": 0.01}}
    assert reconciled["flink-checkpointing"] == {"level": "mandatory", "properties": {"schemes": ["s3"]}}
    assert {name: entry["level"] for name, entry in reconciled.items()} == {r.name: r.level for r in RULES}


def test_all_then_per_policy_levels_and_thresholds_like_the_cli():
    manifest = prod_manifest()
    manifest["spec"]["flinkConfiguration"]["execution.checkpointing.timeout"] = "2min"
    resources = [deployment(manifest), DENY]
    assert [(v["policy"], v["level"]) for v in run_pack(resources, QUIET)[0]] == [
        ("flink-checkpoint-timeout", "advisory")]
    assert [(v["policy"], v["level"]) for v in run_pack(resources, {"all": "mandatory", **QUIET})[0]] == [
        ("flink-checkpoint-timeout", "mandatory")]
    assert run_pack(resources, {"all": "mandatory", "flink-checkpoint-timeout": "disabled", **QUIET})[0] == []
    # a threshold through the config, numbers arriving as floats as from the CLI
    assert run_pack(resources, {**QUIET, "flink-checkpoint-timeout": {"minIntervals": 2}})[0] == []
    [violation] = run_pack([deployment(), DENY], {"flink-network-memory": {"enforcementLevel": "mandatory",
                                                                            "minMb": 512}, **QUIET})[0]
    assert violation["policy"] == "flink-network-memory" and violation["level"] == "mandatory"
    assert violation["message"].startswith("TaskManager network memory of FlinkDeployment flink-logistics/warehouse "
                                           "is 286.7m, below 512m.")


@pytest.mark.parametrize("config, error", [
    ({"flink-slot-match-cpu": "mandatory"},
     "policy pack config: unknown policy 'flink-slot-match-cpu'; did you mean 'flink-slots-match-cpu'? policies are:"),
    ({"flink-ha": "blocking"},
     "policy pack config: flink-ha: \"blocking\" is not a valid enforcement level (use one of advisory, mandatory, "
     "remediate, disabled)"),
    ({"flink-memory-ratio": {"ratio": 1.5}},
     "policy pack config is invalid:\n  - flink-memory-ratio.ratio: 1.5 is greater than the maximum of 1"),
    ({"flink-checkpointing": {"schemes": "s3"}},
     "policy pack config is invalid:\n  - flink-checkpointing.schemes: 's3' is not of type 'array'"),
])
def test_invalid_pack_config_is_a_clear_error(config, error):
    with pytest.raises(PackConfigError) as raised:
        reconcile_config(analyzer(), config)
    assert str(raised.value).startswith(error)


def test_example_pack_configs_are_valid():
    for env in ("dev", "prod"):
        reconcile_config(analyzer(), json.loads((ROOT / "policies" / f"config.{env}.json").read_text()))


def test_unknown_at_preview_is_an_explicit_advisory_note_not_a_pass():
    manifest = prod_manifest()
    manifest["spec"]["flinkConfiguration"]["execution.checkpointing.dir"] = UNKNOWN_STRING
    violations, _ = run_pack([deployment(manifest), DENY], {"all": "mandatory", **QUIET})
    notes = {v["policy"]: v for v in violations}
    assert notes["flink-checkpointing"] == {
        "policy": "flink-checkpointing", "level": "advisory", "resource": "use1-main/flink-logistics/warehouse/deployment",
        "message": "unknown at preview: string value at .spec.flinkConfiguration.execution.checkpointing.dir can't be "
                   "known during preview, so this policy could not check the resource; it is checked again when the "
                   "value is known (pulumi up)."}
    assert all(v["level"] == "advisory" and v["message"].startswith("unknown at preview: ") for v in violations)


def with_waivers(manifest: dict, waivers: list[dict]) -> dict:
    manifest = copy.deepcopy(manifest)
    manifest["metadata"].setdefault("annotations", {})["flink-platform/waivers"] = json.dumps(waivers)
    return manifest


def test_waiver_removes_the_violation_and_lists_it():
    manifest = prod_manifest()
    manifest["spec"]["taskManager"]["resource"]["cpu"] = 1
    resources = [deployment(manifest), DENY]
    assert [v["policy"] for v in run_pack(resources, {**QUIET, "flink-slots-match-cpu": "mandatory"})[0]] == [
        "flink-slots-match-cpu"]
    waived = with_waivers(manifest, [{"policy": "flink-slots-match-cpu", "reason": "IO-bound enrichment, waits on "
                                      "a remote API", "expires": "2099-12-31"}])
    violations, waivers = run_pack([deployment(waived), DENY], {**QUIET, "flink-slots-match-cpu": "mandatory"})
    assert violations == []
    assert waivers == [{"policy": "flink-slots-match-cpu", "resource": "use1-main/flink-logistics/warehouse/deployment",
                        "reason": "IO-bound enrichment, waits on a remote API", "expires": "2099-12-31"}]


def test_expired_waiver_no_longer_applies_and_gets_its_own_advisory_note():
    manifest = prod_manifest()
    manifest["spec"]["taskManager"]["resource"]["cpu"] = 1
    expired = with_waivers(manifest, [{"policy": "flink-slots-match-cpu", "reason": "IO-bound enrichment job",
                                       "expires": "2020-01-31"}])
    violations, waivers = run_pack([deployment(expired), DENY], {**QUIET, "flink-slots-match-cpu": "mandatory"})
    assert waivers == []
    assert [(v["policy"], v["level"]) for v in violations] == [
        ("flink-slots-match-cpu", "mandatory"), ("flink-waivers", "advisory")]
    assert "the waiver of flink-slots-match-cpu expired on 2020-01-31" in violations[1]["message"]


def test_stack_policy_finding_is_waived_by_the_deployments_it_belongs_to():
    waived = with_waivers(prod_manifest(), [{"policy": "flink-namespace-default-deny",
                                             "reason": "namespace isolation handled by the service mesh"}])
    assert run_pack([deployment(waived)], QUIET) == ([], [{
        "policy": "flink-namespace-default-deny", "resource": "use1-main/flink-logistics/warehouse/deployment",
        "reason": "namespace isolation handled by the service mesh", "expires": None}])


def test_dev_and_prod_plans_have_no_violations_of_any_level(dev_plan, prod_plan):
    """The example stacks, with the platform's defaults, pass the platform's own pack: not even an advisory."""
    for plan in (dev_plan, prod_plan):
        assert [(v["policy"], v["level"], v["resource"]) for v in plan["violations"]] == [], plan["stack"]


def test_without_the_platform_memory_layout_prod_breaks_the_teams_ratio(write_stack):
    """The pack did run on the real stack: with Flink's default split (taskManager.flinkMemoryRatio: null) every
    prod TaskManager is above the team's 70 % (9 copies, advisory) — the platform's layout is what keeps it clean."""
    import yaml

    from flinkplat.plan.runner import plan_stack

    document = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    for cluster in document["config"]["flink-platform:clusters"]:
        cluster.setdefault("taskManager", {})["flinkMemoryRatio"] = None
    violations = plan_stack(stack_file=write_stack(document, "prod")).to_json()["violations"]
    assert {(v["policy"], v["level"]) for v in violations} == {("flink-memory-ratio", "advisory")}
    assert len(violations) == 9


def test_docs_describe_every_rule_with_its_default_level():
    text = (ROOT / "docs" / "policies.md").read_text()
    for rule in RULES:
        assert f"### `{rule.name}`\n\n- **Default level:** {rule.level}" in text, rule.name
