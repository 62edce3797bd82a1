"""The operator's spec-change classes (FACTS §1.7) and the state consequences, on manifests."""

from __future__ import annotations

import copy

import pytest

from flinkplat.flink.diff import ChangeClass, Consequence, changed_paths, classify


def deployment(**spec_overrides) -> dict:
    spec = {
        "image": "flink:1.20.3-scala_2.12-java17",
        "flinkVersion": "v1_20",
        "serviceAccount": "orders-flink",
        "mode": "native",
        "flinkConfiguration": {"taskmanager.numberOfTaskSlots": "2", "state.backend.type": "rocksdb"},
        "jobManager": {"replicas": 1, "resource": {"cpu": 1, "memory": "2048m"}},
        "taskManager": {"resource": {"cpu": 2, "memory": "4096m"}, "replicas": 2},
        "job": {"jarURI": "local:///opt/flink/usrlib/orders.jar", "parallelism": 4, "upgradeMode": "savepoint",
                "state": "running", "allowNonRestoredState": False},
    }
    spec.update(spec_overrides)
    return {"apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkDeployment",
            "metadata": {"name": "orders", "namespace": "flink-shop", "labels": {"team": "shop"}}, "spec": spec}


def change(before: dict, edit) -> dict:
    after = copy.deepcopy(before)
    edit(after["spec"])
    return after


def standalone(reactive: bool = True) -> dict:
    manifest = deployment(mode="standalone")
    if reactive:
        manifest["spec"]["flinkConfiguration"]["scheduler-mode"] = "reactive"
    return manifest


def test_nothing_changed_is_none():
    assert classify(deployment(), deployment()) is None


@pytest.mark.parametrize("edit, path", [
    (lambda s: s["job"].update(upgradeMode="last-state"), "spec.job.upgradeMode"),
    (lambda s: s["job"].update(allowNonRestoredState=True), "spec.job.allowNonRestoredState"),
    (lambda s: s["job"].update(initialSavepointPath="s3://b/sp-1"), "spec.job.initialSavepointPath"),
    (lambda s: s["job"].update(savepointTriggerNonce=7), "spec.job.savepointTriggerNonce"),
    (lambda s: s["flinkConfiguration"].update({"kubernetes.operator.savepoint.history.max.count": "5"}),
     'spec.flinkConfiguration["kubernetes.operator.savepoint.history.max.count"]'),
    (lambda s: s["flinkConfiguration"].update({"job.autoscaler.utilization.target": "0.6"}),
     'spec.flinkConfiguration["job.autoscaler.utilization.target"]'),
    (lambda s: s["flinkConfiguration"].update({"parallelism.default": "9"}),
     'spec.flinkConfiguration["parallelism.default"]'),
])
def test_ignore_class_keeps_the_job_running(edit, path):
    before = deployment()
    result = classify(before, change(before, edit))
    assert result.change is ChangeClass.IGNORE
    assert result.consequence is Consequence.NONE and not result.restarts
    assert [f.path for f in result.fields] == [path]
    assert result.state_loss == ()


def test_metadata_only_change_is_ignored_by_the_operator():
    before = deployment()
    after = copy.deepcopy(before)
    after["metadata"]["labels"]["cost-center"] = "42"
    result = classify(before, after)
    assert result.change is ChangeClass.IGNORE and result.consequence is Consequence.NONE


def test_native_parallelism_and_replicas_are_upgrades():
    before = deployment()
    result = classify(before, change(before, lambda s: (s["job"].update(parallelism=8),
                                                      s["taskManager"].update(replicas=4))))
    assert result.change is ChangeClass.UPGRADE
    assert result.consequence is Consequence.RESTART
    assert result.summary == "restart (upgradeMode savepoint)"
    assert {f.path: f.change for f in result.fields} == {"spec.job.parallelism": ChangeClass.UPGRADE,
                                                        "spec.taskManager.replicas": ChangeClass.UPGRADE}


def test_standalone_reactive_rescales_in_place():
    before = standalone()
    result = classify(before, change(before, lambda s: s["taskManager"].update(replicas=5)))
    assert result.change is ChangeClass.SCALE
    assert result.consequence is Consequence.RESCALE and not result.restarts


def test_standalone_without_reactive_scale_becomes_a_restart():
    before = standalone(reactive=False)
    result = classify(before, change(before, lambda s: s["job"].update(parallelism=6)))
    assert result.change is ChangeClass.SCALE
    assert result.consequence is Consequence.RESTART
    assert any("reactive" in w for w in result.warnings)


def test_vertex_overrides_scale_only_in_native_mode():
    key = "pipeline.jobvertex-parallelism-overrides"
    native = deployment()
    result = classify(native, change(native, lambda s: s["flinkConfiguration"].update({key: "abc:4"})))
    assert result.change is ChangeClass.SCALE and result.consequence is Consequence.RESCALE
    alone = standalone()
    result = classify(alone, change(alone, lambda s: s["flinkConfiguration"].update({key: "abc:4"})))
    assert result.change is ChangeClass.UPGRADE and result.consequence is Consequence.RESTART


def test_scale_plus_other_field_takes_the_maximum():
    before = standalone()
    result = classify(before, change(before, lambda s: (s["taskManager"].update(replicas=5),
                                                       s.update(image="flink:1.20.3-java21"))))
    assert result.change is ChangeClass.UPGRADE and result.consequence is Consequence.RESTART


def test_savepoint_redeploy_nonce():
    before = deployment()
    result = classify(before, change(before, lambda s: s["job"].update(savepointRedeployNonce=1)))
    assert result.change is ChangeClass.SAVEPOINT_REDEPLOY
    assert result.consequence is Consequence.SAVEPOINT_REDEPLOY and result.restarts
    with_nonce = change(before, lambda s: s["job"].update(savepointRedeployNonce=1))
    result = classify(with_nonce, change(with_nonce, lambda s: s["job"].update(savepointRedeployNonce=None)))
    assert result.change is ChangeClass.IGNORE


