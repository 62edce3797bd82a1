"""A lightweight recording runtime for the offline plan: the same `__main__.py` and `components/` code on the same
Pulumi SDK, but each resource is registered synchronously, in its constructor, instead of through the SDK's
asynchronous RPC pipeline (a task, a thread-pool call, a dozen futures and an Output per property, per resource).

What stays the SDK's own code, so that the plan is what the engine would get: `Resource.__init__` (option
inheritance, providers, protect), `_resolve_depends_on` / `_expand_dependencies`' semantics (components expanded to
their children), `_translate_ignore_changes`, `rpc.resolve_outputs` (what a resource's outputs read back) and
`rpc.serialize_property` for every value that is not plain data (Outputs, resources, input types, assets, enums).
What changes:

- coroutines run eagerly (`_eager_task_factory`, Python 3.12's eager tasks for 3.11; `_EagerAsyncio.gather`): an
  Output whose inputs are known is resolved when it is created, so the program never waits on the event loop;
- inputs are serialised in the constructor; plain data (str, numbers, bools, lists, dicts — nearly all of it) by
  `serialize_inputs`, which follows serialize_property's branches (type-driven key translation included) without
  a coroutine per value, and is read back as the mock monitor reads it (`monitor_inputs`: the protobuf Struct's
  number and key-order rules, no Struct built);
- a resource's output properties are resolved lazily, when the program reads one (most are never read);
- dependsOn is computed after the program has run, as under the SDK (its registrations run after the program's
  synchronous code, so a component's children are all known), and the dependency graph is checked for cycles
  once instead of edge by edge.

Anything this runtime does not model (remote components, package references, transforms, imports, …) goes
through the SDK's own registration (the mock monitor records it the same way); anything that cannot be resolved at
once finishes later on the event loop. `tests/plan/test_fast_plan_fidelity.py` compares the plans of both paths.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import typing
from collections import abc
from typing import Any, Callable, Iterator

import pulumi._types as _types
import pulumi.output as sdk_output
import pulumi.resource as sdk_resource
from google.protobuf import struct_pb2
from pulumi.output import Output, _OutputData
from pulumi.resource import Resource, ResourceOptions
from pulumi.runtime import resource as runtime_resource
from pulumi.runtime import rpc, settings
from pulumi.runtime._depends_on import _resolve_depends_on
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.resource import _create_provider_ref, _translate_ignore_changes

STACK_TYPE = "pulumi:pulumi:Stack"


# ---------------------------------------------------------------------------------------------------------------
# Eager coroutines
# ---------------------------------------------------------------------------------------------------------------


async def _resume(coro: Any, yielded: Any) -> Any:
    """Finish a coroutine that suspended during its eager first steps (what a Task would have done)."""
    while True:
        if yielded is None:  # a bare `yield` (asyncio.sleep(0))
            await asyncio.sleep(0)
        else:
            yielded._asyncio_future_blocking = False  # as a Task does with a yielded future, before awaiting it
            try:
                await yielded
            except asyncio.CancelledError as cancelled:
                try:
                    yielded = coro.throw(cancelled)
                except StopIteration as stop:
                    return stop.value
                continue
            except BaseException:  # noqa: BLE001 the coroutine reads the outcome from the future itself
                pass
        try:
            yielded = coro.send(None)
        except StopIteration as stop:
            return stop.value


def drive(coro: Any, loop: asyncio.AbstractEventLoop, context: contextvars.Context | None = None) -> asyncio.Future:
    """Run `coro` now, as far as it goes without waiting: a done future if it finished, else a Task finishing it."""
    ctx = context if context is not None else contextvars.copy_context()
    try:
        yielded = ctx.run(coro.send, None)
    except StopIteration as stop:
        future = loop.create_future()
        future.set_result(stop.value)
        return future
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # noqa: BLE001 kept in the future, like a Task keeps it
        future = loop.create_future()
        future.set_exception(error)
        return future
    if yielded is not None:
        # What a Task does with a future its coroutine yields; left set, the next coroutine awaiting the same
        # future would fail ("await wasn't used with future").
        yielded._asyncio_future_blocking = False
    return asyncio.Task(_resume(coro, yielded), loop=loop, context=ctx)


class _EagerAsyncio:
    """`asyncio` for `pulumi.output`, whose `gather` of futures that are all done (no error) is done at once.
    (asyncio.gather of done futures still waits for the event loop to run their callbacks, so every
    `Output.all` would otherwise suspend.)"""

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    @staticmethod
    def gather(*awaitables: Any, return_exceptions: bool = False):
        if awaitables and all(isinstance(a, asyncio.Future) and a.done() and not a.cancelled()
                              and a.exception() is None for a in awaitables):
            future = awaitables[0].get_loop().create_future()
            future.set_result([a.result() for a in awaitables])
            return future
        return asyncio.gather(*awaitables, return_exceptions=return_exceptions)


def _eager_task_factory(loop: asyncio.AbstractEventLoop, coro: Any, context: contextvars.Context | None = None):
    if not loop.is_running():  # outside the program (set-up, the final waits): ordinary tasks
        return asyncio.Task(coro, loop=loop, context=context) if context is not None else asyncio.Task(coro, loop=loop)
    return drive(coro, loop, context)


# ---------------------------------------------------------------------------------------------------------------
# Outputs
# ---------------------------------------------------------------------------------------------------------------


def _output_of(future: asyncio.Future) -> Output:
    output = object.__new__(Output)
    output._data = future
    return output


class LazyPropertyOutput(Output):
    """A resource's output property, resolved (with the SDK's `resolve_outputs`) when first read."""

    def __init__(self, registration: "_Registration", key: str):  # noqa: D107 no Output.__init__: no task
        # (Names that no Output attribute uses: Output has `_future`, `_resources`, ….)
        self._lazy_registration = registration
        self._lazy_key = key
        self._lazy_data: asyncio.Future | None = None

    @property
    def _data(self):
        if self._lazy_data is None:
            self._lazy_data = self._lazy_registration.output_future(self._lazy_key)
        return self._lazy_data

    @_data.setter
    def _data(self, value):
        self._lazy_data = value


def _no_alias_urn(*_args: Any, **_kwargs: Any) -> None:
    return None


def _memoized(function: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`function(type)` computed once per type: the SDK re-derives the same facts from the same type annotations
    (Input[T] → T, a list's element type, an input type's names) for every value it serialises."""
    cache: dict[Any, Any] = {}

    def memoized(typ: Any) -> Any:
        try:
            return cache[typ]
        except KeyError:
            result = cache[typ] = function(typ)
            return result
        except TypeError:  # an unhashable annotation
            return function(typ)

    return memoized


