"""The dev stack on an S3-compatible store (MinIO) under Pulumi mocks: Kubernetes-only (no aws:* resource, no AWS
provider), Flink pointed at the endpoint with path-style access, credentials only as secretKeyRefs."""

from __future__ import annotations

import copy

from flinkplat.plan.runner import plan_stack
from tests.conftest import resources_of, stack_document


def _flink_deployments(plan: dict) -> list[dict]:
    return resources_of(plan, "FlinkDeployment")


def test_dev_stack_is_kubernetes_only(dev_plan):
    assert not [r["type"] for r in dev_plan["resources"] if r["type"].startswith("aws:")]
    assert {r["provider"].split(":", 1)[0] for r in dev_plan["resources"] if r.get("provider")} == {"kubernetes"}
    assert resources_of(dev_plan, "FlinkDeployment")  # and it still deploys Flink


def test_flink_reads_the_endpoint_and_path_style_from_the_stack(dev_plan):
    for resource in _flink_deployments(dev_plan):
        spec = resource["inputs"]["spec"]
        conf = spec["flinkConfiguration"]
        name = resource["inputs"]["metadata"]["name"]
        assert conf["s3.endpoint"] == "http://minio.minio.svc.cluster.local:9000"
        assert conf["s3.path.style.access"] == "true"
        assert conf["execution.checkpointing.dir"] == f"s3://flink-dev/dev-local/flink-analytics/{name}/checkpoints"
        assert not [k for k in conf if "access-key" in k or "secret-key" in k or k.endswith(".access.key")]


def test_credentials_come_from_the_secret_as_env(dev_plan):
    for resource in _flink_deployments(dev_plan):
        container = resource["inputs"]["spec"]["podTemplate"]["spec"]["containers"][0]
        env = {e["name"]: e for e in container["env"]}
        assert env["AWS_ACCESS_KEY_ID"] == {"name": "AWS_ACCESS_KEY_ID",
                                            "valueFrom": {"secretKeyRef": {"name": "minio-flink", "key": "access-key"}}}
        assert env["AWS_SECRET_ACCESS_KEY"]["valueFrom"] == {"secretKeyRef": {"name": "minio-flink",
                                                                              "key": "secret-key"}}
        assert "value" not in env["AWS_ACCESS_KEY_ID"] and "value" not in env["AWS_SECRET_ACCESS_KEY"]
        assert env["ENABLE_BUILT_IN_PLUGINS"]["value"].startswith("flink-s3-fs-presto-")


def test_no_cloud_role_on_the_service_account_and_no_role_output(dev_plan):
    for sa in resources_of(dev_plan, "ServiceAccount"):
        assert "eks.amazonaws.com/role-arn" not in (sa["inputs"]["metadata"].get("annotations") or {})
    outputs = dev_plan["outputs"]["clusters"]["dev-local/flink-analytics/clickstream"]
    assert "roleArn" not in outputs
    assert outputs["bucket"] == "flink-dev"
    assert outputs["checkpoints"] == "s3://flink-dev/dev-local/flink-analytics/clickstream/checkpoints"


def test_s3_egress_opens_the_endpoint_port(dev_plan):
    policy = next(r for r in resources_of(dev_plan, "NetworkPolicy") if r["name"].endswith("/allow-s3-egress"))
    assert policy["inputs"]["spec"]["egress"] == [
        {"to": [{"ipBlock": {"cidr": "10.244.0.0/16"}}], "ports": [{"protocol": "TCP", "port": 9000}]}]


def test_custom_secret_keys_and_virtual_host_style(write_stack):
    document = copy.deepcopy(stack_document("dev"))
    document["config"]["flink-platform:storage"] = {"s3Compatible": {
        "endpoint": "https://rgw.ceph.example.com", "bucket": "flink.state", "pathStyleAccess": False,
        "credentialsSecret": {"name": "ceph-s3", "accessKeyIdKey": "AWS_ACCESS_KEY_ID",
                              "secretAccessKeyKey": "AWS_SECRET_ACCESS_KEY"}}}
    plan = plan_stack(stack_file=write_stack(document)).to_json()
    deployment = next(r for r in _flink_deployments(plan) if r["inputs"]["metadata"]["name"] == "clickstream")
    spec = deployment["inputs"]["spec"]
    assert spec["flinkConfiguration"]["s3.path.style.access"] == "false"
    assert spec["flinkConfiguration"]["s3.endpoint"] == "https://rgw.ceph.example.com"
    env = {e["name"]: e.get("valueFrom") for e in spec["podTemplate"]["spec"]["containers"][0]["env"]}
    assert env["AWS_SECRET_ACCESS_KEY"] == {"secretKeyRef": {"name": "ceph-s3", "key": "AWS_SECRET_ACCESS_KEY"}}
    policy = next(r for r in resources_of(plan, "NetworkPolicy") if r["name"].endswith("/allow-s3-egress"))
    assert policy["inputs"]["spec"]["egress"][0]["ports"] == [{"protocol": "TCP", "port": 443}]
    assert plan["violations"] == [] or all(v["level"] != "mandatory" for v in plan["violations"])


def test_aws_stacks_render_no_object_store_keys(prod_plan):
    for resource in _flink_deployments(prod_plan):
        spec = resource["inputs"]["spec"]
        assert "s3.endpoint" not in spec["flinkConfiguration"]
        assert "s3.path.style.access" not in spec["flinkConfiguration"]
        names = {e["name"] for e in spec["podTemplate"]["spec"]["containers"][0]["env"]}
        assert not names & {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    assert resources_of(prod_plan, "Bucket")
    assert {r["provider"].split(":", 1)[0] for r in prod_plan["resources"] if r.get("provider")} == {"aws", "kubernetes"}
