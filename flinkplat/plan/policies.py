"""The rules of `flinkplat.rules` as a Pulumi policy pack, and `evaluate(plan)`, which runs that pack through
pulumi-policy's own analyzer (`_PolicyAnalyzerServicer`) in-process, exactly as `pulumi preview --policy-pack
policies` would: the pack config is reconciled like the CLI does (schema defaults, then `all`, then per-policy
settings, then JSON-schema validation), then every resource goes through `Analyze` and the stack through
`AnalyzeStack`.

This is the Pulumi-facing shell of the rules (it imports pulumi-policy); the rules themselves stay pure.
"""

from __future__ import annotations

import contextlib
import contextvars
import gc
import json
import os
import pickle
import signal
import traceback
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from flinkplat.rules import RULES, Finding, Res, Rule, Stack, UnknownAtPreview
from flinkplat.rules import waivers as waiver_rules
from flinkplat.rules.base import LEVELS
from flinkplat.rules.flink import shared_props_conf_cache

PACK_NAME = "flink-platform"
PACK_VERSION = "0.1.0"

# Waived findings go here while `evaluate` runs (under the Pulumi CLI nobody listens: they are simply not reported).
_WAIVED: contextvars.ContextVar[Callable[[dict], None] | None] = contextvars.ContextVar("waived", default=None)


class PackConfigError(ValueError):
    """An invalid policy pack config (unknown policy, bad level, a threshold failing its schema)."""


# ---------------------------------------------------------------------------------------------------------------
# Rules → pulumi-policy policies
# ---------------------------------------------------------------------------------------------------------------


def _res_from_args(args: Any) -> Res:
    provider = args.provider.urn if getattr(args, "provider", None) is not None else ""
    return Res(type=args.resource_type, props=args.props, urn=args.urn, name=args.name, provider=provider,
               ignore_changes=tuple(args.opts.ignore_changes or ()))


def _res_from_policy_resource(resource: Any) -> Res:
    provider = resource.provider.urn if resource.provider is not None else ""
    return Res(type=resource.resource_type, props=resource.props, urn=resource.urn, name=resource.name,
               provider=provider, ignore_changes=tuple(resource.opts.ignore_changes or ()),
               dependencies=tuple(d.urn for d in resource.dependencies))


def _reraise_unknown(error: UnknownAtPreview):
    from pulumi_policy.proxy import UnknownValueError

    sentinel = error.sentinel
    raise UnknownValueError(sentinel, error.path) from None


def _report(rule: Rule, findings: list[Finding], report: Callable[..., None], default: Res | None) -> None:
    sink = _WAIVED.get()
    for finding in findings:
        subject = finding.resource or default
        owners = finding.waivable_by or ((subject,) if subject is not None and rule.scope == "resource" else ())
        waived = waiver_rules.active_waiver(rule.name, owners) if rule.waivable and rule.name != "flink-waivers" else None
        if waived:
            if sink is not None:
                reasons = list(dict.fromkeys(w.reason for w in waived))
                expiries = sorted(w.expires.isoformat() for w in waived if w.expires)
                sink({"policy": rule.name, "resource": subject.name if subject else "stack",
                      "reason": "; ".join(reasons), "expires": expiries[0] if expiries else None,
                      "message": finding.message})
            continue
        report(finding.message, subject.urn if subject is not None and subject.urn else None)


def skipped_by_target(props: Any) -> bool:
    """A `--target` run (a rollout wave) still sends every resource it skips to the analyzers, with the inputs the
    state has for it: none for a resource not created yet. Such an empty resource is not part of the operation and
    would fail every rule (the real engine showed it: a wave's preview failed on later waves' FlinkDeployments).
    A resource the program declares always has properties (a Kubernetes object at least apiVersion and kind)."""
    return not props


