"""Memory rules, on Flink's exact memory model (`flinkplat.flink.memory`), never on rules of thumb."""

from __future__ import annotations

import re
from typing import Iterator

from flinkplat.flink.layout import DEFAULT_FLINK_MEMORY_RATIO
from flinkplat.flink.memory import FlinkMemoryError, derive_jobmanager, derive_taskmanager, parse_memory_size
from flinkplat.rules.base import ADVISORY, FLINK_DEPLOYMENT, MANDATORY, Finding, Knob, Res, Rule, message
from flinkplat.rules.flink import memory_conf, mib, view

_MB = 1 << 20
_BYTES_IN_MESSAGE = re.compile(r"\((\d+) bytes\)")


def _derive(side: str, conf: dict[str, str], version: str | None):
    return (derive_taskmanager if side == "taskmanager" else derive_jobmanager)(conf, version)


def _fix_for(side: str, error: str, conf: dict[str, str]) -> str:
    spec_key = "taskManager" if side == "taskmanager" else "jobManager"
    sizes = [int(n) for n in _BYTES_IN_MESSAGE.findall(error)]
    if "Derived JVM Overhead size" in error and len(sizes) >= 3:
        derived, low, high = sizes[0], sizes[1], sizes[2]
        if derived > high:
            return (f"raise {side}.memory.jvm-overhead.max to at least {mib(derived)}, or lower "
                    f"{side}.memory.flink.size so that process − flink − metaspace fits the overhead range "
                    f"(or remove {side}.memory.flink.size and let Flink derive it from spec.{spec_key}.resource.memory).")
        return (f"lower {side}.memory.jvm-overhead.min to at most {derived // _MB}m, or raise "
                f"spec.{spec_key}.resource.memory (or remove {side}.memory.flink.size).")
    if error.startswith(("Sum of", "TaskManager memory configuration failed: Sum of")) or "exceed" in error:
        return (f"give the container more memory (spec.{spec_key}.resource.memory) or lower the explicitly set "
                f"{side}.memory.* sizes named above; `flinkplat memory FILE` prints the full derivation.")
    return (f"make spec.{spec_key}.resource.memory and the {side}.memory.* keys of spec.flinkConfiguration "
            "consistent (set as few of them as possible); `flinkplat memory FILE` prints the full derivation.")


def check_derivable(res: Res, cfg: dict) -> Iterator[Finding]:
    flink = view(res)
    for side, label in (("taskmanager", "TaskManager"), ("jobmanager", "JobManager")):
        try:
            conf = memory_conf(flink, side)
        except ValueError:
            continue  # an unparseable resource.memory is the operator's rejection (flink-operator-validation)
        try:
            _derive(side, conf, flink.version)
        except FlinkMemoryError as error:
            yield Finding(message(
                f"Flink cannot derive the {label} memory of {res.label}: {error}",
                f"this is Flink's own check when the {label} starts, so the pod would exit at once and never run "
                "the job; the operator does not run it at admission when resource.memory is set.",
                _fix_for(side, str(error), conf)))
        except ValueError:
            continue  # an unsupported flinkVersion is reported by flink-operator-validation


def _try_flink_size(conf: dict[str, str], version: str | None, flink_size: int, extra: dict[str, str]):
    trial = {**conf, "taskmanager.memory.flink.size": f"{flink_size}b", **extra}
    try:
        return derive_taskmanager(trial, version), None
    except FlinkMemoryError as error:
        return None, str(error)


