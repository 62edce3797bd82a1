"""Tenancy under Pulumi mocks: what the real program registers per team namespace and Kubernetes cluster."""

from __future__ import annotations

import copy
import logging

from flinkplat.plan.runner import plan_stack
from tests.conftest import resources_of, stack_document

TENANCY = "flinkplatform:tenancy:Tenancy"


def _team_namespaces(plan: dict) -> dict[tuple[str, str], dict]:
    return {(r["provider"], r["inputs"]["metadata"]["name"]): r for r in resources_of(plan, "Namespace")
            if "team" in r["inputs"]["metadata"].get("labels", {})}


def test_every_team_namespace_gets_quota_limits_and_policies(prod_plan):
    namespaces = _team_namespaces(prod_plan)
    assert sorted(namespaces) == [
        ("kubernetes:euw1-main", "flink-logistics"), ("kubernetes:euw1-main", "flink-payments"),
        ("kubernetes:use1-canary", "flink-payments"),
        ("kubernetes:use1-main", "flink-logistics"), ("kubernetes:use1-main", "flink-payments")]
    for (provider, ns), resource in namespaces.items():
        kube = provider.split(":", 1)[1]
        # The logical name never changes: a new one would delete the namespace with every job in it.
        assert resource["name"] == f"{kube}/{ns}"
        assert TENANCY in resource["parent"]
        in_ns = [r for r in prod_plan["resources"] if r["provider"] == provider
                 and r["inputs"].get("metadata", {}).get("namespace") == ns]
        types = {r["type"] for r in in_ns}
        assert {"kubernetes:core/v1:ResourceQuota", "kubernetes:core/v1:LimitRange",
                "kubernetes:networking.k8s.io/v1:NetworkPolicy"} <= types
        policies = {r["inputs"]["metadata"]["name"] for r in in_ns
                    if r["type"] == "kubernetes:networking.k8s.io/v1:NetworkPolicy"}
        assert {"default-deny", "allow-same-namespace", "allow-dns", "allow-operator-to-jobmanager-rest",
                "allow-monitoring-scrape", "allow-kafka-egress", "allow-s3-egress"} <= policies
        for r in in_ns:
            if r["type"].startswith("kubernetes:networking") or r["type"].endswith(("ResourceQuota", "LimitRange")):
                assert resource["urn"] in r["options"]["dependsOn"], r["name"]


def test_pod_security_is_privileged_only_for_the_host_network_namespace(prod_plan, dev_plan):
    levels = {key: r["inputs"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
              for plan in (prod_plan, dev_plan) for key, r in _team_namespaces(plan).items()}
    assert {key for key, level in levels.items() if level == "privileged"} == {
        ("kubernetes:use1-main", "flink-logistics")}
    assert set(levels.values()) == {"privileged", "restricted"}
    annotated = _team_namespaces(prod_plan)[("kubernetes:use1-main", "flink-logistics")]["inputs"]["metadata"]
    assert annotated["annotations"]["flink-platform/host-network-warning"].startswith(
        "use1-main/flink-logistics/shipment-track: TaskManagers run with hostNetwork, so NetworkPolicy does NOT "
        "reliably apply to them")


def test_host_network_cluster_is_announced_loudly(write_stack, caplog):
    document = copy.deepcopy(stack_document("dev"))
    clickstream = document["config"]["flink-platform:clusters"][0]
    clickstream["taskManager"]["hostNetwork"] = {"nodeCidrs": ["172.18.0.0/16"]}
    with caplog.at_level(logging.WARNING):
        plan = plan_stack(stack_file=write_stack(document)).to_json()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "dev-local/flink-analytics/clickstream: TaskManagers run with hostNetwork, so NetworkPolicy does NOT "
        "reliably apply to them (most CNI plugins treat their traffic as node traffic) and namespace "
        "'flink-analytics' runs with Pod Security 'privileged'. Compensating control: NONE DECLARED — restrict "
        "the pool's ports with node security groups or a host firewall and record it in "
        "taskManager.hostNetwork.compensatingControl"]
    ns = _team_namespaces(plan)[("kubernetes:dev-local", "flink-analytics")]["inputs"]["metadata"]
    assert ns["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    tm = next(r for r in resources_of(plan, "FlinkDeployment")
              if r["inputs"]["metadata"]["name"] == "clickstream")["inputs"]["spec"]["taskManager"]["podTemplate"]
    assert tm["spec"]["hostNetwork"] is True and tm["spec"]["dnsPolicy"] == "ClusterFirstWithHostNet"
    policy = next(r for r in resources_of(plan, "NetworkPolicy")
                  if r["inputs"]["metadata"]["name"] == "clickstream-host-network-taskmanagers")
    assert policy["inputs"]["spec"]["ingress"][0]["from"] == [{"ipBlock": {"cidr": "172.18.0.0/16"}}]


def test_no_host_network_no_warning(write_stack, caplog):
    with caplog.at_level(logging.WARNING):
        plan_stack(stack_file=write_stack(copy.deepcopy(stack_document("dev"))))
    assert not [r for r in caplog.records if "hostNetwork" in r.getMessage()]
