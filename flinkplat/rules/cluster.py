"""Rules across Kubernetes objects: who owns a job's scale, how the JobManager is exposed, tenant isolation with
NetworkPolicy, and the controls hostNetwork TaskManagers need instead."""

from __future__ import annotations

from typing import Any, Iterator

from flinkplat.flink.keys import EXPOSED_KEY
from flinkplat.rules.base import (
    FLINK_DEPLOYMENT, HPA_TYPES, MANDATORY, NAMESPACE, NETWORK_POLICY, SCALED_OBJECT, SERVICE, Finding, Knob, Res,
    Rule, Stack, as_int, get, message,
)
from flinkplat.rules.flink import CONTROL_ANNOTATION, view
from flinkplat.rules.operator import deployments_by_key

REPLICAS_PATHS = {"spec.taskManager.replicas", 'spec["taskManager"]["replicas"]', "spec.taskManager",
                  "spec", 'spec["taskManager"]'}


def _scale_target(scaler: Res) -> str | None:
    ref = get(scaler.props, "spec", "scaleTargetRef", default={})
    kind = get(ref, "kind", default="Deployment")
    if kind != "FlinkDeployment":
        return None
    name = get(ref, "name")
    return None if name is None else str(name)


def scalers_of(stack: Stack) -> dict[tuple[str, str, str], list[tuple[str, Res]]]:
    """FlinkDeployment key (provider, namespace, name) → [(scaler kind, scaler resource)]."""
    out: dict[tuple[str, str, str], list[tuple[str, Res]]] = {}
    for scaler in stack.of_type(*HPA_TYPES, SCALED_OBJECT):
        target = _scale_target(scaler)
        if target is None:
            continue
        kind = "KEDA ScaledObject" if scaler.type == SCALED_OBJECT else "HorizontalPodAutoscaler"
        out.setdefault((scaler.provider, scaler.namespace, target), []).append((kind, scaler))
    return out


def check_single_scaler(stack: Stack, cfg: dict) -> Iterator[Finding]:
    scalers = scalers_of(stack)
    for key, deployment in deployments_by_key(stack).items():
        owners = [f"{kind} {res.object_name}" for kind, res in scalers.get(key, [])]
        if view(deployment).operator_autoscaler:
            owners.append("the operator's job autoscaler (job.autoscaler.enabled: true)")
        if len(owners) > 1:
            yield Finding(message(
                f"{deployment.label} has {len(owners)} scalers: {'; '.join(owners)}.",
                "each scaler sets the job's scale on its own signal, so they undo each other's decisions, and every "
                "change restarts or rescales the job: it never settles.",
                "keep exactly one (stack file: autoscaling.mode picks it) and delete the others."),
                deployment, (deployment,))


def _ignores_replicas(deployment: Res) -> bool:
    return any(str(path) in REPLICAS_PATHS for path in deployment.ignore_changes)


def check_scaler_mode(stack: Stack, cfg: dict) -> Iterator[Finding]:
    scalers = scalers_of(stack)
    for key, deployment in deployments_by_key(stack).items():
        found = scalers.get(key, [])
        if not found:
            continue
        flink = view(deployment)
        kinds = " and ".join(sorted({kind for kind, _ in found}))
        if flink.deployment_mode != "standalone" or not flink.reactive:
            now = f"mode {flink.deployment_mode}" + ("" if flink.reactive else ", no scheduler-mode: reactive")
            yield Finding(message(
                f"{deployment.label} is scaled by a {kinds} but runs {now}.",
                "the scaler changes spec.taskManager.replicas; in native mode (or standalone without the reactive "
                "scheduler) every change is a full job upgrade — a restart from the last checkpoint on each step.",
                "run it with spec.mode: standalone and scheduler-mode: reactive (the platform does this for "
                "autoscaling.mode cpu/memory/kafka-lag/custom), or use the operator's job autoscaler instead."),
                deployment, (deployment,))
        if not _ignores_replicas(deployment):
            yield Finding(message(
                f"{deployment.label} is scaled by a {kinds} but Pulumi does not ignore spec.taskManager.replicas.",
                "every `pulumi up` then resets the replicas the scaler chose (and server-side apply reports a field "
                "conflict), restarting the job at its initial size.",
                "add ignoreChanges: [\"spec.taskManager.replicas\"] to the FlinkDeployment's resource options."),
                deployment, (deployment,))
        for kind, scaler in found:
            minimum = as_int(get(scaler.props, "spec", "minReplicas" if kind != "KEDA ScaledObject"
                                 else "minReplicaCount"))
            if kind == "KEDA ScaledObject" and minimum is None:
                minimum = 0
            if minimum is not None and minimum < 1:
                field = "minReplicaCount" if kind == "KEDA ScaledObject" else "minReplicas"
                yield Finding(message(
                    f"{kind} {scaler.namespace}/{scaler.object_name} may scale {deployment.label} to {minimum} "
                    f"TaskManagers ({field} {'unset: KEDA defaults to 0' if minimum == 0 else minimum}).",
                    "the operator rejects a FlinkDeployment with fewer than one TaskManager, so scaling to zero "
                    "leaves the job stuck with a validation error instead of pausing it.",
                    f"set spec.{field}: 1 or more (stack file: autoscaling.minReplicas)."),
                    scaler, (deployment,))


