"""Parity with the operator 1.15.0 validator (issue 11 §3): one field mutated per test from a known-good spec, the
operator's exact message text asserted. Texts come from OP 1.15.0 DefaultValidator / AutoscalerValidator /
CalendarUtils; the memory and ephemeral-storage texts were also produced by the real validator of the newest
published release (tests/acceptance/test_operator_validator.py re-checks them when Java is available)."""

from __future__ import annotations

import copy

import pytest

from flinkplat.rules import Stack
from tests.rules.helpers import as_res, conf, prod_manifest, run
from tests.rules.test_stack_rules import session_cluster, session_job

UNITS = ("(b | bytes) / (k | kb | kibibytes) / (m | mb | mebibytes) / (g | gb | gibibytes) / (t | tb | tebibytes)")


def quoted(findings: list[str]) -> list[str]:
    """The operator's text inside each finding ("The operator would reject X: "<text>" Why: … Fix: …")."""
    out = []
    for finding in findings:
        head = finding.split(" Why: ")[0]
        out.append(head[head.index('"') + 1:head.rindex('"')])
    return out


def deployment_texts(mutate) -> list[str]:
    m = prod_manifest()
    mutate(m)
    return quoted(run("flink-operator-validation", as_res(m)))


def session_texts(cluster: dict | None = None, **job) -> list[str]:
    resources = [as_res(copy.deepcopy(m)) for m in (cluster or session_cluster(), session_job(**job))]
    return quoted(run("flink-session-job-validation", Stack(resources)))


def test_known_good_deployment_and_session_job_pass():
    assert deployment_texts(lambda m: None) == []
    assert session_texts() == []


# --- memory and ephemeral storage ------------------------------------------------------------------------------


@pytest.mark.parametrize("memory", ["2gib", "2 Gi", "4096MIB", "1536Mi", "2g b", "4g", "2e9", "2147483648"])
def test_memory_the_operator_reads_is_accepted(memory):
    assert deployment_texts(lambda m: m["spec"]["taskManager"]["resource"].update(memory=memory)) == []


@pytest.mark.parametrize("memory, reason", [
    ("1.5Gi", f"Memory size unit '.0' does not match any of the recognized units: {UNITS}"),
    ("0.5Gi", f"Memory size unit '.0' does not match any of the recognized units: {UNITS}"),
    ("1Ei", f"Memory size unit '.152921504606847e+18' does not match any of the recognized units: {UNITS}"),
    ("-2Gi", "text does not start with a number"),
    ("abc", "Character A is neither a decimal digit number, decimal point, nor \"e\" notation exponential mark."),
])
def test_memory_the_operator_refuses_gets_its_parse_error(memory, reason):
    assert deployment_texts(lambda m: m["spec"]["taskManager"]["resource"].update(memory=memory)) == [
        f"TaskManager resource memory parse error: {reason}"]


@pytest.mark.parametrize("storage, reason", [
    (" 1Gi", "Character   is neither a decimal digit number, decimal point, nor \"e\" notation exponential mark."),
    ("4e9Gi", "Invalid quantity string format passed"),
    ("2Mi5", "For input string: \"i5\""),
    ("1..5Gi", "Character array contains more than one decimal point."),
    ("Gi", "null"),
])
def test_ephemeral_storage_the_operator_refuses(storage, reason):
    assert deployment_texts(lambda m: m["spec"]["jobManager"]["resource"].update(ephemeralStorage=storage)) == [
        f"JobManager resource ephemeral storage parse error: {reason}"]


@pytest.mark.parametrize("storage", ["10Gi", "1.5Gi", "500m", "-1Gi", ".5Gi", "1e3"])
def test_ephemeral_storage_the_operator_accepts(storage):
    assert deployment_texts(lambda m: m["spec"]["jobManager"]["resource"].update(ephemeralStorage=storage)) == []


