"""Client for the Flink memory oracle (MemoryOracle.java) plus the random config corpus used to test
flinkplat.flink.memory against it.

    python scripts/flink_oracle/memory_oracle.py [--version 1.20.3] [--count 5000] [--seed 1]

runs the corpus through Flink's own code and through our model and prints every disagreement (exit 1 if any).
Run scripts/flink_oracle/setup.sh first. Imported by tests/flink/test_memory_oracle.py and verify_cli.py.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterable

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from flinkplat.flink import memory  # noqa: E402

MiB = 1 << 20


def cache_root() -> Path:
    base = os.environ.get("FLINKPLAT_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "flink-platform")
    return Path(base) / "flink-oracle"


def classpath(version: str) -> str | None:
    """Classpath for one oracle version, or None if setup.sh has not run for it."""
    d = cache_root() / version
    parts = [d / "bash-java-utils.jar", d / f"flink-dist-{version}.jar", d / "classes"]
    if not all(p.exists() for p in parts) or not (d / "classes" / "MemoryOracle.class").exists():
        return None
    return os.pathsep.join(str(p) for p in parts)


def java_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("FLINK_TM_HEAP", None)  # Flink 1.x would read these
    env.pop("FLINK_JM_HEAP", None)
    env.pop("JAVA_TOOL_OPTIONS", None)  # would print "Picked up ..." noise
    return env


def run_batch(version: str, configs: list[dict[str, Any]], timeout: float = 600) -> list[dict[str, Any]]:
    """Run all configs through Flink's code in ONE JVM; returns one {"tm": ..., "jm": ...} per config.

    String values reach Flink as strings; ints, floats and bools as the Integer/Long/Double/Boolean objects
    Flink's standard-YAML loader would store."""
    cp = classpath(version)
    if cp is None:
        raise RuntimeError(f"Flink oracle {version} not set up; run scripts/flink_oracle/setup.sh")
    stdin = "".join(json.dumps(c, ensure_ascii=True) + "\n" for c in configs)
    proc = subprocess.run(
        ["java", "-Xss4m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", cp, "MemoryOracle"],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=java_env(),
        timeout=timeout,
    )
    results = [json.loads(line[len("ORACLE\t"):]) for line in proc.stdout.splitlines() if line.startswith("ORACLE\t")]
    if proc.returncode != 0 or len(results) != len(configs):
        raise RuntimeError(
            f"oracle {version} failed (exit {proc.returncode}, {len(results)}/{len(configs)} results): "
            f"{proc.stderr[-2000:]}"
        )
    return results


# ---------------------------------------------------------------------------------------------------------------
#  Normalised results (Flink's output and ours in the same shape)
# ---------------------------------------------------------------------------------------------------------------

_TM_DYN = {
    "taskmanager.memory.framework.heap.size": "framework_heap",
    "taskmanager.memory.task.heap.size": "task_heap",
    "taskmanager.memory.framework.off-heap.size": "framework_off_heap",
    "taskmanager.memory.task.off-heap.size": "task_off_heap",
    "taskmanager.memory.network.min": "network",
    "taskmanager.memory.network.max": "network",
    "taskmanager.memory.managed.size": "managed",
    "taskmanager.memory.jvm-metaspace.size": "metaspace",
    "taskmanager.memory.jvm-overhead.min": "overhead",
    "taskmanager.memory.jvm-overhead.max": "overhead",
}
_JM_DYN = {
    "jobmanager.memory.heap.size": "heap",
    "jobmanager.memory.off-heap.size": "off_heap",
    "jobmanager.memory.jvm-metaspace.size": "metaspace",
    "jobmanager.memory.jvm-overhead.min": "overhead",
    "jobmanager.memory.jvm-overhead.max": "overhead",
}


def parse_dynamic_configs(dyn: str) -> dict[str, str]:
    out: dict[str, str] = {}
    parts = dyn.split("-D ")
    for part in parts[1:]:
        key, _, value = part.strip().partition("=")
        out[key] = value
    return out


def _from_dyn(dyn: str, mapping: dict[str, str]) -> dict[str, Any]:
    raw = parse_dynamic_configs(dyn)
    out: dict[str, Any] = {}
    for key, field in mapping.items():
        value = int(raw[key].removesuffix("b"))
        if field in out and out[field] != value:
            raise AssertionError(f"{key}={value} disagrees with {field}={out[field]}")
        out[field] = value
    if "taskmanager.cpu.cores" in raw:
        out["cpu_cores"] = float(raw["taskmanager.cpu.cores"])
        out["slots"] = int(raw["taskmanager.numberOfTaskSlots"])
    return out


