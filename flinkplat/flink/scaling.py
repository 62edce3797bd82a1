"""Who owns a Flink cluster's scale, and what that implies for its FlinkDeployment.

HPA and KEDA scale `spec.taskManager.replicas` through the FlinkDeployment's /scale subresource. In native mode
every step is an UPGRADE (job restart); only standalone mode with the reactive scheduler rescales in place. The
operator's own autoscaler works per vertex in native mode. One owner per job, and Pulumi must ignore what it owns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from flinkplat.config.models import HPA_MODES, KEDA_MODES, FlinkCluster
from flinkplat.flink.keys import MAX_PARALLELISM_KEY

# Highly composite numbers: many divisors, so rescaled parallelism spreads key groups evenly.
HIGHLY_COMPOSITE = (120, 180, 240, 360, 720, 840, 1260, 1680, 2520, 5040, 10080, 32760)
REPLICAS_PATH = "spec.taskManager.replicas"
VERTEX_OVERRIDES_PATH = 'spec.flinkConfiguration["pipeline.jobvertex-parallelism-overrides"]'


@dataclass(frozen=True)
class ScalingDecision:
    owner: str  # "none" | "hpa" | "keda" | "flink-autoscaler"
    deployment_mode: str  # "native" | "standalone"
    reactive: bool
    initial_replicas: int | None  # spec.taskManager.replicas Pulumi writes at creation
    max_parallelism: int | None  # pipeline.max-parallelism the platform sets (None: leave Flink's default)
    ignore_changes: tuple[str, ...]  # fields Pulumi must not fight the scaler over


def owner_of(mode: str) -> str:
    if mode in HPA_MODES:
        return "hpa"
    if mode in KEDA_MODES:
        return "keda"
    return mode  # "none" or "flink-autoscaler"


def configured_max_parallelism(cluster: FlinkCluster) -> int | None:
    value = cluster.flink_configuration.get(MAX_PARALLELISM_KEY)
    return None if value is None else int(float(value))


def smallest_highly_composite(at_least: int) -> int:
    return next((n for n in HIGHLY_COMPOSITE if n >= at_least), at_least)


def refusals(cluster: FlinkCluster) -> list[tuple[tuple, str]]:
    """Combinations the platform refuses, as (key path under the cluster, message)."""
    scaling = cluster.autoscaling
    owner = owner_of(scaling.mode)
    out: list[tuple[tuple, str]] = []
    if owner in ("hpa", "keda"):
        if cluster.deployment_mode == "native":
            out.append((("deploymentMode",),
                        f"autoscaling.mode '{scaling.mode}' scales TaskManagers through /scale, and in native mode "
                        "every scale step restarts the job; remove deploymentMode (the platform then runs the "
                        "cluster standalone with the reactive scheduler, which rescales in place) or use "
                        "autoscaling.mode: flink-autoscaler"))
        if cluster.mode == "session":
            out.append((("autoscaling", "mode"),
                        f"autoscaling.mode '{scaling.mode}' needs the reactive scheduler, which only application "
                        "clusters support; use an application cluster or autoscaling.mode: none"))
        if cluster.task_manager.replicas is not None:
            out.append((("taskManager", "replicas"),
                        f"taskManager.replicas is owned by the {owner.upper()} scaler (autoscaling.mode "
                        f"'{scaling.mode}'); remove it and set autoscaling.minReplicas/maxReplicas instead"))
        slots = cluster.task_manager.slots
        configured = configured_max_parallelism(cluster)
        if configured is not None and scaling.max_replicas * slots > configured:
            out.append((("autoscaling", "maxReplicas"),
                        f"maxReplicas {scaling.max_replicas} × {slots} slots = {scaling.max_replicas * slots} exceeds "
                        f"the job's max parallelism ({MAX_PARALLELISM_KEY}: {configured}); lower maxReplicas to "
                        f"{configured // slots} or raise {MAX_PARALLELISM_KEY}"))
        if scaling.mode == "kafka-lag":
            if cluster.kafka is None:
                out.append((("kafka",),
                            "autoscaling.mode 'kafka-lag' needs 'kafka' (bootstrapServers, topic, partitions, "
                            "consumerGroup) to build the KEDA Kafka trigger"))
            else:
                useful = math.ceil(cluster.kafka.partitions / slots)
                if scaling.max_replicas > useful:
                    out.append((("autoscaling", "maxReplicas"),
                                f"maxReplicas {scaling.max_replicas} would run more Kafka readers than the "
                                f"{cluster.kafka.partitions} partitions of '{cluster.kafka.topic}' "
                                f"({slots} slots per TaskManager); set maxReplicas to at most {useful}"))
    if owner == "flink-autoscaler" and cluster.deployment_mode == "standalone":
        out.append((("deploymentMode",),
                    "autoscaling.mode 'flink-autoscaler' (the operator's job autoscaler) is for native mode; "
                    "remove deploymentMode: standalone, or choose an HPA/KEDA mode for standalone clusters"))
    if owner == "flink-autoscaler" and cluster.task_manager.replicas is not None:
        out.append((("taskManager", "replicas"),
                    "with the operator's job autoscaler, TaskManagers follow parallelism; remove taskManager.replicas"))
    return out


def decide(cluster: FlinkCluster) -> ScalingDecision:
    """The decision for a cluster that passed `refusals`."""
    scaling = cluster.autoscaling
    owner = owner_of(scaling.mode)
    configured = configured_max_parallelism(cluster)
    if owner in ("hpa", "keda"):
        needed = scaling.max_replicas * cluster.task_manager.slots
        return ScalingDecision(
            owner=owner,
            deployment_mode="standalone",
            reactive=True,
            initial_replicas=scaling.min_replicas,
            max_parallelism=None if configured else smallest_highly_composite(max(needed, 120)),
            ignore_changes=(REPLICAS_PATH,),
        )
    if owner == "flink-autoscaler":
        return ScalingDecision(
            owner=owner,
            deployment_mode="native",
            reactive=False,
            initial_replicas=None,
            max_parallelism=None if configured else 720,
            ignore_changes=(VERTEX_OVERRIDES_PATH,),
        )
    return ScalingDecision(
        owner="none",
        deployment_mode=cluster.deployment_mode or "native",
        reactive=False,
        initial_replicas=cluster.task_manager.replicas,
        max_parallelism=None,
        ignore_changes=(),
    )
