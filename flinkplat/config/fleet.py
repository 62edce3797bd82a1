"""The fleet tree: which Flink cluster runs on which Kubernetes cluster, with its per-region/per-cluster overrides
applied. Pure: the Pulumi components, the policy pack and the rollout planner all read this one resolution."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from pydantic import ValidationError

from flinkplat.config.errors import Problem, problems_from_validation
from flinkplat.config.models import FlinkCluster, FlinkClusterOverride, KubernetesCluster, Region, StackConfig, Team

_OVERRIDE_FIELDS = ("job", "task_manager", "job_manager", "kafka", "autoscaling", "flink_configuration")


@dataclass(frozen=True)
class Placement:
    """One copy of a Flink cluster on one Kubernetes cluster."""

    region: Region
    kube: KubernetesCluster
    team: Team
    cluster: FlinkCluster  # overrides for this region/cluster already applied
    index: int  # position in flink-platform:clusters, for error paths

    @property
    def namespace(self) -> str:
        return self.team.namespace_name

    @property
    def key(self) -> str:
        """Unique, stable id of this copy: <kube cluster>/<namespace>/<name>."""
        return f"{self.kube.name}/{self.namespace}/{self.cluster.name}"


def kube_clusters(config: StackConfig) -> Iterator[tuple[Region, KubernetesCluster]]:
    for region in config.regions:
        for kube in region.kubernetes_clusters:
            yield region, kube


def _matches(cluster: FlinkCluster, region: Region, kube: KubernetesCluster) -> bool:
    where = cluster.placement
    if where.regions is not None and region.name not in where.regions:
        return False
    if where.clusters is not None and kube.name not in where.clusters:
        return False
    return all(kube.labels.get(k) == v for k, v in where.cluster_labels.items())


def _deep_merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _patch_of(override: FlinkClusterOverride, cluster: FlinkCluster) -> dict[str, Any]:
    patch: dict[str, Any] = {}
    for name in _OVERRIDE_FIELDS:
        value = getattr(override, name)
        if value:
            patch[FlinkCluster.model_fields[name].alias or name] = value
    if override.jobs:
        by_name = {job.name: job.model_dump(by_alias=True, exclude_unset=True) for job in cluster.jobs}
        patch["jobs"] = [_deep_merge(by_name[name], override.jobs.get(name, {})) for name in by_name]
    return patch


def apply_overrides(cluster: FlinkCluster, region: Region, kube: KubernetesCluster, index: int) -> FlinkCluster:
    """The cluster's settings for one Kubernetes cluster: region overrides first, then cluster overrides."""
    relevant = [o for o in cluster.overrides if o.region == region.name] + [
        o for o in cluster.overrides if o.cluster == kube.name
    ]
    if not relevant:
        return cluster
    data = cluster.model_dump(by_alias=True, exclude_unset=True)
    for override in relevant:
        data = _deep_merge(data, _patch_of(override, cluster))
    try:
        return FlinkCluster.model_validate(data)
    except ValidationError as error:
        where = f"region {region.name}" if relevant[-1].region else f"cluster {kube.name}"
        problems = problems_from_validation(error, FlinkCluster, ("clusters", index))
        raise OverrideError([Problem(p.path, f"{p.message} (after applying the overrides for {where})") for p in problems])


class OverrideError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(map(str, problems)))


def resolve(config: StackConfig) -> list[Placement]:
    """Every (Flink cluster, Kubernetes cluster) pair, in fleet order. Assumes `check_references` passed."""
    teams = {team.name: team for team in config.teams}
    placements = []
    for index, cluster in enumerate(config.clusters):
        for region, kube in kube_clusters(config):
            if _matches(cluster, region, kube):
                resolved = apply_overrides(cluster, region, kube, index)
                placements.append(Placement(region, kube, teams[cluster.team], resolved, index))
    return placements