# ---------------------------------------------------------------------------------------------------------------
# Exposure
# ---------------------------------------------------------------------------------------------------------------


def check_exposure(res: Res, cfg: dict) -> Iterator[Finding]:
    allowed = {str(t).lower() for t in cfg["allowedTypes"]}
    why = ("the JobManager REST API has no authentication: anyone who reaches it can cancel jobs, upload and run "
           "jars (remote code execution) and read configuration.")
    if res.type == FLINK_DEPLOYMENT:
        exposed = view(res).conf.get(EXPOSED_KEY, "ClusterIP")
        if exposed.lower() not in allowed:
            yield Finding(message(
                f"{res.label} exposes the JobManager REST service as {exposed} ({EXPOSED_KEY}).", why,
                f"set {EXPOSED_KEY}: ClusterIP and reach the UI with kubectl port-forward or an authenticated "
                "ingress; if the exposure is intended, add the type to this policy's allowedTypes or waive it."))
        return
    service_type = str(get(res.props, "spec", "type", default="ClusterIP"))
    selector = get(res.props, "spec", "selector", default={})
    if service_type.lower() not in allowed and get(selector, "component") == "jobmanager":
        yield Finding(message(
            f"{res.label} exposes Flink JobManager pods as {service_type}.", why,
            "make the Service ClusterIP (or remove it) and use port-forward or an authenticated ingress."))


# ---------------------------------------------------------------------------------------------------------------
# Default-deny NetworkPolicy per namespace running Flink
# ---------------------------------------------------------------------------------------------------------------


def _empty_selector(selector: Any) -> bool:
    return not get(selector, "matchLabels", default={}) and not get(selector, "matchExpressions", default=[])


def is_default_deny(policy: Res) -> bool:
    spec = get(policy.props, "spec", default={})
    types = {str(t) for t in get(spec, "policyTypes", default=[])}
    return (_empty_selector(get(spec, "podSelector", default={})) and {"Ingress", "Egress"} <= types
            and not get(spec, "ingress", default=[]) and not get(spec, "egress", default=[]))


def check_default_deny(stack: Stack, cfg: dict) -> Iterator[Finding]:
    covered = {(p.provider, p.namespace) for p in stack.of_type(NETWORK_POLICY) if is_default_deny(p)}
    namespaces = {(n.provider, n.object_name): n for n in stack.of_type(NAMESPACE)}
    by_namespace: dict[tuple[str, str], list[Res]] = {}
    for deployment in stack.of_type(FLINK_DEPLOYMENT):
        by_namespace.setdefault((deployment.provider, deployment.namespace), []).append(deployment)
    for key, deployments in by_namespace.items():
        if key in covered:
            continue
        names = ", ".join(sorted(d.object_name for d in deployments))
        subject = namespaces.get(key, deployments[0])
        yield Finding(message(
            f"Namespace {key[1]} runs Flink ({names}) but has no default-deny NetworkPolicy (podSelector: {{}}, "
            "policyTypes: [Ingress, Egress], no rules).",
            "without it every pod in the cluster can reach the unauthenticated JobManager REST API and RPC ports, and "
            "the jobs can reach anything; allow-rules only restrict once a default-deny selects the pods.",
            "add a NetworkPolicy that selects all pods and denies ingress and egress, then allow same-namespace "
            "traffic, DNS, the operator → JobManager 8081, monitoring → 9249, Kafka and S3 explicitly."),
            subject, tuple(deployments))


# ---------------------------------------------------------------------------------------------------------------
# hostNetwork TaskManagers
# ---------------------------------------------------------------------------------------------------------------


def _main_container(pod_spec: Any) -> Any:
    for container in get(pod_spec, "containers", default=[]):
        if get(container, "name") == "flink-main-container":
            return container
    return {}


