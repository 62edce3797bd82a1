"""Stack files that used to crash `flinkplat plan --stack-file F` with a traceback, or hang it (issue 11, section 1).
Each now gets an answer: a plan, or exit 2 with the file, the key path and the fix."""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

import pytest
import yaml

from flinkplat.cli import main
from tests.conftest import ROOT

DEV_TEXT = (ROOT / "Pulumi.dev.yaml").read_text(encoding="utf-8")


def plan(path: Path, capsys, *extra: str) -> tuple[int, str, str]:
    code = main(["plan", "--stack-file", str(path), *extra])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    return code, captured.out, captured.err


def write(tmp_path: Path, text: str | bytes, name: str = "broken") -> Path:
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", errors="surrogatepass"))
    return path


def refused(tmp_path: Path, capsys, text: str | bytes) -> list[str]:
    """The problem lines of an exit-2 answer (after checking the head names the stack and the file)."""
    path = write(tmp_path, text)
    code, out, err = plan(path, capsys)
    assert code == 2, err
    assert out == ""
    head, *problems = err.splitlines()
    assert head.startswith(f"stack 'broken' ({path}): invalid configuration")
    return problems


def with_clickstream(extra: str) -> str:
    """The dev stack with `extra` (YAML at the clickstream cluster's indentation) added to its first cluster."""
    anchor = "      checkpointing:\n        interval: 30s\n"
    assert anchor in DEV_TEXT
    return DEV_TEXT.replace(anchor, extra + anchor, 1)


# --- dates ---------------------------------------------------------------------------------------------------------


