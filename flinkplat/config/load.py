"""Reading a stack's configuration: from a stack file (offline) or from the Pulumi runtime (pulumi up), into the
same typed `StackConfig`. Both paths end in `load_stack`, so `flinkplat plan` and `pulumi up` see identical config.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from pydantic import ValidationError

from flinkplat.config import yamlfile
from flinkplat.config.crossref import check_references
from flinkplat.config.errors import (PROJECT, ConfigError, Problem, allowed_keys, did_you_mean, path_segment,
                                     problems_from_validation)
from flinkplat.config.models import StackConfig

# Shown in offline plans instead of a secret's value (which only the Pulumi CLI can decrypt).
SECRET_PLACEHOLDER = "[secret]"


@dataclass(frozen=True)
class LoadedStack:
    stack: str
    config: StackConfig
    secrets: Mapping[str, str] = field(default_factory=dict)  # top-level secret key -> value (or placeholder)
    other: Mapping[str, Any] = field(default_factory=dict)  # config of other namespaces (aws:, kubernetes:, ...)


def load_stack(stack: str, values: Mapping[str, Any], secret_keys: set[str]) -> LoadedStack:
    """Validate a stack's config map ({"flink-platform:environment": "prod", ...}; object values decoded)."""
    ours: dict[str, Any] = {}
    secrets: dict[str, str] = {}
    other: dict[str, Any] = {}
    problems: list[Problem] = []
    known = set(allowed_keys(StackConfig))
    for full_key, value in values.items():
        namespace, _, key = full_key.partition(":")
        if namespace != PROJECT:
            other[full_key] = value
            continue
        if full_key in secret_keys and key not in known:
            secrets[key] = value if isinstance(value, str) else json.dumps(value)
        elif key in known:
            if full_key in secret_keys:
                problems.append(Problem(
                    f"{PROJECT}:{path_segment(key)}",
                    "this key holds a secret inside structured config, which would make the whole object secret "
                    "and hide it from review; store each secret in its own key (pulumi config set --secret "
                    f"{PROJECT}:<name> <value>) and refer to it as {{secret: <name>}}",
                ))
            else:
                ours[key] = value
        else:
            hint = did_you_mean(key, known)
            problems.append(Problem(
                f"{PROJECT}:{path_segment(key)}",
                f"unknown key; {hint}top-level keys are: {', '.join(sorted(known))} "
                "(a secret referenced by {secret: <name>} must be set with --secret)",
            ))
    try:
        config = StackConfig.model_validate(ours)
    except ValidationError as error:
        raise ConfigError(stack, problems + problems_from_validation(error, StackConfig)) from None
    problems += check_references(config, secrets)
    if problems:
        raise ConfigError(stack, problems)
    return LoadedStack(stack=stack, config=config, secrets=secrets, other=other)


def _find_nested_secure(value: Any, path: str) -> str | None:
    if isinstance(value, Mapping):
        if set(value) == {"secure"}:
            return path
        for key, item in value.items():
            found = _find_nested_secure(item, f"{path}.{path_segment(key)}")
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _find_nested_secure(item, f"{path}[{index}]")
            if found:
                return found
    return None


def read_stack_file(path: Path, stack: str | None = None) -> tuple[dict[str, Any], set[str]]:
    """Parse a Pulumi.<stack>.yaml into (config values, secret keys). Secure values become placeholders."""
    stack = stack or path.name.removeprefix("Pulumi.").removesuffix(".yaml")
    source = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(stack, [Problem(source, "stack file not found; create it or pass --stack-file PATH")]) from None
    except OSError as error:
        raise ConfigError(stack, [Problem(source, f"cannot read the stack file ({error.strerror or error}); "
                                          "pass a readable file with --stack-file PATH")]) from None
    try:
        document = yamlfile.load_yaml(yamlfile.decode_utf8(data)) or {}
    except yamlfile.YamlProblem as problem:
        raise ConfigError(stack, [Problem(_file_key_path(problem.path, problem.where), problem.message)],
                          source) from None
    if not isinstance(document, Mapping) or not isinstance(document.get("config") or {}, Mapping):
        raise ConfigError(stack, [Problem("config" if isinstance(document, Mapping) else "(top level)",
                                          "a stack file is a mapping with a 'config:' mapping inside "
                                          "(config:\n  flink-platform:environment: dev ...)")], source)
    unreadable = [Problem(_file_key_path(where), message) for where, message in yamlfile.value_problems(document)]
    if unreadable:
        raise ConfigError(stack, unreadable, source)
    values: dict[str, Any] = {}
    secret_keys: set[str] = set()
    problems = []
    for key, value in (document.get("config") or {}).items():
        full_key = key if ":" in key else f"{PROJECT}:{key}"
        if isinstance(value, Mapping) and set(value) == {"secure"}:
            values[full_key] = SECRET_PLACEHOLDER
            secret_keys.add(full_key)
            continue
        nested = _find_nested_secure(value, full_key)
        if nested:
            problems.append(Problem(nested, "a secret inside structured config; move it to its own top-level key "
                                    f"(pulumi config set --secret {PROJECT}:<name> ...) and refer to it as {{secret: <name>}}"))
        values[full_key] = value
    if problems:
        raise ConfigError(stack, problems, source)
    return values, secret_keys


def _file_key_path(path: tuple[Any, ...], where: str | None = None) -> str:
    """A location in a stack file as a config key path: ('config', 'clusters', 0, 'job') ->
    'flink-platform:clusters[0].job'; outside `config:` the plain keys; plus 'line L, column C' when known."""
    parts = list(path)
    if len(parts) >= 2 and parts[0] == "config" and isinstance(parts[1], str):
        key = path_segment(parts[1])
        text = key if ":" in key else f"{PROJECT}:{key}"
        parts = parts[2:]
    elif parts:
        text, parts = path_segment(parts[0]), parts[1:]
    else:
        text = "(top level)"
    more = len(parts) - 10 if len(parts) > 12 else 0  # the depth-limit error: the first levels locate it
    for part in parts[:10] if more else parts:
        text += f"[{part}]" if isinstance(part, int) else f".{path_segment(part)}"
    text += f"…({more} more levels)" if more else ""
    return f"{text} ({where})" if where else text


def load_stack_file(path: Path, stack: str | None = None) -> LoadedStack:
    stack = stack or path.name.removeprefix("Pulumi.").removesuffix(".yaml")
    values, secret_keys = read_stack_file(path, stack)
    try:
        return load_stack(stack, values, secret_keys)
    except ConfigError as error:
        raise error.in_file(path) from None


def load_from_pulumi_runtime() -> LoadedStack:
    """Inside `pulumi up/preview` (or the offline plan, which sets the same runtime config)."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    raw: dict[str, Any] = dict(runtime_config.get_config_env())
    raw.update(runtime_config.CONFIG.get())
    secret_keys = set(runtime_config.get_config_secret_keys_env()) | set(runtime_config._SECRET_KEYS.get())
    values = {}
    for key, value in raw.items():
        if isinstance(value, str) and value[:1] in "[{":
            try:
                value = json.loads(value)
            except (ValueError, RecursionError):  # not JSON (or numbers/nesting JSON cannot hold): the text itself
                pass
        values[key] = value
    return load_stack(pulumi.get_stack(), values, secret_keys)
