"""The wave plan: which Kubernetes clusters a rollout touches, in which order, and what runs there. Pure: it reads
only the typed stack config and the fleet resolution, so `flinkplat rollout --dry-run` needs no Pulumi CLI.

Waves are the distinct `wave` numbers of the fleet's Kubernetes clusters, lowest first; wave 0 is the canary. A
region's own resources (its AWS provider and checkpoint bucket) go out with the first wave that touches the region.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flinkplat.addons import addon_releases
from flinkplat.config.fleet import Placement, resolve
from flinkplat.config.models import KubernetesCluster, Region, StackConfig
from flinkplat.flink.deployment import checkpoint_bucket
from flinkplat.flink.scaling import owner_of


@dataclass(frozen=True)
class FlinkTarget:
    """A FlinkDeployment the health gate waits for, and its FlinkSessionJobs."""

    namespace: str
    name: str
    has_job: bool  # application cluster: the job must be RUNNING; session cluster: the deployment only
    session_jobs: tuple[str, ...] = ()
    entry_class: str | None = None

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class ClusterTarget:
    """One Kubernetes cluster of a wave."""

    name: str
    region: str
    context: str | None
    kubeconfig_secret: str | None
    addons: tuple[str, ...]
    flink: tuple[FlinkTarget, ...]

    @property
    def connection(self) -> str:
        return f"context {self.context}" if self.context else f"kubeconfig from secret {self.kubeconfig_secret}"


@dataclass(frozen=True)
class RegionTarget:
    """The region-level resources a wave rolls out first (the region's provider and checkpoint bucket)."""

    name: str
    bucket: str
    aws: bool = True  # False with storage.s3Compatible: the region then has no AWS provider and no bucket resources


@dataclass(frozen=True)
class Wave:
    number: int
    clusters: tuple[ClusterTarget, ...]
    regions: tuple[RegionTarget, ...] = ()  # regions whose shared resources this wave rolls out first

    @property
    def label(self) -> str:
        return f"wave {self.number}" + (" (canary)" if self.number == 0 else "")

    @property
    def cluster_names(self) -> tuple[str, ...]:
        return tuple(cluster.name for cluster in self.clusters)


@dataclass(frozen=True)
class WavePlan:
    stack: str
    waves: tuple[Wave, ...] = field(default_factory=tuple)

    @property
    def numbers(self) -> tuple[int, ...]:
        return tuple(wave.number for wave in self.waves)

    def wave(self, number: int) -> Wave:
        for wave in self.waves:
            if wave.number == number:
                return wave
        raise KeyError(number)

    def shape(self) -> dict[str, list[str]]:
        """Waves and their clusters only: what `--resume` checks has not changed since the interrupted run."""
        return {str(wave.number): list(wave.cluster_names) for wave in self.waves}


def _flink_target(placement: Placement) -> FlinkTarget:
    cluster = placement.cluster
    return FlinkTarget(
        namespace=placement.namespace, name=cluster.name, has_job=cluster.job is not None,
        session_jobs=tuple(job.name for job in cluster.jobs if job.name),
        entry_class=cluster.job.entry_class if cluster.job is not None else None)


def _cluster_target(region: Region, kube: KubernetesCluster, placements: list[Placement],
                    config: StackConfig) -> ClusterTarget:
    mine = [p for p in placements if p.kube.name == kube.name]
    needs_keda = any(owner_of(p.cluster.autoscaling.mode) == "keda" for p in mine)
    releases = addon_releases(kube, needs_keda=needs_keda, monitoring=config.monitoring)
    return ClusterTarget(
        name=kube.name, region=region.name, context=kube.context,
        kubeconfig_secret=kube.kubeconfig.secret if kube.kubeconfig else None,
        addons=tuple(f"{r.addon} {r.version}" for r in releases), flink=tuple(_flink_target(p) for p in mine))


def plan_waves(stack: str, config: StackConfig) -> WavePlan:
    """Waves in rollout order (ascending wave number); clusters in stack-file order within a wave."""
    placements = resolve(config)
    numbers = sorted({kube.wave for region in config.regions for kube in region.kubernetes_clusters})
    seen_regions: set[str] = set()
    waves = []
    for number in numbers:
        clusters = []
        regions = []
        for region in config.regions:
            for kube in region.kubernetes_clusters:
                if kube.wave != number:
                    continue
                clusters.append(_cluster_target(region, kube, placements, config))
                if region.name not in seen_regions:
                    seen_regions.add(region.name)
                    regions.append(RegionTarget(
                        region.name, checkpoint_bucket(config.storage, config.environment, region.name),
                        aws=config.storage.s3_compatible is None))
        waves.append(Wave(number=number, clusters=tuple(clusters), regions=tuple(regions)))
    return WavePlan(stack=stack, waves=tuple(waves))


def render(plan: WavePlan, targets: dict[int, list[str]] | None = None) -> str:
    """The human-readable wave plan printed by `flinkplat rollout --dry-run`."""
    count = len(plan.waves)
    lines = [f"rollout plan for stack '{plan.stack}': {count} wave{'s' if count != 1 else ''}, lowest first "
             "(preview, policy check, pulumi up of the wave's clusters, health gate)"]
    for wave in plan.waves:
        lines.append(f"{wave.label}: {', '.join(wave.cluster_names)}")
        for region in wave.regions:
            if region.aws:
                lines.append(f"  region {region.name}: AWS provider aws-{region.name}, checkpoint bucket {region.bucket}")
            else:
                lines.append(f"  region {region.name}: existing bucket {region.bucket} on an S3-compatible store")
        for cluster in wave.clusters:
            lines.append(f"  cluster {cluster.name} ({cluster.region}, {cluster.connection})")
            lines.append(f"    add-ons: {', '.join(cluster.addons) or 'none'}")
            if not cluster.flink:
                lines.append("    flink clusters: none")
            for flink in cluster.flink:
                detail = f"entry class {flink.entry_class}" if flink.entry_class else (
                    f"session jobs: {', '.join(flink.session_jobs)}" if flink.session_jobs else
                    ("application" if flink.has_job else "session cluster"))
                lines.append(f"    flink cluster {flink.key} ({detail})")
        if targets is not None:
            lines.append(f"  pulumi up --target: {len(targets.get(wave.number, []))} resources")
    return "\n".join(lines)
