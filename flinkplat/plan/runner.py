"""The offline plan: run the real Pulumi program (`__main__.py`) for a stack on the Pulumi SDK's mock runtime — no
Pulumi CLI, no cloud, no cluster — and record every resource with its inputs, provider and options."""

from __future__ import annotations

import contextlib
import gc
import json
import runpy
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flinkplat.config.errors import ConfigError
from flinkplat.config.load import SECRET_PLACEHOLDER, LoadedStack, load_stack, read_stack_file

PROJECT = "flink-platform"
ACCOUNT_ID = "111122223333"  # the fake account the mocks report for computed ARNs


@dataclass
class PlannedResource:
    urn: str
    type: str  # Pulumi type token, e.g. kubernetes:flink.apache.org/v1beta1:FlinkDeployment
    name: str  # logical name
    provider: str | None  # which cluster/region it goes to: "kubernetes:use1-main", "aws:us-east-1"
    parent: str | None  # parent URN
    custom: bool
    inputs: dict[str, Any]  # plain JSON; for Kubernetes objects the full manifest
    options: dict[str, Any] = field(default_factory=dict)  # protect, ignoreChanges, retainOnDelete, dependsOn

    @property
    def is_kubernetes_object(self) -> bool:
        return self.custom and self.type.startswith("kubernetes:") and not self.type.startswith("kubernetes:helm")

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "name": self.name, "provider": self.provider, "inputs": self.inputs,
                "urn": self.urn, "parent": self.parent, "options": self.options}


@dataclass
class Plan:
    stack: str
    loaded: LoadedStack
    resources: list[PlannedResource]
    outputs: dict[str, Any]
    violations: list[dict[str, Any]] = field(default_factory=list)
    waivers: list[dict[str, Any]] = field(default_factory=list)

    @property
    def custom_resources(self) -> list[PlannedResource]:
        return sorted((r for r in self.resources if r.custom and not r.type.startswith("pulumi:providers:")),
                      key=lambda r: (r.provider or "", r.urn))

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "resources": [r.to_json() for r in self.custom_resources],
            "violations": self.violations,
            "waivers": self.waivers,
            "outputs": self.outputs,
        }


def project_root() -> Path:
    """The directory with Pulumi.yaml: the current directory or one above it, else this checkout."""
    for candidate in [Path.cwd(), *Path.cwd().parents]:
        if (candidate / "Pulumi.yaml").exists() and (candidate / "__main__.py").exists():
            return candidate
    return Path(__file__).resolve().parents[2]


def _plain(value: Any) -> Any:
    """Mock inputs as JSON: drop Pulumi's unknown/secret wrappers and resource references."""
    if isinstance(value, dict):
        if value.get("4dabf18193072939515e22adb298388d") == "1b47061264138c4ac30d75fd1eb44270":  # secret sig
            return _mask(_plain(value.get("value")))
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _mask(value: Any) -> Any:
    """A secret keeps its shape (a map stays a map, so the manifest stays valid) with every leaf hidden."""
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return SECRET_PLACEHOLDER