# ---------------------------------------------------------------------------------------------------------------
# Inputs: the SDK's serialize_properties for plain data, and the monitor's view of the result
# ---------------------------------------------------------------------------------------------------------------


class _NotPlain(Exception):
    """A value the shortcut does not cover (it goes through the SDK's own code instead)."""


def _serialize_value(value: Any, deps: list, key: str, res: Any, transformer: Any, typ: Any, loop: Any) -> Any:
    """`rpc.serialize_property` (same branches, same order of checks) for plain data — str, numbers, bools, None,
    lists, dicts — with every other kind of value (Outputs, resources, input types, assets, enums, …) handed to
    the SDK's function itself."""

    kind = type(value)
    if kind is str or kind is bool or kind is int or kind is float or value is None:
        return value
    typ = _types.unwrap_type(typ) if typ else typ
    if typ is Any:
        typ = None
    if kind is list or kind is tuple:
        element_type = rpc._get_list_element_type(typ)
        return [_serialize_value(item, deps, key, res, transformer, element_type, loop) for item in value]
    if kind is dict:
        get_type: Callable[[str], Any] = _no_type
        translate = transformer
        if typ is not None:
            case = _types.reduce_discriminated_union(typ, value, _types._py_name_for)
            if case is not None:
                typ = case
            if _types.is_input_type(typ):
                names = _types.input_type_py_to_pulumi_names(typ)
                translate = _translator(names)
                get_type = _types.input_type_types(typ).get
            else:
                translate = None
                origin = _typing_origin(typ)
                if typ is dict or origin in _DICT_ORIGINS:
                    args = _typing_args(typ)
                    if len(args) == 2 and args[0] is str:
                        get_type = _constant_type(args[1])
        result = {}
        for item_key in value:
            translated = translate(item_key) if translate is not None else item_key
            result[translated] = _serialize_value(value[item_key], deps, item_key, res, transformer,
                                                  get_type(translated), loop)
        return result
    future = drive(rpc.serialize_property(value, deps, key, res, transformer, typ), loop)
    if not future.done():
        future.cancel()
        raise _NotPlain()
    return future.result()


def _no_type(_key: str) -> None:
    return None


def _constant_type(typ: Any) -> Callable[[str], Any]:
    return lambda _key: typ


