"""The fast plan (recording runtime + one-pass policies, the default) against the faithful one (the Pulumi SDK's own
asynchronous registration on the mock monitor + pulumi-policy's analyzer, `faithful=True`): the same plan JSON,
resource by resource — URNs, parents, providers, options (dependsOn, protect, ignoreChanges, …), inputs (key order
included: `--out` writes them as they are), violations, waivers and stack outputs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

from flinkplat.plan.policies import (default_pack_config, pulumi_policies, run_pack, run_pack_single_pass)
from flinkplat.plan.runner import plan_stack

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from generate_fleet import generate  # noqa: E402


def assert_same_plan(fast: dict, faithful: dict) -> None:
    fast_resources = {r["urn"]: r for r in fast["resources"]}
    faithful_resources = {r["urn"]: r for r in faithful["resources"]}
    assert sorted(fast_resources) == sorted(faithful_resources), "different resources (URNs)"
    for urn, expected in faithful_resources.items():
        actual = fast_resources[urn]
        for field in ("type", "name", "parent", "provider", "options", "inputs"):
            assert actual[field] == expected[field], f"{urn}: {field} differs"
        assert json.dumps(actual["inputs"]) == json.dumps(expected["inputs"]), f"{urn}: input key order differs"
    assert [r["urn"] for r in fast["resources"]] == [r["urn"] for r in faithful["resources"]], "resource order"
    assert fast["violations"] == faithful["violations"]
    assert fast["waivers"] == faithful["waivers"]
    assert fast["outputs"] == faithful["outputs"]
    assert json.dumps(fast) == json.dumps(faithful)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_fast_plan_equals_faithful_plan_of_example_stacks(stack):
    fast = plan_stack(stack=stack, root=ROOT).to_json()
    faithful = plan_stack(stack=stack, root=ROOT, faithful=True).to_json()
    assert fast["resources"]
    assert_same_plan(fast, faithful)


def test_fast_plan_equals_faithful_plan_with_service_monitors(tmp_path):
    from tests.conftest import service_monitor_document

    stack_file = tmp_path / "Pulumi.prod.yaml"
    stack_file.write_text(yaml.safe_dump(service_monitor_document("prod"), sort_keys=False))
    fast = plan_stack(stack_file=stack_file, root=ROOT).to_json()
    faithful = plan_stack(stack_file=stack_file, root=ROOT, faithful=True).to_json()
    assert any(r["type"].endswith(":ServiceMonitor") for r in fast["resources"])
    assert_same_plan(fast, faithful)


@pytest.mark.slow
def test_fast_plan_equals_faithful_plan_of_a_generated_200_job_fleet(tmp_path):
    stack_file = tmp_path / "Pulumi.fleet.yaml"
    stack_file.write_text(yaml.safe_dump(generate(jobs=200), sort_keys=False))
    fast = plan_stack(stack_file=stack_file, root=ROOT).to_json()
    faithful = plan_stack(stack_file=stack_file, root=ROOT, faithful=True).to_json()
    assert len(fast["resources"]) > 3000 and fast["violations"], "the fleet exercises many resources and policies"
    assert_same_plan(fast, faithful)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_one_pass_policies_equal_the_full_analyzer(stack):
    """Every resource through pulumi-policy's Analyze with the whole pack (as `pulumi preview --policy-pack`
    would), the stack through AnalyzeStack: the same violations and waivers as one pass over all rules."""
    plan = plan_stack(stack=stack, root=ROOT, with_policies=False)
    resources = [r for r in plan.resources if r.custom and not r.type.startswith("pulumi:providers:")]
    config = default_pack_config(plan.loaded.config.environment, ROOT)
    # A stricter pack too, so that advisory and mandatory findings both show up.
    for pack_config in (config, {**config, "all": "mandatory"}):
        full = run_pack(resources, pack_config, policies=pulumi_policies())
        one_pass = run_pack_single_pass(resources, pack_config)
        assert one_pass == full


def test_one_pass_policies_report_unknowns_like_the_analyzer():
    """A value unknown at preview: the analyzer's own "can't run policy … during preview" note, not a pass."""
    plan = plan_stack(stack="dev", root=ROOT, with_policies=False)
    resources = [r for r in plan.resources if r.custom and not r.type.startswith("pulumi:providers:")]
    deployment = next(r for r in resources if r.type.endswith(":FlinkDeployment"))
    deployment.inputs["spec"]["taskManager"]["resource"]["memory"] = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    full, _ = run_pack(resources, {}, policies=pulumi_policies())
    one_pass, _ = run_pack_single_pass(resources, {})
    assert any("unknown at preview" in v["message"] for v in full)
    assert one_pass == full


