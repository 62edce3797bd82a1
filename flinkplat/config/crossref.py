"""Checks that span several objects of a stack file: names that must be unique, references that must exist,
placements that must match something. Each problem names the exact key path and the fix."""

from __future__ import annotations

from collections import Counter
from typing import Mapping

from flinkplat.config.errors import Problem, did_you_mean, key_path
from flinkplat.config.fleet import OverrideError, _matches, apply_overrides, kube_clusters
from flinkplat.config.models import SecretRef, StackConfig
from flinkplat.flink import raw_keys  # raw options that would bypass a typed setting
from flinkplat.flink.scaling import refusals


def _duplicates(names: list[str]) -> set[str]:
    return {name for name, count in Counter(names).items() if count > 1}


def _secret(ref: SecretRef | None, loc: tuple, secrets: Mapping[str, str]) -> list[Problem]:
    if ref is None or ref.secret in secrets:
        return []
    hint = did_you_mean(ref.secret, secrets)
    return [Problem(key_path(loc + ("secret",)),
                    f"secret key '{ref.secret}' is not set; {hint}run: pulumi config set --secret "
                    f"flink-platform:{ref.secret} <value>")]


def check_references(config: StackConfig, secrets: Mapping[str, str]) -> list[Problem]:
    problems: list[Problem] = []
    region_names = [region.name for region in config.regions]
    for name in _duplicates(region_names):
        problems.append(Problem(key_path(("regions",)), f"region '{name}' is listed twice; list each region once"))
    kube_names = [kube.name for _, kube in kube_clusters(config)]
    for r, region in enumerate(config.regions):
        if config.storage.s3_compatible is not None and region.kms_key_arn:
            problems.append(Problem(key_path(("regions", r, "kmsKeyArn")),
                                    f"kmsKeyArn of region '{region.name}' encrypts the AWS bucket the stack creates, "
                                    "but storage.s3Compatible uses an existing bucket the stack does not manage; "
                                    "remove kmsKeyArn (configure encryption on the object store)"))
        for c, kube in enumerate(region.kubernetes_clusters):
            loc = ("regions", r, "kubernetesClusters", c)
            if kube.name in _duplicates(kube_names):
                problems.append(Problem(key_path(loc + ("name",)),
                                        f"Kubernetes cluster name '{kube.name}' is used more than once in the fleet; "
                                        "cluster names must be unique across all regions"))
            problems += _secret(kube.kubeconfig, loc + ("kubeconfig",), secrets)

    team_names = [team.name for team in config.teams]
    namespaces = [team.namespace_name for team in config.teams]
    for t, team in enumerate(config.teams):
        if team.name in _duplicates(team_names):
            problems.append(Problem(key_path(("teams", t, "name")), f"team '{team.name}' is declared twice"))
        elif team.namespace_name in _duplicates(namespaces):
            problems.append(Problem(key_path(("teams", t, "namespace")),
                                    f"namespace '{team.namespace_name}' is used by two teams; each team gets its own"))

    flink_names = [cluster.name for cluster in config.clusters]
    for i, cluster in enumerate(config.clusters):
        loc = ("clusters", i)
        if cluster.name in _duplicates(flink_names):
            problems.append(Problem(key_path(loc + ("name",)),
                                    f"Flink cluster name '{cluster.name}' is used twice; names must be unique"))
        if cluster.team not in team_names:
            hint = did_you_mean(cluster.team, team_names)
            problems.append(Problem(key_path(loc + ("team",)),
                                    f"team '{cluster.team}' is not declared under flink-platform:teams; {hint}"
                                    f"declared teams: {', '.join(team_names)}"))
        if cluster.kafka is not None:
            problems += _secret(cluster.kafka.sasl_password, loc + ("kafka", "saslPassword"), secrets)
        where = cluster.placement
        for p, region in enumerate(where.regions or []):
            if region not in region_names:
                hint = did_you_mean(region, region_names)
                problems.append(Problem(key_path(loc + ("placement", "regions", p)),
                                        f"region '{region}' is not in the fleet; {hint}regions: {', '.join(region_names)}"))
        for p, kube in enumerate(where.clusters or []):
            if kube not in kube_names:
                hint = did_you_mean(kube, kube_names)
                problems.append(Problem(key_path(loc + ("placement", "clusters", p)),
                                        f"Kubernetes cluster '{kube}' is not in the fleet; {hint}clusters: {', '.join(dict.fromkeys(kube_names))}"))
        targets = [(region, kube) for region, kube in kube_clusters(config) if _matches(cluster, region, kube)]
        if not targets:
            problems.append(Problem(key_path(loc + ("placement",)),
                                    f"Flink cluster '{cluster.name}' is placed nowhere: no Kubernetes cluster matches its placement; "
                                    "widen placement.regions / placement.clusters / placement.clusterLabels"))
        target_regions = {region.name for region, _ in targets}
        target_kubes = {kube.name for _, kube in targets}
        for o, override in enumerate(cluster.overrides):
            oloc = loc + ("overrides", o)
            if override.region is not None and override.region not in target_regions:
                known = override.region in region_names
                problems.append(Problem(key_path(oloc + ("region",)),
                                        f"override for region '{override.region}', "
                                        + ("where this Flink cluster is not placed" if known else
                                           "which is not in the fleet" + (f" ({hint.strip()})" if (hint := did_you_mean(override.region, region_names)) else ""))
                                        + f"; it runs in: {', '.join(sorted(target_regions)) or 'nowhere'}"))
            if override.cluster is not None and override.cluster not in target_kubes:
                known = override.cluster in kube_names
                problems.append(Problem(key_path(oloc + ("cluster",)),
                                        f"override for Kubernetes cluster '{override.cluster}', "
                                        + ("where this Flink cluster is not placed" if known else
                                           "which does not exist" + (f" ({hint.strip()})" if (hint := did_you_mean(override.cluster, kube_names)) else ""))
                                        + f"; it runs on: {', '.join(sorted(target_kubes)) or 'nowhere'}"))
            unknown_jobs = set(override.jobs) - {job.name for job in cluster.jobs}
            for name in sorted(unknown_jobs):
                problems.append(Problem(key_path(oloc + ("jobs", name)),
                                        f"no session job named '{name}' in this cluster"))
        for region, kube in targets:
            try:
                resolved = apply_overrides(cluster, region, kube, i)
            except OverrideError as error:
                problems += error.problems
                continue
            suffix = "" if resolved is cluster else f" (copy on Kubernetes cluster {kube.name})"
            bypasses = raw_keys.refusals(resolved, cluster, is_prod=config.is_prod,
                                         allow_exposed_job_manager=config.allow_exposed_job_manager,
                                         object_store=config.storage.s3_compatible)
            # A bypass written in the cluster itself is the same problem on every copy: named once.
            for path, message in [*((p, m + suffix) for p, m in refusals(resolved)),
                                  *((p, m + (suffix if p[0] == "overrides" else "")) for p, m in bypasses)]:
                problem = Problem(key_path(loc + path), message)
                if problem not in problems:
                    problems.append(problem)
    if not problems:  # the namespace's NetworkPolicies must let every placed cluster work (flinkplat/k8s/tenancy.py)
        from flinkplat.config.fleet import resolve
        from flinkplat.k8s.tenancy import refusals as tenancy_refusals

        problems += [Problem(key_path(path), message) for path, message in tenancy_refusals(config, resolve(config))]
    return problems
