"""Waivers: a policy waived for one Flink cluster, with a reason and an optional expiry date.

The stack file's `waivers:` travel on the FlinkDeployment as the `flink-platform/waivers` annotation (a JSON list
of {policy, reason, expires?}), so `pulumi preview --policy-pack policies` honours them exactly like `flinkplat
plan`. A waiver applies while it has a reason and its expiry date (inclusive) has not passed. An expired or
malformed waiver no longer applies and gets its own advisory note from the `flink-waivers` policy.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from flinkplat.rules.base import ADVISORY, FLINK_DEPLOYMENT, Finding, Res, Rule, get, message
from flinkplat.rules.flink import WAIVERS_ANNOTATION

MIN_REASON = 10


@dataclass(frozen=True)
class Waiver:
    policy: str
    reason: str
    expires: dt.date | None = None

    def active(self, today: dt.date) -> bool:
        return len(self.reason.strip()) >= MIN_REASON and (self.expires is None or today <= self.expires)

    def to_json(self) -> dict:
        return {"policy": self.policy, "reason": self.reason,
                "expires": self.expires.isoformat() if self.expires else None}


def today() -> dt.date:
    return dt.date.today()


def parse(res: Res) -> tuple[list[Waiver], list[str]]:
    """The waivers on a resource and the problems with the annotation (as messages)."""
    text = get(res.props, "metadata", "annotations", WAIVERS_ANNOTATION)
    if text is None:
        return [], []
    try:
        data = json.loads(str(text))
    except (ValueError, RecursionError) as error:  # also numbers past Python's digit limit, deep nesting
        return [], [f"annotation {WAIVERS_ANNOTATION} is not JSON ({getattr(error, 'msg', None) or 'unreadable'})"]
    if not isinstance(data, list):
        return [], [f"annotation {WAIVERS_ANNOTATION} must be a JSON list of {{policy, reason, expires?}}"]
    waivers, problems = [], []
    for index, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("policy"), str):
            problems.append(f"waiver #{index + 1} has no policy name")
            continue
        expires = None
        if item.get("expires") is not None:
            try:
                expires = dt.date.fromisoformat(str(item["expires"]))
            except ValueError:
                problems.append(f"waiver of {item['policy']} has an unreadable expiry date '{item['expires']}' "
                                "(write YYYY-MM-DD)")
                continue
        waivers.append(Waiver(item["policy"], str(item.get("reason") or ""), expires))
    return waivers, problems


def active_waiver(policy: str, owners: Iterable[Res], on: dt.date | None = None) -> list[Waiver] | None:
    """The waivers that waive `policy` for a finding: every owner must waive it (None if any does not)."""
    owners = list(owners)
    if not owners:
        return None
    on = on or today()
    found = []
    for owner in owners:
        match = next((w for w in parse(owner)[0] if w.policy == policy and w.active(on)), None)
        if match is None:
            return None
        found.append(match)
    return found


def _waivable(policy: str) -> bool:
    from flinkplat.rules import RULES

    try:
        return RULES.get(policy).waivable
    except KeyError:
        return True


def make_rule(known_policies: Callable[[], list[str]]) -> Rule:
    def check(res: Res, cfg: dict) -> Iterator[Finding]:
        waivers, problems = parse(res)
        known = set(known_policies())
        fix_file = "fix it under waivers: of this cluster in the stack file"
        for problem in problems:
            yield Finding(message(f"{res.label}: {problem}; it is ignored.",
                                  "a waiver the policy pack cannot read waives nothing.", f"{fix_file}."))
        on = today()
        for waiver in waivers:
            if waiver.policy not in known:
                from flinkplat.config.errors import did_you_mean

                yield Finding(message(
                    f"{res.label} waives '{waiver.policy}', which is not a policy of this pack.",
                    "the waiver has no effect, and the violation it was meant for still blocks.",
                    f"{did_you_mean(waiver.policy, known)}{fix_file}."))
            elif not _waivable(waiver.policy):
                yield Finding(message(
                    f"{res.label} waives {waiver.policy}, which cannot be waived; the waiver is ignored.",
                    "what this policy reports (e.g. a secret in plain configuration) is not an accepted risk a reason "
                    "can cover: it stays a violation.", f"fix what {waiver.policy} reports and remove the waiver; "
                    f"{fix_file}."))
            elif len(waiver.reason.strip()) < MIN_REASON:
                yield Finding(message(
                    f"{res.label} waives {waiver.policy} without a reason (at least {MIN_REASON} characters).",
                    "a waiver must say why the risk is accepted, for the reviewer and for whoever renews it; it is "
                    "ignored until it does.", f"add a reason; {fix_file}."))
            elif waiver.expires is not None and on > waiver.expires:
                yield Finding(message(
                    f"{res.label}: the waiver of {waiver.policy} expired on {waiver.expires.isoformat()} "
                    f"(reason was: {waiver.reason}); {waiver.policy} applies again.",
                    "waivers are temporary by design: the accepted risk must be fixed or consciously renewed.",
                    f"fix what {waiver.policy} reports, or renew the waiver with a new expires date; {fix_file}."))

    return Rule(
        name="flink-waivers",
        level=ADVISORY,
        description="Waivers on FlinkDeployments are readable, name a real policy, give a reason and have not expired.",
        why="An expired or malformed waiver no longer applies; this note says so instead of failing silently.",
        fix="Fix or renew the waiver under the cluster's waivers: in the stack file.",
        check=check,
        kinds=(FLINK_DEPLOYMENT,),
        notes=f"Waivers are read from the `{WAIVERS_ANNOTATION}` annotation, which the platform writes from the stack "
              "file. A finding on another resource (a session job, a scaler, a namespace) is waived by the "
              "FlinkDeployment(s) it belongs to — all of them must waive it.",
    )
