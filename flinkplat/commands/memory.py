"""`flinkplat memory`: Flink's own TaskManager/JobManager memory breakdown for a config, offline.

    flinkplat memory FILE [--flink-version V] [--json]     # FILE: Flink config YAML (flat keys), '-' = stdin
    flinkplat memory --jsonl [--flink-version V]           # one JSON config object per stdin line

Exit 0 if Flink accepts both sides, 1 if it rejects either (with Flink's exact message), 2 for unreadable input.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Mapping, TextIO

from flinkplat.flink import memory
from flinkplat.versions import DEFAULT_FLINK_VERSION

EXIT_OK, EXIT_REJECTED, EXIT_UNREADABLE = 0, 1, 2


class InputError(Exception):
    """The input could not be read as a Flink configuration (exit 2)."""


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "memory",
        help="Flink's TaskManager/JobManager memory breakdown for a config",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", nargs="?", metavar="FILE", help="Flink config YAML of flat keys ('-' = stdin)")
    p.add_argument(
        "--flink-version",
        default=DEFAULT_FLINK_VERSION,
        metavar="V",
        help=f"Flink version whose rules apply, e.g. 1.20, 2.2, v2_2 (default {DEFAULT_FLINK_VERSION})",
    )
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the breakdown as JSON")
    out.add_argument("--jsonl", action="store_true", help="read JSON configs from stdin, write one breakdown per line")
    p.set_defaults(handler=run)


def _flatten(data: Mapping[Any, Any], prefix: str = "") -> dict[str, Any]:
    """Flink flattens nested YAML maps with '.'."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def _where(path: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in path) or "(top level)"


def load_config(path: str, stdin: TextIO | None = None) -> dict[str, Any]:
    from flinkplat.config import yamlfile

    name = "<stdin>" if path == "-" else path
    try:
        if path == "-":
            text = (stdin or sys.stdin).read()
        else:
            with open(path, "rb") as fh:
                text = yamlfile.decode_utf8(fh.read())
        data = yamlfile.load_yaml(text)
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot read {path}: {getattr(err, 'strerror', None) or err}") from None
    except yamlfile.YamlProblem as problem:
        raise InputError(f"{name}: {_where(problem.path)} ({problem.where}): {problem.message}") from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise InputError(f"{name} must be a YAML mapping of Flink config keys, got {type(data).__name__}")
    problems = [f"{_where(where)}: {message}" for where, message in yamlfile.value_problems(data)]
    if problems:
        raise InputError(f"{name}: " + "; ".join(problems))
    return _flatten(data)


def _mib(n: int) -> str:
    return f"{n / (1 << 20):,.2f}"


def _row(label: str, n: int) -> str:
    return f"  {label:<22} {n:>15,d} B {_mib(n):>12} MiB"


def _error_lines(title: str, err: memory.FlinkMemoryError) -> list[str]:
    lines = [f"{title}: REJECTED by Flink", f"  {err}"]
    for cause in err.causes:
        if cause != str(err) and not str(err).endswith(cause):
            lines.append(f"  caused by: {cause}")
    return lines


