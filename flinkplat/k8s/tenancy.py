"""A team's namespace on one Kubernetes cluster: labels with the Pod Security level, ResourceQuota, LimitRange and the
NetworkPolicies that open exactly what Flink needs (FACTS §4.3) — nothing more.

Policies are additive: `default-deny` closes ingress and egress for every pod, each further policy opens one need:
in-namespace traffic (JobManager ↔ TaskManager RPC, blob, shuffle), DNS, the operator polling the JobManager REST
API, Prometheus scraping the named `metrics` port, egress to the team's Kafka/S3/extra CIDRs, the API server for
native-mode JobManagers and Kubernetes HA, and node CIDRs for hostNetwork TaskManagers (whose traffic comes from node
IPs that pod selectors never match). NetworkPolicy does not reliably apply to hostNetwork pods themselves.
"""

from __future__ import annotations

import ipaddress
import math
import re
from typing import Any, Iterable

from flinkplat.config.fleet import Placement
from flinkplat.config.models import Monitoring, StackConfig, Storage, Team
from flinkplat.flink import keys
from flinkplat.flink.deployment import MANAGED_BY, METRICS_PORT_NAME, ha_wanted
from flinkplat.flink.scaling import decide

POD_SECURITY = "pod-security.kubernetes.io"
PRIVILEGED, RESTRICTED = "privileged", "restricted"
NAME_LABEL = "app.kubernetes.io/name"  # set on every Flink pod by deployment.pod_template
COMPONENT_LABEL = "component"  # set by Flink (native) and the operator (standalone): jobmanager | taskmanager
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"  # set by the API server on every namespace
HOST_NETWORK_ANNOTATION = "flink-platform/host-network-warning"

# Flink's fixed ports on Kubernetes (native and standalone): JM RPC, blob server, REST.
JM_RPC_PORT, BLOB_PORT, REST_PORT = 6123, 6124, 8081
# API server ports behind the `kubernetes` Service: 443 on EKS/GKE/AKS, 6443 on kubeadm/kind. NetworkPolicy sees the
# endpoint after DNAT, so both are listed.
API_SERVER_PORTS = (443, 6443)
S3_PORT = 443
DEFAULT_KAFKA_PORT = 9092

# LimitRange defaults for containers that declare no resources (sidecars, init containers). Flink's own containers
# always declare them: the operator sets requests = spec resources and limits = requests × limit-factor.
DEFAULT_REQUEST = {"cpu": "100m", "memory": "128Mi"}
DEFAULT_LIMIT = {"cpu": "500m", "memory": "512Mi"}


# ---------------------------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------------------------


def _conf_port(placement: Placement, key: str, default: int) -> int:
    value = placement.cluster.flink_configuration.get(key)
    try:
        return int(str(value)) if value is not None else default
    except ValueError:  # a range such as "50100-50200": keep Flink's fixed Kubernetes default
        return default


def rest_port(placement: Placement) -> int:
    return _conf_port(placement, "rest.port", REST_PORT)


def jm_rpc_port(placement: Placement) -> int:
    return _conf_port(placement, "jobmanager.rpc.port", JM_RPC_PORT)


def blob_port(placement: Placement) -> int:
    return _conf_port(placement, "blob.server.port", BLOB_PORT)


def host_network_placements(placements: Iterable[Placement]) -> list[Placement]:
    return [p for p in placements if p.cluster.task_manager.host_network is not None]


def pod_security_level(placements: Iterable[Placement]) -> str:
    """`restricted`, unless a hostNetwork cluster runs in the namespace: baseline and restricted both forbid
    hostNetwork and hostPort, so only `privileged` admits those TaskManagers."""
    return PRIVILEGED if host_network_placements(placements) else RESTRICTED


def needs_api_server(placement: Placement, is_prod: bool) -> str | None:
    """Which pods of this cluster talk to the API server: 'all' (Kubernetes HA: JobManagers and TaskManagers read
    the leader ConfigMaps), 'jobmanager' (native mode without HA: the JobManager creates TaskManager pods) or None."""
    conf = {k: str(v) for k, v in placement.cluster.flink_configuration.items()}
    if ha_wanted(placement, is_prod) or keys.ha_enabled(conf):
        return "all"
    if decide(placement.cluster).deployment_mode == "native":
        return "jobmanager"
    return None


_SIZE_RE = re.compile(r"^(\d+)\s*([a-z]*)$")
_TO_K8S = {"": "", "b": "", "bytes": "", "k": "Ki", "kb": "Ki", "kibibytes": "Ki", "m": "Mi", "mb": "Mi",
           "mebibytes": "Mi", "g": "Gi", "gb": "Gi", "gibibytes": "Gi", "t": "Ti", "tb": "Ti", "tebibytes": "Ti"}
