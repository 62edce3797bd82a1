"""FlinkCluster and CheckpointBucket under Pulumi mocks: what the real program registers for the dev and prod stacks."""

from __future__ import annotations

import copy
import json

from flinkplat.plan.runner import plan_stack
from tests.conftest import resources_of, stack_document


def _deployments(plan: dict) -> dict[str, dict]:
    return {r["name"]: r for r in resources_of(plan, "FlinkDeployment")}


def test_prod_flink_deployments_are_ha_with_per_cluster_s3_dirs(prod_plan):
    deployments = _deployments(prod_plan)
    assert len(deployments) == len({(r["provider"], r["inputs"]["metadata"]["name"]) for r in deployments.values()})
    for name, resource in deployments.items():
        manifest = resource["inputs"]
        conf = manifest["spec"]["flinkConfiguration"]
        kube, namespace, cluster = name.rsplit("/", 1)[0].split("/")
        region = "us-east-1" if kube.startswith("use1") else "eu-west-1"
        prefix = f"s3://acme-flink-prod-{region}/{kube}/{namespace}/{cluster}"
        assert resource["provider"] == f"kubernetes:{kube}"
        assert conf["high-availability.type"] == "kubernetes"
        assert conf["high-availability.storageDir"] == f"{prefix}/ha"
        checkpoint_key = "execution.checkpointing.dir"
        assert conf[checkpoint_key] == f"{prefix}/checkpoints"
        assert conf["execution.checkpointing.savepoint-dir"] == f"{prefix}/savepoints"
        assert manifest["spec"]["job"]["upgradeMode"] in ("savepoint", "last-state")
        assert resource["options"]["protect"] is True, f"{name} must be protected in prod"


def test_version_specific_checkpoint_keys(dev_plan):
    deployments = {r["inputs"]["metadata"]["name"]: r["inputs"]["spec"] for r in resources_of(dev_plan, "FlinkDeployment")}
    assert deployments["clickstream"]["flinkVersion"] == "v1_20"
    assert "execution.checkpointing.dir" in deployments["clickstream"]["flinkConfiguration"]
    assert deployments["sandbox"]["flinkVersion"] == "v2_2"
    assert deployments["sandbox"]["image"] == "flink:2.2.0-scala_2.12-java17"


def test_flink_1_19_uses_the_old_checkpoint_keys(write_stack):
    document = copy.deepcopy(stack_document("dev"))
    document["config"]["flink-platform:clusters"][0]["flinkVersion"] = "1.19"
    plan = plan_stack(stack_file=write_stack(document)).to_json()
    conf = next(r for r in resources_of(plan, "FlinkDeployment")
                if r["inputs"]["metadata"]["name"] == "clickstream")["inputs"]["spec"]["flinkConfiguration"]
    assert conf["state.checkpoints.dir"].endswith("/clickstream/checkpoints")
    assert "execution.checkpointing.dir" not in conf
    assert conf["state.backend.incremental"] == "true"


def test_dev_is_not_ha_and_not_protected(dev_plan):
    for resource in resources_of(dev_plan, "FlinkDeployment"):
        assert "high-availability.type" not in resource["inputs"]["spec"]["flinkConfiguration"]
        assert resource["options"]["protect"] is False


def test_standby_jobmanager_turns_on_ha_even_in_dev(write_stack):
    document = copy.deepcopy(stack_document("dev"))
    document["config"]["flink-platform:clusters"][0]["jobManager"]["replicas"] = 2
    plan = plan_stack(stack_file=write_stack(document)).to_json()
    spec = next(r for r in resources_of(plan, "FlinkDeployment")
                if r["inputs"]["metadata"]["name"] == "clickstream")["inputs"]["spec"]
    assert spec["jobManager"]["replicas"] == 2
    assert spec["flinkConfiguration"]["high-availability.type"] == "kubernetes"
    assert spec["flinkConfiguration"]["high-availability.storageDir"].endswith("/clickstream/ha")


def test_safe_defaults_in_every_deployment(prod_plan, dev_plan):
    for plan in (prod_plan, dev_plan):
        for resource in resources_of(plan, "FlinkDeployment"):
            spec = resource["inputs"]["spec"]
            conf = spec["flinkConfiguration"]
            assert conf["metrics.reporter.prom.factory.class"] == "org.apache.flink.metrics.prometheus.PrometheusReporterFactory"
            assert conf["kubernetes.rest-service.exposed.type"] == "ClusterIP"
            for forbidden in ("kubernetes.cluster-id", "kubernetes.namespace", "high-availability.cluster-id"):
                assert forbidden not in conf
            container = spec["podTemplate"]["spec"]["containers"][0]
            assert container["name"] == "flink-main-container"
            assert {"name": "metrics", "containerPort": int(conf["metrics.reporter.prom.port"]), "protocol": "TCP"} in container["ports"]
            plugin = next(e["value"] for e in container["env"] if e["name"] == "ENABLE_BUILT_IN_PLUGINS")
            assert plugin.startswith("flink-s3-fs-presto-") and plugin.endswith(".jar")
            assert container["securityContext"]["runAsNonRoot"] is True
            assert len(resource["inputs"]["metadata"]["name"]) <= 45


