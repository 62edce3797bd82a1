"""Tenancy: a team's namespace on one Kubernetes cluster. (Being completed under issue 4: quota, limits, policies.)"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s


class Tenancy(pulumi.ComponentResource):
    def __init__(self, region, kube, team, placements, config, opts=None):
        super().__init__("flinkplatform:tenancy:Tenancy", f"{kube.name}/{team.namespace_name}", {}, opts)
        self.namespace = k8s.core.v1.Namespace(
            f"{kube.name}/{team.namespace_name}",
            metadata={"name": team.namespace_name, "labels": {"team": team.name, "region": region.name}},
            opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({})
