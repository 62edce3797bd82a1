"""The health gate after each wave: poll every cluster of the wave until all its Flink resources are healthy, one
fails for good, or the timeout passes. Clock and sleep are injectable so tests never wait."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from flinkplat.rollout.status import ClusterStatus, StatusError, Unhealthy, assess, namespaces_of
from flinkplat.rollout.waves import Wave


@dataclass(frozen=True)
class GateResult:
    ok: bool
    problems: tuple[Unhealthy, ...] = ()
    timed_out: bool = False
    polls: int = 0
    waited_seconds: float = 0.0

    def summary(self) -> str:
        if self.ok:
            return f"healthy after {self.polls} poll{'s' if self.polls != 1 else ''}"
        why = (f"not healthy within {self.waited_seconds:.0f}s (gate timeout)" if self.timed_out
               else "failed")
        return why + "".join(f"\n    {problem}" for problem in self.problems)


@dataclass
class HealthGate:
    status: ClusterStatus
    timeout: float = 900.0  # seconds
    interval: float = 15.0  # seconds between polls
    clock: Callable[[], float] = field(default=time.monotonic)
    sleep: Callable[[float], None] = field(default=time.sleep)

    def poll(self, wave: Wave) -> list[Unhealthy]:
        problems: list[Unhealthy] = []
        for cluster in wave.clusters:
            if not cluster.flink:
                continue
            try:
                observed = self.status.flink_status(cluster, namespaces_of(cluster))
            except StatusError as error:
                problems.append(Unhealthy(cluster.name, "status", f"cannot read Flink status: {error}"))
                continue
            problems += assess(cluster, observed)
        return problems

    def wait(self, wave: Wave) -> GateResult:
        start = self.clock()
        polls = 0
        while True:
            problems = self.poll(wave)
            polls += 1
            waited = self.clock() - start
            if not problems:
                return GateResult(ok=True, polls=polls, waited_seconds=waited)
            failed = tuple(p for p in problems if p.failed)
            if failed:
                return GateResult(ok=False, problems=failed, polls=polls, waited_seconds=waited)
            if waited >= self.timeout:
                return GateResult(ok=False, problems=tuple(problems), timed_out=True, polls=polls,
                                  waited_seconds=waited)
            self.sleep(min(self.interval, self.timeout - waited))
