"""What the health gate reads: the status the Flink operator writes on FlinkDeployments and FlinkSessionJobs.

`ClusterStatus` is the protocol (tests use a fake); `KubectlClusterStatus` reads the Kubernetes API through
`kubectl get -o json` with the cluster's context or kubeconfig. `assess()` is the pure rule:

- healthy: the operator has observed the current spec (`status.observedGeneration == metadata.generation`),
  `status.lifecycleState` is STABLE, `status.error` is empty and — for an application cluster or a session job —
  `status.jobStatus.state` is RUNNING (a session cluster without jobs has no job to run);
- failed (the gate stops at once): lifecycle FAILED or ROLLED_BACK, or job FAILED, for the current spec;
- anything else (not found yet, an older generation, DEPLOYED, UPGRADING, an error the operator may still recover
  from) is pending until the gate times out.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Protocol, Sequence

from flinkplat.rollout.waves import ClusterTarget

DEPLOYMENT, SESSION_JOB = "FlinkDeployment", "FlinkSessionJob"
TERMINAL_LIFECYCLE = ("FAILED", "ROLLED_BACK")


@dataclass(frozen=True)
class FlinkStatus:
    """The status fields the gate reads from one FlinkDeployment or FlinkSessionJob."""

    kind: str
    namespace: str
    name: str
    generation: int | None = None
    observed_generation: int | None = None
    lifecycle_state: str | None = None
    job_state: str | None = None
    error: str | None = None

    @classmethod
    def from_object(cls, obj: Mapping[str, Any]) -> "FlinkStatus":
        metadata = obj.get("metadata") or {}
        status = obj.get("status") or {}
        return cls(kind=obj.get("kind", DEPLOYMENT), namespace=metadata.get("namespace", ""),
                   name=metadata.get("name", ""), generation=metadata.get("generation"),
                   observed_generation=status.get("observedGeneration"),
                   lifecycle_state=status.get("lifecycleState"),
                   job_state=(status.get("jobStatus") or {}).get("state"), error=status.get("error") or None)


@dataclass(frozen=True)
class Unhealthy:
    cluster: str  # Kubernetes cluster
    resource: str  # "FlinkDeployment flink-payments/payments-enrich"
    reason: str
    failed: bool = False  # True: terminal, the gate stops without waiting for the timeout

    def __str__(self) -> str:
        return f"{self.cluster}: {self.resource}: {self.reason}"


class StatusError(Exception):
    """The cluster's status could not be read (API unreachable, no permission)."""


class ClusterStatus(Protocol):
    def flink_status(self, cluster: ClusterTarget, namespaces: Sequence[str]) -> list[FlinkStatus]:
        """FlinkDeployments and FlinkSessionJobs in these namespaces of the cluster. Raises StatusError."""
        ...


def _check(cluster: str, expected_kind: str, key: str, needs_job: bool,
           found: FlinkStatus | None) -> Unhealthy | None:
    resource = f"{expected_kind} {key}"
    if found is None:
        return Unhealthy(cluster, resource, "not found")
    current = found.generation is None or found.observed_generation == found.generation
    if not current:
        return Unhealthy(cluster, resource, f"the operator has not observed generation {found.generation} yet "
                                            f"(observed {found.observed_generation})")
    state = found.lifecycle_state or "unknown"
    error = f"; error: {found.error}" if found.error else ""
    if state in TERMINAL_LIFECYCLE:
        return Unhealthy(cluster, resource, f"lifecycle state {state}{error}", failed=True)
    if needs_job and found.job_state == "FAILED":
        return Unhealthy(cluster, resource, f"job state FAILED{error}", failed=True)
    if state != "STABLE":
        return Unhealthy(cluster, resource, f"lifecycle state {state}, waiting for STABLE{error}")
    if found.error:
        return Unhealthy(cluster, resource, f"lifecycle state STABLE but the operator reports an error: {found.error}")
    if needs_job and found.job_state != "RUNNING":
        return Unhealthy(cluster, resource, f"job state {found.job_state or 'unknown'}, waiting for RUNNING")
    return None


def assess(cluster: ClusterTarget, observed: Sequence[FlinkStatus]) -> list[Unhealthy]:
    """Every expected Flink resource of the cluster that is not healthy, with the reason."""
    index = {(s.kind, s.namespace, s.name): s for s in observed}
    problems = []
    for flink in cluster.flink:
        problem = _check(cluster.name, DEPLOYMENT, flink.key, flink.has_job,
                         index.get((DEPLOYMENT, flink.namespace, flink.name)))
        if problem:
            problems.append(problem)
        for job in flink.session_jobs:
            problem = _check(cluster.name, SESSION_JOB, f"{flink.namespace}/{job}", True,
                             index.get((SESSION_JOB, flink.namespace, job)))
            if problem:
                problems.append(problem)
    return problems


def namespaces_of(cluster: ClusterTarget) -> list[str]:
    return sorted({flink.namespace for flink in cluster.flink})


Runner = Callable[[list[str]], "subprocess.CompletedProcess[str]"]


def _run(argv: list[str]) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


class KubectlClusterStatus:
    """Reads the operator's status through the Kubernetes API with `kubectl get -o json`.

    `kubeconfig_for(cluster)` returns a kubeconfig file path for clusters reached through a secret kubeconfig."""

    def __init__(self, kubectl: str = "kubectl", run: Runner = _run,
                 kubeconfig_for: Callable[[ClusterTarget], str] | None = None):
        self.kubectl = kubectl
        self.run = run
        self.kubeconfig_for = kubeconfig_for

    def _connection(self, cluster: ClusterTarget) -> list[str]:
        if cluster.context:
            return ["--context", cluster.context]
        if self.kubeconfig_for is None:
            raise StatusError(f"cluster {cluster.name} is reached through secret '{cluster.kubeconfig_secret}' "
                              "and no kubeconfig was provided")
        return ["--kubeconfig", self.kubeconfig_for(cluster)]

    def flink_status(self, cluster: ClusterTarget, namespaces: Sequence[str]) -> list[FlinkStatus]:
        found: list[FlinkStatus] = []
        for namespace in namespaces:
            argv = [self.kubectl, *self._connection(cluster), "get",
                    "flinkdeployments.flink.apache.org,flinksessionjobs.flink.apache.org",
                    "--namespace", namespace, "--output", "json"]
            try:
                result = self.run(argv)
            except (OSError, subprocess.SubprocessError) as error:
                raise StatusError(f"kubectl failed: {error}") from None
            if result.returncode != 0:
                raise StatusError((result.stderr or result.stdout or "kubectl failed").strip())
            try:
                items = json.loads(result.stdout).get("items", [])
            except json.JSONDecodeError as error:
                raise StatusError(f"kubectl printed no JSON: {error}") from None
            found += [FlinkStatus.from_object(item) for item in items]
        return found