def _docs_waiver_example() -> str:
    text = (ROOT / "docs" / "policies.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    example = next(block for block in blocks if block.startswith("waivers:"))
    assert re.search(r"expires: \d{4}-\d{2}-\d{2}\n", example), "the docs example uses an unquoted date"
    return example


def test_the_docs_waiver_example_with_an_unquoted_date_plans_and_applies(tmp_path, capsys, monkeypatch):
    from flinkplat.rules import waivers

    example = _docs_waiver_example()
    expires = dt.date.fromisoformat(re.search(r"expires: (\S+)", example).group(1))
    monkeypatch.setattr(waivers, "today", lambda: expires - dt.timedelta(days=30))  # the waiver is still valid
    assert "        slots: 1\n" in DEV_TEXT
    text = DEV_TEXT.replace("        slots: 1\n", "        slots: 2\n", 1)  # clickstream: 1 CPU, 2 slots
    code, out, _ = plan(write(tmp_path, text, "without"), capsys, "--json")
    assert any(v["policy"] == "flink-slots-match-cpu" for v in yaml.safe_load(out)["violations"])

    anchor = "      checkpointing:\n        interval: 30s\n"
    waiver = "".join(f"      {line}\n" for line in example.splitlines())
    waived = write(tmp_path, text.replace(anchor, waiver + anchor, 1), "waived")
    code, out, err = plan(waived, capsys, "--json")
    assert code in (0, 1), err
    result = yaml.safe_load(out)
    assert [w for w in result["waivers"] if w["policy"] == "flink-slots-match-cpu"] == [
        {"policy": "flink-slots-match-cpu", "resource": result["waivers"][0]["resource"],
         "reason": "IO-bound enrichment, tasks wait on a remote API", "expires": expires.isoformat()}]
    assert not any(v["policy"] == "flink-slots-match-cpu" for v in result["violations"])


def test_an_unquoted_date_anywhere_is_read_as_its_text(tmp_path, capsys):
    text = with_clickstream("      flinkConfiguration:\n        pipeline.name: 2027-03-31\n") \
        + "  aws:someDate: 2027-03-31\n  flink-platform:when: 2027-03-31T12:00:00Z\n"
    # flink-platform:when is unknown: refused by name, not by a crash on the date
    assert refused(tmp_path, capsys, text)[0].startswith("  - flink-platform:when: unknown key")
    text = text.replace("  flink-platform:when: 2027-03-31T12:00:00Z\n", "")
    code, out, err = plan(write(tmp_path, text, "dated"), capsys, "--json")
    assert code in (0, 1), err
    deployments = [r for r in yaml.safe_load(out)["resources"] if r["type"].endswith(":FlinkDeployment")
                   and r["inputs"]["metadata"]["name"] == "clickstream"]
    assert deployments[0]["inputs"]["spec"]["flinkConfiguration"]["pipeline.name"] == "2027-03-31"


# --- keys, encodings, YAML structure --------------------------------------------------------------------------------


@pytest.mark.parametrize("key,kind", [("1", "a number"), ("true", "a boolean"), ("null", "null")])
def test_a_non_text_key_under_config_is_refused(tmp_path, capsys, key, kind):
    problems = refused(tmp_path, capsys, DEV_TEXT + f"  {key}: x\n")
    assert problems == [f"  - flink-platform:{key}: key {key} is {kind}" + problems[0].split(f"is {kind}", 1)[1]]
    assert f"quote it ('{key}': ...)" in problems[0]


def test_a_non_text_key_deeper_down_is_refused_with_its_path(tmp_path, capsys):
    problems = refused(tmp_path, capsys, DEV_TEXT.replace("tier: dev", "tier: dev\n            7: seven", 1))
    assert problems[0].startswith("  - flink-platform:regions[0].kubernetesClusters[0].labels.7: key 7 is a number")


def test_a_latin1_file_is_refused_with_the_line_and_the_fix(tmp_path, capsys):
    data = DEV_TEXT.replace("- name: analytics", "- name: analytïcs", 1).encode("latin-1")
    line = DEV_TEXT[:DEV_TEXT.index("- name: analytics")].count("\n") + 1
    problems = refused(tmp_path, capsys, data)
    assert problems == [f"  - flink-platform:teams[0].name (line {line}, column 19): byte 0xef is not UTF-8 (the file "
                        "looks like Latin-1/Windows-1252 or another legacy encoding); save it as UTF-8, e.g. iconv -f "
                        "LATIN1 -t UTF-8"]


def test_a_utf16_file_with_a_bom_is_refused_with_the_fix(tmp_path, capsys):
    problems = refused(tmp_path, capsys, DEV_TEXT.encode("utf-16"))
    assert problems == ["  - (top level) (start of file): the file is UTF-16 (it starts with a UTF-16 byte-order "
                        "mark); save it as UTF-8, e.g. iconv -f UTF-16 -t UTF-8"]


def test_a_utf8_byte_order_mark_is_fine(tmp_path, capsys):
    code, _, err = plan(write(tmp_path, b"\xef\xbb\xbf" + DEV_TEXT.encode()), capsys)
    assert code in (0, 1), err


def test_500_levels_of_nesting_are_refused_not_a_recursion_error(tmp_path, capsys):
    problems = refused(tmp_path, capsys, DEV_TEXT + "  aws:deep: " + "[" * 500 + "]" * 500 + "\n")
    assert len(problems) == 1
    assert problems[0].startswith("  - aws:deep[0][0][0][0][0][0][0][0][0][0]…(52 more levels) (line ")
    assert problems[0].endswith("not valid YAML: nested more than 64 levels deep; a stack file needs about 10 — "
                                "flatten it")


def test_a_self_referencing_alias_is_refused_not_a_recursion_error(tmp_path, capsys):
    problems = refused(tmp_path, capsys, DEV_TEXT + "  aws:loop: &a [*a]\n")
    assert problems == [f"  - aws:loop[0] (line {DEV_TEXT.count(chr(10)) + 1}, column 17): not valid YAML: alias *a "
                        "refers to the value that contains it (a cycle: the value would be infinite); write the value "
                        "out instead"]


def test_an_alias_bomb_is_refused_quickly(tmp_path, capsys):
    lines = ["  aws:l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"  aws:l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 9)]
    start = time.perf_counter()
    problems = refused(tmp_path, capsys, DEV_TEXT + "\n".join(lines) + "\n")
    assert time.perf_counter() - start < 5
    assert problems == [f"  - aws:l4[7] (line {DEV_TEXT.count(chr(10)) + 5}, column 51): not valid YAML: aliases add more "
                        "than 100,000 values to the document (an alias bomb?); write the repeated values out or reuse "
                        "fewer of them"]


