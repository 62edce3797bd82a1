"""ClusterAddons: the platform add-ons of one Kubernetes cluster as pinned Helm releases, so that a new cluster is
ready for Flink after one `pulumi up`. Which releases, charts, versions and values: `flinkplat.addons` (pure); this
component only creates a Namespace and a `helm.v3.Release` per add-on. `.ready` lists the releases: Flink clusters,
monitoring and autoscaling objects depend on it (CRDs, webhook and controllers exist before they are applied).
"""

from __future__ import annotations

from typing import Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s

from flinkplat.addons import addon_releases
from flinkplat.config.models import KubernetesCluster, Monitoring


class ClusterAddons(pulumi.ComponentResource):
    """Namespaces and Helm releases of one cluster's add-ons. `ready`: the releases dependents wait for."""

    ready: list[pulumi.Resource]

    def __init__(self, kube: KubernetesCluster, needs_keda: bool = False,
                 opts: Optional[pulumi.ResourceOptions] = None, *, watch_namespaces: Sequence[str] = (),
                 monitoring: Monitoring | None = None, after: Sequence[pulumi.Resource] = ()):
        """`after`: resources the releases wait for (the team namespaces the operator's RBAC is created in)."""
        super().__init__("flinkplatform:fleet:ClusterAddons", kube.name, {}, opts)
        specs = addon_releases(kube, needs_keda=needs_keda, watch_namespaces=watch_namespaces, monitoring=monitoring)
        self.namespaces: dict[str, k8s.core.v1.Namespace] = {}
        self.releases: dict[str, k8s.helm.v3.Release] = {}
        for spec in specs:
            if spec.namespace not in self.namespaces:
                self.namespaces[spec.namespace] = k8s.core.v1.Namespace(
                    f"{kube.name}/{spec.namespace}",
                    metadata={"name": spec.namespace,
                              "labels": {"app.kubernetes.io/managed-by": "flink-platform",
                                         "flink-platform/addon": spec.addon}},
                    opts=pulumi.ResourceOptions(parent=self))
            depends: list[pulumi.Resource] = [self.namespaces[spec.namespace], *after]
            depends += [self.releases[name] for name in spec.after if name in self.releases]
            self.releases[spec.addon] = k8s.helm.v3.Release(
                f"{kube.name}/{spec.addon}",
                name=spec.release,
                chart=spec.chart,
                version=spec.version,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=spec.repo),
                namespace=spec.namespace,
                create_namespace=False,
                values=spec.values,
                atomic=True,
                cleanup_on_fail=True,
                timeout=600,
                opts=pulumi.ResourceOptions(parent=self, depends_on=depends))
        self.ready = list(self.releases.values())
        self.register_outputs({"releases": {spec.addon: spec.version for spec in specs}})