def test_out_directory_is_written_with_libyaml_and_reads_back_as_the_plan(tmp_path):
    """`flinkplat plan --out` uses libyaml's emitter when PyYAML has it; the files hold exactly the planned
    manifests. (The text can differ from PyYAML's pure-Python emitter where a long string is folded: the
    Grafana dashboard JSON of a ConfigMap; the data is the same.)"""
    from flinkplat.cli import main
    from flinkplat.commands import plan as plan_command

    if hasattr(yaml, "CSafeDumper"):
        assert plan_command.YAML_DUMPER is yaml.CSafeDumper
    out = tmp_path / "out"
    assert main(["plan", "--stack", "prod", "--out", str(out)]) in (0, 1)
    plan_json = json.loads((out / "plan.json").read_text())
    written = sorted(out.rglob("*.yaml"))
    manifests = [r["inputs"] for r in plan_json["resources"]
                 if r["type"].startswith("kubernetes:") and "kind" in r["inputs"]]
    assert len(written) == len(manifests) > 50
    assert sorted(json.dumps(yaml.safe_load(p.read_text()), sort_keys=True) for p in written) == \
        sorted(json.dumps(m, sort_keys=True) for m in manifests)


def test_faithful_flag_plans_through_the_sdk_and_the_analyzer(monkeypatch, capsys):
    from flinkplat.cli import main
    from flinkplat.plan import runner

    calls = []
    real = runner.plan_stack

    def spy(*args, **kwargs):
        calls.append(kwargs.get("faithful"))
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "plan_stack", spy)
    assert main(["plan", "--stack", "dev", "--json", "--faithful"]) == 0
    faithful = json.loads(capsys.readouterr().out)
    assert main(["plan", "--stack", "dev", "--json"]) == 0
    fast = json.loads(capsys.readouterr().out)
    assert calls == [True, False]
    assert fast == faithful


def test_policies_split_with_a_worker_process_give_the_same_result(monkeypatch):
    """The forked worker (large stacks, an idle core) takes part of the resources: same violations, same order."""
    from flinkplat.plan import policies

    if not hasattr(__import__("os"), "fork"):
        pytest.skip("no fork on this platform")
    plan = plan_stack(stack="prod", root=ROOT, with_policies=False)
    resources = [r for r in plan.resources if r.custom and not r.type.startswith("pulumi:providers:")]
    for deployment in [r for r in resources if r.type.endswith(":FlinkDeployment")]:  # findings everywhere
        deployment.inputs["spec"]["taskManager"]["resource"]["memory"] = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    pack_config = {"all": "mandatory"}
    monkeypatch.setenv("FLINKPLAT_PLAN_WORKERS", "1")
    alone = policies.run_pack_single_pass(resources, pack_config)
    monkeypatch.setenv("FLINKPLAT_PLAN_WORKERS", "2")
    monkeypatch.setattr(policies, "PARALLEL_MIN_RESOURCES", 10)
    assert policies._worker_split(len(resources)) < len(resources)
    with_worker = policies.run_pack_single_pass(resources, pack_config)
    assert alone[0] and with_worker == alone
