"""Check the batch harness (MemoryOracle.java) against Flink's real CLI entry point.

For a handful of configs, writes the config file Flink reads into a temporary config dir and runs
`java -cp bash-java-utils.jar:flink-dist-<v>.jar org.apache.flink.runtime.util.bash.BashJavaUtils
GET_TM_RESOURCE_PARAMS --configDir DIR` (and GET_JM_RESOURCE_PARAMS), exactly as Flink's bin/config.sh does, then
compares the JVM parameters, dynamic configs or exception (class, message, causes) with what the harness returns
for the same config.

    python scripts/flink_oracle/verify_cli.py --version 1.20.3 [--classpath CP]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import memory_oracle as oracle  # noqa: E402

PREFIX = "BASH_JAVA_UTILS_EXEC_RESULT:"
COMMANDS = {"tm": "GET_TM_RESOURCE_PARAMS", "jm": "GET_JM_RESOURCE_PARAMS"}


def cli_configs(version: str) -> list[dict[str, str]]:
    configs = [
        {"taskmanager.memory.process.size": "1728m", "jobmanager.memory.process.size": "1600m"},
        {"taskmanager.memory.process.size": "4096m", "taskmanager.memory.flink.size": "2867m",
         "taskmanager.numberOfTaskSlots": "4", "jobmanager.memory.flink.size": "2g",
         "jobmanager.memory.enable-jvm-direct-memory-limit": "true"},
        {"taskmanager.memory.process.size": "8192m", "taskmanager.memory.flink.size": "5734m",
         "jobmanager.memory.heap.size": "3g", "jobmanager.memory.flink.size": "2g"},
        {"taskmanager.memory.process.size": "2g", "taskmanager.memory.managed.fraction": "abc",
         "jobmanager.memory.process.size": "1.5g"},
        {"taskmanager.memory.task.heap.size": "1g", "taskmanager.memory.managed.size": "512m",
         "taskmanager.network.memory.fraction": "0.2", "taskmanager.cpu.cores": "2.5",
         "jobmanager.memory.process.size": "2g", "jobmanager.memory.jvm-overhead.fraction": "1.5"},
    ]
    if version.startswith("1."):
        configs.append({"taskmanager.heap.size": "2g", "taskmanager.network.numberOfBuffers": "4096",
                        "jobmanager.heap.mb": "1024"})
    return configs


def _yaml_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def run_cli(classpath: str, version: str, which: str, conf: dict[str, str]) -> dict[str, Any]:
    """One BashJavaUtils CLI run; result in the harness' raw shape."""
    with tempfile.TemporaryDirectory(prefix="flink-conf-") as d:
        # 1.19/1.20 read flink-conf.yaml if present, else config.yaml (standard YAML); 2.x only config.yaml.
        text = "".join(f"{k}: {_yaml_quote(v)}\n" for k, v in conf.items())
        Path(d, "config.yaml").write_text(text, encoding="utf-8")
        proc = subprocess.run(
            ["java", "-cp", classpath, "org.apache.flink.runtime.util.bash.BashJavaUtils", COMMANDS[which],
             "--configDir", d],
            capture_output=True, text=True, env=oracle.java_env(), timeout=120,
        )
    results = [line[len(PREFIX):] for line in proc.stdout.splitlines() if line.startswith(PREFIX)]
    if proc.returncode == 0 and len(results) >= 2:
        return {"ok": True, "jvm": results[-2], "dyn": results[-1]}
    m = re.search(r'^Exception in thread "main" ([\w.$]+): (.*)$', proc.stderr, re.M)
    if not m:
        raise RuntimeError(f"unexpected BashJavaUtils output (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    causes = [c.strip() for c in re.findall(r"^Caused by: (.*)$", proc.stderr, re.M)]
    return {"ok": False, "class": m.group(1), "error": m.group(2), "causes": causes}


def verify(version: str, classpath: str | None = None, configs: list[dict[str, str]] | None = None) -> list[str]:
    """Problems found (empty = the harness agrees with the CLI on every config)."""
    classpath = classpath or oracle.classpath(version)
    if classpath is None:
        raise RuntimeError(f"Flink oracle {version} not set up; run scripts/flink_oracle/setup.sh")
    jars = os.pathsep.join(classpath.split(os.pathsep)[:2])
    configs = configs or cli_configs(version)
    harness = oracle.run_batch(version, configs)
    jobs = [(i, which) for i in range(len(configs)) for which in ("tm", "jm")]
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        cli = list(pool.map(lambda job: run_cli(jars, version, job[1], configs[job[0]]), jobs))
    problems = []
    for (i, which), got in zip(jobs, cli):
        want = harness[i][which]
        a, b = oracle.normalise_java(got, which), oracle.normalise_java(want, which)
        if a != b:
            problems.append(f"config {i} {which}: CLI {json.dumps(a)} != harness {json.dumps(b)}")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--version", required=True)
    ap.add_argument("--classpath")
    args = ap.parse_args(argv)
    problems = verify(args.version, args.classpath)
    n = len(cli_configs(args.version))
    if problems:
        print(f"[flink-oracle] {args.version}: harness DISAGREES with BashJavaUtils CLI:", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        return 1
    print(f"[flink-oracle] {args.version}: harness agrees with the BashJavaUtils CLI on {n} configs (TM and JM)",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
