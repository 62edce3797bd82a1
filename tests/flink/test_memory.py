"""Unit tests of Flink's memory model (flinkplat.flink.memory) on known values (FACTS.md §3) and of
`flinkplat memory`. The exhaustive comparison with Flink's own Java code is test_memory_oracle.py."""

from __future__ import annotations

import argparse
import io
import json

import pytest

from flinkplat.commands import memory as memory_cmd
from flinkplat.flink.memory import (
    FlinkMemoryError,
    JobManagerMemory,
    TaskManagerMemory,
    breakdown,
    derive_jobmanager,
    derive_taskmanager,
    format_memory_size,
    parse_flink_version,
    parse_memory_size,
)
from flinkplat.versions import DEFAULT_FLINK_VERSION

MiB = 1 << 20
GiB = 1 << 30
LONG_MAX = (1 << 63) - 1
TM_FAILED = "TaskManager memory configuration failed: "
JM_FAILED = "JobManager memory configuration failed: "
OVERHEAD_RANGE_DEFAULT = "[192.000mb (201326592 bytes), 1024.000mb (1073741824 bytes)]"


def tm_error(conf: dict, version: str = "1.20") -> FlinkMemoryError:
    with pytest.raises(FlinkMemoryError) as info:
        derive_taskmanager(conf, version)
    return info.value


def jm_error(conf: dict, version: str = "1.20") -> FlinkMemoryError:
    with pytest.raises(FlinkMemoryError) as info:
        derive_jobmanager(conf, version)
    return info.value


# ---------------------------------------------------------------------------------------------------------------
#  FACTS §3.6: known values
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.20", "2.2"])
def test_flink_default_taskmanager_1728m(version):
    tm = derive_taskmanager({"taskmanager.memory.process.size": "1728m"}, version)
    assert tm == TaskManagerMemory(
        framework_heap=128 * MiB, task_heap=402653174, framework_off_heap=128 * MiB, task_off_heap=0,
        network=134217730, managed=536870920, metaspace=256 * MiB, overhead=192 * MiB, cpu_cores=1.0, slots=1,
    )
    assert tm.total_flink == 1280 * MiB
    assert tm.total_process == 1728 * MiB
    assert (tm.xmx, tm.max_direct, tm.max_metaspace) == (536870902, 268435458, 268435456)
    assert tm.jvm_args() == (
        "-Xmx536870902 -Xms536870902 -XX:MaxDirectMemorySize=268435458 -XX:MaxMetaspaceSize=268435456"
    )


@pytest.mark.parametrize("version", ["1.20", "2.2"])
def test_flink_default_jobmanager_1600m(version):
    jm = derive_jobmanager({"jobmanager.memory.process.size": "1600m"}, version)
    assert jm == JobManagerMemory(heap=GiB, off_heap=128 * MiB, metaspace=256 * MiB, overhead=192 * MiB)
    assert (jm.xmx, jm.max_direct, jm.max_metaspace) == (1073741824, None, 268435456)
    assert jm.total_process == 1600 * MiB
    assert jm.jvm_args() == "-Xmx1073741824 -Xms1073741824 -XX:MaxMetaspaceSize=268435456"


def test_process_4096m_flink_2867m_is_legal():
    tm = derive_taskmanager(
        {"taskmanager.memory.process.size": "4096m", "taskmanager.memory.flink.size": "2867m"}, "1.20"
    )
    assert (tm.task_heap, tm.managed, tm.network, tm.overhead) == (1234698219, 1202506974, 300626743, 1020264448)
    assert (tm.xmx, tm.max_direct, tm.max_metaspace) == (1368915947, 434844471, 268435456)
    assert tm.overhead == 973 * MiB + 0  # 4096 - 2867 - 256 = 973m
    assert tm.total_process == 4096 * MiB


@pytest.mark.parametrize("version", ["1.20", "2.2"])
def test_process_8192m_flink_5734m_is_illegal(version):
    err = tm_error({"taskmanager.memory.process.size": "8192m", "taskmanager.memory.flink.size": "5734m"}, version)
    assert str(err) == (
        "TaskManager memory configuration failed: Derived JVM Overhead size (2.150gb (2308964352 bytes)) is not in "
        "configured JVM Overhead range [192.000mb (201326592 bytes), 1024.000mb (1073741824 bytes)]."
    )
    assert err.causes == [str(err).removeprefix(TM_FAILED)]