def test_memory_and_storage_errors_are_one_message_as_the_operator_builds_it():
    def mutate(m):
        m["spec"]["taskManager"]["resource"].update(memory="1.5Gi", ephemeralStorage="x")
    assert deployment_texts(mutate) == [
        f"TaskManager resource memory parse error: Memory size unit '.0' does not match any of the recognized "
        f"units: {UNITS}TaskManager resource ephemeral storage parse error: Character x is neither a decimal digit "
        "number, decimal point, nor \"e\" notation exponential mark."]


# --- autoscaler ------------------------------------------------------------------------------------------------


def autoscaled(**options: str):
    def mutate(m):
        conf(m).update(options)
    return mutate


def test_autoscaler_unparseable_value_names_the_option():
    assert deployment_texts(autoscaled(**{"job.autoscaler.enabled": "true",
                                          "job.autoscaler.scale-down.max-factor": "half"})) == [
        "Invalid value in the autoscaler config job.autoscaler.scale-down.max-factor"]


def test_deprecated_autoscaler_keys_are_read_like_the_current_ones():
    # kubernetes.operator.job.autoscaler.enabled switches the autoscaler on; its option keys are read too.
    assert deployment_texts(autoscaled(**{"kubernetes.operator.job.autoscaler.enabled": "TRUE",
                                          "kubernetes.operator.job.autoscaler.scale-up.max-factor": "-1"})) == [
        "The AutoScalerOption job.autoscaler.scale-up.max-factor is invalid, it should be a value within the range "
        "[0.0, +Infinity]"]
    assert deployment_texts(autoscaled(**{"job.autoscaler.enabled": "true",
                                          "job.autoscaler.target.utilization": "1.5"})) == [
        "The AutoScalerOption job.autoscaler.utilization.target is invalid, it should be a value within the range "
        "[0.0, 1.0]"]
    # The current key wins over the deprecated one, as Flink reads them.
    assert deployment_texts(autoscaled(**{"job.autoscaler.enabled": "true", "job.autoscaler.utilization.target": "0.5",
                                          "job.autoscaler.target.utilization": "1.5"})) == []


def test_autoscaler_bounds_follow_the_configured_target_and_java_number_syntax():
    assert deployment_texts(autoscaled(**{"job.autoscaler.enabled": "true", "job.autoscaler.utilization.target": "0.8",
                                          "job.autoscaler.utilization.max": "0.75d"})) == [
        "The AutoScalerOption job.autoscaler.utilization.max is invalid, it should be a value within the range "
        "[0.8, 1.0]"]
    # Java reads "1_0" nowhere, Python would: the operator calls it unparseable.
    assert deployment_texts(autoscaled(**{"job.autoscaler.enabled": "true",
                                          "job.autoscaler.scale-up.max-factor": "1_0"})) == [
        "Invalid value in the autoscaler config job.autoscaler.scale-up.max-factor"]


def test_autoscaler_switched_off_or_unparseable_switch():
    assert deployment_texts(autoscaled(**{"job.autoscaler.enabled": "false",
                                          "job.autoscaler.scale-down.max-factor": "half"})) == []
    assert deployment_texts(autoscaled(**{"job.autoscaler.enabled": "yes"})) == [
        "Could not parse value 'yes' for key 'job.autoscaler.enabled'."]


@pytest.mark.parametrize("periods", ["9:00-17:00", "* * 9-11,14-16 * * ?;* * * ? * 2-6",
                                     "9:30:30-10:50:20 && * * * ? * 2,5", "", "0 0 0 ? * MON-FRI 2030"])
def test_excluded_periods_the_autoscaler_accepts(periods):
    assert deployment_texts(autoscaled(**{"job.autoscaler.enabled": "true",
                                          "job.autoscaler.excluded.periods": periods})) == []


