"""Stack-level rules, on hand-built resources in the real manifest shapes (networking.k8s.io/v1 NetworkPolicy,
autoscaling/v2 HPA and keda.sh/v1alpha1 ScaledObject targeting a FlinkDeployment, FlinkSessionJob, S3/IAM)."""

from __future__ import annotations

import copy
import json

from flinkplat.rules import Res, Stack
from tests.rules.helpers import as_res, prod_manifest, run

NAMESPACE = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "flink-payments"}}
DENY = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "default-deny", "namespace": "flink-payments"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}
TARGET = {"apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkDeployment", "name": "fraud-score"}
HPA = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
       "metadata": {"name": "fraud-score", "namespace": "flink-payments"},
       "spec": {"scaleTargetRef": TARGET, "minReplicas": 2, "maxReplicas": 6}}
SCALED_OBJECT = {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
                 "metadata": {"name": "fraud-score-lag", "namespace": "flink-payments"},
                 "spec": {"scaleTargetRef": TARGET, "minReplicaCount": 2, "maxReplicaCount": 6}}
REPLICAS = ("spec.taskManager.replicas",)


def fraud_score() -> dict:
    return prod_manifest("use1-main/flink-payments/fraud-score")


def stack(*manifests: dict, ignore=REPLICAS) -> Stack:
    return Stack([as_res(copy.deepcopy(m), ignore_changes=ignore if m["kind"] == "FlinkDeployment" else ())
                  for m in manifests])


def test_known_good_stack_passes():
    good = stack(NAMESPACE, fraud_score(), DENY, HPA)
    for rule in ("flink-namespace-default-deny", "flink-single-scaler", "flink-scaler-mode",
                 "flink-no-stateless-in-prod", "flink-session-job-validation"):
        assert run(rule, good) == [], rule


def test_default_deny_missing():
    assert run("flink-namespace-default-deny", stack(NAMESPACE, fraud_score(), HPA)) == [
        "Namespace flink-payments runs Flink (fraud-score) but has no default-deny NetworkPolicy (podSelector: {}, "
        "policyTypes: [Ingress, Egress], no rules). Why: without it every pod in the cluster can reach the "
        "unauthenticated JobManager REST API and RPC ports, and the jobs can reach anything; allow-rules only restrict "
        "once a default-deny selects the pods. Fix: add a NetworkPolicy that selects all pods and denies ingress and "
        "egress, then allow same-namespace traffic, DNS, the operator → JobManager 8081, monitoring → 9249, Kafka and "
        "S3 explicitly."]


def test_default_deny_must_deny_both_directions_and_select_all_pods():
    ingress_only = copy.deepcopy(DENY)
    ingress_only["spec"]["policyTypes"] = ["Ingress"]
    selective = copy.deepcopy(DENY)
    selective["spec"]["podSelector"] = {"matchLabels": {"component": "jobmanager"}}
    for policy in (ingress_only, selective):
        assert len(run("flink-namespace-default-deny", stack(NAMESPACE, fraud_score(), policy))) == 1
    other_cluster = Stack([as_res(fraud_score()), Res.manifest(DENY, provider="urn:other-cluster-provider")])
    assert len(run("flink-namespace-default-deny", other_cluster)) == 1


def test_two_scalers():
    assert run("flink-single-scaler", stack(fraud_score(), HPA, SCALED_OBJECT)) == [
        "FlinkDeployment flink-payments/fraud-score has 2 scalers: HorizontalPodAutoscaler fraud-score; KEDA "
        "ScaledObject fraud-score-lag. Why: each scaler sets the job's scale on its own signal, so they undo each "
        "other's decisions, and every change restarts or rescales the job: it never settles. Fix: keep exactly one "
        "(stack file: autoscaling.mode picks it) and delete the others."]


def test_hpa_plus_operator_autoscaler():
    deployment = fraud_score()
    deployment["spec"]["flinkConfiguration"]["job.autoscaler.enabled"] = "true"
    [msg] = run("flink-single-scaler", stack(deployment, HPA))
    assert msg.startswith("FlinkDeployment flink-payments/fraud-score has 2 scalers: HorizontalPodAutoscaler "
                          "fraud-score; the operator's job autoscaler (job.autoscaler.enabled: true).")


