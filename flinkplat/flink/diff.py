"""What a spec change does to a running Flink job: the Apache Flink Kubernetes Operator's own classification.

The operator compares the last deployed spec with the new one field by field (`api/diff/ReflectiveDiffBuilder`,
`DiffType`): every changed field has a class, IGNORE < SCALE < UPGRADE < SAVEPOINT_REDEPLOY, and the change as a
whole takes the maximum. Unannotated fields are UPGRADE (a restart through the job's `upgradeMode`); a
mode-restricted class becomes UPGRADE in the other deployment mode (FACTS §1.7):

| class | fields |
|---|---|
| IGNORE | job.upgradeMode, job.initialSavepointPath, job.allowNonRestoredState, the trigger nonces; config keys with prefix `job.autoscaler`, `parallelism.default`, `kubernetes.operator`; a nonce set to null |
| SCALE | `pipeline.jobvertex-parallelism-overrides` (native only); job.parallelism, taskManager.replicas (standalone only) |
| UPGRADE | everything else |
| SAVEPOINT_REDEPLOY | job.savepointRedeployNonce set to a new non-null value |

On top of the class this module says what happens to the job's *state*, which is what a reviewer cares about:
delete or replace (name/namespace change) of a FlinkDeployment drops its checkpoints and HA metadata unless
`initialSavepointPath` is set; a switch to `stateless` drops state on this and every later upgrade; a Flink
version change must go through a savepoint (FLINK-28350). Changes the operator's validator refuses after the
first deploy (deployment mode, session ↔ application, a session job's deploymentName) are reported as REJECTED.

Pure: manifests (plain dicts, as in `flinkplat plan --json`) in, a `SpecDiff` out. No Pulumi import.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

FLINK_DEPLOYMENT = "FlinkDeployment"
FLINK_SESSION_JOB = "FlinkSessionJob"

VERTEX_OVERRIDES_KEY = "pipeline.jobvertex-parallelism-overrides"
# flinkConfiguration key prefixes the operator ignores (`@SpecDiff.Config` on AbstractFlinkSpec.flinkConfiguration).
IGNORED_CONFIG_PREFIXES = ("job.autoscaler", "parallelism.default", "kubernetes.operator")
# JobSpec fields annotated IGNORE.
IGNORED_JOB_FIELDS = ("upgradeMode", "initialSavepointPath", "allowNonRestoredState", "autoscalerResetNonce",
                      "savepointTriggerNonce", "checkpointTriggerNonce")


class ChangeClass(enum.IntEnum):
    """The operator's DiffType, ordered: a change takes the maximum over its fields."""

    IGNORE = 0
    SCALE = 1
    UPGRADE = 2
    SAVEPOINT_REDEPLOY = 3


class Consequence(str, enum.Enum):
    """What the job will experience, in a reviewer's words."""

    NONE = "no restart"
    RESCALE = "rescale in place"
    RESTART = "restart"  # through the job's upgradeMode
    SAVEPOINT_REDEPLOY = "savepoint redeploy"
    SUSPEND = "suspend"
    RESUME = "resume"
    CREATE = "first deploy"
    DELETE = "delete"
    REPLACE = "delete + create"
    REJECTED = "rejected by the operator"


@dataclass(frozen=True)
class FieldChange:
    """One changed spec field with its operator class."""

    path: str  # e.g. spec.job.parallelism, spec.flinkConfiguration["state.backend.type"]
    before: Any
    after: Any
    change: ChangeClass
    note: str = ""


