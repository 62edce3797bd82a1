"""FlinkDeployment and FlinkSessionJob manifests for the Apache Flink Kubernetes Operator (flink.apache.org/v1beta1).

Pure data in, pure data out: `components/flink_cluster.py` wraps these manifests in Pulumi resources, and the
rules, the plan and the tests read the same manifests. Numbers stay numbers where the CRD says integer; every
flinkConfiguration value is a string, as Flink reads it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flinkplat import versions
from flinkplat.config.fleet import Placement
from flinkplat.config.models import FlinkCluster, S3CompatibleStorage, Storage
from flinkplat.flink import keys
from flinkplat.flink.layout import taskmanager_layout
from flinkplat.flink.memory import FlinkMemoryError, parse_memory_size
from flinkplat.flink.scaling import ScalingDecision, decide

MAIN_CONTAINER = "flink-main-container"
FLINK_UID = 9999  # the flink user of the official image
METRICS_PORT_NAME = "metrics"
DEFAULT_METRICS_PORT = 9249
MANAGED_BY = "flink-platform"


@dataclass(frozen=True)
class StoragePaths:
    bucket: str
    prefix: str  # "<kube>/<namespace>/<name>", no slashes at either end

    def url(self, kind: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}/{kind}"

    @property
    def checkpoints(self) -> str:
        return self.url("checkpoints")

    @property
    def savepoints(self) -> str:
        return self.url("savepoints")

    @property
    def ha(self) -> str:
        return self.url("ha")


def bucket_name(bucket_prefix: str, environment: str, region: str) -> str:
    return f"{bucket_prefix}-{environment}-{region}"


def checkpoint_bucket(storage: Storage, environment: str, region: str) -> str:
    """The bucket a region's Flink clusters checkpoint to: the stack's own AWS bucket, or the existing bucket of an
    S3-compatible store (the same for every region)."""
    if storage.s3_compatible is not None:
        return storage.s3_compatible.bucket
    assert storage.bucket_prefix is not None  # the Storage model requires one of the two
    return bucket_name(storage.bucket_prefix, environment, region)


# Flink's S3 filesystems (presto and hadoop) read these `s3.*` options; presto mirrors s3.path.style.access to its
# own presto.s3.path-style-access. Credentials are NOT options here: they come from the pod's environment.
S3_ENDPOINT_KEY = "s3.endpoint"
S3_PATH_STYLE_KEY = "s3.path.style.access"
# Read by the AWS SDK's default credentials chain, which the presto S3 filesystem falls back to when no key is set.
ACCESS_KEY_ENV, SECRET_KEY_ENV = "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"


def object_store_configuration(object_store: S3CompatibleStorage | None) -> dict[str, Any]:
    if object_store is None:
        return {}
    return {S3_ENDPOINT_KEY: object_store.endpoint, S3_PATH_STYLE_KEY: object_store.path_style_access}


def object_store_env(object_store: S3CompatibleStorage | None) -> list[dict[str, Any]]:
    """The access key pair as environment variables from the Kubernetes Secret (never a value in the manifest)."""
    if object_store is None:
        return []
    secret = object_store.credentials_secret
    return [
        {"name": ACCESS_KEY_ENV, "valueFrom": {"secretKeyRef": {"name": secret.name, "key": secret.access_key_id_key}}},
        {"name": SECRET_KEY_ENV,
         "valueFrom": {"secretKeyRef": {"name": secret.name, "key": secret.secret_access_key_key}}},
    ]


def storage_paths(placement: Placement, bucket: str) -> StoragePaths:
    return StoragePaths(bucket, f"{placement.kube.name}/{placement.namespace}/{placement.cluster.name}")


def ha_decision(cluster: FlinkCluster, is_prod: bool) -> bool:
    """Kubernetes HA on or off. An explicit highAvailability is what renders (a contradiction with standby
    JobManagers is refused at load time, flinkplat.flink.raw_keys); unset: on in prod and with standby JobManagers."""
    if cluster.high_availability is not None:
        return cluster.high_availability
    return is_prod or cluster.job_manager.replicas > 1


def ha_wanted(placement: Placement, is_prod: bool) -> bool:
    return ha_decision(placement.cluster, is_prod)


def labels(placement: Placement) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": placement.cluster.name,
        "app.kubernetes.io/part-of": "flink",
        "app.kubernetes.io/managed-by": MANAGED_BY,
        "flink-platform/team": placement.team.name,
        "flink-platform/region": placement.region.name,
        "flink-platform/kubernetes-cluster": placement.kube.name,
    }


def service_account_name(placement: Placement) -> str:
    return f"{placement.cluster.name}-flink"


def metrics_port(placement: Placement) -> int:
    host_network = placement.cluster.task_manager.host_network
    return host_network.metrics_port if host_network else DEFAULT_METRICS_PORT


def s3_plugin_jar(flink_version: str) -> str:
    return f"flink-s3-fs-presto-{versions.FLINK_PATCH_VERSIONS[flink_version]}.jar"


def _taskmanager_layout(placement: Placement) -> dict[str, str]:
    """The platform's TaskManager memory split (flinkplat/flink/layout.py); none for a size only the operator reads."""
    cluster = placement.cluster
    try:
        process = parse_memory_size(cluster.task_manager.memory)
    except FlinkMemoryError:
        return {}
    return taskmanager_layout(process, cluster.task_manager.flink_memory_ratio, cluster.flink_configuration,
                              cluster.flink_version)