def test_anchors_and_merge_keys_still_work(tmp_path, capsys):
    text = DEV_TEXT.replace("      jobManager:\n        cpu: 0.5\n        memory: 1600m\n",
                            "      jobManager: &small\n        cpu: 0.5\n        memory: 1600m\n", 1)
    text = text.replace("      jobManager:\n        cpu: 0.5\n        memory: 1600m\n",
                        "      jobManager: {<<: *small}\n", 1)
    code, _, err = plan(write(tmp_path, text), capsys)
    assert code in (0, 1), err


def test_a_duplicate_key_is_refused_not_silently_overwritten(tmp_path, capsys):
    problems = refused(tmp_path, capsys, DEV_TEXT.replace("        interval: 30s\n",
                                                          "        interval: 30s\n        interval: 5s\n", 1))
    assert len(problems) == 1
    assert problems[0].startswith("  - flink-platform:clusters[0].checkpointing.interval (line ")
    assert "duplicate key 'interval' (first at line" in problems[0]


def test_a_lone_surrogate_escape_is_refused(tmp_path, capsys):
    problems = refused(tmp_path, capsys, with_clickstream('      flinkConfiguration:\n        pipeline.name: "a\\ud800"\n'))
    assert problems == ["  - flink-platform:clusters[0].flinkConfiguration.pipeline.name: the text contains \\ud800, "
                        "half of a UTF-16 surrogate pair, which is not a character (no UTF-8 or JSON encoder accepts "
                        "it); write the character itself (or a \\U0001XXXX escape)"]


def test_a_control_character_is_refused_with_its_place(tmp_path, capsys):
    problems = refused(tmp_path, capsys, DEV_TEXT.replace("tier: dev", "tier: d\x07ev", 1))
    assert problems[0].startswith("  - flink-platform:regions[0].kubernetesClusters[0].labels.tier (line ")
    assert "character #x0007 is not allowed in YAML" in problems[0]


# --- numbers ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw,shown", [(".inf", "inf is not a finite number"),
                                       ("1e309", "'1e309' is out of range; use a number that is finite"),
                                       ('"1e309"', "'1e309' is out of range; use a number that is finite"),
                                       (".nan", "nan is not a finite number")])
def test_a_non_finite_cpu_is_refused(tmp_path, capsys, raw, shown):
    problems = refused(tmp_path, capsys, DEV_TEXT.replace("cpu: 0.5", f"cpu: {raw}", 1))
    assert problems[0].startswith(f"  - flink-platform:clusters[0].jobManager.cpu: {shown}")


HUGE = "9" * 320


@pytest.mark.parametrize("old,new,path", [
    ("parallelism: 2", f"parallelism: {HUGE}", "flink-platform:clusters[0].job.parallelism"),
    ("wave: 0", f"wave: {HUGE}", "flink-platform:regions[0].kubernetesClusters[0].wave"),
    ("ports: [9092]", f"ports: [{HUGE}]", "flink-platform:teams[0].egress.kafka[0].ports[0]"),
    ("cpu: 0.5", f"cpu: -{HUGE}", "flink-platform:clusters[0].jobManager.cpu"),
    ("tier: dev", f"tier: {HUGE}", "flink-platform:regions[0].kubernetesClusters[0].labels.tier"),
    ("config:\n", f"config:\n  aws:count: {'9' * 5000}\n", "aws:count"),
])
def test_a_300_digit_integer_is_refused_wherever_a_number_goes(tmp_path, capsys, old, new, path):
    problems = refused(tmp_path, capsys, DEV_TEXT.replace(old, new, 1))
    assert len(problems) == 1
    assert problems[0].startswith(f"  - {path}: ")
    assert "is too large: numbers must fit in 64 bits" in problems[0] and len(problems[0]) < 300


@pytest.mark.parametrize("old,new,path,limit", [
    ("parallelism: 2", "parallelism: 40000", "flink-platform:clusters[0].job.parallelism", "of at most 32768"),
    ("cpu: 0.5", "cpu: 5000", "flink-platform:clusters[0].jobManager.cpu", "of at most 1024"),
    ("slots: 1", "slots: 0", "flink-platform:clusters[0].taskManager.slots", "of at least 1"),
])
def test_numbers_have_documented_bounds(tmp_path, capsys, old, new, path, limit):
    problems = refused(tmp_path, capsys, DEV_TEXT.replace(old, new, 1))
    assert problems == [f"  - {path}: {new.split(': ')[1]} is out of range; use a number {limit} "
                        "(see docs/configuration.md)"]


