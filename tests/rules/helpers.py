"""Fixtures for rule tests: the known-good prod FlinkDeployment, built by the platform's pure builders from
Pulumi.prod.yaml (no Pulumi runtime), and helpers to mutate one thing and run one rule."""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path

from flinkplat.config.fleet import resolve
from flinkplat.config.load import load_stack_file
from flinkplat.flink.deployment import bucket_name, flink_deployment
from flinkplat.rules import RULES, Res

ROOT = Path(__file__).resolve().parents[2]
PROVIDER = "urn:pulumi:prod::flink-platform::pulumi:providers:kubernetes::k8s-use1-main"


@lru_cache(maxsize=None)
def _manifests() -> dict[str, dict]:
    loaded = load_stack_file(ROOT / "Pulumi.prod.yaml", "prod")
    config = loaded.config
    out = {}
    for placement in resolve(config):
        bucket = bucket_name(config.storage.bucket_prefix, config.environment, placement.region.name)
        out[placement.key] = flink_deployment(placement, bucket, config.is_prod)
    return out


def prod_manifest(key: str = "use1-main/flink-logistics/warehouse") -> dict:
    """A deep copy of a known-good prod FlinkDeployment manifest (default: warehouse on use1-main)."""
    return copy.deepcopy(_manifests()[key])


def conf(manifest: dict) -> dict:
    """A manifest's spec.flinkConfiguration, to change in place."""
    return manifest["spec"]["flinkConfiguration"]


def as_res(manifest: dict, **kwargs) -> Res:
    return Res.manifest(manifest, provider=PROVIDER, **kwargs)


def run(rule_name: str, target, config: dict | None = None) -> list[str]:
    return [f.message for f in RULES.get(rule_name).run(target, config)]

