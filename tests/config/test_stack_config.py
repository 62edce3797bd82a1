"""The stack file's schema: every error names the stack, the key path and the fix; the good stacks load."""

from __future__ import annotations

import copy
import subprocess
import sys

import pytest

from flinkplat.config.errors import ConfigError
from flinkplat.config.load import load_stack, load_stack_file, read_stack_file
from tests.conftest import ROOT, stack_document


def _load(document: dict, stack: str = "test"):
    values = {k if ":" in k else f"flink-platform:{k}": v for k, v in document["config"].items()}
    secrets = {k for k, v in values.items() if isinstance(v, dict) and set(v) == {"secure"}}
    values = {k: ("[secret]" if k in secrets else v) for k, v in values.items()}
    return load_stack(stack, values, secrets)


def _problems(document: dict) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        _load(document)
    return [str(p) for p in caught.value.problems]


@pytest.fixture
def prod() -> dict:
    return copy.deepcopy(stack_document("prod"))


def _cluster(document: dict, name: str) -> dict:
    return next(c for c in document["config"]["flink-platform:clusters"] if c["name"] == name)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_checked_in_stacks_load(stack):
    loaded = load_stack_file(ROOT / f"Pulumi.{stack}.yaml")
    assert loaded.config.environment == stack
    assert loaded.config.clusters


def test_defaults_are_safe_and_documented():
    loaded = load_stack_file(ROOT / "Pulumi.dev.yaml")
    cluster = loaded.config.clusters[0]
    assert cluster.job.upgrade_mode == "last-state"  # from the file
    from flinkplat.config.models import Job, FlinkCluster

    assert Job.model_fields["upgrade_mode"].default == "savepoint"  # never the operator's stateless default
    for name, field in FlinkCluster.model_fields.items():
        assert field.description, f"FlinkCluster.{name} has no documentation"


def test_unknown_key_suggests_the_right_one(prod):
    _cluster(prod, "warehouse")["taskManager"]["cpus"] = 2
    assert _problems(prod) == [
        "flink-platform:clusters[0].taskManager.cpus: unknown key 'cpus'; did you mean 'cpu'? "
        "allowed keys: cpu, memory, flinkMemoryRatio, slots, replicas, hostNetwork"
    ]


def test_wrong_type_names_the_key_path(prod):
    _cluster(prod, "payments-enrich")["taskManager"]["cpu"] = "two"
    assert _problems(prod) == [
        "flink-platform:clusters[1].taskManager.cpu: Input should be a valid number, unable to parse string as a "
        "number (got 'two'); write a number, e.g. 0.5"
    ]


def test_missing_required_value(prod):
    del _cluster(prod, "fraud-score")["job"]["jarURI"]
    assert _problems(prod) == ["flink-platform:clusters[2].job.jarURI: required value is missing; set it in the stack file"]


def test_unknown_top_level_key(prod):
    prod["config"]["flink-platform:team"] = []
    assert _problems(prod)[0].startswith("flink-platform:team: unknown key; did you mean 'teams'? top-level keys are:")


def test_bad_literal_suggests(prod):
    _cluster(prod, "warehouse")["job"]["upgradeMode"] = "last_state"
    assert _problems(prod) == [
        "flink-platform:clusters[0].job.upgradeMode: 'last_state' is not allowed; did you mean 'last-state'? "
        "allowed: 'savepoint', 'last-state' or 'stateless'"
    ]


def test_memory_without_unit_is_refused(prod):
    _cluster(prod, "warehouse")["taskManager"]["memory"] = "4096"
    assert _problems(prod) == [
        "flink-platform:clusters[0].taskManager.memory: '4096' has no unit and would mean 4096 bytes; write 4096m or 4096g"
    ]


@pytest.mark.parametrize("memory", ["8388608t", "9223372036854775808b", "8589934592Gi"])
def test_memory_beyond_64_bits_is_refused(prod, memory):
    _cluster(prod, "warehouse")["taskManager"]["memory"] = memory
    assert _problems(prod) == [
        f"flink-platform:clusters[0].taskManager.memory: '{memory}' is too large: Flink reads memory sizes as 64-bit "
        "byte counts (at most 8 EiB)"
    ]


def test_kubernetes_quantities_are_normalised(prod):
    _cluster(prod, "warehouse")["taskManager"]["memory"] = "4Gi"
    assert _load(prod).config.clusters[0].task_manager.memory == "4g"


