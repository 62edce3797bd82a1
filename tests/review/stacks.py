"""A small two-region stack for review tests, and helpers to edit it like a pull request would."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable

import yaml

BASE: dict[str, Any] = {"config": {
    "flink-platform:environment": "dev",
    "flink-platform:regions": [
        {"name": "us-east-1", "kubernetesClusters": [{"name": "use1-a", "context": "kind-use1", "labels": {"tier": "general"}}]},
        {"name": "eu-west-1", "kubernetesClusters": [{"name": "euw1-a", "context": "kind-euw1", "labels": {"tier": "general"}}]},
    ],
    "flink-platform:storage": {"bucketPrefix": "review-flink"},
    "flink-platform:monitoring": {"enabled": False},
    "flink-platform:teams": [
        {"name": "orders", "egress": {"s3Cidrs": ["0.0.0.0/0"], "kubernetesApiCidrs": ["172.18.0.0/16"]}},
        {"name": "billing", "egress": {"s3Cidrs": ["0.0.0.0/0"], "kubernetesApiCidrs": ["172.18.0.0/16"]}},
    ],
    "flink-platform:clusters": [
        {"name": "checkout", "team": "orders", "flinkVersion": "1.20",
         "jobManager": {"cpu": 1, "memory": "2048m"},
         "taskManager": {"cpu": 2, "memory": "4096m", "slots": 2, "replicas": 2},
         "job": {"jarURI": "local:///opt/flink/usrlib/checkout-1.0.0.jar", "parallelism": 4,
                 "upgradeMode": "savepoint"}},
        {"name": "invoices", "team": "billing", "flinkVersion": "1.20",
         "jobManager": {"cpu": 1, "memory": "2048m"},
         "taskManager": {"cpu": 2, "memory": "4096m", "slots": 2},
         "job": {"jarURI": "local:///opt/flink/usrlib/invoices-2.0.0.jar", "parallelism": 2,
                 "upgradeMode": "last-state"},
         "placement": {"regions": ["us-east-1"]}},
    ],
}}


def stack(edit: Callable[[dict], None] | None = None) -> dict:
    document = copy.deepcopy(BASE)
    if edit is not None:
        edit(document["config"])
    return document


def write(path: Path, document: dict) -> Path:
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def cluster(config: dict, name: str) -> dict:
    return next(c for c in config["flink-platform:clusters"] if c["name"] == name)