def test_session_cluster_with_session_jobs(dev_plan):
    jobs = resources_of(dev_plan, "FlinkSessionJob")
    assert [j["inputs"]["metadata"]["name"] for j in jobs] == ["sandbox-top-speed"]
    job = jobs[0]["inputs"]
    assert job["spec"]["deploymentName"] == "sandbox"
    assert job["metadata"]["labels"]["target.session"] == "sandbox"
    assert job["spec"]["job"]["upgradeMode"] == "last-state"
    session = next(r for r in resources_of(dev_plan, "FlinkDeployment") if r["inputs"]["metadata"]["name"] == "sandbox")
    assert "job" not in session["inputs"]["spec"]


def test_service_account_rbac_for_native_mode_and_ha(prod_plan):
    roles = {r["name"]: r["inputs"] for r in resources_of(prod_plan, "Role") if r["type"].startswith("kubernetes:")}
    role = roles["use1-main/flink-logistics/warehouse/role"]
    configmaps = next(rule for rule in role["rules"] if rule["resources"] == ["configmaps"])
    assert set(configmaps["verbs"]) >= {"get", "create", "update", "delete", "list", "watch"}
    sa = next(r for r in resources_of(prod_plan, "ServiceAccount") if r["name"] == "use1-main/flink-logistics/warehouse/sa")
    assert sa["inputs"]["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == \
        "arn:aws:iam::111122223333:role/flink-use1-main-flink-logistics-warehouse"


def test_checkpoint_bucket_is_hardened_and_retained_in_prod(prod_plan):
    buckets = {r["name"]: r for r in resources_of(prod_plan, "Bucket")}
    assert set(buckets) == {"us-east-1/bucket", "eu-west-1/bucket"}
    for name, bucket in buckets.items():
        region = name.split("/")[0]
        assert bucket["inputs"]["bucket"] == f"acme-flink-prod-{region}"
        assert bucket["provider"] == f"aws:{region}"
        assert bucket["options"]["retainOnDelete"] is True and bucket["options"]["protect"] is True
        assert bucket["inputs"]["forceDestroy"] is False
    block = next(r for r in resources_of(prod_plan, "BucketPublicAccessBlock") if r["name"] == "us-east-1/public-access-block")
    assert all(block["inputs"][k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    versioning = next(r for r in resources_of(prod_plan, "BucketVersioning") if r["name"] == "us-east-1/versioning")
    assert versioning["inputs"]["versioningConfiguration"]["status"] == "Enabled"
    sse = {r["name"]: r["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"]
           for r in resources_of(prod_plan, "BucketServerSideEncryptionConfiguration")}
    assert sse["us-east-1/encryption"]["sseAlgorithm"] == "aws:kms"
    assert sse["eu-west-1/encryption"] == {"sseAlgorithm": "AES256"}
    policy = json.loads(next(r for r in resources_of(prod_plan, "BucketPolicy") if r["name"] == "us-east-1/tls-only")["inputs"]["policy"])
    assert policy["Statement"][0]["Effect"] == "Deny"
    assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_lifecycle_never_expires_live_incremental_checkpoints(prod_plan):
    lifecycle = next(r for r in resources_of(prod_plan, "BucketLifecycleConfiguration") if r["name"] == "us-east-1/lifecycle")
    rules = {rule["id"]: rule for rule in lifecycle["inputs"]["rules"]}
    assert rules["savepoints-use1-main/flink-logistics/warehouse"]["expiration"] == {"days": 90}
    assert rules["savepoints-use1-main/flink-logistics/warehouse"]["filter"] == {"prefix": "use1-main/flink-logistics/warehouse/savepoints/"}
    assert not any(rule_id.startswith("checkpoints-") for rule_id in rules)  # every prod job checkpoints incrementally
    assert rules["noncurrent-versions-and-uploads"]["noncurrentVersionExpiration"] == {"noncurrentDays": 7}


def test_role_is_limited_to_its_own_prefix(prod_plan):
    policies = {r["name"]: json.loads(r["inputs"]["policy"]) for r in resources_of(prod_plan, "RolePolicy")}
    policy = policies["use1-main/flink-logistics/warehouse/prefix-access"]
    objects, listing = policy["Statement"][0], policy["Statement"][1]
    assert objects["Resource"] == ["arn:aws:s3:::acme-flink-prod-us-east-1/use1-main/flink-logistics/warehouse/*"]
    assert "s3:*" not in objects["Action"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["use1-main/flink-logistics/warehouse/*",
                                                                 "use1-main/flink-logistics/warehouse"]}}
    roles = {r["name"]: json.loads(r["inputs"]["assumeRolePolicy"]) for r in resources_of(prod_plan, "Role")
             if r["type"] == "aws:iam/role:Role"}
    trust = roles["use1-main/flink-logistics/warehouse/role"]["Statement"][0]
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert list(trust["Condition"]["StringEquals"].values())[0] == \
        "system:serviceaccount:flink-logistics:warehouse-flink"


def test_stack_outputs_for_platform_engineers(prod_plan):
    outputs = prod_plan["outputs"]["clusters"]["euw1-main/flink-logistics/warehouse"]
    assert outputs == {
        "kubernetesCluster": "euw1-main",
        "region": "eu-west-1",
        "namespace": "flink-logistics",
        "restEndpoint": "http://warehouse-rest.flink-logistics.svc:8081",
        "bucket": "acme-flink-prod-eu-west-1",
        "checkpoints": "s3://acme-flink-prod-eu-west-1/euw1-main/flink-logistics/warehouse/checkpoints",
        "savepoints": "s3://acme-flink-prod-eu-west-1/euw1-main/flink-logistics/warehouse/savepoints",
        "haStorage": "s3://acme-flink-prod-eu-west-1/euw1-main/flink-logistics/warehouse/ha",
        "roleArn": "arn:aws:iam::111122223333:role/flink-euw1-main-flink-logistics-warehouse",
        "watch": "kubectl --context arn:aws:eks:eu-west-1:111122223333:cluster/euw1-main -n flink-logistics "
                 "get flinkdeployment warehouse -w",
    }


def test_resources_are_parented_like_the_fleet(prod_plan):
    deployment = next(r for r in resources_of(prod_plan, "FlinkDeployment")
                      if r["name"] == "euw1-main/flink-logistics/warehouse/deployment")
    assert deployment["parent"].endswith(
        "flinkplatform:fleet:Platform$flinkplatform:fleet:Region$flinkplatform:fleet:KubernetesCluster"
        "$flinkplatform:flink:FlinkCluster::euw1-main/flink-logistics/warehouse")


def test_flink_resources_wait_for_the_namespace_and_the_operator(prod_plan):
    """depends_on is not inherited by children: the FlinkDeployment itself must wait for the operator release."""
    for resource in resources_of(prod_plan, "FlinkDeployment"):
        kube = resource["provider"].split(":", 1)[1]
        deps = resource["options"]["dependsOn"]
        assert any("kubernetes:helm.sh/v3:Release::" + kube + "/flink-operator" in d
                   for d in deps), (resource["name"], deps)
        assert any("kubernetes:core/v1:Namespace::" in d for d in deps), resource["name"]


def test_flink_deployments_depend_on_everything_their_job_runs_with(prod_plan):
    """Found by the engine tests: a `pulumi destroy` refused by a protected FlinkDeployment still deleted the Role,
    NetworkPolicies, quota and limits nothing depended on, leaving the running job without RBAC (no TaskManager
    pods, no HA leader election) and its namespace without isolation."""
    for resource in resources_of(prod_plan, "FlinkDeployment"):
        deps = set(resource["options"]["dependsOn"])
        namespace = resource["inputs"]["metadata"]["namespace"]
        in_namespace = [r for r in prod_plan["resources"] if r["provider"] == resource["provider"]
                        and r["type"].split(":")[-1] in ("ResourceQuota", "LimitRange", "NetworkPolicy")
                        and r["inputs"]["metadata"].get("namespace") == namespace]
        assert in_namespace and {r["urn"] for r in in_namespace} <= deps, resource["name"]
        prefix = resource["name"].removesuffix("/deployment")
        for kind, suffix in (("ServiceAccount", "sa"), ("Role", "role"), ("RoleBinding", "rolebinding")):
            [own] = [r for r in resources_of(prod_plan, kind)
                     if r["name"] == f"{prefix}/{suffix}" and r["type"].startswith("kubernetes:")]
            assert own["urn"] in deps, (resource["name"], kind)


def test_iam_names_are_ones_aws_accepts(prod_plan):
    """IAM refuses names outside [\\w+=,.@-] (caught by the stand-in aws provider's create-time checks: an unnamed
    RolePolicy is autonamed from its logical name, `<kube>/<namespace>/<cluster>/prefix-access-…`)."""
    import re

    named = [r for r in prod_plan["resources"] if r["type"] in ("aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy")]
    assert named
    for resource in named:
        name = resource["inputs"].get("name")
        assert name is not None, f"{resource['name']} has no explicit name; the provider would derive one from the URN"
        assert re.fullmatch(r"[\w+=,.@-]{1,64}", name), (resource["name"], name)