@pytest.mark.parametrize(
    "process, flink, ok",
    [(1400, 980, False), (1500, 1050, True), (4266, 2986, True), (4300, 3010, False)],
)
def test_seventy_percent_rule_band(process, flink, ok):
    conf = {"taskmanager.memory.process.size": f"{process}m", "taskmanager.memory.flink.size": f"{flink}m"}
    if ok:
        assert derive_taskmanager(conf).overhead == (process - flink - 256) * MiB
    else:
        assert "Derived JVM Overhead size" in str(tm_error(conf))


def test_float_fraction_and_bigdecimal_truncation():
    # 4096m × 0.1f: the float 0.1 widened to 0.10000000149011612, product truncated
    tm = derive_taskmanager({"taskmanager.memory.flink.size": "4096m"})
    assert tm.network == 429496736
    assert tm.managed == 1717986944  # 4096m × 0.4f (= 13421773 / 2**25), not 4096m × 0.4 = 1717986918.4
    # f / (1 - f) in double for the inverse derivation (fine-grained path without total Flink memory)
    tm = derive_taskmanager({"taskmanager.memory.task.heap.size": "1g", "taskmanager.memory.managed.size": "1g"})
    rest = 128 * MiB + 128 * MiB + GiB + GiB
    assert tm.network == int(rest * (0.10000000149011612 / (1 - 0.10000000149011612)))
    assert tm.network == 268435460


def test_network_max_default_is_long_max_not_1g():
    tm = derive_taskmanager({"taskmanager.memory.flink.size": "64g"})
    assert tm.network > GiB


# ---------------------------------------------------------------------------------------------------------------
#  Every error kind (FACTS §3.5)
# ---------------------------------------------------------------------------------------------------------------


def test_error_1_nothing_configured():
    assert str(tm_error({})) == TM_FAILED + (
        "Either required fine-grained memory (taskmanager.memory.task.heap.size and "
        "taskmanager.memory.managed.size), or Total Flink Memory size (Key: 'taskmanager.memory.flink.size' , "
        "default: null (fallback keys: [])), or Total Process Memory size (Key: 'taskmanager.memory.process.size' , "
        "default: null (fallback keys: [])) need to be configured explicitly."
    )
    assert str(jm_error({}, "2.2")) == (
        "Either required fine-grained memory (jobmanager.memory.heap.size), or Total Flink Memory size "
        "(Key: 'jobmanager.memory.flink.size' , default: null (fallback keys: [])), or Total Process Memory size "
        "(Key: 'jobmanager.memory.process.size' , default: null (fallback keys: [])) need to be configured "
        "explicitly."
    )


def test_error_2_metaspace_and_overhead_exceed_process():
    assert str(tm_error({"taskmanager.memory.process.size": "300m"})) == TM_FAILED + (
        "Sum of configured JVM Metaspace (256.000mb (268435456 bytes)) and JVM Overhead (192.000mb (201326592 bytes))"
        " exceed configured Total Process Memory (300.000mb (314572800 bytes))."
    )


def test_error_3_process_less_than_flink_plus_metaspace_has_two_spaces():
    err = tm_error({"taskmanager.memory.process.size": "1g", "taskmanager.memory.flink.size": "1g"})
    assert str(err) == TM_FAILED + (
        "The configured Total Process Memory size (1024.000mb (1073741824 bytes)) is less than the sum of the "
        "derived Total Flink Memory size (1024.000mb (1073741824 bytes)) and the configured or default JVM "
        "Metaspace size  (256.000mb (268435456 bytes))."
    )


def test_error_4_overhead_fraction_is_ignored_when_process_and_flink_are_set():
    conf = {"taskmanager.memory.process.size": "4096m", "taskmanager.memory.flink.size": "2867m",
            "taskmanager.memory.jvm-overhead.fraction": "0.5"}
    assert derive_taskmanager(conf).overhead == 973 * MiB
    conf["taskmanager.memory.jvm-overhead.max"] = "512m"
    assert str(tm_error(conf)) == TM_FAILED + (
        "Derived JVM Overhead size (973.000mb (1020264448 bytes)) is not in configured JVM Overhead range "
        "[192.000mb (201326592 bytes), 512.000mb (536870912 bytes)]."
    )


