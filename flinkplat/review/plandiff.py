"""Diff two offline plans (`Plan.to_json()` of the base ref and of the working tree): which resources are created,
updated (with the changed fields), replaced or deleted, per cluster, and what each change does to Flink jobs.

Resources are matched by URN. An in-place update becomes a replace when a field the provider cannot update
changes (a Kubernetes object's name or namespace, an S3 bucket's name, …): Pulumi then deletes and re-creates it.
A Flink resource whose logical name changed (a renamed job, a job moved to another team's namespace) shows up as a
delete plus a create under a new URN; such pairs are reported as one replacement, because that is what happens to
the job.

Pure: plan JSON in, `PlanDiff` out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from flinkplat.flink import diff as flinkdiff

FLINK_DEPLOYMENT = "kubernetes:flink.apache.org/v1beta1:FlinkDeployment"
FLINK_SESSION_JOB = "kubernetes:flink.apache.org/v1beta1:FlinkSessionJob"
FLINK_TYPES = (FLINK_DEPLOYMENT, FLINK_SESSION_JOB)
BUCKET = "aws:s3/bucket:Bucket"

# Input fields whose change makes the provider replace the resource (delete + create), per type token.
_KUBERNETES_REPLACE = ("metadata.name", "metadata.namespace")
REPLACE_FIELDS: dict[str, tuple[str, ...]] = {
    BUCKET: ("bucket", "bucketPrefix"),
    "aws:iam/role:Role": ("name", "namePrefix", "path"),
    "aws:iam/rolePolicy:RolePolicy": ("name", "namePrefix", "role"),
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": ("clusterName", "namespace", "serviceAccount"),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": ("bucket",),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": ("bucket",),
    "aws:s3/bucketVersioning:BucketVersioning": ("bucket",),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": ("bucket",),
    "aws:s3/bucketPolicy:BucketPolicy": ("bucket",),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": ("bucket",),
}

ACTIONS = ("create", "update", "replace", "delete")


@dataclass
class ResourceChange:
    action: str  # create | update | replace | delete
    type: str
    name: str  # logical name (the new one for a rename)
    provider: str  # e.g. "kubernetes:use1-main", "aws:us-east-1"
    urn: str
    before: dict[str, Any] | None  # inputs at the base ref
    after: dict[str, Any] | None  # inputs in the working tree
    options: dict[str, Any] = field(default_factory=dict)  # options of the new resource (old one if deleted)
    fields: list[tuple[str, Any, Any]] = field(default_factory=list)  # changed input paths
    replace_reasons: list[str] = field(default_factory=list)
    old_name: str | None = None  # a rename: the logical name at the base ref
    flink: flinkdiff.SpecDiff | None = None  # consequence for a FlinkDeployment / FlinkSessionJob
    state_loss: list[str] = field(default_factory=list)  # non-Flink state loss (the checkpoint bucket)
    notes: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.type.rsplit(":", 1)[-1]

    @property
    def cluster(self) -> str:
        return self.provider.split(":", 1)[-1] if self.provider else "-"

    @property
    def object_name(self) -> str:
        """namespace/name of a Kubernetes object, else the logical name."""
        manifest = self.after or self.before or {}
        meta = manifest.get("metadata") if isinstance(manifest, Mapping) else None
        if isinstance(meta, Mapping) and meta.get("name"):
            return f"{meta.get('namespace')}/{meta['name']}" if meta.get("namespace") else str(meta["name"])
        return self.name

    @property
    def all_state_loss(self) -> list[str]:
        return list(self.flink.state_loss if self.flink else ()) + self.state_loss

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action, "type": self.type, "kind": self.kind, "name": self.name,
            "oldName": self.old_name, "object": self.object_name, "provider": self.provider, "cluster": self.cluster,
            "urn": self.urn,
            "fields": [{"path": p, "before": b, "after": a} for p, b, a in self.fields],
            "replaceReasons": self.replace_reasons, "stateLoss": self.all_state_loss, "notes": self.notes,
            "flink": self.flink.to_json() if self.flink else None,
        }


@dataclass
class PlanDiff:
    stack: str
    changes: list[ResourceChange]
    unchanged: int
    head: dict[str, Any]  # the working tree's plan JSON
    base: dict[str, Any] | None  # the base ref's plan JSON (None: the stack did not exist)

    def counts(self) -> dict[str, int]:
        out = {action: 0 for action in ACTIONS}
        for change in self.changes:
            out[change.action] += 1
        return out

    @property
    def flink_changes(self) -> list[ResourceChange]:
        return [c for c in self.changes if c.flink is not None]

    @property
    def state_loss(self) -> list[tuple[ResourceChange, str]]:
        return [(c, reason) for c in self.changes for reason in c.all_state_loss]

    @property
    def restarts(self) -> list[ResourceChange]:
        """Running jobs that restart (creates are not restarts)."""
        return [c for c in self.flink_changes if c.flink.restarts and c.action != "create"]

    @property
    def rescales(self) -> list[ResourceChange]:
        return [c for c in self.flink_changes if c.flink.consequence is flinkdiff.Consequence.RESCALE]

    @property
    def rejected(self) -> list[ResourceChange]:
        return [c for c in self.flink_changes if c.flink.consequence is flinkdiff.Consequence.REJECTED]

    def by_cluster(self) -> dict[str, list[ResourceChange]]:
        """Changes grouped by provider, in a stable order: each region's AWS provider, then its clusters."""
        groups: dict[str, list[ResourceChange]] = {}
        for change in sorted(self.changes, key=lambda c: (cluster_sort_key(c.provider, self.regions()),
                                                         ACTIONS.index(c.action), c.type, c.name)):
            groups.setdefault(change.provider or "-", []).append(change)
        return groups

    def regions(self) -> dict[str, str]:
        """Kubernetes cluster name → region, read from the platform's labels on the manifests."""
        out: dict[str, str] = {}
        for plan in (self.base, self.head):
            for resource in (plan or {}).get("resources", []):
                labels = ((resource.get("inputs") or {}).get("metadata") or {}).get("labels") or {}
                if isinstance(labels, Mapping) and labels.get("flink-platform/kubernetes-cluster"):
                    out[labels["flink-platform/kubernetes-cluster"]] = labels.get("flink-platform/region", "")
        return out

    def violations(self) -> list[dict[str, Any]]:
        """The working tree's violations, each marked `new` when the base ref did not have it."""
        before = {_violation_key(v) for v in (self.base or {}).get("violations", [])}
        return [{**v, "new": _violation_key(v) not in before} for v in self.head.get("violations", [])]

    def resolved_violations(self) -> list[dict[str, Any]]:
        now = {_violation_key(v) for v in self.head.get("violations", [])}
        return [v for v in (self.base or {}).get("violations", []) if _violation_key(v) not in now]