def render_table(conf: Mapping[str, Any], version: str, source: str = "") -> tuple[str, bool]:
    """Human-readable breakdown; returns (text, both_ok)."""
    lines = [f"Flink {version} memory breakdown{' for ' + source if source else ''}", ""]
    ok = True
    try:
        tm = memory.derive_taskmanager(conf, version)
    except memory.FlinkMemoryError as err:
        ok = False
        lines += _error_lines("TaskManager", err)
    else:
        lines += [
            "TaskManager",
            _row("Framework heap", tm.framework_heap),
            _row("Task heap", tm.task_heap),
            _row("Framework off-heap", tm.framework_off_heap),
            _row("Task off-heap", tm.task_off_heap),
            _row("Network", tm.network),
            _row("Managed", tm.managed),
            _row("JVM metaspace", tm.metaspace),
            _row("JVM overhead", tm.overhead),
            "  " + "-" * 56,
            _row("Total Flink memory", tm.total_flink),
            _row("Total process memory", tm.total_process),
            f"  JVM: -Xmx{tm.xmx} -Xms{tm.xmx} -XX:MaxDirectMemorySize={tm.max_direct} "
            f"-XX:MaxMetaspaceSize={tm.max_metaspace}",
            f"  CPU cores: {tm.cpu_cores:g}  slots: {tm.slots}",
        ]
    lines.append("")
    try:
        jm = memory.derive_jobmanager(conf, version)
    except memory.FlinkMemoryError as err:
        ok = False
        lines += _error_lines("JobManager", err)
    else:
        direct = (
            f"-XX:MaxDirectMemorySize={jm.max_direct} " if jm.max_direct is not None else ""
        )
        lines += [
            "JobManager",
            _row("JVM heap", jm.heap),
            _row("Off-heap", jm.off_heap),
            _row("JVM metaspace", jm.metaspace),
            _row("JVM overhead", jm.overhead),
            "  " + "-" * 56,
            _row("Total Flink memory", jm.total_flink),
            _row("Total process memory", jm.total_process),
            f"  JVM: -Xmx{jm.xmx} -Xms{jm.xmx} {direct}-XX:MaxMetaspaceSize={jm.max_metaspace}"
            + ("" if jm.max_direct is not None else "  (no direct memory limit)"),
        ]
    return "\n".join(lines) + "\n", ok


def _both_ok(result: Mapping[str, Mapping[str, Any]]) -> bool:
    return bool(result["tm"]["ok"] and result["jm"]["ok"])


def run_jsonl(version: str, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    """One JSON config object per input line → one breakdown JSON per output line (same order)."""
    breakdown = memory.breakdown
    dumps = json.dumps
    rejected = unreadable = False
    for lineno, line in enumerate(stdin, 1):
        if not line.strip():
            continue
        try:
            conf = json.loads(line)
            if not isinstance(conf, dict):
                raise ValueError(f"expected a JSON object, got {type(conf).__name__}")
        except (ValueError, RecursionError) as err:  # RecursionError: arrays nested thousands deep
            unreadable = True
            print(f"flinkplat memory: line {lineno}: not a JSON config object: {err}", file=stderr)
            stdout.write(dumps({"input_error": f"line {lineno}: {err}"}) + "\n")
            continue
        result = breakdown(conf, version)
        rejected = rejected or not _both_ok(result)
        stdout.write(dumps(result) + "\n")
    stdout.flush()
    if unreadable:
        return EXIT_UNREADABLE
    return EXIT_REJECTED if rejected else EXIT_OK


def run(args: argparse.Namespace, stdin: TextIO | None = None, stdout: TextIO | None = None,
        stderr: TextIO | None = None) -> int:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    version = args.flink_version
    try:
        memory.parse_flink_version(version)
    except ValueError as err:
        print(f"flinkplat memory: {err}", file=stderr)
        return EXIT_UNREADABLE

    if args.jsonl:
        if args.file not in (None, "-"):
            print("flinkplat memory: --jsonl reads configs from stdin; do not pass FILE", file=stderr)
            return EXIT_UNREADABLE
        return run_jsonl(version, stdin, stdout, stderr)

    if args.file is None:
        print("flinkplat memory: FILE is required (or use --jsonl)", file=stderr)
        return EXIT_UNREADABLE
    try:
        conf = load_config(args.file, stdin)
    except InputError as err:
        print(f"flinkplat memory: {err}", file=stderr)
        return EXIT_UNREADABLE

    if args.json:
        result = memory.breakdown(conf, version)
        stdout.write(json.dumps(result, indent=2) + "\n")
        return EXIT_OK if _both_ok(result) else EXIT_REJECTED
    text, ok = render_table(conf, version, "<stdin>" if args.file == "-" else args.file)
    stdout.write(text)
    return EXIT_OK if ok else EXIT_REJECTED
