"""The scaler of one Flink cluster copy, targeting the FlinkDeployment's /scale subresource (FACTS §1.3, §4.1):

- `cpu`, `memory`, `cpu+memory`: an autoscaling/v2 HorizontalPodAutoscaler;
- `kafka-lag`: a KEDA ScaledObject with the Kafka scaler (topic always set), plus a TriggerAuthentication and a
  Secret (`stringData`) when the brokers need SASL credentials;
- `custom`: a KEDA ScaledObject with the Prometheus scaler.

`flinkplat.flink.scaling` has already chosen the owner, switched the cluster to standalone + reactive and refused
bad combinations; the FlinkCluster component ignores `spec.taskManager.replicas`. Every KEDA trigger metadata value
is a string (the CRD says `map[string]string`).
"""

from __future__ import annotations

from typing import Any

from flinkplat.config.fleet import Placement
from flinkplat.config.models import Monitoring
from flinkplat.flink.deployment import labels as flink_labels
from flinkplat.flink.scaling import owner_of

TARGET_API_VERSION = "flink.apache.org/v1beta1"
TARGET_KIND = "FlinkDeployment"
KEDA_API_VERSION = "keda.sh/v1alpha1"
KEDA_POLLING_SECONDS = 30
# KEDA's names for the Kafka SASL modes of the stack file.
KEDA_SASL = {"plain": "plaintext", "scram_sha256": "scram_sha256", "scram_sha512": "scram_sha512"}
PASSWORD_KEY, USERNAME_KEY = "password", "username"


def scale_target(placement: Placement) -> dict[str, str]:
    return {"apiVersion": TARGET_API_VERSION, "kind": TARGET_KIND, "name": placement.cluster.name}


def _metadata(placement: Placement, name: str) -> dict[str, Any]:
    return {"name": name, "namespace": placement.namespace, "labels": flink_labels(placement)}


def _scale_down(placement: Placement) -> dict[str, Any]:
    """Scale-down: wait out the stabilisation window, then at most halve per minute (each step rescales the job)."""
    return {"stabilizationWindowSeconds": placement.cluster.autoscaling.scale_down_stabilization_seconds,
            "selectPolicy": "Max", "policies": [{"type": "Percent", "value": 50, "periodSeconds": 60}]}


def _scale_up() -> dict[str, Any]:
    return {"stabilizationWindowSeconds": 0, "selectPolicy": "Max",
            "policies": [{"type": "Percent", "value": 100, "periodSeconds": 60}]}


def _string(value: float | int) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# ---------------------------------------------------------------------------------------------------------------
# HPA
# ---------------------------------------------------------------------------------------------------------------


def _resource_metric(name: str, percent: int) -> dict[str, Any]:
    return {"type": "Resource", "resource": {"name": name, "target": {"type": "Utilization",
                                                                      "averageUtilization": percent}}}


def hpa(placement: Placement) -> dict[str, Any]:
    scaling = placement.cluster.autoscaling
    metrics = []
    if scaling.mode in ("cpu", "cpu+memory"):
        metrics.append(_resource_metric("cpu", scaling.cpu_target_percent))
    if scaling.mode in ("memory", "cpu+memory"):
        metrics.append(_resource_metric("memory", scaling.memory_target_percent))
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _metadata(placement, placement.cluster.name),
        "spec": {
            "scaleTargetRef": scale_target(placement),
            "minReplicas": scaling.min_replicas,
            "maxReplicas": scaling.max_replicas,
            "metrics": metrics,
            "behavior": {"scaleDown": _scale_down(placement), "scaleUp": _scale_up()},
        },
    }


# ---------------------------------------------------------------------------------------------------------------
# KEDA
# ---------------------------------------------------------------------------------------------------------------


def auth_name(placement: Placement) -> str:
    return f"{placement.cluster.name}-kafka"


