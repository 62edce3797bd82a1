"""The rollout itself: for each wave, lowest first — preview, policy check, `pulumi up` of the wave's targets, health
gate. The first failure stops the rollout: the report names the wave, the step, the cluster and the reason, and
later waves are not touched. Progress is recorded in the state file after every wave, so `--resume` continues from
the first unfinished wave."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from flinkplat.rollout.gate import HealthGate
from flinkplat.rollout.state import DONE, FAILED, RUNNING, RolloutState
from flinkplat.rollout.waves import Wave, WavePlan
from flinkplat.rollout.workspace import Workspace, WorkspaceError

PREVIEW, POLICY, UP, GATE = "preview", "policy", "up", "gate"


@dataclass(frozen=True)
class WaveOutcome:
    number: int
    status: str  # done | failed | skipped (already done, --resume)
    step: str | None = None  # where it failed
    reason: str | None = None
    clusters: tuple[str, ...] = ()  # clusters the failure is about


@dataclass
class RolloutResult:
    outcomes: list[WaveOutcome] = field(default_factory=list)
    untouched: list[int] = field(default_factory=list)  # waves not started because an earlier one failed

    @property
    def ok(self) -> bool:
        return all(outcome.status != FAILED for outcome in self.outcomes)

    @property
    def failed(self) -> WaveOutcome | None:
        return next((outcome for outcome in self.outcomes if outcome.status == FAILED), None)


@dataclass
class Rollout:
    plan: WavePlan
    targets: dict[int, list[str]]
    workspace: Workspace
    gate: HealthGate
    state: RolloutState
    state_path: Path | None = None
    report: Callable[[str], None] = print
    resume_command: str | None = None  # how to resume this rollout (default: flinkplat rollout --stack S --resume)

    def _save(self) -> None:
        if self.state_path is not None:
            self.state.save(self.state_path)

    def run(self, waves: Sequence[int] | None = None, resume: bool = False) -> RolloutResult:
        """Roll out `waves` (default: all, in order). With `resume`, waves the state records as done are skipped."""
        chosen = [self.plan.wave(n) for n in waves] if waves is not None else list(self.plan.waves)
        result = RolloutResult()
        for index, wave in enumerate(chosen):
            if resume and wave.number in self.state.done:
                self.report(f"{wave.label}: already rolled out (recorded in the state file), skipping")
                result.outcomes.append(WaveOutcome(wave.number, "skipped"))
                continue
            outcome = self._run_wave(wave)
            result.outcomes.append(outcome)
            if outcome.status == FAILED:
                result.untouched = [later.number for later in chosen[index + 1:]]
                where = f" on {', '.join(outcome.clusters)}" if outcome.clusters else ""
                self.report(f"rollout stopped: {wave.label} failed at the {outcome.step} step{where}: "
                            f"{outcome.reason}")
                if result.untouched:
                    self.report("untouched: " + ", ".join(f"wave {n}" for n in result.untouched)
                                + "; fix the cause, then run: "
                                + (self.resume_command or f"flinkplat rollout --stack {self.plan.stack} --resume"))
                return result
        self.report(f"rollout of stack '{self.plan.stack}' complete: "
                    + ", ".join(f"wave {o.number} {o.status}" for o in result.outcomes))
        return result

    def _fail(self, wave: Wave, step: str, reason: str, clusters: Sequence[str] = ()) -> WaveOutcome:
        clusters = tuple(clusters) or wave.cluster_names
        self.state.mark(wave.number, FAILED, step, reason)
        self._save()
        return WaveOutcome(wave.number, FAILED, step, reason, clusters)

    def _run_wave(self, wave: Wave) -> WaveOutcome:
        targets = self.targets.get(wave.number, [])
        self.report(f"{wave.label}: {', '.join(wave.cluster_names)} ({len(targets)} target resources)")
        self.state.mark(wave.number, RUNNING, PREVIEW)
        self._save()
        try:
            changes = self.workspace.preview(targets)
        except WorkspaceError as error:
            return self._fail(wave, PREVIEW, f"pulumi preview failed: {error}")
        self.report(f"  preview: {changes}")
        try:
            violations = self.workspace.check_policies(targets)
        except WorkspaceError as error:
            return self._fail(wave, POLICY, f"policy check failed: {error}")
        for violation in violations:
            self.report(f"  policy {violation}")
        mandatory = [v for v in violations if v.level == "mandatory"]
        if mandatory:
            names = ", ".join(sorted({v.policy for v in mandatory}))
            return self._fail(wave, POLICY, f"{len(mandatory)} mandatory policy violation"
                                            f"{'s' if len(mandatory) != 1 else ''} ({names}); nothing was deployed")
        self.report(f"  policies: {'passed' if not violations else 'no mandatory violations'}")
        self.state.mark(wave.number, RUNNING, UP)
        self._save()
        try:
            changes = self.workspace.up(targets)
        except WorkspaceError as error:
            return self._fail(wave, UP, f"pulumi up failed: {error}")
        self.report(f"  up: {changes}")
        self.state.mark(wave.number, RUNNING, GATE)
        self._save()
        gate = self.gate.wait(wave)
        if not gate.ok:
            clusters = sorted({problem.cluster for problem in gate.problems})
            reasons = "; ".join(str(problem) for problem in gate.problems)
            why = f"not healthy within {self.gate.timeout:g}s" if gate.timed_out else "unhealthy"
            return self._fail(wave, GATE, f"{why}: {reasons}", clusters)
        self.report(f"  health gate: {gate.summary()}")
        self.state.mark(wave.number, DONE)
        self._save()
        return WaveOutcome(wave.number, DONE)