def test_restart_nonce_is_an_upgrade_and_removing_it_is_ignored():
    before = deployment()
    assert classify(before, change(before, lambda s: s.update(restartNonce=3))).change is ChangeClass.UPGRADE
    with_nonce = change(before, lambda s: s.update(restartNonce=3))
    assert classify(with_nonce, change(with_nonce, lambda s: s.update(restartNonce=None))).change is ChangeClass.IGNORE


def test_pulumi_ignore_changes_hide_scaler_owned_fields():
    before = standalone()
    after = change(before, lambda s: s["taskManager"].update(replicas=9))
    result = classify(before, after, ignore_changes=["spec.taskManager.replicas"])
    assert result.consequence is Consequence.NONE and result.fields == ()
    assert "ignoreChanges" in result.warnings[0]


def test_switch_to_stateless_is_state_loss_even_alone():
    before = deployment()
    result = classify(before, change(before, lambda s: s["job"].update(upgradeMode="stateless")))
    assert result.change is ChangeClass.IGNORE
    assert "next upgrade of this job starts from empty state" in result.state_loss[0]


def test_switch_to_stateless_with_a_restart_loses_state_now():
    before = deployment()
    result = classify(before, change(before, lambda s: s["job"].update(upgradeMode="stateless", parallelism=8)))
    assert result.consequence is Consequence.RESTART
    assert "this restart starts the job from empty state" in result.state_loss[0]


def test_omitted_upgrade_mode_is_the_operators_stateless_default():
    before = change(deployment(), lambda s: s["job"].pop("upgradeMode"))
    result = classify(before, change(before, lambda s: s.update(image="flink:other")))
    assert result.upgrade_mode == "stateless"
    assert result.state_loss == ("upgradeMode is stateless: this restart starts the job from empty state",)


def test_flink_version_change_not_via_savepoint_is_state_loss():
    before = change(deployment(), lambda s: s["job"].update(upgradeMode="last-state"))
    result = classify(before, change(before, lambda s: s.update(flinkVersion="v2_2")))
    assert result.consequence is Consequence.RESTART
    assert "flinkVersion 1.20 → 2.2 with upgradeMode last-state" in result.state_loss[0]
    assert "FLINK-28350" in result.state_loss[0]


def test_flink_version_change_via_savepoint_keeps_state_but_warns_across_majors():
    before = deployment()
    result = classify(before, change(before, lambda s: s.update(flinkVersion="v2_2")))
    assert result.state_loss == ()
    assert any("major versions" in w for w in result.warnings)
    minor = classify(before, change(before, lambda s: s.update(flinkVersion="v1_19")))
    assert minor.state_loss == () and not any("major" in w for w in minor.warnings)


def test_suspend_and_resume():
    before = deployment()
    suspended = change(before, lambda s: s["job"].update(state="suspended"))
    assert classify(before, suspended).consequence is Consequence.SUSPEND
    assert classify(suspended, before).consequence is Consequence.RESUME


def test_mode_switch_is_rejected_and_going_through_loses_state():
    before = deployment()
    result = classify(before, change(before, lambda s: s.update(mode="standalone")))
    assert result.consequence is Consequence.REJECTED
    assert result.rejected == ("Cannot switch from native kubernetes to standalone kubernetes cluster",)
    assert "delete + create" in result.state_loss[0]


def test_session_to_job_switch_is_rejected():
    session = change(deployment(), lambda s: s.pop("job"))
    result = classify(session, deployment())
    assert result.rejected == ("Cannot switch from session to job cluster",)


def test_session_job_parallelism_follows_the_session_cluster_mode():
    job = {"apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkSessionJob",
           "metadata": {"name": "s-a", "namespace": "ns"},
           "spec": {"deploymentName": "s", "job": {"jarURI": "https://x/a.jar", "parallelism": 2,
                                                   "upgradeMode": "last-state"}}}
    bumped = copy.deepcopy(job)
    bumped["spec"]["job"]["parallelism"] = 4
    assert classify(job, bumped).consequence is Consequence.RESTART
    assert classify(job, bumped, session_mode="standalone").change is ChangeClass.SCALE
    moved = copy.deepcopy(job)
    moved["spec"]["deploymentName"] = "other"
    assert classify(job, moved).rejected == ("The deploymentName can't be changed",)


def test_delete_and_replace_lose_state_unless_a_savepoint_is_given():
    before = deployment()
    deleted = classify(before, None)
    assert deleted.consequence is Consequence.DELETE and "empty state" in deleted.state_loss[0]
    renamed = copy.deepcopy(before)
    renamed["metadata"]["name"] = "orders-v2"
    result = classify(before, renamed)
    assert result.consequence is Consequence.REPLACE
    assert "name changes from orders to orders-v2" in result.state_loss[0]
    renamed["spec"]["job"]["initialSavepointPath"] = "s3://b/savepoints/sp-42"
    result = classify(before, renamed)
    assert result.state_loss == () and "s3://b/savepoints/sp-42" in result.warnings[0]


def test_create_is_a_first_deploy():
    result = classify(None, deployment())
    assert result.consequence is Consequence.CREATE and not result.restarts


def test_changed_paths_uses_pulumi_property_paths():
    before = {"spec": {"flinkConfiguration": {"a.b": "1"}, "list": [1, 2], "n": 3}}
    after = {"spec": {"flinkConfiguration": {"a.b": "2"}, "list": [1, 3], "n": 3.0}}
    assert changed_paths(before, after) == [('spec.flinkConfiguration["a.b"]', "1", "2"), ("spec.list[1]", 2, 3)]
