"""Fixtures of the acceptance tests: a real kube-apiserver (session-wide), the offline plans as the CLI writes
them, and the skip-or-fail rule for missing prerequisites."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flinkplat import versions
from tests.acceptance.envtest import EnvTest, envtest_info

ROOT = Path(__file__).resolve().parents[2]
FLINKPLAT = Path(sys.executable).with_name("flinkplat")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "operator_validator: runs the Flink Kubernetes Operator's own validator (Java, Maven Central)")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def missing(reason: str):
    """A prerequisite (tool, built binary) is missing: skip locally, fail under CI=true."""
    if in_ci():
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def apiserver(tmp_path_factory):
    """etcd + kube-apiserver with every CRD of scripts/envtest/setup.sh installed; stopped at session end."""
    info = envtest_info(versions.KUBERNETES_VERSION)
    if info is None:
        missing(f"no envtest binaries for Kubernetes {versions.KUBERNETES_VERSION}: run scripts/envtest/setup.sh "
                "(needs Go and Maven; see docs/acceptance-tests.md)")
    env = EnvTest(info, workdir=tmp_path_factory.mktemp("envtest"))
    env.start()
    try:
        env.install_crds(info["crds"])
        yield env
    finally:
        env.stop()


@functools.lru_cache(maxsize=None)
def _plan_available() -> str | None:
    """None if `flinkplat plan` exists, else why not."""
    if not FLINKPLAT.exists():
        return f"{FLINKPLAT} does not exist (pip install -e . into the venv)"
    proc = subprocess.run([str(FLINKPLAT), "plan", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        return f"`flinkplat plan` is not available yet: {proc.stderr.strip()[-300:]}"
    return None


@pytest.fixture(scope="session")
def stack_plan(tmp_path_factory):
    """stack_plan(stack) -> plan.json of `flinkplat plan --stack <stack> --out <tmp>` (run once per stack)."""
    cache: dict[str, dict] = {}

    def get(stack: str) -> dict:
        reason = _plan_available()
        if reason:
            pytest.skip(reason)
        if stack not in cache:
            out = tmp_path_factory.mktemp(f"plan-{stack}")
            proc = subprocess.run([str(FLINKPLAT), "plan", "--stack", stack, "--out", str(out)], cwd=ROOT,
                                  capture_output=True, text=True, timeout=600)
            plan_file = out / "plan.json"
            # exit 1 = mandatory policy violations: the manifests are still written and still worth checking
            if proc.returncode not in (0, 1) or not plan_file.exists():
                pytest.fail(f"flinkplat plan --stack {stack} exited {proc.returncode}:\n{proc.stdout[-2000:]}\n"
                            f"{proc.stderr[-2000:]}", pytrace=False)
            cache[stack] = json.loads(plan_file.read_text())
        return cache[stack]

    return get


# Kubernetes resources of a plan whose inputs are not one object manifest (a Helm release renders its chart).
NOT_MANIFESTS = ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart", "kubernetes:yaml/v2:ConfigGroup",
                 "kubernetes:yaml/v2:ConfigFile")


# How plan.json shows a Pulumi secret input: the whole value is replaced by this string, whatever its type.
def plan_manifests(plan: dict) -> list[tuple[str, str, dict]]:
    """(provider, resource name, manifest) of every Kubernetes object in the plan."""
    out = []
    for res in plan["resources"]:
        if not res["type"].startswith("kubernetes:") or res["type"] in NOT_MANIFESTS:
            continue
        manifest = res["inputs"]
        assert {"apiVersion", "kind", "metadata"} <= set(manifest), (
            f"{res['type']} {res['name']}: inputs are not a manifest: {sorted(manifest)}")
        out.append((res.get("provider") or "", res["name"], manifest))
    return out
