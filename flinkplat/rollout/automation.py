"""The `Workspace` backed by Pulumi's Automation API, which drives the real Pulumi CLI (`pulumi preview/up
--target ... --policy-pack ...`). Only imported when the CLI exists: `LocalWorkspace` runs `pulumi version` first.

The policy check reads the policy events of the wave's preview (with the project's policy pack when present) and
adds the offline plan's mandatory/advisory results for the wave's resources, so a wave is checked even where the
pack is not published.
"""

from __future__ import annotations

import runpy
import shutil
import sys
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from flinkplat.rollout.targets import ResourceRecord, records_from_state
from flinkplat.rollout.workspace import Changes, PolicyViolation, WorkspaceError


PROJECT = "flink-platform"  # Pulumi.yaml's name


def project_program(root: Path) -> Callable[[], None]:
    """The project's own `__main__.py` as an Automation API inline program: it runs in this process, so the CLI
    needs no Python language host (`pulumi-language-python`). A bad-config run ends in pulumi.error + exit(1) there,
    which becomes the RunError the engine reports as a failed program (the message is already logged)."""

    def program() -> None:
        import pulumi

        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        try:
            runpy.run_path(str(root / "__main__.py"), run_name="__main__")
        except SystemExit as exit_:
            if exit_.code not in (0, None):
                raise pulumi.RunError(f"the program exited with code {exit_.code}") from None

    return program


def pulumi_cli() -> str | None:
    """Path of the `pulumi` executable, or None when it is not installed."""
    return shutil.which("pulumi")


def _level(raw: str) -> str:
    return "mandatory" if raw == "mandatory" else "advisory"


def _counts(op_map: Mapping[Any, int] | None) -> dict[str, int]:
    return {str(getattr(op, "value", op)): int(n) for op, n in (op_map or {}).items()}


def _tail(text: str, lines: int = 12) -> str:
    return "\n".join((text or "").strip().splitlines()[-lines:])


_GENERIC = ("error: update failed", "error: preview failed", "error: destroy failed")


def _failure(text: str, lines: int = 12) -> str:
    """What went wrong in a failed `pulumi preview/up`: the engine's own `error:` lines, once each and without the
    generic "update failed"; else the output's last lines. (The last lines alone are usually the stack outputs.)"""
    found: list[str] = []
    in_error = False
    for line in (text or "").splitlines():
        stripped = line.strip()
        # an error line, or the bullets/continuation of a multi-error ("error: 2 errors occurred:" / "* …")
        if stripped.startswith("error:") or (in_error and stripped.startswith("* ")):
            if stripped not in found:
                found.append(stripped)
            in_error = True
        else:
            in_error = False
    specific = [line for line in found if line not in _GENERIC] or found
    return "\n".join(specific[:lines]) if specific else _tail(text, lines)


class AutomationWorkspace:
    def __init__(self, stack: str, work_dir: Path, *, policy_packs: Sequence[Path] = (),
                 policy_pack_configs: Sequence[Path] = (), offline_violations: Iterable[Mapping[str, Any]] = (),
                 names_by_urn: Mapping[str, str] | None = None, on_output: Callable[[str], None] | None = None,
                 stack_handle: Any = None, program: Callable[[], None] | None = None):
        """`work_dir`: the Pulumi project directory holding Pulumi.yaml and Pulumi.<stack>.yaml. `program`: run this
        inline program (see project_program) instead of the one the CLI's language host would start.
        `stack_handle`: an `automation.Stack` (default: selected from `work_dir`, which runs the Pulumi CLI)."""
        from pulumi import automation as auto

        self._auto = auto
        self.stack_name = stack
        if stack_handle is None:
            try:
                if program is not None:
                    stack_handle = auto.select_stack(stack_name=stack, project_name=PROJECT, program=program,
                                                     opts=auto.LocalWorkspaceOptions(work_dir=str(work_dir)))
                else:
                    stack_handle = auto.select_stack(stack_name=stack, work_dir=str(work_dir))
            except auto.CommandError as error:
                raise WorkspaceError(f"cannot select stack '{stack}' in {work_dir} (is the CLI logged in to the "
                                     f"stack's backend, and does the stack exist? `pulumi stack ls`): "
                                     f"{_tail(str(error), 4)}") from None
        self._stack = stack_handle
        self.policy_packs = [str(p) for p in policy_packs]
        self.policy_pack_configs = [str(p) for p in policy_pack_configs]
        self.offline_violations = list(offline_violations)
        self.names_by_urn = dict(names_by_urn or {})
        self.on_output = on_output
        self._policy_events: dict[tuple[str, ...], list[PolicyViolation]] = {}

    def config_value(self, key: str) -> str:
        """A (decrypted) stack config value, e.g. a secret kubeconfig for the health gate."""
        return self._stack.get_config(key).value

    def current_resources(self) -> list[ResourceRecord]:
        try:
            exported = self._stack.export_stack()
        except self._auto.CommandError as error:
            raise WorkspaceError(f"pulumi stack export failed: {_tail(str(error))}") from None
        return records_from_state(exported.deployment or {})

    def _policy_args(self) -> dict[str, Any]:
        args: dict[str, Any] = {}
        if self.policy_packs:
            args["policy_packs"] = self.policy_packs
        if self.policy_pack_configs:
            args["policy_pack_configs"] = self.policy_pack_configs
        return args

    def preview(self, targets: Sequence[str]) -> Changes:
        events: list[PolicyViolation] = []

        def collect(event: Any) -> None:
            policy = getattr(event, "policy_event", None)
            if policy is not None:
                events.append(PolicyViolation(policy.policy_name, _level(policy.enforcement_level),
                                              policy.resource_urn or "(stack)", policy.message))

        try:
            result = self._stack.preview(target=list(targets), on_event=collect, on_output=self.on_output,
                                         color="never", **self._policy_args())
        except self._auto.CommandError as error:
            self._policy_events[tuple(targets)] = events
            if any(e.level == "mandatory" for e in events):  # the CLI fails a preview on mandatory violations
                return Changes({})
            raise WorkspaceError(_failure(str(error))) from None
        self._policy_events[tuple(targets)] = events
        return Changes(_counts(result.change_summary))

    def check_policies(self, targets: Sequence[str]) -> list[PolicyViolation]:
        if tuple(targets) not in self._policy_events:
            self.preview(targets)
        found = list(self._policy_events[tuple(targets)])
        wanted = set(targets) | {self.names_by_urn[u] for u in targets if u in self.names_by_urn}
        for violation in self.offline_violations:
            if violation.get("resource") in wanted:
                found.append(PolicyViolation(violation.get("policy", "?"), _level(violation.get("level", "")),
                                             violation["resource"], violation.get("message", "")))
        return found

    def up(self, targets: Sequence[str]) -> Changes:
        try:
            result = self._stack.up(target=list(targets), on_output=self.on_output, color="never",
                                    **self._policy_args())
        except self._auto.CommandError as error:
            raise WorkspaceError(_failure(str(error))) from None
        return Changes(_counts(result.summary.resource_changes))