def _translator(names: dict[str, str]) -> Callable[[str], str]:
    return lambda key: names.get(key) or key


_typing_origin, _typing_args = typing.get_origin, typing.get_args
_DICT_ORIGINS = [dict, typing.Dict, abc.Mapping, typing.Mapping]  # noqa: UP006 the SDK's own list


def serialize_inputs(reg: "_Registration") -> dict[str, Any]:
    """`rpc.serialize_properties(props, deps, res, translate, typ)` as prepare_resource calls it, as a dict (the
    Struct is built only if an output property is read)."""
    typ, res = reg.typ, reg.res
    transformer = res.translate_input_property if typ is None else None
    translate, get_type = transformer, _no_type
    if typ is not None:
        names = _types.input_type_py_to_pulumi_names(typ)
        types = _types.input_type_types(typ)
        translate = _translator(names)
        get_type = lambda key: types.get(translate(key))  # noqa: E731
    result: dict[str, Any] = {}
    for key in reg.props:
        value = reg.props[key]
        deps: list = []
        try:
            serialized = _serialize_value(value, deps, key, res, transformer, get_type(key), reg.loop)
        except ValueError as error:  # the SDK's wording (serialize_properties)
            raise ValueError(f"While processing input: {key!r}, type {type(key)}, value {value!r}\n"
                             f"ValueError has risen: {error}") from error
        except AssertionError as error:
            raise AssertionError(f"While processing input: {key!r}, type {type(key)}, value {value!r}\n"
                                 f"AssertionError has risen: {error}") from error
        if serialized is not None:
            name = translate(key) if translate is not None else key
            result[name] = serialized
            reg.property_deps[name] = deps
    return result


_SIGNATURE_KEY = "4dabf18193072939515e22adb298388d"  # Pulumi's special values: secrets, assets, resources, …
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
_COPIED_ORDERS: dict[tuple[str, ...], tuple[str, ...]] = {}


def _copied_order(keys: tuple[str, ...]) -> tuple[str, ...]:
    """The order in which the mock monitor reads a mapping with these keys: serialised into a protobuf Struct,
    copied into the RegisterResourceRequest, iterated (a protobuf map has its own order, and a copy another)."""
    order = _COPIED_ORDERS.get(keys)
    if order is None:

        struct = struct_pb2.Struct()
        for key in keys:
            struct.fields[key]  # noqa: B018 (a null value: only the keys matter)
        order = tuple(resource_pb2.RegisterResourceRequest(object=struct).object.keys())
        if len(_COPIED_ORDERS) > 100_000:
            _COPIED_ORDERS.clear()
        _COPIED_ORDERS[keys] = order
    return order


def monitor_inputs(value: Any) -> Any:
    """What the mock monitor records from serialised inputs — Struct → copy → `deserialize_properties` →
    `runner._plain` — for plain data: numbers through a double (integral ones back to int), None entries of a
    mapping dropped, the copied Struct's key order. Raises _NotPlain for anything else."""
    kind = type(value)
    if kind is str:
        if value == _UNKNOWN:
            raise _NotPlain()
        return value
    if kind is bool or value is None:
        return value
    if kind is int or kind is float:
        number = float(value)
        return int(number) if number.is_integer() else number
    if kind is dict:
        if _SIGNATURE_KEY in value or not all(type(key) is str for key in value):
            raise _NotPlain()
        return {key: monitor_inputs(value[key]) for key in _copied_order(tuple(value)) if value[key] is not None}
    if kind is list:
        return [monitor_inputs(item) for item in value]
    raise _NotPlain()


# ---------------------------------------------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------------------------------------------


