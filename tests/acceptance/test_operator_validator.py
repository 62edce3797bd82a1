"""The Flink Kubernetes Operator's own validator (its DefaultValidator, run through scripts/operator_validator/)
accepts every FlinkDeployment / FlinkSessionJob of the dev and prod plans and rejects the classic mistakes with
its exact messages.

Two operator releases are involved:
- the pinned one (FLINK_OPERATOR_VERSION): the real check. Apache did not publish its operator jar on Maven
  Central, so these tests skip (in CI too) with that reason until it is published there;
- HARNESS_CHECK_VERSION, the newest release whose operator jar is on Maven Central: the same driver and the same
  mutations run on it (with a Flink version it knows), proving the driver and `validate_with_operator` work.
"""

from __future__ import annotations

import copy

import pytest

from flinkplat import versions
from tests.acceptance import samples
from tests.acceptance.conftest import missing, plan_manifests
from tests.acceptance.operator_validator import (
    FLINK_KINDS,
    HARNESS_CHECK_VERSION,
    OperatorValidatorUnavailable,
    validate_with_operator,
    validator_info,
)

pytestmark = pytest.mark.operator_validator

PINNED = versions.FLINK_OPERATOR_VERSION
STACKS = ("dev", "prod")

# What differs between the two releases for these tests.
RELEASES = {
    PINNED: {"flink_version": "v1_20", "image": "flink:1.20.3-scala_2.12-java17",
             # built on Flink 1.20: CheckpointingOptions.SAVEPOINT_DIRECTORY is execution.checkpointing.savepoint-dir
             "savepoint_key": "execution.checkpointing.savepoint-dir"},
    HARNESS_CHECK_VERSION: {"flink_version": "v1_19", "image": "flink:1.19.3-scala_2.12-java17",
                            # built on Flink 1.18, whose key is state.savepoints.dir
                            "savepoint_key": "state.savepoints.dir"},
}


def _require(version: str) -> None:
    try:
        validator_info(version)
    except OperatorValidatorUnavailable as err:
        if err.registry:
            pytest.skip(err.reason)  # not fixable by a set-up step: the release is not on the registry
        missing(err.reason)


def _name_message(name: str) -> str:
    return (f"The FlinkDeployment name: {name} is invalid, must consist of lower case alphanumeric characters or "
            "'-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
            "'abc-123'), and the length must be no more than 45 characters.")


def _drop_savepoint_dir(m: dict) -> None:
    for key in ("execution.checkpointing.savepoint-dir", "state.savepoints.dir"):
        m["spec"]["flinkConfiguration"].pop(key)


def _drop_ha(m: dict) -> None:
    for key in ("high-availability.type", "high-availability.storageDir"):
        m["spec"]["flinkConfiguration"].pop(key)


LONG_NAME = "clickstream-enrichment-with-a-name-that-is-too-long"  # 51 characters
MUTATIONS = {
    "name-longer-than-45": (lambda m: m["metadata"].update(name=LONG_NAME), lambda r: _name_message(LONG_NAME)),
    "forbidden-cluster-id": (lambda m: m["spec"]["flinkConfiguration"].update({"kubernetes.cluster-id": "other"}),
                             lambda r: "Forbidden Flink config key: kubernetes.cluster-id"),
    "standby-jobmanager-without-ha": (lambda m: (m["spec"]["jobManager"].update(replicas=2), _drop_ha(m)),
                                      lambda r: "High availability should be enabled when starting standby JobManagers."),
    "savepoint-mode-without-savepoint-dir": (
        _drop_savepoint_dir,
        lambda r: f"Job could not be upgraded with savepoint while config key[{r['savepoint_key']}] is not set"),
}


def _deployment(version: str, **kw) -> dict:
    r = RELEASES[version]
    return samples.flink_deployment(flink_version=r["flink_version"], image=r["image"], **kw)