def test_error_5_range_validity():
    err = tm_error({"taskmanager.memory.process.size": "2g", "taskmanager.memory.network.min": "2g",
                    "taskmanager.memory.network.max": "1g"})
    assert str(err) == TM_FAILED + (
        "Inconsistently configured Key: 'taskmanager.memory.network.fraction' , default: 0.1 (fallback keys: "
        "[{key=taskmanager.network.memory.fraction, isDeprecated=true}]) (0.10000000149011612) and its min "
        "(2.000gb (2147483648 bytes)), max (1024.000mb (1073741824 bytes)) value"
    )
    assert err.causes[-1] == "min value must be less or equal to max value"
    err = tm_error({"taskmanager.memory.process.size": "2g", "taskmanager.memory.managed.fraction": "1"})
    assert str(err) == TM_FAILED + (
        "Inconsistently configured Key: 'taskmanager.memory.managed.fraction' , default: 0.4 (fallback keys: []) "
        "(1.0) and its min (0 bytes), max (8388608.000tb (9223372036854775807 bytes)) value"
    )
    assert err.causes[-1] == "fraction must be in range [0, 1)"
    err = jm_error({"jobmanager.memory.process.size": "2g", "jobmanager.memory.jvm-overhead.fraction": "-0.1"}, "2.2")
    assert str(err).startswith(
        "Inconsistently configured Key: 'jobmanager.memory.jvm-overhead.fraction' , default: 0.1 (fallback keys: [])"
        " (-0.10000000149011612) and its min (192.000mb"
    )


def test_error_6_and_7_sum_exceeds_total_flink():
    err = tm_error({"taskmanager.memory.flink.size": "1g", "taskmanager.memory.task.heap.size": "2g"})
    assert str(err) == TM_FAILED + (
        "Sum of configured Framework Heap Memory (128.000mb (134217728 bytes)), Framework Off-Heap Memory "
        "(128.000mb (134217728 bytes)), Task Heap Memory (2.000gb (2147483648 bytes)), Task Off-Heap Memory "
        "(0 bytes) and Managed Memory (409.600mb (429496736 bytes)) exceed configured Total Flink Memory "
        "(1024.000mb (1073741824 bytes))."
    )
    err = tm_error({"taskmanager.memory.flink.size": "200m"})
    assert str(err) == TM_FAILED + (
        "Sum of configured Framework Heap Memory (128.000mb (134217728 bytes)), Framework Off-Heap Memory "
        "(128.000mb (134217728 bytes)), Task Off-Heap Memory (0 bytes), Managed Memory (80.000mb (83886081 bytes)) "
        "and Network Memory (64.000mb (67108864 bytes)) exceed configured Total Flink Memory "
        "(200.000mb (209715200 bytes))."
    )


def test_error_8_network_rest_outside_range():
    err = tm_error({"taskmanager.memory.task.heap.size": "1g", "taskmanager.memory.managed.size": "1g",
                    "taskmanager.memory.flink.size": "2304m"})
    assert str(err) == TM_FAILED + (
        "If Total Flink, Task Heap and (or) Managed Memory sizes are explicitly configured then the Network Memory "
        "size is the rest of the Total Flink memory after subtracting all other configured types of memory, but the "
        "derived Network Memory is inconsistent with its configuration."
    )
    assert err.causes[-1] == (
        "Derived Network Memory size (0 bytes) is not in configured Network Memory range "
        "[64.000mb (67108864 bytes), 8388608.000tb (9223372036854775807 bytes)]."
    )


