"""The health rule on the operator's status fields, and the kubectl-backed reader."""

from __future__ import annotations

import json
import subprocess

import pytest

from flinkplat.rollout.status import (DEPLOYMENT, SESSION_JOB, FlinkStatus, KubectlClusterStatus, StatusError,
                                      assess)
from flinkplat.rollout.waves import ClusterTarget, FlinkTarget

APP = FlinkTarget("flink-payments", "payments-enrich", has_job=True)
SESSION = FlinkTarget("flink-analytics", "sandbox", has_job=False, session_jobs=("top-speed",))
CLUSTER = ClusterTarget("use1-canary", "us-east-1", "ctx-canary", None, (), (APP, SESSION))


def _status(kind=DEPLOYMENT, ns="flink-payments", name="payments-enrich", gen=4, observed=4, life="STABLE",
            job="RUNNING", error=None):
    return FlinkStatus(kind, ns, name, gen, observed, life, job, error)


def _healthy_rest():
    return [_status(ns="flink-analytics", name="sandbox", job=None),
            _status(SESSION_JOB, "flink-analytics", "top-speed")]


@pytest.mark.parametrize("app, reason, failed", [
    (None, "not found", False),
    (_status(observed=3), "the operator has not observed generation 4 yet (observed 3)", False),
    (_status(life="DEPLOYED", job="CREATED"), "lifecycle state DEPLOYED, waiting for STABLE", False),
    (_status(life="FAILED", error="Job could not be upgraded with savepoint"),
     "lifecycle state FAILED; error: Job could not be upgraded with savepoint", True),
    (_status(life="ROLLED_BACK"), "lifecycle state ROLLED_BACK", True),
    (_status(life="DEPLOYED", job="FAILED"), "job state FAILED", True),
    (_status(error="Forbidden Flink config key: kubernetes.namespace"),
     "lifecycle state STABLE but the operator reports an error: Forbidden Flink config key: kubernetes.namespace",
     False),
    (_status(job="RESTARTING"), "job state RESTARTING, waiting for RUNNING", False),
])
def test_unhealthy_application_cluster(app, reason, failed):
    observed = ([app] if app else []) + _healthy_rest()
    problems = assess(CLUSTER, observed)
    assert [(str(p), p.failed) for p in problems] == [
        (f"use1-canary: FlinkDeployment flink-payments/payments-enrich: {reason}", failed)]


def test_session_cluster_needs_no_job_but_its_session_jobs_must_run():
    observed = [_status(), _status(ns="flink-analytics", name="sandbox", job=None),
                _status(SESSION_JOB, "flink-analytics", "top-speed", job="CREATED", life="DEPLOYED")]
    assert [str(p) for p in assess(CLUSTER, observed)] == [
        "use1-canary: FlinkSessionJob flink-analytics/top-speed: lifecycle state DEPLOYED, waiting for STABLE"]
    assert assess(CLUSTER, [_status(), *_healthy_rest()]) == []


def _item(kind, ns, name, generation, status):
    return {"kind": kind, "metadata": {"namespace": ns, "name": name, "generation": generation}, "status": status}


def test_kubectl_reader_parses_the_operator_status_per_namespace():
    calls = []

    def run(argv):
        calls.append(argv)
        ns = argv[argv.index("--namespace") + 1]
        items = ([_item("FlinkDeployment", ns, "payments-enrich", 7, {
            "observedGeneration": 7, "lifecycleState": "STABLE", "jobStatus": {"state": "RUNNING"}})]
            if ns == "flink-payments" else [])
        return subprocess.CompletedProcess(argv, 0, json.dumps({"items": items}), "")

    found = KubectlClusterStatus(run=run).flink_status(CLUSTER, ["flink-analytics", "flink-payments"])
    assert found == [FlinkStatus("FlinkDeployment", "flink-payments", "payments-enrich", 7, 7, "STABLE", "RUNNING")]
    assert calls[1] == ["kubectl", "--context", "ctx-canary", "get",
                        "flinkdeployments.flink.apache.org,flinksessionjobs.flink.apache.org",
                        "--namespace", "flink-payments", "--output", "json"]


def test_kubectl_errors_become_status_errors_and_secret_kubeconfigs_are_used():
    def run(argv):
        return subprocess.CompletedProcess(argv, 1, "", "error: You must be logged in to the server (Unauthorized)\n")

    cluster = ClusterTarget("ci", "us-east-1", None, "ciKubeconfig", (), (APP,))
    with pytest.raises(StatusError) as error:
        KubectlClusterStatus(run=run, kubeconfig_for=lambda c: "/tmp/ci.kubeconfig").flink_status(cluster, ["x"])
    assert str(error.value) == "error: You must be logged in to the server (Unauthorized)"
    with pytest.raises(StatusError) as error:
        KubectlClusterStatus(run=run).flink_status(cluster, ["x"])
    assert str(error.value) == "cluster ci is reached through secret 'ciKubeconfig' and no kubeconfig was provided"
