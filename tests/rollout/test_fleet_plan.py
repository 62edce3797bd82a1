"""`flinkplat plan --stack prod --json` shows the fleet: every resource with the cluster or region it goes to,
a checkpoint bucket per region, and each region's own entry class."""

from __future__ import annotations

from tests.conftest import resources_of


def test_every_resource_names_the_cluster_or_region_it_goes_to(prod_plan):
    providers = {r["provider"] for r in prod_plan["resources"]}
    assert providers == {"aws:us-east-1", "aws:eu-west-1",
                         "kubernetes:use1-canary", "kubernetes:use1-main", "kubernetes:euw1-main"}
    for resource in prod_plan["resources"]:
        kind = resource["type"].split(":", 1)[0]
        assert resource["provider"].split(":", 1)[0] == kind, resource["urn"]


def test_one_checkpoint_bucket_per_region_through_that_regions_provider(prod_plan):
    buckets = {(r["provider"], r["inputs"]["bucket"]) for r in resources_of(prod_plan, "Bucket")}
    assert buckets == {("aws:us-east-1", "acme-flink-prod-us-east-1"), ("aws:eu-west-1", "acme-flink-prod-eu-west-1")}


def test_the_warehouse_job_has_its_region_entry_class_and_bucket(prod_plan):
    warehouse = {r["provider"]: r["inputs"]["spec"] for r in resources_of(prod_plan, "FlinkDeployment")
                 if r["inputs"]["metadata"]["name"] == "warehouse"}
    assert {p: spec["job"]["entryClass"] for p, spec in warehouse.items()} == {
        "kubernetes:use1-main": "com.us.WarehouseJob", "kubernetes:euw1-main": "com.eu.ShippingJob"}
    assert warehouse["kubernetes:euw1-main"]["flinkConfiguration"]["execution.checkpointing.dir"].startswith(
        "s3://acme-flink-prod-eu-west-1/euw1-main/")
    assert prod_plan["outputs"]["clusters"]["euw1-main/flink-logistics/warehouse"]["region"] == "eu-west-1"


def test_team_namespaces_carry_their_region(prod_plan):
    labels = {(r["provider"], r["inputs"]["metadata"]["name"]): r["inputs"]["metadata"]["labels"].get("region")
              for r in resources_of(prod_plan, "Namespace") if "team" in r["inputs"]["metadata"].get("labels", {})}
    assert labels[("kubernetes:euw1-main", "flink-logistics")] == "eu-west-1"
    assert labels[("kubernetes:use1-canary", "flink-payments")] == "us-east-1"
