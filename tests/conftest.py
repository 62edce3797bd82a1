"""Shared fixtures: stack files, offline plans (computed once per session: they are pure functions of the files)."""

from __future__ import annotations

import copy
import functools
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CRDS = SHARED / "reference" / "crds"


@functools.lru_cache(maxsize=None)
def _plan_json(stack: str) -> dict:
    from flinkplat.plan.runner import plan_stack

    return plan_stack(stack=stack, root=ROOT).to_json()


@pytest.fixture
def dev_plan() -> dict:
    return copy.deepcopy(_plan_json("dev"))


@pytest.fixture
def prod_plan() -> dict:
    return copy.deepcopy(_plan_json("prod"))


def stack_document(stack: str) -> dict:
    return yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())


def service_monitor_document(stack: str) -> dict:
    """The example stack with `monitoring.scrape: serviceMonitor` (metrics Service + ServiceMonitor)."""
    document = stack_document(stack)
    document["config"].setdefault("flink-platform:monitoring", {})["scrape"] = "serviceMonitor"
    return document


@pytest.fixture(scope="session")
def service_monitor_plan(tmp_path_factory):
    """service_monitor_plan(stack) -> the offline plan of service_monitor_document(stack) (once per stack)."""
    from flinkplat.plan.runner import plan_stack

    cache: dict[str, dict] = {}

    def get(stack: str) -> dict:
        if stack not in cache:
            path = tmp_path_factory.mktemp(f"servicemonitor-{stack}") / f"Pulumi.{stack}.yaml"
            path.write_text(yaml.safe_dump(service_monitor_document(stack), sort_keys=False))
            cache[stack] = plan_stack(stack_file=path).to_json()
        return copy.deepcopy(cache[stack])

    return get


@pytest.fixture
def write_stack(tmp_path):
    """Write a (mutated) stack document to a tmp file and return its path."""

    def write(document: dict, name: str = "test") -> Path:
        path = tmp_path / f"Pulumi.{name}.yaml"
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        return path

    return write


def resources_of(plan: dict, kind: str) -> list[dict]:
    return [r for r in plan["resources"] if r["type"].endswith(f":{kind}")]
