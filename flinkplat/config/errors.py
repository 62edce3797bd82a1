"""Configuration errors that name the stack, the key path and the fix — never a traceback."""

from __future__ import annotations

import difflib
import json
import re
import typing
from dataclasses import dataclass
from typing import Any, Iterable

from pydantic import BaseModel, ValidationError

PROJECT = "flink-platform"


@dataclass(frozen=True)
class Problem:
    path: str  # e.g. "flink-platform:clusters[0].taskManager.cpu"
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ConfigError(Exception):
    """One or more problems in a stack's configuration. `str()` is the full, readable report."""

    def __init__(self, stack: str, problems: Iterable[Problem], source: str | None = None):
        self.stack = stack
        self.problems = list(problems)
        self.source = source  # the stack file, when the config was read from one
        super().__init__(self.render())

    def in_file(self, source: Any) -> "ConfigError":
        """The same error, naming the stack file it was read from."""
        return ConfigError(self.stack, self.problems, str(source))

    def render(self) -> str:
        count = len(self.problems)
        where = f" ({self.source})" if self.source else ""
        head = f"stack '{self.stack}'{where}: invalid configuration ({count} problem{'s' if count != 1 else ''})"
        return "\n".join([head, *(f"  - {problem}" for problem in self.problems)])


def key_path(loc: Iterable[Any]) -> str:
    """('clusters', 0, 'taskManager', 'cpu') -> 'flink-platform:clusters[0].taskManager.cpu'."""
    out = f"{PROJECT}:"
    first = True
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("" if first else ".") + path_segment(part)
        first = False
    return out


_PLAIN_SEGMENT = re.compile(r"[^\s\[\]\"'\\]+")


def path_segment(key: Any) -> str:
    """A key as a key-path segment: as written, or JSON-quoted when it is empty or holds spaces, quotes, brackets
    or control characters (so the path stays one readable token)."""
    text = str(key)
    return text if _PLAIN_SEGMENT.fullmatch(text) else json.dumps(text)


def _model_at(model: type[BaseModel] | None, loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model class that holds the last element of `loc` (None if not a model)."""
    for part in loc:
        if model is None or isinstance(part, int):
            continue
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part or n == part), None)
        if field is None:
            return None
        model = _first_model(field.annotation)
    return model


def _first_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _first_model(arg)
        if found is not None:
            return found
    return None


def allowed_keys(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    candidates = list(candidates)
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    if not close:
        lower = {c.lower(): c for c in candidates}
        close = [lower[word.lower()]] if word.lower() in lower else []
    return f"did you mean '{close[0]}'? " if close else ""


_BOUNDS = {"greater_than": ("greater than", "gt"), "greater_than_equal": ("of at least", "ge"),
           "less_than": ("less than", "lt"), "less_than_equal": ("of at most", "le"),
           "finite_number": ("that is finite, e.g. 1 or 0.5", None)}


_TYPE_FIXES = (
    (("string_type",), "write text here (quote it, e.g. \"1.20\", when YAML would read a number, date or boolean)"),
    (("int_type", "int_parsing", "int_from_float"), "write a whole number, e.g. 2"),
    (("float_type", "float_parsing"), "write a number, e.g. 0.5"),
    (("bool_type", "bool_parsing"), "write true or false"),
    (("list_type", "tuple_type"), "write a list ('- item' lines, or [a, b])"),
    (("dict_type", "model_type", "model_attributes_type"), "write a mapping ('key: value' lines)"),
)


def _shown_input(value: Any) -> str:
    """The offending input, cut to a readable length (a 300-digit number or a long text is not worth repeating)."""
    from flinkplat.config.yamlfile import short

    return repr(short(value)) if isinstance(value, str) else short(value)


def problems_from_validation(error: ValidationError, root: type[BaseModel], prefix: tuple[Any, ...] = ()) -> list[Problem]:
    problems = []
    for item in error.errors(include_url=False):
        loc = tuple(part for part in item["loc"] if not (isinstance(part, str) and part.startswith("function-")))
        kind = item["type"]
        if kind == "extra_forbidden":
            owner = _model_at(root, loc[:-1])
            allowed = allowed_keys(owner) if owner else []
            hint = did_you_mean(str(loc[-1]), allowed)
            message = f"unknown key '{loc[-1]}'; {hint}allowed keys: {', '.join(allowed)}"
        elif kind == "missing":
            message = "required value is missing; set it in the stack file"
        elif kind == "literal_error":
            expected = item.get("ctx", {}).get("expected", "")
            message = f"'{item.get('input')}' is not allowed; use one of {expected}"
            hint = did_you_mean(str(item.get("input")), [e.strip(" '") for e in expected.replace(" or ", ",").split(",")])
            if hint:
                message = f"'{item.get('input')}' is not allowed; {hint}allowed: {expected}"
        elif kind in _BOUNDS:
            words, bound = _BOUNDS[kind]
            limit = item.get("ctx", {}).get(bound, "") if bound else ""
            limit = f"{limit:g}" if isinstance(limit, float) else limit
            message = (f"{_shown_input(item.get('input'))} is out of range; use a number {words}{f' {limit}' if bound else ''} "
                       "(see docs/configuration.md)")
        elif kind == "value_error":
            message = str(item["msg"]).removeprefix("Value error, ")
        else:
            message = f"{item['msg']} (got {_shown_input(item.get('input'))})"
            fix = next((text for kinds, text in _TYPE_FIXES if kind in kinds), None)
            message += f"; {fix}" if fix else ""
        problems.append(Problem(key_path(prefix + loc), message))
    return problems
