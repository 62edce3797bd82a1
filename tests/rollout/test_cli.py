"""`flinkplat rollout` end to end through the CLI, with the Pulumi workspace and cluster status replaced by fakes."""

from __future__ import annotations

import json

import pytest

import flinkplat.commands.rollout as command
from flinkplat.cli import main
from flinkplat.rollout.status import DEPLOYMENT, FlinkStatus
from flinkplat.rollout.workspace import Changes
from tests.rollout.conftest import FakeStatus, healthy

pytestmark = pytest.mark.usefixtures("cached_plans")


def test_dry_run_prints_the_wave_plan_without_the_pulumi_cli(capsys, monkeypatch):
    monkeypatch.setattr(command, "pulumi_cli", lambda: None)
    assert main(["rollout", "--stack", "prod", "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == ("rollout plan for stack 'prod': 3 waves, lowest first (preview, policy check, pulumi up of "
                      "the wave's clusters, health gate)")
    assert out[1:4] == [
        "wave 0 (canary): use1-canary",
        "  region us-east-1: AWS provider aws-us-east-1, checkpoint bucket acme-flink-prod-us-east-1",
        "  cluster use1-canary (us-east-1, context arn:aws:eks:us-east-1:111122223333:cluster/use1-canary)"]
    assert "    flink cluster flink-logistics/warehouse (entry class com.us.WarehouseJob)" in out
    assert "    flink cluster flink-logistics/warehouse (entry class com.eu.ShippingJob)" in out
    assert out.index("wave 1: use1-main") < out.index("wave 2: euw1-main")
    assert "  region eu-west-1: AWS provider aws-eu-west-1, checkpoint bucket acme-flink-prod-eu-west-1" in out


def test_dry_run_json_lists_waves_clusters_and_targets(capsys):
    assert main(["rollout", "--stack", "prod", "--dry-run", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert [(w["wave"], w["canary"], [c["name"] for c in w["clusters"]]) for w in plan["waves"]] == [
        (0, True, ["use1-canary"]), (1, False, ["use1-main"]), (2, False, ["euw1-main"])]
    assert all(w["targets"] for w in plan["waves"])


def test_unknown_wave_exits_2(capsys):
    assert main(["rollout", "--stack", "prod", "--wave", "7"]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "flinkplat rollout: stack 'prod' has no wave 7; its waves are 0 (canary), 1, 2 (set by "
        "flink-platform:regions[].kubernetesClusters[].wave)")


def test_without_the_pulumi_cli_the_rollout_exits_2_and_points_at_the_dry_run(capsys, monkeypatch):
    monkeypatch.setattr(command, "pulumi_cli", lambda: None)
    assert main(["rollout", "--stack", "prod"]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "flinkplat rollout: the rollout drives the Pulumi CLI through the Automation API, and `pulumi` is not on "
        "PATH; install it (https://www.pulumi.com/docs/iac/download-install/) and log in to the stack's backend, or "
        "print the wave plan without it: flinkplat rollout --stack prod --dry-run")


class CliWorkspace:
    """Fake workspace for the CLI: works out the wave from the ClusterAddons components in the targets."""

    def __init__(self):
        self.calls = []

    def current_resources(self):
        return []

    def _wave(self, targets):
        # each wave carries every cluster's component (parents of the providers the engine always steps); the
        # add-ons component is its own wave's only
        kubes = sorted(u.rsplit("::", 1)[1] for u in targets if "$flinkplatform:fleet:ClusterAddons::" in u)
        return ",".join(kubes)

    def preview(self, targets):
        self.calls.append(("preview", self._wave(targets)))
        return Changes({"create": 1})

    def check_policies(self, targets):
        self.calls.append(("policy", self._wave(targets)))
        return []

    def up(self, targets):
        self.calls.append(("up", self._wave(targets)))
        return Changes({"create": 1})


def test_failing_wave_2_then_resume(tmp_path, capsys, monkeypatch):
    state_file = tmp_path / "rollout.json"
    workspace = CliWorkspace()
    failing = FakeStatus({"euw1-main": lambda cluster, poll: [
        FlinkStatus(DEPLOYMENT, s.namespace, s.name, 1, 1, "FAILED", "FAILED", "ClassNotFoundException")
        if s.name == "fraud-score" else s for s in healthy(cluster)]})
    monkeypatch.setattr(command, "pulumi_cli", lambda: "/usr/local/bin/pulumi")
    monkeypatch.setattr(command, "make_workspace", lambda *args: workspace)
    monkeypatch.setattr(command, "make_status", lambda *args: failing)

    assert main(["rollout", "--stack", "prod", "--state-file", str(state_file), "--gate-timeout", "30"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert ("rollout stopped: wave 2 failed at the gate step on euw1-main: unhealthy: euw1-main: FlinkDeployment "
            "flink-payments/fraud-score: lifecycle state FAILED; error: ClassNotFoundException") in out
    assert not any(line.startswith("untouched:") for line in out)  # wave 2 is the last wave: nothing untouched
    assert [op for op, _ in workspace.calls] == ["preview", "policy", "up"] * 3
    assert [wave for _, wave in workspace.calls[::3]] == ["use1-canary", "use1-main", "euw1-main"]

    workspace.calls.clear()
    monkeypatch.setattr(command, "make_status", lambda *args: FakeStatus())
    assert main(["rollout", "--stack", "prod", "--state-file", str(state_file), "--resume"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "rollout of stack 'prod' complete: wave 0 skipped, wave 1 skipped, wave 2 done"
    assert workspace.calls == [("preview", "euw1-main"), ("policy", "euw1-main"), ("up", "euw1-main")]

    assert main(["rollout", "--stack", "prod", "--state-file", str(state_file), "--resume"]) == 0
    assert capsys.readouterr().out.strip() == (
        f"nothing to resume: every wave of stack 'prod' is recorded as rolled out ({state_file})")


def test_resume_without_a_recorded_rollout_exits_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(command, "pulumi_cli", lambda: "/usr/local/bin/pulumi")
    missing = tmp_path / "none.json"
    assert main(["rollout", "--stack", "prod", "--resume", "--state-file", str(missing)]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"flinkplat rollout: no rollout of stack 'prod' is recorded in {missing}; run without --resume to start one")


def test_single_wave_adds_to_the_recorded_rollout(tmp_path, capsys, monkeypatch):
    state_file = tmp_path / "rollout.json"
    workspace = CliWorkspace()
    monkeypatch.setattr(command, "pulumi_cli", lambda: "/usr/local/bin/pulumi")
    monkeypatch.setattr(command, "make_workspace", lambda *args: workspace)
    monkeypatch.setattr(command, "make_status", lambda *args: FakeStatus())
    assert main(["rollout", "--stack", "prod", "--state-file", str(state_file), "--wave", "0"]) == 0
    assert main(["rollout", "--stack", "prod", "--state-file", str(state_file), "--wave", "1"]) == 0
    assert json.loads(state_file.read_text())["waves"] == {"0": {"status": "done"}, "1": {"status": "done"}}
    workspace.calls.clear()
    assert main(["rollout", "--stack", "prod", "--state-file", str(state_file), "--resume"]) == 0
    assert {wave for _, wave in workspace.calls} == {"euw1-main"}
    capsys.readouterr()


def test_a_stack_file_outside_a_project_directory_exits_2(tmp_path, capsys, monkeypatch):
    """The CLI deploys the Pulumi.<stack>.yaml beside Pulumi.yaml: a stack file elsewhere would be planned but not
    be what gets deployed."""
    stack_file = tmp_path / "Pulumi.prod.yaml"
    stack_file.write_text((command_root() / "Pulumi.prod.yaml").read_text())
    monkeypatch.setattr(command, "pulumi_cli", lambda: "/usr/local/bin/pulumi")
    monkeypatch.setattr(command, "make_workspace", lambda *args: pytest.fail("no workspace may be opened"))
    assert main(["rollout", "--stack-file", str(stack_file)]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"flinkplat rollout: {stack_file} is not in a Pulumi project directory (no Pulumi.yaml beside it); the CLI "
        "deploys the Pulumi.<stack>.yaml of a project directory, so put the stack file there")


def test_the_workspace_is_the_stack_files_project_and_can_run_the_program_inline(tmp_path, capsys, monkeypatch):
    import flinkplat.rollout.automation as automation

    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text((command_root() / "Pulumi.yaml").read_text())
    stack_file = project / "Pulumi.prod.yaml"
    stack_file.write_text((command_root() / "Pulumi.prod.yaml").read_text())
    opened = {}

    class Recorder(CliWorkspace):
        def __init__(self, stack, work_dir, **kwargs):
            super().__init__()
            opened.update(stack=stack, work_dir=work_dir, **kwargs)

    monkeypatch.setattr(automation, "AutomationWorkspace", Recorder)
    monkeypatch.setattr(command, "pulumi_cli", lambda: "/usr/local/bin/pulumi")
    monkeypatch.setattr(command, "make_status", lambda *args: FakeStatus())
    assert main(["rollout", "--stack-file", str(stack_file), "--inline-program",
                 "--state-file", str(tmp_path / "state.json")]) == 0
    assert opened["stack"] == "prod" and opened["work_dir"] == project
    assert callable(opened["program"])
    assert main(["rollout", "--stack-file", str(stack_file), "--state-file", str(tmp_path / "state2.json")]) == 0
    assert opened["program"] is None  # by default the CLI's language host runs the program
    capsys.readouterr()


def command_root():
    from tests.rollout.conftest import ROOT

    return ROOT


def test_the_resume_hint_repeats_how_the_rollout_was_started(tmp_path, capsys, monkeypatch):
    state_file = tmp_path / "my state.json"
    workspace = CliWorkspace()
    failing = FakeStatus({"use1-canary": lambda cluster, poll: [
        FlinkStatus(DEPLOYMENT, s.namespace, s.name, 1, 1, "FAILED", "FAILED", "boom") for s in healthy(cluster)]})
    monkeypatch.setattr(command, "pulumi_cli", lambda: "/usr/local/bin/pulumi")
    monkeypatch.setattr(command, "make_workspace", lambda *args: workspace)
    monkeypatch.setattr(command, "make_status", lambda *args: failing)
    assert main(["rollout", "--stack", "prod", "--state-file", str(state_file), "--policy-pack-config", "p.json"]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"untouched: wave 1, wave 2; fix the cause, then run: flinkplat rollout --stack prod --state-file "
        f"'{state_file}' --policy-pack-config p.json --resume")