def normalise_java(side: dict[str, Any], which: str) -> dict[str, Any]:
    if side["ok"]:
        out = {"ok": True, "jvm": side["jvm"]}
        out.update(_from_dyn(side["dyn"], _TM_DYN if which == "tm" else _JM_DYN))
        return out
    chain = []
    for c in side["causes"]:
        cls, _, msg = c.partition(": ")
        chain.append([cls, msg])
    return {"ok": False, "class": side["class"], "error": side["error"], "chain": chain}


def normalise_ours(conf: dict[str, Any], version: str, which: str) -> dict[str, Any]:
    try:
        if which == "tm":
            tm = memory.derive_taskmanager(conf, version)
            return {
                "ok": True,
                "jvm": tm.jvm_args(),
                "framework_heap": tm.framework_heap,
                "task_heap": tm.task_heap,
                "framework_off_heap": tm.framework_off_heap,
                "task_off_heap": tm.task_off_heap,
                "network": tm.network,
                "managed": tm.managed,
                "metaspace": tm.metaspace,
                "overhead": tm.overhead,
                "cpu_cores": tm.cpu_cores,
                "slots": tm.slots,
            }
        jm = memory.derive_jobmanager(conf, version)
        return {
            "ok": True,
            "jvm": jm.jvm_args(),
            "heap": jm.heap,
            "off_heap": jm.off_heap,
            "metaspace": jm.metaspace,
            "overhead": jm.overhead,
        }
    except memory.FlinkMemoryError as err:
        return {"ok": False, "class": err.java_class, "error": str(err), "chain": [list(c) for c in err.chain]}