def _resource_validate(rule: Rule) -> Callable:
    def validate(args, report_violation):
        if args.resource_type not in rule.kinds or skipped_by_target(args.props):
            return
        res = _res_from_args(args)
        try:
            findings = list(rule.check(res, rule.config(args.get_config())))
        except UnknownAtPreview as error:
            _reraise_unknown(error)
        _report(rule, findings, lambda msg, urn=None: report_violation(msg), res)

    return validate


# The stack rules of one AnalyzeStack get the same list of resources: its Res views are built once, for the first
# rule, not once per rule (12,622 resources × 7 rules on a 1,000-job fleet). Rules never modify a Res. Holding the
# list itself (not its id) means a later list can never be mistaken for it.
_stack_views: tuple[Any, list[Res]] | None = None


def _stack_resources(resources: Any) -> list[Res]:
    global _stack_views
    if _stack_views is None or _stack_views[0] is not resources:
        _stack_views = (resources, [_res_from_policy_resource(r) for r in resources if not skipped_by_target(r.props)])
    return list(_stack_views[1])


def _stack_validate(rule: Rule) -> Callable:
    def validate(args, report_violation):
        stack = Stack(_stack_resources(args.resources))
        try:
            findings = list(rule.check(stack, rule.config(args.get_config())))
        except UnknownAtPreview as error:
            _reraise_unknown(error)
        _report(rule, findings, report_violation, None)

    return validate


def pulumi_policies(rules: list[Rule] | None = None) -> list:
    """Every rule as a pulumi-policy `ResourceValidationPolicy` / `StackValidationPolicy`."""
    from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ResourceValidationPolicy, StackValidationPolicy

    out = []
    for rule in rules or list(RULES):
        common = dict(
            name=rule.name,
            description=rule.description,
            enforcement_level=EnforcementLevel(rule.level),
            config_schema=PolicyConfigSchema(properties=rule.schema_properties()) if rule.knobs else None,
            remediation_steps=rule.fix,
        )
        if rule.scope == "stack":
            out.append(StackValidationPolicy(validate=_stack_validate(rule), **common))
        else:
            out.append(ResourceValidationPolicy(validate=_resource_validate(rule), **common))
    return out


def analyzer(policies: list | None = None):
    """A pulumi-policy analyzer servicer for the pack (what `PolicyPack(...)` serves over gRPC)."""
    from pulumi_policy.policy import EnforcementLevel, _PolicyAnalyzerServicer

    return _PolicyAnalyzerServicer(PACK_NAME, PACK_VERSION, policies or pulumi_policies(), EnforcementLevel.ADVISORY)


# ---------------------------------------------------------------------------------------------------------------
# Pack config, reconciled like the Pulumi CLI does
# ---------------------------------------------------------------------------------------------------------------


def _normalise_entry(policy: str, value: Any) -> tuple[str | None, dict[str, Any]]:
    if isinstance(value, str):
        if value not in LEVELS:
            raise PackConfigError(f"policy pack config: {policy}: \"{value}\" is not a valid enforcement level "
                                  f"(use one of {', '.join(LEVELS)})")
        return value, {}
    if isinstance(value, Mapping):
        props = dict(value)
        level = props.pop("enforcementLevel", None)
        if level is not None and level not in LEVELS:
            raise PackConfigError(f"policy pack config: {policy}.enforcementLevel: \"{level}\" is not a valid "
                                  f"enforcement level (use one of {', '.join(LEVELS)})")
        return level, props
    raise PackConfigError(f"policy pack config: {policy}: {json.dumps(value)} is not a valid value; use a level "
                          "string or an object {\"enforcementLevel\": …, <thresholds>}")