def check_host_network(res: Res, cfg: dict) -> Iterator[Finding]:
    flink = view(res)
    tm_spec = flink.spec_get("taskManager", "podTemplate", "spec", default={})
    top_spec = flink.spec_get("podTemplate", "spec", default={})
    host_network = get(tm_spec, "hostNetwork", default=get(top_spec, "hostNetwork", default=False))
    if host_network is not True:
        return
    problems: list[str] = []
    fixes: list[str] = []
    dns = get(tm_spec, "dnsPolicy", default=get(top_spec, "dnsPolicy"))
    if dns != "ClusterFirstWithHostNet":
        problems.append(f"dnsPolicy is {dns or 'unset (ClusterFirst)'}, so the pods resolve names through the node "
                        "and cannot find cluster services")
        fixes.append("set dnsPolicy: ClusterFirstWithHostNet on the TaskManager pod template")
    declared = {}
    for container in (_main_container(tm_spec), _main_container(top_spec)):
        for port in get(container, "ports", default=[]):
            number = as_int(get(port, "containerPort"))
            if number is not None and number not in declared:
                declared[number] = as_int(get(port, "hostPort"))
    for key, what in (("taskmanager.data.port", "data"), ("taskmanager.rpc.port", "RPC")):
        value = as_int(flink.conf.get(key, "0"))
        if not value:
            problems.append(f"the {what} port ({key}) is random, so two TaskManagers on one node can collide and "
                            "no firewall rule can name it")
            fixes.append(f"set {key} to a fixed port")
        elif declared.get(value) != value:
            problems.append(f"the {what} port {value} is not declared as hostPort {value} on flink-main-container, "
                            "so the scheduler may put two TaskManagers on one node and the second fails to bind")
            fixes.append(f"declare containerPort {value} with hostPort {value}")
    control = get(res.props, "metadata", "annotations", CONTROL_ANNOTATION)
    if flink.is_prod and not control:
        problems.append("no compensating control is recorded: NetworkPolicy does not reliably apply to hostNetwork "
                        "pods (their traffic is node traffic), so the namespace's default-deny does not protect them")
        fixes.append(f"record what restricts their traffic instead (e.g. a node security group) — stack file: "
                     f"taskManager.hostNetwork.compensatingControl, annotation {CONTROL_ANNOTATION}")
    if not problems:
        return
    yield Finding(message(
        f"{res.label} runs TaskManagers on the host network: " + "; ".join(problems) + ".",
        "hostNetwork pods bypass pod networking: ports are shared with the node and everything on it, Pod Security "
        "baseline forbids them (the namespace must allow privileged pods), and cluster network policies do not "
        "isolate them.",
        "; ".join(fixes) + "."))


RULES = [
    Rule("flink-single-scaler", MANDATORY,
         "Exactly one scaler per FlinkDeployment (HPA, KEDA ScaledObject or the operator's job autoscaler).",
         "Two scalers fight over the job's scale and restart it on every disagreement.",
         "Keep one scaler (stack file: autoscaling.mode).",
         check_single_scaler, scope="stack"),
    Rule("flink-scaler-mode", MANDATORY,
         "HPA/KEDA-scaled FlinkDeployments run standalone with the reactive scheduler, Pulumi ignores their "
         "replicas and the scaler never goes below one TaskManager.",
         "In native mode every scale step restarts the job; Pulumi would reset the scaler's replicas.",
         "mode: standalone, scheduler-mode: reactive, ignoreChanges on spec.taskManager.replicas, min replicas ≥ 1.",
         check_scaler_mode, scope="stack"),
    Rule("flink-jobmanager-exposure", MANDATORY,
         "The JobManager REST service is not NodePort/LoadBalancer unless allowed.",
         "Flink's REST API is unauthenticated and can run arbitrary jars.",
         "Keep kubernetes.rest-service.exposed.type: ClusterIP.",
         check_exposure, kinds=(FLINK_DEPLOYMENT, SERVICE),
         knobs=(Knob("allowedTypes", {"type": "array", "items": {"type": "string"}}, ["ClusterIP", "Headless_ClusterIP"],
                     "Service types the JobManager REST service may use."),)),
    Rule("flink-namespace-default-deny", MANDATORY,
         "Every namespace running Flink has a default-deny NetworkPolicy.",
         "Allow-rules only isolate pods once a default-deny policy selects them.",
         "Add a NetworkPolicy with podSelector: {} and policyTypes [Ingress, Egress] and no rules.",
         check_default_deny, scope="stack"),
    Rule("flink-host-network", MANDATORY,
         "hostNetwork TaskManagers use ClusterFirstWithHostNet DNS, fixed declared hostPorts and (in prod) a "
         "recorded compensating control.",
         "NetworkPolicy does not reliably apply to hostNetwork pods and random ports collide on a node.",
         "Fix DNS policy and ports; record the compensating control in the stack file.",
         check_host_network, kinds=(FLINK_DEPLOYMENT,)),
]
