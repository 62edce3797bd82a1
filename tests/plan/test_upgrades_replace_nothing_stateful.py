"""Like pulumi-eks's upgrade tests: everyday stack-config changes must never replace or delete a FlinkDeployment,
a FlinkSessionJob or a checkpoint bucket (that would lose checkpoint history), and must leave their URNs alone."""

from __future__ import annotations

import copy

import pytest

from flinkplat.plan.runner import plan_stack
from flinkplat.review.plandiff import diff_plans
from tests.conftest import stack_document

STATEFUL = ("FlinkDeployment", "FlinkSessionJob", "Bucket")


def _cluster(document: dict, name: str) -> dict:
    return next(c for c in document["config"]["flink-platform:clusters"] if c["name"] == name)


def _bump_flink_version(d):
    _cluster(d, "warehouse")["flinkVersion"] = "2.2"


def _bump_parallelism(d):
    _cluster(d, "warehouse")["job"]["parallelism"] = 8


def _resize_taskmanagers(d):
    _cluster(d, "payments-enrich")["taskManager"]["memory"] = "8192m"
    _cluster(d, "payments-enrich")["flinkConfiguration"] = {"taskmanager.memory.jvm-overhead.max": "2g"}


def _change_autoscaling_bounds(d):
    _cluster(d, "fraud-score")["autoscaling"]["maxReplicas"] = 8


def _add_a_team_and_a_job(d):
    d["config"]["flink-platform:teams"].append({"name": "search", "egress": {"s3Cidrs": ["10.0.128.0/20"],
                                                                            "kubernetesApiCidrs": ["10.0.0.0/20"]}})
    d["config"]["flink-platform:clusters"].append({
        "name": "query-log", "team": "search", "placement": {"clusters": ["use1-main"]},
        "job": {"jarURI": "local:///opt/flink/usrlib/query-log.jar", "entryClass": "com.acme.QueryLog",
                "upgradeMode": "last-state"}})


def _add_a_region_override(d):
    _cluster(d, "warehouse")["overrides"].append({"cluster": "use1-main", "job": {"parallelism": 12}})


def _change_retention(d):
    d["config"]["flink-platform:storage"]["savepointExpirationDays"] = 30


def _place_on_another_cluster(d):
    _cluster(d, "ledger-agg")["placement"] = {"clusters": ["use1-main", "euw1-main"]}


def _add_a_waiver(d):
    _cluster(d, "warehouse")["waivers"] = [{"policy": "flink-memory-ratio", "reason": "measured headroom is enough"}]


def _switch_the_memory_layout(d):
    _cluster(d, "warehouse")["taskManager"]["flinkMemoryRatio"] = None  # back to Flink's default split


UPGRADES = [_bump_flink_version, _bump_parallelism, _resize_taskmanagers, _change_autoscaling_bounds,
            _add_a_team_and_a_job, _add_a_region_override, _change_retention, _place_on_another_cluster, _add_a_waiver,
            _switch_the_memory_layout]


@pytest.mark.parametrize("upgrade", UPGRADES, ids=lambda f: f.__name__.strip("_"))
def test_upgrade_replaces_nothing_stateful(upgrade, prod_plan, write_stack):
    document = copy.deepcopy(stack_document("prod"))
    upgrade(document)
    head = plan_stack(stack_file=write_stack(document, "prod")).to_json()
    diff = diff_plans(prod_plan, head)
    assert diff.changes, "the upgrade must change something, or this test proves nothing"
    harmful = [(c.action, c.name) for c in diff.changes
               if c.kind in STATEFUL and c.action in ("replace", "delete")]
    assert harmful == []


def test_renaming_a_job_is_caught_as_state_loss(prod_plan, write_stack):
    """The guard above is real: a rename replaces the FlinkDeployment (delete + create loses its checkpoints)."""
    document = copy.deepcopy(stack_document("prod"))
    _cluster(document, "ledger-agg")["name"] = "ledger-aggregate"
    diff = diff_plans(prod_plan, plan_stack(stack_file=write_stack(document, "prod")).to_json())
    flink = [c for c in diff.changes if c.kind == "FlinkDeployment"]
    assert [c.action for c in flink] in (["replace"], ["delete", "create"], ["create", "delete"])
    assert diff.state_loss


def test_a_memory_layout_change_restarts_the_job_and_keeps_its_state(prod_plan, write_stack):
    """The consequence docs/memory.md states: adopting (or leaving) the platform's TaskManager memory layout
    changes spec.flinkConfiguration, an UPGRADE — a restart through the job's upgradeMode, state kept."""
    document = copy.deepcopy(stack_document("prod"))
    _switch_the_memory_layout(document)
    diff = diff_plans(prod_plan, plan_stack(stack_file=write_stack(document, "prod")).to_json())
    flink = [c for c in diff.changes if c.kind == "FlinkDeployment"]
    assert sorted(c.name for c in flink) == ["euw1-main/flink-logistics/warehouse/deployment",
                                             "use1-main/flink-logistics/warehouse/deployment"]
    for change in flink:
        assert change.action == "update" and change.flink.restarts and not change.flink.state_loss
        assert change.flink.upgrade_mode == "savepoint"
        assert {f[0] for f in change.fields} == {'spec.flinkConfiguration["taskmanager.memory.flink.size"]'}
    assert not diff.state_loss