def test_error_9_bad_sizes():
    err = tm_error({"taskmanager.memory.process.size": "1.5g"})
    assert str(err) == TM_FAILED + "Cannot read memory size from config option 'taskmanager.memory.process.size'."
    assert err.causes == [
        "Cannot read memory size from config option 'taskmanager.memory.process.size'.",
        "Could not parse value '1.5g' for key 'taskmanager.memory.process.size'.",
        "Memory size unit '.5g' does not match any of the recognized units: (b | bytes) / (k | kb | kibibytes) / "
        "(m | mb | mebibytes) / (g | gb | gibibytes) / (t | tb | tebibytes)",
    ]
    err = jm_error({"jobmanager.memory.process.size": "-1g"}, "2.2")
    assert str(err) == "Cannot read memory size from config option 'jobmanager.memory.process.size'."
    assert err.causes[-1] == "text does not start with a number"
    # a deprecated key is reported under the new key's name
    err = tm_error({"taskmanager.memory.process.size": "2g", "taskmanager.network.memory.min": "2Gi"})
    assert str(err) == TM_FAILED + "Cannot read memory size from config option 'taskmanager.memory.network.min'."
    assert err.causes[1] == "Could not parse value '2Gi' for key 'taskmanager.memory.network.min'."


@pytest.mark.parametrize("conf", [
    {"taskmanager.memory.process.size": "2g", "taskmanager.cpu.cores": "0"},
    {"taskmanager.memory.process.size": "2g", "taskmanager.numberOfTaskSlots": "0"},
    {"taskmanager.memory.process.size": "2g", "taskmanager.numberOfTaskSlots": -2},
])
def test_error_10_cpu_cores(conf):
    assert str(tm_error(conf)) == TM_FAILED + (
        "TaskExecutors need to be started with a positive number of CPU cores. Please configure "
        "taskmanager.cpu.cores accordingly."
    )


def test_cpu_cores_fall_back_to_slots_and_truncate_to_8_decimals():
    tm = derive_taskmanager({"taskmanager.memory.process.size": "2g", "taskmanager.numberOfTaskSlots": "4"})
    assert (tm.cpu_cores, tm.slots) == (4.0, 4)
    tm = derive_taskmanager({"taskmanager.memory.process.size": "2g", "taskmanager.cpu.cores": "1.123456789"})
    assert tm.cpu_cores == 1.12345678


@pytest.mark.parametrize("version, prefix", [("1.20", JM_FAILED), ("2.2", "")])
def test_errors_11_12_13_jobmanager(version, prefix):
    err = jm_error({"jobmanager.memory.heap.size": "1g", "jobmanager.memory.flink.size": "2g",
                    "jobmanager.memory.off-heap.size": "512m"}, version)
    assert str(err) == prefix + (
        "Sum of the configured JVM Heap Memory (1024.000mb (1073741824 bytes)) and the configured Off-heap Memory "
        "(512.000mb (536870912 bytes)) does not match the configured Total Flink Memory (2.000gb (2147483648 bytes))"
        ". Please, make the configuration consistent or configure only one option: either JVM Heap or Total Flink "
        "Memory."
    )
    err = jm_error({"jobmanager.memory.heap.size": "3g", "jobmanager.memory.flink.size": "2g"}, version)
    assert str(err) == prefix + (
        "The configured JVM Heap Memory (3.000gb (3221225472 bytes)) exceeds the configured Total Flink Memory "
        "(2.000gb (2147483648 bytes)). Please, make the configuration consistent or configure only one option: "
        "either JVM Heap or Total Flink Memory."
    )
    err = jm_error({"jobmanager.memory.flink.size": "128m"}, version)  # equal is rejected too
    assert str(err) == prefix + (
        "The configured Total Flink Memory (128.000mb (134217728 bytes)) is less than the configured Off-heap "
        "Memory (128.000mb (134217728 bytes))."
    )


def test_jobmanager_heap_and_flink_derive_off_heap():
    jm = derive_jobmanager({"jobmanager.memory.heap.size": "1g", "jobmanager.memory.flink.size": "2g"})
    assert (jm.heap, jm.off_heap) == (GiB, GiB)
    jm = derive_jobmanager({"jobmanager.memory.process.size": "2g",
                            "jobmanager.memory.enable-jvm-direct-memory-limit": "true"})
    assert jm.max_direct == jm.off_heap == 128 * MiB
    assert "-XX:MaxDirectMemorySize=134217728" in jm.jvm_args()


def test_error_14_bad_float_is_not_wrapped():
    err = tm_error({"taskmanager.memory.process.size": "2g", "taskmanager.memory.managed.fraction": "abc"})
    assert str(err) == "Could not parse value 'abc' for key 'taskmanager.memory.managed.fraction'."
    assert err.java_class == "java.lang.IllegalArgumentException"
    assert err.causes == ['For input string: "abc"']


