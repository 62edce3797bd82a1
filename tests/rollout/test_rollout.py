"""The rollout orchestration against fakes of the Pulumi workspace and of cluster status: order, halting on a failed
gate or policy, resuming, timeouts. No test waits: the gate's clock advances only when it sleeps."""

from __future__ import annotations

import json

import pytest

from flinkplat.rollout.state import RolloutState, StateError
from flinkplat.rollout.status import DEPLOYMENT, FlinkStatus, StatusError
from flinkplat.rollout.workspace import PolicyViolation
from tests.rollout.conftest import FakeStatus, four_wave_fleet, healthy


def _ops(workspace, wave):
    return [op for op, number in workspace.calls if number == wave]


def test_waves_run_in_order_canary_first_with_preview_policy_up_then_gate(prod_waves, make_rollout):
    rollout, workspace, status, lines = make_rollout(prod_waves)
    result = rollout.run()
    assert result.ok
    assert [(o.number, o.status) for o in result.outcomes] == [(0, "done"), (1, "done"), (2, "done")]
    assert workspace.calls == [(op, wave) for wave in (0, 1, 2) for op in ("preview", "policy", "up")]
    assert status.polls == ["use1-canary", "use1-main", "euw1-main"]
    assert lines[0] == "wave 0 (canary): use1-canary (1 target resources)"
    assert lines[-1] == "rollout of stack 'prod' complete: wave 0 done, wave 1 done, wave 2 done"
    assert rollout.state.done == {0, 1, 2}


def test_failed_gate_in_wave_2_stops_names_cluster_and_reason_and_leaves_later_waves_untouched(tmp_path, make_rollout):
    plan = four_wave_fleet(tmp_path)
    assert plan.numbers == (0, 1, 2, 3)

    def warehouse_fails(cluster, poll):
        found = healthy(cluster)
        return [FlinkStatus(DEPLOYMENT, s.namespace, s.name, 2, 2, "FAILED", "FAILED",
                            "java.lang.ClassNotFoundException: com.eu.ShippingJob")
                if s.name == "warehouse" else s for s in found]

    rollout, workspace, status, lines = make_rollout(plan, status=FakeStatus({"euw1-main": warehouse_fails}))
    result = rollout.run()
    assert not result.ok
    failed = result.failed
    assert (failed.number, failed.step, failed.clusters) == (2, "gate", ("euw1-main",))
    assert failed.reason == ("unhealthy: euw1-main: FlinkDeployment flink-logistics/warehouse: lifecycle state FAILED; "
                             "error: java.lang.ClassNotFoundException: com.eu.ShippingJob")
    assert result.untouched == [3]
    assert _ops(workspace, 3) == [] and "euw1-second" not in status.polls
    assert status.polls.count("euw1-main") == 1  # a terminal state stops the gate at once
    assert lines[-2] == ("rollout stopped: wave 2 failed at the gate step on euw1-main: " + failed.reason)
    assert lines[-1] == "untouched: wave 3; fix the cause, then run: flinkplat rollout --stack prod --resume"
    saved = json.loads((tmp_path / "state.json").read_text())
    assert saved["waves"] == {"0": {"status": "done"}, "1": {"status": "done"},
                              "2": {"status": "failed", "step": "gate", "reason": failed.reason}}


def test_resume_continues_from_the_first_unfinished_wave(tmp_path, make_rollout):
    plan = four_wave_fleet(tmp_path)
    broken = FakeStatus({"euw1-main": lambda cluster, poll: [
        FlinkStatus(DEPLOYMENT, f.namespace, f.name, 2, 2, "ROLLED_BACK", "RUNNING") for f in cluster.flink]})
    first, _, _, _ = make_rollout(plan, status=broken)
    assert not first.run().ok

    state = RolloutState.load(tmp_path / "state.json", "prod", plan.shape())
    assert state.done == {0, 1}
    rollout, workspace, status, lines = make_rollout(plan, state=state)
    result = rollout.run(resume=True)
    assert result.ok
    assert [(o.number, o.status) for o in result.outcomes] == [
        (0, "skipped"), (1, "skipped"), (2, "done"), (3, "done")]
    assert sorted({wave for _, wave in workspace.calls}) == [2, 3]
    assert status.polls == ["euw1-main", "euw1-second"]
    assert lines[0] == "wave 0 (canary): already rolled out (recorded in the state file), skipping"
    assert RolloutState.load(tmp_path / "state.json", "prod", plan.shape()).done == {0, 1, 2, 3}


