"""flinkplat.k8s.tenancy: namespace labels, quota, limits, NetworkPolicies and the tenancy refusals (pure)."""

from __future__ import annotations

import pytest

from flinkplat.config.errors import ConfigError
from flinkplat.config.fleet import resolve
from flinkplat.k8s import tenancy
from tests.k8s.conftest import cluster_doc, load_document


def _team(loaded, name):
    return next(t for t in loaded.config.teams if t.name == name)


def _on(loaded, kube, team):
    return [p for p in resolve(loaded.config) if p.kube.name == kube and p.team.name == team]


def _policies(loaded, kube, team):
    return {p["metadata"]["name"]: p for p in tenancy.network_policies(
        _team(loaded, team), _on(loaded, kube, team), operator_namespace="flink-operator",
        monitoring=loaded.config.monitoring, is_prod=loaded.config.is_prod)}


def test_namespace_is_restricted_without_host_network(prod_loaded):
    ns = tenancy.namespace("us-east-1", _team(prod_loaded, "payments"), _on(prod_loaded, "use1-main", "payments"))
    assert ns["metadata"]["name"] == "flink-payments"
    assert ns["metadata"]["labels"] == {
        "team": "payments",
        "region": "us-east-1",
        "app.kubernetes.io/managed-by": "flink-platform",
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/warn-version": "latest",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/audit-version": "latest",
    }
    assert "annotations" not in ns["metadata"]


def test_namespace_is_privileged_only_where_the_host_network_cluster_runs(prod_loaded):
    team = _team(prod_loaded, "logistics")
    main = tenancy.namespace("us-east-1", team, _on(prod_loaded, "use1-main", "logistics"))
    eu = tenancy.namespace("eu-west-1", team, _on(prod_loaded, "euw1-main", "logistics"))
    assert main["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    assert main["metadata"]["labels"]["pod-security.kubernetes.io/warn"] == "restricted"
    assert main["metadata"]["labels"]["pod-security.kubernetes.io/audit"] == "restricted"
    assert eu["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert main["metadata"]["annotations"] == {"flink-platform/host-network-warning": (
        "use1-main/flink-logistics/shipment-track: TaskManagers run with hostNetwork, so NetworkPolicy does NOT "
        "reliably apply to them (most CNI plugins treat their traffic as node traffic) and namespace "
        "'flink-logistics' runs with Pod Security 'privileged'. Compensating control: node security group "
        "sg-0a1b2c3d4e5f hostnet-pool allows 6121-6122 and 9249 only from the cluster's pod and node CIDRs")}


def test_host_network_note_without_a_compensating_control(prod_doc):
    del cluster_doc(prod_doc, "shipment-track")["taskManager"]["hostNetwork"]["compensatingControl"]
    loaded = load_document(prod_doc)
    placement = next(p for p in resolve(loaded.config) if p.cluster.name == "shipment-track")
    assert tenancy.host_network_note(placement).endswith(
        "Compensating control: NONE DECLARED — restrict the pool's ports with node security groups or a host "
        "firewall and record it in taskManager.hostNetwork.compensatingControl")


def test_quota_and_no_node_ports_or_load_balancers(prod_loaded):
    quota = tenancy.resource_quota(_team(prod_loaded, "payments"))
    assert quota["metadata"]["namespace"] == "flink-payments"
    assert quota["spec"]["hard"] == {"requests.cpu": "64", "limits.cpu": "64", "requests.memory": "256Gi",
                                     "limits.memory": "256Gi", "pods": "120", "services.nodeports": "0",
                                     "services.loadbalancers": "0"}
    exposed = tenancy.resource_quota(_team(prod_loaded, "payments"), allow_exposed_services=True)
    assert "services.nodeports" not in exposed["spec"]["hard"]


def test_limit_range_max_is_the_largest_flink_container(prod_loaded):
    limits = tenancy.limit_range(_team(prod_loaded, "payments"), _on(prod_loaded, "use1-main", "payments"))
    (entry,) = limits["spec"]["limits"]
    assert entry["type"] == "Container"
    assert entry["max"] == {"cpu": "4", "memory": "8Gi"}  # fraud-score: 4 CPU, 8192m (canonical quantities)
    assert entry["default"] == {"cpu": "500m", "memory": "512Mi"}
    assert entry["defaultRequest"] == {"cpu": "100m", "memory": "128Mi"}


