"""Plan a stack as it was at a git ref: export the ref's tree into a temporary directory (`git archive`, so the
working tree and the index are never touched) and run that tree's own code on it in a subprocess (the base ref's
`flinkplat` and `components`, not the working tree's, since the base is what is deployed)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Runs inside the exported tree (argv: stack file, project root); prints the plan JSON, or exits 2 with the
# configuration error on stderr.
_PLAN_SCRIPT = """
import json, sys
from pathlib import Path
from flinkplat.config.errors import ConfigError
from flinkplat.plan.runner import plan_stack
try:
    plan = plan_stack(stack_file=Path(sys.argv[1]), root=Path(sys.argv[2]))
except ConfigError as error:
    print(str(error), file=sys.stderr)
    sys.exit(2)
json.dump(plan.to_json(), sys.stdout)
"""


class GitError(Exception):
    """The base ref cannot be read (not a git repository, unknown ref, git missing)."""


class BasePlanError(Exception):
    """The base ref's code or stack file could not be planned."""


@dataclass(frozen=True)
class Repo:
    toplevel: Path
    prefix: str  # the project directory inside the repository ("" or "sub/dir/")


def _git(args: list[str], cwd: Path, binary: bool = False) -> Any:
    try:
        result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise GitError("git is not installed; --base needs git") from None
    if result.returncode != 0:
        raise GitError(result.stderr.decode(errors="replace").strip() or f"git {' '.join(args)} failed")
    return result.stdout if binary else result.stdout.decode().strip()


def find_repo(project_root: Path) -> Repo:
    try:
        toplevel = Path(_git(["rev-parse", "--show-toplevel"], project_root))
    except GitError as error:
        raise GitError(f"{project_root} is not inside a git repository ({error}); --base needs git history") from None
    prefix = _git(["rev-parse", "--show-prefix"], project_root)
    return Repo(toplevel=toplevel, prefix=prefix)


def resolve_ref(repo: Repo, ref: str) -> str:
    """The commit id of `ref`, or a GitError that names the ref."""
    try:
        return _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], repo.toplevel)
    except GitError:
        raise GitError(f"unknown git ref '{ref}' (fetch it first, e.g. git fetch origin main)") from None


def export_tree(repo: Repo, commit: str, into: Path) -> Path:
    """Write the commit's project directory into `into`; return the project root inside it."""
    data = _git(["archive", "--format=tar", commit], repo.toplevel, binary=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        archive.extractall(into, filter="data")
    return into / repo.prefix if repo.prefix else into


def plan_json_at(project_root: Path, stack_file: Path, timeout: float | None = None) -> subprocess.Popen:
    """Start planning `stack_file` with the code under `project_root` (a subprocess; see `collect`)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(project_root), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.pop("PYTHONSAFEPATH", None)
    env.setdefault("FLINKPLAT_PLAN_WORKERS", "1")  # the head plan runs alongside: both cores are taken already
    return subprocess.Popen([sys.executable, "-c", _PLAN_SCRIPT, str(stack_file), str(project_root)],
                            cwd=project_root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def base_plan_cache_file(repo: Repo, commit: str, relative: Path) -> Path | None:
    """Where the plan of `relative` at `commit` is cached: keyed by the commit's tree (everything the base plan
    reads: its code, policies and stack file), the stack file's path, Python and the Pulumi packages. None if
    the cache is turned off (FLINKPLAT_REVIEW_CACHE=0)."""
    import hashlib
    import platform
    from importlib import metadata

    if os.environ.get("FLINKPLAT_REVIEW_CACHE", "1") == "0":
        return None
    tree = _git(["rev-parse", f"{commit}^{{tree}}"], repo.toplevel)
    versions = {}
    for package in ("pulumi", "pulumi-kubernetes", "pulumi-aws", "pulumi-policy", "pydantic"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    key = hashlib.sha256(json.dumps([tree, str(relative), platform.python_version(), versions]).encode()).hexdigest()
    root = Path(os.environ.get("FLINKPLAT_CACHE") or Path.home() / ".cache" / "flink-platform")
    return root / "review-base-plans" / f"{key[:40]}.json"


def read_cached_plan(path: Path | None) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text()) if path is not None and path.exists() else None
    except (OSError, ValueError):
        return None  # unreadable or half-written: plan again


def write_cached_plan(path: Path | None, plan_json: dict[str, Any]) -> None:
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(plan_json))
        partial.replace(path)  # atomic: a concurrent review never reads half a file
    except OSError:
        pass  # a read-only cache only costs time


def collect(process: subprocess.Popen, ref: str) -> dict[str, Any]:
    stdout, stderr = process.communicate()
    message = stderr.decode(errors="replace").strip()
    if process.returncode == 2:
        raise BasePlanError(f"the stack file is invalid at {ref}:\n{message}")
    if process.returncode != 0:
        last = message.splitlines()[-1] if message else f"exit code {process.returncode}"
        raise BasePlanError(f"planning the stack at {ref} failed: {last}")
    try:
        return json.loads(stdout)
    except ValueError:
        raise BasePlanError(f"planning the stack at {ref} printed no plan") from None
