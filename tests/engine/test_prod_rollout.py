"""The prod stack across its three Kubernetes clusters through the real engine: `flinkplat rollout` for real.

One API server per Kubernetes cluster of Pulumi.prod.yaml (the stack's own context names, in one kubeconfig); the
Kubernetes side is the real `pulumi-resource-kubernetes`, AWS is the STAND-IN provider (tests/engine/standin_aws).
`flinkplat rollout --stack-file … --inline-program` runs as a user runs it (a subprocess, Automation API, the real
CLI with `--target` per wave and the policy pack); the program runs inline because no Python language host can be
installed here. No Flink operator runs, so a status writer plays it: it reads each FlinkDeployment's spec and writes
the status the operator would (job FAILED for the broken jar, else STABLE/RUNNING) for the current generation.

The story: a change ships a broken jar to payments-enrich. The canary wave fails its health gate, the rollout stops,
and the later waves' API servers stay untouched (nothing in AWS for them either). The jar is fixed in the stack file
and `--resume` rolls out wave 0 again, then waves 1 and 2, in order.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.acceptance.envtest import ApiError, EnvTest
from tests.engine.harness import (FLINKPLAT, ROOT, EngineStack, flinkplat_plan, stack_document,
                                  without_helm_addons)
from tests.engine.standin_aws.launcher import install_standin_aws

pytestmark = pytest.mark.engine

REGIONS = "flink-platform:regions"
CLUSTERS = "flink-platform:clusters"
SECRET_KEY = "flink-platform:paymentsKafkaPassword"
BROKEN_JAR = "local:///opt/flink/usrlib/payments-enrich-5.2.0-broken.jar"
FIXED_JAR = "local:///opt/flink/usrlib/payments-enrich-5.2.1.jar"
FLINK_API = "/apis/flink.apache.org/v1beta1"


def contexts(doc: dict) -> dict[str, str]:
    """Kubernetes cluster name -> its kubeconfig context, as the stack file says."""
    return {kube["name"]: kube["context"] for region in doc["config"][REGIONS] for kube in region["kubernetesClusters"]}


def with_jar(doc: dict, jar: str) -> dict:
    cluster = next(c for c in doc["config"][CLUSTERS] if c["name"] == "payments-enrich")
    cluster["job"]["jarURI"] = jar
    return doc


class OperatorStandIn(threading.Thread):
    """Plays the Flink operator's status reporting on every API server: for each FlinkDeployment whose current
    generation has no status yet, it writes the status the operator would end in (job FAILED with the error a
    missing class gives when the jar is broken, else STABLE with a RUNNING job). Records when each deployment
    first appeared on which cluster (the wave order)."""

    def __init__(self, servers: dict[str, EnvTest], interval: float = 0.3):
        super().__init__(daemon=True)
        self.servers = servers
        self.interval = interval
        self.first_seen: dict[tuple[str, str], float] = {}
        self.errors: list[str] = []
        self._halt = threading.Event()

    @staticmethod
    def verdict(deployment: dict) -> dict[str, Any]:
        jar = ((deployment.get("spec") or {}).get("job") or {}).get("jarURI", "")
        if "broken" in jar:
            return {"lifecycleState": "FAILED", "jobManagerDeploymentStatus": "ERROR",
                    "jobStatus": {"state": "FAILED"},
                    "error": "java.lang.ClassNotFoundException: com.acme.payments.EnrichJob"}
        return {"lifecycleState": "STABLE", "jobManagerDeploymentStatus": "READY", "jobStatus": {"state": "RUNNING"},
                "error": None}

    def poll_once(self) -> None:
        for kube, server in self.servers.items():
            try:
                items = server.get(f"{FLINK_API}/flinkdeployments").get("items", [])
            except ApiError as error:
                if error.code not in (429, 503):  # a CRD's storage still (re)initializing: the next poll retries
                    self.errors.append(f"{kube}: {error}")
                continue
            for item in items:
                meta = item["metadata"]
                key = (kube, f"{meta['namespace']}/{meta['name']}")
                self.first_seen.setdefault(key, time.monotonic())
                if (item.get("status") or {}).get("observedGeneration") == meta["generation"]:
                    continue
                status = {"observedGeneration": meta["generation"], **self.verdict(item)}
                path = f"{FLINK_API}/namespaces/{meta['namespace']}/flinkdeployments/{meta['name']}/status"
                server._request_json("PATCH", path, json.dumps({"status": status}).encode(),
                                     "application/merge-patch+json")

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                self.poll_once()
            except Exception as error:  # noqa: BLE001 - reported by the test, never a silent hang
                self.errors.append(repr(error))
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=10)


def deployments_on(server: EnvTest) -> dict[str, dict]:
    items = server.get(f"{FLINK_API}/flinkdeployments").get("items", [])
    return {f"{i['metadata']['namespace']}/{i['metadata']['name']}": i for i in items}


def namespace_exists(server: EnvTest, name: str) -> bool:
    try:
        server.get(f"/api/v1/namespaces/{name}")
    except ApiError as error:
        if error.code == 404:
            return False
        raise
    return True


# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prod_doc() -> dict:
    doc = without_helm_addons(stack_document("prod"))  # KEDA/operator CRDs come from the control-plane fixture
    doc["config"].pop(SECRET_KEY)  # encrypted for another backend: set again below with this stack's passphrase
    return with_jar(doc, BROKEN_JAR)


@pytest.fixture(scope="module")
def servers(engine_tools, prod_doc, tmp_path_factory) -> dict[str, EnvTest]:
    """One API server per Kubernetes cluster of the stack (name -> EnvTest), every CRD installed, with the
    controller manager (the provider waits for ResourceQuota status, which its quota controller writes). Stopped as
    soon as this module is done, not at the end of the session: three control planes on 2 cores."""
    started: dict[str, EnvTest] = {}
    try:
        for kube in contexts(prod_doc):
            server = EnvTest(engine_tools.envtest, workdir=tmp_path_factory.mktemp(f"apiserver-{kube}"),
                             controllers=True)
            started[kube] = server
            server.start()
            server.install_crds(engine_tools.envtest["crds"])
            # the cluster's existing Prometheus install (prometheusStack is off in prod): the platform puts its
            # Grafana dashboards into its namespace
            server.create_namespace("monitoring")
        yield started
    finally:
        for server in started.values():
            server.stop()


@pytest.fixture(scope="module")
def prod(engine_stack_factory, servers, prod_doc, tmp_path_factory) -> EngineStack:
    from pulumi import automation as auto

    standin = install_standin_aws(tmp_path_factory.mktemp("standin-aws"))
    by_context = {contexts(prod_doc)[kube]: server for kube, server in servers.items()}
    stack = engine_stack_factory("prod", prod_doc, by_context, extra_path=[standin])
    stack.stack.set_config(SECRET_KEY, auto.ConfigValue("engine-test-only", secret=True))
    return stack


@pytest.fixture(scope="module")
def operator(servers):
    writer = OperatorStandIn(servers)
    writer.start()
    yield writer
    writer.stop()


@pytest.fixture(scope="module")
def state_file(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("rollout-state") / "rollout-prod.json"


def rollout(prod: EngineStack, state_file: Path, *extra: str) -> subprocess.CompletedProcess:
    """`flinkplat rollout` as a user runs it, with the engine stack's environment (CLI, providers, backend)."""
    cmd = [str(FLINKPLAT), "rollout", "--stack-file", str(prod.stack_file), "--inline-program",
           "--policy-pack", str(prod.policy.executable), "--policy-pack-config", str(prod.policy_config),
           "--state-file", str(state_file), "--gate-timeout", "90", "--poll-interval", "1", *extra]
    env = {**os.environ, **prod.env}
    kubectl = prod.tools.envtest.get("kubectl")
    if kubectl:  # the gate reads status with kubectl: the one built with the control plane goes first
        env["PATH"] = os.pathsep.join([str(Path(kubectl).parent), env["PATH"]])
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    prod.log.append(f"\n$ {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}\n")
    return proc