def needs_kafka_credentials(placement: Placement) -> bool:
    kafka = placement.cluster.kafka
    return placement.cluster.autoscaling.mode == "kafka-lag" and kafka is not None and kafka.sasl_username is not None


def kafka_trigger(placement: Placement) -> dict[str, Any]:
    kafka = placement.cluster.kafka
    scaling = placement.cluster.autoscaling
    metadata = {
        "bootstrapServers": kafka.bootstrap_servers,
        "consumerGroup": kafka.consumer_group,
        # Always set: Flink's readers use assign(), so without a topic KEDA sums lag over all committed topics.
        "topic": kafka.topic,
        "lagThreshold": _string(scaling.lag_threshold),
        "offsetResetPolicy": "latest",
        # Never more readers than partitions (maxReplicaCount is also capped at ceil(partitions / slots)).
        "allowIdleConsumers": "false",
        "tls": "enable" if kafka.tls else "disable",
    }
    if kafka.sasl_username is not None:
        metadata["sasl"] = KEDA_SASL[kafka.sasl_mechanism]
    trigger: dict[str, Any] = {"type": "kafka", "name": "kafka-lag", "metadata": metadata}
    if needs_kafka_credentials(placement):
        trigger["authenticationRef"] = {"name": auth_name(placement), "kind": "TriggerAuthentication"}
    return trigger


def prometheus_trigger(placement: Placement, monitoring: Monitoring) -> dict[str, Any]:
    custom = placement.cluster.autoscaling.custom
    return {"type": "prometheus", "name": "flink-metric", "metadata": {
        "serverAddress": custom.server_address or monitoring.prometheus_address,
        "query": custom.query,
        "threshold": _string(custom.threshold),
    }}


def scaled_object(placement: Placement, monitoring: Monitoring) -> dict[str, Any]:
    scaling = placement.cluster.autoscaling
    trigger = kafka_trigger(placement) if scaling.mode == "kafka-lag" else prometheus_trigger(placement, monitoring)
    return {
        "apiVersion": KEDA_API_VERSION,
        "kind": "ScaledObject",
        "metadata": _metadata(placement, placement.cluster.name),
        "spec": {
            "scaleTargetRef": scale_target(placement),
            "pollingInterval": KEDA_POLLING_SECONDS,
            # KEDA defaults to 0, which a FlinkDeployment rejects ("TaskManager replicas must be larger than 0").
            "minReplicaCount": scaling.min_replicas,
            "maxReplicaCount": scaling.max_replicas,
            "advanced": {"horizontalPodAutoscalerConfig": {
                "name": f"keda-hpa-{placement.cluster.name}",
                "behavior": {"scaleDown": _scale_down(placement), "scaleUp": _scale_up()},
            }},
            "triggers": [trigger],
        },
    }


def kafka_secret(placement: Placement, password: Any) -> dict[str, Any]:
    """The SASL credentials for KEDA. `password` is passed through untouched: the component hands in the Pulumi
    secret, so it never appears in plain text in state or in the plan. `stringData`, never base64 `data`."""
    kafka = placement.cluster.kafka
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _metadata(placement, auth_name(placement)),
        "type": "Opaque",
        "stringData": {USERNAME_KEY: kafka.sasl_username, PASSWORD_KEY: password},
    }


def trigger_authentication(placement: Placement) -> dict[str, Any]:
    secret = auth_name(placement)
    return {
        "apiVersion": KEDA_API_VERSION,
        "kind": "TriggerAuthentication",
        "metadata": _metadata(placement, auth_name(placement)),
        "spec": {"secretTargetRef": [
            {"parameter": "username", "name": secret, "key": USERNAME_KEY},
            {"parameter": "password", "name": secret, "key": PASSWORD_KEY},
        ]},
    }


def kind_of(placement: Placement) -> str | None:
    """'hpa', 'keda' or None: which scaler object this copy gets."""
    owner = owner_of(placement.cluster.autoscaling.mode)
    return owner if owner in ("hpa", "keda") else None
