"""Fixtures of the engine tests (see harness.py for the API): the built Pulumi CLI + Kubernetes provider, API
servers with the controller manager and the CRDs, and stacks of the project in their own work dirs.

A missing prerequisite skips locally (with the command that builds it) and fails under CI=true."""

from __future__ import annotations

import pytest

from tests.engine.harness import ControlPlanes, EngineStackFactory, EngineTools, find_engine_tools, in_ci


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/engine/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.engine)


def missing(reason: str):
    if in_ci():
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def engine_tools() -> EngineTools:
    found = find_engine_tools()
    if isinstance(found, str):
        missing(found)
    return found


@pytest.fixture(scope="session")
def control_planes(engine_tools, tmp_path_factory):
    planes = ControlPlanes(engine_tools, tmp_path_factory.mktemp("control-planes"))
    yield planes
    planes.stop_all()


@pytest.fixture(scope="session")
def engine_stack_factory(engine_tools, tmp_path_factory) -> EngineStackFactory:
    return EngineStackFactory(engine_tools, tmp_path_factory.mktemp("engine-stacks"))
