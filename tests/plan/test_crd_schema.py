"""Every FlinkDeployment and FlinkSessionJob the plan renders is valid for the pinned operator's (1.15.0) CRDs."""

from __future__ import annotations

import copy

import pytest

from tests.conftest import CRDS, resources_of
from tests.support.crd import crd_errors, load_crd_schema

RELEASE = CRDS / "release-1.15.0"
SCHEMAS = {
    "FlinkDeployment": RELEASE / "flinkdeployments.flink.apache.org-v1.yml",
    "FlinkSessionJob": RELEASE / "flinksessionjobs.flink.apache.org-v1.yml",
}


def _schema(kind: str) -> dict:
    return load_crd_schema(SCHEMAS[kind], "v1beta1")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_rendered_flink_resources_match_the_operator_crds(stack, dev_plan, prod_plan):
    plan = dev_plan if stack == "dev" else prod_plan
    checked = 0
    for kind in SCHEMAS:
        for resource in resources_of(plan, kind):
            assert resource["inputs"]["apiVersion"] == "flink.apache.org/v1beta1"
            assert crd_errors(resource["inputs"], _schema(kind)) == [], resource["name"]
            checked += 1
    assert checked >= (3 if stack == "dev" else 8)


def test_schema_check_catches_a_version_the_crd_does_not_know(prod_plan):
    manifest = copy.deepcopy(resources_of(prod_plan, "FlinkDeployment")[0]["inputs"])
    manifest["spec"]["flinkVersion"] = "v2_3"  # in the 1.15.0 Java enum, not in the published CRD
    errors = crd_errors(manifest, _schema("FlinkDeployment"))
    assert len(errors) == 1 and errors[0].startswith("spec.flinkVersion: 'v2_3' is not one of ['v1_13'")


def test_schema_check_catches_typos_the_server_would_prune(prod_plan):
    manifest = copy.deepcopy(resources_of(prod_plan, "FlinkDeployment")[0]["inputs"])
    manifest["spec"]["taskManager"]["replica"] = 3
    assert crd_errors(manifest, _schema("FlinkDeployment")) == [
        ".spec.taskManager.replica: unknown field (the API server would prune it)"]


def test_schema_check_catches_wrong_types(dev_plan):
    manifest = copy.deepcopy(resources_of(dev_plan, "FlinkSessionJob")[0]["inputs"])
    manifest["spec"]["job"]["parallelism"] = "two"
    assert crd_errors(manifest, _schema("FlinkSessionJob")) == ["spec.job.parallelism: 'two' is not of type 'integer'"]
