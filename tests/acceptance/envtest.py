"""A throw-away Kubernetes control plane for tests: etcd + kube-apiserver on loopback, optionally
kube-controller-manager.

No kubelet, no scheduler: objects are stored and validated (OpenAPI schema of built-in types and CRDs, strict field
validation, admission that needs no controllers) but no workload runs. With `controllers=True` (see
`CONTROLLERS`), kube-controller-manager runs the controllers that make deletion finish the way it does on a real
cluster: the namespace controller (a deleted namespace empties and disappears instead of staying Terminating) and
the garbage collector (foreground deletion and owner references), plus service accounts and resource quotas.
The binaries and CRDs come from `scripts/envtest/setup.sh`, which records them in
`${FLINKPLAT_CACHE:-~/.cache/flink-platform}/envtest/<k8s-version>/envtest.json`.

All API calls are plain HTTPS requests (`urllib` + `ssl`); no kubectl and no client library.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FIELD_MANAGER = "flinkplat-acceptance"

# The controllers kube-controller-manager runs with `controllers=True`: what deletion needs, the resource-quota
# controller (Pulumi's Kubernetes provider waits for a ResourceQuota's status.hard, as on any real cluster), and
# nothing that would create workloads (no deployment/replicaset controllers: no Pods that no kubelet would run).
CONTROLLERS = ("namespace", "garbagecollector", "serviceaccount", "serviceaccount-token", "resourcequota")


def cache_root() -> Path:
    return Path(os.environ.get("FLINKPLAT_CACHE") or Path.home() / ".cache" / "flink-platform")


def envtest_info(kubernetes_version: str) -> dict[str, Any] | None:
    """What setup.sh prepared for this Kubernetes version, or None if it has not run (or is incomplete)."""
    path = cache_root() / "envtest" / kubernetes_version / "envtest.json"
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not all(os.access(info.get(k, ""), os.X_OK) for k in ("kube_apiserver", "etcd")):
        return None
    if not os.access(info.get("kube_controller_manager", ""), os.X_OK):
        info.pop("kube_controller_manager", None)  # an install of an older recipe: EnvTest(controllers=True) says so
    if not all(Path(p).is_file() for p in info.get("crds", [])):
        return None
    return info


class ApiError(Exception):
    """A non-2xx answer of the API server; `message` is the Status message the server sent."""

    def __init__(self, code: int, message: str, status: dict[str, Any] | None, what: str):
        super().__init__(f"{what}: HTTP {code}: {message}")
        self.code = code
        self.message = message
        self.status = status or {}
        self.what = what


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_kubeconfig(path: Path, servers: dict[str, "EnvTest"], current: str | None = None) -> Path:
    """One kubeconfig with a context per API server ({context name: EnvTest}); the first is current by default."""
    import yaml

    entries = [env.kubeconfig_entry(name) for name, env in servers.items()]
    doc = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [e["cluster"] for e in entries], "users": [e["user"] for e in entries],
        "contexts": [e["context"] for e in entries],
        "current-context": current or next(iter(servers)),
    }
    path = Path(path)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    path.chmod(0o600)
    return path


@dataclass
class _Resource:
    plural: str
    namespaced: bool


class EnvTest:
    """Start with `start()`, stop with `stop()` (or use as a context manager)."""

    def __init__(self, info: dict[str, Any], workdir: Path | None = None, log=None, controllers: bool = False):
        """`controllers`: also run kube-controller-manager (see CONTROLLERS), so namespaces and owned objects are
        really deleted."""
        if controllers and not info.get("kube_controller_manager"):
            raise LookupError("this envtest install has no kube-controller-manager: re-run scripts/envtest/setup.sh")
        self.info = info
        self.controllers = controllers
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="flinkplat-envtest-"))
        self.token = "flinkplat-envtest-admin-token"
        self._procs: list[tuple[str, subprocess.Popen]] = []
        self._discovery: dict[tuple[str, str], _Resource] = {}
        self._log = log or (lambda msg: None)
        self.url = ""
        self._ssl: ssl.SSLContext | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------

    def __enter__(self) -> "EnvTest":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self, timeout: float = 120.0) -> None:
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            raise

    def _start(self, timeout: float) -> None:
        w = self.workdir
        (w / "certs").mkdir(parents=True, exist_ok=True)
        # Service-account token signing key (the API server refuses to start without one).
        subprocess.run(
            ["openssl", "genrsa", "-out", str(w / "sa.key"), "2048"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        subprocess.run(
            ["openssl", "rsa", "-in", str(w / "sa.key"), "-pubout", "-out", str(w / "sa.pub")],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        # Static bearer token of a cluster admin (system:masters bypasses RBAC).
        (w / "tokens.csv").write_text(f'{self.token},envtest-admin,envtest-admin,"system:masters"\n')

        etcd_client, etcd_peer = _free_port(), _free_port()
        self._spawn("etcd", [
            self.info["etcd"],
            "--name=envtest",
            f"--data-dir={w / 'etcd'}",
            f"--listen-client-urls=http://127.0.0.1:{etcd_client}",
            f"--advertise-client-urls=http://127.0.0.1:{etcd_client}",
            f"--listen-peer-urls=http://127.0.0.1:{etcd_peer}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{etcd_peer}",
            f"--initial-cluster=envtest=http://127.0.0.1:{etcd_peer}",
            "--unsafe-no-fsync=true",
            "--log-level=warn",
        ])

        port = _free_port()
        self.url = f"https://127.0.0.1:{port}"
        self._spawn("kube-apiserver", [
            self.info["kube_apiserver"],
            f"--etcd-servers=http://127.0.0.1:{etcd_client}",
            f"--cert-dir={w / 'certs'}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={port}",
            f"--token-auth-file={w / 'tokens.csv'}",
            "--authorization-mode=RBAC",
            f"--service-account-key-file={w / 'sa.pub'}",
            f"--service-account-signing-key-file={w / 'sa.key'}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            "--service-cluster-ip-range=10.96.0.0/16",
            "--allow-privileged=true",
            # Only the ServiceAccount plugin is off: it would reject Pods in namespaces whose `default` service
            # account no controller ever creates. Schema validation is not an admission plugin and stays on.
            "--disable-admission-plugins=ServiceAccount",
            "--enable-priority-and-fairness=false",
            "--profiling=false",
            "--v=1",
        ])
        self._wait_ready(timeout)
        if self.controllers:
            self._start_controller_manager(timeout)

    def _start_controller_manager(self, timeout: float) -> None:
        w = self.workdir
        self.write_kubeconfig(w / "controller-manager.kubeconfig", "envtest")
        self._spawn("kube-controller-manager", [
            self.info["kube_controller_manager"],
            f"--kubeconfig={w / 'controller-manager.kubeconfig'}",
            f"--controllers={','.join(CONTROLLERS)}",
            # signs the tokens of service-account Secrets (serviceaccount-token controller)
            f"--service-account-private-key-file={w / 'sa.key'}",
            f"--root-ca-file={w / 'certs' / 'apiserver.crt'}",
            "--leader-elect=false",
            "--secure-port=0",  # no metrics/health endpoint: nothing scrapes it, and it would need its own certs
            "--concurrent-gc-syncs=5",
            "--concurrent-namespace-syncs=5",
            "--v=1",
        ])
        # Ready = the service-account controller created the `default` ServiceAccount of `default`.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            name, proc = self._procs[-1]
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.log_tail(name)}")
            code, _ = self._request("GET", "/api/v1/namespaces/default/serviceaccounts/default")
            if code == 200:
                return
            time.sleep(0.25)
        raise TimeoutError(f"kube-controller-manager not working after {timeout}s:\n"
                           f"{self.log_tail('kube-controller-manager')}")

    def kubeconfig_entry(self, context: str) -> dict[str, Any]:
        """This API server as one (cluster, user, context) of a kubeconfig, all named `context`."""
        ca = (self.workdir / "certs" / "apiserver.crt").read_bytes()
        import base64

        return {
            "cluster": {"name": context, "cluster": {
                "server": self.url, "certificate-authority-data": base64.b64encode(ca).decode()}},
            "user": {"name": context, "user": {"token": self.token}},
            "context": {"name": context, "context": {"cluster": context, "user": context}},
        }

    def write_kubeconfig(self, path: Path, context: str) -> Path:
        """A kubeconfig whose only (and current) context is `context`, pointing at this API server."""
        return write_kubeconfig(path, {context: self})

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = open(self.workdir / f"{name}.log", "wb")
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        log.close()
        self._procs.append((name, proc))

    def log_tail(self, name: str, lines: int = 40) -> str:
        try:
            return "\n".join((self.workdir / f"{name}.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = "not started"
        while time.monotonic() < deadline:
            for name, proc in self._procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.log_tail(name)}")
            cert = self.workdir / "certs" / "apiserver.crt"
            if cert.exists():
                if self._ssl is None:
                    # The API server generates a self-signed serving certificate for 127.0.0.1; trust exactly it.
                    self._ssl = ssl.create_default_context(cafile=str(cert))
                try:
                    code, body = self._request("GET", "/readyz")
                    if code == 200:
                        # the bootstrap controller creates `default` shortly after /readyz
                        self._request_json("GET", "/api/v1/namespaces/default")
                        return
                    last = body.decode(errors="replace")
                except (OSError, ApiError, ssl.SSLError) as err:
                    last = str(err)
            time.sleep(0.25)
        raise TimeoutError(f"kube-apiserver not ready after {timeout}s: {last}\n{self.log_tail('kube-apiserver')}")

    def stop(self) -> None:
        for name, proc in reversed(self._procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=15)
        self._procs.clear()
        if self._own_workdir and not os.environ.get("FLINKPLAT_ENVTEST_KEEP"):
            shutil.rmtree(self.workdir, ignore_errors=True)

    # -- HTTP ------------------------------------------------------------------------------------------------

    def _request(self, method: str, path: str, body: bytes | None = None,
                 content_type: str = "application/json") -> tuple[int, bytes]:
        req = urllib.request.Request(self.url + path, data=body, method=method)
        req.add_header("Authorization", f"Bearer {self.token}")
        req.add_header("Accept", "application/json")
        if body is not None:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, context=self._ssl, timeout=60) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def _request_json(self, method: str, path: str, body: bytes | None = None,
                      content_type: str = "application/json", what: str = "") -> dict[str, Any]:
        code, data = self._request(method, path, body, content_type)
        try:
            doc = json.loads(data) if data else {}
        except ValueError:
            doc = {"message": data.decode(errors="replace")}
        if not 200 <= code < 300:
            raise ApiError(code, doc.get("message", ""), doc, what or f"{method} {path}")
        return doc

    def get(self, path: str) -> dict[str, Any]:
        return self._request_json("GET", path)

    # -- discovery -------------------------------------------------------------------------------------------

    def resource_for(self, api_version: str, kind: str) -> _Resource:
        key = (api_version, kind)
        if key not in self._discovery:
            base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
            try:
                doc = self.get(base)
            except ApiError as err:
                raise LookupError(f"the API server does not serve {api_version}") from err
            for res in doc.get("resources", []):
                if "/" not in res["name"]:
                    self._discovery[(api_version, res["kind"])] = _Resource(res["name"], res["namespaced"])
            if key not in self._discovery:
                raise LookupError(f"the API server does not serve kind {kind} in {api_version}")
        return self._discovery[key]

    def path_for(self, manifest: dict[str, Any], namespace: str | None = None) -> str:
        api_version, kind = manifest["apiVersion"], manifest["kind"]
        res = self.resource_for(api_version, kind)
        base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        name = urllib.parse.quote(manifest["metadata"]["name"], safe="")
        if res.namespaced:
            ns = manifest["metadata"].get("namespace") or namespace or "default"
            return f"{base}/namespaces/{ns}/{res.plural}/{name}"
        return f"{base}/{res.plural}/{name}"

    # -- server-side apply -----------------------------------------------------------------------------------

    def apply(self, manifest: dict[str, Any], *, dry_run: bool = False, field_manager: str = FIELD_MANAGER,
              force: bool = True) -> dict[str, Any]:
        """Server-side apply with strict field validation; returns the object the server stored (or would)."""
        params = {"fieldManager": field_manager, "fieldValidation": "Strict", "force": "true" if force else "false"}
        if dry_run:
            params["dryRun"] = "All"
        path = self.path_for(manifest) + "?" + urllib.parse.urlencode(params)
        meta = manifest.get("metadata", {})
        what = f"{'dry-run ' if dry_run else ''}apply {manifest.get('kind')} {meta.get('namespace', '')}/{meta.get('name')}"
        # JSON is YAML, so the apply-patch+yaml content type takes it as is.
        return self._request_json("PATCH", path, json.dumps(manifest).encode(),
                                  "application/apply-patch+yaml", what=what)

    def delete(self, manifest: dict[str, Any]) -> None:
        self._request_json("DELETE", self.path_for(manifest))

    def create_namespace(self, name: str) -> None:
        self.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})

    def install_crds(self, paths: list[str], timeout: float = 60.0) -> list[str]:
        """Applies the CRD files and waits until each is Established and served; returns the CRD names."""
        import yaml

        names = []
        for path in paths:
            for doc in yaml.safe_load_all(Path(path).read_text()):
                if doc and doc.get("kind") == "CustomResourceDefinition":
                    self.apply(doc)
                    names.append(doc["metadata"]["name"])
        deadline = time.monotonic() + timeout
        for name in names:
            while True:
                crd = self.get(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
                # right after creation `conditions` may still be null
                conds = {c["type"]: c["status"] for c in (crd.get("status") or {}).get("conditions") or []}
                if conds.get("Established") == "True":
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"CRD {name} not established: {crd.get('status')}")
                time.sleep(0.2)
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                if not version.get("served", True):
                    continue
                while True:  # discovery can lag behind Established by a moment
                    try:
                        self._discovery.pop((f"{group}/{version['name']}", kind), None)
                        self.resource_for(f"{group}/{version['name']}", kind)
                        break
                    except LookupError:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.2)
        return names
