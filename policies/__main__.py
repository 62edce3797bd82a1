"""The flink-platform policy pack. Only builds the PolicyPack: every rule is in `flinkplat.rules`, wrapped for
pulumi-policy by `flinkplat.plan.policies` (the same code `flinkplat plan` runs through pulumi-policy's analyzer).

    pulumi preview --policy-pack policies --policy-pack-config policies/config.prod.json
"""

import sys
from pathlib import Path

# Run from a checkout without installing: make the repository root importable (flinkplat lives there).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from flinkplat.plan.policies import PACK_NAME, pulumi_policies  # noqa: E402

PolicyPack(name=PACK_NAME, policies=pulumi_policies(), enforcement_level=EnforcementLevel.ADVISORY)