def test_hpa_needs_standalone_reactive():
    deployment = fraud_score()
    deployment["spec"]["mode"] = "native"
    del deployment["spec"]["flinkConfiguration"]["scheduler-mode"]
    assert run("flink-scaler-mode", stack(deployment, HPA)) == [
        "FlinkDeployment flink-payments/fraud-score is scaled by a HorizontalPodAutoscaler but runs mode native, no "
        "scheduler-mode: reactive. Why: the scaler changes spec.taskManager.replicas; in native mode (or standalone "
        "without the reactive scheduler) every change is a full job upgrade — a restart from the last checkpoint on "
        "each step. Fix: run it with spec.mode: standalone and scheduler-mode: reactive (the platform does this for "
        "autoscaling.mode cpu/memory/kafka-lag/custom), or use the operator's job autoscaler instead."]


def test_scaler_replicas_not_ignored_by_pulumi():
    assert run("flink-scaler-mode", stack(fraud_score(), SCALED_OBJECT, ignore=())) == [
        "FlinkDeployment flink-payments/fraud-score is scaled by a KEDA ScaledObject but Pulumi does not ignore "
        "spec.taskManager.replicas. Why: every `pulumi up` then resets the replicas the scaler chose (and server-side "
        "apply reports a field conflict), restarting the job at its initial size. Fix: add ignoreChanges: "
        "[\"spec.taskManager.replicas\"] to the FlinkDeployment's resource options."]


def test_keda_min_replica_count_defaults_to_zero():
    scaled = copy.deepcopy(SCALED_OBJECT)
    del scaled["spec"]["minReplicaCount"]
    assert run("flink-scaler-mode", stack(fraud_score(), scaled)) == [
        "KEDA ScaledObject flink-payments/fraud-score-lag may scale FlinkDeployment flink-payments/fraud-score to 0 "
        "TaskManagers (minReplicaCount unset: KEDA defaults to 0). Why: the operator rejects a FlinkDeployment with "
        "fewer than one TaskManager, so scaling to zero leaves the job stuck with a validation error instead of "
        "pausing it. Fix: set spec.minReplicaCount: 1 or more (stack file: autoscaling.minReplicas)."]


STATELESS_WHY = ("Why: stateless upgrades start the new job from empty state: every deploy of a prod job silently "
                 "drops its state (and the operator's default for an omitted upgradeMode is stateless). Fix: set "
                 "job.upgradeMode: savepoint (or last-state) — the stack file's default is savepoint.")


def test_no_stateless_in_prod_including_the_operator_default():
    deployment = fraud_score()
    del deployment["spec"]["job"]["upgradeMode"]
    assert run("flink-no-stateless-in-prod", stack(deployment)) == [
        "FlinkDeployment flink-payments/fraud-score is a prod job with upgradeMode stateless (unset: the operator "
        f"default). {STATELESS_WHY}"]
    deployment["metadata"]["labels"]["flink-platform/environment"] = "nonprod"
    assert run("flink-no-stateless-in-prod", stack(deployment)) == []


def session_cluster() -> dict:
    deployment = prod_manifest()
    del deployment["spec"]["job"]
    del deployment["spec"]["flinkConfiguration"]["kubernetes.operator.periodic.savepoint.interval"]
    deployment["metadata"]["name"] = "shared"
    return deployment


def session_job(**job) -> dict:
    return {"apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkSessionJob",
            "metadata": {"name": "shared-top-speed", "namespace": "flink-logistics"},
            "spec": {"deploymentName": "shared",
                     "job": {"jarURI": "https://www.example.com/top-speed-1.4.0.jar", "parallelism": 2,
                             "upgradeMode": "savepoint", **job}}}


def test_prod_session_job_stateless():
    assert run("flink-no-stateless-in-prod", stack(session_cluster(), session_job(upgradeMode="stateless"))) == [
        f"FlinkSessionJob flink-logistics/shared-top-speed is a prod session job with upgradeMode stateless. "
        f"{STATELESS_WHY}"]


