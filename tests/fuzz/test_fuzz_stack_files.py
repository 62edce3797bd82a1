"""Fuzz `flinkplat plan --stack-file F` with generated malformed and mutated stack files (tests/fuzz/stackfuzz.py):
every file gets exit 0, 1 or 2, no traceback, an exit-2 message naming the file and a key path, in under 5 s.

CI runs FLINKPLAT_FUZZ_COUNT cases (default 300) of seed FLINKPLAT_FUZZ_SEED (default fixed, so CI is
reproducible); files that pass the schema run the full plan (program + policy pack) up to
FLINKPLAT_FUZZ_FULL_PLANS of them (default 20), the rest stop after validation. Long local runs:
`python scripts/fuzz.py --count 3000 --seed N` (or the same environment variables with pytest).
"""

from __future__ import annotations

import os

import pytest

from tests.fuzz.stackfuzz import make_case, run_case

SEED = int(os.environ.get("FLINKPLAT_FUZZ_SEED", "20261130"))
COUNT = int(os.environ.get("FLINKPLAT_FUZZ_COUNT", "300"))
FULL_PLANS = int(os.environ.get("FLINKPLAT_FUZZ_FULL_PLANS", "20"))


@pytest.fixture(scope="module")
def warm(tmp_path_factory):
    """The first plan in a process imports Pulumi and the providers (seconds): not part of any case's time."""
    from tests.fuzz.stackfuzz import Case, ROOT

    warm_case = Case(seed=SEED, index=-1, base="dev", data=(ROOT / "Pulumi.dev.yaml").read_bytes())
    outcome = run_case(warm_case, tmp_path_factory.mktemp("warm"), full_plan=True, time_limit=120)
    assert outcome.failure is None, outcome.failure


def test_every_generated_stack_file_gets_an_answer(warm, tmp_path):
    failures, full_plans, codes = [], 0, {0: 0, 1: 0, 2: 0}
    for index in range(COUNT):
        case = make_case(SEED, index)
        outcome = run_case(case, tmp_path, full_plan=full_plans < FULL_PLANS)
        full_plans += outcome.full_plan and outcome.exit_code != 2
        if outcome.exit_code in codes:
            codes[outcome.exit_code] += 1
        if outcome.failure:
            failures.append(f"{case.label}: {outcome.failure}\n    stderr: {outcome.stderr[-500:]!r}\n"
                            f"    reproduce: python scripts/fuzz.py --seed {SEED} --case {index} --write F.yaml")
    print(f"fuzz: {COUNT} cases, exit codes {codes}, {full_plans} full plans")
    assert not failures, f"{len(failures)} of {COUNT} cases failed:\n" + "\n".join(failures[:20])
    # The generator must keep producing all three answers, or it has stopped testing something.
    assert codes[2] > COUNT // 2 and codes[0] + codes[1] > 0, codes


def test_every_generated_flink_config_gets_an_answer_from_flinkplat_memory(tmp_path):
    from tests.fuzz.stackfuzz import make_memory_case, run_memory_case

    failures = []
    for index in range(max(COUNT // 2, 1)):
        outcome = run_memory_case(make_memory_case(SEED, index), tmp_path)
        if outcome.failure:
            failures.append(f"{outcome.case.label}: {outcome.failure}\n    stderr: {outcome.stderr[-300:]!r}")
    assert not failures, f"{len(failures)} cases failed:\n" + "\n".join(failures[:20])


def test_libyaml_reads_every_generated_file_as_the_pure_python_loader_does():
    """load_yaml reads with libyaml's parser first (speed) and falls back to the pure-Python loader on any
    problem: whatever the fast reader accepts must be exactly what the pure-Python loader reads."""
    from flinkplat.config import yamlfile
    from tests.fuzz.stackfuzz import make_memory_case

    assert yamlfile._FastLoader is not None, "PyYAML without libyaml: the fast reader is not exercised"
    cases = [make_case(SEED, index) for index in range(COUNT * 5)]
    cases += [make_memory_case(SEED, index) for index in range(COUNT)]
    fast_reads = 0
    for case in cases:
        try:
            text = yamlfile.decode_utf8(case.data)
        except yamlfile.YamlProblem:
            continue
        read, fast = yamlfile._load_fast(text)
        if not read:
            continue
        fast_reads += 1
        loader = yamlfile._Loader(text)
        try:
            pure = loader.get_single_data()
        except Exception as error:  # noqa: BLE001
            pytest.fail(f"{case.label}: libyaml read it, the pure-Python loader refuses it: {error}")
        finally:
            loader.dispose()
        assert repr(fast) == repr(pure), case.label  # repr: types (1 vs True vs 1.0) and key order count too
    assert fast_reads > len(cases) // 4, fast_reads  # the generator still produces readable files