def test_flink_name_rule_of_the_operator(prod):
    _cluster(prod, "warehouse")["name"] = "w" * 46
    problems = _problems(prod)
    assert problems[0].startswith("flink-platform:clusters[0].name: '" + "w" * 46 + "' is not a valid FlinkDeployment name")
    assert "it is 46 characters" in problems[0]


def test_unknown_team_reference(prod):
    _cluster(prod, "warehouse")["team"] = "logistic"
    assert _problems(prod) == [
        "flink-platform:clusters[0].team: team 'logistic' is not declared under flink-platform:teams; "
        "did you mean 'logistics'? declared teams: payments, logistics"
    ]


def test_missing_secret_reference(prod):
    del prod["config"]["flink-platform:paymentsKafkaPassword"]
    assert _problems(prod) == [
        "flink-platform:clusters[1].kafka.saslPassword.secret: secret key 'paymentsKafkaPassword' is not set; "
        "run: pulumi config set --secret flink-platform:paymentsKafkaPassword <value>"
    ]


def test_secret_inside_structured_config_is_refused(tmp_path, prod):
    _cluster(prod, "payments-enrich")["kafka"]["saslPassword"] = {"secure": "v1:abc"}
    import yaml

    path = tmp_path / "Pulumi.test.yaml"
    path.write_text(yaml.safe_dump(prod))
    with pytest.raises(ConfigError) as caught:
        read_stack_file(path)
    assert str(caught.value.problems[0]).startswith(
        "flink-platform:clusters[1].kafka.saslPassword: a secret inside structured config; move it to its own top-level key")


def test_secrets_stay_placeholders_offline():
    loaded = load_stack_file(ROOT / "Pulumi.prod.yaml")
    assert loaded.secrets == {"paymentsKafkaPassword": "[secret]"}


def test_application_cluster_needs_a_job(prod):
    del _cluster(prod, "warehouse")["job"]
    assert _problems(prod) == [
        "flink-platform:clusters[0]: application mode needs 'job' (jarURI, entryClass, parallelism); "
        "or set mode: session and list 'jobs'"
    ]


def test_every_problem_is_reported_at_once(prod):
    _cluster(prod, "warehouse")["taskManager"]["cpus"] = 2
    _cluster(prod, "fraud-score")["jobManager"]["replicas"] = 0
    assert [p.split(":")[1].split(" ")[0] for p in _problems(prod)] == [
        "clusters[0].taskManager.cpus", "clusters[2].jobManager.replicas"]


def test_cli_exits_2_with_message_and_no_traceback(tmp_path, prod):
    import yaml

    _cluster(prod, "warehouse")["taskManager"]["cpus"] = 2
    path = tmp_path / "Pulumi.broken.yaml"
    path.write_text(yaml.safe_dump(prod))
    result = subprocess.run([sys.executable, "-m", "flinkplat", "plan", "--stack-file", str(path)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2
    assert result.stderr.startswith(f"stack 'broken' ({path}): invalid configuration (1 problem)\n")
    assert "flink-platform:clusters[0].taskManager.cpus: unknown key 'cpus'; did you mean 'cpu'?" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_pulumi_runtime_path_reads_the_same_config():
    """`pulumi up` reads config from the runtime; the offline plan sets it the same way."""
    from pulumi.runtime.config import set_all_config

    import json

    values, secret_keys = read_stack_file(ROOT / "Pulumi.prod.yaml")
    set_all_config({k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}, sorted(secret_keys))
    import pulumi.runtime.settings as settings
    from pulumi.runtime import mocks

    class NoMocks(mocks.Mocks):
        def new_resource(self, args):
            return args.name, args.inputs

        def call(self, args):
            return {}

    mocks.set_mocks(NoMocks(), project="flink-platform", stack="prod")
    from flinkplat.config.load import load_from_pulumi_runtime

    assert load_from_pulumi_runtime().config == load_stack_file(ROOT / "Pulumi.prod.yaml").config
    set_all_config({}, [])
    assert settings is not None


def test_configuration_reference_is_up_to_date():
    from flinkplat.config.docs import render

    assert (ROOT / "docs" / "configuration.md").read_text() == render(), \
        "run: python -m flinkplat.config.docs > docs/configuration.md"


def test_operator_owned_flink_keys_are_refused(prod):
    _cluster(prod, "warehouse").setdefault("flinkConfiguration", {})["kubernetes.cluster-id"] = "wh"
    assert _problems(prod) == [
        "flink-platform:clusters[0].flinkConfiguration: flinkConfiguration.kubernetes.cluster-id is set by the Flink "
        "operator itself and its validator rejects it; remove it (the operator derives it from the resource's "
        "name/namespace)"
    ]
