"""What the rollout needs from Pulumi, as a protocol: preview, policy check and up, each limited to a wave's target
URNs, plus the stack's current resources. `flinkplat.rollout.automation` implements it with the Automation API
(which drives the real Pulumi CLI); tests use fakes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, Sequence

from flinkplat.rollout.targets import ResourceRecord


@dataclass(frozen=True)
class PolicyViolation:
    policy: str
    level: str  # mandatory | advisory
    resource: str
    message: str

    def __str__(self) -> str:
        return f"[{self.level}] {self.policy} on {self.resource}: {self.message}"


@dataclass(frozen=True)
class Changes:
    """Resource operation counts of a preview or an up, e.g. {"create": 3, "update": 1, "same": 40}."""

    counts: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        shown = {op: n for op, n in sorted(self.counts.items()) if n and op != "same"}
        return ", ".join(f"{n} to {op}" for op, n in shown.items()) or "no changes"


class WorkspaceError(Exception):
    """A Pulumi operation failed; the message says which and why."""


class Workspace(Protocol):
    def current_resources(self) -> list[ResourceRecord]:
        """The stack's resources as they exist now (for the deletes a wave must target)."""
        ...

    def preview(self, targets: Sequence[str]) -> Changes:
        """`pulumi preview --target ...`. Raises WorkspaceError."""
        ...

    def check_policies(self, targets: Sequence[str]) -> list[PolicyViolation]:
        """Policy results for the targeted resources (mandatory ones stop the wave). Raises WorkspaceError."""
        ...

    def up(self, targets: Sequence[str]) -> Changes:
        """`pulumi up --target ...` of exactly these URNs. Raises WorkspaceError."""
        ...
