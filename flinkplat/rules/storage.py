"""Checkpoint storage: the bucket is private, encrypted, versioned and TLS-only; each IAM policy reaches only its
own prefix."""

from __future__ import annotations

import json
from typing import Any, Iterator

from flinkplat.rules.base import MANDATORY, Finding, Knob, Res, Rule, Stack, get, message, plain

BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ENCRYPTION_TYPES = ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2")
VERSIONING_TYPES = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
IAM_POLICY_TYPES = ("aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy")
PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def _attached(bucket: Res, resource: Res) -> bool:
    """A bucket setting belongs to the bucket it depends on (or names it)."""
    if bucket.urn and bucket.urn in resource.dependencies:
        return True
    target = get(resource.props, "bucket")
    return target is not None and str(target) in {str(get(bucket.props, "bucket", default="")), bucket.name}


def _statements(document: Any) -> list[dict]:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except (ValueError, RecursionError):  # also numbers past Python's digit limit, nesting thousands deep
            return []
    document = plain(document)
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    return [s for s in ([statements] if isinstance(statements, dict) else statements) if isinstance(s, dict)]


def _as_list(value: Any) -> list:
    return [value] if isinstance(value, (str, dict)) else list(value or [])


def _denies_insecure_transport(policy: Res) -> bool:
    for statement in _statements(get(policy.props, "policy")):
        condition = statement.get("Condition", {})
        secure = condition.get("Bool", {}).get("aws:SecureTransport") if isinstance(condition, dict) else None
        if statement.get("Effect") == "Deny" and str(secure).lower() == "false":
            return True
    return False


def check_buckets(stack: Stack, cfg: dict) -> Iterator[Finding]:
    for bucket in stack.of_type(*BUCKET_TYPES):
        name = get(bucket.props, "bucket", default=bucket.name)
        related = [r for r in stack.resources if r is not bucket and _attached(bucket, r)]

        def find(*types: str) -> list[Res]:
            return [r for r in related if r.type in types]

        blocks = find(PUBLIC_ACCESS_BLOCK)
        missing = sorted({flag for flag in PUBLIC_ACCESS_FLAGS
                          if not any(get(b.props, flag) is True for b in blocks)})
        if missing:
            yield Finding(message(
                f"Bucket {name} does not block public access ({', '.join(missing)} not true).",
                "checkpoints and savepoints hold the jobs' full state (often personal or payment data); one public "
                "ACL or policy would publish it.",
                "add an aws.s3.BucketPublicAccessBlock with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and "
                "restrictPublicBuckets all true."), bucket)
        inline_sse = get(bucket.props, "serverSideEncryptionConfiguration")
        if not find(*ENCRYPTION_TYPES) and not inline_sse:
            yield Finding(message(
                f"Bucket {name} has no explicit default encryption.",
                "state at rest must be encrypted with a key the platform controls and audits (SSE-KMS) or at least "
                "SSE-S3, declared in code so a console change shows up as drift.",
                "add an aws.s3.BucketServerSideEncryptionConfiguration (aws:kms with the region's key, or AES256)."),
                bucket)
        inline_versioning = get(bucket.props, "versioning", "enabled") is True
        versioned = inline_versioning or any(
            str(get(v.props, "versioningConfiguration", "status")) == "Enabled" for v in find(*VERSIONING_TYPES))
        if not versioned:
            yield Finding(message(
                f"Bucket {name} is not versioned.",
                "a bad deploy, a buggy cleanup or a compromised role can overwrite or delete savepoints; versioning "
                "keeps the previous objects recoverable.",
                "add an aws.s3.BucketVersioning with versioningConfiguration.status: Enabled."), bucket)
        if not any(_denies_insecure_transport(p) for p in find(BUCKET_POLICY)):
            yield Finding(message(
                f"Bucket {name} does not enforce TLS.",
                "without a Deny on aws:SecureTransport=false, clients may read and write state over plain HTTP.",
                "add a BucketPolicy statement Effect: Deny, Principal: *, Action: s3:*, on the bucket and bucket/*, "
                "Condition: {Bool: {aws:SecureTransport: \"false\"}}."), bucket)


def _s3_actions(statement: dict) -> list[str]:
    return [str(a) for a in _as_list(statement.get("Action")) if str(a) == "*" or str(a).lower().startswith("s3:")]


def check_iam_prefix(res: Res, cfg: dict) -> Iterator[Finding]:
    depth = int(float(cfg["minPrefixDepth"]))
    why = ("each Flink cluster's role must only reach its own <cluster>/<namespace>/<name> prefix, so one team's "
           "job (or a compromised pod) cannot read or delete another team's state.")
    for statement in _statements(get(res.props, "policy")):
        if statement.get("Effect") != "Allow":
            continue
        actions = _s3_actions(statement)
        if not actions:
            continue
        broad = [a for a in actions if a in ("*", "s3:*")]
        if broad:
            yield Finding(message(f"{res.label} allows {', '.join(broad)} on S3.", why,
                                  "list the object actions the job needs (GetObject, PutObject, DeleteObject, "
                                  "AbortMultipartUpload) and ListBucket."))
        for resource in (str(r) for r in _as_list(statement.get("Resource"))):
            if resource in ("*", "arn:aws:s3:::*"):
                yield Finding(message(f"{res.label} grants {', '.join(actions)} on every bucket ({resource}).", why,
                                      "name the bucket and the cluster's prefix: arn:aws:s3:::<bucket>/<prefix>/*."))
                continue
            if not resource.startswith("arn:aws:s3:::") or "/" not in resource:
                continue
            path = resource.split("/", 1)[1]
            fixed = path.split("*", 1)[0]
            segments = [s for s in fixed.split("/") if s]
            complete = segments if fixed.endswith("/") or "*" not in path else segments[:-1]
            if len(complete) < depth:
                yield Finding(message(
                    f"{res.label} grants {', '.join(actions)} on {resource}, beyond a single cluster's prefix.", why,
                    "restrict Resource to arn:aws:s3:::<bucket>/<cluster>/<namespace>/<name>/*."))
        if any(a.lower() == "s3:listbucket" for a in actions):
            condition = statement.get("Condition", {})
            prefixes = [v for op in (condition.values() if isinstance(condition, dict) else [])
                        if isinstance(op, dict) for k, v in op.items() if k == "s3:prefix"]
            if not prefixes:
                yield Finding(message(f"{res.label} allows s3:ListBucket without an s3:prefix condition.", why,
                                      "add Condition: {StringLike: {s3:prefix: [\"<prefix>/*\", \"<prefix>\"]}}."))


RULES = [
    Rule("flink-bucket-hardening", MANDATORY,
         "Checkpoint buckets block public access, are encrypted, versioned and TLS-only.",
         "Buckets hold every job's full state.",
         "Add the public access block, encryption, versioning and TLS-only policy (CheckpointBucket does).",
         check_buckets, scope="stack"),
    Rule("flink-iam-prefix", MANDATORY,
         "IAM policies grant S3 access only under a cluster's own prefix.",
         "A role that reaches the whole bucket exposes every team's state.",
         "Scope Resource to arn:aws:s3:::<bucket>/<prefix>/* and ListBucket with an s3:prefix condition.",
         check_iam_prefix, kinds=IAM_POLICY_TYPES,
         knobs=(Knob("minPrefixDepth", {"type": "integer", "minimum": 0}, 3,
                     "Minimum number of fixed path segments before a wildcard in object ARNs."),)),
]
