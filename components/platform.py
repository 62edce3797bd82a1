"""The fleet as a resource tree: Platform → Region (AWS provider, checkpoint bucket) → KubernetesCluster (Kubernetes
provider, add-ons) → team Tenancy and FlinkClusters. One explicit provider per cloud region and per cluster; the
ambient kubeconfig is never used. With `storage.s3Compatible` a Region has no AWS provider and no bucket: the stack
is Kubernetes-only."""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.addons import ClusterAddons
from components.autoscaling import Autoscaler
from components.checkpoint_bucket import CheckpointBucket
from components.flink_cluster import FlinkCluster
from components.monitoring import FlinkMonitoring
from components.tenancy import Tenancy
from flinkplat.config.fleet import Placement, resolve
from flinkplat.config.load import LoadedStack
from flinkplat.config.models import KubernetesCluster, Region
from flinkplat.flink.deployment import checkpoint_bucket, storage_paths
from flinkplat.flink.scaling import owner_of


class KubernetesClusterComponent(pulumi.ComponentResource):
    def __init__(self, stack: LoadedStack, region: Region, kube: KubernetesCluster, placements: list[Placement],
                 bucket: str, role_arns: dict[str, pulumi.Output[str]], opts: pulumi.ResourceOptions):
        super().__init__("flinkplatform:fleet:KubernetesCluster", kube.name, {}, opts)
        config = stack.config
        if kube.kubeconfig is not None:
            kubeconfig = pulumi.Output.secret(stack.secrets[kube.kubeconfig.secret])
            self.provider = k8s.Provider(f"k8s-{kube.name}", kubeconfig=kubeconfig, cluster_identifier=kube.name,
                                         opts=pulumi.ResourceOptions(parent=self))
        else:
            # kubeconfig="" (the provider's "unset": it loads the ambient kubeconfig for the context): left None, the
            # SDK records the program's $KUBECONFIG path in the provider's inputs, so every machine or CI job with a
            # different path shows a provider update (found by the engine test: a no-change preview was not).
            self.provider = k8s.Provider(f"k8s-{kube.name}", context=kube.context, kubeconfig="",
                                         cluster_identifier=kube.name, opts=pulumi.ResourceOptions(parent=self))
        child = pulumi.ResourceOptions(parent=self, providers={"kubernetes": self.provider})
        needs_keda = any(owner_of(p.cluster.autoscaling.mode) == "keda" for p in placements)
        # Team namespaces before the add-ons: the operator's Helm release creates its RBAC in the namespaces it watches.
        self.tenancies: dict[str, Tenancy] = {}
        for team in config.teams:
            team_placements = [p for p in placements if p.team.name == team.name]
            if team_placements:
                self.tenancies[team.name] = Tenancy(region, kube, team, team_placements, config, opts=child)
        self.addons = ClusterAddons(kube, needs_keda=needs_keda, opts=child,
                                    watch_namespaces=sorted({p.namespace for p in placements}),
                                    monitoring=config.monitoring,
                                    after=[tenancy.namespace for tenancy in self.tenancies.values()])
        self.flink_clusters: dict[str, FlinkCluster] = {}
        for placement in placements:
            tenancy = self.tenancies[placement.team.name]
            # The whole tenancy (not only the namespace): the job's egress rules, quota and limits exist before its
            # pods start, and a `pulumi destroy` refused by a protected FlinkDeployment keeps everything it runs with
            # (the engine deletes only resources nothing left behind depends on).
            in_namespace = pulumi.ResourceOptions(parent=self, providers={"kubernetes": self.provider},
                                                  depends_on=[*tenancy.resources, *self.addons.ready])
            flink = FlinkCluster(placement, bucket=bucket, is_prod=config.is_prod,
                                 role_arn=role_arns.get(placement.key), object_store=config.storage.s3_compatible,
                                 opts=in_namespace)
            self.flink_clusters[placement.key] = flink
            after_flink = pulumi.ResourceOptions(parent=flink, depends_on=[flink.deployment])
            if config.monitoring.enabled:
                FlinkMonitoring(placement, config.monitoring, opts=after_flink)
            if owner_of(placement.cluster.autoscaling.mode) in ("hpa", "keda"):
                Autoscaler(placement, config.monitoring, stack.secrets, opts=after_flink)
        self.register_outputs({})


class RegionComponent(pulumi.ComponentResource):
    def __init__(self, stack: LoadedStack, region: Region, placements: list[Placement], opts: pulumi.ResourceOptions):
        super().__init__("flinkplatform:fleet:Region", region.name, {}, opts)
        config = stack.config
        bucket = checkpoint_bucket(config.storage, config.environment, region.name)
        self.bucket_name = bucket
        self.provider: Optional[aws.Provider] = None
        self.bucket: Optional[CheckpointBucket] = None
        self.role_arns: dict[str, pulumi.Output[str]] = {}
        if config.storage.s3_compatible is None:
            self.provider = aws.Provider(f"aws-{region.name}", region=region.name,
                                         opts=pulumi.ResourceOptions(parent=self))
            aws_opts = pulumi.ResourceOptions(parent=self, providers={"aws": self.provider})
            self.bucket = CheckpointBucket(region, bucket, placements, config.storage, config.is_prod, opts=aws_opts)
            self.role_arns = {key: role.arn for key, role in self.bucket.roles.items()}
        self.clusters = {
            kube.name: KubernetesClusterComponent(stack, region, kube,
                                                  [p for p in placements if p.kube.name == kube.name],
                                                  bucket, self.role_arns, pulumi.ResourceOptions(parent=self))
            for kube in region.kubernetes_clusters
        }
        self.register_outputs({"bucket": bucket})


class Platform(pulumi.ComponentResource):
    def __init__(self, stack: LoadedStack, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("flinkplatform:fleet:Platform", f"flink-platform-{stack.stack}", {}, opts)
        config = stack.config
        placements = resolve(config)
        self.regions = {
            region.name: RegionComponent(stack, region, [p for p in placements if p.region.name == region.name],
                                         pulumi.ResourceOptions(parent=self))
            for region in config.regions
        }
        self.outputs = self._outputs(placements)
        self.register_outputs({})

    def _outputs(self, placements: list[Placement]) -> dict:
        clusters = {}
        for placement in placements:
            region = self.regions[placement.region.name]
            flink = region.clusters[placement.kube.name].flink_clusters[placement.key]
            paths = storage_paths(placement, region.bucket_name)
            name, ns = placement.cluster.name, placement.namespace
            clusters[placement.key] = {
                "kubernetesCluster": placement.kube.name,
                "region": placement.region.name,
                "namespace": ns,
                "restEndpoint": flink.rest_endpoint,
                "bucket": paths.bucket,
                "checkpoints": paths.checkpoints,
                "savepoints": paths.savepoints,
                "haStorage": paths.ha,
                "watch": f"kubectl --context {placement.kube.context or placement.kube.name} -n {ns} "
                         f"get flinkdeployment {name} -w",
            }
            if placement.key in region.role_arns:
                clusters[placement.key]["roleArn"] = region.role_arns[placement.key]
        return clusters