class _Registration:
    """One resource: its inputs are serialised at once; outputs and dependencies are resolved later."""

    __slots__ = ("res", "type", "name", "custom", "props", "opts", "typ", "loop", "urn", "parent_urn", "struct",
                 "serialized", "state", "resource_id", "property_deps", "done", "_outputs", "_waiting")

    def __init__(self, res, type_, name, custom, props, opts, typ, loop):
        self.res, self.type, self.name, self.custom = res, type_, name, custom
        self.props, self.opts, self.typ, self.loop = props, opts, typ, loop
        self.urn = self.parent_urn = self.resource_id = None
        self.struct = self.serialized = self.state = None
        self.property_deps: dict[str, list] = {}
        self.done: asyncio.Future | None = None
        self._outputs: dict[str, Any] | None = None
        self._waiting: dict[str, asyncio.Future] = {}

    def output_future(self, key: str) -> asyncio.Future:
        if self.done is not None and self.done.done():
            return self._resolved(key)
        if key not in self._waiting:
            self._waiting[key] = self.loop.create_future()
        return self._waiting[key]

    def _resolved(self, key: str) -> asyncio.Future:
        if self._outputs is None:
            self._outputs = self._resolve_outputs()
        future = self._outputs.get(key)
        if future is None:  # the registration failed: every output fails with its error, as under the SDK
            future = self._outputs[key] = self.loop.create_future()
            future.set_exception(self.done.exception())
        return future

    def _resolve_outputs(self) -> dict[str, asyncio.Future]:
        """The SDK's resolve_outputs over the inputs and the mock's computed state, into resolved futures."""

        futures: dict[str, asyncio.Future] = {}
        if self.done.exception() is not None:
            return futures

        def resolver(key):
            def resolve(value, is_known, is_secret, deps, failed):
                future = self.loop.create_future()
                if failed is not None:
                    future.set_exception(failed)
                else:
                    resources = set(deps) if deps else set()
                    resources.add(self.res)
                    future.set_result(_OutputData(resources=resources, value=value, is_known=is_known,
                                                  is_secret=is_secret))
                futures[key] = future
            return resolve

        resolvers = {key: resolver(key) for key in self.props
                     if not (key == "urn" or (key == "id" and self.custom))}
        state = struct_pb2.Struct()
        state.update(self.state or {})
        if self.struct is None:  # serialize_properties' Struct, built from the serialised inputs
            self.struct = struct_pb2.Struct()
            for key, value in self.serialized.items():
                self.struct[key] = value
        rpc.resolve_outputs(self.res, self.struct, state, {}, resolvers, self.custom, self.typ is not None, True)
        return futures

    def finish(self) -> None:
        """Resolve the outputs read before the registration completed."""
        for key, future in self._waiting.items():
            source = self._resolved(key)
            if source.exception() is not None:
                future.set_exception(source.exception())
            else:
                future.set_result(source.result())
        self._waiting.clear()


