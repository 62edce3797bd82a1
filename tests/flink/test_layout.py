"""flinkplat.flink.layout: the TaskManager memory layout the platform renders from a container size alone must
satisfy the team's ratio AND Flink's own derivation, at every size; and (marker `oracle`) real Flink agrees."""

from __future__ import annotations

import os
import shutil

import pytest

from flinkplat.flink.layout import DEFAULT_FLINK_MEMORY_RATIO, USER_LAYOUT_KEYS, taskmanager_layout
from flinkplat.flink.memory import FlinkMemoryError, derive_taskmanager, parse_memory_size

MB = 1 << 20
VERSIONS = ("1.20", "2.2")
# Every container size from 512m to 32g in 128m steps, plus odd sizes that are not whole MiB.
SIZES = [n * 128 * MB for n in range(4, 257)] + [4096 * MB + 12345, 3 * (1 << 30) - 1, 1494 * MB, 4267 * MB]


def _conf(process: int, layout: dict[str, str], extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**(extra or {}), "taskmanager.memory.process.size": f"{process}b", **layout}


@pytest.mark.parametrize("version", VERSIONS)
def test_every_container_size_gets_a_legal_layout_within_the_ratio(version):
    rendered = 0
    for process in SIZES:
        layout = taskmanager_layout(process, DEFAULT_FLINK_MEMORY_RATIO, {}, version)
        try:
            derive_taskmanager(_conf(process, {}), version)
        except FlinkMemoryError:  # too small for Flink at all (512m): flink-memory-derivable's business
            assert layout == {}
            continue
        tm = derive_taskmanager(_conf(process, layout), version)  # raises if Flink would refuse to start
        assert tm.total_process == process
        assert tm.total_flink <= process * DEFAULT_FLINK_MEMORY_RATIO, (process // MB, layout)
        if layout:
            rendered += 1
            # as close to the ratio as whole MiB allow: the headroom is not larger than it has to be
            assert process * DEFAULT_FLINK_MEMORY_RATIO - tm.total_flink < MB, (process // MB, layout)
        else:
            # nothing rendered only where Flink's own split already leaves the headroom
            assert derive_taskmanager(_conf(process, {}), version).total_flink <= process * DEFAULT_FLINK_MEMORY_RATIO
    assert rendered > len(SIZES) // 2


def test_the_documented_sizes():
    assert taskmanager_layout(4096 * MB, 0.7, {}, "1.20") == {"taskmanager.memory.flink.size": "2867m"}
    # beyond about 4266m the overhead the ratio leaves exceeds Flink's default 1g maximum: the layout raises it
    assert taskmanager_layout(8192 * MB, 0.7, {}, "1.20") == {"taskmanager.memory.flink.size": "5734m",
                                                              "taskmanager.memory.jvm-overhead.max": "2202m"}
    # below about 1494m Flink's split (overhead clamped up to 192m) is already within 70 %
    assert taskmanager_layout(1400 * MB, 0.7, {}, "1.20") == {}
    assert derive_taskmanager({"taskmanager.memory.process.size": "1400m"}).total_flink == 952 * MB


def test_without_the_layout_flink_breaks_the_ratio():
    """What the layout is for: Flink's own split of a 4096m container is 83.7 % Total Flink Memory."""
    tm = derive_taskmanager({"taskmanager.memory.process.size": "4096m"}, "1.20")
    assert tm.total_flink / tm.total_process > 0.83


def test_another_ratio_and_other_memory_keys_are_honoured():
    layout = taskmanager_layout(6144 * MB, 0.6, {"taskmanager.memory.jvm-metaspace.size": "512m"}, "1.20")
    assert layout == {"taskmanager.memory.flink.size": "3686m", "taskmanager.memory.jvm-overhead.max": "1946m"}
    tm = derive_taskmanager(_conf(6144 * MB, layout, {"taskmanager.memory.jvm-metaspace.size": "512m"}))
    assert tm.metaspace == 512 * MB and tm.total_flink <= 0.6 * 6144 * MB


@pytest.mark.parametrize("key", USER_LAYOUT_KEYS)
def test_a_user_layout_is_left_alone(key):
    assert taskmanager_layout(8192 * MB, 0.7, {key: "1g" if "fraction" not in key else "0.2"}, "1.20") == {}


def test_null_ratio_and_broken_user_keys_render_nothing():
    assert taskmanager_layout(8192 * MB, None, {}, "1.20") == {}
    # Flink rejects this anyway (flink-memory-derivable reports it); the layout does not pile on
    with pytest.raises(FlinkMemoryError):
        derive_taskmanager(_conf(8192 * MB, {}, {"taskmanager.memory.jvm-metaspace.size": "9g"}))
    assert taskmanager_layout(8192 * MB, 0.7, {"taskmanager.memory.jvm-metaspace.size": "9g"}, "1.20") == {}


def test_rendered_flink_deployment_carries_the_layout(prod_plan):
    deployments = [r for r in prod_plan["resources"] if r["type"].endswith(":FlinkDeployment")]
    assert deployments
    for resource in deployments:
        spec = resource["inputs"]["spec"]
        conf = dict(spec["flinkConfiguration"])
        process = parse_memory_size(spec["taskManager"]["resource"]["memory"])
        conf["taskmanager.memory.process.size"] = f"{process}b"
        tm = derive_taskmanager(conf, spec["flinkVersion"])
        assert tm.total_flink <= 0.7 * process, resource["name"]


# ---------------------------------------------------------------------------------------------------------------
# Real Flink (the oracle of tests/flink/test_memory_oracle.py): every rendered layout starts, within the ratio.
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.oracle
@pytest.mark.parametrize("version", ["1.20.3", "2.2.0"])
def test_real_flink_accepts_every_layout(version):
    from tests.flink.test_memory_oracle import oracle

    if shutil.which("java") is None or oracle.classpath(version) is None:
        reason = f"Flink {version} oracle jars or java missing; run scripts/flink_oracle/setup.sh"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must run the Flink memory oracle: {reason}")
        pytest.skip(reason)
    minor = ".".join(version.split(".")[:2])
    sizes = [p for p in SIZES if p >= 1024 * MB]  # 512m is too small for Flink itself
    configs = [_conf(p, taskmanager_layout(p, DEFAULT_FLINK_MEMORY_RATIO, {}, minor)) for p in sizes]
    assert sum(len(c) > 1 for c in configs) > len(sizes) // 2  # most sizes do get a rendered layout
    results = oracle.run_batch(version, configs)
    for process, conf, result in zip(sizes, configs, results):
        tm = result["tm"]
        assert tm["ok"], (process // MB, conf, tm)
        sizes = oracle.normalise_java(tm, "tm")
        total_flink = sum(sizes[k] for k in ("framework_heap", "task_heap", "framework_off_heap", "task_off_heap",
                                             "network", "managed"))
        assert total_flink <= process * DEFAULT_FLINK_MEMORY_RATIO, (process // MB, conf)