def _computed_state(type_: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """Outputs a real provider would compute that the program reads (ARNs, ids). Only the computed ones: outside
    preview the SDK resolves every other output from the resource's own inputs, so echoing the inputs back (and
    serialising them twice more) would only cost time on large fleets."""
    state: dict[str, Any] = {}
    if type_ == "aws:iam/role:Role":
        state["arn"] = f"arn:aws:iam::{ACCOUNT_ID}:role/{inputs.get('name', name)}"
    elif type_ == "aws:s3/bucket:Bucket":
        state["arn"] = f"arn:aws:s3:::{inputs.get('bucket', name)}"
        state.setdefault("bucket", inputs.get("bucket", name))
    return state


class _UnusedUrn:
    """Stands in for the SDK's discarded mock URN (see run_program)."""

    async def _value(self) -> None:
        return None

    def future(self):
        return self._value()


_UNUSED_URN = _UnusedUrn()


def _program_logger():
    """pulumi.log.* from the program, shown like the Pulumi CLI shows them (on stderr, with a level)."""
    import logging

    logger = logging.getLogger("flinkplat.program")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


def _provider_label(provider_name: str) -> str:
    for prefix, kind in (("k8s-", "kubernetes"), ("aws-", "aws")):
        if provider_name.startswith(prefix):
            return f"{kind}:{provider_name[len(prefix):]}"
    return provider_name


def run_program(loaded: LoadedStack, values: dict[str, Any], secret_keys: set[str], root: Path | None = None,
                faithful: bool = False) -> tuple[list[PlannedResource], dict[str, Any]]:
    """Run __main__.py under mocks with the stack's config; return (resources, stack outputs).

    By default each resource is registered in its constructor by the recording runtime
    (`flinkplat.plan.recording_runtime`); `faithful=True` runs the Pulumi SDK's own asynchronous registration
    against the mock monitor instead (slower; the reference the recording runtime is tested against)."""
    import pulumi
    from pulumi.runtime import mocks as pmocks
    from pulumi.runtime.config import set_all_config
    from pulumi.runtime.settings import SETTINGS
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await
    from google.protobuf import struct_pb2
    from pulumi.runtime import resource as runtime_resource
    from pulumi.runtime import rpc
    from pulumi.runtime.proto import resource_pb2, source_pb2
    from pulumi.runtime.settings import ROOT

    from flinkplat.plan.recording_runtime import RecordingRuntime

    root = root or project_root()
    recorded: dict[str, PlannedResource] = {}
    provider_labels: dict[str, str] = {}
    outputs: dict[str, Any] = {}

    class Mocks(pmocks.Mocks):
        def new_resource(self, args: pmocks.MockResourceArgs):
            return f"{args.name}-id", _computed_state(args.typ, args.name, args.inputs)

        def call(self, args: pmocks.MockCallArgs):
            return {}

    def make_urn(parent: str, type_: str, name: str) -> str:
        # The engine qualifies a child's type with its parent's whole type chain (the SDK's mock keeps only
        # the last link); real URNs matter here because rollouts target them and reviews diff by them.
        if parent:
            parent_type = parent.split("::")[2]
            if parent_type != "pulumi:pulumi:Stack":
                type_ = f"{parent_type}${type_}"
        return "urn:pulumi:" + "::".join([pulumi.get_stack(), pulumi.get_project(), type_, name])

    def record(urn: str, type_: str, name: str, parent_urn: str, custom: bool, raw_inputs: dict[str, Any],
               provider_ref: str | None, options: dict[str, Any], inputs_are_plain: bool = False) -> None:
        """One registered resource into the plan (both runtimes record through here)."""
        if type_.startswith("pulumi:providers:"):
            provider_labels[f"{urn}::{name}-id"] = _provider_label(name)
        recorded[urn] = PlannedResource(
            urn=urn, type=type_, name=name, provider=provider_labels.get(provider_ref) if provider_ref else None,
            parent=parent_urn or None, custom=bool(custom), inputs=raw_inputs if inputs_are_plain else _plain(raw_inputs),
            options=options)

    mocks = Mocks()

    class RecordingMonitor(pmocks.MockMonitor):
        def make_urn(self, parent: str, type_: str, name: str) -> str:
            return make_urn(parent, type_, name)

        def RegisterResource(self, request):
            # MockMonitor.RegisterResource, trimmed for speed: the inputs are deserialised once (not twice) and
            # only the computed outputs are serialised back (see _computed_state).
            urn = self.make_urn(request.parent, request.type, request.name)
            if request.type == "pulumi:pulumi:Stack":
                return resource_pb2.RegisterResourceResponse(urn=urn)
            raw_inputs = rpc.deserialize_properties(request.object, keep_unknowns=True) or {}
            id_, state = self.mocks.new_resource(pmocks.MockResourceArgs(
                typ=request.type, name=request.name, inputs=raw_inputs, provider=request.provider,
                resource_id=request.importId, custom=request.custom or False))
            self.resources[urn] = pmocks.MockMonitor.ResourceRegistration(urn, id_, state)
            state_proto = struct_pb2.Struct()
            state_proto.update(state)
            response = resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=state_proto)
            record(urn, request.type, request.name, request.parent, bool(request.custom), raw_inputs,
                   request.provider or None, {
                       "protect": bool(request.protect),
                       "retainOnDelete": bool(request.retainOnDelete),
                       "deleteBeforeReplace": bool(request.deleteBeforeReplace),
                       "ignoreChanges": list(request.ignoreChanges),
                       "dependsOn": sorted(set(request.dependencies)),
                   })
            return response

    def new_resource(type_: str, name: str, inputs: dict[str, Any], provider_ref: str | None,
                     custom: bool) -> tuple[str, dict[str, Any]]:
        return mocks.new_resource(pmocks.MockResourceArgs(typ=type_, name=name, inputs=inputs,
                                                          provider=provider_ref or "", resource_id="", custom=custom))

    monitor = RecordingMonitor(mocks)
    runtime = None if faithful else RecordingRuntime(make_urn, new_resource, record)
    loop = _ensure_event_loop()
    with contextlib.ExitStack() as patches:
        if runtime is not None:  # before set_mocks: the root Stack registers through it too
            patches.enter_context(runtime.installed(loop))
        ROOT.set(None)  # a fresh root Stack per plan (several plans may run in one process)
        pmocks.set_mocks(mocks, project=PROJECT, stack=loaded.stack, preview=False, monitor=monitor,
                         logger=_program_logger())
        config_strings = {k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}
        set_all_config(config_strings, sorted(secret_keys))
        SETTINGS.rpc_manager.clear()
        SETTINGS.outputs.clear()
        sys.path.insert(0, str(root))
        patches.callback(sys.path.remove, str(root))
        # The SDK walks and formats the Python stack for every resource (source positions for the engine's UI): a
        # third of an offline plan's time, and nothing here reads it.
        stack_trace = runtime_resource._get_stack_trace
        runtime_resource._get_stack_trace = source_pb2.StackTrace
        patches.callback(setattr, runtime_resource, "_get_stack_trace", stack_trace)
        # With a monitor the SDK still builds a "mock URN" per resource (an Output.all chain) that only a
        # monitor-less run uses: skip that one call site; every other create_urn (aliases) keeps the real function.
        create_urn = runtime_resource.create_urn

        def _create_urn(name, type_, parent=None, project=None, stack=None):
            if sys._getframe(1).f_code.co_name == "do_register":
                return _UNUSED_URN
            return create_urn(name, type_, parent, project, stack)

        runtime_resource.create_urn = _create_urn
        patches.callback(setattr, runtime_resource, "create_urn", create_urn)

        def program() -> None:
            runpy.run_path(str(root / "__main__.py"), run_name="__main__")

        _sync_await(run_pulumi_func(program))
        if runtime is not None:
            _sync_await(runtime.settle())
            for urn, depends_on in _sync_await(runtime.dependencies()).items():
                if urn in recorded:
                    recorded[urn].options["dependsOn"] = depends_on
        stack_outputs = getattr(ROOT.get(), "outputs", {}) or {}
        resolved = _sync_await(pulumi.Output.from_input(stack_outputs).future(with_unknowns=True))
        outputs.update(_plain(resolved or {}))
    return list(recorded.values()), outputs