def test_error_15_legacy_heap_mb_negative():
    assert str(tm_error({"taskmanager.heap.mb": "-1"})) == (
        "TaskManager failed to map legacy JVM heap option to the new one: Configured total process memory size "
        "(-1MB) must not be less than 0."
    )
    assert str(jm_error({"jobmanager.heap.mb": "-1"})) == (
        JM_FAILED + "Configured total process memory size (-1MB) must not be less than 0."
    )


def test_first_check_wins():
    # bad overhead range and bad managed fraction: the P path checks the overhead range first
    err = tm_error({"taskmanager.memory.process.size": "2g", "taskmanager.memory.managed.fraction": "2",
                    "taskmanager.memory.jvm-overhead.min": "2g"})
    assert "jvm-overhead.fraction" in str(err)


def test_long_overflow_is_javas_arithmetic_exception():
    err = tm_error({"taskmanager.memory.task.heap.size": "8388607t", "taskmanager.memory.managed.size": "8388607t"})
    assert str(err) == "long overflow"
    assert err.java_class == "java.lang.ArithmeticException"


# ---------------------------------------------------------------------------------------------------------------
#  Versions: 1.x legacy keys, 2.x differences, deprecated keys in both
# ---------------------------------------------------------------------------------------------------------------


def test_legacy_heap_keys_are_total_flink_in_1x_and_ignored_in_2x():
    tm = derive_taskmanager({"taskmanager.heap.size": "1g"}, "1.20")
    assert tm.total_flink == GiB
    assert derive_taskmanager({"taskmanager.heap.mb": "1024"}, "1.19") == tm
    assert "need to be configured explicitly" in str(tm_error({"taskmanager.heap.size": "1g"}, "2.2"))
    # the new key wins over the legacy one
    assert derive_taskmanager({"taskmanager.heap.size": "1g", "taskmanager.memory.flink.size": "2g"}).total_flink \
        == 2 * GiB
    assert derive_jobmanager({"jobmanager.heap.size": "1g"}, "1.20").heap == GiB
    assert derive_jobmanager({"jobmanager.heap.mb": 512}, "1.20").heap == 512 * MiB
    assert "need to be configured explicitly" in str(jm_error({"jobmanager.heap.size": "1g"}, "2.0"))


def test_number_of_buffers_only_in_1x():
    conf = {"taskmanager.memory.flink.size": "2g", "taskmanager.network.numberOfBuffers": "4096"}
    assert derive_taskmanager(conf, "1.20").network == 4096 * 32 * 1024
    assert derive_taskmanager(conf, "2.2").network == derive_taskmanager(
        {"taskmanager.memory.flink.size": "2g"}, "2.2").network
    # any new network key switches the legacy one off
    conf["taskmanager.memory.network.fraction"] = "0.1"
    assert derive_taskmanager(conf, "1.20").network == 214748368
    err = tm_error({"taskmanager.memory.flink.size": "2g", "taskmanager.memory.task.heap.size": "512m",
                    "taskmanager.network.numberOfBuffers": "4096"}, "1.20")
    assert err.causes[-1] == (
        "Derived Network Memory size (460.800mb (483183808 bytes)) does not match configured Network Memory size "
        "(128.000mb (134217728 bytes))."
    )


@pytest.mark.parametrize("version", ["1.20", "2.2"])
def test_deprecated_network_and_managed_keys_are_honoured_and_new_key_wins(version):
    base = {"taskmanager.memory.flink.size": "4g"}
    tm = derive_taskmanager({**base, "taskmanager.network.memory.fraction": "0.2"}, version)
    assert tm.network == derive_taskmanager({**base, "taskmanager.memory.network.fraction": "0.2"}, version).network
    tm = derive_taskmanager({**base, "taskmanager.network.memory.max": "100m"}, version)
    assert tm.network == 100 * MiB
    tm = derive_taskmanager({**base, "taskmanager.network.memory.max": "100m",
                             "taskmanager.memory.network.max": "200m"}, version)
    assert tm.network == 200 * MiB
    assert derive_taskmanager({**base, "taskmanager.memory.size": "1g"}, version).managed == GiB