def _needs_kubectl(prod: EngineStack) -> None:
    from tests.engine.conftest import missing

    if not prod.tools.envtest.get("kubectl") and not any(
            os.access(os.path.join(d, "kubectl"), os.X_OK) for d in os.environ.get("PATH", "").split(os.pathsep)):
        missing("the rollout's health gate reads status with kubectl: run scripts/envtest/setup.sh (builds it)")


def test_a_failing_canary_stops_the_rollout_and_later_waves_stay_untouched(prod, servers, operator, state_file):
    _needs_kubectl(prod)
    started = time.monotonic()
    proc = rollout(prod, state_file)
    out = proc.stdout.splitlines()
    assert proc.returncode == 1, prod.output()
    assert out[0].startswith("wave 0 (canary): use1-canary ("), prod.output()
    stopped = next(line for line in out if line.startswith("rollout stopped:"))
    assert stopped == ("rollout stopped: wave 0 (canary) failed at the gate step on use1-canary: unhealthy: "
                       "use1-canary: FlinkDeployment flink-payments/payments-enrich: lifecycle state FAILED; error: "
                       "java.lang.ClassNotFoundException: com.acme.payments.EnrichJob")
    assert out[-1].startswith("untouched: wave 1, wave 2; fix the cause, then run: flinkplat rollout --stack-file ")
    assert out[-1].endswith(" --inline-program --resume")
    assert not [line for line in out if line.startswith(("wave 1", "wave 2"))]

    # the canary got its Flink cluster, the later waves' API servers nothing at all
    assert set(deployments_on(servers["use1-canary"])) == {"flink-payments/payments-enrich"}
    for kube in ("use1-main", "euw1-main"):
        assert deployments_on(servers[kube]) == {}, kube
        assert not namespace_exists(servers[kube], "flink-payments") and not namespace_exists(
            servers[kube], "flink-logistics"), kube
    # and in AWS (the stand-in) only what wave 0 owns: us-east-1's bucket and the canary's roles
    state = {(r["type"], r["urn"].rsplit("::", 1)[-1]): r for r in prod.custom_resources()}
    assert state[("aws:s3/bucket:Bucket", "us-east-1/bucket")]["id"] == "acme-flink-prod-us-east-1"
    assert not [n for _, n in state if n.startswith(("use1-main/", "euw1-main/", "eu-west-1/"))], sorted(state)
    role = state[("aws:iam/role:Role", "use1-canary/flink-payments/payments-enrich/role")]
    assert role["outputs"]["arn"] == "arn:aws:iam::111122223333:role/flink-use1-canary-flink-payments-payments-enrich"
    reason = stopped.split(" failed at the gate step on use1-canary: ", 1)[1]
    assert json.loads(state_file.read_text())["waves"] == {"0": {"status": "failed", "step": "gate", "reason": reason}}
    assert operator.errors == []
    print(f"failing canary rollout: {time.monotonic() - started:.0f}s")


