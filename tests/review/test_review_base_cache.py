"""`flinkplat plan --base REF` plans the base ref once: its plan is cached, keyed by the base commit's tree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from flinkplat.cli import main
from flinkplat.review import gitref
from tests.review.gitrepo import git, project_repo

PROJECT_FILES = ("Pulumi.yaml", "__main__.py", "Pulumi.dev.yaml", "pyproject.toml")


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    repo = project_repo(tmp_path, monkeypatch, PROJECT_FILES)
    monkeypatch.setenv("FLINKPLAT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("FLINKPLAT_REVIEW_CACHE", raising=False)
    return repo


def bump_parallelism(repo: Path) -> None:
    path = repo / "Pulumi.dev.yaml"
    document = yaml.safe_load(path.read_text())
    job = next(c for c in document["config"]["flink-platform:clusters"] if "job" in c)
    job["job"]["parallelism"] = int(job["job"].get("parallelism", 1)) + 1
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def test_second_review_of_the_same_base_reads_the_cached_base_plan(repo, capsys, monkeypatch, tmp_path):
    bump_parallelism(repo)
    assert main(["plan", "--stack", "dev", "--base", "main", "--format", "json"]) == 0
    first = json.loads(capsys.readouterr().out)
    cached = list((tmp_path / "cache" / "review-base-plans").glob("*.json"))
    assert len(cached) == 1 and json.loads(cached[0].read_text())["resources"]

    def no_base_planning(*_args, **_kwargs):
        raise AssertionError("the base was planned again")

    monkeypatch.setattr(gitref, "plan_json_at", no_base_planning)
    assert main(["plan", "--stack", "dev", "--base", "main", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == first


def test_a_new_base_commit_is_planned_again(repo, capsys, tmp_path):
    assert main(["plan", "--stack", "dev", "--base", "main", "--format", "json"]) == 0
    capsys.readouterr()
    bump_parallelism(repo)
    git(repo, "commit", "-q", "-am", "bump")
    assert main(["plan", "--stack", "dev", "--base", "main", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["counts"] == {"create": 0, "update": 0, "replace": 0, "delete": 0}
    assert len(list((tmp_path / "cache" / "review-base-plans").glob("*.json"))) == 2


def test_cache_can_be_turned_off(repo, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("FLINKPLAT_REVIEW_CACHE", "0")
    assert main(["plan", "--stack", "dev", "--base", "main", "--format", "json"]) == 0
    assert not (tmp_path / "cache" / "review-base-plans").exists()
