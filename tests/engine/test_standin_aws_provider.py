"""The STAND-IN aws provider over gRPC, in-process (no CLI needed): the protocol calls the engine makes, the computed
ids/ARNs, diffs with replacements, autonaming, and the AWS-side refusals. Plus the plugin launch protocol (port on
stdout) through the generated `pulumi-resource-aws` wrapper."""

from __future__ import annotations

import json
import os
import subprocess

import grpc
import pytest
from google.protobuf import empty_pb2

from flinkplat.plan.runner import ACCOUNT_ID as PLAN_ACCOUNT_ID
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc
from tests.engine.standin_aws.launcher import EXECUTABLE, install_standin_aws
from tests.engine.standin_aws.standin_aws_provider import (ACCOUNT_ID, RESOURCE_TYPES, UNKNOWN, plugin_version, serve,
                                                           to_dict, to_struct)

STACK = "urn:pulumi:prod::flink-platform::"
PARENT = "flinkplatform:fleet:Platform$flinkplatform:fleet:Region$flinkplatform:storage:CheckpointBucket$"


def urn(type_: str, name: str) -> str:
    return f"{STACK}{PARENT}{type_}::{name}"


@pytest.fixture(scope="module")
def provider():
    server, port = serve()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    stub = provider_pb2_grpc.ResourceProviderStub(channel)
    stub.Configure(provider_pb2.ConfigureRequest(args=to_struct({"region": "eu-west-1", "version": "7.51.1"})))
    yield stub
    channel.close()
    server.stop(None)


def create(stub, type_: str, name: str, inputs: dict, preview: bool = False):
    the_urn = urn(type_, name)
    checked = stub.Check(provider_pb2.CheckRequest(urn=the_urn, news=to_struct(inputs), randomSeed=b"seed"))
    assert not checked.failures, checked.failures
    return stub.Create(provider_pb2.CreateRequest(urn=the_urn, properties=checked.inputs, preview=preview))


def test_plugin_info_and_schema_say_stand_in(provider):
    assert provider.GetPluginInfo(empty_pb2.Empty()).version == plugin_version()
    assert plugin_version().endswith("+standin")
    schema = json.loads(provider.GetSchema(provider_pb2.GetSchemaRequest()).schema)
    assert schema["name"] == "aws" and "STAND-IN" in schema["description"]
    assert ACCOUNT_ID == PLAN_ACCOUNT_ID  # the engine and the offline plan report the same fake account


def test_bucket_and_role_get_the_ids_and_arns_aws_gives(provider):
    bucket = create(provider, "aws:s3/bucket:Bucket", "eu-west-1/bucket",
                    {"bucket": "acme-flink-prod-eu-west-1", "forceDestroy": False, "tags": {"purpose": "flink-state"}})
    props = to_dict(bucket.properties)
    assert bucket.id == "acme-flink-prod-eu-west-1"
    assert props["arn"] == "arn:aws:s3:::acme-flink-prod-eu-west-1"
    assert props["region"] == "eu-west-1" and props["tagsAll"] == {"purpose": "flink-state"}
    assert props["forceDestroy"] is False  # inputs are echoed
    role = create(provider, "aws:iam/role:Role", "euw1-main/flink-logistics/warehouse/role",
                  {"name": "flink-euw1-main-flink-logistics-warehouse", "assumeRolePolicy": "{}"})
    assert role.id == "flink-euw1-main-flink-logistics-warehouse"
    assert to_dict(role.properties)["arn"] == f"arn:aws:iam::{ACCOUNT_ID}:role/flink-euw1-main-flink-logistics-warehouse"
    association = create(provider, "aws:eks/podIdentityAssociation:PodIdentityAssociation", "euw1-main/x/pod-identity",
                         {"clusterName": "euw1-main", "namespace": "x", "serviceAccount": "y", "roleArn": "arn"})
    props = to_dict(association.properties)
    assert association.id == f"euw1-main,{props['associationId']}"
    assert props["associationArn"].startswith(f"arn:aws:eks:eu-west-1:{ACCOUNT_ID}:podidentityassociation/euw1-main/a-")


def test_preview_keeps_values_derived_from_unknowns_unknown(provider):
    created = create(provider, "aws:iam/rolePolicy:RolePolicy", "k/ns/c/prefix-access",
                     {"role": UNKNOWN, "policy": "{}", "name": "prefix-access"}, preview=True)
    assert created.id == ""
    assert to_dict(created.properties)["role"] == UNKNOWN