def test_limit_range_honours_limit_factors(prod_doc):
    cluster_doc(prod_doc, "fraud-score").setdefault("flinkConfiguration", {})[
        "kubernetes.taskmanager.memory.limit-factor"] = 1.5
    loaded = load_document(prod_doc)
    limits = tenancy.limit_range(_team(loaded, "payments"), _on(loaded, "use1-main", "payments"))
    assert limits["spec"]["limits"][0]["max"] == {"cpu": "4", "memory": "12Gi"}


@pytest.mark.parametrize("milli,cpu", [(2000, "2"), (1500, "1500m"), (250, "250m"), (0, "0")])
def test_cpu_quantities_are_sent_in_the_api_servers_canonical_form(milli, cpu):
    # the API server stores 2000m as "2": sending that keeps plan, Pulumi state and the cluster identical
    assert tenancy.canonical_cpu(milli) == cpu


@pytest.mark.parametrize("mib,memory", [(4096, "4Gi"), (1536, "1536Mi"), (12288, "12Gi"), (1 << 20, "1Ti"),
                                        (1, "1Mi")])
def test_memory_quantities_are_sent_in_the_api_servers_canonical_form(mib, memory):
    assert tenancy.canonical_memory(mib) == memory


@pytest.mark.parametrize("size,expected", [("4096m", 4096 << 20), ("2g", 2 << 30), ("512mb", 512 << 20),
                                           ("1t", 1 << 40), ("64kb", 64 << 10)])
def test_flink_memory_bytes(size, expected):
    assert tenancy.flink_memory_bytes(size) == expected


def test_network_policies_open_only_what_flink_needs(prod_loaded):
    policies = _policies(prod_loaded, "use1-main", "payments")
    assert sorted(policies) == [
        "allow-dns", "allow-kafka-egress", "allow-monitoring-scrape", "allow-operator-to-jobmanager-rest",
        "allow-s3-egress", "allow-same-namespace", "default-deny", "fraud-score-kubernetes-api",
        "ledger-agg-kubernetes-api", "payments-enrich-kubernetes-api"]
    assert policies["default-deny"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    assert policies["allow-same-namespace"]["spec"] == {
        "podSelector": {}, "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": [{"podSelector": {}}]}], "egress": [{"to": [{"podSelector": {}}]}]}
    assert policies["allow-dns"]["spec"]["egress"] == [{
        "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]
    assert policies["allow-operator-to-jobmanager-rest"]["spec"] == {
        "podSelector": {"matchLabels": {"component": "jobmanager"}}, "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "flink-operator"}}}],
                     "ports": [{"protocol": "TCP", "port": 8081}]}]}
    assert policies["allow-monitoring-scrape"]["spec"]["ingress"] == [{
        "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
        "ports": [{"protocol": "TCP", "port": "metrics"}]}]
    assert policies["allow-kafka-egress"]["spec"]["egress"] == [
        {"to": [{"ipBlock": {"cidr": "10.40.0.0/16"}}], "ports": [{"protocol": "TCP", "port": 9096}]}]
    assert policies["allow-s3-egress"]["spec"]["egress"] == [
        {"to": [{"ipBlock": {"cidr": "10.0.128.0/20"}}], "ports": [{"protocol": "TCP", "port": 443}]}]
    # prod: Kubernetes HA everywhere, so JobManagers and TaskManagers read the leader ConfigMaps.
    assert policies["ledger-agg-kubernetes-api"]["spec"] == {
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "ledger-agg"}}, "policyTypes": ["Egress"],
        "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/20"}}],
                    "ports": [{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 6443}]}]}
    for policy in policies.values():
        assert policy["metadata"]["namespace"] == "flink-payments"
        for rule in policy["spec"].get("egress", []) + policy["spec"].get("ingress", []):
            for peer in rule.get("to", []) + rule.get("from", []):
                assert peer.get("ipBlock", {}).get("cidr") != "0.0.0.0/0"


def test_native_job_manager_without_ha_gets_api_access_alone(dev_loaded):
    policies = _policies(dev_loaded, "dev-local", "analytics")
    assert policies["clickstream-kubernetes-api"]["spec"]["podSelector"] == {
        "matchLabels": {"app.kubernetes.io/name": "clickstream", "component": "jobmanager"}}


def test_standalone_without_ha_gets_no_api_access(dev_doc):
    clickstream = cluster_doc(dev_doc, "clickstream")
    clickstream["autoscaling"] = {"mode": "cpu"}
    loaded = load_document(dev_doc)
    assert "clickstream-kubernetes-api" not in _policies(loaded, "dev-local", "analytics")


