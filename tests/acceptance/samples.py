"""Hand-written manifests of every custom resource kind the platform renders, written independently of the plan
code: positive samples for the API server and the operator's validator, and the bases the negative tests mutate.
Each function returns a fresh dict."""

from __future__ import annotations

from typing import Any

NAMESPACE = "flink-acceptance"


def namespace(name: str = NAMESPACE) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def _bucket(name: str) -> str:
    return f"s3://acceptance-bucket/{NAMESPACE}/{name}"


def flink_deployment(name: str = "clickstream", flink_version: str = "v1_20", image: str = "flink:1.20.3-scala_2.12-java17",
                     namespace: str = NAMESPACE) -> dict[str, Any]:
    """An application cluster the operator accepts: savepoint upgrades, Kubernetes HA, checkpoint + savepoint dirs.
    Both the current (`execution.checkpointing.*`, Flink ≥ 1.20) and the deprecated (`state.*`) directory keys are
    set, so operator releases built on older Flink read them too."""
    return {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app.kubernetes.io/name": name}},
        "spec": {
            "image": image,
            "flinkVersion": flink_version,
            "mode": "native",
            "serviceAccount": "flink",
            "flinkConfiguration": {
                "taskmanager.numberOfTaskSlots": "2",
                "execution.checkpointing.interval": "60s",
                "execution.checkpointing.dir": _bucket(f"{name}/checkpoints"),
                "execution.checkpointing.savepoint-dir": _bucket(f"{name}/savepoints"),
                "state.checkpoints.dir": _bucket(f"{name}/checkpoints"),
                "state.savepoints.dir": _bucket(f"{name}/savepoints"),
                "high-availability.type": "kubernetes",
                "high-availability.storageDir": _bucket(f"{name}/ha"),
                "metrics.reporter.prom.factory.class": "org.apache.flink.metrics.prometheus.PrometheusReporterFactory",
                "metrics.reporter.prom.port": "9249",
            },
            "podTemplate": {
                "spec": {
                    "containers": [{
                        "name": "flink-main-container",
                        "ports": [{"name": "metrics", "containerPort": 9249, "protocol": "TCP"}],
                        "env": [{"name": "ENABLE_BUILT_IN_PLUGINS", "value": "flink-s3-fs-presto-1.20.3.jar"}],
                    }],
                },
            },
            "jobManager": {"replicas": 1, "resource": {"cpu": 1, "memory": "2048m"}},
            "taskManager": {"replicas": 2, "resource": {"cpu": 2, "memory": "4096m"}},
            "job": {
                "jarURI": "local:///opt/flink/usrlib/clickstream.jar",
                "entryClass": "com.example.Clickstream",
                "args": ["--topic", "clicks"],
                "parallelism": 4,
                "upgradeMode": "savepoint",
                "state": "running",
            },
        },
    }


def session_deployment(name: str = "sandbox", flink_version: str = "v1_20", image: str = "flink:1.20.3-scala_2.12-java17",
                       namespace: str = NAMESPACE) -> dict[str, Any]:
    dep = flink_deployment(name, flink_version, image, namespace)
    del dep["spec"]["job"]
    return dep


def flink_session_job(name: str = "top-speed", deployment: str = "sandbox", namespace: str = NAMESPACE) -> dict[str, Any]:
    return {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkSessionJob",
        "metadata": {"name": name, "namespace": namespace, "labels": {"target.session": deployment}},
        "spec": {
            "deploymentName": deployment,
            "job": {
                "jarURI": "https://www.example.com/top-speed-1.0.jar",  # a name that resolves: 1.15.0 resolves it
                "parallelism": 2,
                "upgradeMode": "stateless",
                "state": "running",
            },
        },
    }


def scaled_object(target: str = "clickstream", namespace: str = NAMESPACE) -> dict[str, Any]:
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": f"{target}-tm", "namespace": namespace},
        "spec": {
            "scaleTargetRef": {"apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkDeployment", "name": target},
            "minReplicaCount": 1,
            "maxReplicaCount": 8,
            "pollingInterval": 30,
            "cooldownPeriod": 300,
            "triggers": [{
                "type": "kafka",
                "metadata": {"bootstrapServers": "kafka:9092", "consumerGroup": target, "topic": "clicks",
                             "lagThreshold": "50"},
                "authenticationRef": {"name": "kafka-auth"},
            }],
        },
    }


def trigger_authentication(namespace: str = NAMESPACE) -> dict[str, Any]:
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "TriggerAuthentication",
        "metadata": {"name": "kafka-auth", "namespace": namespace},
        "spec": {"secretTargetRef": [{"parameter": "sasl", "name": "kafka-credentials", "key": "sasl"}]},
    }


def pod_monitor(target: str = "clickstream", namespace: str = NAMESPACE) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": {"name": target, "namespace": namespace},
        "spec": {
            "selector": {"matchLabels": {"app": target}},
            "podMetricsEndpoints": [{"port": "metrics", "interval": "30s", "path": "/metrics"}],
        },
    }


def service_monitor(namespace: str = NAMESPACE) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "flink-operator", "namespace": namespace},
        "spec": {"selector": {"matchLabels": {"app.kubernetes.io/name": "flink-kubernetes-operator"}},
                 "endpoints": [{"port": "metrics", "interval": "30s"}]},
    }


def prometheus_rule(namespace: str = NAMESPACE) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "flink-alerts", "namespace": namespace},
        "spec": {"groups": [{"name": "flink", "rules": [{
            "alert": "FlinkJobNotRunning",
            "expr": "flink_jobmanager_job_uptime == 0",
            "for": "5m",
            "labels": {"severity": "critical"},
            "annotations": {"summary": "A Flink job stopped"},
        }]}]},
    }


def network_policy(namespace: str = NAMESPACE) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "allow-metrics", "namespace": namespace},
        "spec": {
            "podSelector": {"matchLabels": {"type": "flink-native-kubernetes"}},
            "policyTypes": ["Ingress"],
            "ingress": [{
                "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
                "ports": [{"protocol": "TCP", "port": 9249}],
            }],
        },
    }


def all_samples() -> list[dict[str, Any]]:
    return [flink_deployment(), session_deployment(), flink_session_job(), scaled_object(), trigger_authentication(),
            pod_monitor(), service_monitor(), prometheus_rule(), network_policy()]
