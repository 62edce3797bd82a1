"""The shape of a rule, the resource view rules read, and small readers for props as pulumi-policy passes them.

Rules are plain functions over `Res` (one resource) or `Stack` (every resource). They never import Pulumi: the
policy pack (`policies/`) and `flinkplat plan` wrap them through `flinkplat.plan.policies`, components and tests
call them directly with plain dicts.

Props arrive the way pulumi-policy passes them: camelCase keys, every number a float (`3` → `3.0`), read-only
`Mapping`/`Sequence` proxies instead of dicts, and, during a preview, unknown values. Reading an unknown through a
pulumi-policy proxy raises its own error (the analyzer turns it into a "can't run policy … during preview" note);
reading one of the raw sentinels from a plain dict raises `UnknownAtPreview`, which the pack adapter turns into the
same note. A rule therefore never passes silently because a value was unknown.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence  # (typing's aliases make isinstance 5x slower)
from dataclasses import dataclass, field
from typing import Any

MANDATORY, ADVISORY, DISABLED = "mandatory", "advisory", "disabled"
LEVELS = (ADVISORY, MANDATORY, "remediate", DISABLED)

FLINK_DEPLOYMENT = "kubernetes:flink.apache.org/v1beta1:FlinkDeployment"
FLINK_SESSION_JOB = "kubernetes:flink.apache.org/v1beta1:FlinkSessionJob"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
NAMESPACE = "kubernetes:core/v1:Namespace"
SERVICE = "kubernetes:core/v1:Service"
HPA_TYPES = ("kubernetes:autoscaling/v2:HorizontalPodAutoscaler",)
SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject"

# The sentinels the Pulumi engine puts in place of values it cannot know during a preview (protocol constants).
UNKNOWN_SENTINELS = {
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7": "boolean",
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421": "number",
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9": "string",
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2": "Array",
    "030794c1-ac77-496b-92df-f27374a8bd58": "asset",
    "e48ece36-62e2-4504-bad9-02848725956a": "archive",
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff": "Object",
}


class UnknownAtPreview(Exception):
    """A value a rule needs is not known until `pulumi up` (reported as an advisory "unknown at preview" note)."""

    def __init__(self, sentinel: str, path: Sequence[Any]):
        self.sentinel = sentinel
        self.path = [str(p) for p in path]
        kind = UNKNOWN_SENTINELS.get(sentinel, "value")
        super().__init__(f"{kind} value at .{'.'.join(self.path)} can't be known during preview")


def is_unknown(value: Any) -> bool:
    return isinstance(value, str) and value in UNKNOWN_SENTINELS


_MISSING = object()


def get(obj: Any, *path: Any, default: Any = None) -> Any:
    """`get(props, "spec", "job", "parallelism")`: walk Mappings/Sequences; `default` when a step is missing.

    Raises UnknownAtPreview when the value (or a step on the way) is unknown at preview."""
    current = obj
    for depth, step in enumerate(path):
        if is_unknown(current):
            raise UnknownAtPreview(current, path[:depth])
        if isinstance(current, Mapping):
            if step not in current:
                return default
            current = current[step]
        elif isinstance(current, Sequence) and not isinstance(current, str) and isinstance(step, int):
            if not -len(current) <= step < len(current):
                return default
            current = current[step]
        else:
            return default
    if is_unknown(current):
        raise UnknownAtPreview(current, path)
    return default if current is None else current


def plain(value: Any, path: tuple = ()) -> Any:
    """A deep plain copy (dict/list) of a props proxy; raises UnknownAtPreview on any unknown inside."""
    if is_unknown(value):
        raise UnknownAtPreview(value, path)
    if isinstance(value, Mapping):
        return {key: plain(value[key], (*path, key)) for key in value}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [plain(value[i], (*path, i)) for i in range(len(value))]
    return value


def as_int(value: Any) -> int | None:
    """3, 3.0, "3" → 3; None/""/non-integral → None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value) if float(value).is_integer() else None
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return int(number) if math.isfinite(number) and number.is_integer() else None


def as_float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(str(value).strip()) if not isinstance(value, (int, float)) else float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def as_bool(value: Any, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() == "true"


def fmt_number(value: float | int) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:g}"


def message(what: str, why: str, fix: str) -> str:
    """Every violation says what is wrong, why it matters and what to change."""
    return f"{what} Why: {why} Fix: {fix}"