def test_resume_after_the_fix_finishes_every_wave_in_order(prod, servers, operator, state_file):
    _needs_kubectl(prod)
    assert json.loads(state_file.read_text())["waves"]["0"]["status"] == "failed", "runs after the failing canary"
    started = time.monotonic()
    prod.write_stack_doc(with_jar(prod.stack_doc(), FIXED_JAR))  # keeps the encrypted secret and the salt
    proc = rollout(prod, state_file, "--resume")
    assert proc.returncode == 0, prod.output()
    out = proc.stdout.splitlines()
    assert out[-1] == "rollout of stack 'prod' complete: wave 0 done, wave 1 done, wave 2 done", prod.output()
    heads = [line.split(":", 1)[0] for line in out if line.startswith("wave ")]
    assert heads == ["wave 0 (canary)", "wave 1", "wave 2"]

    # every API server holds exactly the FlinkDeployments the offline plan puts on its cluster
    plan = flinkplat_plan(prod.stack_file)
    for kube, server in servers.items():
        planned = {f"{r['inputs']['metadata']['namespace']}/{r['inputs']['metadata']['name']}"
                   for r in plan["resources"] if r["type"].endswith(":FlinkDeployment")
                   and r["provider"] == f"kubernetes:{kube}"}
        found = deployments_on(server)
        assert set(found) == planned and planned, kube
        for item in found.values():
            assert item["status"]["lifecycleState"] == "STABLE", (kube, item["metadata"]["name"])
    canary = deployments_on(servers["use1-canary"])["flink-payments/payments-enrich"]
    assert canary["spec"]["job"]["jarURI"] == FIXED_JAR and canary["metadata"]["generation"] == 2

    # waves in order on the API servers: each cluster's deployments appeared after the previous wave's
    first = {kube: min(t for (k, _), t in operator.first_seen.items() if k == kube) for kube in servers}
    last = {kube: max(t for (k, _), t in operator.first_seen.items() if k == kube) for kube in servers}
    assert last["use1-canary"] < first["use1-main"] and last["use1-main"] < first["euw1-main"]

    # AWS outputs of the stand-in flowed through the engine into Kubernetes (IRSA role on the service account)
    account = servers["use1-main"].get("/api/v1/namespaces/flink-logistics/serviceaccounts/warehouse-flink")
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == \
        "arn:aws:iam::111122223333:role/flink-use1-main-flink-logistics-warehouse"
    state = {(r["type"], r["urn"].rsplit("::", 1)[-1]): r for r in prod.custom_resources()}
    assert state[("aws:s3/bucket:Bucket", "eu-west-1/bucket")]["id"] == "acme-flink-prod-eu-west-1"
    assert json.loads(state_file.read_text())["waves"] == {n: {"status": "done"} for n in ("0", "1", "2")}
    assert operator.errors == []
    print(f"resumed rollout (3 waves): {time.monotonic() - started:.0f}s")


def test_after_the_rollout_the_whole_stack_has_no_changes(prod, operator, state_file):
    """No perpetual diff anywhere in prod (Kubernetes objects on three clusters, AWS through the stand-in): a full,
    untargeted preview after the rollout expects no changes."""
    assert json.loads(state_file.read_text())["waves"]["2"]["status"] == "done", "runs after the resumed rollout"
    started = time.monotonic()
    result = prod.preview(expect_no_changes=True)
    assert set(result.change_summary) == {"same"}, prod.output()
    assert prod.policy_events == [], prod.output()
    print(f"no-change preview of prod: {time.monotonic() - started:.0f}s")
