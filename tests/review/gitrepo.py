"""A temporary git repository holding a copy of the project, for `flinkplat plan --base REF` tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT_DIRS = ("components", "flinkplat", "policies")


def git(repo: Path, *args: str) -> None:
    """Run git in `repo` with a throw-away identity (the machine may have none configured)."""
    subprocess.run(["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t", *args], cwd=repo, check=True,
                   capture_output=True)


def project_repo(tmp_path: Path, monkeypatch, files: tuple[str, ...]) -> Path:
    """`files` and the project's code committed on `main`; the current directory is the repository's root."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in files:
        shutil.copy2(ROOT / name, repo / name)
    for name in PROJECT_DIRS:
        shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    monkeypatch.chdir(repo)
    return repo
