"""Raw Flink options that would bypass the typed stack file, and contradictions inside the typed config itself.

`flinkConfiguration` is passed through verbatim and wins over what the platform generates. That is right for tuning
(timeouts, memory fractions, connector options), wrong where a typed setting exists because something else depends on
it: the namespace's Pod Security level and NetworkPolicies follow `taskManager.hostNetwork`, the IAM role and RBAC
follow the service account, the egress to the API server and the HA dirs follow `highAvailability`, the scaler
objects and Pulumi's ignoreChanges follow `autoscaling.mode`, the ResourceQuota follows `allowExposedJobManager`. A
raw option there would change the Flink side only and leave the rest wrong, silently.

`refusals(cluster, original, ...)` returns (key path under `clusters[i]`, message) for each such option and each
contradiction, like `flinkplat.flink.scaling.refusals`; `flinkplat.config.crossref` turns them into config errors
(exit 2). Secrets are not refused here: `flink-no-plain-secrets` reports them and the plan masks their values.
The policy pack checks the same guarantees on the rendered objects (`flinkplat.rules.guarantees`, `flink-ha`,
`flink-scaler-mode`, `flink-jobmanager-exposure`), which also covers objects not rendered from a stack file.
"""

from __future__ import annotations

from typing import Any

from flinkplat.config.models import FlinkCluster
from flinkplat.flink import keys
from flinkplat.flink.deployment import ha_decision
from flinkplat.flink.keys import (
    CHECKPOINT_STORAGE_KEYS, EXPOSED_KEY, HOSTNETWORK_KEY, INTERNAL_PREFIX, PERIODIC_SAVEPOINT_KEY,
    POD_TEMPLATE_FILE_PREFIX, RETAIN_ON_CANCELLATION, RETENTION_KEY, SERVICE_ACCOUNT_KEYS, conf_value,
)
from flinkplat.flink.operator_syntax import autoscaler_switch
from flinkplat.flink.scaling import decide

CLUSTER_IP_TYPES = ("clusterip", "headless_clusterip")
# Options the operator sets from the FlinkDeployment spec itself: a raw value is overwritten, i.e. silently ignored.
SPEC_OWNED = {
    "kubernetes.jobmanager.replicas": "jobManager.replicas",
    "kubernetes.jobmanager.cpu.amount": "jobManager.cpu",
    "kubernetes.taskmanager.cpu.amount": "taskManager.cpu",
    "jobmanager.memory.process.size": "jobManager.memory",
    "taskmanager.memory.process.size": "taskManager.memory",
    "kubernetes.container.image": "image",
    "kubernetes.container.image.ref": "image",
    "parallelism.default": "job.parallelism",
    "execution.savepoint.ignore-unclaimed-state": "job.allowNonRestoredState",
    "execution.savepoint.path": "job.initialSavepointPath",
}


def _text(value: Any) -> str:
    """The value as the platform renders it (what Flink reads), trimmed for comparing."""
    return conf_value(value).strip()


def _truthy(value: Any) -> bool:
    return _text(value).lower() == "true"


def locate(original: FlinkCluster, key: str) -> tuple:
    """Where the user wrote `key`: the cluster's flinkConfiguration, else the first override that sets it."""
    if key in original.flink_configuration:
        return ("flinkConfiguration", key)
    for index, override in enumerate(original.overrides):
        if key in override.flink_configuration:
            return ("overrides", index, "flinkConfiguration", key)
    return ("flinkConfiguration", key)


# Which autoscaling settings each mode reads; the others used to be ignored silently.
_HPA = ("min_replicas", "max_replicas", "scale_down_stabilization_seconds")
AUTOSCALING_FIELDS_USED = {
    "none": (),
    "cpu": (*_HPA, "cpu_target_percent"),
    "memory": (*_HPA, "memory_target_percent"),
    "cpu+memory": (*_HPA, "cpu_target_percent", "memory_target_percent"),
    "kafka-lag": (*_HPA, "lag_threshold"),
    "custom": (*_HPA, "custom"),
    "flink-autoscaler": ("utilization_target",),
}


def _unused_autoscaling(cluster: FlinkCluster) -> list[tuple[tuple, str]]:
    scaling = cluster.autoscaling
    used = AUTOSCALING_FIELDS_USED.get(scaling.mode, ())
    out = []
    for name in sorted(scaling.model_fields_set - {"mode", *used}):
        alias = type(scaling).model_fields[name].alias or name
        users = [mode for mode, fields in AUTOSCALING_FIELDS_USED.items() if name in fields]
        if name == "custom":
            continue  # refused by the Autoscaling model itself
        out.append((("autoscaling", alias),
                    f"autoscaling.{alias} has no effect with autoscaling.mode '{scaling.mode}' (only "
                    f"{', '.join(users)} read{'s' if len(users) == 1 else ''} it), so it would be ignored silently; "
                    "remove it, or choose the mode it belongs to"))
    return out


