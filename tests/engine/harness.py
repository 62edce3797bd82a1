"""Engine test harness: the project's program through the real Pulumi engine, against real API servers.

Nothing here is mocked: the Pulumi CLI and `pulumi-resource-kubernetes` built by `scripts/pulumi/setup.sh`, the
policy pack through the CLI's analyzer plugin plumbing, etcd + kube-apiserver + kube-controller-manager built by
`scripts/envtest/setup.sh`. What differs from a user's machine, and why:
  - the program runs as an Automation API *inline* program (no `pulumi-language-python` host is available from any
    registry): `run_project_program` executes the project's own `__main__.py` with the stack's config;
  - the policy pack runs through `--policy-pack <executable>` (`PolicyPackShim`): a tiny executable starting
    `python -u policies/__main__.py` with the project venv, with `PulumiPolicy.yaml` beside it (the CLI reads it);
  - Helm add-ons cannot fetch charts here: test stacks switch them off (`without_helm_addons`) and the fixture
    installs the operator, KEDA and Prometheus Operator CRDs instead.

API (fixtures in tests/engine/conftest.py; everything below is importable from tests.engine.harness):

  Fixtures
    engine_tools         session  EngineTools: the built CLI and provider (skip locally / fail under CI=true)
    control_planes       session  ControlPlanes: start(name) -> EnvTest (etcd + kube-apiserver +
                                  kube-controller-manager, every CRD of envtest.json installed, the namespace
                                  `monitoring` created as the home of the cluster's existing Prometheus); all
                                  stopped at the end of the session
    engine_stack_factory function make(stack, stack_doc, servers={context: EnvTest}, *, extra_path=(), env={},
                                  policy_config=None) -> EngineStack, each in its own tmp dir (own PULUMI_HOME,
                                  file backend, kubeconfig with one context per server)

  EngineStack (one stack of the project in one work dir; wraps pulumi.automation.Stack as `.stack`)
    .preview(policy=True, **kw) -> PreviewResult      policy: with the project's pack + config (default dev);
                                                       .policy_events: PolicyEvent(policy, level, urn, message)
    .preview_steps(**kw) -> list[Step]                 `pulumi preview --json` steps: Step(urn, op, type)
    .up(policy=True, **kw) -> UpResult                 .refresh(**kw), .destroy(**kw), .preview_destroy
    .write_stack_doc(doc)                              replace Pulumi.<stack>.yaml (config edits between runs)
    .resources() -> list[dict]                         `pulumi stack export` resources (urn, type, inputs, ...)
    .output(text) / .log                               everything the CLI printed, for failure messages
    .env                                               the CLI's environment (PATH, KUBECONFIG, PULUMI_*)
  Helpers
    without_helm_addons(doc) -> doc      every Kubernetes cluster of the stack with flinkOperator/certManager/keda/
                                         prometheusStack off (so no helm Release is planned)
    stack_document(stack) -> dict        Pulumi.<stack>.yaml of the repository, parsed
    flinkplat_plan(stack_file, out=None) -> dict     `flinkplat plan --stack-file … --json [--out DIR]` (subprocess)
    step_counts(result) -> {op: n}       resource changes of an up/refresh/destroy result
    EnvTest helpers (tests/acceptance/envtest.py): .get(path), .path_for(manifest), .apply(manifest),
    write_kubeconfig(path, {context: EnvTest})

Environment of every CLI run: PATH = the built binaries' dir + extra_path + PATH; PULUMI_HOME private;
PULUMI_BACKEND_URL=file://<tmp>; PULUMI_CONFIG_PASSPHRASE fixed; PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true;
PULUMI_SKIP_UPDATE_CHECK=true; KUBECONFIG = the generated kubeconfig.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import yaml

from flinkplat import versions
from flinkplat.rollout.automation import project_program
from tests.acceptance.envtest import EnvTest, cache_root, envtest_info, write_kubeconfig

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "flink-platform"
FLINKPLAT = Path(sys.executable).with_name("flinkplat")
PASSPHRASE = "flinkplat-engine-tests"  # protects only throw-away test state


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


# ---------------------------------------------------------------------------------------------------------------
# What the set-up scripts built
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EngineTools:
    bin_dir: Path  # holds `pulumi` and `pulumi-resource-kubernetes`
    pulumi: Path
    kubernetes_provider: Path
    cli_version: str
    kubernetes_provider_version: str
    envtest: dict[str, Any]  # envtest.json of scripts/envtest/setup.sh

    @property
    def install_root(self) -> Path:
        """What `auto.PulumiCommand(root=...)` wants: the directory whose bin/ holds `pulumi`."""
        return self.bin_dir.parent


def pulumi_info() -> dict[str, Any] | None:
    """pulumi.json of scripts/pulumi/setup.sh for the pinned versions, or None if it has not run (or is stale)."""
    path = (cache_root() / "pulumi" / f"cli-{versions.PULUMI_CLI_VERSION}-kubernetes-"
            f"{versions.PULUMI_KUBERNETES_PROVIDER_VERSION}" / "pulumi.json")
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not all(os.access(info.get(k, ""), os.X_OK) for k in ("pulumi", "pulumi_resource_kubernetes")):
        return None
    return info


def find_engine_tools() -> EngineTools | str:
    """The built tools, or the reason they are missing (with the command that builds them)."""
    info = pulumi_info()
    if info is None:
        return (f"the Pulumi CLI {versions.PULUMI_CLI_VERSION} and pulumi-resource-kubernetes "
                f"{versions.PULUMI_KUBERNETES_PROVIDER_VERSION} are not built: run scripts/pulumi/setup.sh "
                "(needs Go; ≈ 13 min cold)")
    envtest = envtest_info(versions.KUBERNETES_VERSION)
    if envtest is None or not envtest.get("kube_controller_manager"):
        return (f"no envtest kube-apiserver + kube-controller-manager for Kubernetes {versions.KUBERNETES_VERSION}: "
                "run scripts/envtest/setup.sh (needs Go and Maven)")
    return EngineTools(bin_dir=Path(info["bin_dir"]), pulumi=Path(info["pulumi"]),
                       kubernetes_provider=Path(info["pulumi_resource_kubernetes"]),
                       cli_version=info["pulumi_cli_version"],
                       kubernetes_provider_version=info["kubernetes_provider_version"], envtest=envtest)


# ---------------------------------------------------------------------------------------------------------------
# API servers
# ---------------------------------------------------------------------------------------------------------------


# Parts of a cluster the platform expects and does not create when its Helm add-ons are off: the Prometheus install
# in `monitoring` (Monitoring.namespace; the dashboard ConfigMaps go there). Its CRDs come with envtest's CRDs.
PREEXISTING_NAMESPACES = ("monitoring",)


class ControlPlanes:
    """Starts API servers (with the controller manager and every CRD installed) and stops them all at the end."""

    def __init__(self, tools: EngineTools, workdir: Path):
        self.tools = tools
        self.workdir = workdir
        self.running: dict[str, EnvTest] = {}

    def start(self, name: str, namespaces: Sequence[str] = PREEXISTING_NAMESPACES) -> EnvTest:
        """The API server `name` (started on first use), with every CRD and the `namespaces` that the stacks
        expect to exist already installed."""
        if name in self.running:
            return self.running[name]
        env = EnvTest(self.tools.envtest, workdir=self.workdir / name, controllers=True)
        env.start()
        try:
            env.install_crds(self.tools.envtest["crds"])
            for namespace in namespaces:
                env.create_namespace(namespace)
        except BaseException:
            env.stop()
            raise
        self.running[name] = env
        return env

    def stop_all(self) -> None:
        for env in self.running.values():
            env.stop()
        self.running.clear()


# ---------------------------------------------------------------------------------------------------------------
# Stack documents
# ---------------------------------------------------------------------------------------------------------------


def stack_document(stack: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())


def without_helm_addons(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The stack with every Helm add-on switched off on every Kubernetes cluster (charts cannot be fetched here)."""
    doc = copy.deepcopy(dict(doc))
    for region in doc["config"].get(f"{PROJECT}:regions", []):
        for kube in region.get("kubernetesClusters", []):
            kube["addons"] = {"flinkOperator": False, "certManager": False, "keda": False, "prometheusStack": False}
    return doc