# ---------------------------------------------------------------------------------------------------------------
# Resources
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class Res:
    """One resource as a rule sees it (built from pulumi-policy's args, from a plan, or by hand in tests)."""

    type: str
    props: Mapping[str, Any]
    urn: str = ""
    name: str = ""
    provider: str = ""  # the provider's URN (or a label): resources with the same provider share a cluster
    ignore_changes: Sequence[str] = ()
    dependencies: Sequence[str] = ()  # URNs

    @property
    def kind(self) -> str:
        return self.type.rsplit(":", 1)[-1]

    @property
    def metadata(self) -> Mapping[str, Any]:
        return get(self.props, "metadata", default={})

    @property
    def object_name(self) -> str:
        return str(get(self.props, "metadata", "name", default=self.name))

    @property
    def namespace(self) -> str:
        return str(get(self.props, "metadata", "namespace", default="default"))

    @property
    def label(self) -> str:
        """How messages name the resource: Kind namespace/name."""
        if self.type.startswith("kubernetes:"):
            return f"{self.kind} {self.namespace}/{self.object_name}"
        return f"{self.kind} {self.name}"

    @property
    def key(self) -> str:
        return self.urn or self.name

    @classmethod
    def manifest(cls, manifest: Mapping[str, Any], *, provider: str = "", name: str | None = None,
                 ignore_changes: Sequence[str] = ()) -> "Res":
        """A Kubernetes manifest as a resource (tests, components)."""
        api = manifest["apiVersion"]
        group_version = api if "/" in api else f"core/{api}"
        type_ = f"kubernetes:{group_version}:{manifest['kind']}"
        meta = manifest.get("metadata", {})
        logical = name or f"{meta.get('namespace', 'default')}/{meta.get('name', '')}"
        return cls(type=type_, props=manifest, urn=f"urn:pulumi:test::test::{type_}::{logical}", name=logical,
                   provider=provider, ignore_changes=tuple(ignore_changes))


@dataclass
class Stack:
    """Every resource of a stack (stack validation)."""

    resources: list[Res]

    def of_type(self, *types: str) -> list[Res]:
        return [r for r in self.resources if r.type in types]

    def by_urn(self) -> dict[str, Res]:
        return {r.urn: r for r in self.resources if r.urn}


@dataclass
class Finding:
    """One violation. `resource` is what it is reported on; `waivable_by` the FlinkDeployments whose waivers can
    waive it (all of them must)."""

    message: str
    resource: Res | None = None
    waivable_by: tuple[Res, ...] = ()


# ---------------------------------------------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Knob:
    """A configurable threshold of a rule (a pack config property with a JSON schema and a default)."""

    name: str
    schema: Mapping[str, Any]  # JSON schema of the value, without the default
    default: Any
    description: str

    def json_schema(self) -> dict[str, Any]:
        return {**self.schema, "default": self.default, "description": self.description}


Check = Callable[..., Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    name: str
    level: str  # default enforcement level
    description: str  # one line: what the rule checks
    why: str
    fix: str
    check: Check  # resource rules: check(res, cfg); stack rules: check(stack, cfg)
    kinds: tuple[str, ...] = ()  # resource type tokens a resource rule looks at
    scope: str = "resource"  # resource | stack
    knobs: tuple[Knob, ...] = ()
    notes: str = ""  # extra documentation (docs/policies.md)
    waivable: bool = True  # False: a stack-file waiver never silences it (a plain secret stays a secret)

    def defaults(self) -> dict[str, Any]:
        return {knob.name: knob.default for knob in self.knobs}

    def config(self, given: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return {**self.defaults(), **dict(given or {})}

    def schema_properties(self) -> dict[str, dict[str, Any]]:
        return {knob.name: knob.json_schema() for knob in self.knobs}

    def run(self, target: Res | Stack, config: Mapping[str, Any] | None = None) -> list[Finding]:
        """Run the rule directly (no waivers, no levels): what tests and components call."""
        cfg = self.config(config)
        if self.scope == "resource":
            assert isinstance(target, Res)
            if target.type not in self.kinds:
                return []
            return [f if f.resource else Finding(f.message, target, f.waivable_by or (target,))
                    for f in self.check(target, cfg)]
        assert isinstance(target, Stack)
        return list(self.check(target, cfg))


def messages(findings: Iterable[Finding]) -> list[str]:
    return [f.message for f in findings]


@dataclass
class RuleSet:
    rules: list[Rule] = field(default_factory=list)

    def __iter__(self):
        return iter(self.rules)

    def names(self) -> list[str]:
        return [rule.name for rule in self.rules]

    def get(self, name: str) -> Rule:
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise KeyError(name)
