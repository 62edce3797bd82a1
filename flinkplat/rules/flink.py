"""Reading a FlinkDeployment the way the operator and Flink read it: its effective Flink configuration, the memory
configuration the operator hands to Flink, its environment, durations and sizes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flinkplat.flink import keys
from flinkplat.flink.durations import fmt_duration, parse_duration_ms  # noqa: F401  (rules import them here)
from flinkplat.flink.operator_syntax import autoscaler_keys, resolve
from flinkplat.flink.operator_syntax import resource_memory_bytes as operator_resource_memory_bytes
from flinkplat.rules.base import Res, as_int, get, plain

from flinkplat.flink.deployment import (  # noqa: F401  (the builder writes them, the rules read them)
    CONTROL_ANNOTATION, ENVIRONMENT_LABEL, KAFKA_ANNOTATION, WAIVERS_ANNOTATION,
)


def conf_value(value: Any) -> str:
    """A flinkConfiguration value as Flink reads it (pulumi-policy turns numbers into floats)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


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
        found = resolve(self.conf, autoscaler_keys("enabled"))
        return found is not None and found[1].strip().lower() == "true"

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


def view(res: Res) -> FlinkView:
    raw = plain(get(res.props, "spec", "flinkConfiguration", default={}), ("spec", "flinkConfiguration"))
    conf = {str(k): conf_value(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}
    return FlinkView(res, conf)


# ---------------------------------------------------------------------------------------------------------------
# Memory: what the operator hands to Flink
# ---------------------------------------------------------------------------------------------------------------

def resource_memory_bytes(text: str) -> int:
    """`resource.memory` as the operator reads it: a Flink MemorySize first (`2048m` = 2048 MiB, `2G` = 2 GiB),
    else the operator's Kubernetes-quantity reading (`2Gi`, `2gib`, `2 Gi`; not `1.5Gi`). ValueError with the
    operator's reason if neither (see flinkplat.flink.operator_syntax)."""
    return operator_resource_memory_bytes(text)


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