def flinkplat_plan(stack_file: Path, out: Path | None = None) -> dict[str, Any]:
    """`flinkplat plan --stack-file FILE --json [--out DIR]` as a user runs it; the plan JSON (exit 0 or 1)."""
    cmd = [str(FLINKPLAT), "plan", "--stack-file", str(stack_file), "--json"]
    if out is not None:
        cmd += ["--out", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    if proc.returncode not in (0, 1):
        raise AssertionError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout)


# ---------------------------------------------------------------------------------------------------------------
# Program and policy pack without the Python language host
# ---------------------------------------------------------------------------------------------------------------


# The inline program: the project's own __main__.py, exactly as `pulumi up` would run it (the same factory
# `flinkplat rollout --inline-program` uses; a bad-config exit becomes the RunError the engine reports).
run_project_program = project_program(ROOT)


class PolicyPackShim:
    """`--policy-pack <executable>`: a binary analyzer plugin that is really the project's Python policy pack."""

    def __init__(self, workdir: Path, pack_dir: Path = ROOT / "policies", python: Path = Path(sys.executable)):
        self.dir = workdir / "policy-pack"
        self.dir.mkdir(parents=True, exist_ok=True)
        # The CLI reads PulumiPolicy.yaml beside the executable (version, description).
        shutil.copy(pack_dir / "PulumiPolicy.yaml", self.dir / "PulumiPolicy.yaml")
        self.executable = self.dir / "flink-platform-policy-pack"
        # `-u`: PolicyPack prints the analyzer's port on stdout without flushing; the CLI waits for that line.
        self.executable.write_text(f"#!/bin/sh\ncd '{pack_dir}' && exec '{python}' -u __main__.py\n")
        self.executable.chmod(0o755)