@pytest.mark.parametrize("text, expected", [
    ("1.20", (1, 20)), ("1.20.3", (1, 20)), ("2.2", (2, 2)), ("2.2.0", (2, 2)), ("v2_2", (2, 2)),
    ("v1_20", (1, 20)), ("2", (2, 0)), (None, parse_flink_version(DEFAULT_FLINK_VERSION)),
])
def test_parse_flink_version(text, expected):
    assert parse_flink_version(text) == expected


@pytest.mark.parametrize("text", ["", "latest", "3.0", "0.9", "1.9", "flink-2"])
def test_parse_flink_version_rejects(text):
    with pytest.raises(ValueError):
        parse_flink_version(text)


# ---------------------------------------------------------------------------------------------------------------
#  Parsing, formatting, Python value types
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("1728m", 1728 * MiB), ("2G", 2 * GiB), ("2 gb", 2 * GiB), ("  64 MB ", 64 * MiB), ("1024", 1024),
    ("1024b", 1024), ("1 bytes", 1), ("32kb", 32768), ("1k", 1024), ("1 kibibytes", 1024), ("3mebibytes", 3 * MiB),
    ("1t", 1 << 40), ("1 TB", 1 << 40), ("0", 0), ("007m", 7 * MiB), ("8388607t", 8388607 << 40),
    ("9223372036854775807", LONG_MAX), ("\t1g\n", GiB),
])
def test_parse_memory_size(text, expected):
    assert parse_memory_size(text) == expected


@pytest.mark.parametrize("text, message", [
    ("-1g", "text does not start with a number"),
    ("abc", "text does not start with a number"),
    ("", "argument is an empty- or whitespace-only string"),
    ("   ", "argument is an empty- or whitespace-only string"),
    ("1.5g", "Memory size unit '.5g' does not match any of the recognized units: (b | bytes) / (k | kb | kibibytes)"
             " / (m | mb | mebibytes) / (g | gb | gibibytes) / (t | tb | tebibytes)"),
    ("2Gi", "Memory size unit 'gi' does not match any of the recognized units"),
    ("99999999999999999999", "The value '99999999999999999999' cannot be re represented as 64bit number "
                             "(numeric overflow)."),
    ("8388608t", "The value '8388608t' cannot be re represented as 64bit number of bytes (numeric overflow)."),
    ("١٢٨m", "text does not start with a number"),  # Long.parseLong would accept Arabic digits; Flink does not
])
def test_parse_memory_size_errors(text, message):
    with pytest.raises(FlinkMemoryError) as info:
        parse_memory_size(text)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("n, text", [
    (0, "0 bytes"), (1024, "1024 bytes"), (1025, "1.001kb (1025 bytes)"), (GiB, "1024.000mb (1073741824 bytes)"),
    (GiB + 1, "1.000gb (1073741825 bytes)"), (2308964352, "2.150gb (2308964352 bytes)"),
    (83886081, "80.000mb (83886081 bytes)"), (429496736, "409.600mb (429496736 bytes)"),
    (LONG_MAX, "8388608.000tb (9223372036854775807 bytes)"), (1536, "1.500kb (1536 bytes)"),
    (1088, "1.063kb (1088 bytes)"),  # 1.0625 rounds HALF_UP
])
def test_format_memory_size(n, text):
    assert format_memory_size(n) == text


def test_python_numbers_pulumi_style():
    as_text = derive_taskmanager({"taskmanager.memory.process.size": "1728m", "taskmanager.numberOfTaskSlots": "4",
                                  "taskmanager.memory.managed.fraction": "0.25"})
    as_numbers = derive_taskmanager({"taskmanager.memory.process.size": 1811939328.0,
                                     "taskmanager.numberOfTaskSlots": 4.0,
                                     "taskmanager.memory.managed.fraction": 0.25})
    assert as_numbers == as_text
    assert as_numbers.slots == 4
    assert derive_taskmanager({"taskmanager.memory.process.size": 1811939328,
                               "taskmanager.numberOfTaskSlots": 4}) == derive_taskmanager(
        {"taskmanager.memory.process.size": "1728m", "taskmanager.numberOfTaskSlots": "4"})
    # Flink itself: a *string* "4.0" is no integer
    err = tm_error({"taskmanager.memory.process.size": "2g", "taskmanager.numberOfTaskSlots": "4.0"})
    assert str(err) == "Could not parse value '4.0' for key 'taskmanager.numberOfTaskSlots'."
    # non-integral numbers are interpreted as Flink interprets a YAML double
    err = tm_error({"taskmanager.memory.process.size": 1.5})
    assert err.causes[1] == "Could not parse value '1.5' for key 'taskmanager.memory.process.size'."
    err = tm_error({"taskmanager.memory.process.size": "2g", "taskmanager.memory.managed.fraction": 1e-50})
    assert err.causes == ["Configuration value 1.0E-50 overflows/underflows the float type."]
    assert derive_jobmanager({"jobmanager.memory.process.size": "2g",
                              "jobmanager.memory.enable-jvm-direct-memory-limit": True}).max_direct == 128 * MiB


