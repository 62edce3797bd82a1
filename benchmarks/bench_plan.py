"""Benchmark `flinkplat plan` on large generated fleets, with the policy pack on.

    python benchmarks/bench_plan.py                    # the issue-12 figures: 1,000 jobs (12 clusters, 50 teams),
                                                       # the scaling series 100/300/1,000/3,000 jobs, peak RSS,
                                                       # and a PR review (--base) of a one-line change at 1,000 jobs
    python benchmarks/bench_plan.py --jobs 200         # one fleet size only (no series, no review)
    python benchmarks/bench_plan.py --series 100,300   # another series
    python benchmarks/bench_plan.py --repeat 3         # every measurement 3 times: best and range
    python benchmarks/bench_plan.py --faithful         # the reference path (SDK registration + pulumi-policy)
    python benchmarks/bench_plan.py --stack-file F     # any stack file
    python benchmarks/bench_plan.py --jobs 200 --profile 25   # also the 25 most expensive functions (cProfile)

Each plan runs in a fresh Python process (as `flinkplat plan` does, imports included), which reports the time
of each phase, the resources, its peak memory (RSS) and how long serialising the same Kubernetes manifests to
YAML takes there: with PyYAML's pure-Python emitter (`yaml.safe_dump`, the historical baseline) and with libyaml's
C emitter (`yaml.CSafeDumper`, what `flinkplat plan --out` uses when available). The plan / YAML ratios say how
far a plan is from merely writing its output.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import resource
import shutil
import statistics
import subprocess
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

SERIES = (100, 300, 1000, 3000)
HEADLINE_JOBS = 1000
# What a project checkout needs to plan a stack (copied into the throw-away repository of the review benchmark).
PROJECT_FILES = ("Pulumi.yaml", "__main__.py", "flinkplat", "components", "policies", "pyproject.toml")


# ---------------------------------------------------------------------------------------------------------------
# One plan (in a child process)
# ---------------------------------------------------------------------------------------------------------------


def _yaml_seconds(documents: list, dumper: type) -> float:
    start = time.perf_counter()
    for document in documents:
        yaml.dump(document, Dumper=dumper, sort_keys=False)
    return time.perf_counter() - start


def measure_plan(stack_file: Path, faithful: bool, profile: int) -> dict:
    """Plan `stack_file` as `flinkplat plan` does, phase by phase; then the YAML baselines on its manifests."""
    from flinkplat.plan.runner import plan_stack

    timings: dict[str, float] = {}
    profiler = cProfile.Profile() if profile else None
    start = time.perf_counter()
    if profiler:
        profiler.enable()
    plan = plan_stack(stack_file=stack_file, root=ROOT, faithful=faithful, timings=timings)
    json_start = time.perf_counter()
    json.dumps(plan.to_json())
    timings["plan JSON"] = time.perf_counter() - json_start
    if profiler:
        profiler.disable()
    total = time.perf_counter() - start
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    manifests = [r.inputs for r in plan.custom_resources if r.is_kubernetes_object]
    documents = [r.inputs for r in plan.custom_resources]
    result = {
        "phases": timings, "total": total, "peak_rss": peak_rss,
        "registered": len(plan.resources), "resources": len(documents), "manifests": len(manifests),
        "violations": len(plan.violations),
        "yaml_python": _yaml_seconds(documents, yaml.SafeDumper),
        "yaml_c": _yaml_seconds(documents, yaml.CSafeDumper) if hasattr(yaml, "CSafeDumper") else None,
    }
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(profile)
        result["profile"] = out.getvalue()
    return result


def run_child(stack_file: Path, faithful: bool, profile: int = 0) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", str(stack_file)]
    command += ["--faithful"] if faithful else []
    command += ["--profile", str(profile)] if profile else []
    process = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if process.returncode != 0:
        raise RuntimeError(f"planning {stack_file} failed:\n{process.stderr.strip()[-3000:]}")
    return json.loads(process.stdout.strip().splitlines()[-1])


def write_fleet(directory: Path, jobs: int, clusters: int, teams: int) -> Path:
    path = directory / f"Pulumi.fleet{jobs}.yaml"
    if not path.exists():
        path.write_text(yaml.safe_dump(generate(clusters, teams, jobs), sort_keys=False, width=120))
    return path


# ---------------------------------------------------------------------------------------------------------------
# PR review (`flinkplat plan --base`) of a one-line change
# ---------------------------------------------------------------------------------------------------------------


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
                        "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid"})


def review_repository(directory: Path, fleet: Path) -> tuple[Path, str]:
    """A throw-away git repository with this project's code and the fleet committed, then one line of the stack
    file changed in the working tree (a job's parallelism). Returns (repository, stack file path inside it)."""
    repo = directory / "review-repo"
    repo.mkdir()
    for name in PROJECT_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif source.exists():
            shutil.copy2(source, repo / name)
    stack_file = repo / "Pulumi.fleet.yaml"
    shutil.copy2(fleet, stack_file)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    lines = stack_file.read_text().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.strip().startswith("parallelism:"))
    value = int(lines[index].split(":", 1)[1])
    lines[index] = lines[index].replace(f"parallelism: {value}", f"parallelism: {value + 2}")
    stack_file.write_text("".join(lines))
    return repo, stack_file.name