def flink_configuration(placement: Placement, paths: StoragePaths, is_prod: bool, decision: ScalingDecision,
                        object_store: S3CompatibleStorage | None = None) -> dict[str, str]:
    cluster = placement.cluster
    ck = keys.checkpoint_keys(cluster.flink_version)
    cp = cluster.checkpointing
    conf: dict[str, Any] = {
        keys.SLOTS_KEY: cluster.task_manager.slots,
        ck.dir: paths.checkpoints,
        ck.savepoint_dir: paths.savepoints,
        ck.interval: cp.interval,
        ck.timeout: cp.timeout,
        ck.min_pause: cp.min_pause,
        ck.max_concurrent: cp.max_concurrent,
        ck.num_retained: cp.retained,
        ck.state_backend: cp.state_backend,
        ck.incremental: cp.incremental,
        keys.RETENTION_KEY: keys.RETAIN_ON_CANCELLATION,
        "restart-strategy.type": "exponential-delay",
        keys.PROM_FACTORY_KEY: keys.PROM_FACTORY,
        keys.PROM_PORT_KEY: metrics_port(placement),
        keys.EXPOSED_KEY: "ClusterIP",
        # Savepoint history the operator keeps (and disposes of) per job; the bucket lifecycle is the backstop.
        "kubernetes.operator.savepoint.history.max.count": 10,
    }
    if cp.state_backend in ("rocksdb", "forst"):
        conf["state.backend.rocksdb.memory.managed"] = True
    if ha_wanted(placement, is_prod):
        conf["high-availability.type"] = "kubernetes"
        conf[keys.HA_STORAGE_KEY] = paths.ha
    if decision.reactive:
        conf["scheduler-mode"] = "reactive"
    if decision.max_parallelism is not None:
        conf[keys.MAX_PARALLELISM_KEY] = decision.max_parallelism
    if decision.owner == "flink-autoscaler":
        conf["job.autoscaler.enabled"] = True
        conf["job.autoscaler.utilization.target"] = cluster.autoscaling.utilization_target
        conf["job.autoscaler.stabilization.interval"] = "5m"
        conf["job.autoscaler.metrics.window"] = "10m"
    host_network = cluster.task_manager.host_network
    if host_network:
        conf["taskmanager.data.port"] = host_network.data_port
        conf["taskmanager.rpc.port"] = host_network.rpc_port
    if cluster.job and cluster.job.savepoint_interval:
        conf[keys.PERIODIC_SAVEPOINT_KEY] = cluster.job.savepoint_interval
    conf.update(object_store_configuration(object_store))
    conf.update(_taskmanager_layout(placement))
    conf.update(cluster.flink_configuration)  # the escape hatch wins
    return {key: keys.conf_value(value) for key, value in conf.items()}


def _security_context() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "runAsUser": FLINK_UID,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def pod_template(placement: Placement, object_store: S3CompatibleStorage | None = None) -> dict[str, Any]:
    cluster = placement.cluster
    return {
        "metadata": {"labels": labels(placement)},
        "spec": {
            "securityContext": {"runAsNonRoot": True, "runAsUser": FLINK_UID, "fsGroup": FLINK_UID},
            "containers": [{
                "name": MAIN_CONTAINER,
                "env": [{"name": "ENABLE_BUILT_IN_PLUGINS", "value": s3_plugin_jar(cluster.flink_version)},
                        *object_store_env(object_store)],
                "ports": [{"name": METRICS_PORT_NAME, "containerPort": metrics_port(placement), "protocol": "TCP"}],
                "securityContext": _security_context(),
            }],
        },
    }


def taskmanager_pod_template(placement: Placement) -> dict[str, Any] | None:
    host_network = placement.cluster.task_manager.host_network
    if host_network is None:
        return None
    ports = [
        ("data", host_network.data_port),
        ("rpc", host_network.rpc_port),
        (METRICS_PORT_NAME, host_network.metrics_port),
    ]
    spec: dict[str, Any] = {
        "hostNetwork": True,
        # Without it a hostNetwork pod resolves through the node's resolver and cannot find cluster services.
        "dnsPolicy": "ClusterFirstWithHostNet",
        "containers": [{
            "name": MAIN_CONTAINER,
            # hostPort = containerPort: the scheduler then never puts two of these TaskManagers on one node.
            "ports": [{"name": n, "containerPort": p, "hostPort": p, "protocol": "TCP"} for n, p in ports],
        }],
    }
    if host_network.node_selector:
        spec["nodeSelector"] = dict(host_network.node_selector)
    if host_network.tolerations:
        spec["tolerations"] = [dict(t) for t in host_network.tolerations]
    return {"metadata": {"labels": {"flink-platform/host-network": "true"}}, "spec": spec}