def test_a_huge_kafka_partition_count_is_refused_at_once(tmp_path, capsys):
    kafka = ("      kafka:\n        bootstrapServers: kafka:9092\n        topic: clicks\n"
             "        partitions: 99999999999\n        consumerGroup: clickstream\n")
    start = time.perf_counter()
    problems = refused(tmp_path, capsys, with_clickstream(kafka))
    assert time.perf_counter() - start < 5
    assert problems == ["  - flink-platform:clusters[0].kafka.partitions: 99999999999 is out of range; use a number "
                        "of at most 1000000 (see docs/configuration.md)"]


def test_the_nearest_divisor_is_found_without_enumerating_every_number():
    from flinkplat.rules.tuning import nearest_divisor

    assert [nearest_divisor(24, 5), nearest_divisor(24, 7), nearest_divisor(97, 10), nearest_divisor(1_000_000, 7)] \
        == [6, 8, 1, 8]
    start = time.perf_counter()
    assert nearest_divisor(99999999999, 7) == 9  # 99999999999 = 3^2 · 21649 · 513239
    assert nearest_divisor(10**18 + 9, 1000) >= 1  # past the scan limit: bounded work, still an answer
    assert time.perf_counter() - start < 1


def test_the_kafka_rule_answers_at_once_for_a_huge_partition_count():
    """The pack reads partitions from the FlinkDeployment's annotation (any manifest, not only ours)."""
    from tests.rules.helpers import as_res, prod_manifest, run

    manifest = prod_manifest()
    manifest["metadata"]["annotations"]["flink-platform/kafka-source"] = \
        '{"topic": "t", "partitions": 99999999999, "sourceParallelism": 7}'
    start = time.perf_counter()
    messages = run("flink-kafka-partitions", as_res(manifest))
    assert time.perf_counter() - start < 2
    assert "use a source parallelism that divides 99999999999, e.g. 9." in messages[0]
    manifest["metadata"]["annotations"]["flink-platform/kafka-source"] = '{"partitions": ' + "9" * 5000 + "}"
    assert run("flink-kafka-partitions", as_res(manifest)) == []  # unreadable annotation: nothing to check


# --- durations -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["٣s", "３０s", "٣٠ min", "30\u00a0s"])
def test_a_duration_flink_cannot_read_is_refused(tmp_path, capsys, text):
    problems = refused(tmp_path, capsys, DEV_TEXT.replace("interval: 30s", f'interval: "{text}"', 1))
    assert problems == [f"  - flink-platform:clusters[0].checkpointing.interval: '{text}' is not a duration; write "
                        "it like 30s, 5min, 1h"]


def test_durations_are_read_like_flinks_time_utils():
    from flinkplat.flink.durations import parse_duration_ms

    assert [parse_duration_ms(t) for t in ("60s", " 10 min ", "500", "1 µs", "60S")] == [60000, 600000, 500, 0.001,
                                                                                          60000]
    for text in ("٣s", "３s", "1\u00a0s", "9" * 20 + "s", "99999999999999999 d", "-1s", "1.5s"):
        with pytest.raises(ValueError):
            parse_duration_ms(text)