@pytest.mark.parametrize("text, ok", [
    ("0.25", True), (".25", True), ("2.5E-1", True), ("0.25f", True), ("0.25d", True), (" 0.25 ", True),
    ("0x1p-2", True), ("+.25", True), ("0,25", False), ("25%", False), ("0.2.5", False), ("1e", False),
    ("", False),
])
def test_java_float_syntax(text, ok):
    conf = {"taskmanager.memory.flink.size": "4g", "taskmanager.memory.managed.fraction": text}
    if ok:
        assert derive_taskmanager(conf).managed == GiB
    else:
        assert str(tm_error(conf)).startswith("Could not parse value")


def test_none_values_are_unset():
    assert derive_taskmanager({"taskmanager.memory.process.size": "1728m",
                               "taskmanager.memory.flink.size": None}).total_process == 1728 * MiB


# ---------------------------------------------------------------------------------------------------------------
#  breakdown()
# ---------------------------------------------------------------------------------------------------------------


def test_breakdown_shape():
    result = breakdown({"taskmanager.memory.process.size": "1728m", "jobmanager.memory.process.size": "1600m"},
                       "2.2")
    assert result["tm"] == {
        "ok": True, "framework_heap": 134217728, "task_heap": 402653174, "framework_off_heap": 134217728,
        "task_off_heap": 0, "network": 134217730, "managed": 536870920, "metaspace": 268435456,
        "overhead": 201326592, "xmx": 536870902, "max_direct": 268435458, "max_metaspace": 268435456,
    }
    assert result["jm"] == {
        "ok": True, "heap": 1073741824, "off_heap": 134217728, "metaspace": 268435456, "overhead": 201326592,
        "xmx": 1073741824, "max_direct": None, "max_metaspace": 268435456,
    }
    json.dumps(result)


def test_breakdown_reports_the_jobmanager_direct_memory_limit_only_when_flink_sets_it():
    conf = {"jobmanager.memory.process.size": "2048m"}
    assert breakdown(conf)["jm"]["max_direct"] is None  # Flink passes no -XX:MaxDirectMemorySize to the JM
    limited = breakdown({**conf, "jobmanager.memory.enable-jvm-direct-memory-limit": "true",
                         "jobmanager.memory.off-heap.size": "256m"})["jm"]
    assert limited["max_direct"] == limited["off_heap"] == 256 * MiB


def test_breakdown_errors_per_side():
    result = breakdown({"taskmanager.memory.process.size": "8192m", "taskmanager.memory.flink.size": "5734m"})
    assert result["tm"] == {"ok": False, "error": TM_FAILED + (
        f"Derived JVM Overhead size (2.150gb (2308964352 bytes)) is not in configured JVM Overhead range "
        f"{OVERHEAD_RANGE_DEFAULT}.")}
    assert result["jm"]["ok"] is False and result["jm"]["error"].startswith(JM_FAILED + "Either required")
    with pytest.raises(ValueError):
        breakdown({}, "9.9")


# ---------------------------------------------------------------------------------------------------------------
#  flinkplat memory
# ---------------------------------------------------------------------------------------------------------------


