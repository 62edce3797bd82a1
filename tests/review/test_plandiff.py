"""Plan diffs and Flink consequences on real stack edits (both sides planned with the real program, offline)."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from flinkplat.flink.diff import ChangeClass, Consequence
from flinkplat.plan.runner import plan_stack
from flinkplat.review.plandiff import diff_plans
from flinkplat.review.render import markdown, memory_changes, to_json

from . import stacks

ROOT = Path(__file__).resolve().parents[2]


@functools.lru_cache(maxsize=None)
def _base_plan(tmp: str) -> dict:
    return plan_stack(stack_file=stacks.write(Path(tmp) / "Pulumi.review.yaml", stacks.stack()), root=ROOT).to_json()


@pytest.fixture(scope="module")
def base_plan(tmp_path_factory) -> dict:
    return _base_plan(str(tmp_path_factory.mktemp("base")))


def review(base_plan: dict, tmp_path: Path, edit):
    head = plan_stack(stack_file=stacks.write(tmp_path / "Pulumi.review.yaml", stacks.stack(edit)), root=ROOT)
    return diff_plans(base_plan, head.to_json())


def flink(diff, cluster: str, name: str):
    found = [c for c in diff.flink_changes if c.cluster == cluster and c.object_name.endswith("/" + name)]
    assert len(found) == 1, [(c.cluster, c.object_name) for c in diff.flink_changes]
    return found[0]


def test_no_edit_no_change(base_plan, tmp_path):
    diff = review(base_plan, tmp_path, None)
    assert diff.changes == [] and diff.unchanged == len(base_plan["resources"])
    assert "No resource changes." in markdown(diff, "main")


def test_parallelism_bump_in_native_mode_restarts_through_savepoint(base_plan, tmp_path):
    diff = review(base_plan, tmp_path, lambda c: stacks.cluster(c, "checkout")["job"].update(parallelism=8))
    assert {c.cluster for c in diff.changes} == {"use1-a", "euw1-a"}
    change = flink(diff, "use1-a", "checkout")
    assert change.action == "update"
    assert change.flink.change is ChangeClass.UPGRADE
    assert change.flink.summary == "restart (upgradeMode savepoint)"
    assert [f.path for f in change.flink.fields] == ["spec.job.parallelism"]
    assert len(diff.restarts) == 2 and diff.state_loss == []


def test_operator_only_key_needs_no_restart(base_plan, tmp_path):
    diff = review(base_plan, tmp_path, lambda c: stacks.cluster(c, "invoices").update(
        flinkConfiguration={"kubernetes.operator.savepoint.history.max.count": "3"}))
    change = flink(diff, "use1-a", "invoices")
    assert change.flink.change is ChangeClass.IGNORE and change.flink.consequence is Consequence.NONE
    assert diff.restarts == []


def test_reactive_standalone_scale_is_in_place(base_plan, tmp_path):
    def edit(c):
        checkout = stacks.cluster(c, "checkout")
        checkout.update(deploymentMode="standalone", flinkConfiguration={"scheduler-mode": "reactive"})
    standalone_base = plan_stack(stack_file=stacks.write(tmp_path / "Pulumi.review.yaml", stacks.stack(edit)),
                                 root=ROOT).to_json()
    (tmp_path / "head").mkdir()
    head = plan_stack(stack_file=stacks.write(tmp_path / "head" / "Pulumi.review.yaml", stacks.stack(
        lambda c: (edit(c), stacks.cluster(c, "checkout")["taskManager"].update(replicas=3)))), root=ROOT).to_json()
    diff = diff_plans(standalone_base, head)
    change = flink(diff, "euw1-a", "checkout")
    assert change.flink.change is ChangeClass.SCALE
    assert change.flink.consequence is Consequence.RESCALE and diff.restarts == []


def test_renaming_a_job_replaces_it_and_loses_state(base_plan, tmp_path):
    diff = review(base_plan, tmp_path, lambda c: stacks.cluster(c, "invoices").update(name="invoices-v2"))
    change = flink(diff, "use1-a", "invoices-v2")
    assert change.action == "replace" and change.old_name == "use1-a/flink-billing/invoices/deployment"
    assert change.flink.consequence is Consequence.REPLACE
    assert "name changes from invoices to invoices-v2" in change.flink.state_loss[0]
    assert len(diff.state_loss) == 1
    report = markdown(diff, "main")
    assert "🚨 STATE LOSS ×1" in report.splitlines()[3]
    assert "[!CAUTION]" in report


def test_renaming_with_an_initial_savepoint_keeps_state(base_plan, tmp_path):
    diff = review(base_plan, tmp_path, lambda c: (
        stacks.cluster(c, "invoices")["job"].update(initialSavepointPath="s3://review/sp/invoices-1"),
        stacks.cluster(c, "invoices").update(name="invoices-v2")))
    change = flink(diff, "use1-a", "invoices-v2")
    assert change.action == "replace" and change.flink.state_loss == ()
    assert "s3://review/sp/invoices-1" in change.flink.warnings[0]


def test_moving_a_job_to_another_team_namespace_loses_state(base_plan, tmp_path):
    diff = review(base_plan, tmp_path, lambda c: stacks.cluster(c, "invoices").update(team="orders"))
    change = flink(diff, "use1-a", "invoices")
    assert change.action == "replace"
    assert change.object_name == "flink-orders/invoices"
    assert "namespace changes from flink-billing to flink-orders" in change.flink.state_loss[0]


def test_switching_deployment_mode_is_rejected_by_the_operator(base_plan, tmp_path):
    diff = review(base_plan, tmp_path, lambda c: stacks.cluster(c, "invoices").update(deploymentMode="standalone"))
    change = flink(diff, "use1-a", "invoices")
    assert change.flink.consequence is Consequence.REJECTED
    assert change.flink.rejected == ("Cannot switch from native kubernetes to standalone kubernetes cluster",)
    assert change.flink.state_loss  # going through means delete + create
    report = markdown(diff, "main")
    assert "⛔ 1 rejected by the operator" in report and "[!WARNING]" in report


def test_switching_to_stateless_is_state_loss(base_plan, tmp_path):
    diff = review(base_plan, tmp_path, lambda c: stacks.cluster(c, "invoices")["job"].update(upgradeMode="stateless"))
    change = flink(diff, "use1-a", "invoices")
    assert change.flink.change is ChangeClass.IGNORE
    assert "from last-state to stateless" in change.flink.state_loss[0]


def test_flink_version_bump_with_last_state_is_state_loss(base_plan, tmp_path):
    diff = review(base_plan, tmp_path, lambda c: stacks.cluster(c, "invoices").update(flinkVersion="2.2"))
    change = flink(diff, "use1-a", "invoices")
    assert change.flink.consequence is Consequence.RESTART
    assert "FLINK-28350" in change.flink.state_loss[0]


def test_renaming_the_bucket_replaces_it_and_loses_every_jobs_state(base_plan, tmp_path):
    diff = review(base_plan, tmp_path, lambda c: c["flink-platform:storage"].update(bucketPrefix="review-flink2"))
    buckets = [c for c in diff.changes if c.type == "aws:s3/bucket:Bucket"]
    assert {b.action for b in buckets} == {"replace"} and len(buckets) == 2
    assert "checkpoint bucket review-flink-dev-us-east-1 is replaced" in buckets[0].state_loss[0] + buckets[1].state_loss[0]
    assert all(c.action == "update" for c in diff.flink_changes)  # checkpoint paths move: restarts


def test_deleting_a_job_loses_its_state(base_plan, tmp_path):
    diff = review(base_plan, tmp_path, lambda c: c["flink-platform:clusters"].pop(1))
    change = flink(diff, "use1-a", "invoices")
    assert change.action == "delete" and change.flink.consequence is Consequence.DELETE
    assert change.flink.state_loss


def test_taskmanager_memory_change_gets_a_breakdown(base_plan, tmp_path):
    diff = review(base_plan, tmp_path, lambda c: stacks.cluster(c, "invoices")["taskManager"].update(memory="8192m"))
    [memory] = memory_changes(diff)
    assert memory.before.memory.total_process == 4096 << 20
    assert memory.after.memory.total_process == 8192 << 20
    report = markdown(diff, "main")
    assert "| **Total process** | 4,096.0 MiB | 8,192.0 MiB | +4,096.0 MiB |" in report
    assert "before  4096m ▕" in report and "after   8192m ▕" in report
    data = to_json(diff, "main")
    assert data["memory"][0]["after"]["bytes"]["total_process"] == 8192 << 20


def test_memory_flink_refuses_is_reported(base_plan, tmp_path):
    diff = review(base_plan, tmp_path, lambda c: stacks.cluster(c, "invoices")["taskManager"].update(memory="512m"))
    [memory] = memory_changes(diff)
    assert memory.after.memory is None and "TaskManager memory configuration failed" in memory.after.error
    assert "Flink refuses" in markdown(diff, "main")


def test_stack_missing_at_base_means_everything_is_created(tmp_path):
    head = plan_stack(stack_file=stacks.write(tmp_path / "Pulumi.review.yaml", stacks.stack()), root=ROOT).to_json()
    diff = diff_plans(None, head)
    assert diff.counts()["create"] == len(head["resources"]) and diff.restarts == []
    assert "does not exist at `main`" in markdown(diff, "main")