_K8S_BYTES = {"": 1, "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40}


def flink_memory_bytes(size: str) -> int:
    """'4096m' -> 4294967296 (Flink units are binary; the config model has normalised the unit)."""
    number, unit = _SIZE_RE.match(size.strip().lower()).groups()
    return int(number) * _K8S_BYTES[_TO_K8S[unit]]


def _limit_factor(placement: Placement, component: str, resource: str) -> float:
    value = placement.cluster.flink_configuration.get(f"kubernetes.{component}.{resource}.limit-factor", 1.0)
    return max(float(value), 1.0)


def canonical_cpu(milli: int) -> str:
    """A CPU quantity in the API server's canonical form (whole cores have no suffix: 2000m is stored as "2"), so
    what Pulumi sends is what the server stores and reads back."""
    return str(milli // 1000) if milli % 1000 == 0 else f"{milli}m"


def canonical_memory(mib: int) -> str:
    """A memory quantity of whole MiB in the API server's canonical form (the largest binary suffix with a whole
    number: 4096Mi is stored as "4Gi", 1536Mi stays "1536Mi")."""
    for suffix, factor in (("Ti", 1 << 20), ("Gi", 1 << 10)):
        if mib and mib % factor == 0:
            return f"{mib // factor}{suffix}"
    return f"{mib}Mi"


def container_max(placements: Iterable[Placement]) -> dict[str, str]:
    """The largest Flink container of the namespace (requests × limit-factor), as the LimitRange maximum."""
    cpu_milli, memory = 0, 0
    for placement in placements:
        cluster = placement.cluster
        for component, spec in (("jobmanager", cluster.job_manager), ("taskmanager", cluster.task_manager)):
            cpu_milli = max(cpu_milli, math.ceil(spec.cpu * 1000 * _limit_factor(placement, component, "cpu")))
            memory = max(memory, math.ceil(flink_memory_bytes(spec.memory)
                                           * _limit_factor(placement, component, "memory")))
    return {"cpu": canonical_cpu(cpu_milli), "memory": canonical_memory(math.ceil(memory / (1 << 20)))}


def host_network_note(placement: Placement) -> str:
    """The loud warning for a hostNetwork cluster (namespace annotation, `pulumi` warning, docs, policy rule)."""
    host_network = placement.cluster.task_manager.host_network
    control = host_network.compensating_control if host_network else None
    return (f"{placement.key}: TaskManagers run with hostNetwork, so NetworkPolicy does NOT reliably apply to them "
            "(most CNI plugins treat their traffic as node traffic) and namespace '{ns}' runs with Pod Security "
            "'privileged'. Compensating control: ".format(ns=placement.namespace)
            + (control if control else "NONE DECLARED — restrict the pool's ports with node security groups or a "
               "host firewall and record it in taskManager.hostNetwork.compensatingControl"))


# ---------------------------------------------------------------------------------------------------------------
# Namespace, quota, limits
# ---------------------------------------------------------------------------------------------------------------


def namespace(region: str, team: Team, placements: list[Placement]) -> dict[str, Any]:
    level = pod_security_level(placements)
    labels = {
        "team": team.name,
        "region": region,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        f"{POD_SECURITY}/enforce": level,
        f"{POD_SECURITY}/enforce-version": "latest",
        # warn/audit stay at restricted: every deviation still shows up in kubectl output and the audit log.
        f"{POD_SECURITY}/warn": RESTRICTED,
        f"{POD_SECURITY}/warn-version": "latest",
        f"{POD_SECURITY}/audit": RESTRICTED,
        f"{POD_SECURITY}/audit-version": "latest",
    }
    metadata: dict[str, Any] = {"name": team.namespace_name, "labels": labels}
    notes = [host_network_note(p) for p in host_network_placements(placements)]
    if notes:
        metadata["annotations"] = {HOST_NETWORK_ANNOTATION: " | ".join(notes)}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata}


def _meta(name: str, team: Team) -> dict[str, Any]:
    return {"name": name, "namespace": team.namespace_name,
            "labels": {"team": team.name, "app.kubernetes.io/managed-by": MANAGED_BY}}


def resource_quota(team: Team, allow_exposed_services: bool = False) -> dict[str, Any]:
    quota = team.quota
    hard = {
        "requests.cpu": quota.cpu,
        "limits.cpu": quota.cpu,
        "requests.memory": quota.memory,
        "limits.memory": quota.memory,
        "pods": str(quota.pods),
    }
    if not allow_exposed_services:
        # The JobManager REST service stays ClusterIP; nothing in a Flink namespace needs a node port or a cloud LB.
        hard["services.nodeports"] = "0"
        hard["services.loadbalancers"] = "0"
    return {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": _meta("flink-quota", team), "spec": {"hard": hard}}


def limit_range(team: Team, placements: list[Placement]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": _meta("flink-limits", team),
        "spec": {"limits": [{
            "type": "Container",
            "default": dict(DEFAULT_LIMIT),
            "defaultRequest": dict(DEFAULT_REQUEST),
            "max": container_max(placements),
        }]},
    }


# ---------------------------------------------------------------------------------------------------------------
# NetworkPolicies
# ---------------------------------------------------------------------------------------------------------------


def _policy(name: str, team: Team, pod_selector: dict[str, Any], types: list[str], *,
            ingress: list | None = None, egress: list | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"podSelector": pod_selector, "policyTypes": types}
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": _meta(name, team),
            "spec": spec}


def _tcp(*ports: int | str) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": port} for port in ports]


def _namespace_peer(name: str) -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: name}}}


