"""Validate manifests against a CustomResourceDefinition's openAPIV3Schema the way the API server does:
JSON-schema validation plus the structural-schema pruning rule (a field the schema does not declare is dropped by
the server, which for us means a typo silently ignored — so it is an error here)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import yaml


@lru_cache(maxsize=None)
def load_crd_schema(path: Path, version: str) -> dict[str, Any]:
    for document in yaml.safe_load_all(path.read_text()):
        if document and document.get("kind") == "CustomResourceDefinition":
            for entry in document["spec"]["versions"]:
                if entry["name"] == version:
                    return entry["schema"]["openAPIV3Schema"]
    raise LookupError(f"{path} has no version {version}")


def _unknown_fields(value: Any, schema: dict[str, Any], path: str) -> Iterator[str]:
    if schema.get("x-kubernetes-preserve-unknown-fields") or schema.get("x-kubernetes-int-or-string"):
        return
    if isinstance(value, dict):
        properties = schema.get("properties")
        additional = schema.get("additionalProperties")
        for key, item in value.items():
            if properties is not None and key in properties:
                yield from _unknown_fields(item, properties[key], f"{path}.{key}")
            elif isinstance(additional, dict):
                yield from _unknown_fields(item, additional, f"{path}.{key}")
            elif properties is not None or additional is False:
                yield f"{path}.{key}"
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            yield from _unknown_fields(item, schema["items"], f"{path}[{index}]")


def crd_errors(manifest: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """Every schema violation and every field the API server would prune."""
    body = {k: v for k, v in manifest.items() if k not in ("apiVersion", "kind", "metadata")}
    validator = jsonschema.Draft7Validator({k: v for k, v in schema.items() if k != "properties"} | {
        "properties": {k: v for k, v in schema.get("properties", {}).items() if k not in ("apiVersion", "kind", "metadata")}})
    errors = [f"{'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in validator.iter_errors(body)]
    errors += [f"{field}: unknown field (the API server would prune it)"
               for field in _unknown_fields(body, schema, "")]
    return sorted(errors)
