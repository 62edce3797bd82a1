"""The Automation API workspace against a fake `automation.Stack` (the real one needs the Pulumi CLI)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from pulumi import automation as auto
from pulumi.automation._cmd import CommandResult

from flinkplat.rollout.automation import AutomationWorkspace
from flinkplat.rollout.workspace import PolicyViolation, WorkspaceError

URN = "urn:pulumi:prod::flink-platform::flinkplatform:fleet:Platform::flink-platform-prod"


def _policy_event(level, urn, policy="flink-upgrade-mode-stateful", message="drops state"):
    return SimpleNamespace(policy_event=SimpleNamespace(policy_name=policy, enforcement_level=level,
                                                        resource_urn=urn, message=message))


class FakeStack:
    def __init__(self, events=(), fail_preview=False, fail_up=None):
        self.events = list(events)
        self.fail_preview = fail_preview
        self.fail_up = fail_up
        self.calls = []

    def preview(self, **kwargs):
        self.calls.append(("preview", kwargs))
        for event in self.events:
            kwargs["on_event"](event)
        if self.fail_preview:
            raise auto.CommandError(CommandResult("", "error: preview failed due to policy violations", 255))
        return SimpleNamespace(change_summary={auto.OpType.UPDATE: 2, auto.OpType.SAME: 5})

    def up(self, **kwargs):
        self.calls.append(("up", kwargs))
        if self.fail_up:
            raise auto.CommandError(CommandResult("", self.fail_up, 255))
        return SimpleNamespace(summary=SimpleNamespace(resource_changes={"create": 1, "same": 7}))

    def export_stack(self):
        return auto.Deployment(version=3, deployment={"resources": [{"urn": URN, "type": "flinkplatform:fleet:Platform"}]})


def _workspace(stack, **kwargs):
    return AutomationWorkspace("prod", None, stack_handle=stack, **kwargs)


def test_preview_and_up_pass_exactly_the_wave_targets_and_the_policy_pack():
    stack = FakeStack()
    workspace = _workspace(stack, policy_packs=["policies"])
    assert str(workspace.preview([URN])) == "2 to update"
    assert str(workspace.up([URN])) == "1 to create"
    assert [(op, kw["target"], kw["policy_packs"]) for op, kw in stack.calls] == [
        ("preview", [URN], ["policies"]), ("up", [URN], ["policies"])]
    assert [r.urn for r in workspace.current_resources()] == [URN]


def test_mandatory_policy_events_of_a_failed_preview_are_the_policy_result():
    stack = FakeStack(events=[_policy_event("mandatory", URN), _policy_event("advisory", URN, "flink-slots")],
                      fail_preview=True)
    workspace = _workspace(stack, offline_violations=[
        {"policy": "flink-tm-min", "level": "mandatory", "resource": "flink-platform-prod", "message": "too few"},
        {"policy": "elsewhere", "level": "mandatory", "resource": "other", "message": "not in this wave"}],
        names_by_urn={URN: "flink-platform-prod"})
    workspace.preview([URN])
    assert workspace.check_policies([URN]) == [
        PolicyViolation("flink-upgrade-mode-stateful", "mandatory", URN, "drops state"),
        PolicyViolation("flink-slots", "advisory", URN, "drops state"),
        PolicyViolation("flink-tm-min", "mandatory", "flink-platform-prod", "too few")]
    assert len(stack.calls) == 1  # the policy check reuses the wave's preview


def test_a_failed_preview_without_policy_violations_is_an_error():
    with pytest.raises(WorkspaceError) as error:
        _workspace(FakeStack(fail_preview=True)).preview([URN])
    assert "preview failed due to policy violations" in str(error.value)


def test_a_failed_up_is_an_error_with_the_cli_output():
    with pytest.raises(WorkspaceError) as error:
        _workspace(FakeStack(fail_up="kubernetes:use1-canary: the server has asked for the client to provide "
                                     "credentials")).up([URN])
    assert "the server has asked for the client to provide credentials" in str(error.value)


def test_selecting_a_missing_stack_is_a_workspace_error(monkeypatch, tmp_path):
    def missing(**kwargs):
        raise auto.CommandError(CommandResult("", "error: no stack named 'prod' found", 255))

    monkeypatch.setattr(auto, "select_stack", missing)
    with pytest.raises(WorkspaceError) as error:
        AutomationWorkspace("prod", tmp_path)
    assert str(error.value).startswith(f"cannot select stack 'prod' in {tmp_path}")
    assert "no stack named 'prod' found" in str(error.value)


def test_an_inline_program_is_selected_with_the_project_directory(monkeypatch, tmp_path):
    selected = {}
    monkeypatch.setattr(auto, "select_stack", lambda **kwargs: selected.update(kwargs) or FakeStack())

    def program():
        return None

    AutomationWorkspace("prod", tmp_path, program=program)
    assert selected["stack_name"] == "prod" and selected["project_name"] == "flink-platform"
    assert selected["program"] is program and selected["opts"].work_dir == str(tmp_path)
    assert "work_dir" not in selected  # a work_dir keyword would make the Automation API run the CLI's program


def test_project_program_turns_a_config_exit_into_a_run_error(tmp_path):
    import pulumi

    from flinkplat.rollout.automation import project_program

    (tmp_path / "__main__.py").write_text("import sys\nsys.exit(1)\n")
    with pytest.raises(pulumi.RunError, match="exited with code 1"):
        project_program(tmp_path)()
    (tmp_path / "__main__.py").write_text("RESULT = 42\n")
    project_program(tmp_path)()  # a clean run returns


def test_a_failed_up_reports_the_engine_errors_not_the_stack_outputs():
    output = "\n".join([
        "Updating (prod):",
        "    kubernetes:core/v1:Namespace use1-canary/flink-payments  error: namespaces \"x\" is forbidden",
        "Diagnostics:",
        "  kubernetes:core/v1:Namespace (use1-canary/flink-payments):",
        "    error: namespaces \"x\" is forbidden",
        "  pulumi:pulumi:Stack (flink-platform-prod):",
        "    error: update failed",
        "Outputs:",
        *[f"    output{i}: \"value\"" for i in range(30)],
    ])
    with pytest.raises(WorkspaceError) as error:
        _workspace(FakeStack(fail_up=output)).up([URN])
    assert str(error.value) == "error: namespaces \"x\" is forbidden"