def _check_mutations(version: str) -> None:
    base = _deployment(version)
    manifests, expected = [base], [None]
    for mutate, message in MUTATIONS.values():
        m = copy.deepcopy(base)
        mutate(m)
        manifests.append(m)
        expected.append(message(RELEASES[version]))
    assert validate_with_operator(manifests, operator_version=version) == expected


# -- the pinned operator ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_operator_accepts_every_flink_resource_of_the_plan(stack_plan, stack):
    _require(PINNED)
    flink = [(name, m) for _, name, m in plan_manifests(stack_plan(stack)) if m["kind"] in FLINK_KINDS]
    assert flink, f"the {stack} plan has no Flink resources"
    verdicts = validate_with_operator([m for _, m in flink])
    rejected = [f"{name}: {verdict}" for (name, _), verdict in zip(flink, verdicts) if verdict is not None]
    assert not rejected, "the operator's validator rejects:\n" + "\n".join(rejected)


def test_operator_rejects_the_classic_mistakes_with_its_own_messages():
    _require(PINNED)
    _check_mutations(PINNED)


# -- the driver itself, on the newest operator release Maven Central has --------------------------------------


def test_driver_reports_the_operator_messages_on_the_newest_published_release():
    _require(HARNESS_CHECK_VERSION)
    _check_mutations(HARNESS_CHECK_VERSION)


def test_driver_validates_session_jobs_against_their_session_cluster():
    _require(HARNESS_CHECK_VERSION)
    r = RELEASES[HARNESS_CHECK_VERSION]
    session = samples.session_deployment(flink_version=r["flink_version"], image=r["image"])
    application = _deployment(HARNESS_CHECK_VERSION, name="app")
    on_session = samples.flink_session_job("on-session", deployment=session["metadata"]["name"])
    on_application = samples.flink_session_job("on-app", deployment="app")
    verdicts = validate_with_operator([session, application, on_session, on_application],
                                      operator_version=HARNESS_CHECK_VERSION)
    assert verdicts == [None, None, None, "Can not submit session job to application cluster"]


def test_driver_rejects_non_flink_kinds():
    with pytest.raises(ValueError, match="not a Flink resource: Namespace"):
        validate_with_operator([samples.namespace()])


# -- agreement: nothing the operator rejects passes our mandatory rules ---------------------------------------


def _pack_verdicts(manifests: list[dict]) -> list[list[str]]:
    """Mandatory findings of our policy pack (through pulumi-policy's analyzer) per manifest."""
    from flinkplat.plan.policies import default_pack_config, run_pack
    from flinkplat.plan.runner import PlannedResource

    resources = [PlannedResource(urn=f"urn:pulumi:t::flink-platform::kubernetes:flink.apache.org/v1beta1:{m['kind']}::r{i}",
                                 type=f"kubernetes:flink.apache.org/v1beta1:{m['kind']}", name=f"r{i}",
                                 provider="kubernetes:test", parent=None, custom=True, inputs=m)
                 for i, m in enumerate(manifests)]
    violations, _ = run_pack(resources, default_pack_config("prod"))
    # The samples come without their namespace's NetworkPolicies: that stack-level finding is not about the spec.
    return [[v["policy"] for v in violations if v["resource"] == f"r{i}" and v["level"] == "mandatory"
             and v["policy"] != "flink-namespace-default-deny"]
            for i in range(len(manifests))]


@pytest.mark.parametrize("version", [PINNED, HARNESS_CHECK_VERSION])
def test_every_operator_rejection_is_a_mandatory_violation_of_our_pack(version):
    _require(version)
    base = _deployment(version)
    manifests = [base]
    for mutate, _ in MUTATIONS.values():
        manifests.append(copy.deepcopy(base))
        mutate(manifests[-1])
    operator = validate_with_operator(manifests, operator_version=version)
    ours = _pack_verdicts(manifests)
    assert operator[1:] and all(verdict is not None for verdict in operator[1:])
    missed = [f"{name}: operator says {verdict!r}, our pack has no mandatory violation"
              for name, verdict, findings in zip(["baseline", *MUTATIONS], operator, ours) if verdict and not findings]
    assert not missed, "\n".join(missed)