WHY_OPERATOR = ("Why: the operator's admission webhook refuses the apply; without the webhook the operator keeps "
                "running the last valid spec and only records status.error, so the change never lands.")


def test_session_job_validation_uses_the_session_clusters_config():
    assert run("flink-session-job-validation", stack(session_cluster(), session_job())) == []
    cluster = session_cluster()
    del cluster["spec"]["flinkConfiguration"]["execution.checkpointing.savepoint-dir"]
    assert run("flink-session-job-validation", stack(cluster, session_job(jarURI="s3://jars/top-speed.jar"))) == [
        "The operator would reject FlinkSessionJob flink-logistics/shared-top-speed: \"jarURI scheme 's3' is not in "
        "the allowlist [https]. Configure 'kubernetes.operator.user.artifacts.allowed-schemes' to extend the "
        f"allowlist.\" {WHY_OPERATOR} Fix: serve the jar over https (the operator downloads session-job jars "
        "itself), or allow the scheme in the operator's configuration and in this pack's allowedSchemes.",
        "The operator would reject FlinkSessionJob flink-logistics/shared-top-speed: \"Job could not be upgraded with "
        "savepoint while config key[execution.checkpointing.savepoint-dir] is not set\" "
        f"{WHY_OPERATOR} Fix: set execution.checkpointing.savepoint-dir on the session cluster, or use upgradeMode "
        "last-state.",
    ]


def test_session_job_on_application_cluster_and_loopback_jar():
    application = prod_manifest()
    application["metadata"]["name"] = "shared"
    msgs = run("flink-session-job-validation",
               stack(application, session_job(jarURI="https://127.0.0.1/job.jar")))
    assert [m.split(" Why:")[0] for m in msgs] == [
        "The operator would reject FlinkSessionJob flink-logistics/shared-top-speed: \"jarURI host '127.0.0.1' "
        "resolves to a restricted address\"",
        "The operator would reject FlinkSessionJob flink-logistics/shared-top-speed: \"Can not submit session job to "
        "application cluster\"",
    ]


# --- storage --------------------------------------------------------------------------------------------------


def aws(type_: str, name: str, props: dict, deps=()) -> Res:
    return Res(type=type_, props=props, urn=f"urn:pulumi:prod::flink-platform::{type_}::{name}", name=name,
               provider="aws-us-east-1", dependencies=tuple(deps))