# ---------------------------------------------------------------------------------------------------------------
# One stack in one work dir
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    urn: str
    op: str  # same | create | update | replace | delete | create-replacement | delete-replaced | ...
    type: str

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]


@dataclass(frozen=True)
class PolicyEvent:
    policy: str
    level: str  # mandatory | advisory | remediate
    urn: str
    message: str


def step_counts(result: Any) -> dict[str, int]:
    """{op: count} of an up/refresh/destroy result (ops with a zero count left out)."""
    changes = result.summary.resource_changes or {}
    return {str(getattr(op, "value", op)): int(n) for op, n in changes.items() if n}


class EngineStack:
    def __init__(self, tools: EngineTools, workdir: Path, stack: str, stack_doc: Mapping[str, Any],
                 kubeconfig: Path, *, extra_path: Sequence[Path] = (), env: Mapping[str, str] | None = None,
                 policy_config: Path | None = None, program: Callable[[], None] = run_project_program):
        from pulumi import automation as auto

        self.auto = auto
        self.tools = tools
        self.workdir = workdir
        self.name = stack
        self.project_dir = workdir / "project"
        self.project_dir.mkdir(parents=True, exist_ok=True)
        (workdir / "state").mkdir(exist_ok=True)
        (workdir / "home").mkdir(exist_ok=True)
        shutil.copy(ROOT / "Pulumi.yaml", self.project_dir / "Pulumi.yaml")
        self.write_stack_doc(stack_doc)
        self.kubeconfig = kubeconfig
        self.policy = PolicyPackShim(workdir)
        self.policy_config = policy_config or ROOT / "policies" / f"config.{'prod' if stack == 'prod' else 'dev'}.json"
        self.env = {
            "PATH": os.pathsep.join([str(tools.bin_dir), *map(str, extra_path), os.environ.get("PATH", "")]),
            "PULUMI_HOME": str(workdir / "home"),
            "PULUMI_BACKEND_URL": f"file://{workdir / 'state'}",
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
            "KUBECONFIG": str(kubeconfig),
            **(env or {}),
        }
        self.log: list[str] = []
        self.policy_events: list[PolicyEvent] = []
        command = auto.PulumiCommand(root=str(tools.install_root), skip_version_check=True)
        self.stack = auto.create_or_select_stack(
            stack_name=stack, project_name=PROJECT, program=program,
            opts=auto.LocalWorkspaceOptions(work_dir=str(self.project_dir), pulumi_home=str(workdir / "home"),
                                            env_vars=self.env, pulumi_command=command))

    # -- config ----------------------------------------------------------------------------------------------

    @property
    def stack_file(self) -> Path:
        return self.project_dir / f"Pulumi.{self.name}.yaml"

    def write_stack_doc(self, doc: Mapping[str, Any]) -> None:
        """Replace the stack's config (keeps the encryption salt the CLI added)."""
        doc = copy.deepcopy(dict(doc))
        path = self.project_dir / f"Pulumi.{self.name}.yaml"
        if path.exists():
            current = yaml.safe_load(path.read_text()) or {}
            for key in ("encryptionsalt", "secretsprovider", "encryptedkey"):
                if key in current:
                    doc[key] = current[key]
        path.write_text(yaml.safe_dump(doc, sort_keys=False))

    def stack_doc(self) -> dict[str, Any]:
        return yaml.safe_load(self.stack_file.read_text())

    # -- operations ------------------------------------------------------------------------------------------

    def _on_output(self, line: str) -> None:
        self.log.append(line)

    def output(self, last: int = 120) -> str:
        """The last lines the CLI printed (commands marked with `$ pulumi ...`)."""
        return "\n".join(self.log[-last:])

    def _policy(self, policy: bool) -> dict[str, Any]:
        if not policy:
            return {}
        return {"policy_packs": [str(self.policy.executable)], "policy_pack_configs": [str(self.policy_config)]}

    def _collect_policy_events(self, event: Any) -> None:
        found = getattr(event, "policy_event", None)
        if found is not None:
            self.policy_events.append(PolicyEvent(found.policy_name, found.enforcement_level,
                                                  found.resource_urn or "", found.message))

    def preview(self, policy: bool = True, **kw: Any):
        """`pulumi preview` (with the policy pack unless policy=False); its policy events land in .policy_events,
        also when the preview fails (then the CommandError propagates)."""
        self.log.append(f"$ pulumi preview ({self.name})")
        self.policy_events = []
        return self.stack.preview(color="never", on_output=self._on_output, on_event=self._collect_policy_events,
                                  **self._policy(policy), **kw)

    def preview_steps(self, policy: bool = False, **kw: Any) -> list[Step]:
        """The steps of `pulumi preview --json`: one per resource with its URN and operation."""
        self.log.append(f"$ pulumi preview --json ({self.name})")
        result = self.stack.preview(color="never", json=True, **self._policy(policy), **kw)
        document = json.loads(result.stdout)
        return [Step(s["urn"], s["op"], (s.get("newState") or s.get("oldState") or {}).get("type", ""))
                for s in document.get("steps", [])]

    def up(self, policy: bool = True, **kw: Any):
        self.log.append(f"$ pulumi up ({self.name})")
        return self.stack.up(color="never", on_output=self._on_output, **self._policy(policy), **kw)

    def refresh(self, **kw: Any):
        self.log.append(f"$ pulumi refresh ({self.name})")
        return self.stack.refresh(color="never", on_output=self._on_output, **kw)

    def destroy(self, **kw: Any):
        self.log.append(f"$ pulumi destroy ({self.name})")
        return self.stack.destroy(color="never", on_output=self._on_output, **kw)

    def resources(self) -> list[dict[str, Any]]:
        return list((self.stack.export_stack().deployment or {}).get("resources", []))

    def custom_resources(self) -> list[dict[str, Any]]:
        """Resources of the state that are objects in a cluster or cloud (not providers, components or the stack)."""
        return [r for r in self.resources() if r.get("custom") and not r["type"].startswith("pulumi:providers:")]


@dataclass
class EngineStackFactory:
    tools: EngineTools
    tmp: Path
    made: list[EngineStack] = field(default_factory=list)

    def __call__(self, stack: str, stack_doc: Mapping[str, Any], servers: Mapping[str, EnvTest], *,
                 extra_path: Sequence[Path] = (), env: Mapping[str, str] | None = None,
                 policy_config: Path | None = None) -> EngineStack:
        """A fresh stack `stack` of the project: its own work dir, backend and PULUMI_HOME; a kubeconfig with one
        context per API server ({context name: EnvTest}; context names must match the stack's `context:` keys)."""
        workdir = self.tmp / f"{stack}-{len(self.made)}"
        workdir.mkdir(parents=True)
        kubeconfig = write_kubeconfig(workdir / "kubeconfig", dict(servers))
        made = EngineStack(self.tools, workdir, stack, stack_doc, kubeconfig, extra_path=extra_path, env=env,
                           policy_config=policy_config)
        self.made.append(made)
        return made

    make = __call__
