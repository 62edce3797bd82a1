"""flink-platform: `pulumi up` entry point. Loads and validates the stack's config, then builds the fleet.

A configuration problem stops the program before any resource is registered (nothing partial is deployed)."""

import sys

import pulumi

from flinkplat.config.errors import ConfigError
from flinkplat.config.load import load_from_pulumi_runtime

try:
    stack = load_from_pulumi_runtime()
except ConfigError as error:
    # pulumi.error + exit(1) shows the message without a Python traceback.
    pulumi.error(str(error))
    sys.exit(1)

from components.platform import Platform  # noqa: E402  (import after validation: keeps bad-config runs fast)

platform = Platform(stack)
pulumi.export("clusters", platform.outputs)