@dataclass(frozen=True)
class SpecDiff:
    """The consequence of turning `before` into `after` for one FlinkDeployment or FlinkSessionJob."""

    kind: str
    change: ChangeClass | None  # None for create/delete/replace/rejected (no in-place update happens)
    consequence: Consequence
    fields: tuple[FieldChange, ...] = ()
    upgrade_mode: str | None = None  # the mode the restart goes through (the new spec's)
    state_loss: tuple[str, ...] = ()  # why state is lost; empty = state kept
    warnings: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()  # the operator's validator messages

    @property
    def restarts(self) -> bool:
        return self.consequence in (Consequence.RESTART, Consequence.SAVEPOINT_REDEPLOY, Consequence.REPLACE,
                                    Consequence.SUSPEND)

    @property
    def summary(self) -> str:
        """e.g. 'restart (upgradeMode savepoint)', 'rescale in place', 'no restart'."""
        text = self.consequence.value
        if self.consequence is Consequence.RESTART and self.upgrade_mode:
            text += f" (upgradeMode {self.upgrade_mode})"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "class": self.change.name if self.change is not None else None,
            "consequence": self.consequence.value,
            "summary": self.summary,
            "upgradeMode": self.upgrade_mode,
            "stateLoss": list(self.state_loss),
            "warnings": list(self.warnings),
            "rejected": list(self.rejected),
            "fields": [{"path": f.path, "before": f.before, "after": f.after, "class": f.change.name,
                        **({"note": f.note} if f.note else {})} for f in self.fields],
        }


# ---------------------------------------------------------------------------------------------------------------
# Generic helpers
# ---------------------------------------------------------------------------------------------------------------

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MISSING = object()


def child_path(parent: str, key: Any) -> str:
    """Pulumi's property-path syntax: `a.b`, `a[0]`, `a["key.with.dots"]` (the form ignoreChanges takes)."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    if _PLAIN_KEY.match(str(key)):
        return f"{parent}.{key}" if parent else str(key)
    return f'{parent}["{key}"]'


def changed_paths(before: Any, after: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Leaf-level differences (path, before, after); a missing side is None. Lists of equal length are compared
    item by item, others as a whole."""
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        out: list[tuple[str, Any, Any]] = []
        for key in _ordered_keys(before, after):
            out += changed_paths(before.get(key, _MISSING), after.get(key, _MISSING), child_path(path, key))
        return out
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        out = []
        for index, (b, a) in enumerate(zip(before, after)):
            out += changed_paths(b, a, child_path(path, index))
        return out
    if _same(before, after):
        return []
    return [(path, None if before is _MISSING else before, None if after is _MISSING else after)]


def _ordered_keys(before: Mapping, after: Mapping) -> list:
    keys = list(before)
    keys += [k for k in after if k not in before]
    return keys


