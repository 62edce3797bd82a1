"""Secret values written in plain configuration never leave the plan: a post-processing step over recorded resources.

The `flink-no-plain-secrets` policy reports such a value; this module makes sure the value itself does not reach the
plan JSON, the `--out` manifests or the PR review report meanwhile. It runs on the recorded resources (whatever
recorded them), so every way of producing a plan inherits it; it is idempotent, so masking twice is harmless (the
review masks the base ref's plan too, which older code produced unmasked).

What is masked (`flinkplat.flink.sensitive_keys` decides): the value of every sensitive key of any
`flinkConfiguration` mapping (a JVM options string that sets a secret system property counts whole), and the
literal `value` of every container `env` entry whose name holds a secret.
The shape stays (a key keeps its place with the placeholder), so manifests stay valid and diffs stay readable.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import Any

from flinkplat.config.load import SECRET_PLACEHOLDER
from flinkplat.flink.sensitive_keys import classify_option, env_kind


def mask_value(value: Any) -> Any:
    """In place where possible: returns `value` with every secret written in plain config replaced."""
    if isinstance(value, MutableMapping):
        for key, item in value.items():
            if key == "flinkConfiguration" and isinstance(item, MutableMapping):
                for option in item:
                    if (item[option] not in (None, SECRET_PLACEHOLDER)
                            and classify_option(str(option), item[option]) is not None):
                        item[option] = SECRET_PLACEHOLDER
            elif key == "env" and isinstance(item, list):
                for entry in item:
                    if (isinstance(entry, MutableMapping) and entry.get("value") not in (None, "", SECRET_PLACEHOLDER)
                            and env_kind(str(entry.get("name", ""))) is not None):
                        entry["value"] = SECRET_PLACEHOLDER
            if isinstance(item, (MutableMapping, list)):
                mask_value(item)
    elif isinstance(value, list):
        for item in value:
            mask_value(item)
    return value


def mask_resources(resources: Iterable[Any]) -> None:
    """Mask the `inputs` of recorded resources (PlannedResource or anything with an `inputs` mapping), in place."""
    for resource in resources:
        mask_value(resource.inputs)


def mask_plan_json(plan_json: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Mask a plan document (`Plan.to_json()` or a base ref's `flinkplat plan --json` output), in place."""
    for resource in plan_json.get("resources") or []:
        if isinstance(resource, MutableMapping):
            mask_value(resource.get("inputs"))
    return plan_json