def test_autonames_like_the_bridged_provider_and_keeps_the_name(provider):
    the_urn = urn("aws:iam/rolePolicy:RolePolicy", "prefix-access")
    first = to_dict(provider.Check(provider_pb2.CheckRequest(urn=the_urn, news=to_struct({"role": "r", "policy": "{}"}),
                                                             randomSeed=b"one")).inputs)
    assert first["name"].startswith("prefix-access-") and len(first["name"]) == len("prefix-access-") + 7
    again = to_dict(provider.Check(provider_pb2.CheckRequest(
        urn=the_urn, olds=to_struct(first), news=to_struct({"role": "r", "policy": "{\"a\": 1}"}),
        randomSeed=b"two")).inputs)
    assert again["name"] == first["name"]


def test_aws_refuses_an_iam_name_with_slashes(provider):
    """What AWS says to an autonamed inline policy of a resource whose logical name has '/' in it."""
    with pytest.raises(grpc.RpcError) as caught:
        create(provider, "aws:iam/rolePolicy:RolePolicy", "use1-main/flink-payments/fraud-score/prefix-access",
               {"role": "flink-use1-main-flink-payments-fraud-score", "policy": "{}"})
    assert "at 'policyName' failed to satisfy constraint" in caught.value.details()
    assert "STAND-IN aws" in caught.value.details()
    with pytest.raises(grpc.RpcError) as caught:
        create(provider, "aws:iam/role:Role", "r", {"name": "ok-name", "assumeRolePolicy": "not json"})
    assert "MalformedPolicyDocument" in caught.value.details()


def test_diff_update_versus_replace(provider):
    type_ = "aws:s3/bucketVersioning:BucketVersioning"
    old = {"bucket": "b1", "versioningConfiguration": {"status": "Enabled"}}

    def diff(new: dict, ignore=()):
        return provider.Diff(provider_pb2.DiffRequest(urn=urn(type_, "v"), id="b1", olds=to_struct({**old, "id": "b1"}),
                                                      old_inputs=to_struct(old), news=to_struct(new),
                                                      ignoreChanges=list(ignore)))

    same = diff(dict(old))
    assert same.changes == provider_pb2.DiffResponse.DIFF_NONE
    update = diff({**old, "versioningConfiguration": {"status": "Suspended"}})
    assert update.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert list(update.diffs) == ["versioningConfiguration"] and not update.replaces
    replace = diff({**old, "bucket": "b2"})
    assert list(replace.replaces) == ["bucket"]
    ignored = diff({**old, "versioningConfiguration": {"status": "Suspended"}}, ignore=["versioningConfiguration"])
    assert ignored.changes == provider_pb2.DiffResponse.DIFF_NONE


def test_update_keeps_computed_ids_and_read_echoes_state(provider):
    the_urn = urn("aws:iam/role:Role", "keep")
    created = create(provider, "aws:iam/role:Role", "keep", {"name": "keep", "assumeRolePolicy": "{}"})
    olds = to_dict(created.properties)
    updated = to_dict(provider.Update(provider_pb2.UpdateRequest(
        urn=the_urn, id=created.id, olds=created.properties,
        news=to_struct({"name": "keep", "assumeRolePolicy": "{\"Version\": \"2012-10-17\"}"}))).properties)
    assert updated["uniqueId"] == olds["uniqueId"] and updated["assumeRolePolicy"].startswith("{\"Version")
    read = provider.Read(provider_pb2.ReadRequest(urn=the_urn, id=created.id, properties=created.properties,
                                                  inputs=to_struct({"name": "keep"})))
    assert read.id == created.id and to_dict(read.properties) == olds
    provider.Delete(provider_pb2.DeleteRequest(urn=the_urn, id=created.id, properties=created.properties))


def test_unknown_types_fail_loudly(provider):
    checked = provider.Check(provider_pb2.CheckRequest(urn=urn("aws:sqs/queue:Queue", "q"), news=to_struct({})))
    assert "does not implement aws:sqs/queue:Queue" in checked.failures[0].reason


def test_covers_every_aws_type_of_the_prod_program(prod_plan):
    types = {r["type"] for r in prod_plan["resources"] if r["type"].startswith("aws:")}
    assert types and types <= set(RESOURCE_TYPES), sorted(types - set(RESOURCE_TYPES))


def test_wrapper_launches_it_as_a_plugin(tmp_path):
    """The engine's launch protocol: `pulumi-resource-aws <engine address>` prints its port; gRPC answers there."""
    directory = install_standin_aws(tmp_path / "bin")
    process = subprocess.Popen([str(directory / EXECUTABLE), "127.0.0.1:1"], stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PATH": f"{directory}:{os.environ['PATH']}"})
    try:
        port = int(process.stdout.readline().strip())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            info = provider_pb2_grpc.ResourceProviderStub(channel).GetPluginInfo(empty_pb2.Empty(), timeout=20)
        assert info.version.endswith("+standin")
    finally:
        process.terminate()
        process.wait(timeout=20)
