"""The TaskManager memory layout the platform renders when the stack gives only a container size.

Flink's own derivation gives Total Flink Memory 80-90 % of a mid-size or large container (4096m → 3430m, 83.7 %), which
leaves little headroom for native memory Flink does not account for (RocksDB beyond managed memory, Netty, thread
stacks, glibc arenas). The platform therefore sets `taskmanager.memory.flink.size` to `ratio` × the container, and
— where the JVM overhead that leaves falls outside Flink's legal range — the matching `jvm-overhead.max` (or
`.min`), so that the result satisfies the `flink-memory-ratio` rule and Flink's own derivation. Every layout is
checked with `flinkplat.flink.memory.derive_taskmanager` before it is used; nothing is rendered when Flink's default
derivation already satisfies the ratio (small containers) or when the user set the layout in flinkConfiguration.
"""

from __future__ import annotations

from typing import Mapping

from flinkplat.flink.keys import conf_value
from flinkplat.flink.memory import _MB, FlinkMemoryError, derive_taskmanager

# The platform's default share (TaskManager.flink_memory_ratio) and the flink-memory-ratio rule's default knob:
# one number, so that what the platform renders passes the platform's own rule.
DEFAULT_FLINK_MEMORY_RATIO = 0.7
FLINK_SIZE_KEY = "taskmanager.memory.flink.size"
OVERHEAD_MIN_KEY = "taskmanager.memory.jvm-overhead.min"
OVERHEAD_MAX_KEY = "taskmanager.memory.jvm-overhead.max"
PROCESS_SIZE_KEY = "taskmanager.memory.process.size"

# Keys that decide the split of the container themselves: when the user sets any, the layout is theirs (the
# flink-memory-ratio rule still reviews it). Deprecated aliases count too: Flink honours them.
USER_LAYOUT_KEYS = (
    FLINK_SIZE_KEY,
    "taskmanager.memory.task.heap.size",
    "taskmanager.memory.managed.size",
    "taskmanager.memory.size",
    "taskmanager.heap.size",
    "taskmanager.heap.mb",
    OVERHEAD_MIN_KEY,
    OVERHEAD_MAX_KEY,
    "taskmanager.memory.jvm-overhead.fraction",
)


def _mib_up(n: int) -> int:
    return -(-n // _MB)


def taskmanager_layout(process_bytes: int, ratio: float | None, user_conf: Mapping[str, str],
                       flink_version: str | None) -> dict[str, str]:
    """The `taskmanager.memory.*` keys the platform adds to flinkConfiguration ({} = leave it to Flink).

    `process_bytes` is the container (`taskManager.memory`), `ratio` the largest share of it for Total Flink
    Memory (None: never add anything), `user_conf` the cluster's own flinkConfiguration (other memory keys such
    as `jvm-metaspace.size` or `managed.fraction` are honoured by the check).
    """
    if ratio is None or any(key in user_conf for key in USER_LAYOUT_KEYS):
        return {}
    base = {**{k: conf_value(v) for k, v in user_conf.items() if k.startswith("taskmanager.")},
            PROCESS_SIZE_KEY: f"{process_bytes}b"}
    try:
        default = derive_taskmanager(base, flink_version)
    except (FlinkMemoryError, ValueError):
        return {}  # Flink rejects the user's keys anyway: flink-memory-derivable reports it with Flink's words
    if default.total_flink <= process_bytes * ratio:
        return {}  # Flink's default split already leaves the headroom (containers below about 1494m)
    flink_mib = int(process_bytes * ratio) // _MB
    layout = {FLINK_SIZE_KEY: f"{flink_mib}m"}
    overhead = process_bytes - flink_mib * _MB - default.metaspace
    if overhead > 1 << 30:  # Flink's default jvm-overhead.max: raise it to exactly what the split leaves
        layout[OVERHEAD_MAX_KEY] = f"{_mib_up(overhead)}m"
    elif overhead < 192 * _MB:  # Flink's default jvm-overhead.min
        layout[OVERHEAD_MIN_KEY] = f"{overhead // _MB}m"
    try:
        derived = derive_taskmanager({**base, **layout}, flink_version)
    except FlinkMemoryError:
        return {}
    if derived.total_flink > process_bytes * ratio:
        return {}
    return layout