def _same(a: Any, b: Any) -> bool:
    if a is _MISSING or b is _MISSING:
        return a is b
    # Pulumi passes numbers as floats: 3 == 3.0 is the same value, True == 1 is not.
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def _get(obj: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def deployment_mode(manifest: Mapping[str, Any] | None) -> str:
    """`native` unless spec.mode says standalone (null = native)."""
    return "standalone" if _get(manifest, "spec", "mode") == "standalone" else "native"


def reactive(manifest: Mapping[str, Any] | None) -> bool:
    conf = _get(manifest, "spec", "flinkConfiguration") or {}
    return str(conf.get("scheduler-mode", "")).strip().lower() == "reactive"


def flink_version_label(enum_value: Any) -> str:
    """'v1_20' -> '1.20'."""
    text = str(enum_value or "")
    return text.lstrip("v").replace("_", ".") if text else "?"


# ---------------------------------------------------------------------------------------------------------------
# Field classes
# ---------------------------------------------------------------------------------------------------------------


def _config_key(path: str) -> str | None:
    m = re.match(r'^spec\.flinkConfiguration(?:\["(.+)"\]|\.(.+))$', path)
    return (m.group(1) or m.group(2)) if m else None


def classify_field(kind: str, path: str, before: Any, after: Any, mode: str) -> tuple[ChangeClass, str]:
    """The operator's class of one changed field (path under the manifest) in deployment mode `mode`."""
    if not path.startswith("spec"):
        return ChangeClass.IGNORE, "metadata only: the operator does not compare it"
    key = _config_key(path)
    if key is not None:
        if key.startswith(IGNORED_CONFIG_PREFIXES):
            return ChangeClass.IGNORE, ""
        if key.startswith(VERTEX_OVERRIDES_KEY):
            if mode == "native":
                return ChangeClass.SCALE, ""
            return ChangeClass.UPGRADE, "vertex parallelism overrides rescale only in native mode"
        return ChangeClass.UPGRADE, ""
    if path.startswith("spec.job."):
        name = path.removeprefix("spec.job.").split(".")[0].split("[")[0]
        if name in IGNORED_JOB_FIELDS:
            return ChangeClass.IGNORE, ""
        if name == "savepointRedeployNonce":
            if after is None:
                return ChangeClass.IGNORE, "nonce removed"
            return ChangeClass.SAVEPOINT_REDEPLOY, ""
        if name == "parallelism":
            if mode == "standalone":
                return ChangeClass.SCALE, ""
            return ChangeClass.UPGRADE, "in native mode a parallelism change restarts the job"
    if path == "spec.restartNonce":
        if after is None:
            return ChangeClass.IGNORE, "nonce removed"
        return ChangeClass.UPGRADE, "new restartNonce: manual restart"
    if path == "spec.taskManager.replicas" and kind == FLINK_DEPLOYMENT:
        if mode == "standalone":
            return ChangeClass.SCALE, ""
        return ChangeClass.UPGRADE, "in native mode a TaskManager replica change restarts the job"
    return ChangeClass.UPGRADE, ""


def _ignored_by_pulumi(path: str, ignore_changes: Iterable[str]) -> bool:
    for pattern in ignore_changes:
        if path == pattern or path.startswith(pattern + ".") or path.startswith(pattern + "["):
            return True
    return False


# ---------------------------------------------------------------------------------------------------------------
# The whole change
# ---------------------------------------------------------------------------------------------------------------


def _identity(manifest: Mapping[str, Any]) -> tuple[str | None, str | None]:
    return _get(manifest, "metadata", "namespace"), _get(manifest, "metadata", "name")


def _upgrade_mode(manifest: Mapping[str, Any] | None) -> str | None:
    job = _get(manifest, "spec", "job")
    if not isinstance(job, Mapping):
        return None
    return job.get("upgradeMode") or "stateless"  # the operator's default when omitted


def _describe(manifest: Mapping[str, Any]) -> str:
    namespace, name = _identity(manifest)
    return f"{manifest.get('kind', 'object')} {namespace}/{name}"


def created(manifest: Mapping[str, Any]) -> SpecDiff:
    kind = manifest.get("kind", FLINK_DEPLOYMENT)
    warnings = []
    upgrade_mode = _upgrade_mode(manifest)
    if upgrade_mode == "stateless":
        warnings.append("upgradeMode stateless: every later upgrade of this job starts from empty state")
    if kind == FLINK_DEPLOYMENT and _get(manifest, "spec", "job", "initialSavepointPath"):
        warnings.append(f"starts from savepoint {_get(manifest, 'spec', 'job', 'initialSavepointPath')}")
    return SpecDiff(kind=kind, change=None, consequence=Consequence.CREATE, upgrade_mode=upgrade_mode,
                    warnings=tuple(warnings))


def deleted(manifest: Mapping[str, Any]) -> SpecDiff:
    kind = manifest.get("kind", FLINK_DEPLOYMENT)
    loss = ()
    if _get(manifest, "spec", "job") is not None:
        loss = (f"{_describe(manifest)} is deleted: the operator removes its checkpoint and HA metadata; a new "
                "deployment starts from empty state unless job.initialSavepointPath points to a savepoint taken "
                "before the delete",)
    elif kind == FLINK_DEPLOYMENT:
        loss = (f"session cluster {_describe(manifest)} is deleted: every job running in it stops",)
    return SpecDiff(kind=kind, change=None, consequence=Consequence.DELETE, upgrade_mode=_upgrade_mode(manifest),
                    state_loss=loss)


def replaced(before: Mapping[str, Any], after: Mapping[str, Any], why: str) -> SpecDiff:
    """Delete + create under a new name or namespace (a Pulumi replace, or a rename of the logical resource)."""
    kind = after.get("kind", FLINK_DEPLOYMENT)
    savepoint = _get(after, "spec", "job", "initialSavepointPath")
    loss: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    if _get(before, "spec", "job") is not None:
        if savepoint:
            warnings = (f"{why}: the new deployment starts from job.initialSavepointPath {savepoint}; take that "
                        "savepoint right before the change (state written after it is lost)",)
        else:
            loss = (f"{why}: the old {_describe(before)} is deleted with its checkpoint and HA metadata and "
                    f"{_describe(after)} starts from empty state; set job.initialSavepointPath to a fresh savepoint "
                    "to carry the state over",)
    else:
        loss = (f"{why}: session cluster {_describe(before)} is deleted; every job running in it stops",)
    return SpecDiff(kind=kind, change=None, consequence=Consequence.REPLACE, upgrade_mode=_upgrade_mode(after),
                    fields=tuple(FieldChange(p, b, a, ChangeClass.UPGRADE)
                                 for p, b, a in changed_paths(_identity(before), _identity(after), "metadata")),
                    state_loss=loss, warnings=warnings)


def classify(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, *,
             ignore_changes: Iterable[str] = (), session_mode: str | None = None) -> SpecDiff | None:
    """The consequence of changing a FlinkDeployment/FlinkSessionJob from `before` to `after` (None = absent).

    `ignore_changes` are Pulumi ignoreChanges paths of the new resource (fields the scaler owns: Pulumi does not
    send them). `session_mode` is the deployment mode of a session job's session cluster (default native).
    Returns None when nothing changed at all.
    """
    if before is None and after is None:
        return None
    if before is None:
        return created(after)  # type: ignore[arg-type]
    if after is None:
        return deleted(before)
    kind = after.get("kind", FLINK_DEPLOYMENT)
    if _identity(before) != _identity(after):
        b_ns, b_name = _identity(before)
        a_ns, a_name = _identity(after)
        why = (f"namespace changes from {b_ns} to {a_ns}" if b_name == a_name
               else f"name changes from {b_name} to {a_name}" if b_ns == a_ns
               else f"{b_ns}/{b_name} becomes {a_ns}/{a_name}")
        return replaced(before, after, why)

    mode = deployment_mode(after) if kind == FLINK_DEPLOYMENT else (session_mode or "native")
    fields: list[FieldChange] = []
    ignored_by_pulumi: list[str] = []
    for path, b, a in changed_paths(before, after):
        if _ignored_by_pulumi(path, ignore_changes):
            ignored_by_pulumi.append(path)
            continue
        change, note = classify_field(kind, path, b, a, mode)
        fields.append(FieldChange(path, b, a, change, note))
    warnings: list[str] = []
    if ignored_by_pulumi:
        warnings.append("Pulumi ignores " + ", ".join(ignored_by_pulumi)
                        + " (ignoreChanges: the scaler owns it); the running value stays")
    if not fields:
        if ignored_by_pulumi:
            return SpecDiff(kind=kind, change=ChangeClass.IGNORE, consequence=Consequence.NONE,
                            upgrade_mode=_upgrade_mode(after), warnings=tuple(warnings))
        return None

    rejected = _rejections(kind, before, after)
    upgrade_mode = _upgrade_mode(after)
    if rejected:
        loss = ()
        if kind == FLINK_DEPLOYMENT and not _get(after, "spec", "job", "initialSavepointPath"):
            loss = (f"{_describe(after)} cannot be changed in place (the operator rejects it and keeps running the "
                    "old spec with status.error); going through means delete + create, which drops the job's "
                    "checkpoints and HA metadata: take a savepoint and set job.initialSavepointPath",)
        return SpecDiff(kind=kind, change=None, consequence=Consequence.REJECTED, fields=tuple(fields),
                        upgrade_mode=upgrade_mode, rejected=tuple(rejected), warnings=tuple(warnings),
                        state_loss=loss)

    change = max(f.change for f in fields)
    loss: list[str] = []
    consequence = {ChangeClass.IGNORE: Consequence.NONE, ChangeClass.SCALE: Consequence.RESCALE,
                   ChangeClass.UPGRADE: Consequence.RESTART,
                   ChangeClass.SAVEPOINT_REDEPLOY: Consequence.SAVEPOINT_REDEPLOY}[change]
    if change is ChangeClass.SCALE and kind == FLINK_DEPLOYMENT and mode == "standalone" and not reactive(after):
        consequence = Consequence.RESTART
        warnings.append("standalone without scheduler-mode: reactive: the operator applies the rescale as an upgrade "
                        "(job restart)")
    if change is ChangeClass.SCALE and mode == "native":
        warnings.append("native mode: per-vertex overrides are applied in place when the adaptive scheduler runs "
                        "(Flink ≥ 1.18), otherwise through an upgrade")

    state_before = _get(before, "spec", "job", "state") or "running"
    state_after = _get(after, "spec", "job", "state") or "running"
    if state_before != state_after:
        consequence = Consequence.SUSPEND if state_after == "suspended" else Consequence.RESUME

    before_mode, after_mode = _upgrade_mode(before), upgrade_mode
    if after_mode == "stateless" and before_mode not in (None, "stateless"):
        loss.append(f"upgradeMode switches from {before_mode} to stateless: "
                    + ("this restart starts the job from empty state" if consequence is Consequence.RESTART
                       else "the next upgrade of this job starts from empty state")
                    + "; keep last-state or savepoint")
    elif after_mode == "stateless" and consequence is Consequence.RESTART:
        loss.append("upgradeMode is stateless: this restart starts the job from empty state")

    b_version, a_version = _get(before, "spec", "flinkVersion"), _get(after, "spec", "flinkVersion")
    if kind == FLINK_DEPLOYMENT and b_version != a_version and _get(after, "spec", "job") is not None:
        versions = f"flinkVersion {flink_version_label(b_version)} → {flink_version_label(a_version)}"
        if after_mode != "savepoint" and consequence is not Consequence.SAVEPOINT_REDEPLOY:
            loss.append(f"{versions} with upgradeMode {after_mode}: change Flink versions through a savepoint "
                        "(FLINK-28350); set upgradeMode: savepoint for this change")
        elif flink_version_label(b_version)[:1] != flink_version_label(a_version)[:1]:
            warnings.append(f"{versions}: Flink gives no state compatibility guarantee across major versions; "
                            "test the savepoint with the new version first")
    return SpecDiff(kind=kind, change=change, consequence=consequence, fields=tuple(fields),
                    upgrade_mode=upgrade_mode, state_loss=tuple(loss), warnings=tuple(warnings))


def _rejections(kind: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Spec changes the operator's validator refuses after the first deploy (DefaultValidator, rule 9)."""
    out = []
    if kind == FLINK_DEPLOYMENT:
        if deployment_mode(before) != deployment_mode(after):
            out.append(f"Cannot switch from {deployment_mode(before)} kubernetes to {deployment_mode(after)} "
                       "kubernetes cluster")
        had_job, has_job = _get(before, "spec", "job") is not None, _get(after, "spec", "job") is not None
        if had_job != has_job:
            out.append("Cannot switch from " + ("job to session" if had_job else "session to job") + " cluster")
    elif kind == FLINK_SESSION_JOB:
        if _get(before, "spec", "deploymentName") != _get(after, "spec", "deploymentName"):
            out.append("The deploymentName can't be changed")
    return out
