"""The `flinkplat` command line. Each subcommand lives in `flinkplat.commands.<name>` and exposes
`register(subparsers)`, which adds its parser and sets `handler=<function(args) -> int>`."""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = ("plan", "memory", "rollout")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flinkplat",
        description="flink-platform: offline plans, policy checks, memory breakdowns and rollouts for Flink on Kubernetes.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"flinkplat.commands.{name}")
        except ModuleNotFoundError as err:  # a command still being built must not break the others
            if err.name != f"flinkplat.commands.{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
