"""STAND-IN `pulumi-resource-aws` for the engine tests only. It is NOT the AWS provider and talks to no cloud.

The real provider cannot be built from any registry reachable here (PULUMI-ENGINE.md), so the prod program's AWS
side runs against this small resource provider plugin, written against Pulumi's provider gRPC protocol
(`pulumi.runtime.proto.provider_pb2*`), while its Kubernetes side is fully real. It:
  - speaks the plugin protocol: launched by the engine as `pulumi-resource-aws [engine address] [flags]`, it serves
    the ResourceProvider service on a free local port and prints that port on stdout;
  - echoes inputs as outputs and computes what AWS would (ids, ARNs, IAM role unique ids, pod identity association
    ids), deterministically, for exactly the resource types the program declares (RESOURCE_TYPES); any other type
    fails loudly, so a new AWS resource in the program cannot slip through untested;
  - autonames a missing `name` like the real (bridged) provider (`<logical name>-<7 hex>`) and applies the AWS API's
    own name checks at create/update time (e.g. IAM names match [\\w+=,.@-]+), so a name AWS would refuse fails
    here too;
  - diffs old inputs against new ones, with the properties that force a replacement per type;
  - Read echoes the state (refresh shows no drift: there is no cloud to drift).

It keeps no state of its own: the engine's state is the only record. Version: the installed pulumi_aws SDK's, with
build metadata `+standin` (GetPluginInfo), so logs show plainly which provider ran.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from concurrent import futures
from importlib import metadata
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2

from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc

ACCOUNT_ID = "111122223333"  # the same fake account as the offline plan's mocks (flinkplat/plan/runner.py)
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's marker for a value not known during preview
IAM_NAME = re.compile(r"^[\w+=,.@-]+$")


def plugin_version() -> str:
    try:
        sdk = metadata.version("pulumi_aws")
    except metadata.PackageNotFoundError:
        sdk = "0.0.0"
    return f"{sdk}+standin"


def _seed_hex(seed: bytes, urn: str, length: int) -> str:
    return hashlib.sha256(seed + urn.encode()).hexdigest()[:length]


# type token -> (properties whose change forces a replacement, autonamed `name` limit or None)
_BUCKET_CHILD = (("bucket", "expectedBucketOwner"), None)
RESOURCE_TYPES: dict[str, tuple[tuple[str, ...], int | None]] = {
    "aws:s3/bucket:Bucket": (("bucket", "bucketPrefix"), None),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": (("bucket",), None),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": (("bucket",), None),
    "aws:s3/bucketVersioning:BucketVersioning": _BUCKET_CHILD,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _BUCKET_CHILD,
    "aws:s3/bucketPolicy:BucketPolicy": (("bucket",), None),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _BUCKET_CHILD,
    "aws:iam/role:Role": (("name", "namePrefix", "path"), 64),
    "aws:iam/rolePolicy:RolePolicy": (("name", "namePrefix", "role"), 128),
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": (("clusterName", "namespace", "serviceAccount"), None),
}


def _type_of(urn: str) -> str:
    return urn.split("::")[2].split("$")[-1]


def _name_of(urn: str) -> str:
    return urn.split("::")[3]


def to_dict(struct: struct_pb2.Struct | None) -> dict[str, Any]:
    return json_format.MessageToDict(struct) if struct is not None else {}


def to_struct(value: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(value)
    return struct


class AwsApiError(Exception):
    """What the AWS API would answer (the engine shows it as the resource's error)."""


def _known(*values: Any) -> bool:
    return all(v is not None and v != UNKNOWN for v in values)


def computed(type_: str, urn: str, inputs: dict[str, Any], region: str, olds: dict[str, Any]) -> tuple[str, dict]:
    """(id, outputs): the inputs echoed plus what AWS computes. Values derived from an unknown input stay unknown."""
    out = dict(inputs)
    if "tags" in inputs:
        out["tagsAll"] = inputs["tags"]
    if type_ == "aws:s3/bucket:Bucket":
        bucket = inputs.get("bucket")
        out.update(arn=f"arn:aws:s3:::{bucket}" if _known(bucket) else UNKNOWN,
                   bucketDomainName=f"{bucket}.s3.amazonaws.com" if _known(bucket) else UNKNOWN,
                   bucketRegionalDomainName=f"{bucket}.s3.{region}.amazonaws.com" if _known(bucket) else UNKNOWN,
                   region=region)
        return (bucket if _known(bucket) else ""), out
    if type_.startswith("aws:s3/"):  # bucket settings: AWS keys them by the bucket
        bucket = inputs.get("bucket")
        return (bucket if _known(bucket) else ""), out
    if type_ == "aws:iam/role:Role":
        name = inputs.get("name")
        out.update(arn=f"arn:aws:iam::{ACCOUNT_ID}:role{inputs.get('path', '/')}{name}" if _known(name) else UNKNOWN,
                   uniqueId=olds.get("uniqueId") or "AROA" + hashlib.sha256(urn.encode()).hexdigest()[:17].upper())
        return (name if _known(name) else ""), out
    if type_ == "aws:iam/rolePolicy:RolePolicy":
        role, name = inputs.get("role"), inputs.get("name")
        return (f"{role}:{name}" if _known(role, name) else ""), out
    if type_ == "aws:eks/podIdentityAssociation:PodIdentityAssociation":
        cluster = inputs.get("clusterName")
        association = olds.get("associationId") or "a-" + hashlib.sha256(urn.encode()).hexdigest()[:17]
        out.update(associationId=association,
                   associationArn=(f"arn:aws:eks:{region}:{ACCOUNT_ID}:podidentityassociation/{cluster}/{association}"
                                   if _known(cluster) else UNKNOWN))
        return (f"{cluster},{association}" if _known(cluster) else ""), out
    raise AwsApiError(f"the STAND-IN aws provider does not implement {type_}; add it to "
                      "tests/engine/standin_aws/standin_aws_provider.py (RESOURCE_TYPES, computed)")


def aws_api_checks(type_: str, inputs: dict[str, Any]) -> None:
    """The validation the AWS API itself does on create/update, for the properties the program sets."""
    if type_ in ("aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy"):
        name = inputs.get("name")
        limit = RESOURCE_TYPES[type_][1]
        if _known(name) and (not IAM_NAME.match(name) or len(name) > limit):
            what = "roleName" if type_ == "aws:iam/role:Role" else "policyName"
            raise AwsApiError(f"ValidationError: 1 validation error detected: Value '{name}' at '{what}' failed to "
                              f"satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ "
                              f"and have length less than or equal to {limit}")
    for key in ("policy", "assumeRolePolicy"):
        document = inputs.get(key)
        if _known(document):
            try:
                json.loads(document)
            except (TypeError, ValueError):
                raise AwsApiError(f"MalformedPolicyDocument: {key} is not valid JSON") from None


class StandInAwsProvider(provider_pb2_grpc.ResourceProviderServicer):
    """The ResourceProvider service of the stand-in (see the module docstring)."""

    def __init__(self) -> None:
        self.region = "us-east-1"

    # -- plugin and provider configuration --------------------------------------------------------------------

    def GetPluginInfo(self, request, context):
        return plugin_pb2.PluginInfo(version=plugin_version())

    def GetSchema(self, request, context):
        # Minimal: the engine only needs a package name and version; the program uses the pulumi_aws SDK's types.
        return provider_pb2.GetSchemaResponse(schema=json.dumps({
            "name": "aws", "version": plugin_version(),
            "description": "STAND-IN for the AWS provider (flink-platform engine tests only; no cloud calls)"}))

    def CheckConfig(self, request, context):
        return provider_pb2.CheckResponse(inputs=request.news)

    def DiffConfig(self, request, context):
        olds, news = to_dict(request.old_inputs) or to_dict(request.olds), to_dict(request.news)
        changed = sorted(k for k in set(olds) | set(news) if olds.get(k) != news.get(k) and k != "version")
        return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_SOME if changed
                                         else provider_pb2.DiffResponse.DIFF_NONE, diffs=changed)

    def Configure(self, request, context):
        args = to_dict(request.args)
        self.region = args.get("region") or request.variables.get("aws:config:region") or self.region
        return provider_pb2.ConfigureResponse(acceptSecrets=False, supportsPreview=True, acceptResources=False,
                                              acceptOutputs=False)

    def Attach(self, request, context):
        return empty_pb2.Empty()

    def Cancel(self, request, context):
        return empty_pb2.Empty()

    # -- resources -------------------------------------------------------------------------------------------

    def Check(self, request, context):
        type_ = _type_of(request.urn)
        news, olds = to_dict(request.news), to_dict(request.olds)
        if type_ not in RESOURCE_TYPES:
            return provider_pb2.CheckResponse(failures=[provider_pb2.CheckFailure(
                property="", reason=f"the STAND-IN aws provider does not implement {type_}")])
        autoname_limit = RESOURCE_TYPES[type_][1]
        if autoname_limit is not None and "name" not in news:
            # Like the bridged provider: keep the name already given, else `<logical name>-<7 hex>`.
            news["name"] = olds.get("name") or f"{_name_of(request.urn)}-{_seed_hex(request.randomSeed, request.urn, 7)}"
        return provider_pb2.CheckResponse(inputs=to_struct(news))

    def Diff(self, request, context):
        type_ = _type_of(request.urn)
        news = to_dict(request.news)
        if request.HasField("old_inputs"):
            olds = to_dict(request.old_inputs)
        else:  # an old engine: only the old outputs, which also hold computed values; compare what is declared
            olds = {k: v for k, v in to_dict(request.olds).items() if k in news}
        ignored = set(request.ignoreChanges)
        changed = sorted(k for k in set(olds) | set(news) if k not in ignored and olds.get(k) != news.get(k))
        if not changed:
            return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_NONE)
        forces = RESOURCE_TYPES.get(type_, ((), None))[0]
        return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_SOME, diffs=changed,
                                         replaces=[k for k in changed if k in forces], deleteBeforeReplace=False)

    def _apply(self, urn: str, inputs: dict, olds: dict, preview: bool, context) -> tuple[str, dict] | None:
        type_ = _type_of(urn)
        try:
            if not preview:
                aws_api_checks(type_, inputs)
            return computed(type_, urn, inputs, self.region, olds)
        except AwsApiError as error:
            context.abort(grpc.StatusCode.UNKNOWN, f"STAND-IN aws: {error}")
            return None

    def Create(self, request, context):
        id_, outputs = self._apply(request.urn, to_dict(request.properties), {}, request.preview, context)
        return provider_pb2.CreateResponse(id="" if request.preview else id_, properties=to_struct(outputs))

    def Update(self, request, context):
        olds = to_dict(request.olds)
        _, outputs = self._apply(request.urn, to_dict(request.news), olds, request.preview, context)
        return provider_pb2.UpdateResponse(properties=to_struct(outputs))

    def Read(self, request, context):
        if not request.id:
            return provider_pb2.ReadResponse()
        return provider_pb2.ReadResponse(id=request.id, properties=request.properties, inputs=request.inputs)

    def Delete(self, request, context):
        return empty_pb2.Empty()


def serve(port: int = 0) -> tuple[grpc.Server, int]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4),
                         options=[("grpc.max_receive_message_length", 400 * 1024 * 1024)])
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(StandInAwsProvider(), server)
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    return server, bound


def main(argv: list[str]) -> None:
    # argv: the engine's address and logging flags; the stand-in logs nothing to the engine, so it ignores them.
    server, port = serve()
    print(port, flush=True)  # the plugin protocol: the engine reads the port from the first line of stdout
    server.wait_for_termination()


if __name__ == "__main__":
    main(sys.argv[1:])
