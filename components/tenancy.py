"""Tenancy: a team's namespace on one Kubernetes cluster — labels with the Pod Security level, ResourceQuota,
LimitRange and the NetworkPolicies that open only what its Flink clusters need. The manifests come from the pure
builders in `flinkplat/k8s/tenancy.py`; this component only wraps them in typed pulumi-kubernetes resources."""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from flinkplat.config.fleet import Placement
from flinkplat.config.models import KubernetesCluster, Region, StackConfig, Team
from flinkplat.k8s import tenancy as build

TYPE = "flinkplatform:tenancy:Tenancy"


class Tenancy(pulumi.ComponentResource):
    namespace: k8s.core.v1.Namespace
    network_policies: list[k8s.networking.v1.NetworkPolicy]

    def __init__(self, region: Region, kube: KubernetesCluster, team: Team, placements: list[Placement],
                 config: StackConfig, opts: Optional[pulumi.ResourceOptions] = None):
        name = f"{kube.name}/{team.namespace_name}"
        super().__init__(TYPE, name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        ns = build.namespace(region.name, team, placements)
        # The logical name stays `<kube>/<namespace>`: renaming it would delete the namespace and every job in it.
        self.namespace = k8s.core.v1.Namespace(name, metadata=ns["metadata"], opts=child)
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])
        quota = build.resource_quota(team, config.allow_exposed_job_manager)
        self.quota = k8s.core.v1.ResourceQuota(f"{name}/quota", metadata=quota["metadata"], spec=quota["spec"],
                                               opts=in_ns)
        limits = build.limit_range(team, placements)
        self.limit_range = k8s.core.v1.LimitRange(f"{name}/limits", metadata=limits["metadata"],
                                                  spec=limits["spec"], opts=in_ns)
        self.network_policies = [
            k8s.networking.v1.NetworkPolicy(f"{name}/netpol/{policy['metadata']['name']}",
                                            metadata=policy["metadata"], spec=policy["spec"], opts=in_ns)
            for policy in build.network_policies(team, placements, operator_namespace=kube.operator_namespace,
                                                 monitoring=config.monitoring, is_prod=config.is_prod,
                                                 storage=config.storage)
        ]
        self.resources: list[pulumi.Resource] = [self.namespace, self.quota, self.limit_range, *self.network_policies]
        """Every object of the tenancy: what the team's Flink clusters depend on."""
        self.pod_security = build.pod_security_level(placements)
        self.host_network_notes = [build.host_network_note(p) for p in build.host_network_placements(placements)]
        for note in self.host_network_notes:
            pulumi.log.warn(note, resource=self)
        self.register_outputs({"namespace": team.namespace_name, "podSecurity": self.pod_security})
