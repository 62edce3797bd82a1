"""Render docs/configuration.md from the models' own field documentation (one source of truth).

Run `python -m flinkplat.config.docs > docs/configuration.md`; a test fails when the file is out of date."""

from __future__ import annotations

import types
import typing

from pydantic import BaseModel

from flinkplat.config import models


def _type_name(annotation) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in typing.get_args(annotation))
    if origin in (list, dict, typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        inner = ", ".join(_type_name(a) for a in args)
        if origin in (typing.Union, types.UnionType):
            return " or ".join(_type_name(a) for a in args)
        return {list: f"list of {inner}", dict: f"map of {inner}"}[origin]
    if origin is typing.Annotated:
        return _type_name(typing.get_args(annotation)[0])
    return getattr(annotation, "__name__", str(annotation))


def _models() -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []

    def visit(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.append(model)
        for field in model.model_fields.values():
            for arg in [field.annotation, *typing.get_args(field.annotation)]:
                for inner in [arg, *typing.get_args(arg)]:
                    if isinstance(inner, type) and issubclass(inner, BaseModel):
                        visit(inner)

    visit(models.StackConfig)
    return seen


def render() -> str:
    lines = ["# Stack configuration reference", "",
             "Generated from `flinkplat/config/models.py` by `python -m flinkplat.config.docs`. Every key lives under",
             "`flink-platform:` in a `Pulumi.<stack>.yaml`. Unknown keys are rejected with a suggestion.", "",
             "The file is read as UTF-8 YAML (`flinkplat/config/yamlfile.py`): unquoted dates stay the text they are",
             "written as (the form Pulumi config hands the program); keys are text; numbers are finite and fit in 64 bits, within",
             "each setting's range below; nesting stops at 64 levels; anchors, aliases and merge keys work, but alias",
             "cycles, duplicate keys, lone surrogate escapes (`\\ud800`) and `!!binary`/`!!set` values are refused.",
             "Durations and memory sizes take ASCII digits only, as Flink's parsers do. Any problem exits 2 naming the",
             "file, the key path (with line and column for YAML-level problems) and the fix.", ""]
    for model in _models():
        lines += [f"## {model.__name__}", "", (model.__doc__ or "").strip(), "",
                  "| key | type | default | meaning |", "|---|---|---|---|"]
        for name, field in model.model_fields.items():
            default = "required" if field.is_required() else f"`{field.default!r}`" if not isinstance(field.default, BaseModel) else "see type"
            description = (field.description or "").replace("\n", " ").replace("|", "\\|")
            lines.append(f"| `{field.alias or name}` | {_type_name(field.annotation)} | {default} | {description} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(), end="")
