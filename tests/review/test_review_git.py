"""`flinkplat plan --stack S --base REF` end to end: a temporary git repository holding a copy of the project, a
base commit, an edit in the working tree, the review."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from flinkplat.cli import main
from tests.review.gitrepo import project_repo

PROJECT_FILES = ("Pulumi.yaml", "__main__.py", "Pulumi.dev.yaml", "Pulumi.prod.yaml", "pyproject.toml")


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    """A git repository with the project committed on `main`; the current directory is its root."""
    return project_repo(tmp_path, monkeypatch, PROJECT_FILES)


def edit_stack(repo: Path, stack: str, edit) -> None:
    path = repo / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text())
    edit(document["config"])
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def cluster(config: dict, name: str) -> dict:
    return next(c for c in config["flink-platform:clusters"] if c["name"] == name)


def realistic_pr(config: dict) -> None:
    """A parallelism bump in eu-west-1 and a Flink version bump of a job that runs only in us-east-1."""
    warehouse = cluster(config, "warehouse")
    eu = next(o for o in warehouse["overrides"] if o.get("region") == "eu-west-1")
    eu["job"]["parallelism"] = 8
    eu["taskManager"] = {"replicas": 4}
    cluster(config, "shipment-track")["flinkVersion"] = "2.1"


def test_realistic_pr_report_reads_clearly(repo, capsys):
    edit_stack(repo, "prod", realistic_pr)
    code = main(["plan", "--stack", "prod", "--base", "main", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    summary = report["summary"]
    assert code == (1 if summary["mandatoryViolations"] else 0)
    assert summary["restarts"] == 2 and summary["stateLoss"] == 0
    flink = {(c["cluster"], c["object"]): c["flink"] for c in report["changes"] if c["flink"]}
    assert flink[("euw1-main", "flink-logistics/warehouse")]["summary"] == "restart (upgradeMode savepoint)"
    assert ("use1-main", "flink-logistics/warehouse") not in flink  # the bump is for eu-west-1 only
    shipment = flink[("use1-main", "flink-logistics/shipment-track")]
    assert shipment["class"] == "UPGRADE" and shipment["stateLoss"] == []
    assert any("no state compatibility guarantee across major versions" in w for w in shipment["warnings"])
    assert {c["cluster"] for c in report["changes"]} == {"euw1-main", "use1-main"}

    main(["plan", "--stack", "prod", "--base", "main", "--format", "markdown"])
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0] == "<!-- flinkplat-review:prod -->"
    assert lines[3].startswith("`prod` vs `main`: 0 to create, ")
    assert "2 job restarts" in lines[3] and "no state loss" in lines[3]
    assert "| euw1-main | FlinkDeployment `flink-logistics/warehouse` | UPGRADE | 🔁 restart (upgradeMode savepoint) |" in text
    assert "`job.parallelism`" in text and "`taskManager.replicas`" in text
    assert "FlinkDeployment `flink-logistics/shipment-track` | UPGRADE" in text
    assert "#### TaskManager memory" in text and "Flink 1.20 → 2.1" in text


def test_stack_missing_at_base_is_all_created(repo, capsys):
    shutil.copy2(repo / "Pulumi.dev.yaml", repo / "Pulumi.qa.yaml")
    code = main(["plan", "--stack", "qa", "--base", "main", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["summary"]["baseExists"] is False
    assert report["summary"]["counts"]["create"] > 0
    assert report["summary"]["counts"]["update"] == report["summary"]["counts"]["delete"] == 0


def test_config_error_at_head_exits_2_without_traceback(repo, capsys):
    edit_stack(repo, "dev", lambda c: cluster(c, "clickstream")["taskManager"].update(memory="4Zb"))
    code = main(["plan", "--stack", "dev", "--base", "main"])
    err = capsys.readouterr().err
    assert code == 2
    assert "flink-platform:clusters[0].taskManager.memory" in err and "Traceback" not in err


def test_unknown_base_ref_exits_2(repo, capsys):
    code = main(["plan", "--stack", "dev", "--base", "no-such-branch"])
    err = capsys.readouterr().err
    assert code == 2 and "unknown git ref 'no-such-branch'" in err


def test_mandatory_violation_exits_1_and_out_writes_the_report(repo, capsys, tmp_path):
    def insecure_jar(config):
        cluster(config, "sandbox")["jobs"][0]["jarURI"] = "http://repo.acme.example/flink/top-speed.jar"
    edit_stack(repo, "dev", insecure_jar)
    out = tmp_path / "reports"
    out.mkdir()
    code = main(["plan", "--stack", "dev", "--base", "main", "--format", "markdown", "--out", str(out)])
    captured = capsys.readouterr()
    report = (out / "review-dev.md").read_text()
    assert code == 1
    assert "❌ Mandatory policy violations" in report and "🆕" in report
    assert "mandatory violation" in captured.err and captured.out == ""