def typed_contradictions(cluster: FlinkCluster) -> list[tuple[tuple, str]]:
    """Typed settings that contradict each other (each used to be resolved silently by one of them)."""
    out: list[tuple[tuple, str]] = _unused_autoscaling(cluster)
    replicas = cluster.job_manager.replicas
    if cluster.high_availability is False and replicas > 1:
        out.append((("highAvailability",),
                    f"highAvailability: false contradicts jobManager.replicas: {replicas}: standby JobManagers take "
                    "over only through Kubernetes HA leader election, so the replicas would win and switch HA on "
                    "regardless (they used to, silently); make them agree: remove highAvailability (or set it true) "
                    "to keep the standby JobManagers, or set jobManager.replicas: 1 to run without HA"))
    return out


OBJECT_STORE_KEYS = {"s3.endpoint": "endpoint", "presto.s3.endpoint": "endpoint", "fs.s3a.endpoint": "endpoint",
                     "s3.path.style.access": "pathStyleAccess", "presto.s3.path-style-access": "pathStyleAccess",
                     "fs.s3a.path.style.access": "pathStyleAccess"}


def refusals(cluster: FlinkCluster, original: FlinkCluster | None = None, *, is_prod: bool,
             allow_exposed_job_manager: bool, object_store: Any = None) -> list[tuple[tuple, str]]:
    """Raw options of `cluster` (overrides applied) that bypass a typed setting, as (key path, message).
    `original` is the cluster as written (without overrides), to point at the line that sets the option;
    `object_store` the stack's `storage.s3Compatible` (None on AWS)."""
    original = original or cluster
    conf = {str(k): v for k, v in cluster.flink_configuration.items()}
    out = typed_contradictions(cluster)

    def refuse(key: str, text: str) -> None:
        out.append((locate(original, key), text))

    decision = decide(cluster)
    ha_on = ha_decision(cluster, is_prod)
    # The option that decides whether the operator's autoscaler runs, in the rendered configuration (the platform
    # writes job.autoscaler.enabled: true for autoscaling.mode flink-autoscaler; the deprecated key counts too).
    wants_autoscaler = decision.owner == "flink-autoscaler"
    switch = autoscaler_switch({**({"job.autoscaler.enabled": True} if wants_autoscaler else {}), **conf})
    host_network = cluster.task_manager.host_network
    for key, value in conf.items():
        shown = f"{key}: {_text(value)}"
        if key == HOSTNETWORK_KEY and _truthy(value):
            refuse(key, f"{shown} puts the JobManager and TaskManagers on the host network behind the platform's "
                        "back: no hostPorts, no compensating control, and the namespace keeps Pod Security "
                        "'restricted', which rejects the pods; remove it and set taskManager.hostNetwork (ports, "
                        "nodeCidrs, compensatingControl), the only way the platform renders host networking")
        elif key in SERVICE_ACCOUNT_KEYS:
            refuse(key, f"{shown} replaces the cluster's service account ({cluster.name}-flink), which carries its "
                        "cloud role (IRSA / Pod Identity, scoped to its own checkpoint prefix) and the RBAC for "
                        "TaskManager pods and HA ConfigMaps; remove it (the service account is not configurable)")
        elif key.startswith(POD_TEMPLATE_FILE_PREFIX):
            refuse(key, f"{shown} loads a pod template file that bypasses the reviewed and policy-checked pod "
                        "templates the platform renders; remove it (taskManager.hostNetwork covers the host "
                        "network, the platform sets security context, ports and environment)")
        elif key.startswith(INTERNAL_PREFIX):
            refuse(key, f"{key} is an option Flink and the operator write themselves; remove it")
        elif key in SPEC_OWNED and (cluster.job is not None or not SPEC_OWNED[key].startswith("job.")):
            refuse(key, f"{key} is set by the operator from the FlinkDeployment spec, so this value would be silently "
                        f"ignored; set {SPEC_OWNED[key]} instead and remove it")
        elif key == keys.SLOTS_KEY and _text(value) != str(cluster.task_manager.slots):
            refuse(key, f"{shown} overrides taskManager.slots: {cluster.task_manager.slots}, from which the platform "
                        "computes the scaler limits, max parallelism and Kafka readers; set taskManager.slots: "
                        f"{_text(value)} instead and remove it")
        elif key in keys.HA_TYPE_KEYS:
            value_on = _text(value).lower() not in ("none", "")
            if value_on != ha_on or (ha_on and _text(value).lower() != "kubernetes"):
                state = "on (Kubernetes HA)" if ha_on else "off"
                refuse(key, f"{shown} contradicts highAvailability, which is {state} for this cluster; the platform "
                            "only opens the API-server egress, renders the HA storage dir and checks standby "
                            "JobManagers through highAvailability: set highAvailability: "
                            f"{'false' if not value_on else 'true'} instead and remove {key}")
        elif key == keys.HA_STORAGE_KEY or key in keys.CHECKPOINT_DIR_KEYS or key in keys.SAVEPOINT_DIR_KEYS:
            refuse(key, f"{key} is the platform's: it points at s3://<bucket>/<kube cluster>/<namespace>/"
                        f"{cluster.name}/…, the only prefix this cluster's cloud role can reach and the one the "
                        "bucket's lifecycle rules expire; remove it")
        elif key in CHECKPOINT_STORAGE_KEYS and _text(value).lower() == "jobmanager":
            refuse(key, f"{shown} keeps checkpoints in JobManager memory, so a JobManager restart or upgrade loses "
                        "them; remove it (checkpoints go to the cluster's prefix in the checkpoint bucket)")
        elif key == RETENTION_KEY and _text(value).upper() != RETAIN_ON_CANCELLATION:
            refuse(key, f"{shown} deletes the checkpoints when the job is cancelled, so a mistaken cancel or a "
                        "failed savepoint leaves nothing to restore; remove it (the platform retains them)")
        elif key == "scheduler-mode" and decision.reactive and _text(value).lower() != "reactive":
            refuse(key, f"{shown} switches off the reactive scheduler that autoscaling.mode "
                        f"'{cluster.autoscaling.mode}' needs: every scale step of the scaler would become a full job "
                        "restart; remove it")
        elif (key == "scheduler-mode" and not decision.reactive and _text(value).lower() == "reactive"
              and decision.deployment_mode != "standalone"):
            refuse(key, f"{shown} only works in standalone application clusters, and this one runs in native mode; "
                        "set deploymentMode: standalone (manual scaling) or autoscaling.mode cpu/memory/kafka-lag/"
                        "custom, or remove it")
        elif switch is not None and key == switch[0] and switch[1] != wants_autoscaler:
            if switch[1]:
                why = ("turns on the operator's job autoscaler outside autoscaling.mode "
                       f"('{cluster.autoscaling.mode}'): Pulumi would then reset its parallelism overrides on every run"
                       + (" and it would fight the HPA/KEDA scaler" if decision.owner in ("hpa", "keda") else ""))
                fix = "set autoscaling.mode: flink-autoscaler instead"
            else:
                why = "switches off the autoscaler that autoscaling.mode: flink-autoscaler asks for"
                fix = "choose autoscaling.mode: none instead"
            refuse(key, f"{shown} {why}; {fix} and remove {key}")
        elif key == EXPOSED_KEY and _text(value).lower() not in CLUSTER_IP_TYPES and not allow_exposed_job_manager:
            refuse(key, f"{shown} exposes the unauthenticated JobManager REST API outside the cluster, and the team "
                        "namespace's ResourceQuota allows no NodePort/LoadBalancer services (allowExposedJobManager: "
                        "false), so the JobManager could not even create it; keep ClusterIP (kubectl port-forward or "
                        "an authenticated ingress), or set allowExposedJobManager: true if exposure is intended")
        elif host_network is not None and key in ("taskmanager.data.port", "taskmanager.rpc.port"):
            typed = host_network.data_port if key == "taskmanager.data.port" else host_network.rpc_port
            field = "dataPort" if key == "taskmanager.data.port" else "rpcPort"
            if _text(value) != str(typed):
                refuse(key, f"{shown} differs from taskManager.hostNetwork.{field}: {typed}, the port declared as "
                            "hostPort and opened in the NetworkPolicies; set the typed port instead and remove it")
        elif object_store is not None and key in OBJECT_STORE_KEYS:
            field = OBJECT_STORE_KEYS[key]
            typed = object_store.endpoint if field == "endpoint" else object_store.path_style_access
            if _text(value).rstrip("/").lower() != _text(typed).lower():
                refuse(key, f"{shown} points Flink's S3 filesystem elsewhere than storage.s3Compatible.{field} "
                            f"({_text(typed)}), which the team namespaces' egress and the credentials Secret are set "
                            f"up for; change storage.s3Compatible.{field} instead and remove {key}")
        elif key == PERIODIC_SAVEPOINT_KEY:
            typed_interval = cluster.job.savepoint_interval if cluster.job is not None else None
            if typed_interval is not None and _text(value) != typed_interval:
                refuse(key, f"{shown} overrides job.savepointInterval: {typed_interval}; keep one of them "
                            "(job.savepointInterval)")
    return out
