"""Fakes for the rollout tests: a Pulumi workspace that records every call, cluster status scripted per poll, and a
clock that advances only when the gate sleeps (no test ever waits)."""

from __future__ import annotations

import copy
import functools
from pathlib import Path

import pytest
import yaml

from flinkplat.config.load import load_stack, read_stack_file
from flinkplat.plan.runner import plan_stack as _real_plan_stack
from flinkplat.rollout.gate import HealthGate
from flinkplat.rollout.runner import Rollout
from flinkplat.rollout.state import RolloutState
from flinkplat.rollout.status import DEPLOYMENT, SESSION_JOB, FlinkStatus
from flinkplat.rollout.waves import plan_waves
from flinkplat.rollout.workspace import Changes, WorkspaceError

ROOT = Path(__file__).resolve().parents[2]


def healthy(cluster, generation: int = 2) -> list[FlinkStatus]:
    """What the operator reports for every expected Flink resource of a cluster once the wave is healthy."""
    found = []
    for flink in cluster.flink:
        found.append(FlinkStatus(DEPLOYMENT, flink.namespace, flink.name, generation, generation, "STABLE",
                                 "RUNNING" if flink.has_job else None))
        for job in flink.session_jobs:
            found.append(FlinkStatus(SESSION_JOB, flink.namespace, job, 1, 1, "STABLE", "RUNNING"))
    return found


class FakeStatus:
    """Cluster status per poll: `scripts[cluster name]` is a function (cluster, poll number) -> statuses (or raises
    StatusError); clusters without a script are healthy at once."""

    def __init__(self, scripts=None):
        self.scripts = scripts or {}
        self.polls: list[str] = []

    def flink_status(self, cluster, namespaces):
        self.polls.append(cluster.name)
        script = self.scripts.get(cluster.name)
        if script is None:
            return healthy(cluster)
        return script(cluster, self.polls.count(cluster.name))


class FakeWorkspace:
    """Records (operation, wave) for every call; `violations`/`fail` are keyed by wave number."""

    def __init__(self, targets, violations=None, fail=None, current=()):
        self.wave_of = {tuple(urns): number for number, urns in targets.items()}
        self.violations = violations or {}
        self.fail = fail or {}
        self.current = list(current)
        self.calls: list[tuple[str, int]] = []

    def _call(self, op, targets):
        wave = self.wave_of[tuple(targets)]
        self.calls.append((op, wave))
        if self.fail.get((op, wave)):
            raise WorkspaceError(self.fail[(op, wave)])
        return wave

    def current_resources(self):
        return self.current

    def preview(self, targets):
        self._call("preview", targets)
        return Changes({"update": 2, "same": 10})

    def check_policies(self, targets):
        return list(self.violations.get(self._call("policy", targets), []))

    def up(self, targets):
        self._call("up", targets)
        return Changes({"update": 2, "same": 10})


class FakeClock:
    def __init__(self):
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@functools.lru_cache(maxsize=None)
def _stack_document(stack: str) -> dict:
    return yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())


def stack_document(stack: str) -> dict:
    return copy.deepcopy(_stack_document(stack))


def load_document(document: dict, tmp_path: Path, name: str = "test"):
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    values, secret_keys = read_stack_file(path, name)
    return load_stack(name, values, secret_keys).config


def four_wave_fleet(tmp_path: Path):
    """The prod fleet plus a second eu-west-1 cluster in wave 3, so a failure in wave 2 has a later wave."""
    document = stack_document("prod")
    document["config"]["flink-platform:regions"][1]["kubernetesClusters"].append(
        {"name": "euw1-second", "context": "euw1-second", "wave": 3, "labels": {"tier": "general"}})
    return plan_waves("prod", load_document(document, tmp_path))


@pytest.fixture
def prod_waves():
    values, secret_keys = read_stack_file(ROOT / "Pulumi.prod.yaml", "prod")
    return plan_waves("prod", load_stack("prod", values, secret_keys).config)


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def make_rollout(tmp_path, clock):
    """Build a Rollout over fakes; returns (rollout, workspace, status, report lines)."""

    def make(plan, *, status=None, violations=None, fail=None, state=None, timeout=300.0, interval=10.0):
        targets = {wave.number: [f"urn:wave-{wave.number}:{name}" for name in wave.cluster_names]
                   for wave in plan.waves}
        workspace = FakeWorkspace(targets, violations=violations, fail=fail)
        status = status or FakeStatus()
        lines: list[str] = []
        rollout = Rollout(plan=plan, targets=targets, workspace=workspace,
                          gate=HealthGate(status, timeout=timeout, interval=interval, clock=clock, sleep=clock.sleep),
                          state=state or RolloutState(stack=plan.stack, shape=plan.shape()),
                          state_path=tmp_path / "state.json", report=lines.append)
        return rollout, workspace, status, lines

    return make



@functools.lru_cache(maxsize=None)
def offline_plan(stack: str):
    """The offline plan of a checked-in stack (run once per test session; a pure function of the files)."""
    return _real_plan_stack(stack=stack, root=ROOT)


@pytest.fixture
def cached_plans(monkeypatch):
    """`flinkplat rollout` runs the offline plan; serve the checked-in stacks from the session cache."""
    import flinkplat.plan.runner as runner

    def plan_stack(stack=None, stack_file=None, root=None, with_policies=True):
        if stack is not None and stack_file is None:
            return offline_plan(stack)
        return _real_plan_stack(stack=stack, stack_file=stack_file, root=root, with_policies=with_policies)

    monkeypatch.setattr(runner, "plan_stack", plan_stack)
    monkeypatch.chdir(ROOT)