@pytest.mark.parametrize("periods, text", [
    ("17:00-09:00", "Invalid value 17:00-09:00 in the autoscaler config job.autoscaler.excluded.periods, the value "
                    "is neither a valid daily expression nor a valid cron expression"),
    ("0 0 0 * * *", "Invalid value 0 0 0 * * * in the autoscaler config job.autoscaler.excluded.periods, the value "
                    "is neither a valid daily expression nor a valid cron expression"),
    ("9:00-10:00 && 11:00-12:00", "Invalid value 9:00-10:00 && 11:00-12:00 in the autoscaler config "
                                  "job.autoscaler.excluded.periods, the value can not be configured as "
                                  "dailyExpression && dailyExpression or cronExpression && cronExpression"),
    ("a && b && c", "Invalid value a && b && c in the autoscaler config job.autoscaler.excluded.periods"),
])
def test_excluded_periods_the_autoscaler_refuses(periods, text):
    assert deployment_texts(autoscaled(**{"job.autoscaler.enabled": "true",
                                          "job.autoscaler.excluded.periods": periods})) == [text]


def test_excluded_periods_under_the_deprecated_key_and_bad_quoting():
    assert deployment_texts(autoscaled(**{"job.autoscaler.enabled": "true",
                                          "kubernetes.operator.job.autoscaler.excluded.periods": "9-17"})) == [
        "Invalid value 9-17 in the autoscaler config job.autoscaler.excluded.periods, the value is neither a valid "
        "daily expression nor a valid cron expression"]
    assert deployment_texts(autoscaled(**{"job.autoscaler.enabled": "true",
                                          "job.autoscaler.excluded.periods": "'9:00-10:00"})) == [
        "Could not parse value ''9:00-10:00' for key 'job.autoscaler.excluded.periods'."]


# --- periodic savepoints ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("interval", ["0", "", "6h"])
def test_periodic_savepoint_key_needs_a_savepoint_dir_whatever_its_value(interval):
    cluster = session_cluster()
    del conf(cluster)["execution.checkpointing.savepoint-dir"]
    conf(cluster)["kubernetes.operator.periodic.savepoint.interval"] = interval
    assert session_texts(cluster, upgradeMode="last-state") == [
        "Periodic savepoints cannot be enabled when config key[execution.checkpointing.savepoint-dir] is not set"]
    m = prod_manifest()
    del conf(m)["execution.checkpointing.savepoint-dir"]
    m["spec"]["job"]["upgradeMode"] = "last-state"
    conf(m)["kubernetes.operator.periodic.savepoint.interval"] = interval
    assert [f.split(", but ")[0] for f in run("flink-savepoint-dir", as_res(m))] == [
        "FlinkDeployment flink-logistics/warehouse needs a savepoint directory: "
        f"kubernetes.operator.periodic.savepoint.interval is {interval or repr(interval)}"
        + (" (which the operator refuses whatever its value)" if interval != "6h" else "")]


# --- session jobs: deployment name and jarURI ------------------------------------------------------------------


def test_session_job_deployment_name_uses_the_flinkdeployment_name_message():
    job = session_job()
    job["spec"]["deploymentName"] = "Shared_Cluster"
    texts = quoted(run("flink-session-job-validation", Stack([as_res(session_cluster()), as_res(job)])))
    assert texts == [
        "The FlinkDeployment name: Shared_Cluster is invalid, must consist of lower case alphanumeric characters or "
        "'-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
        "'abc-123'), and the length must be no more than 45 characters."]


