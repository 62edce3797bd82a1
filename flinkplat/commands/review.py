"""`flinkplat plan --stack S --base REF [--format text|markdown|json] [--out FILE]`: the pull-request review.

Plans the stack in the working tree and at the git ref REF (that ref's own code and stack file), diffs the two and
reports what each change does to running Flink jobs, the policy violations, the waivers and the TaskManager
memory before/after. A stack file that does not exist at REF means everything is created; one that no longer
exists in the working tree means everything is deleted.

Exit codes: 0 fine, 1 mandatory policy violations in the working tree, 2 invalid configuration in the working
tree or an unusable base ref (message on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from flinkplat.config.errors import ConfigError
from flinkplat.review import gitref
from flinkplat.review.plandiff import diff_plans
from flinkplat.review.render import render, summary_line

EXIT_OK, EXIT_VIOLATIONS, EXIT_CONFIG = 0, 1, 2
EXTENSIONS = {"markdown": "md", "json": "json", "text": "txt"}


def _stack_name(args: argparse.Namespace) -> str:
    if args.stack:
        return args.stack
    return Path(args.stack_file).name.removeprefix("Pulumi.").removesuffix(".yaml")


def _empty_plan(stack: str) -> dict[str, Any]:
    return {"stack": stack, "resources": [], "violations": [], "waivers": [], "outputs": {}}


def _error(message: str) -> int:
    print(f"flinkplat plan --base: {message}", file=sys.stderr)
    return EXIT_CONFIG


@contextlib.contextmanager
def _one_process_per_plan(concurrent: bool):
    """While the base plan runs alongside, the head plan gets no policy worker process of its own (two plans
    already take both cores of a small machine; more processes only add scheduling and copy-on-write costs)."""
    saved = os.environ.get("FLINKPLAT_PLAN_WORKERS")
    if concurrent and saved is None:
        os.environ["FLINKPLAT_PLAN_WORKERS"] = "1"
    try:
        yield
    finally:
        if concurrent and saved is None:
            os.environ.pop("FLINKPLAT_PLAN_WORKERS", None)


def run_review(args: argparse.Namespace) -> int:
    from flinkplat.plan.runner import plan_stack, project_root

    fmt = "json" if getattr(args, "json", False) and not args.format else (args.format or "text")
    root = project_root()
    stack = _stack_name(args)
    head_file = (Path(args.stack_file) if args.stack_file else root / f"Pulumi.{stack}.yaml").resolve()
    try:
        repo = gitref.find_repo(root)
        commit = gitref.resolve_ref(repo, args.base)
    except gitref.GitError as error:
        return _error(str(error))
    try:
        relative = head_file.relative_to(repo.toplevel.resolve())
    except ValueError:
        return _error(f"{head_file} is outside the git repository {repo.toplevel}, so it has no version at "
                      f"{args.base}")

    # A base plan is a pure function of the base commit's tree (its code and stack file) and the installed
    # packages: planned once, it is reused from the cache.
    cache = gitref.base_plan_cache_file(repo, commit, relative)
    cached = gitref.read_cached_plan(cache)
    with tempfile.TemporaryDirectory(prefix="flinkplat-review-") as tmp:
        base_file = Path(tmp) / relative
        if cached is None:
            base_root = gitref.export_tree(repo, commit, Path(tmp))
        # The base plan runs in a subprocess (the base ref's own code) while the working tree is planned here.
        process = gitref.plan_json_at(base_root, base_file) if cached is None and base_file.exists() else None
        try:
            try:
                if head_file.exists() or (process is None and cached is None):
                    with _one_process_per_plan(process is not None):
                        head = plan_stack(stack=args.stack, stack_file=head_file, root=root,
                                          faithful=getattr(args, "faithful", False)).to_json()
                else:
                    head = _empty_plan(stack)  # the stack file is removed in the working tree
            except ConfigError as error:
                print(str(error), file=sys.stderr)
                return EXIT_CONFIG
            base = cached if cached is not None else gitref.collect(process, args.base) if process is not None else None
            if base is not None:  # the base ref's code may predate masking: its plan is masked here
                from flinkplat.plan.masking import mask_plan_json

                mask_plan_json(base)
                if cached is None:
                    gitref.write_cached_plan(cache, base)
        except gitref.BasePlanError as error:
            return _error(str(error))
        finally:
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()

    diff = diff_plans(base, head)
    report = render(diff, args.base, fmt)
    if args.out:
        out = Path(args.out)
        if out.is_dir():
            out = out / f"review-{stack}.{EXTENSIONS[fmt]}"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(report)
        print(summary_line(diff, args.base, markdown=False), file=sys.stderr)
        print(f"wrote {out}", file=sys.stderr)
    else:
        sys.stdout.write(report)
    mandatory = any(v.get("level") == "mandatory" for v in head.get("violations", []))
    return EXIT_VIOLATIONS if mandatory else EXIT_OK
