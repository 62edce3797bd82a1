"""CheckpointBucket: one hardened S3 bucket per region for checkpoints, savepoints and HA metadata, and one IAM role
per Flink cluster copy that can touch only that copy's prefix."""

from __future__ import annotations

import hashlib
import json
from typing import Optional

import pulumi
import pulumi_aws.eks as aws_eks
import pulumi_aws.iam as aws_iam
import pulumi_aws.s3 as aws_s3

from flinkplat.config.fleet import Placement
from flinkplat.config.models import Region, Storage
from flinkplat.flink.deployment import service_account_name, storage_paths

TYPE = "flinkplatform:storage:CheckpointBucket"
PREFIX_POLICY_NAME = "flink-checkpoint-prefix-access"  # inline policy: unique per role, so one name serves all


def role_name(placement: Placement) -> str:
    """IAM role names are limited to 64 characters: keep the readable part, add a stable hash."""
    readable = f"flink-{placement.kube.name}-{placement.namespace}-{placement.cluster.name}"
    if len(readable) <= 64:
        return readable
    digest = hashlib.sha256(placement.key.encode()).hexdigest()[:8]
    return f"{readable[:55]}-{digest}"


def prefix_policy(bucket: str, prefix: str, kms_key_arn: Optional[str]) -> str:
    statements = [
        {
            "Sid": "ObjectsUnderOwnPrefix",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
            "Resource": [f"arn:aws:s3:::{bucket}/{prefix}/*"],
        },
        {
            "Sid": "ListOwnPrefix",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": [f"arn:aws:s3:::{bucket}"],
            "Condition": {"StringLike": {"s3:prefix": [f"{prefix}/*", prefix]}},
        },
    ]
    if kms_key_arn:
        statements.append({"Sid": "UseBucketKey", "Effect": "Allow",
                           "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": [kms_key_arn]})
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def trust_policy(placement: Placement) -> str:
    kube = placement.kube
    if kube.oidc_provider_arn:
        issuer = kube.oidc_provider_arn.split(":oidc-provider/", 1)[-1]
        statement = {
            "Effect": "Allow",
            "Principal": {"Federated": kube.oidc_provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                f"{issuer}:sub": f"system:serviceaccount:{placement.namespace}:{service_account_name(placement)}",
                f"{issuer}:aud": "sts.amazonaws.com",
            }},
        }
    else:  # EKS Pod Identity
        statement = {
            "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
        }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def tls_only_policy(bucket: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }],
    })


def lifecycle_rules(placements: list[Placement], bucket: str, storage: Storage) -> list[dict]:
    rules: list[dict] = [{
        "id": "noncurrent-versions-and-uploads",
        "status": "Enabled",
        "filter": {"prefix": ""},
        "noncurrentVersionExpiration": {"noncurrentDays": storage.noncurrent_version_expiration_days},
        "abortIncompleteMultipartUpload": {"daysAfterInitiation": 2},
    }]
    for placement in placements:
        paths = storage_paths(placement, bucket)
        rules.append({
            "id": f"savepoints-{placement.key}"[:255],
            "status": "Enabled",
            "filter": {"prefix": f"{paths.prefix}/savepoints/"},
            "expiration": {"days": storage.savepoint_expiration_days},
        })
        # Incremental checkpoints keep referencing old shared files: age-based expiry would corrupt live state,
        # so only full (non-incremental) checkpoints get an age limit. Flink itself removes subsumed checkpoints.
        if not placement.cluster.checkpointing.incremental:
            rules.append({
                "id": f"checkpoints-{placement.key}"[:255],
                "status": "Enabled",
                "filter": {"prefix": f"{paths.prefix}/checkpoints/"},
                "expiration": {"days": storage.checkpoint_expiration_days},
            })
    return rules


class CheckpointBucket(pulumi.ComponentResource):
    def __init__(
        self,
        region: Region,
        bucket: str,
        placements: list[Placement],
        storage: Storage,
        is_prod: bool,
        opts: Optional[pulumi.ResourceOptions] = None,
    ):
        super().__init__(TYPE, region.name, {}, opts)
        self.bucket_name = bucket
        # Prod checkpoint history survives `pulumi destroy` and cannot be deleted by a replace.
        keep = pulumi.ResourceOptions(parent=self, retain_on_delete=is_prod, protect=is_prod)
        child = pulumi.ResourceOptions(parent=self)
        force_destroy = storage.force_destroy if storage.force_destroy is not None else not is_prod
        self.bucket = aws_s3.Bucket(f"{region.name}/bucket", bucket=bucket, force_destroy=force_destroy,
                                    tags={"managed-by": "flink-platform", "purpose": "flink-state"}, opts=keep)
        self.ownership = aws_s3.BucketOwnershipControls(
            f"{region.name}/ownership", bucket=self.bucket.id, rule={"objectOwnership": "BucketOwnerEnforced"},
            opts=child)
        self.public_access = aws_s3.BucketPublicAccessBlock(
            f"{region.name}/public-access-block", bucket=self.bucket.id, block_public_acls=True,
            block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True, opts=child)
        self.versioning = aws_s3.BucketVersioning(
            f"{region.name}/versioning", bucket=self.bucket.id, versioning_configuration={"status": "Enabled"},
            opts=child)
        sse = ({"sseAlgorithm": "aws:kms", "kmsMasterKeyId": region.kms_key_arn} if region.kms_key_arn
               else {"sseAlgorithm": "AES256"})
        self.encryption = aws_s3.BucketServerSideEncryptionConfiguration(
            f"{region.name}/encryption", bucket=self.bucket.id,
            rules=[{"applyServerSideEncryptionByDefault": sse, "bucketKeyEnabled": bool(region.kms_key_arn)}],
            opts=child)
        self.policy = aws_s3.BucketPolicy(
            f"{region.name}/tls-only", bucket=self.bucket.id, policy=tls_only_policy(bucket),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.public_access]))
        self.lifecycle = aws_s3.BucketLifecycleConfiguration(
            f"{region.name}/lifecycle", bucket=self.bucket.id, rules=lifecycle_rules(placements, bucket, storage),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.versioning]))
        self.roles: dict[str, aws_iam.Role] = {}
        for placement in placements:
            paths = storage_paths(placement, bucket)
            role = aws_iam.Role(f"{placement.key}/role", name=role_name(placement),
                                assume_role_policy=trust_policy(placement),
                                tags={"managed-by": "flink-platform", "flink-cluster": placement.key}, opts=child)
            # An explicit name: unnamed, the provider would autoname it from the logical name, whose '/' IAM refuses.
            aws_iam.RolePolicy(f"{placement.key}/prefix-access", role=role.id, name=PREFIX_POLICY_NAME,
                               policy=prefix_policy(bucket, paths.prefix, region.kms_key_arn), opts=child)
            if not placement.kube.oidc_provider_arn:
                aws_eks.PodIdentityAssociation(
                    f"{placement.key}/pod-identity", cluster_name=placement.kube.name,
                    namespace=placement.namespace, service_account=service_account_name(placement),
                    role_arn=role.arn, opts=child)
            self.roles[placement.key] = role
        self.register_outputs({"bucket": bucket})
