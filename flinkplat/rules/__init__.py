"""The Flink tuning and safety rules, as plain functions with a registry.

`RULES` is the one list of rules: the policy pack (`policies/__main__.py`), `flinkplat plan` (through
`flinkplat.plan.policies`), `docs/policies.md` and the tests all read it. Each rule has a name, a default level,
a description, configurable thresholds (`knobs`, with JSON schema and defaults) and messages that say what is wrong,
why, and the fix.
"""

from __future__ import annotations

from flinkplat.rules import cluster, guarantees, memory, operator, storage, tuning, waivers
from flinkplat.rules.base import (
    ADVISORY, DISABLED, MANDATORY, Finding, Knob, Res, Rule, RuleSet, Stack, UnknownAtPreview, messages,
)

RULES = RuleSet()
RULES.rules.extend([
    *memory.RULES,
    *tuning.RULES,
    *operator.RULES,
    *cluster.RULES,
    *storage.RULES,
    *guarantees.RULES,
    waivers.make_rule(RULES.names),
])

__all__ = [
    "ADVISORY", "DISABLED", "MANDATORY", "RULES", "Finding", "Knob", "Res", "Rule", "RuleSet", "Stack",
    "UnknownAtPreview", "messages",
]