def _violation_key(violation: Mapping[str, Any]) -> tuple:
    return violation.get("policy"), violation.get("resource"), violation.get("message")


def cluster_sort_key(provider: str | None, regions: Mapping[str, str]) -> tuple:
    kind, _, name = (provider or "").partition(":")
    region = name if kind == "aws" else regions.get(name, "~")
    return region, 0 if kind == "aws" else 1, name


# ---------------------------------------------------------------------------------------------------------------
# Field diff
# ---------------------------------------------------------------------------------------------------------------


def _json_document(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return None
    return None


def field_changes(before: Any, after: Any) -> list[tuple[str, Any, Any]]:
    """Changed input paths; JSON documents inside strings (IAM policies, dashboards) are diffed inside."""
    out = []
    for path, b, a in flinkdiff.changed_paths(before, after):
        b_doc, a_doc = _json_document(b), _json_document(a)
        if b_doc is not None and a_doc is not None:
            inner = flinkdiff.changed_paths(b_doc, a_doc)
            if inner:
                out += [(f"{path} (JSON) {p}" if p else f"{path} (JSON)", ib, ia) for p, ib, ia in inner]
                continue
        out.append((path, b, a))
    return out


def _replace_reasons(type_: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    keys = _KUBERNETES_REPLACE if type_.startswith("kubernetes:") else REPLACE_FIELDS.get(type_, ())
    reasons = []
    for key in keys:
        b, a = _dig(before, key), _dig(after, key)
        if b != a:
            reasons.append(f"{key}: {b!r} → {a!r}")
    if type_.startswith("kubernetes:") and before.get("kind") != after.get("kind"):
        reasons.append(f"kind: {before.get('kind')!r} → {after.get('kind')!r}")
    return reasons


def _dig(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(part)
    return obj


# ---------------------------------------------------------------------------------------------------------------
# The diff
# ---------------------------------------------------------------------------------------------------------------


def diff_plans(base: Mapping[str, Any] | None, head: Mapping[str, Any]) -> PlanDiff:
    """Compare two `Plan.to_json()` documents (`base` None = the stack does not exist at the base ref)."""
    old = {r["urn"]: r for r in (base or {}).get("resources", [])}
    new = {r["urn"]: r for r in head.get("resources", [])}
    changes: list[ResourceChange] = []
    unchanged = 0
    for urn, resource in new.items():
        previous = old.get(urn)
        if previous is None:
            changes.append(_change("create", resource, None, resource["inputs"]))
            continue
        fields = field_changes(previous["inputs"], resource["inputs"])
        if not fields:
            unchanged += 1
            continue
        reasons = _replace_reasons(resource["type"], previous["inputs"], resource["inputs"])
        change = _change("replace" if reasons else "update", resource, previous["inputs"], resource["inputs"])
        change.fields, change.replace_reasons = fields, reasons
        changes.append(change)
    for urn, resource in old.items():
        if urn not in new:
            changes.append(_change("delete", resource, resource["inputs"], None))
    changes = _pair_renames(changes)
    head_deployments = _deployments(head)
    for change in changes:
        _consequences(change, head_deployments, _deployments(base or {}))
    return PlanDiff(stack=head.get("stack", ""), changes=changes, unchanged=unchanged, head=dict(head),
                    base=dict(base) if base is not None else None)


def _change(action: str, resource: Mapping[str, Any], before: Any, after: Any) -> ResourceChange:
    return ResourceChange(action=action, type=resource["type"], name=resource["name"],
                          provider=resource.get("provider") or "", urn=resource["urn"], before=before, after=after,
                          options=dict(resource.get("options") or {}))


def _identity(change: ResourceChange, side: Mapping[str, Any]) -> tuple:
    meta = side.get("metadata") or {}
    job = (side.get("spec") or {}).get("job") or {}
    return meta.get("namespace"), meta.get("name"), job.get("jarURI"), job.get("entryClass")


def _pair_renames(changes: list[ResourceChange]) -> list[ResourceChange]:
    """A deleted and a created Flink resource of the same kind on the same cluster, with the same name (moved to
    another namespace) or the same namespace and job (renamed), are one replacement."""
    deletes = [c for c in changes if c.action == "delete" and c.type in FLINK_TYPES]
    creates = [c for c in changes if c.action == "create" and c.type in FLINK_TYPES]
    paired: set[int] = set()
    out = [c for c in changes if not (c.type in FLINK_TYPES and c.action in ("create", "delete"))]
    for old in deletes:
        o_ns, o_name, o_jar, o_entry = _identity(old, old.before)
        match = None
        for new in creates:
            if id(new) in paired or new.provider != old.provider or new.type != old.type:
                continue
            n_ns, n_name, n_jar, n_entry = _identity(new, new.after)
            if (o_name == n_name and o_ns != n_ns) or (o_ns == n_ns and (o_jar, o_entry) == (n_jar, n_entry)):
                match = new
                break
        if match is None:
            out.append(old)
            continue
        paired.add(id(match))
        replacement = ResourceChange(
            action="replace", type=old.type, name=match.name, old_name=old.name, provider=old.provider, urn=match.urn,
            before=old.before, after=match.after, options=match.options,
            fields=field_changes(old.before, match.after),
            replace_reasons=[f"logical name {old.name} → {match.name} (Pulumi deletes the old resource and creates "
                             "a new one)"])
        out.append(replacement)
    out += [c for c in creates if id(c) not in paired]
    return out


def _deployments(plan: Mapping[str, Any]) -> dict[tuple, Mapping[str, Any]]:
    """(provider, namespace, name) → FlinkDeployment manifest, to find a session job's session cluster."""
    out = {}
    for resource in plan.get("resources", []):
        if resource["type"] == FLINK_DEPLOYMENT:
            meta = resource["inputs"].get("metadata") or {}
            out[(resource.get("provider"), meta.get("namespace"), meta.get("name"))] = resource["inputs"]
    return out


def _consequences(change: ResourceChange, head_deployments: Mapping, base_deployments: Mapping) -> None:
    options = change.options
    if change.type in FLINK_TYPES:
        session_mode = None
        if change.type == FLINK_SESSION_JOB:
            manifest = change.after or change.before or {}
            key = (change.provider, (manifest.get("metadata") or {}).get("namespace"),
                   (manifest.get("spec") or {}).get("deploymentName"))
            session = head_deployments.get(key) or base_deployments.get(key)
            session_mode = flinkdiff.deployment_mode(session) if session else None
        change.flink = flinkdiff.classify(change.before, change.after,
                                          ignore_changes=options.get("ignoreChanges") or (),
                                          session_mode=session_mode)
        if change.flink is None:  # defensive: a change always has fields, so classify returns a diff
            change.flink = flinkdiff.SpecDiff(kind=change.kind, change=flinkdiff.ChangeClass.IGNORE,
                                              consequence=flinkdiff.Consequence.NONE)
    if change.type == BUCKET and change.action in ("replace", "delete"):
        bucket = (change.before or {}).get("bucket", change.name)
        verb = "replaced" if change.action == "replace" else "deleted"
        change.state_loss.append(
            f"checkpoint bucket {bucket} is {verb}: the checkpoints, savepoints and HA metadata of every Flink "
            f"cluster in {change.cluster} live there; jobs restart from empty state unless each sets "
            "job.initialSavepointPath to a savepoint copied to the new location")
        if options.get("retainOnDelete"):
            change.notes.append("retainOnDelete: the old bucket and its objects stay in AWS, but nothing points at "
                                "them any more")
    if change.action in ("replace", "delete") and options.get("protect"):
        change.notes.append("protected (protect: true): `pulumi up` refuses to delete it until protection is removed "
                            "in a separate change")


def session_jobs_of(diff: PlanDiff, change: ResourceChange) -> list[str]:
    """Session jobs running in the session cluster `change` (a FlinkDeployment without a job)."""
    if change.type != FLINK_DEPLOYMENT or ((change.after or change.before or {}).get("spec") or {}).get("job"):
        return []
    meta = (change.after or change.before or {}).get("metadata") or {}
    out = []
    for resource in diff.head.get("resources", []):
        if resource["type"] == FLINK_SESSION_JOB and resource.get("provider") == change.provider:
            inputs = resource["inputs"]
            if ((inputs.get("metadata") or {}).get("namespace") == meta.get("namespace")
                    and (inputs.get("spec") or {}).get("deploymentName") == meta.get("name")):
                out.append(inputs["metadata"]["name"])
    return out


def iter_violations(violations: Iterable[Mapping[str, Any]], level: str) -> list[Mapping[str, Any]]:
    return [v for v in violations if v.get("level") == level]