def compare(version: str, configs: list[dict[str, str]], results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """All disagreements between Flink (results) and our model for the given configs."""
    diffs = []
    for i, (conf, res) in enumerate(zip(configs, results)):
        for which in ("tm", "jm"):
            theirs = normalise_java(res[which], which)
            ours = normalise_ours(conf, version, which)
            if theirs != ours:
                diffs.append({"index": i, "side": which, "config": conf, "flink": theirs, "ours": ours})
    return diffs


# ---------------------------------------------------------------------------------------------------------------
#  Random corpus
# ---------------------------------------------------------------------------------------------------------------

BAD_SIZES = [
    "1.5g", "-1g", "2Gi", "512Mi", "abc", "", "   ", "m", "99999999999999999999", "9223372036854775807k",
    "8388608t", "1 g b", "10 xb", "0x10m", "+1g", "1e9", "١٢٨m",
]
BAD_FRACTIONS = [
    "abc", "", "1", "1.0", "1.5", "-0.1", "-0", "NaN", "Infinity", "-Infinity", "0.1.2", "..5", "1e", "e5",
    "0,3", "50%", "2", "1e10", "0x1p-2", "0x.8p0", "0.3f", "0.3d", " 0.2 ", "+.25", "1e-50", "0.99999999",
    "0.9999999", "3.4e39", "1_0",
]
GOOD_FRACTIONS = ["0", "0.0", "0.05", "0.1", "0.15", "0.2", "0.25", "0.3", "0.33", "0.4", "0.45", "0.5", "0.6",
                  "0.7", "0.75", "0.8", "0.9", "0.95", "0.123456789", ".3", "1e-3", "2.5E-1", "0.01"]


def render_size(rng: random.Random, n: int) -> str:
    """A memory size string for exactly n bytes, in a random unit spelling Flink accepts."""
    options = [str(n), f"{n}b", f"{n} bytes"]
    for names, mult in ((("k", "kb", "KB", "kibibytes"), 1 << 10), (("m", "mb", "M", "MB", "mebibytes"), 1 << 20),
                        (("g", "gb", "G", "GB", "gibibytes"), 1 << 30), (("t", "tb", "T"), 1 << 40)):
        if n % mult == 0:
            for name in names:
                options.append(f"{n // mult}{name}")
                options.append(f"{n // mult} {name}")
    if n % (1 << 20) == 0:  # favour the common spellings
        options += [f"{n >> 20}m"] * 6
    return rng.choice(options)


def _mib(rng: random.Random, lo: int, hi: int) -> int:
    return rng.randint(lo, hi) * MiB


def _bytes(rng: random.Random, lo_mib: int, hi_mib: int) -> int:
    if rng.random() < 0.75:
        return _mib(rng, lo_mib, hi_mib)
    return rng.randint(lo_mib * MiB, hi_mib * MiB)


def _size(rng: random.Random, lo_mib: int, hi_mib: int, bad: float = 0.02) -> str:
    if rng.random() < bad:
        return rng.choice(BAD_SIZES)
    return render_size(rng, _bytes(rng, lo_mib, hi_mib))


def _fraction(rng: random.Random, bad: float = 0.05) -> str:
    if rng.random() < bad:
        return rng.choice(BAD_FRACTIONS)
    if rng.random() < 0.6:
        return rng.choice(GOOD_FRACTIONS)
    return repr(round(rng.random() * 0.9, rng.randint(1, 9)))


def random_config(rng: random.Random) -> dict[str, str]:
    """One random Flink config with TaskManager and JobManager memory keys (strings only)."""
    c: dict[str, str] = {}
    p = rng.random

    # ---- TaskManager: the main sizes
    mode = rng.choices(["P", "F", "FG", "PF", "none", "legacy", "all"], [40, 18, 14, 12, 3, 8, 5])[0]
    process = _bytes(rng, 600, 65536)
    if mode in ("P", "PF", "all"):
        c["taskmanager.memory.process.size"] = render_size(rng, process) if p() > 0.02 else rng.choice(BAD_SIZES)
    if mode in ("F", "PF", "all") or (mode == "FG" and p() < 0.4):
        if mode == "PF" and p() < 0.7:  # near the legal band: P - F - 256m in [192m, 1g]
            flink = process - 256 * MiB - rng.randint(100 * MiB, 1200 * MiB)
            flink = max(flink, MiB)
        else:
            flink = _bytes(rng, 300, 49152)
        c["taskmanager.memory.flink.size"] = render_size(rng, flink) if p() > 0.02 else rng.choice(BAD_SIZES)
    if mode in ("FG", "all") or (mode in ("F", "P") and p() < 0.25):
        c["taskmanager.memory.task.heap.size"] = _size(rng, 0, 16384)
    if mode in ("FG", "all") or (mode in ("F", "P") and p() < 0.25):
        key = "taskmanager.memory.size" if p() < 0.15 else "taskmanager.memory.managed.size"
        c[key] = _size(rng, 0, 16384)
    if mode == "legacy" or p() < 0.03:
        if p() < 0.6:
            c["taskmanager.heap.size"] = _size(rng, 256, 16384, bad=0.1)
        else:
            c["taskmanager.heap.mb"] = rng.choice([str(rng.randint(256, 16384)), "-1", "abc", "1.5", "0"])

    # ---- TaskManager: the other components
    if p() < 0.15:
        c["taskmanager.memory.framework.heap.size"] = _size(rng, 0, 1024)
    if p() < 0.15:
        c["taskmanager.memory.framework.off-heap.size"] = _size(rng, 0, 1024)
    if p() < 0.2:
        c["taskmanager.memory.task.off-heap.size"] = _size(rng, 0, 4096)
    if p() < 0.2:
        c["taskmanager.memory.managed.fraction"] = _fraction(rng)
    net = rng.random()
    prefix = "taskmanager.network.memory." if p() < 0.3 else "taskmanager.memory.network."
    if net < 0.3:
        lo = _bytes(rng, 0, 2048)
        c[prefix + "min"] = render_size(rng, lo) if p() > 0.02 else rng.choice(BAD_SIZES)
        if p() < 0.7:
            c[prefix + "max"] = render_size(rng, lo if p() < 0.3 else _bytes(rng, 0, 8192))
    if net > 0.75:
        c[prefix + "fraction"] = _fraction(rng)
    if p() < 0.1:
        c["taskmanager.network.numberOfBuffers"] = rng.choice(
            [str(rng.randint(1, 200000)), "2048", "4096", "-1", "x", "0"]
        )
        if p() < 0.3:
            c["taskmanager.memory.segment-size"] = rng.choice(["32kb", "64kb", "4kb", "2kb", "48kb", "1g", "4g"])
    if p() < 0.15:
        c["taskmanager.memory.jvm-metaspace.size"] = _size(rng, 64, 2048)
    if p() < 0.2:
        c["taskmanager.memory.jvm-overhead.min"] = _size(rng, 0, 1024)
    if p() < 0.2:
        c["taskmanager.memory.jvm-overhead.max"] = _size(rng, 128, 8192)
    if p() < 0.2:
        c["taskmanager.memory.jvm-overhead.fraction"] = _fraction(rng)
    if p() < 0.25:
        c["taskmanager.numberOfTaskSlots"] = rng.choice(["1", "2", "4", "8", "16", "0", "-2", "4.0", "x", " 2"])
    if p() < 0.1:
        c["taskmanager.cpu.cores"] = rng.choice(
            ["1", "2.5", "0", "-1", "0.000000001", "1.123456789", "abc", "NaN", "Infinity", "1e3", "4d"]
        )

    # ---- JobManager
    mode = rng.choices(["P", "F", "H", "HF", "HFO", "none", "legacy"], [45, 15, 12, 8, 6, 4, 10])[0]
    jp = _bytes(rng, 500, 32768)
    if mode == "P" or p() < 0.05:
        c["jobmanager.memory.process.size"] = render_size(rng, jp) if p() > 0.02 else rng.choice(BAD_SIZES)
    heap = _bytes(rng, 0, 16384)
    off = _bytes(rng, 0, 2048)
    if mode in ("H", "HF", "HFO"):
        c["jobmanager.memory.heap.size"] = render_size(rng, heap) if p() > 0.02 else rng.choice(BAD_SIZES)
    if mode in ("F", "HF", "HFO"):
        total = heap + off if (mode == "HFO" and p() < 0.6) else _bytes(rng, 100, 16384)
        c["jobmanager.memory.flink.size"] = render_size(rng, total)
    if mode == "HFO" or p() < 0.15:
        c["jobmanager.memory.off-heap.size"] = _size(rng, 0, 4096)
    if mode == "legacy" or p() < 0.03:
        if p() < 0.6:
            c["jobmanager.heap.size"] = _size(rng, 128, 16384, bad=0.1)
        else:
            c["jobmanager.heap.mb"] = rng.choice([str(rng.randint(128, 16384)), "-5", "x", "0"])
    if p() < 0.1:
        c["jobmanager.memory.jvm-metaspace.size"] = _size(rng, 64, 2048)
    if p() < 0.15:
        c["jobmanager.memory.jvm-overhead.min"] = _size(rng, 0, 1024)
    if p() < 0.15:
        c["jobmanager.memory.jvm-overhead.max"] = _size(rng, 128, 8192)
    if p() < 0.15:
        c["jobmanager.memory.jvm-overhead.fraction"] = _fraction(rng)
    if p() < 0.1:
        c["jobmanager.memory.enable-jvm-direct-memory-limit"] = rng.choice(["true", "false", "TRUE", "yes"])
    return c


_FRACTION_KEYS = {
    "taskmanager.memory.managed.fraction", "taskmanager.memory.network.fraction",
    "taskmanager.network.memory.fraction", "taskmanager.memory.jvm-overhead.fraction",
    "jobmanager.memory.jvm-overhead.fraction", "taskmanager.cpu.cores",
}
_INT_KEYS = {"taskmanager.numberOfTaskSlots", "taskmanager.heap.mb", "jobmanager.heap.mb",
             "taskmanager.network.numberOfBuffers"}


def typed_variant(rng: random.Random, conf: dict[str, str]) -> dict[str, Any]:
    """The same config with some values as JSON numbers/booleans (what Pulumi or a YAML loader hands over).

    Integral floats for integer and size keys are left out on purpose: we accept `4.0` slots (Pulumi sends
    every number as a float), Flink does not.
    """
    out: dict[str, Any] = {}
    for key, value in conf.items():
        v: Any = value
        if rng.random() < 0.7:
            if key in _FRACTION_KEYS:
                try:
                    v = float(value)
                except ValueError:
                    pass
                if rng.random() < 0.05:
                    v = rng.choice([1e-50, 3.5e38, -0.0, float("nan"), float("inf"), 1.0, 0.30000001192092896])
            elif key in _INT_KEYS:
                try:
                    v = int(value)
                except ValueError:
                    pass
                if rng.random() < 0.05:
                    v = rng.choice([2**31, -(2**31) - 1, 2**63, 3])
            elif value in ("true", "false"):
                v = value == "true"
            elif value.isascii() and value.isdigit():
                v = int(value)
            elif rng.random() < 0.1 and key.endswith(("size", ".min", ".max")):
                v = rng.choice([1.5, -1, 2**64, 1e-3, True, 3.75e9 + 0.5])
        out[key] = v
    return out


def fixed_configs() -> list[dict[str, str]]:
    """Hand-picked configs (FACTS §3.6 values and every error kind) that always run before the random ones."""
    return [
        {"taskmanager.memory.process.size": "1728m", "jobmanager.memory.process.size": "1600m"},
        {"taskmanager.memory.process.size": "4096m", "taskmanager.memory.flink.size": "2867m"},
        {"taskmanager.memory.process.size": "8192m", "taskmanager.memory.flink.size": "5734m"},
        {"taskmanager.memory.process.size": "1400m", "taskmanager.memory.flink.size": "980m"},
        {"taskmanager.memory.process.size": "4300m", "taskmanager.memory.flink.size": "3010m"},
        {"taskmanager.memory.process.size": "300m"},
        {"taskmanager.memory.flink.size": "1g", "taskmanager.memory.process.size": "1g"},
        {"taskmanager.memory.flink.size": "200m"},
        {"taskmanager.memory.flink.size": "1g", "taskmanager.memory.task.heap.size": "2g"},
        {"taskmanager.memory.task.heap.size": "1g", "taskmanager.memory.managed.size": "1g",
         "taskmanager.memory.flink.size": "2g"},
        {"taskmanager.memory.task.heap.size": "1g", "taskmanager.memory.managed.size": "1g"},
        {"taskmanager.memory.process.size": "2g", "taskmanager.memory.managed.fraction": "abc"},
        {"taskmanager.memory.process.size": "2g", "taskmanager.memory.network.min": "2g",
         "taskmanager.memory.network.max": "1g"},
        {"taskmanager.memory.process.size": "2g", "taskmanager.numberOfTaskSlots": "0"},
        {"taskmanager.memory.process.size": "2g", "taskmanager.cpu.cores": "0"},
        {"taskmanager.memory.process.size": "1.5g", "jobmanager.memory.process.size": "-1g"},
        {"taskmanager.heap.size": "1g", "jobmanager.heap.size": "1g"},
        {"taskmanager.heap.mb": "-1", "jobmanager.heap.mb": "-1"},
        {"taskmanager.memory.flink.size": "2g", "taskmanager.network.numberOfBuffers": "4096"},
        {"taskmanager.memory.flink.size": "2g", "taskmanager.memory.task.heap.size": "512m",
         "taskmanager.network.numberOfBuffers": "4096"},
        {"jobmanager.memory.heap.size": "1g", "jobmanager.memory.flink.size": "2g",
         "jobmanager.memory.off-heap.size": "512m"},
        {"jobmanager.memory.heap.size": "3g", "jobmanager.memory.flink.size": "2g"},
        {"jobmanager.memory.flink.size": "128m"},
        {"jobmanager.memory.process.size": "1g", "jobmanager.memory.enable-jvm-direct-memory-limit": "true"},
        {"taskmanager.memory.process.size": "8388607t"},
        {"taskmanager.memory.task.heap.size": "8388607t", "taskmanager.memory.managed.size": "8388607t"},
    ]


def corpus(seed: int, count: int, typed: float = 0.2) -> list[dict[str, Any]]:
    """fixed_configs() + `count` random configs; a share `typed` of them with JSON-typed values."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = list(fixed_configs())
    for _ in range(count):
        conf = random_config(rng)
        out.append(typed_variant(rng, conf) if rng.random() < typed else conf)
    return out


def summarize(diffs: Iterable[dict[str, Any]], limit: int = 10) -> str:
    lines = []
    for d in list(diffs)[:limit]:
        lines.append(json.dumps(d, indent=1, sort_keys=True))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from flinkplat.versions import FLINK_ORACLE_VERSIONS

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--version", action="append", help="oracle version (default: all FLINK_ORACLE_VERSIONS)")
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--show", type=int, default=10, help="disagreements to print")
    args = ap.parse_args(argv)
    failed = False
    for version in args.version or FLINK_ORACLE_VERSIONS:
        configs = corpus(args.seed, args.count)
        results = run_batch(version, configs)
        diffs = compare(version, configs, results)
        ok_tm = sum(r["tm"]["ok"] for r in results)
        ok_jm = sum(r["jm"]["ok"] for r in results)
        print(f"{version}: {len(configs)} configs, TM ok {ok_tm}, JM ok {ok_jm}, disagreements {len(diffs)}")
        if diffs:
            failed = True
            print(summarize(diffs, args.show))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
