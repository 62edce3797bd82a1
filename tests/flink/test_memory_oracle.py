"""flinkplat.flink.memory against Flink's own Java code (the oracle), for every Flink version in
FLINK_ORACLE_VERSIONS: thousands of seeded random configs, results compared field by field and errors by exact
message, exception class and cause chain.

Needs the jars from scripts/flink_oracle/setup.sh (cached in ${FLINKPLAT_CACHE:-~/.cache/flink-platform}) and
Java 11+. Without them the tests skip locally and FAIL when CI=true. One JVM per version (batch harness).
FLINKPLAT_ORACLE_CONFIGS sets the number of random configs per version (default 10000).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sys
import zlib
from collections import Counter
from pathlib import Path

import pytest

from flinkplat.versions import FLINK_ORACLE_VERSIONS

pytestmark = pytest.mark.oracle

ORACLE_DIR = Path(__file__).resolve().parents[2] / "scripts" / "flink_oracle"
RANDOM_CONFIGS = int(os.environ.get("FLINKPLAT_ORACLE_CONFIGS", "10000"))


def _load(name: str):
    if name in sys.modules:
        return sys.modules[name]
    if str(ORACLE_DIR) not in sys.path:
        sys.path.insert(0, str(ORACLE_DIR))
    spec = importlib.util.spec_from_file_location(name, ORACLE_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


oracle = _load("memory_oracle")
verify_cli = _load("verify_cli")


def _require_oracle(version: str) -> None:
    reason = None
    if shutil.which("java") is None:
        reason = "no `java` on PATH (the Flink oracle needs Java 11+)"
    elif oracle.classpath(version) is None:
        reason = (f"Flink {version} oracle jars not found under {oracle.cache_root() / version}; "
                  "run scripts/flink_oracle/setup.sh")
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must run the Flink memory oracle: {reason}")
        pytest.skip(reason)


_RESULTS: dict[str, tuple[list, list]] = {}


def _corpus_and_results(version: str) -> tuple[list, list]:
    if version not in _RESULTS:
        seed = zlib.crc32(version.encode())
        configs = oracle.corpus(seed, RANDOM_CONFIGS)
        _RESULTS[version] = (configs, oracle.run_batch(version, configs))
    return _RESULTS[version]


# Every kind of outcome the corpus must produce, so that "no disagreement" means something. The first match wins
# (legacy kinds first: their messages are wrapped in more general ones). Required for: "all" or "1.x".
KINDS: list[tuple[str, str | None, str]] = [
    ("ok", None, "all"),
    ("15 legacy heap mapping", r"^TaskManager failed to map legacy JVM heap option", "1.x"),
    ("15 legacy heap.mb < 0", r"must not be less than 0", "1.x"),
    ("legacy network buffers", r"does not match configured Network Memory size", "1.x"),
    ("legacy segment size", r"^Invalid configuration value for taskmanager.memory.segment-size", "1.x"),
    ("1 nothing configured", r"^Either required fine-grained memory", "all"),
    ("2 metaspace+overhead > process", r"^Sum of configured JVM Metaspace", "all"),
    ("3 process < flink+metaspace", r"^The configured Total Process Memory size", "all"),
    ("4 overhead out of range", r"^Derived JVM Overhead size", "all"),
    ("5 inconsistent range/fraction", r"^Inconsistently configured", "all"),
    ("6 sum with task heap > flink", r"^Sum of configured Framework Heap.*Task Heap Memory", "all"),
    ("7 sum with network > flink", r"^Sum of configured Framework Heap.*Network Memory", "all"),
    ("8 network rest inconsistent", r"^If Total Flink, Task Heap", "all"),
    ("9 bad memory size", r"^Cannot read memory size from config option", "all"),
    ("10 cpu cores", r"^TaskExecutors need to be started with a positive number of CPU cores", "all"),
    ("11 jm heap+off-heap != flink", r"^Sum of the configured JVM Heap Memory", "all"),
    ("12 jm heap > flink", r"^The configured JVM Heap Memory", "all"),
    ("13 jm flink <= off-heap", r"^The configured Total Flink Memory", "all"),
    ("14 unparsable value", r"^Could not parse value", "all"),
    ("long overflow", r"^long overflow$", "all"),
    ("cpu cores NaN/Infinity", r"is neither a decimal digit number", "all"),
    ("negative network buffers", r"^bytes must be >= 0$", "1.x"),
]


def _kind(side: dict) -> str:
    if side["ok"]:
        return "ok"
    texts = [re.sub(r"^(TaskManager|JobManager) memory configuration failed: ", "", side["error"])]
    texts += [c.partition(": ")[2] for c in side.get("causes", [])]
    for kind, pattern, _ in KINDS:
        if pattern and any(re.search(pattern, t) for t in texts):
            return kind
    return "other: " + side["class"].rsplit(".", 1)[-1] + ": " + side["error"][:80]


@pytest.mark.parametrize("version", FLINK_ORACLE_VERSIONS)
def test_model_equals_flink_on_random_configs(version):
    _require_oracle(version)
    configs, results = _corpus_and_results(version)
    diffs = oracle.compare(version, configs, results)
    compared = 2 * len(configs)
    assert not diffs, (
        f"{len(diffs)} of {compared} derivations disagree with Flink {version}; first ones:\n"
        + oracle.summarize(diffs, 5)
    )
    kinds = Counter(_kind(r[side]) for r in results for side in ("tm", "jm"))
    print(f"\nFlink {version}: {len(configs)} configs ({compared} TM+JM derivations) identical; outcomes: "
          + ", ".join(f"{k}={n}" for k, n in sorted(kinds.items())))


@pytest.mark.parametrize("version", FLINK_ORACLE_VERSIONS)
def test_corpus_covers_every_outcome(version):
    _require_oracle(version)
    _, results = _corpus_and_results(version)
    kinds = Counter(_kind(r[side]) for r in results for side in ("tm", "jm"))
    wanted = {kind for kind, _, need in KINDS if need == "all" or version.startswith("1.")}
    missing = sorted(wanted - set(kinds))
    assert not missing, f"the random corpus never produced {missing} for Flink {version}: {dict(kinds)}"
    # a healthy mix: many accepted and many rejected derivations
    assert kinds["ok"] > 0.3 * 2 * len(results)
    assert sum(kinds.values()) - kinds["ok"] > 0.2 * 2 * len(results)


@pytest.mark.parametrize("version", FLINK_ORACLE_VERSIONS)
def test_oracle_harness_equals_bashjavautils_cli(version):
    """The batch harness gives exactly what `BashJavaUtils GET_TM/JM_RESOURCE_PARAMS --configDir` gives."""
    _require_oracle(version)
    problems = verify_cli.verify(version)
    assert not problems, "\n".join(problems)


_DIRECT_FLAG = re.compile(r"-XX:MaxDirectMemorySize=(\d+)")


@pytest.mark.parametrize("version", FLINK_ORACLE_VERSIONS)
def test_breakdown_jobmanager_max_direct_equals_flinks_flag(version):
    """`flinkplat memory --json` reports the JobManager's `max_direct` exactly when Flink emits
    -XX:MaxDirectMemorySize for it (jobmanager.memory.enable-jvm-direct-memory-limit: true), with Flink's value."""
    from flinkplat.flink.memory import breakdown

    _require_oracle(version)
    configs, results = _corpus_and_results(version)
    minor = ".".join(version.split(".")[:2])
    limited = 0
    for conf, result in zip(configs, results):
        if not result["jm"]["ok"]:
            continue
        flag = _DIRECT_FLAG.search(result["jm"]["jvm"])
        ours = breakdown(conf, minor)["jm"]
        assert ours["max_direct"] == (int(flag.group(1)) if flag else None), conf
        limited += flag is not None
    assert limited > 10, "the corpus must exercise the JobManager direct-memory limit"