def check_ratio(res: Res, cfg: dict) -> Iterator[Finding]:
    flink = view(res)
    ratio = float(cfg["ratio"])
    try:
        conf = memory_conf(flink, "taskmanager")
        tm = derive_taskmanager(conf, flink.version)
    except (ValueError, FlinkMemoryError):
        return  # flink-memory-derivable / flink-operator-validation report these
    process = tm.total_process
    actual = tm.total_flink / process
    if actual <= ratio + float(cfg["tolerance"]):
        return
    target = (int(process * ratio) // _MB) * _MB
    what = (f"TaskManager Total Flink Memory of {res.label} is {tm.total_flink // _MB}m = {actual:.1%} of its "
            f"{process // _MB}m container; the team's ratio is at most {ratio:.0%}.")
    why = ("what is left of the container (JVM overhead, metaspace) is the headroom for native memory Flink does not "
           "account for (RocksDB beyond managed memory, Netty, thread stacks, glibc arenas); without it the "
           "TaskManager gets OOM-killed.")
    derived, error = _try_flink_size(conf, flink.version, target, {})
    if derived is not None:
        fix = (f"set taskmanager.memory.flink.size: {target // _MB}m in spec.flinkConfiguration (Flink then derives "
               f"{derived.overhead // _MB}m of JVM overhead, inside its range).")
    else:
        overhead = process - target - tm.metaspace
        if overhead > _overhead_bound(conf, "max"):
            key, value = "taskmanager.memory.jvm-overhead.max", mib(overhead)
        else:
            key, value = "taskmanager.memory.jvm-overhead.min", f"{overhead // _MB}m"
        fixed, still = _try_flink_size(conf, flink.version, target, {key: value})
        fix = (f"following the ratio naively breaks Flink at this size: taskmanager.memory.flink.size: "
               f"{target // _MB}m alone leaves {overhead // _MB}m of JVM overhead and Flink refuses to start "
               f"(\"{error}\"); set taskmanager.memory.flink.size: {target // _MB}m together with {key}: {value}"
               + (" (checked against Flink's derivation)." if fixed is not None
                  else f", and review the other memory keys (Flink still says: \"{still}\")."))
    yield Finding(message(what, why, fix))


def _overhead_bound(conf: dict[str, str], which: str) -> int:
    default = 1 << 30 if which == "max" else 192 * _MB
    text = conf.get(f"taskmanager.memory.jvm-overhead.{which}")
    if text is None:
        return default
    try:
        return parse_memory_size(text)
    except FlinkMemoryError:
        return default


def check_network(res: Res, cfg: dict) -> Iterator[Finding]:
    flink = view(res)
    minimum = int(float(cfg["minMb"])) * _MB
    try:
        tm = derive_taskmanager(memory_conf(flink, "taskmanager"), flink.version)
    except (ValueError, FlinkMemoryError):
        return
    if tm.network >= minimum:
        return
    yield Finding(message(
        f"TaskManager network memory of {res.label} is {tm.network / _MB:.1f}m, below {minimum // _MB}m.",
        "network buffers carry every record shuffled between tasks; too few throttle throughput (backpressure) and "
        "fail jobs with 'Insufficient number of network buffers' as parallelism grows.",
        f"set taskmanager.memory.network.min: {minimum // _MB}m in spec.flinkConfiguration (network memory is "
        "10% of Total Flink Memory, clamped to [min, max]) or give the TaskManager more memory."))


RULES = [
    Rule(
        name="flink-memory-derivable",
        level=MANDATORY,
        description="TaskManager and JobManager memory must be derivable by Flink's own memory model.",
        why="Flink derives every memory component when the process starts and exits on an inconsistent "
            "configuration; the operator skips this derivation when resource.memory is set.",
        fix="Make resource.memory and the *.memory.* keys consistent; the message quotes Flink's exact error.",
        check=check_derivable,
        kinds=(FLINK_DEPLOYMENT,),
    ),
    Rule(
        name="flink-memory-ratio",
        level=ADVISORY,
        description="TaskManager Total Flink Memory stays within the team's ratio of the container.",
        why="The rest of the container is headroom for native memory Flink does not track.",
        fix="Leave the TaskManager memory layout to the platform (taskManager.flinkMemoryRatio renders one that "
            "passes this rule), or set taskmanager.memory.flink.size to ratio × container; at large sizes (beyond "
            "about 4266m with the defaults) also raise taskmanager.memory.jvm-overhead.max, which the message "
            "computes and checks.",
        check=check_ratio,
        kinds=(FLINK_DEPLOYMENT,),
        knobs=(
            Knob("ratio", {"type": "number", "exclusiveMinimum": 0, "maximum": 1}, DEFAULT_FLINK_MEMORY_RATIO,
                 "Largest share of the TaskManager container for Total Flink Memory."),
            Knob("tolerance", {"type": "number", "minimum": 0, "maximum": 1}, 0.01,
                 "Slack above the ratio before the rule fires."),
        ),
    ),
    Rule(
        name="flink-network-memory",
        level=ADVISORY,
        description="Derived TaskManager network memory is at least the minimum.",
        why="Too few network buffers throttle shuffles and fail jobs at higher parallelism.",
        fix="Set taskmanager.memory.network.min, or give TaskManagers more memory.",
        check=check_network,
        kinds=(FLINK_DEPLOYMENT,),
        knobs=(Knob("minMb", {"type": "integer", "minimum": 1}, 128, "Minimum network memory in MiB."),),
    ),
]