def run_cli(argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    parser = argparse.ArgumentParser()
    memory_cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["memory", *argv])
    out, err = io.StringIO(), io.StringIO()
    code = args.handler(args, stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_cli_table(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("taskmanager.memory.process.size: 4096m\ntaskmanager.memory.flink.size: 2867m\n"
                    "taskmanager.numberOfTaskSlots: 4\njobmanager.memory.process.size: 1600m\n")
    code, out, err = run_cli([str(path)])
    assert (code, err) == (0, "")
    assert "-Xmx1368915947 -Xms1368915947 -XX:MaxDirectMemorySize=434844471 -XX:MaxMetaspaceSize=268435456" in out
    assert "1,234,698,219 B" in out and "973.00 MiB" in out
    assert "-Xmx1073741824 -Xms1073741824 -XX:MaxMetaspaceSize=268435456" in out


def test_cli_table_rejected_from_stdin_nested_yaml():
    code, out, err = run_cli(["-", "--flink-version", "v2_2"], stdin=(
        "taskmanager:\n  memory:\n    process.size: 8192m\n    flink.size: 5734m\n"
        "jobmanager.memory.process.size: 2g\n"))
    assert code == 1
    assert "TaskManager: REJECTED by Flink" in out
    assert "Derived JVM Overhead size (2.150gb (2308964352 bytes))" in out
    assert "JobManager\n" in out


def test_cli_json(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("taskmanager.memory.process.size: 1728m\njobmanager.memory.process.size: 1600m\n")
    code, out, _ = run_cli([str(path), "--json", "--flink-version", "1.20.3"])
    assert code == 0
    assert json.loads(out) == breakdown({"taskmanager.memory.process.size": "1728m",
                                         "jobmanager.memory.process.size": "1600m"}, "1.20")


def test_cli_json_reports_the_jobmanager_direct_memory_limit(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("jobmanager.memory.process.size: 1g\njobmanager.memory.enable-jvm-direct-memory-limit: true\n"
                    "taskmanager.memory.process.size: 1728m\n")
    code, out, _ = run_cli([str(path), "--json"])
    assert code == 0
    jm = json.loads(out)["jm"]
    assert jm["max_direct"] == jm["off_heap"] == 128 * MiB


def test_cli_jsonl():
    lines = [
        {"taskmanager.memory.process.size": "1728m", "jobmanager.memory.process.size": "1600m"},
        {"taskmanager.memory.process.size": 2147483648.0, "taskmanager.numberOfTaskSlots": 4.0,
         "jobmanager.memory.process.size": "2g"},
        {"taskmanager.memory.process.size": "1728m"},
    ]
    code, out, _ = run_cli(["--jsonl", "--flink-version", "2.2"], "\n".join(json.dumps(x) for x in lines) + "\n")
    assert code == 1  # the third config has no JobManager memory
    results = [json.loads(line) for line in out.splitlines()]
    assert results == [breakdown(x, "2.2") for x in lines]
    assert results[1]["tm"]["ok"] and results[2]["jm"]["ok"] is False


def test_cli_jsonl_bad_line_exit_2():
    code, out, err = run_cli(["--jsonl"], '{"taskmanager.memory.process.size": "1g"}\nnot json\n[1]\n')
    assert code == 2
    assert len(out.splitlines()) == 3 and "input_error" in out.splitlines()[1]
    assert "line 2" in err


@pytest.mark.parametrize("content", ["[1, 2", "- a\n- b\n"])
def test_cli_unreadable_yaml_exit_2(tmp_path, content):
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    code, out, err = run_cli([str(path)])
    assert code == 2 and out == ""
    assert err.startswith("flinkplat memory: ") and "Traceback" not in err


def test_cli_missing_file_and_bad_version(tmp_path):
    code, _, err = run_cli([str(tmp_path / "nope.yaml")])
    assert code == 2 and "cannot read" in err and "No such file" in err
    code, _, err = run_cli([str(tmp_path)])
    assert code == 2 and "cannot read" in err
    code, _, err = run_cli(["-", "--flink-version", "9.9"], "taskmanager.memory.process.size: 1g\n")
    assert code == 2 and "unsupported Flink version" in err
    code, _, err = run_cli([])
    assert code == 2 and "FILE is required" in err


def test_cli_is_registered():
    from flinkplat.cli import build_parser

    args = build_parser().parse_args(["memory", "x.yaml", "--json"])
    assert args.handler is memory_cmd.run and args.json
