"""flinkplat.k8s.autoscaling: HPA, KEDA ScaledObject (kafka, prometheus), TriggerAuthentication, Secret (pure)."""

from __future__ import annotations

import pytest

from flinkplat.k8s import autoscaling
from tests.k8s.conftest import cluster_doc, load_document, placement_of

ENRICH = "use1-main/flink-payments/payments-enrich"
FRAUD = "use1-main/flink-payments/fraud-score"
ROUTE = "use1-main/flink-logistics/route-eta"
TARGET = {"apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkDeployment"}


def test_cpu_hpa_defaults_on_the_flink_deployment(dev_doc):
    cluster_doc(dev_doc, "clickstream")["autoscaling"] = {"mode": "cpu"}
    hpa = autoscaling.hpa(placement_of(load_document(dev_doc), "dev-local/flink-analytics/clickstream"))
    assert hpa["apiVersion"] == "autoscaling/v2" and hpa["kind"] == "HorizontalPodAutoscaler"
    assert hpa["spec"]["scaleTargetRef"] == {**TARGET, "name": "clickstream"}
    assert hpa["spec"]["minReplicas"] == 1 and hpa["spec"]["maxReplicas"] == 5
    assert hpa["spec"]["metrics"] == [
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 65}}}]
    assert hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300


@pytest.mark.parametrize("mode,resources", [("memory", ["memory"]), ("cpu+memory", ["cpu", "memory"])])
def test_memory_modes(dev_doc, mode, resources):
    cluster_doc(dev_doc, "clickstream")["autoscaling"] = {"mode": mode, "memoryTargetPercent": 75,
                                                          "scaleDownStabilizationSeconds": 600}
    hpa = autoscaling.hpa(placement_of(load_document(dev_doc), "dev-local/flink-analytics/clickstream"))
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == resources
    assert hpa["spec"]["metrics"][-1]["resource"]["target"] == {"type": "Utilization", "averageUtilization": 75}
    assert hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 600


def test_kafka_lag_scaled_object(prod_loaded):
    placement = placement_of(prod_loaded, ENRICH)
    so = autoscaling.scaled_object(placement, prod_loaded.config.monitoring)
    assert so["apiVersion"] == "keda.sh/v1alpha1" and so["kind"] == "ScaledObject"
    spec = so["spec"]
    assert spec["scaleTargetRef"] == {**TARGET, "name": "payments-enrich"}
    assert spec["minReplicaCount"] == 2 and spec["maxReplicaCount"] == 12
    assert spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"][
        "stabilizationWindowSeconds"] == 300
    (trigger,) = spec["triggers"]
    assert trigger["type"] == "kafka"
    assert trigger["metadata"] == {
        "bootstrapServers": "b-1.payments-use1.kafka.internal:9096", "consumerGroup": "payments-enrich",
        "topic": "payments", "lagThreshold": "50", "offsetResetPolicy": "latest", "allowIdleConsumers": "false",
        "tls": "enable", "sasl": "scram_sha512"}
    assert all(isinstance(v, str) for v in trigger["metadata"].values())
    assert trigger["authenticationRef"] == {"name": "payments-enrich-kafka", "kind": "TriggerAuthentication"}


def test_kafka_lag_without_credentials_has_no_authentication(prod_doc):
    kafka = cluster_doc(prod_doc, "payments-enrich")["kafka"]
    del kafka["saslUsername"], kafka["saslPassword"]
    kafka["tls"] = False
    loaded = load_document(prod_doc)
    placement = placement_of(loaded, ENRICH)
    assert not autoscaling.needs_kafka_credentials(placement)
    (trigger,) = autoscaling.scaled_object(placement, loaded.config.monitoring)["spec"]["triggers"]
    assert "authenticationRef" not in trigger and "sasl" not in trigger["metadata"]
    assert trigger["metadata"]["tls"] == "disable"


def test_kafka_secret_uses_string_data_and_passes_the_secret_through(prod_loaded):
    placement = placement_of(prod_loaded, ENRICH)
    sentinel = object()  # the component hands in a pulumi Output secret; the builder must not touch it
    secret = autoscaling.kafka_secret(placement, sentinel)
    assert "data" not in secret
    assert secret["stringData"] == {"username": "svc-payments-enrich", "password": sentinel}
    assert secret["metadata"]["name"] == "payments-enrich-kafka"
    auth = autoscaling.trigger_authentication(placement)
    assert auth["spec"]["secretTargetRef"] == [
        {"parameter": "username", "name": "payments-enrich-kafka", "key": "username"},
        {"parameter": "password", "name": "payments-enrich-kafka", "key": "password"}]


def test_custom_prometheus_scaled_object(prod_loaded):
    so = autoscaling.scaled_object(placement_of(prod_loaded, ROUTE), prod_loaded.config.monitoring)
    (trigger,) = so["spec"]["triggers"]
    assert trigger == {"type": "prometheus", "name": "flink-metric", "metadata": {
        "serverAddress": "http://kube-prometheus-stack-prometheus.monitoring.svc:9090",
        "query": 'sum(flink_taskmanager_job_task_operator_pendingRecords{namespace="flink-logistics", '
                 'flink_cluster="route-eta"})',
        "threshold": "5000"}}
    assert so["spec"]["minReplicaCount"] == 2 and so["spec"]["maxReplicaCount"] == 8


def test_custom_threshold_and_server_address_are_strings(prod_doc):
    cluster_doc(prod_doc, "route-eta")["autoscaling"]["custom"].update(
        {"threshold": 2.5, "serverAddress": "http://prometheus.obs.svc:9090"})
    loaded = load_document(prod_doc)
    (trigger,) = autoscaling.scaled_object(placement_of(loaded, ROUTE), loaded.config.monitoring)["spec"]["triggers"]
    assert trigger["metadata"]["threshold"] == "2.5"
    assert trigger["metadata"]["serverAddress"] == "http://prometheus.obs.svc:9090"


def test_kind_of(prod_loaded):
    assert autoscaling.kind_of(placement_of(prod_loaded, FRAUD)) == "hpa"
    assert autoscaling.kind_of(placement_of(prod_loaded, ENRICH)) == "keda"
    assert autoscaling.kind_of(placement_of(prod_loaded, "use1-main/flink-payments/ledger-agg")) is None
