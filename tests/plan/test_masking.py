"""A secret written in plain configuration plans (exit 1, `flink-no-plain-secrets`) but its value never leaves: not
in the plan JSON, not in the `--out` files, not in the PR review report (whose base plan may come from code that
predates masking)."""

from __future__ import annotations

import copy
import json

from flinkplat.cli import main
from flinkplat.config.load import SECRET_PLACEHOLDER
from flinkplat.plan.masking import mask_plan_json
from flinkplat.plan.runner import plan_stack
from tests.conftest import resources_of, stack_document
from tests.review.test_review_git import cluster, edit_stack, repo  # noqa: F401  (repo is a fixture)

SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCY"
JAAS = 'org.apache.kafka.common.security.scram.ScramLoginModule required username="svc" password="hunter2-x9";'


def with_secrets(document: dict) -> dict:
    document = copy.deepcopy(document)
    clickstream = document["config"]["flink-platform:clusters"][0]
    clickstream.setdefault("flinkConfiguration", {}).update({
        "s3.secret-key": SECRET, "properties.sasl.jaas.config": JAAS,
        "containerized.taskmanager.env.DB_PASSWORD": "hunter2-x9", "s3.connection.maximum": "64"})
    return document


def test_plan_json_keeps_the_keys_and_hides_the_values(write_stack):
    plan = plan_stack(stack_file=write_stack(with_secrets(stack_document("dev")))).to_json()
    text = json.dumps(plan)
    assert SECRET not in text and "hunter2-x9" not in text
    conf = next(r for r in resources_of(plan, "FlinkDeployment")
                if r["inputs"]["metadata"]["name"] == "clickstream")["inputs"]["spec"]["flinkConfiguration"]
    assert conf["s3.secret-key"] == conf["properties.sasl.jaas.config"] == SECRET_PLACEHOLDER
    assert conf["containerized.taskmanager.env.DB_PASSWORD"] == SECRET_PLACEHOLDER
    assert conf["s3.connection.maximum"] == "64"  # not a secret: shown
    [violation] = [v for v in plan["violations"] if v["policy"] == "flink-no-plain-secrets"]
    assert violation["level"] == "mandatory"
    assert violation["resource"] == "dev-local/flink-analytics/clickstream/deployment"
    assert violation["message"].startswith(
        "FlinkDeployment flink-analytics/clickstream has secret values in plain configuration: "
        "spec.flinkConfiguration[\"containerized.taskmanager.env.DB_PASSWORD\"] (password); "
        "spec.flinkConfiguration[\"properties.sasl.jaas.config\"] (Kafka JAAS login); "
        "spec.flinkConfiguration[\"s3.secret-key\"] (object-store credential). Why:")


def test_cli_out_files_and_json_never_carry_the_value(write_stack, tmp_path, capsys):
    stack_file = write_stack(with_secrets(stack_document("dev")))
    out = tmp_path / "out"
    assert main(["plan", "--stack-file", str(stack_file), "--out", str(out), "--json"]) == 1
    assert SECRET not in capsys.readouterr().out
    files = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.name == "flinkdeployment-clickstream.yaml" for p in files) and any(p.name == "plan.json" for p in files)
    for path in files:
        text = path.read_text()
        assert SECRET not in text and "hunter2-x9" not in text, path


def test_mask_plan_json_masks_an_unmasked_plan_and_is_idempotent():
    """What the review does to the base ref's plan, which older code produced without masking."""
    plan = {"resources": [{"type": "kubernetes:apps/v1:Deployment", "inputs": {"spec": {"template": {"spec": {
        "containers": [{"name": "sidecar", "env": [
            {"name": "AWS_SECRET_ACCESS_KEY", "value": SECRET},
            {"name": "AWS_ACCESS_KEY_ID", "valueFrom": {"secretKeyRef": {"name": "minio", "key": "access-key"}}},
            {"name": "LOG_LEVEL", "value": "INFO"}]}]}}}}},
        {"type": "kubernetes:flink.apache.org/v1beta1:FlinkSessionJob",
         "inputs": {"spec": {"flinkConfiguration": {
             "sasl.jaas.config": JAAS, "parallelism.default": "2",
             "env.java.opts.all": "-Djavax.net.ssl.trustStorePassword=hunter2-x9"}}}}]}
    expected = copy.deepcopy(plan)
    expected["resources"][0]["inputs"]["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] = \
        SECRET_PLACEHOLDER
    expected["resources"][1]["inputs"]["spec"]["flinkConfiguration"]["sasl.jaas.config"] = SECRET_PLACEHOLDER
    expected["resources"][1]["inputs"]["spec"]["flinkConfiguration"]["env.java.opts.all"] = SECRET_PLACEHOLDER
    assert mask_plan_json(plan) == expected
    assert mask_plan_json(copy.deepcopy(expected)) == expected


def test_review_report_masks_both_sides(repo, capsys):  # noqa: F811  (the repo fixture)
    def add_secret(value):
        def edit(config):
            cluster(config, "clickstream").setdefault("flinkConfiguration", {})["s3.secret-key"] = value
        return edit

    import subprocess

    edit_stack(repo, "dev", add_secret("base-" + SECRET))
    subprocess.run(["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t", "commit", "-qam", "secret"],
                   cwd=repo, check=True)
    edit_stack(repo, "dev", add_secret("head-" + SECRET))
    for fmt in ("markdown", "json", "text"):
        assert main(["plan", "--stack", "dev", "--base", "main", "--format", fmt]) == 1
        report = capsys.readouterr().out
        assert "flink-no-plain-secrets" in report
        assert SECRET not in report, fmt
