"""Autoscaler under Pulumi mocks: one scaler per job, Pulumi ignores what the scaler owns, secrets stay secret, and
every refused combination is a configuration error naming the stack, the key path and the fix."""

from __future__ import annotations

import copy
import json

import pytest

from flinkplat.cli import main as cli_main
from flinkplat.config.errors import ConfigError
from flinkplat.config.load import load_stack, read_stack_file
from flinkplat.plan.runner import plan_stack, run_program
from tests.conftest import ROOT, resources_of, stack_document

AUTOSCALER = "flinkplatform:autoscaling:Autoscaler"


def _deployment(plan: dict, key: str) -> dict:
    return next(r for r in resources_of(plan, "FlinkDeployment") if r["name"] == f"{key}/deployment")


def _scalers(plan: dict) -> dict[str, str]:
    kinds = ("HorizontalPodAutoscaler", "ScaledObject")
    return {r["name"].rsplit("/", 1)[0]: r["type"].rsplit(":", 1)[1]
            for kind in kinds for r in resources_of(plan, kind)}


def _cluster(document: dict, name: str) -> dict:
    return next(c for c in document["config"]["flink-platform:clusters"] if c["name"] == name)


def test_one_scaler_per_autoscaled_copy(prod_plan, dev_plan):
    assert _scalers(prod_plan) == {
        "use1-main/flink-payments/fraud-score": "HorizontalPodAutoscaler",
        "euw1-main/flink-payments/fraud-score": "HorizontalPodAutoscaler",
        "use1-canary/flink-payments/payments-enrich": "ScaledObject",
        "use1-main/flink-payments/payments-enrich": "ScaledObject",
        "use1-main/flink-logistics/route-eta": "ScaledObject",
    }
    assert _scalers(dev_plan) == {}
    for resource in resources_of(prod_plan, "HorizontalPodAutoscaler") + resources_of(prod_plan, "ScaledObject"):
        assert AUTOSCALER in resource["parent"]
        key = resource["name"].rsplit("/", 1)[0]
        deployment = _deployment(prod_plan, key)
        assert deployment["urn"] in resource["options"]["dependsOn"]
        assert resource["provider"] == deployment["provider"]
        assert resource["type"] in ("kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
                                    "kubernetes:keda.sh/v1alpha1:ScaledObject")


def test_pulumi_ignores_what_the_scaler_owns(prod_plan):
    for key in _scalers(prod_plan):
        deployment = _deployment(prod_plan, key)
        spec = deployment["inputs"]["spec"]
        assert deployment["options"]["ignoreChanges"] == ["spec.taskManager.replicas"]
        assert spec["mode"] == "standalone"
        assert spec["flinkConfiguration"]["scheduler-mode"] == "reactive"
        assert spec["taskManager"]["replicas"] >= 1  # the scaler's minimum, written once at creation
    ledger = _deployment(prod_plan, "use1-main/flink-payments/ledger-agg")
    assert ledger["inputs"]["spec"]["mode"] == "native"
    assert ledger["options"]["ignoreChanges"] == ['spec.flinkConfiguration["pipeline.jobvertex-parallelism-overrides"]']
    assert ledger["inputs"]["spec"]["flinkConfiguration"]["job.autoscaler.enabled"] == "true"


def test_min_replicas_never_below_one(prod_plan):
    for resource in resources_of(prod_plan, "ScaledObject"):
        assert resource["inputs"]["spec"]["minReplicaCount"] >= 1
    for resource in resources_of(prod_plan, "HorizontalPodAutoscaler"):
        assert resource["inputs"]["spec"]["minReplicas"] >= 1


def test_kafka_password_stays_a_pulumi_secret(prod_plan):
    secrets = [r for r in resources_of(prod_plan, "Secret") if AUTOSCALER in r["parent"]]
    assert len(secrets) == 2
    for secret in secrets:
        assert secret["type"] == "kubernetes:core/v1:Secret"
        assert secret["inputs"]["stringData"] == {"username": "[secret]", "password": "[secret]"}
        assert "data" not in secret["inputs"]
    auths = resources_of(prod_plan, "TriggerAuthentication")
    assert {a["name"].rsplit("/", 1)[0] for a in auths} == {s["name"].rsplit("/", 1)[0] for s in secrets}


def test_a_real_password_never_appears_in_the_plan():
    values, secret_keys = read_stack_file(ROOT / "Pulumi.prod.yaml", "prod")
    values["flink-platform:paymentsKafkaPassword"] = "hunter2-not-in-state"
    loaded = load_stack("prod", values, secret_keys)
    assert loaded.secrets["paymentsKafkaPassword"] == "hunter2-not-in-state"
    resources, _ = run_program(loaded, values, secret_keys, ROOT)
    dumped = json.dumps([r.to_json() for r in resources])
    assert "hunter2-not-in-state" not in dumped
    secrets = [r for r in resources if r.type == "kubernetes:core/v1:Secret" and AUTOSCALER in (r.parent or "")]
    assert [s.inputs["stringData"] for s in secrets] == [{"username": "[secret]", "password": "[secret]"}] * 2