BUCKET = aws("aws:s3/bucket:Bucket", "us-east-1/bucket", {"bucket": "acme-flink-prod-us-east-1"})
TLS_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Deny", "Principal": "*", "Action": "s3:*",
    "Resource": ["arn:aws:s3:::acme-flink-prod-us-east-1", "arn:aws:s3:::acme-flink-prod-us-east-1/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})


def bucket_stack(drop: str | None = None, **override) -> Stack:
    deps = (BUCKET.urn,)
    parts = {
        "block": aws("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "pab",
                     {"bucket": "x-id", "blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True,
                      "restrictPublicBuckets": True, **override}, deps),
        "sse": aws("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "sse",
                   {"bucket": "x-id", "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]},
                   deps),
        "versioning": aws("aws:s3/bucketVersioning:BucketVersioning", "versioning",
                          {"bucket": "x-id", "versioningConfiguration": {"status": "Enabled"}}, deps),
        "policy": aws("aws:s3/bucketPolicy:BucketPolicy", "tls", {"bucket": "x-id", "policy": TLS_POLICY}, deps),
    }
    parts.pop(drop, None)
    return Stack([BUCKET, *parts.values()])


def test_bucket_hardening():
    assert run("flink-bucket-hardening", bucket_stack()) == []
    assert [m.split(" Why:")[0] for m in run("flink-bucket-hardening", bucket_stack(restrictPublicBuckets=False))] == [
        "Bucket acme-flink-prod-us-east-1 does not block public access (restrictPublicBuckets not true)."]
    assert run("flink-bucket-hardening", bucket_stack("versioning")) == [
        "Bucket acme-flink-prod-us-east-1 is not versioned. Why: a bad deploy, a buggy cleanup or a compromised role "
        "can overwrite or delete savepoints; versioning keeps the previous objects recoverable. Fix: add an "
        "aws.s3.BucketVersioning with versioningConfiguration.status: Enabled."]
    assert [m.split(" Why:")[0] for m in run("flink-bucket-hardening", bucket_stack("policy"))] == [
        "Bucket acme-flink-prod-us-east-1 does not enforce TLS."]
    assert [m.split(" Why:")[0] for m in run("flink-bucket-hardening", bucket_stack("sse"))] == [
        "Bucket acme-flink-prod-us-east-1 has no explicit default encryption."]


def role_policy(statements: list[dict]) -> Res:
    return aws("aws:iam/rolePolicy:RolePolicy", "use1-main/flink-payments/fraud-score/prefix-access",
               {"policy": json.dumps({"Version": "2012-10-17", "Statement": statements})})


GOOD_STATEMENTS = [
    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
     "Resource": ["arn:aws:s3:::acme-flink-prod-us-east-1/use1-main/flink-payments/fraud-score/*"]},
    {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": ["arn:aws:s3:::acme-flink-prod-us-east-1"],
     "Condition": {"StringLike": {"s3:prefix": ["use1-main/flink-payments/fraud-score/*"]}}},
]


def test_iam_prefix():
    assert run("flink-iam-prefix", role_policy(GOOD_STATEMENTS)) == []
    wide = copy.deepcopy(GOOD_STATEMENTS)
    wide[0]["Resource"] = ["arn:aws:s3:::acme-flink-prod-us-east-1/*"]
    assert run("flink-iam-prefix", role_policy(wide)) == [
        "RolePolicy use1-main/flink-payments/fraud-score/prefix-access grants s3:GetObject, s3:PutObject on "
        "arn:aws:s3:::acme-flink-prod-us-east-1/*, beyond a single cluster's prefix. Why: each Flink cluster's role "
        "must only reach its own <cluster>/<namespace>/<name> prefix, so one team's job (or a compromised pod) cannot "
        "read or delete another team's state. Fix: restrict Resource to "
        "arn:aws:s3:::<bucket>/<cluster>/<namespace>/<name>/*."]
    unconditioned = copy.deepcopy(GOOD_STATEMENTS)
    del unconditioned[1]["Condition"]
    assert [m.split(" Why:")[0] for m in run("flink-iam-prefix", role_policy(unconditioned))] == [
        "RolePolicy use1-main/flink-payments/fraud-score/prefix-access allows s3:ListBucket without an s3:prefix "
        "condition."]


def test_waivers_rule_reports_expired_unknown_and_reasonless_waivers():
    deployment = prod_manifest()
    deployment["metadata"]["annotations"]["flink-platform/waivers"] = json.dumps([
        {"policy": "flink-slots-match-cpu", "reason": "IO-bound enrichment job", "expires": "2020-01-31"},
        {"policy": "flink-slot-match-cpu", "reason": "typo in the policy name"},
        {"policy": "flink-ha", "reason": "short"},
        {"policy": "flink-parallelism", "reason": "planned capacity test", "expires": "2099-12-31"},
    ])
    assert run("flink-waivers", as_res(deployment)) == [
        "FlinkDeployment flink-logistics/warehouse: the waiver of flink-slots-match-cpu expired on 2020-01-31 (reason "
        "was: IO-bound enrichment job); flink-slots-match-cpu applies again. Why: waivers are temporary by design: the "
        "accepted risk must be fixed or consciously renewed. Fix: fix what flink-slots-match-cpu reports, or renew "
        "the waiver with a new expires date; fix it under waivers: of this cluster in the stack file.",
        "FlinkDeployment flink-logistics/warehouse waives 'flink-slot-match-cpu', which is not a policy of this pack. "
        "Why: the waiver has no effect, and the violation it was meant for still blocks. Fix: did you mean "
        "'flink-slots-match-cpu'? fix it under waivers: of this cluster in the stack file.",
        "FlinkDeployment flink-logistics/warehouse waives flink-ha without a reason (at least 10 characters). Why: a "
        "waiver must say why the risk is accepted, for the reviewer and for whoever renews it; it is ignored until it "
        "does. Fix: add a reason; fix it under waivers: of this cluster in the stack file.",
    ]