def measure_review(repo: Path, stack_file: str, cache: Path) -> tuple[float, str]:
    """Wall time of the review in a fresh process; `cache` is its FLINKPLAT_CACHE (holds cached base plans)."""
    env = {**os.environ, "PYTHONPATH": str(repo), "FLINKPLAT_CACHE": str(cache)}
    env.pop("FLINKPLAT_REVIEW_CACHE", None)
    start = time.perf_counter()
    process = subprocess.run([sys.executable, "-m", "flinkplat", "plan", "--stack-file", stack_file, "--base", "HEAD",
                              "--format", "markdown", "--out", str(repo / "review.md")],
                             cwd=repo, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if process.returncode not in (0, 1):
        raise RuntimeError(f"flinkplat plan --base failed:\n{process.stderr.strip()[-3000:]}")
    summary = next((line for line in process.stderr.splitlines() if line.strip() and "wrote" not in line), "")
    return seconds, summary


# ---------------------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------------------


def _range(values: list[float], unit: str = "s", digits: int = 2) -> str:
    best = min(values)
    text = f"{best:.{digits}f} {unit}"
    if len(values) > 1:
        text += f"  (range {min(values):.{digits}f}–{max(values):.{digits}f}, median {statistics.median(values):.{digits}f})"
    return text


def report_headline(label: str, runs: list[dict]) -> None:
    best = min(runs, key=lambda r: r["total"])
    totals = [r["total"] for r in runs]
    print(f"\n== {label}: {best['registered']} resources registered ({best['resources']} custom, "
          f"{best['manifests']} Kubernetes manifests), {best['violations']} violations")
    for phase in best["phases"]:
        seconds = [r["phases"].get(phase, 0.0) for r in runs]
        print(f"  {phase:<52} {_range(seconds)}")
    print(f"  {'total plan':<52} {_range(totals)}")
    print(f"  resources/second (plan):        {best['resources'] / best['total']:10.0f}")
    python_yaml = [r["yaml_python"] for r in runs]
    print(f"  YAML, pure-Python emitter:      {_range(python_yaml)}  "
          f"({best['resources'] / best['yaml_python']:.0f} resources/second)")
    ratios_python = [r["total"] / r["yaml_python"] for r in runs]
    print(f"  plan / pure-Python YAML:        {_range(ratios_python, 'x', 1)}")
    if best["yaml_c"]:
        c_yaml = [r["yaml_c"] for r in runs]
        print(f"  YAML, libyaml C emitter:        {_range(c_yaml)}  "
              f"({best['resources'] / best['yaml_c']:.0f} resources/second)")
        ratios_c = [r["total"] / r["yaml_c"] for r in runs]
        print(f"  plan / libyaml C YAML:          {_range(ratios_c, 'x', 1)}")
    else:
        print("  YAML, libyaml C emitter:        not available (PyYAML built without libyaml)")
    print(f"  peak RSS:                       {max(r['peak_rss'] for r in runs) / 2**20:.0f} MiB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack-file", type=Path, help="benchmark this stack file instead of generated fleets")
    parser.add_argument("--clusters", type=int, default=12)
    parser.add_argument("--teams", type=int, default=50)
    parser.add_argument("--jobs", type=int, help="one generated fleet of this many jobs (no series, no review)")
    parser.add_argument("--series", default=",".join(map(str, SERIES)),
                        help="fleet sizes (jobs) of the scaling series (default 100,300,1000,3000; '' for none)")
    parser.add_argument("--no-review", action="store_true", help="skip the PR review (--base) measurement")
    parser.add_argument("--repeat", type=int, default=1, help="run every measurement this many times")
    parser.add_argument("--faithful", action="store_true", help="benchmark the reference (faithful) path")
    parser.add_argument("--profile", type=int, metavar="N", default=0, help="print the N most expensive functions")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)  # internal: plan one file, print JSON
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(measure_plan(args.child, args.faithful, args.profile)))
        return 0

    path_name = "faithful (Pulumi SDK registration + pulumi-policy analyzer)" if args.faithful else \
        "default (recording runtime + one-pass policies)"
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; plan path: {path_name}")
    with tempfile.TemporaryDirectory(prefix="flinkplat-bench-") as tmp:
        directory = Path(tmp)
        try:
            if args.stack_file or args.jobs:
                if args.stack_file:
                    if not args.stack_file.exists():
                        print(f"bench_plan: {args.stack_file} does not exist", file=sys.stderr)
                        return 2
                    stack_file, label = args.stack_file.resolve(), f"stack file {args.stack_file}"
                else:
                    stack_file = write_fleet(directory, args.jobs, args.clusters, args.teams)
                    label = f"{args.clusters} Kubernetes clusters, {args.teams} teams, {args.jobs} Flink jobs"
                runs = [run_child(stack_file, args.faithful, args.profile) for _ in range(args.repeat)]
                report_headline(label, runs)
                if args.profile:
                    print(runs[0]["profile"])
                return 0

            sizes = sorted({int(s) for s in args.series.split(",") if s.strip()} | {HEADLINE_JOBS})
            results: dict[int, list[dict]] = {}
            for jobs in sizes:
                fleet = write_fleet(directory, jobs, args.clusters, args.teams)
                results[jobs] = [run_child(fleet, args.faithful, 0) for _ in range(args.repeat)]
            report_headline(f"{args.clusters} Kubernetes clusters, {args.teams} teams, {HEADLINE_JOBS} Flink jobs",
                            results[HEADLINE_JOBS])
            print("\n== scaling (seconds per 1,000 custom resources, peak RSS)")
            for jobs in sizes:
                runs = results[jobs]
                per_thousand = [1000 * r["total"] / r["resources"] for r in runs]
                print(f"  {jobs:>5} jobs  {runs[0]['resources']:>6} resources  total {_range([r['total'] for r in runs])}"
                      f"  {_range(per_thousand, 's/1k')}  peak RSS {max(r['peak_rss'] for r in runs) / 2**20:.0f} MiB")
            if 3000 in results:
                growth = min(r["total"] for r in results[3000]) / min(r["total"] for r in results[HEADLINE_JOBS])
                print(f"  3,000 jobs / 1,000 jobs: {growth:.2f}x (linear: 3x; goal <= 3.3x)")
            if not args.no_review:
                repo, stack_file = review_repository(directory, write_fleet(directory, HEADLINE_JOBS, args.clusters,
                                                                            args.teams))
                print(f"\n== PR review: flinkplat plan --stack-file <{HEADLINE_JOBS}-job fleet> --base HEAD, one line "
                      "changed (a job's parallelism); wall time of the command (a fresh process)")
                cold, cached = [], []
                for attempt in range(args.repeat):
                    cache = directory / f"cache-{attempt}"  # empty: the base ref is planned (in parallel)
                    elapsed, summary = measure_review(repo, stack_file, cache)
                    cold.append(elapsed)
                    elapsed, _ = measure_review(repo, stack_file, cache)  # the base plan comes from the cache
                    cached.append(elapsed)
                print(f"  base and head planned in parallel:   {_range(cold)}")
                print(f"  base plan from the cache:            {_range(cached)}")
                print(f"  report: {summary}")
        except RuntimeError as error:
            print(f"bench_plan: {error}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
