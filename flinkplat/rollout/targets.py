"""Which resource URNs `pulumi up --target` gets for each wave. Pure: it works on plain resource records, taken
from the offline plan (what the program declares now) and from the stack's current state (what exists, including
resources the program no longer declares and that the wave must delete).

A wave targets:
- everything under its KubernetesCluster components (found through parents) or deployed through their Kubernetes
  providers, and cloud resources named `<kube cluster>/...` (the per-Flink-cluster IAM roles, pod identities);
- the shared resources of the regions it touches first (bucket, its configuration, the AWS provider);
- and, transitively, every parent, provider and dependency of those, so nothing targeted waits on an untargeted
  resource that does not exist yet;
- in every wave, every provider of the stack with its parent components: the engine steps providers whether they
  are targeted or not (Pulumi "implicitly targets" them), and a provider whose parent component is not targeted
  fails the run ("depends on … which was not specified in --target list"). Providers and components are state
  only: nothing is created in a later wave's cluster or cloud region.

`--target-dependents` is deliberately not used: every FlinkDeployment of a region depends on the region's bucket,
so it would pull the later waves' clusters into the canary wave.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from flinkplat.rollout.waves import WavePlan

KUBE_CLUSTER_TYPE = "flinkplatform:fleet:KubernetesCluster"
REGION_TYPE = "flinkplatform:fleet:Region"
STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass(frozen=True)
class ResourceRecord:
    urn: str  # the engine's URN (full parent type chain)
    type: str
    name: str
    parent: str | None = None
    provider: str | None = None  # URN of the provider resource (without the ::id suffix)
    dependencies: tuple[str, ...] = ()


def engine_urn(stack: str, project: str, qualified_type: str, name: str) -> str:
    return f"urn:pulumi:{stack}::{project}::{qualified_type}::{name}"


def records_from_plan(resources: Iterable[Any], stack: str, project: str = "flink-platform") -> list[ResourceRecord]:
    """Records of the offline plan's resources (`Plan.resources`: urn, type, name, parent, provider label,
    options.dependsOn). URNs are recomputed the way the Pulumi engine does (the parent's full qualified type, joined
    with `$`), since the SDK's mock monitor abbreviates them; provider labels become provider URNs."""
    from flinkplat.plan.runner import _provider_label  # the label the recorder gives each explicit provider

    resources = list(resources)
    by_urn = {r.urn: r for r in resources}
    qualified: dict[str, str] = {}

    def qtype(resource: Any) -> str:
        if resource.urn not in qualified:
            parent = by_urn.get(resource.parent) if resource.parent else None
            qualified[resource.urn] = (f"{qtype(parent)}$" if parent is not None else "") + resource.type
        return qualified[resource.urn]

    urns = {r.urn: engine_urn(stack, project, qtype(r), r.name) for r in resources}
    providers = {_provider_label(r.name): urns[r.urn] for r in resources if r.type.startswith("pulumi:providers:")}
    return [
        ResourceRecord(
            urn=urns[r.urn], type=r.type, name=r.name,
            parent=urns.get(r.parent) if r.parent else None,
            provider=providers.get(r.provider) if r.provider else None,
            dependencies=tuple(sorted({urns[d] for d in r.options.get("dependsOn", []) if d in urns})))
        for r in resources
    ]


def records_from_state(deployment: Mapping[str, Any]) -> list[ResourceRecord]:
    """Records of a stack's current state (`pulumi stack export`: {"resources": [{urn, type, parent, provider,
    dependencies}, ...]}), so a wave also deletes what its clusters no longer declare."""
    records = []
    for resource in deployment.get("resources") or []:
        if resource.get("type") == STACK_TYPE:
            continue
        parent = resource.get("parent") or None
        if parent and f"::{STACK_TYPE}::" in parent:
            parent = None
        provider = resource.get("provider") or None
        if provider:
            provider = provider.rsplit("::", 1)[0]
        records.append(ResourceRecord(
            urn=resource["urn"], type=resource["type"], name=resource["urn"].rsplit("::", 1)[-1], parent=parent,
            provider=provider, dependencies=tuple(resource.get("dependencies") or ())))
    return records


def merge(planned: Iterable[ResourceRecord], current: Iterable[ResourceRecord]) -> list[ResourceRecord]:
    """The plan's records plus the current state's records the plan no longer has (to be deleted)."""
    merged = {r.urn: r for r in planned}
    for record in current:
        merged.setdefault(record.urn, record)
    return list(merged.values())


def wave_targets(records: Iterable[ResourceRecord], plan: WavePlan) -> dict[int, list[str]]:
    """wave number -> sorted URNs to pass as `--target` for that wave."""
    records = list(records)
    by_urn = {r.urn: r for r in records}
    kube_wave = {cluster.name: wave.number for wave in plan.waves for cluster in wave.clusters}
    region_wave = {region.name: wave.number for wave in plan.waves for region in wave.regions}
    first = plan.waves[0].number if plan.waves else 0

    def lineage(record: ResourceRecord) -> list[ResourceRecord]:
        chain, seen = [record], {record.urn}
        while chain[-1].parent and chain[-1].parent in by_urn and chain[-1].parent not in seen:
            seen.add(chain[-1].parent)
            chain.append(by_urn[chain[-1].parent])
        return chain

    def kube_of(record: ResourceRecord) -> str | None:
        for ancestor in lineage(record):
            if ancestor.type == KUBE_CLUSTER_TYPE and ancestor.name in kube_wave:
                return ancestor.name
        return None

    provider_kube = {r.urn: kube_of(r) for r in records if r.type.startswith("pulumi:providers:")}

    def owner(record: ResourceRecord) -> int | None:
        kube = kube_of(record) or (provider_kube.get(record.provider) if record.provider else None)
        if kube is None and "/" in record.name and record.name.split("/", 1)[0] in kube_wave:
            kube = record.name.split("/", 1)[0]
        if kube is not None:
            return kube_wave[kube]
        for ancestor in lineage(record):
            if ancestor.type == REGION_TYPE and ancestor.name in region_wave:
                return region_wave[ancestor.name]
        return None

    owners = {r.urn: owner(r) for r in records}
    targets: dict[int, list[str]] = {}
    providers = [r for r in records if r.type.startswith("pulumi:providers:")]
    for wave in plan.waves:
        seeds = [r for r in records if owners[r.urn] == wave.number
                 or (owners[r.urn] is None and wave.number == first)] + providers
        selected: set[str] = set()
        stack = [r.urn for r in seeds]
        while stack:
            urn = stack.pop()
            if urn in selected or urn not in by_urn:
                continue
            selected.add(urn)
            record = by_urn[urn]
            stack += [u for u in (record.parent, record.provider, *record.dependencies) if u]
        targets[wave.number] = sorted(selected)
    return targets
