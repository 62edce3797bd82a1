"""The rollout state file: which waves of a stack's rollout are done, so `--resume` continues from the first
unfinished wave. JSON, one file per stack (default `.flinkplat/rollout-<stack>.json` in the project)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DONE, FAILED, RUNNING = "done", "failed", "running"


class StateError(Exception):
    """The state file cannot be used (unreadable, another stack's, or the wave plan changed)."""


def default_path(root: Path, stack: str) -> Path:
    return root / ".flinkplat" / f"rollout-{stack}.json"


@dataclass
class RolloutState:
    stack: str
    shape: dict[str, list[str]]  # wave number -> cluster names, as planned when the rollout started
    waves: dict[str, dict[str, Any]] = field(default_factory=dict)  # wave number -> {status, step, reason}

    @property
    def done(self) -> set[int]:
        return {int(number) for number, entry in self.waves.items() if entry.get("status") == DONE}

    def mark(self, number: int, status: str, step: str | None = None, reason: str | None = None) -> None:
        entry: dict[str, Any] = {"status": status}
        if step:
            entry["step"] = step
        if reason:
            entry["reason"] = reason
        self.waves[str(number)] = entry

    def to_json(self) -> dict[str, Any]:
        return {"stack": self.stack, "shape": self.shape, "waves": self.waves}

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path, stack: str, shape: dict[str, list[str]]) -> "RolloutState":
        """The recorded rollout of `stack`, checked against the current wave plan."""
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise StateError(f"no rollout of stack '{stack}' is recorded in {path}; run without --resume to "
                             "start one") from None
        except (OSError, json.JSONDecodeError) as error:
            raise StateError(f"cannot read the rollout state file {path}: {error}; delete it and run without "
                             "--resume") from None
        if not isinstance(data, dict) or data.get("stack") != stack:
            other = data.get("stack") if isinstance(data, dict) else "?"
            raise StateError(f"{path} records a rollout of stack '{other}', not '{stack}'; pass the right "
                             "--state-file or run without --resume")
        if data.get("shape") != shape:
            raise StateError(f"the wave plan of stack '{stack}' changed since the recorded rollout (was "
                             f"{_describe(data.get('shape') or {})}, now {_describe(shape)}); run without --resume "
                             "to start a new rollout")
        return cls(stack=stack, shape=shape, waves=dict(data.get("waves") or {}))


def _describe(shape: dict[str, list[str]]) -> str:
    return "; ".join(f"wave {n}: {', '.join(names)}" for n, names in shape.items()) or "no waves"
