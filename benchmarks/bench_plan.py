"""Benchmark `flinkplat plan` on a large generated fleet, with the policy pack on.

    python benchmarks/bench_plan.py                    # 12 clusters, 50 teams, 1,000 jobs (generated)
    python benchmarks/bench_plan.py --jobs 200         # a smaller fleet
    python benchmarks/bench_plan.py --stack-file F     # any stack file
    python benchmarks/bench_plan.py --profile 25       # also print the 25 most expensive functions (cProfile)

Prints the time of each phase (read + validate the stack file, run the Pulumi program on the mock runtime,
policies, JSON), resources per second, and the ratio to merely serialising the same resources to YAML
(`yaml.safe_dump`, as `flinkplat plan --out` writes them): the floor any plan has to pay to produce its output.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import platform
import pstats
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from generate_fleet import generate  # noqa: E402

from flinkplat.config.load import load_stack, read_stack_file  # noqa: E402
from flinkplat.plan.runner import Plan, run_program  # noqa: E402


def _policies():
    try:
        from flinkplat.plan.policies import evaluate
    except ModuleNotFoundError as err:
        if err.name != "flinkplat.plan.policies":
            raise
        return None
    return evaluate


def plan_phases(stack_file: Path) -> tuple[Plan, dict[str, float]]:
    """What `plan_stack` does, phase by phase, timed."""
    times: dict[str, float] = {}
    name = stack_file.name.removeprefix("Pulumi.").removesuffix(".yaml")
    start = time.perf_counter()
    values, secret_keys = read_stack_file(stack_file, name)
    loaded = load_stack(name, values, secret_keys)
    times["read + validate stack file"] = time.perf_counter() - start
    start = time.perf_counter()
    resources, outputs = run_program(loaded, values, secret_keys, ROOT)
    times["run program (mock runtime)"] = time.perf_counter() - start
    plan = Plan(stack=name, loaded=loaded, resources=resources, outputs=outputs)
    evaluate = _policies()
    start = time.perf_counter()
    if evaluate is not None:
        plan.violations, plan.waivers = evaluate(plan)
    times["policies" if evaluate else "policies (flinkplat.plan.policies not present)"] = time.perf_counter() - start
    start = time.perf_counter()
    json.dumps(plan.to_json())
    times["plan JSON"] = time.perf_counter() - start
    return plan, times


def yaml_baseline(plan: Plan) -> float:
    documents = [r.inputs for r in plan.custom_resources]
    start = time.perf_counter()
    for document in documents:
        yaml.safe_dump(document, sort_keys=False)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack-file", type=Path, help="benchmark this stack file instead of a generated fleet")
    parser.add_argument("--clusters", type=int, default=12)
    parser.add_argument("--teams", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--profile", type=int, metavar="N", default=0, help="print the N most expensive functions")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="flinkplat-bench-") as tmp:
        stack_file = args.stack_file
        if stack_file is None:
            stack_file = Path(tmp) / "Pulumi.fleet.yaml"
            document = generate(args.clusters, args.teams, args.jobs)
            stack_file.write_text(yaml.safe_dump(document, sort_keys=False))
            print(f"fleet: {args.clusters} Kubernetes clusters, {args.teams} teams, {args.jobs} Flink jobs "
                  f"({len(document['config']['flink-platform:clusters'])} Flink clusters)")
        else:
            print(f"stack file: {stack_file}")
        if not stack_file.exists():
            print(f"bench_plan: {stack_file} does not exist", file=sys.stderr)
            return 2
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        try:
            plan, times = plan_phases(stack_file)
        except Exception as error:  # a config error in a hand-written stack file: say it, no traceback
            print(f"bench_plan: {error}", file=sys.stderr)
            return 2
        if profiler:
            profiler.disable()
        baseline = yaml_baseline(plan)

    count = len(plan.custom_resources)
    total = sum(times.values())
    print(f"python {platform.python_version()} on {platform.machine()}, {len(plan.resources)} resources registered "
          f"({count} custom), {len(plan.violations)} violations")
    for phase, seconds in times.items():
        print(f"  {phase:<48} {seconds:8.2f} s  {100 * seconds / total:5.1f} %")
    print(f"  {'total plan':<48} {total:8.2f} s")
    print(f"resources/second (plan):        {count / total:10.0f}")
    print(f"YAML serialisation alone:       {baseline:10.2f} s  ({count / baseline:.0f} resources/second)")
    print(f"plan / YAML ratio:              {total / baseline:10.1f} x")
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.profile)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