class RecordingRuntime:
    """Install with `installed()`; `register` records through `record(...)` (see `flinkplat.plan.runner`)."""

    # Options this runtime does not model: such a resource goes through the SDK's own registration.
    # (Aliases and hooks are not: the engine uses aliases to match old state and runs hooks during a deployment;
    # the plan records neither.)
    _ENGINE_OPTIONS = ("transforms", "import_", "replacement_trigger", "deleted_with", "replace_with",
                       "state_migrations", "id", "urn")

    def __init__(self, make_urn: Callable[[str, str, str], str], new_resource: Callable[..., tuple[str, dict]],
                 record: Callable[..., None]):
        self.make_urn = make_urn
        self.new_resource = new_resource  # (type, name, inputs, provider_ref, custom) -> (id, computed state)
        self.record = record  # (urn, type, name, parent_urn, custom, raw_inputs, options, provider_ref)
        self.registrations: list[_Registration] = []
        self.pending: list[asyncio.Future] = []
        self._sdk_register: Callable | None = None

    # -- patches ---------------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def installed(self, loop: asyncio.AbstractEventLoop) -> Iterator[None]:


        self._sdk_register = runtime_resource.register_resource
        patches = {
            (runtime_resource, "register_resource"): self.register,
            (sdk_resource, "register_resource"): self.register,
            (runtime_resource, "register_resource_outputs"): self.register_outputs,
            (sdk_resource, "register_resource_outputs"): self.register_outputs,
            (sdk_output, "asyncio"): _EagerAsyncio(),
            # A resource's alias URNs (an Output chain per alias, and pulumi-kubernetes gives most types one) are
            # only read to build alias URNs for an engine without alias specs; the mock monitor has them and the
            # plan records no aliases.
            (sdk_resource, "collapse_alias_to_urn"): _no_alias_urn,
            (_types, "unwrap_type"): _memoized(_types.unwrap_type),
            (_types, "input_type_py_to_pulumi_names"): _memoized(_types.input_type_py_to_pulumi_names),
            (_types, "input_type_types"): _memoized(_types.input_type_types),
            (rpc, "_get_list_element_type"): _memoized(rpc._get_list_element_type),
            (_types, "_wire_union_members"): _memoized(_types._wire_union_members),
        }
        saved = {target: getattr(*target) for target in patches}
        saved_factory = loop.get_task_factory()
        for (module, name), value in patches.items():
            setattr(module, name, value)
        loop.set_task_factory(_eager_task_factory)
        try:
            yield
        finally:
            for (module, name), value in saved.items():
                setattr(module, name, value)
            loop.set_task_factory(saved_factory)

    def _needs_engine(self, remote: bool, package_ref: Any, opts: Any) -> bool:
        if remote or package_ref is not None:
            return True
        return opts is not None and any(getattr(opts, option, None) for option in self._ENGINE_OPTIONS)

    # -- register --------------------------------------------------------------------------------------------------

    def register(self, res, ty, name, custom, remote, new_dependency, props, opts, typ=None, package_ref=None):
        """Stands in for `pulumi.runtime.resource.register_resource` (same signature)."""

        if self._needs_engine(remote, package_ref, opts):
            return self._sdk_register(res, ty, name, custom, remote, new_dependency, props, opts, typ, package_ref)
        loop = asyncio.get_event_loop()
        registration = _Registration(res, ty, name, custom, props, opts if opts is not None else ResourceOptions(),
                                     typ, loop)
        urn_future = loop.create_future()
        res.__dict__["urn"] = _output_of(urn_future)
        id_future = None
        if custom:
            id_future = loop.create_future()
            res.__dict__["id"] = _output_of(id_future)
        for key in props:
            if key == "urn" or (key == "id" and custom):
                continue
            res.__dict__[key] = LazyPropertyOutput(registration, key)

        async def run() -> None:
            try:
                await self._register(registration, urn_future, id_future)
            except BaseException as error:
                for future in (urn_future, id_future):
                    if future is not None and not future.done():
                        future.set_exception(error)
                raise

        registration.done = drive(run(), loop)
        if not registration.done.done():
            registration.done.add_done_callback(lambda _: registration.finish())
        if not registration.done.done() or registration.done.exception() is not None:
            self.pending.append(registration.done)  # `settle` waits for it and raises its error
        self.registrations.append(registration)

    async def _register(self, reg: _Registration, urn_future: asyncio.Future, id_future: asyncio.Future | None):

        opts = reg.opts
        parent_urn = ""
        if opts.parent is not None:
            parent_urn = await opts.parent.urn.future()
        elif reg.type != STACK_TYPE:
            root = settings.get_root_resource()
            if root is not None:
                parent_urn = await root.urn.future()
        reg.parent_urn = parent_urn or ""
        reg.urn = self.make_urn(reg.parent_urn, reg.type, reg.name)
        urn_future.set_result(_OutputData(resources={reg.res}, value=reg.urn, is_known=True, is_secret=False))
        try:
            try:  # plain data (nearly everything): serialised and read back here, in one pass each
                reg.serialized = serialize_inputs(reg)
                raw_inputs, inputs_are_plain = monitor_inputs(reg.serialized), True
            except _NotPlain:  # the SDK's serialize_properties, and what the mock monitor reads from its request
                reg.property_deps.clear()
                reg.serialized = None
                reg.struct = await rpc.serialize_properties(
                    reg.props, reg.property_deps, reg.res,
                    reg.res.translate_input_property if reg.typ is None else None, reg.typ,
                    keep_output_values=False, exclude_resource_refs_from_deps=False)
                # The request holds a copy of the Struct (a copied protobuf map iterates in another order).
                request_object = resource_pb2.RegisterResourceRequest(object=reg.struct).object
                raw_inputs, inputs_are_plain = rpc.deserialize_properties(request_object, keep_unknowns=True) or {}, False
        except ValueError as error:  # the SDK's wording (prepare_resource)
            raise ValueError(f"While processing resource: {reg.name!r}, type: {reg.type!r}\n"
                             f"ValueError has risen: {error}") from error
        except AssertionError as error:
            raise AssertionError(f"While processing resource: {reg.name!r}, type {reg.type!r}\n"
                                 f"AssertionError has risen: {error}") from error
        provider_ref = None
        if reg.custom and opts.provider is not None:
            provider_ref = await _create_provider_ref(opts.provider)
        if reg.type == STACK_TYPE:
            reg.resource_id, reg.state = None, {}
        else:
            reg.resource_id, reg.state = self.new_resource(reg.type, reg.name, raw_inputs, provider_ref, reg.custom)
            self.record(urn=reg.urn, type_=reg.type, name=reg.name, parent_urn=reg.parent_urn, custom=reg.custom,
                        raw_inputs=raw_inputs, inputs_are_plain=inputs_are_plain, provider_ref=provider_ref, options={
                            "protect": bool(opts.protect),
                            "retainOnDelete": bool(opts.retain_on_delete),
                            "deleteBeforeReplace": bool(opts.delete_before_replace or False),
                            "ignoreChanges": list(_translate_ignore_changes(reg.res, reg.typ, opts.ignore_changes)
                                                  or []),
                            "dependsOn": [],  # filled in by `dependencies()` once the program has run
                        })
        if id_future is not None:
            id_future.set_result(_OutputData(resources={reg.res}, value=reg.resource_id,
                                             is_known=bool(reg.resource_id), is_secret=False))

    def register_outputs(self, res, outputs) -> None:
        """Stands in for `register_resource_outputs`: the mock monitor ignores them; still serialise them, so a
        value that cannot be serialised fails here as it fails under the SDK."""

        future = drive(rpc.serialize_properties(outputs or {}, {}), asyncio.get_event_loop())
        if not future.done() or future.exception() is not None:
            self.pending.append(future)

    # -- after the program -----------------------------------------------------------------------------------------

    async def settle(self) -> None:
        """Wait for registrations that could not finish at once (and surface the first error)."""
        while self.pending:
            pending, self.pending = self.pending, []
            for future in pending:
                await future

    async def dependencies(self) -> dict[str, list[str]]:
        """{urn: sorted dependsOn} of every registered resource: explicit dependsOn plus the resources its inputs
        came from, components expanded to their children (the SDK's prepare_resource).

        The SDK also checks, edge by edge, that no dependency closes a cycle (a reachability walk per edge, which
        grows faster than the fleet); here the whole graph is checked once at the end, with the SDK's message.
        (With PULUMI_ERROR_ON_DEPENDENCY_CYCLES=false the SDK drops cycle-closing edges instead: then its own
        per-edge code runs.)"""
        import os

        per_edge = os.getenv(rpc.ERROR_ON_DEPENDENCY_CYCLES_VAR, "true").lower() != "true"
        edges: dict[Any, set[Any]] = {}
        result: dict[str, list[str]] = {}
        for reg in self.registrations:
            if reg.type == STACK_TYPE or reg.urn is None:
                continue
            urns: set[str] = set()
            depends_on = reg.opts.depends_on
            if isinstance(depends_on, Resource):
                depends_on = [depends_on]
            groups = list(reg.property_deps.values())
            if isinstance(depends_on, (list, tuple)) and all(isinstance(d, Resource) for d in depends_on):
                groups.append(depends_on)  # plain resources: what _resolve_depends_on finds, without Outputs
            elif depends_on is not None:
                groups.append(await _resolve_depends_on(reg.opts._depends_on_list()))
            for group in groups:
                expanded = None if per_edge else _expand_now(group, edges.setdefault(reg.res, set()))
                if expanded is None:
                    expanded = set((await rpc._expand_dependencies(group, from_resource=reg.res)).keys())
                urns |= expanded
            result[reg.urn] = sorted(urns)
        _raise_on_cycle(edges)
        return result