def _job_spec(job, *, parallelism: int | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "jarURI": job.jar_uri,
        "parallelism": parallelism if parallelism is not None else job.parallelism,
        "upgradeMode": job.upgrade_mode,
        "state": "running",
        "allowNonRestoredState": job.allow_non_restored_state,
    }
    if job.entry_class:
        spec["entryClass"] = job.entry_class
    if job.args:
        spec["args"] = list(job.args)
    if job.initial_savepoint_path:
        spec["initialSavepointPath"] = job.initial_savepoint_path
    return spec


WAIVERS_ANNOTATION = "flink-platform/waivers"
ENVIRONMENT_LABEL = "flink-platform/environment"


KAFKA_ANNOTATION = "flink-platform/kafka-source"
CONTROL_ANNOTATION = "flink-platform/compensating-control"


def annotations(placement: Placement) -> dict[str, str]:
    """What the policy pack needs beyond the spec travels with the object, so `pulumi preview` sees it too:
    waivers, the Kafka source (partitions vs readers) and a hostNetwork cluster's compensating control."""
    cluster = placement.cluster
    out: dict[str, str] = {}
    if cluster.waivers:
        out[WAIVERS_ANNOTATION] = json.dumps([w.model_dump(mode="json", exclude_none=True) for w in cluster.waivers],
                                             separators=(",", ":"))
    if cluster.kafka is not None and cluster.job is not None:
        source = {"topic": cluster.kafka.topic, "partitions": cluster.kafka.partitions}
        if cluster.job.source_parallelism is not None:
            source["sourceParallelism"] = cluster.job.source_parallelism
        out[KAFKA_ANNOTATION] = json.dumps(source, separators=(",", ":"))
    host_network = cluster.task_manager.host_network
    if host_network is not None and host_network.compensating_control:
        out[CONTROL_ANNOTATION] = host_network.compensating_control
    return out


def flink_deployment(placement: Placement, bucket: str, is_prod: bool,
                     object_store: S3CompatibleStorage | None = None) -> dict[str, Any]:
    """`object_store`: the stack's S3-compatible store (endpoint, path style, credentials Secret); None on AWS, where
    the pod's cloud role (IRSA / Pod Identity) is the credential."""
    cluster = placement.cluster
    decision = decide(cluster)
    paths = storage_paths(placement, bucket)
    task_manager: dict[str, Any] = {"resource": {"cpu": cluster.task_manager.cpu, "memory": cluster.task_manager.memory}}
    if decision.initial_replicas is not None:
        task_manager["replicas"] = decision.initial_replicas
    tm_template = taskmanager_pod_template(placement)
    if tm_template:
        task_manager["podTemplate"] = tm_template
    spec: dict[str, Any] = {
        "image": cluster.image or versions.FLINK_IMAGES[cluster.flink_version],
        "flinkVersion": keys.operator_version_enum(cluster.flink_version),
        "serviceAccount": service_account_name(placement),
        "mode": decision.deployment_mode,
        "flinkConfiguration": flink_configuration(placement, paths, is_prod, decision, object_store),
        "podTemplate": pod_template(placement, object_store),
        "jobManager": {
            "replicas": cluster.job_manager.replicas,
            "resource": {"cpu": cluster.job_manager.cpu, "memory": cluster.job_manager.memory},
        },
        "taskManager": task_manager,
    }
    if cluster.job is not None:
        spec["job"] = _job_spec(cluster.job)
    return {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": cluster.name, "namespace": placement.namespace,
                     "labels": {**labels(placement), ENVIRONMENT_LABEL: "prod" if is_prod else "nonprod"},
                     **({"annotations": annotations(placement)} if annotations(placement) else {})},
        "spec": spec,
    }


def session_job_name(placement: Placement, job_name: str) -> str:
    return f"{placement.cluster.name}-{job_name}"


def flink_session_jobs(placement: Placement) -> list[dict[str, Any]]:
    cluster = placement.cluster
    out = []
    for job in cluster.jobs:
        job_labels = dict(labels(placement))
        # The operator's webhook adds this label; set it ourselves so Pulumi sees no drift.
        job_labels["target.session"] = cluster.name
        spec: dict[str, Any] = {"deploymentName": cluster.name, "job": _job_spec(job)}
        if job.savepoint_interval:
            spec["flinkConfiguration"] = {"kubernetes.operator.periodic.savepoint.interval": job.savepoint_interval}
        out.append({
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": "FlinkSessionJob",
            "metadata": {"name": session_job_name(placement, job.name), "namespace": placement.namespace,
                         "labels": job_labels},
            "spec": spec,
        })
    return out