def reconcile_config(servicer: Any, config: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """{policy: {"level": str, "properties": dict}} for every policy of the servicer's pack.

    Like the CLI: start from each policy's default level and its config schema's defaults (as the analyzer
    reports them in GetAnalyzerInfo), apply `all` (levels only), then each policy's entry, then validate every
    policy's properties against its schema. Unlike the CLI, an unknown policy name is an error (a typo would
    otherwise silently do nothing)."""
    from google.protobuf import json_format
    from pulumi.runtime import proto
    import jsonschema

    info = servicer.GetAnalyzerInfo(None, None)
    level_names = {proto.ADVISORY: "advisory", proto.MANDATORY: "mandatory", proto.REMEDIATE: "remediate",
                   proto.DISABLED: "disabled"}
    result: dict[str, dict[str, Any]] = {}
    schemas: dict[str, dict[str, Any]] = {}
    for policy in info.policies:
        schema = json_format.MessageToDict(policy.configSchema) if policy.HasField("configSchema") else {}
        properties = schema.get("properties", {})
        schemas[policy.name] = {"type": "object", **({"properties": properties} if properties else {}),
                                **({"required": schema["required"]} if schema.get("required") else {})}
        defaults = {key: spec["default"] for key, spec in properties.items() if "default" in spec}
        result[policy.name] = {"level": level_names[policy.enforcementLevel], "properties": defaults}
    given = dict(config or {})
    if "all" in given:
        level, props = _normalise_entry("all", given.pop("all"))
        if props:
            raise PackConfigError("policy pack config: all: only an enforcement level can be set for all policies")
        if level is not None:
            for entry in result.values():
                entry["level"] = level
    from flinkplat.config.errors import did_you_mean

    for policy, value in given.items():
        if policy not in result:
            raise PackConfigError(f"policy pack config: unknown policy '{policy}'; "
                                  f"{did_you_mean(policy, list(result))}policies are: {', '.join(result)}")
        level, props = _normalise_entry(policy, value)
        if level is not None:
            result[policy]["level"] = level
        result[policy]["properties"].update(props)
    problems = []
    for policy, entry in result.items():
        validator = jsonschema.Draft7Validator(schemas[policy])
        for error in sorted(validator.iter_errors(entry["properties"]), key=lambda e: list(e.path)):
            where = ".".join(str(p) for p in error.path)
            problems.append(f"{policy}{'.' + where if where else ''}: {error.message}")
    if problems:
        raise PackConfigError("policy pack config is invalid:\n  - " + "\n  - ".join(problems))
    return result


def configure(servicer: Any, reconciled: Mapping[str, Mapping[str, Any]]) -> None:
    """Send the reconciled config to the analyzer (the CLI's Configure call)."""
    from google.protobuf import struct_pb2
    from pulumi.runtime import proto

    levels = {"advisory": proto.ADVISORY, "mandatory": proto.MANDATORY, "remediate": proto.REMEDIATE,
              "disabled": proto.DISABLED}
    request = proto.ConfigureAnalyzerRequest()
    for policy, entry in reconciled.items():
        properties = struct_pb2.Struct()
        properties.update(entry["properties"])
        request.policyConfig[policy].CopyFrom(
            proto.PolicyConfig(enforcementLevel=levels[entry["level"]], properties=properties))
    servicer.Configure(request, None)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number; thresholds are finite numbers")


def load_pack_config(path: Path) -> dict[str, Any]:
    from flinkplat.config.yamlfile import value_problems

    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig") or "{}", parse_constant=_refuse_constant)
    except OSError as error:
        raise PackConfigError(f"policy pack config {path}: cannot read it ({error.strerror or error})") from None
    except UnicodeDecodeError as error:
        raise PackConfigError(f"policy pack config {path}: byte {error.start} is not UTF-8; save the file as "
                              "UTF-8") from None
    except (ValueError, RecursionError) as error:  # JSONDecodeError is a ValueError; so are NaN and huge numbers
        raise PackConfigError(f"policy pack config {path}: not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise PackConfigError(f"policy pack config {path}: must be a JSON object keyed by policy name")
    problems = [f"{'.'.join(str(p) for p in where)}: {message}" for where, message in value_problems(data)]
    if problems:
        raise PackConfigError(f"policy pack config {path} is invalid:\n  - " + "\n  - ".join(problems))
    return data


def default_pack_config(environment: str, root: Path | None = None) -> dict[str, Any]:
    """`policies/config.<environment>.json` of the project, if it exists (what the plan applies by default)."""
    from flinkplat.plan.runner import project_root

    path = (root or project_root()) / "policies" / f"config.{environment}.json"
    return load_pack_config(path) if path.exists() else {}


# ---------------------------------------------------------------------------------------------------------------
# Requests from plan resources
# ---------------------------------------------------------------------------------------------------------------


def _struct(value: Mapping[str, Any]):
    from google.protobuf import struct_pb2

    struct = struct_pb2.Struct()
    struct.update(_jsonable(value))
    return struct


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _provider_message(label: str | None):
    from pulumi.runtime import proto

    if not label:
        return None
    kind, _, name = label.partition(":")
    return proto.AnalyzerProviderResource(type=f"pulumi:providers:{kind}", name=name,
                                          urn=f"urn:pulumi:plan::plan::pulumi:providers:{kind}::{name}")


def _options_message(resource: Any):
    from pulumi.runtime import proto

    options = resource.options or {}
    return proto.AnalyzerResourceOptions(
        protect=bool(options.get("protect")), ignoreChanges=list(options.get("ignoreChanges", [])),
        deleteBeforeReplace=bool(options.get("deleteBeforeReplace")), deleteBeforeReplaceDefined=True,
        parent=resource.parent or "")


def analyze_request(resource: Any):
    """A `proto.AnalyzeRequest` from a PlannedResource (or anything with the same fields)."""
    from pulumi.runtime import proto

    request = proto.AnalyzeRequest(type=resource.type, urn=resource.urn, name=resource.name,
                                   properties=_struct(resource.inputs), options=_options_message(resource))
    provider = _provider_message(resource.provider)
    if provider is not None:
        request.provider.CopyFrom(provider)
    return request


def analyze_stack_request(resources: list[Any]):
    from pulumi.runtime import proto

    request = proto.AnalyzeStackRequest()
    for resource in resources:
        item = proto.AnalyzerResource(type=resource.type, urn=resource.urn, name=resource.name,
                                      properties=_struct(resource.inputs), options=_options_message(resource),
                                      parent=resource.parent or "",
                                      dependencies=list((resource.options or {}).get("dependsOn", [])))
        provider = _provider_message(resource.provider)
        if provider is not None:
            item.provider.CopyFrom(provider)
        request.resources.append(item)
    return request


# ---------------------------------------------------------------------------------------------------------------
# evaluate
# ---------------------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _collect_waived(into: list[dict]) -> Iterator[None]:
    token = _WAIVED.set(into.append)
    try:
        yield
    finally:
        _WAIVED.reset(token)


def _violation(diagnostic: Any, names: Mapping[str, str], fallback_urn: str, level_of: Mapping[int, str],
               descriptions: Mapping[str, str]) -> dict[str, Any]:
    text = diagnostic.message
    description = descriptions.get(diagnostic.policyName, "")
    if description and text.startswith(description + "\n"):
        text = text[len(description) + 1:]
    urn = diagnostic.urn or fallback_urn
    if text.startswith(f"can't run policy '{diagnostic.policyName}'"):
        detail = text.split("during preview: ", 1)[-1]
        text = (f"unknown at preview: {detail}, so this policy could not check the resource; it is checked again "
                "when the value is known (pulumi up).")
    return {"policy": diagnostic.policyName, "level": level_of[diagnostic.enforcementLevel],
            "resource": names.get(urn, urn or "stack"), "message": text}


def _servicer_for(resource_type: str, reconciled: Mapping[str, Mapping[str, Any]], _cache: dict = {}) -> Any:
    """An analyzer holding only the resource rules that look at `resource_type`, configured like the whole pack.

    pulumi-policy's Analyze converts a resource's properties once per policy before the policy can say it does not
    apply; serving each type only its own rules gives the same diagnostics (other rules return at once) in a
    fraction of the time on a large fleet."""
    applicable = tuple(rule for rule in RULES if rule.scope == "resource" and resource_type in rule.kinds)
    if not applicable:
        return None
    key = (tuple(rule.name for rule in applicable), json.dumps(reconciled, sort_keys=True, default=str))
    if key not in _cache:
        servicer = analyzer(pulumi_policies(list(applicable)))
        configure(servicer, {name: entry for name, entry in reconciled.items()
                             if name in {rule.name for rule in applicable}})
        _cache.clear() if len(_cache) > 64 else None
        _cache[key] = servicer
    return _cache[key]


def run_pack(resources: list[Any], pack_config: Mapping[str, Any] | None = None,
             policies: list | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Run the pack over plan-like resources (type, name, urn, provider, parent, inputs, options)."""
    from pulumi.runtime import proto

    servicer = analyzer(policies)
    reconciled = reconcile_config(servicer, pack_config)
    configure(servicer, reconciled)
    level_of = {proto.ADVISORY: "advisory", proto.MANDATORY: "mandatory", proto.REMEDIATE: "mandatory",
                proto.DISABLED: "disabled"}
    descriptions = {p.name: p.description for p in servicer.GetAnalyzerInfo(None, None).policies}
    names = {r.urn: r.name for r in resources}
    violations: list[dict[str, Any]] = []
    waived: list[dict] = []
    with _collect_waived(waived):
        for resource in resources:
            per_type = servicer if policies is not None else _servicer_for(resource.type, reconciled)
            if per_type is None:
                continue  # no resource rule looks at this type
            response = per_type.Analyze(analyze_request(resource), None)
            violations += [_violation(d, names, resource.urn, level_of, descriptions) for d in response.diagnostics]
        response = servicer.AnalyzeStack(analyze_stack_request(resources), None)
        violations += [_violation(d, names, "", level_of, descriptions) for d in response.diagnostics]
    waivers = [{k: w[k] for k in ("policy", "resource", "reason", "expires")} for w in waived]
    return violations, waivers


# ---------------------------------------------------------------------------------------------------------------
# One pass: what the analyzer does, with each resource converted once
# ---------------------------------------------------------------------------------------------------------------


_SIGNATURE_KEY = "4dabf18193072939515e22adb298388d"  # Pulumi's special-value signature (secrets, assets)
_STRUCT_ORDERS: dict[tuple[str, ...], tuple[str, ...]] = {}  # key order in -> key order out of a protobuf Struct


class _SpecialValue(Exception):
    """An asset/secret signature in the inputs: convert with pulumi-policy's own deserializer instead."""


def _struct_order(keys: tuple[str, ...], struct_class: Any) -> tuple[str, ...]:
    order = _STRUCT_ORDERS.get(keys)
    if order is None:
        fields = struct_class().fields
        for key in keys:
            fields[key]  # noqa: B018 the same keys inserted in the same order come back in the same map order
        order = tuple(fields)
        if len(_STRUCT_ORDERS) > 100_000:
            _STRUCT_ORDERS.clear()
        _STRUCT_ORDERS[keys] = order
    return order


def _analyzer_value(value: Any, struct_class: Any, path: list[str], proxies: tuple[type, type]) -> Any:
    """A value as a policy receives it from the analyzer, in one pass: through a protobuf Struct and back
    (`_struct`, then `json_format.MessageToDict`: every number a float, each mapping's keys in the Struct map's
    order — a hash order that a rule listing keys in a message sees too), then wrapped like pulumi-policy's
    `unknown_checking_proxy` does (the same proxy classes, each with its path)."""
    dict_proxy, list_proxy = proxies
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if kind is dict or isinstance(value, Mapping):
        items = value if kind is dict and all(type(k) is str for k in value) else {str(k): v for k, v in value.items()}
        if _SIGNATURE_KEY in items:
            raise _SpecialValue()
        return dict_proxy({key: _analyzer_value(items[key], struct_class, [*path, key], proxies)
                           for key in _struct_order(tuple(items), struct_class)}, path)
    if kind is list or kind is tuple:
        return list_proxy([_analyzer_value(item, struct_class, [*path, str(index)], proxies)
                           for index, item in enumerate(value)], path)
    if kind is int or kind is float or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return float(value)
    return value


def _analyzer_props(inputs: Mapping[str, Any], struct_class: Any) -> Any:
    """The read-only props view a policy gets (pulumi-policy's unknown-checking proxies)."""
    from pulumi_policy.deserialize import deserialize_properties
    from pulumi_policy.proxy import _DictProxy, _ListProxy, unknown_checking_proxy

    try:  # plain JSON (pulumi-policy's deserializer would copy it as it is)
        return _analyzer_value(inputs, struct_class, [], (_DictProxy, _ListProxy))
    except _SpecialValue:
        from google.protobuf import json_format

        return unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(_struct(inputs))))


def run_pack_single_pass(resources: list[Any], pack_config: Mapping[str, Any] | None = None
                         ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`run_pack`, same pack, same configuration, same diagnostics, without the per-policy cost: pulumi-policy's
    Analyze and AnalyzeStack convert every resource's properties (protobuf → dict → proxies) once per policy;
    here each resource is converted once and every policy reads that one read-only view. The policies, their
    levels and configuration, the report_violation callbacks and the UnknownValueError handling are the
    analyzer's own (a configured `_PolicyAnalyzerServicer`); tests compare the two on real stacks."""
    from google.protobuf import struct_pb2
    from pulumi.runtime import proto
    from pulumi_policy.policy import (EnforcementLevel, PolicyResource, ResourceValidationArgs,
                                      ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy,
                                      UnknownValueError, _NotApplicableError)
    servicer = analyzer()
    reconciled = reconcile_config(servicer, pack_config)
    configure(servicer, reconciled)
    pack_name = servicer._PolicyAnalyzerServicer__policy_pack_name
    pack_version = servicer._PolicyAnalyzerServicer__policy_pack_version
    stack_tags = servicer._PolicyAnalyzerServicer__stack_tags
    level_of = {proto.ADVISORY: "advisory", proto.MANDATORY: "mandatory", proto.REMEDIATE: "mandatory",
                proto.DISABLED: "disabled"}
    descriptions = {p.name: p.description for p in servicer.GetAnalyzerInfo(None, None).policies}
    names = {r.urn: r.name for r in resources}

    resource_policies: list[tuple[Any, Any]] = []  # (policy, enforcement level), pack order
    stack_policies: list[tuple[Any, Any]] = []
    for policy in servicer._PolicyAnalyzerServicer__policies:
        level = servicer._get_enforcement_level(policy)
        if level == EnforcementLevel.DISABLED:
            continue
        if level == EnforcementLevel.REMEDIATE:
            level = EnforcementLevel.MANDATORY
        if isinstance(policy, ResourceValidationPolicy) and policy.has_validation():
            resource_policies.append((policy, level))
        elif isinstance(policy, StackValidationPolicy):
            stack_policies.append((policy, level))
    kinds = {rule.name: set(rule.kinds) for rule in RULES if rule.scope == "resource"}

    def run(policy: Any, level: Any, args: Any, response: Any) -> None:
        report = servicer._create_report_violation(response, policy.name, policy.description, level,
                                                   policy.severity)
        try:
            policy.validate(args, report)  # the pack's validations are synchronous
        except UnknownValueError as error:  # the analyzer's own note (Analyze / AnalyzeStack)
            response.diagnostics.append(proto.AnalyzeDiagnostic(
                policyName=policy.name, policyPackName=pack_name, policyPackVersion=pack_version,
                message=(f"can't run policy '{policy.name}' from policy pack '{pack_name}@v{pack_version}' "
                         f"during preview: {error.message}"),
                urn="", description=policy.description,
                enforcementLevel=servicer._map_enforcement_level(EnforcementLevel.ADVISORY)))
        except _NotApplicableError:
            pass

    providers: dict[str | None, Any] = {}

    def view(resource: Any) -> Any:
        """The resource as every policy sees it (props converted once; options and provider as Analyze builds)."""
        request = proto.AnalyzeRequest(type=resource.type, urn=resource.urn, name=resource.name,
                                       options=_options_message(resource))
        if resource.provider not in providers:
            message = _provider_message(resource.provider)
            if message is not None:
                request.provider.CopyFrom(message)
            providers[resource.provider] = servicer._get_provider_resource(request)
        return PolicyResource(resource.type, _analyzer_props(resource.inputs, struct_pb2.Struct), resource.urn,
                              resource.name, servicer._get_resource_options(request), providers[resource.provider],
                              None, [], {})

    def resource_pass(chunk: list[Any]) -> tuple[list[dict], list[dict], list[Any]]:
        """What Analyze reports for each resource of `chunk`, in order: (violations, waivers, views)."""
        found: list[dict[str, Any]] = []
        waived_here: list[dict] = []
        views = []
        with _collect_waived(waived_here):
            for resource in chunk:
                seen = view(resource)
                response = proto.AnalyzeResponse()
                for policy, level in resource_policies:
                    # A rule's validation returns at once for a type it does not look at: skip the call.
                    if policy.name in kinds and resource.type not in kinds[policy.name]:
                        continue
                    args = ResourceValidationArgs(resource.type, seen.props, resource.urn, resource.name, seen.opts,
                                                  seen.provider, servicer._get_policy_config(policy.name), stack_tags)
                    run(policy, level, args, response)
                found += [_violation(d, names, resource.urn, level_of, descriptions) for d in response.diagnostics]
                views.append(seen)
        return found, waived_here, views

    with shared_props_conf_cache():  # every policy reads the same props object of a resource
        return _run_passes(resources, resource_pass, view, stack_policies, run, servicer, stack_tags, names,
                           level_of, descriptions)


def _run_passes(resources, resource_pass, view, stack_policies, run, servicer, stack_tags, names, level_of,
                descriptions) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from pulumi.runtime import proto
    from pulumi_policy.policy import StackValidationArgs

    # On a large stack a forked worker takes the resource policies of the second part of the resources while this
    # process takes the first part and the stack policies (results merged in resource order: the same output).
    split = _worker_split(len(resources))
    worker = _in_worker(lambda: resource_pass(resources[split:])[:2]) if split < len(resources) else None
    try:
        violations, waived, policy_resources = resource_pass(resources[:split])
        policy_resources += [view(resource) for resource in resources[split:]] if worker else []
    except BaseException:
        if worker:
            worker(cancel=True)
        raise
    if worker:
        worker_violations, worker_waived = worker()
        violations += worker_violations
        waived += worker_waived
    with _collect_waived(waived):
        # AnalyzeStack's view: parents and dependencies as the resource objects themselves.
        by_urn = {r.urn: r for r in policy_resources}
        for resource, policy_resource in zip(resources, policy_resources):
            if resource.parent in by_urn:
                policy_resource.parent = by_urn[resource.parent]
            for urn in (resource.options or {}).get("dependsOn", []):
                if urn in by_urn:
                    policy_resource.dependencies.append(by_urn[urn])
        response = proto.AnalyzeResponse()
        for policy, level in stack_policies:
            run(policy, level, StackValidationArgs(policy_resources, servicer._get_policy_config(policy.name),
                                                   stack_tags), response)
        violations += [_violation(d, names, "", level_of, descriptions) for d in response.diagnostics]
    waivers = [{k: w[k] for k in ("policy", "resource", "reason", "expires")} for w in waived]
    return violations, waivers


PARALLEL_MIN_RESOURCES = 1500
"""Below this many resources the policies run in one process (a worker's start-up would cost more than it saves)."""
WORKER_SHARE = 0.68
"""The share of the resources' resource policies the worker takes: this process also converts the worker's
resources for the stack policies (about a third of a resource's cost) and runs them (measured: balanced at 1,000
jobs)."""


def _worker_split(count: int) -> int:
    """How many resources this process evaluates itself: all of them unless a worker process can help, i.e. the
    stack is large and a core is idle (on a busy machine a second process only adds copy-on-write and
    scheduling costs). FLINKPLAT_PLAN_WORKERS=1 turns the worker off, =2 forces it."""
    setting = os.environ.get("FLINKPLAT_PLAN_WORKERS", "")
    cores = os.cpu_count() or 1
    if setting in ("0", "1") or count < PARALLEL_MIN_RESOURCES or not hasattr(os, "fork") or cores < 2:
        return count
    if setting != "2" and hasattr(os, "getloadavg") and os.getloadavg()[0] > cores - 1:
        return count
    return int(count * (1 - WORKER_SHARE))


def _in_worker(work: Callable[[], Any]) -> Callable[..., Any]:
    """Run `work()` in a forked process (it inherits this one's memory, so nothing is sent to it); returns
    `result(cancel=False)`, which waits for the worker and returns what `work()` returned (or raises its error)."""
    read_end, write_end = os.pipe()
    # Objects the collector never walks stay shared with the worker: otherwise a collection in either process
    # writes to every object's header and copies the whole heap page by page (copy-on-write).
    gc.freeze()
    pid = os.fork()
    if pid == 0:  # the worker
        try:
            os.close(read_end)
            try:
                payload = pickle.dumps(("ok", work()))
            except BaseException:  # noqa: BLE001 reported to the parent, which raises it
                payload = pickle.dumps(("error", traceback.format_exc()))
            with os.fdopen(write_end, "wb") as out:
                out.write(payload)
        finally:
            os._exit(0)
    os.close(write_end)

    def result(cancel: bool = False) -> Any:
        if cancel:
            os.kill(pid, signal.SIGKILL)
        with os.fdopen(read_end, "rb") as source:
            data = source.read()
        os.waitpid(pid, 0)
        gc.unfreeze()
        if cancel:
            return None
        if not data:
            raise RuntimeError("the policy worker process ended without a result")
        status, value = pickle.loads(data)
        if status != "ok":
            raise RuntimeError(f"policy evaluation in the worker process failed:\n{value}")
        return value

    return result


def evaluate(plan: Any, pack_config: Mapping[str, Any] | None = None,
             faithful: bool = False) -> tuple[list[dict], list[dict]]:
    """(violations, waivers) of a plan. Without `pack_config`, `policies/config.<environment>.json` applies.
    `faithful=True` runs every resource through pulumi-policy's Analyze and the stack through AnalyzeStack
    (`run_pack`); the default converts each resource once (`run_pack_single_pass`), with the same result."""
    from flinkplat.config.errors import ConfigError, Problem

    environment = plan.loaded.config.environment
    try:
        if pack_config is None:
            pack_config = default_pack_config(environment)
        resources = [r for r in plan.resources if r.custom and not r.type.startswith("pulumi:providers:")]
        violations, waivers = (run_pack if faithful else run_pack_single_pass)(resources, pack_config)
    except PackConfigError as error:  # a clear error naming the stack and the file, never a traceback
        raise ConfigError(plan.stack, [Problem(f"policies/config.{environment}.json", str(error))]) from None
    order = {"mandatory": 0, "advisory": 1}
    violations.sort(key=lambda v: (order.get(v["level"], 2), v["policy"], v["resource"]))
    return violations, waivers
