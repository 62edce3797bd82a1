"""Placements of the checked-in stacks (and of mutated copies) for the pure builder tests: no Pulumi involved."""

from __future__ import annotations

import copy

import pytest

from flinkplat.config.fleet import Placement, resolve
from flinkplat.config.load import LoadedStack, load_stack
from tests.conftest import stack_document


def load_document(document: dict, stack: str = "test") -> LoadedStack:
    values = {k if ":" in k else f"flink-platform:{k}": v for k, v in document["config"].items()}
    secrets = {k for k, v in values.items() if isinstance(v, dict) and set(v) == {"secure"}}
    values = {k: ("[secret]" if k in secrets else v) for k, v in values.items()}
    return load_stack(stack, values, secrets)


def cluster_doc(document: dict, name: str) -> dict:
    return next(c for c in document["config"]["flink-platform:clusters"] if c["name"] == name)


def placement_of(loaded: LoadedStack, key: str) -> Placement:
    return next(p for p in resolve(loaded.config) if p.key == key)


@pytest.fixture(scope="session")
def prod_loaded() -> LoadedStack:
    return load_document(stack_document("prod"), "prod")


@pytest.fixture(scope="session")
def dev_loaded() -> LoadedStack:
    return load_document(stack_document("dev"), "dev")


@pytest.fixture
def prod_doc() -> dict:
    return copy.deepcopy(stack_document("prod"))


@pytest.fixture
def dev_doc() -> dict:
    return copy.deepcopy(stack_document("dev"))
