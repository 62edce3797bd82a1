"""Compare the CRDs fetched from registries with the upstream copies in ../shared/reference/crds.

usage: check_crds.py FETCHED_DIR REFERENCE_DIR

FETCHED_DIR holds one folder per source (`flink-kubernetes-operator-<v>`, `keda-<v>`, `prometheus-operator-<v>`).
For each fetched file the reference copy of the same name is looked up (for the Flink operator, the
`release-<v>/` copy). Equal bytes -> "identical"; otherwise the documents are parsed and `spec` (group, names,
scope, versions with their schemas, subresources, printer columns) must be equal -> "same-spec", with the paths
of the differing metadata listed. A different spec is an error (exit 1). Prints a JSON summary on stdout.
A missing REFERENCE_DIR is not an error (the summary then says so).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys

import yaml


def _diff_paths(a, b, path="") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for key in sorted(set(a) | set(b), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in a or key not in b:
                out.append(sub)
            else:
                out.extend(_diff_paths(a[key], b[key], sub))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out.extend(_diff_paths(x, y, f"{path}[{i}]"))
        return out
    return [] if a == b else [path or "<root>"]


def _reference_for(source_dir: str, name: str, reference_dir: str) -> str | None:
    candidates = []
    if source_dir.startswith("flink-kubernetes-operator-"):
        version = source_dir.removeprefix("flink-kubernetes-operator-")
        candidates.append(os.path.join(reference_dir, f"release-{version}", name))
    candidates.append(os.path.join(reference_dir, name))
    return next((c for c in candidates if os.path.isfile(c)), None)


def compare(fetched_dir: str, reference_dir: str) -> tuple[list[dict], bool]:
    results, ok = [], True
    for source in sorted(os.listdir(fetched_dir)):
        for name in sorted(os.listdir(os.path.join(fetched_dir, source))):
            path = os.path.join(fetched_dir, source, name)
            data = open(path, "rb").read()
            entry = {"file": f"{source}/{name}", "sha256": hashlib.sha256(data).hexdigest()}
            ref = _reference_for(source, name, reference_dir) if os.path.isdir(reference_dir) else None
            if ref is None:
                entry["result"] = "no-reference-copy"
            else:
                ref_data = open(ref, "rb").read()
                entry["reference"] = os.path.relpath(ref, reference_dir)
                if ref_data == data:
                    entry["result"] = "identical"
                else:
                    mine, theirs = yaml.safe_load(data), yaml.safe_load(ref_data)
                    if mine.get("spec") == theirs.get("spec"):
                        entry["result"] = "same-spec"
                        entry["differs"] = _diff_paths(mine, theirs)
                    else:
                        entry["result"] = "DIFFERENT-SPEC"
                        entry["differs"] = _diff_paths(mine, theirs)[:20]
                        ok = False
            results.append(entry)
    return results, ok


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    results, ok = compare(argv[0], argv[1])
    print(json.dumps(results))
    if not ok:
        for r in results:
            if r["result"] == "DIFFERENT-SPEC":
                print(f"{r['file']}: schema differs from {r['reference']} at {r['differs']}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