@pytest.mark.parametrize("mode,resources", [("memory", ["memory"]), ("cpu+memory", ["cpu", "memory"])])
def test_memory_modes_render_an_hpa(write_stack, mode, resources):
    document = copy.deepcopy(stack_document("dev"))
    _cluster(document, "clickstream")["autoscaling"] = {"mode": mode, "maxReplicas": 4}
    plan = plan_stack(stack_file=write_stack(document)).to_json()
    (hpa,) = resources_of(plan, "HorizontalPodAutoscaler")
    assert [m["resource"]["name"] for m in hpa["inputs"]["spec"]["metrics"]] == resources
    assert _deployment(plan, "dev-local/flink-analytics/clickstream")["options"]["ignoreChanges"] == [
        "spec.taskManager.replicas"]
    assert hpa["inputs"]["spec"]["scaleTargetRef"] == {"apiVersion": "flink.apache.org/v1beta1",
                                                       "kind": "FlinkDeployment", "name": "clickstream"}
    assert hpa["inputs"]["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300


# ----------------------------------------------------------------------------------------------------------------
# Refusals, through the same path as `flinkplat plan` (load → crossref → program): exact messages.
# ----------------------------------------------------------------------------------------------------------------


def _refused(write_stack, document: dict) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        plan_stack(stack_file=write_stack(document))
    assert caught.value.stack == "test"
    return [str(p) for p in caught.value.problems]


def test_refuses_hpa_in_native_mode(write_stack):
    document = copy.deepcopy(stack_document("prod"))
    _cluster(document, "fraud-score")["deploymentMode"] = "native"
    assert _refused(write_stack, document) == [
        "flink-platform:clusters[2].deploymentMode: autoscaling.mode 'cpu' scales TaskManagers through /scale, and "
        "in native mode every scale step restarts the job; remove deploymentMode (the platform then runs the "
        "cluster standalone with the reactive scheduler, which rescales in place) or use autoscaling.mode: "
        "flink-autoscaler"]


def test_refuses_keda_in_native_mode(write_stack):
    document = copy.deepcopy(stack_document("prod"))
    _cluster(document, "payments-enrich")["deploymentMode"] = "native"
    assert _refused(write_stack, document) == [
        "flink-platform:clusters[1].deploymentMode: autoscaling.mode 'kafka-lag' scales TaskManagers through "
        "/scale, and in native mode every scale step restarts the job; remove deploymentMode (the platform then "
        "runs the cluster standalone with the reactive scheduler, which rescales in place) or use "
        "autoscaling.mode: flink-autoscaler"]


def test_refuses_a_session_cluster_with_hpa(write_stack):
    document = copy.deepcopy(stack_document("dev"))
    sandbox = _cluster(document, "sandbox")
    del sandbox["taskManager"]["replicas"]
    sandbox["autoscaling"] = {"mode": "cpu"}
    assert _refused(write_stack, document) == [
        "flink-platform:clusters[1].autoscaling.mode: autoscaling.mode 'cpu' needs the reactive scheduler, which "
        "only application clusters support; use an application cluster or autoscaling.mode: none"]


def test_refuses_kafka_lag_without_kafka(write_stack):
    document = copy.deepcopy(stack_document("prod"))
    del _cluster(document, "payments-enrich")["kafka"]
    assert _refused(write_stack, document) == [
        "flink-platform:clusters[1].kafka: autoscaling.mode 'kafka-lag' needs 'kafka' (bootstrapServers, topic, "
        "partitions, consumerGroup) to build the KEDA Kafka trigger"]


def test_refuses_max_replicas_beyond_max_parallelism(write_stack):
    document = copy.deepcopy(stack_document("prod"))
    _cluster(document, "fraud-score").setdefault("flinkConfiguration", {})["pipeline.max-parallelism"] = 16
    assert _refused(write_stack, document) == [
        "flink-platform:clusters[2].autoscaling.maxReplicas: maxReplicas 6 × 4 slots = 24 exceeds the job's max "
        "parallelism (pipeline.max-parallelism: 16); lower maxReplicas to 4 or raise pipeline.max-parallelism"]


def test_refuses_more_replicas_than_partitions_per_slots(write_stack):
    document = copy.deepcopy(stack_document("prod"))
    _cluster(document, "payments-enrich")["autoscaling"]["maxReplicas"] = 13
    assert _refused(write_stack, document) == [
        "flink-platform:clusters[1].autoscaling.maxReplicas: maxReplicas 13 would run more Kafka readers than the "
        "24 partitions of 'payments' (2 slots per TaskManager); set maxReplicas to at most 12"]


def test_refusal_exits_2_with_the_message_and_no_traceback(write_stack, capsys):
    document = copy.deepcopy(stack_document("prod"))
    del _cluster(document, "payments-enrich")["kafka"]
    path = write_stack(document)
    assert cli_main(["plan", "--stack-file", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"stack 'test' ({path}): invalid configuration (1 problem)\n"
                          "  - flink-platform:clusters[1].kafka: autoscaling.mode 'kafka-lag' needs 'kafka'")
    assert "Traceback" not in err
