"""A lightweight recording runtime for the offline plan: the same `__main__.py` and `components/` code on the same
Pulumi SDK, but each resource is registered synchronously, in the constructor, instead of through the SDK's
asynchronous RPC pipeline (a task, a thread-pool call, a dozen futures and an output per property, per resource).

What stays the SDK's own code, so the plan is the engine's: `Resource.__init__` (option inheritance, providers,
protect), `rpc.serialize_properties` (name translation, input types, secrets, resource references, property
dependencies), `_resolve_depends_on_urns` / `_expand_dependencies` (what dependsOn means, components expanded to
their children), `_translate_ignore_changes` and `rpc.resolve_outputs` (what a resource's outputs read back).
What changes is only *when* things run:

- coroutines run eagerly (`_eager_task_factory`, Python 3.12's eager tasks for 3.11): an Output whose inputs are
  known is resolved when it is created, so a program that only reads known values never waits on the event loop;
- a resource's inputs are serialised and recorded in its constructor; its output properties are resolved lazily,
  when the program reads one (most are never read);
- dependsOn is computed after the program has run, as the SDK does (its registrations run after the program's
  synchronous code), so a component's children are all known when a dependency on the component is expanded.

Anything this runtime does not model (remote components, package references, aliases, transforms, hooks, imports)
goes through the SDK's own registration (the mock monitor records it the same way), and anything that cannot be
resolved at once (an Output that waits on such a resource) simply finishes later on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from typing import Any, Callable, Iterator

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


def _known_output(loop: asyncio.AbstractEventLoop, data: Any):
    """An Output that is already resolved (no task, nothing for the runtime to track)."""
    from pulumi.output import Output

    future = loop.create_future()
    future.set_result(data)
    output = object.__new__(Output)
    output._data = future
    return output


def _output_of(future: asyncio.Future):
    from pulumi.output import Output

    output = object.__new__(Output)
    output._data = future
    return output


def _lazy_output_class():
    from pulumi.output import Output

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

    return LazyPropertyOutput


def _no_alias_urn(*_args: Any, **_kwargs: Any) -> None:
    return None


# ---------------------------------------------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------------------------------------------


class _Registration:
    """One resource: its inputs are serialised at once; outputs and dependencies are resolved later."""

    __slots__ = ("res", "type", "name", "custom", "props", "opts", "typ", "loop", "urn", "parent_urn", "struct",
                 "state", "resource_id", "property_deps", "done", "resolvers", "_outputs", "_waiting")

    def __init__(self, res, type_, name, custom, props, opts, typ, loop):
        self.res, self.type, self.name, self.custom = res, type_, name, custom
        self.props, self.opts, self.typ, self.loop = props, opts, typ, loop
        self.urn = self.parent_urn = self.resource_id = None
        self.struct = self.state = None
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
        from google.protobuf import struct_pb2
        from pulumi.output import _OutputData
        from pulumi.runtime import rpc

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
        self._lazy_output = _lazy_output_class()

    # -- patches ---------------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def installed(self, loop: asyncio.AbstractEventLoop) -> Iterator[None]:
        import pulumi.resource as sdk_resource
        from pulumi.runtime import resource as runtime_resource

        import pulumi.output as sdk_output

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
        from pulumi.output import _OutputData
        from pulumi.resource import ResourceOptions

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
            res.__dict__[key] = self._lazy_output(registration, key)

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
        from pulumi.output import _OutputData
        from pulumi.runtime import rpc, settings
        from pulumi.runtime.proto import resource_pb2
        from pulumi.runtime.resource import _create_provider_ref, _translate_ignore_changes

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
            reg.struct = await rpc.serialize_properties(
                reg.props, reg.property_deps, reg.res, reg.res.translate_input_property if reg.typ is None else None,
                reg.typ, keep_output_values=False, exclude_resource_refs_from_deps=False)
        except ValueError as error:  # the SDK's wording (prepare_resource)
            raise ValueError(f"While processing resource: {reg.name!r}, type: {reg.type!r}\n"
                             f"ValueError has risen: {error}") from error
        except AssertionError as error:
            raise AssertionError(f"While processing resource: {reg.name!r}, type {reg.type!r}\n"
                                 f"AssertionError has risen: {error}") from error
        provider_ref = None
        if reg.custom and opts.provider is not None:
            provider_ref = await _create_provider_ref(opts.provider)
        # The inputs as the monitor receives them: the request holds a copy of the Struct, and a copied protobuf
        # map iterates in another order than its source (the plan keeps that order, so must this).
        request_object = resource_pb2.RegisterResourceRequest(object=reg.struct).object
        raw_inputs = rpc.deserialize_properties(request_object, keep_unknowns=True) or {}
        if reg.type == STACK_TYPE:
            reg.resource_id, reg.state = None, {}
        else:
            reg.resource_id, reg.state = self.new_resource(reg.type, reg.name, raw_inputs, provider_ref, reg.custom)
            self.record(urn=reg.urn, type_=reg.type, name=reg.name, parent_urn=reg.parent_urn, custom=reg.custom,
                        raw_inputs=raw_inputs, provider_ref=provider_ref, options={
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
        from pulumi.runtime import rpc

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
        came from, components expanded to their children (the SDK's prepare_resource)."""
        from pulumi.runtime._depends_on import _resolve_depends_on_urns
        from pulumi.runtime.rpc import _expand_dependencies

        result: dict[str, list[str]] = {}
        for reg in self.registrations:
            if reg.type == STACK_TYPE or reg.urn is None:
                continue
            urns: set[str] = set()
            if reg.opts.depends_on is not None:
                urns |= await _resolve_depends_on_urns(reg.opts._depends_on_list(), from_resource=reg.res)
            for deps in reg.property_deps.values():
                urns |= set((await _expand_dependencies(deps, from_resource=reg.res)).keys())
            result[reg.urn] = sorted(urns)
        return result