# --- the CLI's other inputs ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text,expected", [
    (b"x: &a [*a]\n", "alias *a refers to the value that contains it"),
    (b"taskmanager.cpu.cores: .nan\n", "taskmanager.cpu.cores: nan is not a finite number"),
    (b"taskmanager.memory.process.size: 4g\nx: " + b"[" * 300 + b"]" * 300 + b"\n", "nested more than 64 levels"),
    ("taskmanager.memory.process.size: 4g\n".encode("utf-16"), "the file is UTF-16"),
    (b'a: "\\ud800"\n', "a: the text contains \\ud800"),
])
def test_flinkplat_memory_answers_malformed_files_with_exit_2(tmp_path, capsys, text, expected):
    path = tmp_path / "flink-conf.yaml"
    path.write_bytes(text)
    assert main(["memory", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"flinkplat memory: {path}") and expected in err and "Traceback" not in err


def test_flinkplat_memory_reads_a_date_as_text(tmp_path, capsys):
    path = tmp_path / "flink-conf.yaml"
    path.write_text("taskmanager.memory.process.size: 2027-03-31\n")
    assert main(["memory", str(path)]) == 1  # Flink rejects the size, with its own message
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("text,expected", [
    (b'{"flink-slots-match-cpu": NaN}', "NaN is not a JSON number"),
    (b'{"flink-slots-match-cpu": {"x": 1e999}}', "flink-slots-match-cpu.x: inf is not a finite number"),
    (b'{"a": ' + b"[" * 100000 + b"]" * 100000 + b"}", "not valid JSON"),
    ('{"é": 1}'.encode("latin-1"), "is not UTF-8"),
])
def test_a_malformed_policy_pack_config_is_a_clear_error(tmp_path, text, expected):
    from flinkplat.plan.policies import PackConfigError, load_pack_config

    path = tmp_path / "config.dev.json"
    path.write_bytes(text)
    with pytest.raises(PackConfigError) as raised:
        load_pack_config(path)
    assert str(raised.value).startswith(f"policy pack config {path}") and expected in str(raised.value)


# --- found by the fuzzer (tests/fuzz) -------------------------------------------------------------------------------


def test_a_raw_option_the_platform_computes_with_must_be_a_number(tmp_path, capsys):
    """`pipeline.max-parallelism: LoadBalancer` and `kubernetes.jobmanager.memory.limit-factor: ''` crashed the
    program (float() in the scaler decision and the namespace LimitRange)."""
    problems = refused(tmp_path, capsys, with_clickstream(
        "      flinkConfiguration:\n        pipeline.max-parallelism: LoadBalancer\n"))
    assert problems == [
        "  - flink-platform:clusters[0].flinkConfiguration: flinkConfiguration.pipeline.max-parallelism: "
        "'LoadBalancer' is not a whole number from 1 to 32768 (the platform computes with it); write e.g. 720"]
    problems = refused(tmp_path, capsys, with_clickstream(
        "      flinkConfiguration:\n        kubernetes.jobmanager.memory.limit-factor: ''\n"))
    assert problems == [
        "  - flink-platform:clusters[0].flinkConfiguration: flinkConfiguration.kubernetes.jobmanager.memory.limit-factor: "
        "'' is not a number from 1 to 1000 (the platform computes with it); write e.g. 1.5"]


def test_a_key_with_spaces_is_quoted_in_the_key_path(tmp_path, capsys):
    problems = refused(tmp_path, capsys, DEV_TEXT + '  "flink-platform:clusters ": x\n')
    assert problems[0].startswith("""  - flink-platform:"clusters ": unknown key; did you mean 'clusters'?""")


def test_a_waiver_date_that_does_not_exist_says_how_to_write_one(tmp_path, capsys):
    problems = refused(tmp_path, capsys, with_clickstream(
        "      waivers:\n        - policy: flink-slots-match-cpu\n          reason: IO-bound enrichment, waits\n"
        "          expires: 2027-02-30\n"))
    assert problems == ["  - flink-platform:clusters[0].waivers[0].expires: '2027-02-30' is not a date; write it as "
                        "YYYY-MM-DD, e.g. expires: 2027-03-31"]


def test_a_file_without_a_byte_order_mark_in_utf16_is_refused(tmp_path, capsys):
    problems = refused(tmp_path, capsys, DEV_TEXT.encode("utf-16-le"))
    assert problems == ["  - (top level) (line 1, column 2): the file contains NUL bytes: it looks like UTF-16 or "
                        "UTF-32 (without a byte-order mark); save it as UTF-8, e.g. iconv -f UTF-16 -t UTF-8"]


@pytest.mark.parametrize("make", [lambda d: d / "Pulumi.missing.yaml", lambda d: d],
                         ids=["missing-file", "a-directory"])
def test_a_stack_file_that_cannot_be_read_is_exit_2(tmp_path, capsys, make):
    path = make(tmp_path)
    code, out, err = plan(path, capsys)
    assert code == 2 and out == ""
    assert err.splitlines()[1].startswith(f"  - {path}: ")
    assert "--stack-file PATH" in err
