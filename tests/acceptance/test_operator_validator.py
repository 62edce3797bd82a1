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
import random

import pytest

from flinkplat import versions
from tests.acceptance import samples
from tests.acceptance.conftest import missing, plan_manifests
from tests.acceptance.operator_validator import (
    FLINK_KINDS,
    HARNESS_CHECK_VERSION,
    OperatorValidatorUnavailable,
    java_syntax_verdicts,
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


def _jar_host_config(manifests: list[dict]) -> dict[str, str]:
    """1.15.0 resolves each session job's jar host while validating. Where this machine cannot resolve one (CI has
    no public DNS), that single check is switched off; flink-session-job-validation covers what is knowable offline."""
    import socket
    from urllib.parse import urlparse

    for m in manifests:
        host = urlparse(str(m.get("spec", {}).get("job", {}).get("jarURI", ""))).hostname
        if m["kind"] == "FlinkSessionJob" and host:
            try:
                socket.getaddrinfo(host, 443)
            except OSError:
                return {"kubernetes.operator.user.artifacts.disallow-restricted-hosts": "false"}
    return {}


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
    verdicts = validate_with_operator([m for _, m in flink], operator_config=_jar_host_config([m for _, m in flink]))
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


# -- parity with the 1.15.0 rules (issue 11 §3) where a runnable release has the same rule ---------------------

UNITS = "(b | bytes) / (k | kb | kibibytes) / (m | mb | mebibytes) / (g | gb | gibibytes) / (t | tb | tebibytes)"


def _tm_resource(**values):
    return lambda m: m["spec"]["taskManager"]["resource"].update(values)


def _conf(**values):
    return lambda m: m["spec"]["flinkConfiguration"].update(values)


# name -> (mutation of the application FlinkDeployment, the operator's message for a release)
PARITY_MUTATIONS = {
    "memory-2gib-accepted": (_tm_resource(memory="2gib"), lambda r: None),
    "memory-2-space-Gi-accepted": (_tm_resource(memory="2 Gi"), lambda r: None),
    "memory-fractional-binary-refused": (
        _tm_resource(memory="1.5Gi"),
        lambda r: f"TaskManager resource memory parse error: Memory size unit '.0' does not match any of the "
                  f"recognized units: {UNITS}"),
    "ephemeral-storage-unparseable": (
        _tm_resource(ephemeralStorage="2Mi5"),
        lambda r: 'TaskManager resource ephemeral storage parse error: For input string: "i5"'),
    "ephemeral-storage-fractional-accepted": (_tm_resource(ephemeralStorage="1.5Gi"), lambda r: None),
    "deprecated-autoscaler-keys-unparseable": (
        _conf(**{"kubernetes.operator.job.autoscaler.enabled": "true",
                 "kubernetes.operator.job.autoscaler.scale-down.max-factor": "half"}),
        lambda r: "Invalid value in the autoscaler config job.autoscaler.scale-down.max-factor"),
    "autoscaler-range-with-java-double-syntax": (
        _conf(**{"job.autoscaler.enabled": "TRUE", "job.autoscaler.scale-up.max-factor": "-1e0d"}),
        lambda r: "The AutoScalerOption job.autoscaler.scale-up.max-factor is invalid, it should be a value within "
                  "the range [0.0, +Infinity]"),
}


def _session_parity(version: str) -> tuple[list[dict], list]:
    """Session-job cases: (manifests, expected message per manifest as a function of the release)."""
    r = RELEASES[version]
    session = samples.session_deployment(flink_version=r["flink_version"], image=r["image"])
    _drop_savepoint_dir(session)
    # On the session cluster: 1.7.0 does not yet merge the session job's own flinkConfiguration, 1.15.0 does.
    session["spec"]["flinkConfiguration"]["kubernetes.operator.periodic.savepoint.interval"] = "0"
    periodic_zero = samples.flink_session_job("periodic-zero", deployment=session["metadata"]["name"])
    bad_name = samples.flink_session_job("bad-name", deployment="Sandbox_1")
    return [session, periodic_zero, bad_name], [
        lambda r: None,
        lambda r: f"Periodic savepoints cannot be enabled when config key[{r['savepoint_key']}] is not set",
        lambda r: _name_message("Sandbox_1"),
    ]


def _pack_operator_texts(manifests: list[dict]) -> list[list[str]]:
    """The operator texts our flink-operator-validation / flink-session-job-validation rules quote, per manifest."""
    from flinkplat.rules import RULES, Res, Stack

    resources = [Res.manifest(copy.deepcopy(m), provider="urn:pulumi:t::p::pulumi:providers:kubernetes::k",
                              name=f"r{i}") for i, m in enumerate(manifests)]
    findings = [f for res in resources for f in RULES.get("flink-operator-validation").run(res)]
    findings += RULES.get("flink-session-job-validation").run(Stack(resources))
    out: list[list[str]] = [[] for _ in manifests]
    for finding in findings:
        head = finding.message.split(" Why: ")[0]
        out[[r.name for r in resources].index(finding.resource.name)].append(head[head.index('"') + 1:head.rindex('"')])
    return out


def _check_parity(version: str) -> None:
    base = _deployment(version)
    manifests, operator_expected, pack_expected = [], [], []
    for mutate, text in PARITY_MUTATIONS.values():
        m = copy.deepcopy(base)
        mutate(m)
        manifests.append(m)
        operator_expected.append(text(RELEASES[version]))
        pack_expected.append([] if text(RELEASES[PINNED]) is None else [text(RELEASES[PINNED])])
    session_manifests, session_texts = _session_parity(version)
    manifests += session_manifests
    operator_expected += [text(RELEASES[version]) for text in session_texts]
    pack_expected += [[] if text(RELEASES[PINNED]) is None else [text(RELEASES[PINNED])] for text in session_texts]
    assert validate_with_operator(manifests, operator_version=version,
                                  operator_config=_jar_host_config(manifests)) == operator_expected
    assert _pack_operator_texts(manifests) == pack_expected


def test_pack_reads_the_new_rules_as_the_pinned_operator_does():
    _require(PINNED)
    _check_parity(PINNED)


def test_pack_reads_the_new_rules_as_the_newest_published_operator_does():
    """Memory and ephemeral-storage parsing, the autoscaler's deprecated keys and number syntax, periodic
    savepoints and the session job's deployment name are the same code in 1.7.0 and 1.15.0."""
    _require(HARNESS_CHECK_VERSION)
    _check_parity(HARNESS_CHECK_VERSION)


def _mutations(seeds: list[str], alphabet: str, count: int, seed: int) -> list[str]:
    """Seeded edits (insert, delete, replace 1-3 characters) of the seeds: near misses of valid values."""
    rnd = random.Random(seed)
    out = list(seeds)
    for _ in range(count):
        chars = list(rnd.choice(seeds))
        for _ in range(rnd.randint(1, 3)):
            pos = rnd.randrange(len(chars) + 1)
            roll = rnd.random()
            if roll < 0.45 or not chars:
                chars.insert(pos, rnd.choice(alphabet))
            elif roll < 0.75:
                del chars[min(pos, len(chars) - 1)]
            else:
                chars[min(pos, len(chars) - 1)] = rnd.choice(alphabet)
        out.append("".join(chars))
    return out


EXCLUDED_PERIOD_SEEDS = [
    "* * 9-11,14-16 * * ?", "* * * ? * 2-6", "9:30:30-10:50:20", "0 0 12 * * ?", "0 15 10 ? * MON-FRI",
    "0 15 10 L * ?", "0 15 10 ? * 6L", "0 15 10 ? * 6#3", "0 0/5 14 * * ?", "0 0 12 1/5 * ?",
    "0 15 10 ? * MON-FRI 2030", "0 0 0 LW * ?", "0 0 0 L-3 * ?", "0 0 0 15W * ?", "*/5 * * * * ?",
    "0 0 0 ? JAN-MAR SUN", "0 0 0 * * ? 1970-2099/5", "09:00-17:00", "9:00:00:500-10:00", "0 0 0 ? * */+3",
    "0 0 0 ? DEC-JAN *", "00:00-23:59:59:999", "0 0 0 1-31/40 * ?", "0 0 0 ? * 2-6/2", "0\t0\t0\t?\t*\t*",
]


def test_excluded_period_parts_read_as_quartz_reads_them():
    """Our pure-Python Quartz reading against Quartz 2.4.0 itself (the release operator 1.15.0 ships)."""
    _require(HARNESS_CHECK_VERSION)
    from flinkplat.flink.operator_syntax import is_quartz_cron, is_quartz_daily

    parts = _mutations(EXCLUDED_PERIOD_SEEDS, "0123456789*/?-,#LWMONTUEFRISADJ :x\t", 1500, seed=11)
    quartz = java_syntax_verdicts("quartz", parts, HARNESS_CHECK_VERSION)
    ours = [{"cron": is_quartz_cron(p), "daily": is_quartz_daily(p)} for p in parts]
    differ = [f"{p!r}: Quartz {q}, ours {o}" for p, q, o in zip(parts, quartz, ours) if q != o]
    assert not differ, "\n".join(differ[:20])
    assert sum(q["cron"] for q in quartz) > 100 and sum(q["daily"] for q in quartz) > 20  # both kinds exercised


JAR_URI_SEEDS = [
    "https://www.example.com/a.jar", "https:///a.jar", "https:a.jar", "https://repo_1.acme.com/a.jar",
    "https://127.0.0.1:8443/a", "https://[::1]/a", "https://[fe80::1%eth0]/a", "https://2130706433/a",
    "https://a-.b.com/a", "https://a.b.com./a", "https://a.1b/a", "https://1.2.3.999/a", "https://host.com:abc/a",
    "https://user:pw@host.com:80/a?q=1#f", "https://host.com/a%zz", "https://hö.com/a", "https://host.com/ö.jar",
    "local:///opt/flink/a.jar", "s3://bucket/a.jar", "https://X.Example.COM/A.jar", "www.example.com/a.jar",
]


def test_jar_uris_read_as_java_net_uri_reads_them():
    """Scheme, host and acceptance of java.net.URI, and its messages (bar the detail of malformed IPv6 literals)."""
    _require(HARNESS_CHECK_VERSION)
    from flinkplat.flink.operator_syntax import UriSyntaxError, parse_java_uri

    uris = _mutations(JAR_URI_SEEDS, "ab1:/.@[]%?# _-!~*'()|\\^`{}\"<>ö9", 1500, seed=5)
    java = java_syntax_verdicts("uri", uris, HARNESS_CHECK_VERSION)
    differ = []
    for uri, verdict in zip(uris, java):
        try:
            parsed = parse_java_uri(uri)
            ours = {"scheme": parsed.scheme, "host": parsed.host}
        except UriSyntaxError as error:
            ours = {"error": str(error)}
        if "error" in verdict and "error" in ours and "[" in uri:
            continue  # malformed IPv6 literals: refused by both, Java words the detail differently
        if ours != verdict:
            differ.append(f"{uri!r}: java {verdict}, ours {ours}")
    assert not differ, "\n".join(differ[:20])


AUTOSCALER_NUMBERS = ["NaN", "Infinity", "-Infinity", "1e400", "0x1p3", "-0x1p3", " 0.5 ", "0.5f", "½", "1_0", ".5",
                      "5.", "+.5e-1d", "", "nan", "inf", "-0.0", "0X.8P1", "1.5e", "--1", "٣"]
AUTOSCALER_SWITCHES = ["True", " true", "yes", "1", "tRuE"]


def test_autoscaler_numbers_and_switch_read_as_the_operator_reads_them():
    """Java's Double.parseDouble and Flink's boolean reading, against the newest published validator."""
    _require(HARNESS_CHECK_VERSION)
    base = _deployment(HARNESS_CHECK_VERSION)
    manifests = []
    for value in AUTOSCALER_NUMBERS:
        manifests.append(copy.deepcopy(base))
        _conf(**{"job.autoscaler.enabled": "true", "job.autoscaler.scale-down.max-factor": value})(manifests[-1])
    for value in AUTOSCALER_SWITCHES:
        manifests.append(copy.deepcopy(base))
        _conf(**{"job.autoscaler.enabled": value, "job.autoscaler.scale-down.max-factor": "-1"})(manifests[-1])
    operator = []
    for verdict in validate_with_operator(manifests, operator_version=HARNESS_CHECK_VERSION):
        if verdict and verdict.startswith("validator threw java.lang.IllegalArgumentException: "):
            verdict = verdict.split(": ", 1)[1].split(" <- ")[0]  # the pack quotes the exception's message
        operator.append([] if verdict is None else [verdict])
    ours = _pack_operator_texts(manifests)
    assert ours == operator
    assert sum(1 for texts in ours if texts) >= 12  # refusals of both kinds are exercised
