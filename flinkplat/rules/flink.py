"""Reading a FlinkDeployment the way the operator and Flink read it: its effective Flink configuration, the memory
configuration the operator hands to Flink, its environment, durations and sizes."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from flinkplat.flink import keys
from flinkplat.flink.durations import fmt_duration, parse_duration_ms  # noqa: F401  (rules import them here)
from flinkplat.flink.keys import conf_value
# resource_memory_bytes: `resource.memory` as the operator reads it (`2048m`, `2Gi`, `2 Gi`; not `1.5Gi`); its
# ValueError carries the operator's reason. Rules import it from here.
from flinkplat.flink.operator_syntax import autoscaler_switch, resource_memory_bytes
from flinkplat.rules.base import Res, as_int, get, plain

from flinkplat.flink.deployment import (  # noqa: F401  (the builder writes them, the rules read them)
    CONTROL_ANNOTATION, ENVIRONMENT_LABEL, KAFKA_ANNOTATION, WAIVERS_ANNOTATION,
)


@dataclass
class FlinkView:
    res: Res
    conf: dict[str, str]

    @property
    def spec(self) -> Mapping[str, Any]:
        return get(self.res.props, "spec", default={})

    def spec_get(self, *path: Any, default: Any = None) -> Any:
        return get(self.res.props, "spec", *path, default=default)

    @property
    def environment(self) -> str:
        return str(get(self.res.props, "metadata", "labels", ENVIRONMENT_LABEL, default=""))

    @property
    def is_prod(self) -> bool:
        return self.environment == "prod"

    @property
    def version(self) -> str | None:
        value = self.spec_get("flinkVersion")
        return None if value is None else str(value)

    @property
    def has_job(self) -> bool:
        return self.spec_get("job") is not None

    @property
    def upgrade_mode(self) -> str:
        """The effective upgrade mode: the operator's default is stateless."""
        return str(self.spec_get("job", "upgradeMode", default="stateless"))

    @property
    def slots(self) -> int:
        return as_int(self.conf.get(keys.SLOTS_KEY)) or 1

    @property
    def tm_replicas(self) -> int | None:
        return as_int(self.spec_get("taskManager", "replicas"))

    @property
    def deployment_mode(self) -> str:
        return str(self.spec_get("mode", default="native") or "native")

    @property
    def reactive(self) -> bool:
        return self.conf.get("scheduler-mode", "").strip().lower() == "reactive"

    @property
    def operator_autoscaler(self) -> bool:
        """job.autoscaler.enabled, or the deprecated kubernetes.operator.job.autoscaler.enabled the operator still
        reads when the first is absent."""
        switch = autoscaler_switch(self.conf)
        return switch is not None and switch[1]

    def first(self, candidates: tuple[str, ...]) -> str | None:
        return keys.first_set(self.conf, candidates)

    @property
    def checkpoint_dir(self) -> str | None:
        return self.first(keys.CHECKPOINT_DIR_KEYS)

    @property
    def savepoint_dir(self) -> str | None:
        return self.first(keys.SAVEPOINT_DIR_KEYS)

    @property
    def ha_enabled(self) -> bool:
        return keys.ha_enabled(self.conf)


# Turned on by the one-pass policy evaluation (flinkplat.plan.policies), where every rule reads one shared, read-only
# props object per resource: its flinkConfiguration is then read once per resource, not once per rule.
_SHARED_PROPS_CONF: dict[int, tuple[Any, dict[str, str]]] | None = None


@contextlib.contextmanager
def shared_props_conf_cache() -> Iterator[None]:
    global _SHARED_PROPS_CONF
    saved, _SHARED_PROPS_CONF = _SHARED_PROPS_CONF, {}
    try:
        yield
    finally:
        _SHARED_PROPS_CONF = saved


def view(res: Res) -> FlinkView:
    cache = _SHARED_PROPS_CONF
    hit = cache.get(id(res.props)) if cache is not None else None
    if hit is not None and hit[0] is res.props:
        return FlinkView(res, dict(hit[1]))  # each caller its own dict, as before
    raw = plain(get(res.props, "spec", "flinkConfiguration", default={}), ("spec", "flinkConfiguration"))
    conf = {str(k): conf_value(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}
    if cache is not None:
        cache[id(res.props)] = (res.props, conf)
        return FlinkView(res, dict(conf))
    return FlinkView(res, conf)


# ---------------------------------------------------------------------------------------------------------------
# Memory: what the operator hands to Flink
# ---------------------------------------------------------------------------------------------------------------

def memory_conf(flink: FlinkView, side: str) -> dict[str, str]:
    """The configuration Flink derives `side` ("taskmanager" | "jobmanager") memory from: flinkConfiguration plus
    `<side>.memory.process.size` = `spec.<side>.resource.memory`, as the operator's FlinkConfigBuilder does.
    Raises ValueError when resource.memory cannot be parsed (the operator rejects that itself)."""
    spec_key = "taskManager" if side == "taskmanager" else "jobManager"
    conf = dict(flink.conf)
    memory = flink.spec_get(spec_key, "resource", "memory")
    if memory is not None:
        conf[f"{side}.memory.process.size"] = f"{resource_memory_bytes(str(memory))}b"
    return conf


def mib(n: int) -> str:
    """Bytes as whole MiB (rounded up), in Flink notation: `2867m`."""
    return f"{-(-n // (1 << 20))}m"
