"""`flinkplat rollout`: roll the current change out wave by wave, canary first.

For each wave (the `wave` numbers of regions[].kubernetesClusters[], lowest first): pulumi preview, policy check,
pulumi up limited to the wave's clusters (--target), then a health gate that waits until every FlinkDeployment and
FlinkSessionJob there is STABLE with a RUNNING job. The first failure stops the rollout and names the cluster and
the reason; later waves are not touched. `--resume` continues from the first unfinished wave.

Exit codes: 0 rolled out (or dry run), 1 a wave failed and the rollout stopped, 2 invalid configuration or usage
(unknown wave, no Pulumi CLI, nothing to resume).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any

from flinkplat.config.errors import ConfigError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("rollout", help="roll a stack out wave by wave (canary first) with health gates",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--stack", help="stack name: reads Pulumi.NAME.yaml in the project directory")
    which.add_argument("--stack-file", type=Path, help="any stack file")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the wave plan (waves, clusters, Flink clusters, region resources) and stop; "
                             "needs no Pulumi CLI")
    parser.add_argument("--json", action="store_true", help="with --dry-run: print the wave plan as JSON")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true", help="continue from the first unfinished wave")
    mode.add_argument("--wave", type=int, metavar="N", help="roll out only wave N")
    parser.add_argument("--gate-timeout", type=float, default=900.0, metavar="S",
                        help="seconds the health gate waits for a wave to become healthy (default 900)")
    parser.add_argument("--poll-interval", type=float, default=15.0, metavar="S",
                        help="seconds between health polls (default 15)")
    parser.add_argument("--state-file", type=Path, help="rollout state file (default .flinkplat/rollout-STACK.json)")
    parser.add_argument("--policy-pack", type=Path, action="append", default=None,
                        help="policy pack directory for preview/up (default: ./policies with policies/config.STACK.json, when present)")
    parser.add_argument("--policy-pack-config", type=Path, action="append", default=[],
                        help="policy pack config file (JSON)")
    parser.add_argument("--inline-program", action="store_true",
                        help="run the project's __main__.py inside flinkplat (an Automation API inline program) "
                             "instead of through the CLI's Python language host, for a CLI without "
                             "pulumi-language-python")
    parser.set_defaults(handler=run)


def _error(message: str) -> int:
    print(f"flinkplat rollout: {message}", file=sys.stderr)
    return EXIT_USAGE


def _plan_json(plan: Any, targets: dict[int, list[str]]) -> dict[str, Any]:
    return {
        "stack": plan.stack,
        "waves": [{
            "wave": wave.number,
            "canary": wave.number == 0,
            "regions": [{"name": r.name, "bucket": r.bucket} for r in wave.regions],
            "clusters": [{
                "name": c.name, "region": c.region, "context": c.context, "kubeconfigSecret": c.kubeconfig_secret,
                "addons": list(c.addons),
                "flinkClusters": [{"namespace": f.namespace, "name": f.name, "entryClass": f.entry_class,
                                   "sessionJobs": list(f.session_jobs)} for f in c.flink],
            } for c in wave.clusters],
            "targets": targets.get(wave.number, []),
        } for wave in plan.waves],
    }


# Factories the tests replace with fakes (the real ones need the Pulumi CLI and cluster access).
def work_dir_of(args: argparse.Namespace, root: Path) -> Path:
    """Where the CLI finds the stack: beside `--stack-file` (the deployed config must be the file that was planned),
    else the project directory."""
    return args.stack_file.resolve().parent if args.stack_file else root


def make_workspace(args: argparse.Namespace, root: Path, stack: str, plan: Any, names_by_urn: dict[str, str]):
    from flinkplat.rollout.automation import AutomationWorkspace, project_program

    packs, configs = args.policy_pack, args.policy_pack_config
    if packs is None:  # the project's pack and its per-stack config (policies/config.<stack>.json)
        packs = [root / "policies"] if (root / "policies" / "PulumiPolicy.yaml").exists() else []
        config = root / "policies" / f"config.{stack}.json"
        if packs and not configs and config.exists():
            configs = [config]
    return AutomationWorkspace(stack, work_dir_of(args, root), policy_packs=packs, policy_pack_configs=configs,
                               offline_violations=plan.violations, names_by_urn=names_by_urn,
                               program=project_program(root) if args.inline_program else None)


def make_status(workspace: Any, secrets_dir: Path):
    from flinkplat.rollout.status import KubectlClusterStatus

    def kubeconfig_for(cluster) -> str:
        path = secrets_dir / f"{cluster.name}.kubeconfig"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(workspace.config_value(f"flink-platform:{cluster.kubeconfig_secret}"))
        return str(path)

    return KubectlClusterStatus(kubeconfig_for=kubeconfig_for)


def resume_command(args: argparse.Namespace) -> str:
    """The command that resumes this rollout: same stack (or stack file), state file, packs and program mode."""
    parts = ["flinkplat rollout"]
    parts += [f"--stack {args.stack}"] if args.stack else [f"--stack-file {shlex.quote(str(args.stack_file))}"]
    if args.state_file:
        parts.append(f"--state-file {shlex.quote(str(args.state_file))}")
    parts += [f"--policy-pack {shlex.quote(str(p))}" for p in args.policy_pack or []]
    parts += [f"--policy-pack-config {shlex.quote(str(p))}" for p in args.policy_pack_config]
    if args.inline_program:
        parts.append("--inline-program")
    return " ".join(parts + ["--resume"])


def pulumi_cli() -> str | None:
    from flinkplat.rollout.automation import pulumi_cli as find

    return find()


def run(args: argparse.Namespace) -> int:
    from flinkplat.plan.runner import plan_stack, project_root
    from flinkplat.rollout.gate import HealthGate
    from flinkplat.rollout.runner import Rollout
    from flinkplat.rollout.state import RolloutState, StateError, default_path
    from flinkplat.rollout.targets import merge, records_from_plan, wave_targets
    from flinkplat.rollout.waves import plan_waves, render
    from flinkplat.rollout.workspace import WorkspaceError

    if args.gate_timeout <= 0 or args.poll_interval <= 0:
        return _error("--gate-timeout and --poll-interval must be positive numbers of seconds")
    if args.json and not args.dry_run:
        return _error("--json prints the wave plan and only works with --dry-run")
    root = project_root()
    try:
        offline = plan_stack(stack=args.stack, stack_file=args.stack_file, root=root)
    except ConfigError as error:
        print(str(error), file=sys.stderr)
        return EXIT_USAGE
    stack = offline.stack
    waves = plan_waves(stack, offline.loaded.config)
    if args.wave is not None and args.wave not in waves.numbers:
        known = ", ".join(w.label.removeprefix("wave ") for w in waves.waves)
        return _error(f"stack '{stack}' has no wave {args.wave}; its waves are {known} (set by "
                      "flink-platform:regions[].kubernetesClusters[].wave)")
    planned = records_from_plan(offline.resources, stack)
    if args.dry_run:
        targets = wave_targets(planned, waves)
        if args.json:
            json.dump(_plan_json(waves, targets), sys.stdout, indent=2)
            sys.stdout.write("\n")
        else:
            print(render(waves, targets))
        return EXIT_OK
    if pulumi_cli() is None:
        return _error("the rollout drives the Pulumi CLI through the Automation API, and `pulumi` is not on PATH; "
                      "install it (https://www.pulumi.com/docs/iac/download-install/) and log in to the stack's "
                      f"backend, or print the wave plan without it: flinkplat rollout --stack {stack} --dry-run")
    work_dir = work_dir_of(args, root)
    if not (work_dir / "Pulumi.yaml").exists():
        return _error(f"{args.stack_file} is not in a Pulumi project directory (no Pulumi.yaml beside it); the CLI "
                      "deploys the Pulumi.<stack>.yaml of a project directory, so put the stack file there")
    state_path = args.state_file or default_path(root, stack)
    if args.resume:
        try:
            state = RolloutState.load(state_path, stack, waves.shape())
        except StateError as error:
            return _error(str(error))
        if state.done >= set(waves.numbers):
            print(f"nothing to resume: every wave of stack '{stack}' is recorded as rolled out ({state_path})")
            return EXIT_OK
    elif args.wave is not None and state_path.exists():
        try:  # a single wave adds to the recorded rollout, so a later --resume knows it is done
            state = RolloutState.load(state_path, stack, waves.shape())
        except StateError:
            state = RolloutState(stack=stack, shape=waves.shape())
    else:
        state = RolloutState(stack=stack, shape=waves.shape())
    names_by_urn = {record.urn: record.name for record in planned}
    with tempfile.TemporaryDirectory(prefix="flinkplat-rollout-") as secrets_dir:
        try:
            workspace = make_workspace(args, root, stack, offline, names_by_urn)
            records = merge(planned, workspace.current_resources())
        except WorkspaceError as error:
            return _error(f"cannot read the current state of stack '{stack}': {error}")
        targets = wave_targets(records, waves)
        gate = HealthGate(make_status(workspace, Path(secrets_dir)), timeout=args.gate_timeout,
                          interval=args.poll_interval)
        rollout = Rollout(plan=waves, targets=targets, workspace=workspace, gate=gate, state=state,
                          state_path=state_path, resume_command=resume_command(args))
        result = rollout.run(waves=[args.wave] if args.wave is not None else None, resume=args.resume)
    return EXIT_OK if result.ok else EXIT_FAILED
