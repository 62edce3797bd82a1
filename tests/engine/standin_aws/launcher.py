"""Put the STAND-IN `pulumi-resource-aws` on a PATH for one test session: a two-line executable, written into a tmp
dir at test time (so no machine path is committed), that execs this venv's Python on standin_aws_provider.py."""

from __future__ import annotations

import shlex
import stat
import sys
from pathlib import Path

PROVIDER_SCRIPT = Path(__file__).with_name("standin_aws_provider.py")
EXECUTABLE = "pulumi-resource-aws"


def install_standin_aws(directory: Path) -> Path:
    """Write `<directory>/pulumi-resource-aws` and return the directory (prepend it to PATH)."""
    directory.mkdir(parents=True, exist_ok=True)
    wrapper = directory / EXECUTABLE
    wrapper.write_text("#!/bin/sh\n# STAND-IN aws provider for the engine tests (tests/engine/standin_aws)\n"
                       f"exec {shlex.quote(sys.executable)} -u {shlex.quote(str(PROVIDER_SCRIPT))} \"$@\"\n")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return directory
