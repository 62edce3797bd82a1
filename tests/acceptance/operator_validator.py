"""Run the Flink Kubernetes Operator's own validator (DefaultValidator + plugins, built the way the operator builds
them) on FlinkDeployment / FlinkSessionJob manifests, through the Java driver in scripts/operator_validator/.

    validate_with_operator(manifests) -> list[str | None]   # None = accepted, else the operator's message

`scripts/operator_validator/setup.sh` must have run; it records the build in
`${FLINKPLAT_CACHE:-~/.cache/flink-platform}/operator-validator/<operator-version>/validator.json`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from flinkplat import versions

FLINK_KINDS = ("FlinkDeployment", "FlinkSessionJob")
# The newest operator release whose jar is on Maven Central, used to prove the driver works while the pinned
# release is not published there.
HARNESS_CHECK_VERSION = versions.OPERATOR_VALIDATOR_HARNESS_CHECK_VERSION


class OperatorValidatorUnavailable(RuntimeError):
    """The validator for that operator version cannot run here; `.reason` says why, `.registry` is True when the
    cause is the registry (the release is not published) rather than a missing set-up step or tool."""

    def __init__(self, reason: str, registry: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.registry = registry


class OperatorCouldNotRead(RuntimeError):
    """The operator's model classes could not even read a manifest (e.g. an enum value it does not know)."""


def _cache_root() -> Path:
    return Path(os.environ.get("FLINKPLAT_CACHE") or Path.home() / ".cache" / "flink-platform")


def validator_info(operator_version: str | None = None) -> dict[str, Any]:
    """The build record for that operator version; raises OperatorValidatorUnavailable if it cannot run."""
    version = operator_version or versions.FLINK_OPERATOR_VERSION
    path = _cache_root() / "operator-validator" / version / "validator.json"
    if shutil.which("java") is None:
        raise OperatorValidatorUnavailable("`java` is not on PATH (Java 17 is needed for the operator validator)")
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        raise OperatorValidatorUnavailable(
            f"the operator validator for {version} is not built ({path} missing): run scripts/operator_validator/setup.sh"
        ) from None
    if not info.get("available"):
        raise OperatorValidatorUnavailable(info.get("reason", f"operator {version} unavailable"), registry=True)
    if not all(Path(p).exists() for p in info["classpath"]):
        raise OperatorValidatorUnavailable(
            f"the operator validator build for {version} is stale (classpath entries missing): "
            "run scripts/operator_validator/setup.sh"
        )
    return info


def run_operator_validator(manifests: list[dict[str, Any]], operator_version: str | None = None,
                           operator_config: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """One result line of the driver per manifest (keys: kind, namespace, name, error, exception?, skipped?)."""
    info = validator_info(operator_version)
    args = ["java", "-Xss4m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", os.pathsep.join(info["classpath"]),
            info["main"]]
    for key, value in (operator_config or {}).items():
        args += ["--operator-config", f"{key}={value}"]
    # JSON documents are YAML documents.
    stdin = "".join("---\n" + json.dumps(m) + "\n" for m in manifests)
    env = {k: v for k, v in os.environ.items() if k not in ("FLINK_CONF_DIR", "FLINK_PLUGINS_DIR")}
    with tempfile.TemporaryDirectory(prefix="flinkplat-opval-") as cwd:  # no stray ./plugins folder is picked up
        proc = subprocess.run(args, input=stdin, capture_output=True, text=True, cwd=cwd, env=env, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"operator validator exited {proc.returncode}:\n{proc.stderr[-4000:]}")
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    if len(lines) != len(manifests):
        raise RuntimeError(f"operator validator returned {len(lines)} results for {len(manifests)} manifests:\n"
                           f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return lines


def validate_with_operator(manifests: list[dict[str, Any]], operator_version: str | None = None,
                           operator_config: dict[str, str] | None = None) -> list[str | None]:
    """The operator's verdict per manifest: None if accepted, else its (first) error message.

    Every manifest must be a FlinkDeployment or FlinkSessionJob. Session jobs are checked against the session
    FlinkDeployment of the same namespace in the same call (pass it along), as the operator's webhook does.
    A validator that throws (the operator then denies the request) gives "validator threw <exception>".
    Raises OperatorValidatorUnavailable when the validator cannot run, OperatorCouldNotRead when the operator's
    model cannot read a manifest at all.
    """
    for m in manifests:
        if m.get("kind") not in FLINK_KINDS:
            raise ValueError(f"not a Flink resource: {m.get('kind')} {m.get('metadata', {}).get('name')}")
    out: list[str | None] = []
    for manifest, line in zip(manifests, run_operator_validator(manifests, operator_version, operator_config)):
        if line.get("phase") == "read":
            raise OperatorCouldNotRead(f"{line['kind']} {line['name']}: {line['exception']}")
        if line.get("phase") == "validate":  # the operator denies the request with the exception
            out.append(f"validator threw {line['exception']}")
        else:
            out.append(line["error"])
    return out


def java_syntax_verdicts(mode: str, values: list[str], operator_version: str | None = None) -> list[dict[str, Any]]:
    """The Java libraries' own reading of values (SyntaxCheck in the driver), one dict per value:
    mode "quartz": {"cron": bool, "daily": bool} for excluded-period parts (Quartz, as the autoscaler calls it);
    mode "uri": {"scheme": …, "host": …} or {"error": message} for jarURIs (java.net.URI)."""
    info = validator_info(operator_version)
    args = ["java", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", os.pathsep.join(info["classpath"]),
            "flinkplat.validator.SyntaxCheck", mode]
    stdin = "".join(json.dumps(value) + "\n" for value in values)
    proc = subprocess.run(args, input=stdin, capture_output=True, text=True, encoding="utf-8", timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"SyntaxCheck exited {proc.returncode}:\n{proc.stderr[-4000:]}")
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    if len(lines) != len(values):
        raise RuntimeError(f"SyntaxCheck returned {len(lines)} results for {len(values)} inputs:\n{proc.stderr[-2000:]}")
    return lines