def plan_stack(stack: str | None = None, stack_file: Path | None = None, root: Path | None = None,
               with_policies: bool = True, faithful: bool = False,
               timings: dict[str, float] | None = None) -> Plan:
    """Load and validate the stack file (raises ConfigError), run the program offline, run the policy pack.

    `faithful=True`: the Pulumi SDK's own registration and pulumi-policy's analyzer, resource by resource (slow;
    what the fast path is tested against). `timings`, if given, receives the seconds of each phase."""
    was_enabled = gc.isenabled()
    if gc.get_freeze_count():  # a previous large plan in this process (tests, tools): collect its cycles now
        gc.unfreeze()
        gc.collect()
    # Python's cyclic garbage collector is off while a plan is made, back as it was afterwards: a plan builds
    # millions of objects that live until it ends, and each collection walks all of them again (measured on a
    # 1,000-job fleet: a third of the plan's time, for collections that freed almost nothing; the peak memory grows
    # by about a tenth without them). Reference counting still frees everything else at once.
    gc.disable()
    plan = None
    try:
        plan = _plan_stack(stack, stack_file, root, with_policies, faithful, timings)
        return plan
    finally:
        if plan is not None and len(plan.resources) >= FREEZE_MIN_RESOURCES:
            # Frozen, not collected: the first collection after a large plan would walk it all again and cost as
            # much (writing the plan would pay it). Its cycles stay until the process ends or plans again.
            gc.freeze()
        if was_enabled:
            gc.enable()


FREEZE_MIN_RESOURCES = 1500
"""From this many resources a finished plan's objects are frozen (gc.freeze) instead of left to the collector."""


def _plan_stack(stack: str | None, stack_file: Path | None, root: Path | None, with_policies: bool,
                faithful: bool, timings: dict[str, float] | None) -> Plan:
    clock = _PhaseClock(timings)
    root = root or project_root()
    path = stack_file or root / f"Pulumi.{stack}.yaml"
    name = stack or path.name.removeprefix("Pulumi.").removesuffix(".yaml")
    values, secret_keys = read_stack_file(path, name)
    try:
        loaded = load_stack(name, values, secret_keys)
    except ConfigError as error:
        raise error.in_file(path) from None
    clock.lap("read + validate stack file")
    resources, outputs = run_program(loaded, values, secret_keys, root, faithful=faithful)
    from flinkplat.plan.masking import mask_resources

    mask_resources(resources)  # secrets written in plain config never reach the plan, its files or the report
    clock.lap("run program (faithful: SDK + mock monitor)" if faithful else "run program (recording runtime)")
    plan = Plan(stack=name, loaded=loaded, resources=resources, outputs=outputs)
    if with_policies:
        try:
            from flinkplat.plan.policies import evaluate
        except ModuleNotFoundError as err:
            if err.name != "flinkplat.plan.policies":
                raise
        else:
            plan.violations, plan.waivers = evaluate(plan, faithful=faithful)
            clock.lap("policies (faithful: pulumi-policy analyzer)" if faithful else "policies (one pass)")
    return plan


class _PhaseClock:
    """Seconds per phase into `timings` (if given)."""

    def __init__(self, timings: dict[str, float] | None):
        import time

        self._now = time.perf_counter
        self._timings = timings
        self._last = self._now()

    def lap(self, phase: str) -> None:
        now = self._now()
        if self._timings is not None:
            self._timings[phase] = self._timings.get(phase, 0.0) + now - self._last
        self._last = now
