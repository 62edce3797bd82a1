"""FlinkCluster: one Flink cluster on one Kubernetes cluster — its service account (with the cloud role), the RBAC
a native-mode JobManager needs (TaskManager pods, HA ConfigMaps), the FlinkDeployment and any FlinkSessionJobs."""

from __future__ import annotations

from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s

from flinkplat.config.fleet import Placement
from flinkplat.config.models import S3CompatibleStorage
from flinkplat.flink import deployment as manifests
from flinkplat.flink.scaling import decide

TYPE = "flinkplatform:flink:FlinkCluster"


class FlinkCluster(pulumi.ComponentResource):
    deployment: k8s.apiextensions.CustomResource
    session_jobs: list[k8s.apiextensions.CustomResource]

    def __init__(
        self,
        placement: Placement,
        *,
        bucket: str,
        is_prod: bool,
        role_arn: Optional[pulumi.Input[str]],
        object_store: Optional[S3CompatibleStorage] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
    ):
        name = placement.key
        super().__init__(TYPE, name, {}, opts)
        cluster = placement.cluster
        # depends_on is not inherited by children: everything here waits for what the component waits for
        # (namespace, operator and its CRDs/webhook), or a FlinkDeployment could race a brand-new cluster's operator.
        incoming = (opts.depends_on if opts else None) or []
        after = list(incoming) if isinstance(incoming, (list, tuple)) else [incoming]
        child = pulumi.ResourceOptions(parent=self, depends_on=after)
        labels = manifests.labels(placement)
        sa_name = manifests.service_account_name(placement)
        annotations: dict[str, Any] = {}
        if role_arn is not None and placement.kube.oidc_provider_arn:
            annotations["eks.amazonaws.com/role-arn"] = role_arn
        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}/sa",
            # no empty `annotations: {}`: the API server drops empty maps, so the object would differ from the plan
            metadata={"name": sa_name, "namespace": placement.namespace, "labels": labels,
                      **({"annotations": annotations} if annotations else {})},
            opts=child,
        )
        # Native mode: the JobManager creates TaskManager pods and, with HA, leader/metadata ConfigMaps.
        self.role = k8s.rbac.v1.Role(
            f"{name}/role",
            metadata={"name": sa_name, "namespace": placement.namespace, "labels": labels},
            rules=[
                {"apiGroups": [""], "resources": ["configmaps"],
                 "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
                {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch", "create", "delete"]},
                {"apiGroups": [""], "resources": ["services"], "verbs": ["get", "list", "watch"]},
                {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list", "watch"]},
                {"apiGroups": ["apps"], "resources": ["deployments/finalizers"], "verbs": ["update"]},
            ],
            opts=child,
        )
        self.role_binding = k8s.rbac.v1.RoleBinding(
            f"{name}/rolebinding",
            metadata={"name": sa_name, "namespace": placement.namespace, "labels": labels},
            role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": sa_name},
            subjects=[{"kind": "ServiceAccount", "name": sa_name, "namespace": placement.namespace}],
            opts=child,
        )
        manifest = manifests.flink_deployment(placement, bucket, is_prod, object_store)
        decision = decide(cluster)
        protect = cluster.protect if cluster.protect is not None else is_prod
        self.deployment = k8s.apiextensions.CustomResource(
            f"{name}/deployment",
            api_version=manifest["apiVersion"],
            kind=manifest["kind"],
            metadata=manifest["metadata"],
            spec=manifest["spec"],
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=protect,
                # Never delete-before-create a stateful job; and never fight the scaler over what it owns.
                delete_before_replace=False,
                ignore_changes=list(decision.ignore_changes),
                # its ServiceAccount and RBAC too: the JobManager creates TaskManager pods and HA ConfigMaps with
                # them, so they must exist first and outlive it (a refused destroy must not delete the Role)
                depends_on=[*after, self.service_account, self.role, self.role_binding],
            ),
        )
        self.session_jobs = []
        for job_manifest in manifests.flink_session_jobs(placement):
            self.session_jobs.append(k8s.apiextensions.CustomResource(
                f"{placement.kube.name}/{placement.namespace}/{job_manifest['metadata']['name']}",
                api_version=job_manifest["apiVersion"],
                kind=job_manifest["kind"],
                metadata=job_manifest["metadata"],
                spec=job_manifest["spec"],
                opts=pulumi.ResourceOptions(parent=self, protect=protect, depends_on=[self.deployment]),
            ))
        self.rest_endpoint = f"http://{cluster.name}-rest.{placement.namespace}.svc:8081"
        self.register_outputs({"restEndpoint": self.rest_endpoint})