def test_host_network_job_manager_accepts_its_task_managers_from_node_ips(prod_loaded):
    policy = _policies(prod_loaded, "use1-main", "logistics")["shipment-track-host-network-taskmanagers"]
    assert policy["spec"] == {
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "shipment-track", "component": "jobmanager"}},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.32.0/20"}}],
                     "ports": [{"protocol": "TCP", "port": 6123}, {"protocol": "TCP", "port": 6124}]}],
        "egress": [{"to": [{"ipBlock": {"cidr": "10.0.32.0/20"}}], "ports": [{"protocol": "TCP", "port": 6122}]}]}


def test_monitoring_disabled_means_no_scrape_policy(prod_doc):
    prod_doc["config"]["flink-platform:monitoring"]["enabled"] = False
    assert "allow-monitoring-scrape" not in _policies(load_document(prod_doc), "use1-main", "payments")


def _problems(document) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_document(document)
    assert caught.value.stack == "test"
    return [str(p) for p in caught.value.problems]


def test_refuses_host_network_without_node_cidrs(prod_doc):
    del cluster_doc(prod_doc, "shipment-track")["taskManager"]["hostNetwork"]["nodeCidrs"]
    assert _problems(prod_doc) == [
        "flink-platform:clusters[5].taskManager.hostNetwork.nodeCidrs: hostNetwork TaskManagers reach their "
        "JobManager from node IPs, which NetworkPolicy pod selectors never match; list the dedicated pool's node "
        "CIDRs (e.g. nodeCidrs: [10.0.32.0/20]) so the JobManager accepts them"]


def test_refuses_cidrs_with_host_bits(prod_doc):
    prod_doc["config"]["flink-platform:teams"][0]["egress"]["s3Cidrs"] = ["10.0.128.1/20"]
    cluster_doc(prod_doc, "shipment-track")["taskManager"]["hostNetwork"]["nodeCidrs"] = ["10.0.32.0"]
    assert _problems(prod_doc) == [
        "flink-platform:teams[0].egress.s3Cidrs[0]: '10.0.128.1/20' has host bits set; did you mean 10.0.128.0/20?",
        "flink-platform:clusters[5].taskManager.hostNetwork.nodeCidrs[0]: '10.0.32.0' has no prefix length; "
        "did you mean 10.0.32.0/32?"]


def test_refuses_kafka_without_egress_on_its_port(prod_doc):
    prod_doc["config"]["flink-platform:teams"][1]["egress"]["kafka"][0]["ports"] = [9092]
    assert _problems(prod_doc) == [
        "flink-platform:teams[1].egress.kafka: Flink cluster 'warehouse' reads Kafka at "
        "b-1.logistics-use1.kafka.internal:9096, but team 'logistics' allows no Kafka egress on port 9096; add "
        "{cidr: <broker network>, ports: [9096]} to teams[1].egress.kafka",
        "flink-platform:teams[1].egress.kafka: Flink cluster 'route-eta' reads Kafka at "
        "b-1.logistics-use1.kafka.internal:9096, but team 'logistics' allows no Kafka egress on port 9096; add "
        "{cidr: <broker network>, ports: [9096]} to teams[1].egress.kafka"]


def test_refuses_missing_s3_and_api_egress(dev_doc):
    egress = dev_doc["config"]["flink-platform:teams"][0]["egress"]
    del egress["s3Cidrs"], egress["kubernetesApiCidrs"]
    assert _problems(dev_doc) == [
        "flink-platform:teams[0].egress.s3Cidrs: team 'analytics' runs Flink clusters (clickstream, sandbox) that "
        "checkpoint to S3, but its namespace allows no S3 egress; set s3Cidrs to the CIDRs of the object store "
        "http://minio.minio.svc.cluster.local:9000 (its pods' CIDR, or its hosts' when it runs outside the cluster; "
        "port 9000 is opened)",
        "flink-platform:teams[0].egress.kubernetesApiCidrs: Flink clusters clickstream, sandbox of team 'analytics' "
        "need the Kubernetes API (native-mode JobManager or Kubernetes HA), but the namespace allows no egress to "
        "it; set kubernetesApiCidrs to the API server's endpoint CIDRs"]


def test_refuses_missing_s3_egress_naming_the_aws_endpoint(prod_doc):
    del prod_doc["config"]["flink-platform:teams"][0]["egress"]["s3Cidrs"]
    s3_problems = [p for p in _problems(prod_doc) if ".s3Cidrs:" in p]
    assert len(s3_problems) == 1
    assert s3_problems[0].endswith("set s3Cidrs to the CIDRs of the region's S3 VPC endpoint or S3 prefix list")


def test_bootstrap_ports():
    assert tenancy.bootstrap_ports("a:9096,b:9096, c") == [9092, 9096]
