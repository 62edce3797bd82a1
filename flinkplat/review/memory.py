"""TaskManager memory before and after a change, derived exactly as Flink does (`flinkplat.flink.memory`), for the
review's table and chart. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from flinkplat.flink.diff import flink_version_label
from flinkplat.flink.memory import FlinkMemoryError, TaskManagerMemory, derive_taskmanager

# (field, label, chart glyph) in the order Flink lays the process out.
COMPONENTS = (
    ("framework_heap", "Framework heap", "█"),
    ("task_heap", "Task heap", "█"),
    ("managed", "Managed", "▓"),
    ("network", "Network", "▒"),
    ("framework_off_heap", "Framework off-heap", "░"),
    ("task_off_heap", "Task off-heap", "░"),
    ("metaspace", "JVM metaspace", "·"),
    ("overhead", "JVM overhead", "·"),
)
LEGEND = "█ heap  ▓ managed  ▒ network  ░ off-heap  · metaspace + overhead"
MEMORY_PREFIXES = ("taskmanager.memory.", "taskmanager.numberOfTaskSlots", "taskmanager.network.",
                   "taskmanager.heap.")


@dataclass(frozen=True)
class Side:
    """One side (before or after) of a TaskManager: its inputs and Flink's derivation (or Flink's refusal)."""

    process_size: str | None
    flink_version: str
    replicas: Any
    memory: TaskManagerMemory | None
    error: str | None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"processSize": self.process_size, "flinkVersion": self.flink_version,
                               "replicas": self.replicas}
        if self.memory is not None:
            out["bytes"] = {name: getattr(self.memory, name) for name, _, _ in COMPONENTS}
            out["bytes"]["total_process"] = self.memory.total_process
            out["jvm"] = self.memory.jvm_args()
        if self.error is not None:
            out["error"] = self.error
        return out


@dataclass(frozen=True)
class MemoryChange:
    cluster: str
    object_name: str
    before: Side | None
    after: Side | None

    def to_json(self) -> dict[str, Any]:
        return {"cluster": self.cluster, "object": self.object_name,
                "before": self.before.to_json() if self.before else None,
                "after": self.after.to_json() if self.after else None}


def side(manifest: Mapping[str, Any] | None) -> Side | None:
    """Flink's derivation for a FlinkDeployment manifest: spec.flinkConfiguration plus
    `taskmanager.memory.process.size` = spec.taskManager.resource.memory (what the operator passes to Flink)."""
    if not manifest:
        return None
    spec = manifest.get("spec") or {}
    task_manager = spec.get("taskManager") or {}
    conf = dict(spec.get("flinkConfiguration") or {})
    process = (task_manager.get("resource") or {}).get("memory")
    if process is not None:
        conf["taskmanager.memory.process.size"] = process
    version = flink_version_label(spec.get("flinkVersion"))
    try:
        memory, error = derive_taskmanager(conf, version), None
    except FlinkMemoryError as err:
        memory, error = None, str(err)
    except ValueError as err:  # an unknown Flink version: say so instead of failing the report
        memory, error = None, f"cannot derive memory: {err}"
    return Side(process_size=process, flink_version=version, replicas=task_manager.get("replicas"), memory=memory,
                error=error)


def relevant(fields: list[tuple[str, Any, Any]]) -> bool:
    """Did the change touch what a TaskManager is made of?"""
    for path, _, _ in fields:
        if path.startswith("spec.taskManager") or path == "spec.flinkVersion":
            return True
        if path.startswith("spec.flinkConfiguration"):
            key = path.removeprefix("spec.flinkConfiguration").strip('[]."')
            if key.startswith(MEMORY_PREFIXES):
                return True
    return False


def format_mib(value: int) -> str:
    return f"{value / (1 << 20):,.1f} MiB"


def format_delta(before: int | None, after: int | None) -> str:
    if before is None or after is None or before == after:
        return ""
    delta = after - before
    sign = "+" if delta > 0 else "−"
    return f"{sign}{abs(delta) / (1 << 20):,.1f} MiB"


def bar(memory: TaskManagerMemory, scale: float, width: int) -> str:
    """A stacked bar of the process, `scale` bytes per character."""
    out = []
    carry = 0.0
    for name, _, glyph in COMPONENTS:
        exact = getattr(memory, name) / scale + carry
        count = int(exact)
        carry = exact - count
        out.append(glyph * count)
    text = "".join(out)
    return text[:width]


def chart(change: MemoryChange, width: int = 48) -> list[str]:
    """A few lines of unicode chart, before above after, on one scale."""
    sides = [(label, s) for label, s in (("before", change.before), ("after", change.after)) if s is not None]
    sizes = [s.memory.total_process for _, s in sides if s.memory is not None]
    if not sizes:
        return []
    scale = max(sizes) / width
    lines = []
    for label, s in sides:
        if s.memory is None:
            lines.append(f"{label:<6} {s.process_size or '?':>6} ✖ Flink refuses this configuration")
        else:
            lines.append(f"{label:<6} {s.process_size or '?':>6} ▕{bar(s.memory, scale, width)}▏")
    lines.append(f"{'':<13} {LEGEND}")
    return lines
