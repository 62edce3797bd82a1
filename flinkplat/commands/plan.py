"""`flinkplat plan`: render every resource of a stack offline and run every policy.

Exit codes: 0 fine, 1 mandatory policy violations, 2 invalid configuration (message on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import yaml

from flinkplat.config.errors import ConfigError

EXIT_OK, EXIT_VIOLATIONS, EXIT_CONFIG = 0, 1, 2


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("plan", help="render a stack offline and run the policy pack",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--stack", help="stack name: reads Pulumi.NAME.yaml in the project directory")
    which.add_argument("--stack-file", type=Path, help="any stack file")
    parser.add_argument("--out", type=Path, help="write one YAML manifest per Kubernetes object plus plan.json here")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON on stdout")
    parser.add_argument("--base", help="git ref to diff against (PR review report)")
    parser.add_argument("--format", choices=("text", "markdown", "json"), default=None,
                        help="report format with --base (default text)")
    parser.add_argument("--faithful", action="store_true",
                        help="plan with the Pulumi SDK's own asynchronous registration and pulumi-policy's analyzer "
                             "resource by resource (slow; the reference the default fast path is tested against)")
    parser.set_defaults(handler=run)


# libyaml's emitter when PyYAML was built with it (the same YAML, several times faster), else PyYAML's own.
YAML_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _safe_filename(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)


def write_out_dir(plan_json: dict, out: Path) -> int:
    """One YAML file per Kubernetes object under <out>/<kubernetes cluster>/<namespace>/, plus plan.json."""
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    for resource in plan_json["resources"]:
        manifest = resource["inputs"]
        if not (resource["type"].startswith("kubernetes:") and "kind" in manifest):
            continue
        cluster = (resource["provider"] or "default").split(":", 1)[-1]
        namespace = manifest.get("metadata", {}).get("namespace") or "_cluster"
        name = manifest.get("metadata", {}).get("name", resource["name"])
        target = out / _safe_filename(cluster) / _safe_filename(namespace)
        target.mkdir(parents=True, exist_ok=True)
        path = target / f"{_safe_filename(manifest['kind'].lower())}-{_safe_filename(name)}.yaml"
        path.write_text(yaml.dump(manifest, Dumper=YAML_DUMPER, sort_keys=False))
        count += 1
    (out / "plan.json").write_text(json.dumps(plan_json, indent=2, sort_keys=False) + "\n")
    return count


def summary_text(plan_json: dict) -> str:
    lines = [f"stack {plan_json['stack']}: {len(plan_json['resources'])} resources"]
    by_provider = Counter(r["provider"] or "-" for r in plan_json["resources"])
    for provider, count in sorted(by_provider.items()):
        kinds = Counter(r["type"].split(":")[-1] for r in plan_json["resources"] if (r["provider"] or "-") == provider)
        lines.append(f"  {provider:<28} {count:>4}  " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    violations = plan_json["violations"]
    mandatory = [v for v in violations if v["level"] == "mandatory"]
    lines.append(f"policy violations: {len(mandatory)} mandatory, {len(violations) - len(mandatory)} advisory")
    for violation in sorted(violations, key=lambda v: (v["level"] != "mandatory", v["policy"], v["resource"])):
        lines.append(f"  [{violation['level']}] {violation['policy']} on {violation['resource']}:")
        lines.append(f"      {violation['message']}")
    for waiver in plan_json.get("waivers", []):
        lines.append(f"  [waived] {waiver['policy']} on {waiver['resource']}: {waiver['reason']}"
                     + (f" (until {waiver['expires']})" if waiver.get("expires") else ""))
    return "\n".join(lines)


def exit_code(plan_json: dict) -> int:
    return EXIT_VIOLATIONS if any(v["level"] == "mandatory" for v in plan_json["violations"]) else EXIT_OK


def run(args: argparse.Namespace) -> int:
    if args.base:
        from flinkplat.commands.review import run_review  # PR review: plan at HEAD and at the base ref

        return run_review(args)
    from flinkplat.plan.runner import plan_stack

    try:
        plan = plan_stack(stack=args.stack, stack_file=args.stack_file, faithful=args.faithful)
    except ConfigError as error:
        print(str(error), file=sys.stderr)
        return EXIT_CONFIG
    plan_json = plan.to_json()
    if args.out:
        count = write_out_dir(plan_json, args.out)
        print(f"wrote {count} Kubernetes manifests and plan.json to {args.out}", file=sys.stderr)
    if args.json or args.format == "json":
        json.dump(plan_json, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(summary_text(plan_json))
    return exit_code(plan_json)
