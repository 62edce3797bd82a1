"""Pieces of the recording runtime (flinkplat/plan/recording_runtime.py) checked against the SDK code they stand
in for; the whole runtime is checked against the SDK's own registration in test_fast_plan_fidelity.py."""

from __future__ import annotations

import asyncio
import json
import random

import pytest
from google.protobuf import struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import resource_pb2

from flinkplat.plan import recording_runtime as runtime
from flinkplat.plan.runner import _plain


def _random_value(rng: random.Random, depth: int = 0):
    kind = rng.choice(["str", "int", "float", "bool", "none", "dict", "list"] if depth < 3 else ["str", "int"])
    if kind == "str":
        return rng.choice(["a", "flink", "", "2048m", "s3://bucket/x", "ünïcode"])
    if kind == "int":
        return rng.choice([0, 1, 3, -7, 2**40, 6121])
    if kind == "float":
        return rng.choice([0.5, 2.0, 1e-3, 3.25])
    if kind == "bool":
        return rng.choice([True, False])
    if kind == "none":
        return None
    if kind == "list":
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    keys = ["apiVersion", "kind", "metadata", "spec", "name", "namespace", "labels", "taskmanager.numberOfTaskSlots",
            "state.checkpoints.dir", "x", "from", "ports", "podTemplate", "app.kubernetes.io/name"]
    return {rng.choice(keys) + str(rng.randint(0, 30)): _random_value(rng, depth + 1)
            for _ in range(rng.randint(0, 12))}


@pytest.mark.parametrize("seed", range(40))
def test_monitor_inputs_equal_what_the_mock_monitor_records(seed):
    """Struct → the request's copy → rpc.deserialize_properties → _plain, including the key order."""
    rng = random.Random(seed)
    serialized = {f"k{i}{rng.randint(0, 99)}": _random_value(rng) for i in range(rng.randint(1, 15))}
    serialized = {k: v for k, v in serialized.items() if v is not None}  # serialize_properties drops them
    struct = struct_pb2.Struct()
    for key, value in serialized.items():
        struct[key] = value
    copied = resource_pb2.RegisterResourceRequest(object=struct).object
    expected = _plain(rpc.deserialize_properties(copied, keep_unknowns=True))
    actual = runtime.monitor_inputs(serialized)
    assert json.dumps(actual) == json.dumps(expected)


def test_monitor_inputs_leave_secrets_and_unknowns_to_the_sdk():
    with pytest.raises(runtime._NotPlain):
        runtime.monitor_inputs({"data": {runtime._SIGNATURE_KEY: "1b47061264138c4ac30d75fd1eb44270", "value": "x"}})
    with pytest.raises(runtime._NotPlain):
        runtime.monitor_inputs({"id": runtime._UNKNOWN})


def test_drive_finishes_a_coroutine_at_once_or_hands_it_to_the_loop():
    loop = asyncio.new_event_loop()
    try:
        async def immediate():
            return 42

        done = runtime.drive(immediate(), loop)
        assert done.done() and done.result() == 42

        gate = loop.create_future()

        async def waits():
            first = await gate
            await asyncio.sleep(0)
            return first + 1

        pending = runtime.drive(waits(), loop)
        other = runtime.drive(waits(), loop)  # a second coroutine awaiting the same future
        assert not pending.done()
        loop.call_soon(gate.set_result, 1)
        assert loop.run_until_complete(asyncio.gather(pending, other)) == [2, 2]

        async def fails():
            raise ValueError("boom")

        failed = runtime.drive(fails(), loop)
        assert isinstance(failed.exception(), ValueError)
    finally:
        loop.close()


class _Node:
    def __init__(self, name):
        self._type, self._name = "test:index:Thing", name


def test_dependency_cycle_is_reported_like_the_sdk():
    a, b, c = _Node("a"), _Node("b"), _Node("c")
    runtime._raise_on_cycle({a: {b}, b: {c}, c: set()})  # a DAG: fine
    with pytest.raises(RuntimeError, match="We have detected a circular dependency involving a resource of type "
                                           "test:index:Thing named"):
        runtime._raise_on_cycle({a: {b}, b: {c}, c: {a}})