def _ip_blocks(cidrs: Iterable[str]) -> list[dict[str, Any]]:
    return [{"ipBlock": {"cidr": cidr}} for cidr in cidrs]


def _unique(values: Iterable[int]) -> list[int]:
    return sorted(set(values))


def object_store_port(storage: Storage | None) -> int:
    """The port S3 egress opens: AWS S3 is HTTPS (443); an S3-compatible store listens where its endpoint says."""
    if storage is not None and storage.s3_compatible is not None:
        return storage.s3_compatible.port
    return S3_PORT


def network_policies(team: Team, placements: list[Placement], *, operator_namespace: str,
                     monitoring: Monitoring, is_prod: bool, storage: Storage | None = None) -> list[dict[str, Any]]:
    everything: dict[str, Any] = {}
    jobmanagers = {"matchLabels": {COMPONENT_LABEL: "jobmanager"}}
    policies = [
        _policy("default-deny", team, everything, ["Ingress", "Egress"]),
        _policy("allow-same-namespace", team, everything, ["Ingress", "Egress"],
                ingress=[{"from": [{"podSelector": {}}]}], egress=[{"to": [{"podSelector": {}}]}]),
        _policy("allow-dns", team, everything, ["Egress"], egress=[{
            "to": [{**_namespace_peer("kube-system"), "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
        }]),
        _policy("allow-operator-to-jobmanager-rest", team, jobmanagers, ["Ingress"], ingress=[{
            "from": [_namespace_peer(operator_namespace)],
            "ports": _tcp(*_unique(rest_port(p) for p in placements)),
        }]),
    ]
    if monitoring.enabled:
        policies.append(_policy("allow-monitoring-scrape", team, everything, ["Ingress"], ingress=[{
            "from": [_namespace_peer(monitoring.namespace)],
            "ports": _tcp(METRICS_PORT_NAME),  # the named container port every Flink pod declares
        }]))
    egress = team.egress
    if egress.kafka:
        policies.append(_policy("allow-kafka-egress", team, everything, ["Egress"], egress=[
            {"to": _ip_blocks([k.cidr]), "ports": _tcp(*k.ports)} for k in egress.kafka]))
    if egress.s3_cidrs:
        policies.append(_policy("allow-s3-egress", team, everything, ["Egress"], egress=[
            {"to": _ip_blocks(egress.s3_cidrs), "ports": _tcp(object_store_port(storage))}]))
    if egress.extra:
        policies.append(_policy("allow-extra-egress", team, everything, ["Egress"], egress=[
            {"to": _ip_blocks([e.cidr]), "ports": _tcp(*e.ports)} for e in egress.extra]))
    for placement in placements:
        name = placement.cluster.name
        who = needs_api_server(placement, is_prod)
        if who and egress.kubernetes_api_cidrs:
            selector: dict[str, Any] = {NAME_LABEL: name}
            if who == "jobmanager":
                selector[COMPONENT_LABEL] = "jobmanager"
            policies.append(_policy(f"{name}-kubernetes-api", team, {"matchLabels": selector}, ["Egress"], egress=[
                {"to": _ip_blocks(egress.kubernetes_api_cidrs), "ports": _tcp(*API_SERVER_PORTS)}]))
        host_network = placement.cluster.task_manager.host_network
        if host_network is not None and host_network.node_cidrs:
            # hostNetwork TaskManagers reach the JobManager from node IPs; the JobManager calls their RPC port.
            policies.append(_policy(
                f"{name}-host-network-taskmanagers", team,
                {"matchLabels": {NAME_LABEL: name, COMPONENT_LABEL: "jobmanager"}}, ["Ingress", "Egress"],
                ingress=[{"from": _ip_blocks(host_network.node_cidrs),
                          "ports": _tcp(*_unique([jm_rpc_port(placement), blob_port(placement)]))}],
                egress=[{"to": _ip_blocks(host_network.node_cidrs), "ports": _tcp(host_network.rpc_port)}]))
    return policies


# ---------------------------------------------------------------------------------------------------------------
# Refusals (reported as configuration errors by flinkplat.config.crossref)
# ---------------------------------------------------------------------------------------------------------------


def _cidr_problem(value: str) -> str | None:
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as error:
        try:
            fixed = ipaddress.ip_network(value, strict=False)
        except ValueError:
            return f"'{value}' is not a CIDR ({error}); write it like 10.20.0.0/16"
        return f"'{value}' has host bits set; did you mean {fixed}?"
    if "/" not in value:
        return f"'{value}' has no prefix length; did you mean {value}/32?"
    return None


def bootstrap_ports(bootstrap_servers: str) -> list[int]:
    ports = []
    for server in bootstrap_servers.split(","):
        host, _, port = server.strip().rpartition(":")
        ports.append(int(port) if host and port.isdigit() else DEFAULT_KAFKA_PORT)
    return _unique(ports)


def refusals(config: StackConfig, placements: list[Placement]) -> list[tuple[tuple, str]]:
    """Tenancy problems as (key path, message): what the namespace's NetworkPolicies would otherwise block."""
    out: list[tuple[tuple, str]] = []
    for t, team in enumerate(config.teams):
        loc = ("teams", t, "egress")
        egress = team.egress
        for field, cidrs in (("kafka", [k.cidr for k in egress.kafka]), ("s3Cidrs", egress.s3_cidrs),
                             ("kubernetesApiCidrs", egress.kubernetes_api_cidrs),
                             ("extra", [e.cidr for e in egress.extra])):
            for i, cidr in enumerate(cidrs):
                problem = _cidr_problem(cidr)
                if problem:
                    out.append((loc + ((field, i, "cidr") if field in ("kafka", "extra") else (field, i)), problem))
        mine = [p for p in placements if p.team.name == team.name]
        if not mine:
            continue
        names = sorted({p.cluster.name for p in mine})
        if not egress.s3_cidrs:
            store = config.storage.s3_compatible
            where = (f"the object store {store.endpoint} (its pods' CIDR, or its hosts' when it runs outside the "
                     f"cluster; port {store.port} is opened)"
                     if store is not None else "the region's S3 VPC endpoint or S3 prefix list")
            out.append((loc + ("s3Cidrs",),
                        f"team '{team.name}' runs Flink clusters ({', '.join(names)}) that checkpoint to S3, but its "
                        f"namespace allows no S3 egress; set s3Cidrs to the CIDRs of {where}"))
        api = sorted({p.cluster.name for p in mine if needs_api_server(p, config.is_prod)})
        if api and not egress.kubernetes_api_cidrs:
            out.append((loc + ("kubernetesApiCidrs",),
                        f"Flink clusters {', '.join(api)} of team '{team.name}' need the Kubernetes API (native-mode "
                        "JobManager or Kubernetes HA), but the namespace allows no egress to it; set "
                        "kubernetesApiCidrs to the API server's endpoint CIDRs"))
        allowed_ports = {port for k in egress.kafka for port in k.ports}
        reported: set[tuple[str, int]] = set()
        for placement in mine:
            kafka = placement.cluster.kafka
            if kafka is None:
                continue
            for port in bootstrap_ports(kafka.bootstrap_servers):
                if port in allowed_ports or (placement.cluster.name, port) in reported:
                    continue
                reported.add((placement.cluster.name, port))
                out.append((loc + ("kafka",),
                            f"Flink cluster '{placement.cluster.name}' reads Kafka at {kafka.bootstrap_servers}, "
                            f"but team '{team.name}' allows no Kafka egress on port {port}; add "
                            f"{{cidr: <broker network>, ports: [{port}]}} to teams[{t}].egress.kafka"))
    seen: set[int] = set()
    for placement in host_network_placements(placements):
        if placement.index in seen:
            continue
        seen.add(placement.index)
        host_network = placement.cluster.task_manager.host_network
        loc = ("clusters", placement.index, "taskManager", "hostNetwork", "nodeCidrs")
        if not host_network.node_cidrs:
            out.append((loc, "hostNetwork TaskManagers reach their JobManager from node IPs, which NetworkPolicy pod "
                             "selectors never match; list the dedicated pool's node CIDRs (e.g. nodeCidrs: "
                             "[10.0.32.0/20]) so the JobManager accepts them"))
        for n, cidr in enumerate(host_network.node_cidrs):
            problem = _cidr_problem(cidr)
            if problem:
                out.append((loc + (n,), problem))
    return out
