#!/usr/bin/env python3
"""Long local fuzz runs of `flinkplat plan --stack-file` (the generator and checks of tests/fuzz/stackfuzz.py).

    .venv/bin/python scripts/fuzz.py --count 3000 --seed 7                 # report failures, exit 1 if any
    .venv/bin/python scripts/fuzz.py --seed 7 --case 123 --write F.yaml   # write one case's file (to reproduce)
    .venv/bin/python scripts/fuzz.py --count 500 --full-plans 0            # validation only (fastest)
    .venv/bin/python scripts/fuzz.py --target memory --count 2000         # Flink configs for `flinkplat memory`
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fuzz.stackfuzz import (Case, ROOT, make_case, make_memory_case, run_case,  # noqa: E402
                                  run_memory_case)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000, help="cases to run (default 1000)")
    parser.add_argument("--seed", type=int, default=int(time.time()), help="seed (default: the current time)")
    parser.add_argument("--start", type=int, default=0, help="first case index (default 0)")
    parser.add_argument("--full-plans", type=int, default=-1,
                        help="how many schema-valid files run the full plan (default -1: all)")
    parser.add_argument("--target", choices=("plan", "memory"), default="plan",
                        help="plan: stack files for `flinkplat plan`; memory: Flink configs for `flinkplat memory`")
    parser.add_argument("--case", type=int, help="only this case index")
    parser.add_argument("--write", type=Path, help="with --case: write the generated file here and exit")
    args = parser.parse_args()
    make = make_case if args.target == "plan" else make_memory_case
    if args.case is not None and args.write:
        case = make(args.seed, args.case)
        args.write.write_bytes(case.data)
        print(f"wrote {case.label} to {args.write}")
        return 0
    indexes = [args.case] if args.case is not None else range(args.start, args.start + args.count)
    codes: collections.Counter = collections.Counter()
    failures, full_plans, slowest = [], 0, (0.0, None)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="flinkplat-fuzz-") as tmp:
        warm = Case(seed=args.seed, index=-1, base="dev", data=(ROOT / "Pulumi.dev.yaml").read_bytes())
        run_case(warm, Path(tmp), full_plan=True, time_limit=120)
        started = time.perf_counter()
        for done, index in enumerate(indexes, 1):
            case = make(args.seed, index)
            allow_plan = args.full_plans < 0 or full_plans < args.full_plans
            outcome = (run_case(case, Path(tmp), full_plan=allow_plan) if args.target == "plan"
                       else run_memory_case(case, Path(tmp)))
            full_plans += outcome.full_plan and outcome.exit_code != 2
            codes[outcome.exit_code] += 1
            if outcome.seconds > slowest[0]:
                slowest = (outcome.seconds, case.label)
            if outcome.failure:
                failures.append(outcome)
                print(f"FAIL {case.label}: {outcome.failure}\n  stderr: {outcome.stderr[-400:]!r}", flush=True)
            if done % 250 == 0:
                print(f"... {done} cases, {time.perf_counter() - started:.0f} s, exit codes {dict(codes)}, "
                      f"{len(failures)} failures", flush=True)
    elapsed = time.perf_counter() - started
    print(f"seed {args.seed}: {len(indexes)} cases in {elapsed:.1f} s, exit codes {dict(codes)}, {full_plans} full "
          f"plans, slowest {slowest[0]:.2f} s ({slowest[1]}), {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