@pytest.mark.parametrize("jar, text", [
    ("http://www.example.com/top-speed.jar",
     "jarURI scheme 'http' is not in the allowlist [https]. Configure "
     "'kubernetes.operator.user.artifacts.allowed-schemes' to extend the allowlist."),
    ("HTTP://www.example.com/top-speed.jar",
     "jarURI scheme 'HTTP' is not in the allowlist [https]. Configure "
     "'kubernetes.operator.user.artifacts.allowed-schemes' to extend the allowlist."),
    ("www.example.com/top-speed.jar", "jarURI must include a scheme"),
    ("https:///top-speed.jar", "jarURI must include a host for http/https schemes"),
    ("https://repo_1.acme.com/top-speed.jar", "jarURI must include a host for http/https schemes"),
    ("https://www.example.com/top speed.jar",
     "jarURI is not a valid URI: Illegal character in path at index 27: https://www.example.com/top speed.jar"),
    ("https://localhost/top-speed.jar", "jarURI host 'localhost' resolves to a restricted address"),
    ("https://127.0.0.1:8443/top-speed.jar", "jarURI host '127.0.0.1' resolves to a restricted address"),
    ("https://10.1.2.3/top-speed.jar", "jarURI host '10.1.2.3' resolves to a restricted address"),
    ("https://172.31.0.1/top-speed.jar", "jarURI host '172.31.0.1' resolves to a restricted address"),
    ("https://192.168.0.10/top-speed.jar", "jarURI host '192.168.0.10' resolves to a restricted address"),
    ("https://169.254.169.254/top-speed.jar", "jarURI host '169.254.169.254' resolves to a restricted address"),
    ("https://0.0.0.0/top-speed.jar", "jarURI host '0.0.0.0' resolves to a restricted address"),
    ("https://239.1.1.1/top-speed.jar", "jarURI host '239.1.1.1' resolves to a restricted address"),
    ("https://[::1]/top-speed.jar", "jarURI host '[::1]' resolves to a restricted address"),
    ("https://[fe80::1]/top-speed.jar", "jarURI host '[fe80::1]' resolves to a restricted address"),
    ("https://[::ffff:10.0.0.1]/top-speed.jar", "jarURI host '[::ffff:10.0.0.1]' resolves to a restricted address"),
    ("https://2130706433/top-speed.jar", "jarURI host '2130706433' resolves to a restricted address"),
    ("https://repo.acme.example/top-speed.jar", "jarURI host 'repo.acme.example' cannot be resolved"),
    ("https://jars.corp.test/top-speed.jar", "jarURI host 'jars.corp.test' cannot be resolved"),
    ("https://jars.invalid./top-speed.jar", "jarURI host 'jars.invalid.' cannot be resolved"),
    ("https://jars.localhost/top-speed.jar", "jarURI host 'jars.localhost' cannot be resolved"),
])
def test_jar_uri_rules_of_1_15(jar, text):
    assert session_texts(jarURI=jar) == [text]


@pytest.mark.parametrize("jar", [
    "https://www.example.com/top-speed.jar", "https://user@artifacts.acme.com:8443/a/top-speed.jar?x=1#frag",
    "https://100.64.0.1/top-speed.jar",   # carrier-grade NAT space: not site-local for Java
    "https://192.0.2.1/top-speed.jar",    # TEST-NET-1: private for Python, public for Java
    "https://[fc00::1]/top-speed.jar",    # unique-local IPv6: not site-local (fec0::/10) for Java
    "https://jars.example.com/top-speed.jar",
])
def test_jar_uri_the_operator_accepts_at_plan_time(jar):
    assert session_texts(jarURI=jar) == []


def test_jar_uri_allowlist_and_restricted_hosts_follow_the_pack_config():
    job = Stack([as_res(session_cluster()), as_res(session_job(jarURI="s3://jars/top-speed.jar"))])
    assert run("flink-session-job-validation", job, {"allowedSchemes": ["https", "S3"]}) == []
    texts = quoted(run("flink-session-job-validation", job,
                       {"allowedSchemes": ["https", "hdfs", "http", "file"]}))
    assert texts == ["jarURI scheme 's3' is not in the allowlist [file, hdfs, http, https]. Configure "
                     "'kubernetes.operator.user.artifacts.allowed-schemes' to extend the allowlist."]
    loopback = Stack([as_res(session_cluster()), as_res(session_job(jarURI="https://127.0.0.1/top-speed.jar"))])
    assert run("flink-session-job-validation", loopback,
               {"allowedSchemes": ["https"], "disallowRestrictedHosts": False}) == []


def test_absent_jar_uri_is_not_the_validators_concern():
    job = session_job()
    del job["spec"]["job"]["jarURI"]
    assert quoted(run("flink-session-job-validation", Stack([as_res(session_cluster()), as_res(job)]))) == []