def test_resume_refuses_a_changed_wave_plan(tmp_path, prod_waves):
    path = tmp_path / "state.json"
    RolloutState(stack="prod", shape={"0": ["use1-canary"], "1": ["use1-main"]}).save(path)
    with pytest.raises(StateError) as error:
        RolloutState.load(path, "prod", prod_waves.shape())
    assert str(error.value) == (
        "the wave plan of stack 'prod' changed since the recorded rollout (was wave 0: use1-canary; wave 1: "
        "use1-main, now wave 0: use1-canary; wave 1: use1-main; wave 2: euw1-main); run without --resume to start "
        "a new rollout")


def test_gate_times_out_and_reports_what_is_still_pending(prod_waves, make_rollout, clock):
    upgrading = FakeStatus({"use1-canary": lambda cluster, poll: [
        FlinkStatus(DEPLOYMENT, f.namespace, f.name, 3, 3, "UPGRADING", "RECONCILING") for f in cluster.flink]})
    rollout, workspace, status, _ = make_rollout(prod_waves, status=upgrading, timeout=60, interval=10)
    result = rollout.run()
    failed = result.failed
    assert (failed.number, failed.step, failed.clusters) == (0, "gate", ("use1-canary",))
    assert failed.reason == ("not healthy within 60s: use1-canary: FlinkDeployment flink-payments/payments-enrich: "
                             "lifecycle state UPGRADING, waiting for STABLE")
    assert clock.slept == [10, 10, 10, 10, 10, 10] and status.polls.count("use1-canary") == 7
    assert result.untouched == [1, 2] and _ops(workspace, 1) == []


def test_gate_passes_once_the_operator_has_observed_the_new_generation(prod_waves, make_rollout, clock):
    def catching_up(cluster, poll):
        # polls 1-2: the old generation is still reported STABLE; it must not count as the new one being healthy
        observed = 1 if poll < 3 else 2
        return [FlinkStatus(DEPLOYMENT, f.namespace, f.name, 2, observed, "STABLE", "RUNNING") for f in cluster.flink]

    rollout, _, status, lines = make_rollout(prod_waves, status=FakeStatus({"use1-canary": catching_up}))
    assert rollout.run().ok
    assert status.polls.count("use1-canary") == 3 and clock.slept == [10, 10]
    assert "  health gate: healthy after 3 polls" in lines


def test_mandatory_policy_violation_stops_the_wave_before_up(prod_waves, make_rollout):
    violation = PolicyViolation("flink-upgrade-mode-stateful", "mandatory",
                                "use1-main/flink-payments/ledger-agg/deployment", "upgradeMode stateless drops state")
    advisory = PolicyViolation("flink-slots-match-cpu", "advisory", "use1-canary/flink-payments/payments-enrich",
                               "2 slots for 1 CPU")
    rollout, workspace, status, lines = make_rollout(prod_waves, violations={0: [advisory], 1: [violation]})
    result = rollout.run()
    failed = result.failed
    assert (failed.number, failed.step) == (1, "policy")
    assert failed.reason == "1 mandatory policy violation (flink-upgrade-mode-stateful); nothing was deployed"
    assert _ops(workspace, 0) == ["preview", "policy", "up"]  # advisory results do not stop a wave
    assert _ops(workspace, 1) == ["preview", "policy"]
    assert _ops(workspace, 2) == [] and status.polls == ["use1-canary"]
    assert f"  policy {violation}" in lines and f"  policy {advisory}" in lines


def test_failed_pulumi_up_stops_the_rollout(prod_waves, make_rollout):
    rollout, workspace, status, _ = make_rollout(prod_waves, fail={("up", 0): "kubernetes:use1-canary unreachable"})
    result = rollout.run()
    assert (result.failed.step, result.failed.reason) == ("up", "pulumi up failed: kubernetes:use1-canary unreachable")
    assert status.polls == [] and result.untouched == [1, 2]


def test_unreadable_status_is_pending_until_the_timeout(prod_waves, make_rollout):
    def unreachable(cluster, poll):
        raise StatusError("Unauthorized")

    rollout, _, _, _ = make_rollout(prod_waves, status=FakeStatus({"use1-canary": unreachable}), timeout=20)
    failed = rollout.run().failed
    assert failed.reason == "not healthy within 20s: use1-canary: status: cannot read Flink status: Unauthorized"


def test_single_wave_runs_only_that_wave(prod_waves, make_rollout):
    rollout, workspace, status, _ = make_rollout(prod_waves)
    result = rollout.run(waves=[1])
    assert [(o.number, o.status) for o in result.outcomes] == [(1, "done")]
    assert {wave for _, wave in workspace.calls} == {1} and status.polls == ["use1-main"]