def _expand_now(deps: Any, visited_out: set) -> set[str] | None:
    """`rpc._expand_dependencies(deps)` without awaiting (every URN is known here), recording each resource
    reached into `visited_out` (the edges of the dependency graph); None if some URN is not known yet."""
    from pulumi import ComponentResource

    urns: set[str] = set()
    queue = list(deps)
    while queue:
        res = queue.pop(0)
        if not isinstance(res, Resource):
            raise TypeError(f"'depends_on' was passed a value {res} that was not a Resource.")
        visited_out.add(res)
        if isinstance(res, ComponentResource) and not res._remote:
            queue.extend(res._childResources.copy())
            continue
        data = res.urn._data
        if not data.done() or data.exception() is not None:
            return None
        urn = data.result().value
        if urn:
            urns.add(urn)
    return urns


def _raise_on_cycle(edges: dict[Any, set[Any]]) -> None:
    """The SDK's error if the dependency graph has a cycle (iterative depth-first search)."""
    state: dict[Any, int] = {}  # 1: on the current path, 2: done
    for start in edges:
        if start in state:
            continue
        stack = [(start, iter(edges.get(start, ())))]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                raise RuntimeError(
                    "We have detected a circular dependency involving a resource of type"
                    + f" {child._type} named {child._name}.\n"
                    + "Please review any `depends_on`, `parent` or other dependency relationships between your "
                    + "resources to ensure no cycles have been introduced in your program.")
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(edges.get(child, ()))))
