"""Raw settings must not bypass what the platform guarantees.

`spec.flinkConfiguration` (and a pod template) is a pass-through: any Flink option lands in the cluster as written.
These rules catch the options that would quietly undo a typed guarantee of the platform, on the rendered objects:

- `flink-no-plain-secrets`: credentials, passwords, JAAS logins, tokens and API keys written as plain values
  (their values are also masked in every plan output, `flinkplat.plan.masking`); cannot be waived;
- `flink-config-bypass`: hostNetwork switched on outside `taskManager.hostNetwork`, other service accounts, pod
  template files, Flink-internal options;
- `flink-storage-prefix`: checkpoints, savepoints and HA metadata stay durable, retained and under the cluster's own
  prefix (the only one its role can reach);
- `flink-monitoring-scrapable`: every PodMonitor/ServiceMonitor scrape target is a port the Prometheus reporter
  really listens on, with Flink's default metric names (what the alerts query).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from flinkplat.flink import keys
from flinkplat.flink.keys import (
    CHECKPOINT_STORAGE_KEYS, HOSTNETWORK_KEY, INTERNAL_PREFIX, POD_TEMPLATE_FILE_PREFIX, RETAIN_ON_CANCELLATION,
    RETENTION_KEY, SERVICE_ACCOUNT_KEYS,
)
from flinkplat.flink.sensitive_keys import ADVICE, ENV_OPTION_PREFIXES, literal_secret_env, sensitive_keys
from flinkplat.rules.base import (
    FLINK_DEPLOYMENT, FLINK_SESSION_JOB, MANDATORY, SERVICE, Finding, Res, Rule, Stack, as_bool, as_int, get, message,
    plain,
)
from flinkplat.rules.flink import view

POD_MONITOR = "kubernetes:monitoring.coreos.com/v1:PodMonitor"
SERVICE_MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
MAIN_CONTAINER = "flink-main-container"
POD_TEMPLATES = (("spec.podTemplate", ("podTemplate",)),
                 ("spec.jobManager.podTemplate", ("jobManager", "podTemplate")),
                 ("spec.taskManager.podTemplate", ("taskManager", "podTemplate")))

# ---------------------------------------------------------------------------------------------------------------
# Secrets in plain configuration
# ---------------------------------------------------------------------------------------------------------------


def _containers(pod_spec: Any) -> Iterator[Any]:
    for field in ("initContainers", "containers"):
        containers = get(pod_spec, field, default=[])
        if isinstance(containers, Sequence) and not isinstance(containers, str):
            yield from containers


def plain_secrets(res: Res) -> list[tuple[str, str]]:
    """[(where, kind)] of every secret `res` carries as a plain value."""
    found = [(f"spec.flinkConfiguration[\"{s.key}\"]", s.kind) for s in sensitive_keys(view(res).conf)]
    for label, path in POD_TEMPLATES:
        for container in _containers(get(res.props, "spec", *path, "spec", default={})):
            cname = get(container, "name", default="?")
            for name, kind in literal_secret_env(plain(get(container, "env", default=[]))):
                found.append((f"{label} container {cname} env {name}", kind))
    return found


def check_plain_secrets(res: Res, cfg: dict) -> Iterator[Finding]:
    found = plain_secrets(res)
    if not found:
        return
    kinds = list(dict.fromkeys(kind for _, kind in found))
    fixes = [f"for the {kind}: {ADVICE[kind]}" for kind in kinds]
    yield Finding(message(
        f"{res.label} has secret values in plain configuration: "
        + "; ".join(f"{where} ({kind})" for where, kind in found) + ".",
        "the value is stored in clear text in the Kubernetes object (readable by anyone who can read the resource), in "
        "the Pulumi state and in every plan and review (flinkplat masks it there, the cluster does not), and it "
        "cannot be rotated without a redeploy. This policy cannot be waived.",
        "remove the value; " + "; ".join(fixes) + "."))


# ---------------------------------------------------------------------------------------------------------------
# Options that bypass the spec and the typed stack file
# ---------------------------------------------------------------------------------------------------------------

def check_config_bypass(res: Res, cfg: dict) -> Iterator[Finding]:
    conf = view(res).conf
    if as_bool(conf.get(HOSTNETWORK_KEY)):
        yield Finding(message(
            f"{res.label} turns on the host network with {HOSTNETWORK_KEY}: true.",
            "Flink then runs the JobManager and every TaskManager on the node's network, without the fixed ports "
            "declared as hostPorts (two pods on one node collide), without a recorded compensating control, and in a "
            "namespace whose Pod Security level (restricted) rejects such pods; NetworkPolicy does not isolate them.",
            f"remove {HOSTNETWORK_KEY}; if TaskManagers must use the host network, set taskManager.hostNetwork in the "
            "stack file (ports, node pool, nodeCidrs, compensatingControl), which renders all of that."))
    for label, path in POD_TEMPLATES[:2]:
        if get(res.props, "spec", *path, "spec", "hostNetwork") is True:
            yield Finding(message(
                f"{res.label} runs the JobManager on the host network ({label}.spec.hostNetwork: true).",
                "the JobManager's unauthenticated REST API and RPC ports would be open on the node's address, outside "
                "every NetworkPolicy, and its pods are rejected by the namespace's Pod Security level.",
                "remove hostNetwork from that pod template; only TaskManagers may use it, through "
                "taskManager.hostNetwork in the stack file."))
    account = get(res.props, "spec", "serviceAccount")
    for key in SERVICE_ACCOUNT_KEYS:
        value = conf.get(key)
        if value is not None and (account is None or value != str(account)):
            who = {"kubernetes.service-account": "the JobManager and TaskManagers",
                   "kubernetes.jobmanager.service-account": "the JobManager",
                   "kubernetes.taskmanager.service-account": "the TaskManagers"}[key]
            yield Finding(message(
                f"{res.label} runs {who} as service account '{value}' ({key}) instead of spec.serviceAccount "
                f"'{account}'.",
                "the platform's service account carries the cluster's cloud role (IRSA / Pod Identity, scoped to its "
                "own checkpoint prefix) and the RBAC for TaskManager pods and HA ConfigMaps; another account either "
                "breaks checkpoints and HA or borrows someone else's permissions.",
                f"remove {key}; the service account is spec.serviceAccount, which the platform sets."))
    files = sorted(k for k in conf if k.startswith(POD_TEMPLATE_FILE_PREFIX))
    if files:
        yield Finding(message(
            f"{res.label} loads pod templates from files ({', '.join(files)}).",
            "a template file on the image or the operator's disk bypasses spec.podTemplate: its hostNetwork, "
            "security context, volumes and environment are neither reviewed in the plan nor checked by this pack.",
            f"remove {', '.join(files)}; the pod templates are spec.podTemplate and spec.jobManager/taskManager."
            "podTemplate, which the platform renders from the stack file."))
    internal = sorted(k for k in conf if k.startswith(INTERNAL_PREFIX))
    if internal:
        yield Finding(message(
            f"{res.label} sets Flink-internal options: {', '.join(internal)}.",
            "options under $internal. are written by Flink and the operator themselves (job ids, program arguments, "
            "deployment targets); setting them overrides that bookkeeping and breaks upgrades and recovery.",
            f"remove {', '.join(internal)}."))


# ---------------------------------------------------------------------------------------------------------------
# Checkpoint, savepoint and HA storage
# ---------------------------------------------------------------------------------------------------------------

RETENTION_KEYS = (RETENTION_KEY, f"{RETENTION_KEY}.enabled")


def _split_url(url: str) -> tuple[str, str, list[str]] | None:
    """'s3://bucket/a/b/' -> ('s3', 'bucket', ['a', 'b']); None without scheme and bucket."""
    scheme, sep, rest = url.strip().partition("://")
    if not sep or not rest:
        return None
    bucket, _, path = rest.partition("/")
    return scheme.lower(), bucket, [segment for segment in path.split("/") if segment]


def _cluster_prefix(segments: list[str], namespace: str, name: str) -> list[str] | None:
    """The segments up to and including `<namespace>/<name>`, or None when the path is not under them."""
    for index in range(len(segments) - 1):
        if segments[index] == namespace and segments[index + 1] == name:
            return segments[:index + 2]
    return None


def check_storage_prefix(res: Res, cfg: dict) -> Iterator[Finding]:
    flink = view(res)
    conf = flink.conf
    namespace, name = res.namespace, res.object_name
    dirs = {key: conf[key] for key in (*keys.CHECKPOINT_DIR_KEYS, *keys.SAVEPOINT_DIR_KEYS, keys.HA_STORAGE_KEY)
            if conf.get(key) not in (None, "")}
    if keys.HA_STORAGE_KEY in dirs and not flink.ha_enabled:
        del dirs[keys.HA_STORAGE_KEY]  # read by nothing without HA
    why_prefix = ("each Flink cluster's cloud role reaches only s3://<bucket>/<kube cluster>/<namespace>/<name>/; a "
                  "directory elsewhere fails with access denied at the first checkpoint (or, with a broader role, "
                  "reads and overwrites another job's state), and the bucket's lifecycle rules do not apply to it.")
    outside = []
    prefixes: dict[tuple, list[str]] = {}
    for key, url in dirs.items():
        parts = _split_url(url)
        if parts is None:
            continue  # flink-checkpointing / flink-ha report unusable locations
        scheme, bucket, segments = parts
        prefix = _cluster_prefix(segments, namespace, name)
        if prefix is None:
            outside.append(f"{key}: {url}")
        else:
            prefixes.setdefault((scheme, bucket, tuple(prefix)), []).append(key)
    if outside:
        yield Finding(message(
            f"{res.label} keeps state outside its own prefix (…/{namespace}/{name}/): {'; '.join(outside)}.",
            why_prefix,
            "remove these options from spec.flinkConfiguration (stack file: flinkConfiguration): the platform points "
            "checkpoints, savepoints and HA metadata at the cluster's own prefix."))
    elif len(prefixes) > 1:
        shown = "; ".join(f"{', '.join(k)} under {s}://{b}/{'/'.join(p)}/" for (s, b, p), k in prefixes.items())
        yield Finding(message(
            f"{res.label} splits its state across prefixes: {shown}.", why_prefix,
            "keep every directory under the one prefix the platform renders (remove the flinkConfiguration "
            "overrides)."))
    storage = flink.first(CHECKPOINT_STORAGE_KEYS)
    if storage is not None and storage.strip().lower() == "jobmanager":
        key = next(k for k in CHECKPOINT_STORAGE_KEYS if conf.get(k) not in (None, ""))
        yield Finding(message(
            f"{res.label} keeps checkpoints in the JobManager's memory ({key}: {storage}).",
            "JobManager checkpoint storage ignores the checkpoint directory: a JobManager restart, failover or upgrade "
            "loses every checkpoint, so the job restarts from its last savepoint or from nothing.",
            f"remove {key} (Flink then writes checkpoints to the checkpoint directory in S3)."))
    retention = conf.get(RETENTION_KEYS[0])
    if retention is not None and retention.strip().upper() != RETAIN_ON_CANCELLATION:
        yield Finding(message(
            f"{res.label} sets {RETENTION_KEYS[0]}: {retention}.",
            "cancelling the job (a stateless upgrade, a suspend, a manual cancel) then deletes its checkpoints, so "
            "there is nothing to restore from if the cancel was a mistake or the savepoint failed.",
            f"remove {RETENTION_KEYS[0]}; the platform sets {RETAIN_ON_CANCELLATION}."))
    enabled = conf.get(RETENTION_KEYS[1])
    if enabled is not None and enabled.strip().lower() == "false":
        yield Finding(message(
            f"{res.label} turns externalized checkpoints off ({RETENTION_KEYS[1]}: false).",
            "checkpoints are then deleted when the job stops, so a cancelled or failed-over job cannot be restored "
            "from them.", f"remove {RETENTION_KEYS[1]}."))


# ---------------------------------------------------------------------------------------------------------------
# Monitoring that can work: scrape target ↔ container port ↔ Prometheus reporter
# ---------------------------------------------------------------------------------------------------------------

PROM_FACTORIES = {keys.PROM_FACTORY}
PROM_CLASSES = {"org.apache.flink.metrics.prometheus.PrometheusReporter"}  # the pre-factory spelling
DEFAULT_PROM_PORT = "9249"
OPERATOR_LABELS = {"native": "flink-native-kubernetes", "standalone": "flink-standalone-kubernetes"}
COMPONENTS = ("jobmanager", "taskmanager")


def prometheus_reporters(conf: Mapping[str, str]) -> tuple[dict[str, str], list[str], str | None]:
    """({reporter name: port option value} of the enabled Prometheus reporters, the configured but disabled ones,
    the `metrics.reporters` include list or None)."""
    configured: dict[str, str] = {}
    for key, value in conf.items():
        if not key.startswith("metrics.reporter."):
            continue
        name, _, option = key[len("metrics.reporter."):].partition(".")
        value = value.strip()
        if (option == "factory.class" and value in PROM_FACTORIES) or (option == "class" and value in PROM_CLASSES):
            configured[name] = conf.get(f"metrics.reporter.{name}.port", DEFAULT_PROM_PORT).strip()
    configured = dict(sorted(configured.items()))  # messages list them in a stable order
    include = conf.get("metrics.reporters")
    if include is None or not include.strip():
        return configured, [], None
    enabled = {part.strip() for part in include.split(",") if part.strip()}
    return ({n: p for n, p in configured.items() if n in enabled},
            sorted(n for n in configured if n not in enabled), include)


def port_ranges(text: str) -> list[tuple[int, int]] | None:
    """Flink's port option (`9249`, `9250-9260`, `9249,9300-9301`) as ranges; None when unreadable."""
    out = []
    for part in text.split(","):
        low, dash, high = part.strip().partition("-")
        lo, hi = as_int(low), as_int(high) if dash else as_int(low)
        if lo is None or hi is None or not 0 <= lo <= hi <= 65535:
            return None
        out.append((lo, hi))
    return out or None


def pod_labels(deployment: Res, component: str) -> dict[str, str]:
    """The labels the operator and Flink put on a component's pods: the pod templates' plus app/component/type."""
    out: dict[str, str] = {}
    for path in (("podTemplate",), ("jobManager" if component == "jobmanager" else "taskManager", "podTemplate")):
        labels = plain(get(deployment.props, "spec", *path, "metadata", "labels", default={}))
        if isinstance(labels, Mapping):
            out.update({str(k): str(v) for k, v in labels.items()})
    mode = str(get(deployment.props, "spec", "mode", default="native") or "native")
    out.update({"app": deployment.object_name, "component": component,
                "type": OPERATOR_LABELS.get(mode, OPERATOR_LABELS["native"])})
    return out


def container_ports(deployment: Res, component: str) -> list[dict[str, Any]]:
    """Ports of flink-main-container in a component's pods: its own pod template's, else the shared one's."""
    side = "jobManager" if component == "jobmanager" else "taskManager"
    for path in ((side, "podTemplate"), ("podTemplate",)):
        for container in get(deployment.props, "spec", *path, "spec", "containers", default=[]):
            if get(container, "name") == MAIN_CONTAINER and get(container, "ports"):
                return [p for p in plain(get(container, "ports")) if isinstance(p, Mapping)]
    return []


def selects(selector: Any, labels: Mapping[str, str]) -> bool:
    """A Kubernetes label selector (matchLabels / matchExpressions) against labels. An empty selector selects all.
    `selector` is a plain dict (`plain(...)` of the props)."""
    selector = selector if selector is not None else {}
    if not isinstance(selector, Mapping):
        return False
    match_labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if not isinstance(match_labels, Mapping) or not isinstance(expressions, list):
        return False  # not a selector the API server would accept: selects nothing
    for key, value in match_labels.items():
        if labels.get(str(key)) != str(value):
            return False
    for expression in expressions:
        if not isinstance(expression, Mapping):
            return False
        key, operator = str(expression.get("key")), str(expression.get("operator"))
        values = {str(v) for v in expression.get("values") or []} if isinstance(expression.get("values"), list) \
            else set()
        present = key in labels
        if ((operator == "In" and (not present or labels[key] not in values))
                or (operator == "NotIn" and present and labels[key] in values)
                or (operator == "Exists" and not present) or (operator == "DoesNotExist" and present)):
            return False
    return True


def _plain_selector(value: Any) -> dict[str, str]:
    value = plain(value) if value is not None else {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, Mapping) else {}


def _namespaces(monitor: Res) -> set[str] | None:
    """Namespaces a monitor looks in (None: any)."""
    selector = plain(get(monitor.props, "spec", "namespaceSelector", default={}))
    if isinstance(selector, Mapping) and selector.get("any") is True:
        return None
    names = selector.get("matchNames") if isinstance(selector, Mapping) else None
    return {str(n) for n in names} if names else {monitor.namespace}


def _resolve_container_port(port: Any, ports: list[dict[str, Any]]) -> tuple[int | None, str]:
    """(number, how it was named) of a scrape port given by name or number against a container's ports."""
    number = as_int(port)
    if number is not None:
        return number, f"port {number}"
    named = next((p for p in ports if p.get("name") == str(port)), None)
    if named is None:
        return None, f"port '{port}'"
    return as_int(named.get("containerPort")), f"port '{port}' (containerPort {as_int(named.get('containerPort'))})"


class _Index:
    """FlinkDeployments and Services by (provider, namespace), with each pod's labels computed once: a large fleet
    has a monitor per cluster, and each only looks at its own namespace."""

    def __init__(self, stack: Stack):
        self.deployments: dict[tuple[str, str], list[Res]] = {}
        self.services: dict[tuple[str, str], list[Res]] = {}
        for deployment in stack.of_type(FLINK_DEPLOYMENT):
            self.deployments.setdefault((deployment.provider, deployment.namespace), []).append(deployment)
        for service in stack.of_type(SERVICE):
            self.services.setdefault((service.provider, service.namespace), []).append(service)
        self._labels: dict[tuple[str, str], dict[str, str]] = {}

    def _in(self, table: dict[tuple[str, str], list[Res]], provider: str, namespaces: set[str] | None) -> list[Res]:
        if namespaces is None:
            return [r for (p, _), rs in table.items() if p == provider for r in rs]
        return [r for namespace in sorted(namespaces) for r in table.get((provider, namespace), [])]

    def deployments_in(self, provider: str, namespaces: set[str] | None) -> list[Res]:
        return self._in(self.deployments, provider, namespaces)

    def services_in(self, provider: str, namespaces: set[str] | None) -> list[Res]:
        return self._in(self.services, provider, namespaces)

    def labels(self, deployment: Res, component: str) -> dict[str, str]:
        key = (deployment.key, component)
        if key not in self._labels:
            self._labels[key] = pod_labels(deployment, component)
        return self._labels[key]


def _targets(monitor: Res, index: _Index) -> list[tuple[Res, str, Any, str]]:
    """[(deployment, component, container port (name or number), how the monitor reaches it)]."""
    namespaces = _namespaces(monitor)
    in_scope = index.deployments_in(monitor.provider, namespaces)
    out = []
    selector = plain(get(monitor.props, "spec", "selector", default={}))
    if monitor.type == POD_MONITOR:
        for endpoint in get(monitor.props, "spec", "podMetricsEndpoints", default=[]):
            port = get(endpoint, "port", default=get(endpoint, "portNumber", default=get(endpoint, "targetPort")))
            for deployment in in_scope:
                for component in COMPONENTS:
                    if selects(selector, index.labels(deployment, component)):
                        out.append((deployment, component, port, "scrapes"))
        return out
    services = [s for s in index.services_in(monitor.provider, namespaces)
                if selects(selector, _plain_selector(get(s.props, "metadata", "labels", default={})))]
    for endpoint in get(monitor.props, "spec", "endpoints", default=[]):
        port_name, target = get(endpoint, "port"), get(endpoint, "targetPort")
        for service in services:
            pod_selector = _plain_selector(get(service.props, "spec", "selector", default={}))
            if not pod_selector:
                continue  # a Service without selector has hand-made endpoints: nothing to follow
            container_port = target
            if container_port is None:
                ports = get(service.props, "spec", "ports", default=[])
                match = next((p for p in ports if get(p, "name") == port_name), None)
                if match is None:
                    continue  # the monitor then selects none of the pods (reported by the caller)
                container_port = get(match, "targetPort", default=get(match, "port"))
            for deployment in index.deployments_in(service.provider, {service.namespace}):
                for component in COMPONENTS:
                    if selects({"matchLabels": pod_selector}, index.labels(deployment, component)):
                        out.append((deployment, component, container_port,
                                    f"scrapes (through Service {service.object_name} port '{port_name}')"))
    return out


SCOPE_PREFIX = "metrics.scope."


def check_monitoring(stack: Stack, cfg: dict) -> Iterator[Finding]:
    index = _Index(stack)
    why_dead = ("Prometheus then scrapes nothing from these pods; the PrometheusRule's alerts only fire on series that "
                "exist, so a failing job stays silent and the dashboard stays empty.")
    for monitor in stack.of_type(POD_MONITOR, SERVICE_MONITOR):
        kind = "PodMonitor" if monitor.type == POD_MONITOR else "ServiceMonitor"
        who = f"{kind} {monitor.namespace}/{monitor.object_name}"
        targets = _targets(monitor, index)
        intended = str(get(monitor.props, "metadata", "labels", "app.kubernetes.io/name", default=""))
        owner = next((d for d in index.deployments_in(monitor.provider, {monitor.namespace})
                      if d.object_name == intended), None)
        if owner is not None and not any(t[0] is owner for t in targets):
            yield Finding(message(
                f"{who} selects none of the pods of {owner.label}.", why_dead,
                "select the pods by the labels the platform renders (app.kubernetes.io/name and component), and for a "
                "ServiceMonitor a Service whose selector matches them and that has the endpoint's port."),
                monitor, (owner,))
        by_deployment: dict[str, list[tuple[Res, str, Any, str]]] = {}
        for target in targets:
            by_deployment.setdefault(target[0].key, []).append(target)
        for group in by_deployment.values():
            deployment = group[0][0]
            conf = view(deployment).conf
            reporters, disabled, include = prometheus_reporters(conf)
            if not reporters:
                if disabled:
                    state = (f"metrics.reporters: {include} leaves out the Prometheus reporter "
                             f"{', '.join(repr(n) for n in disabled)}")
                else:
                    state = (f"no metrics.reporter.<name>.factory.class is {keys.PROM_FACTORY} "
                             f"(the platform sets {keys.PROM_FACTORY_KEY})")
                yield Finding(message(
                    f"{who} scrapes {deployment.label}, but its Prometheus reporter is off: {state}.", why_dead,
                    f"remove the flinkConfiguration override so {keys.PROM_FACTORY_KEY} is "
                    f"{keys.PROM_FACTORY} (and metrics.reporters, if set, lists 'prom')."), monitor, (deployment,))
                continue
            listening: list[tuple[int, int]] = []
            for text in reporters.values():
                listening += port_ranges(text) or []
            shown = ", ".join(f"'{n}' on {p} (metrics.reporter.{n}.port)" for n, p in reporters.items())
            seen: set[tuple[str, str]] = set()
            for _, component, port, how in group:
                if (component, str(port)) in seen:
                    continue
                seen.add((component, str(port)))
                number, named = _resolve_container_port(port, container_ports(deployment, component))
                side = "JobManager" if component == "jobmanager" else "TaskManager"
                if number is None:
                    yield Finding(message(
                        f"{who} {how} {named} of the {side} pods of {deployment.label}, which {MAIN_CONTAINER} "
                        "does not declare.", why_dead,
                        f"declare the reporter's port as a named containerPort on {MAIN_CONTAINER} (the platform "
                        "renders 'metrics'), or point the monitor at it."), monitor, (deployment,))
                elif not any(lo <= number <= hi for lo, hi in listening):
                    yield Finding(message(
                        f"{who} {how} {named} of the {side} pods of {deployment.label}, but the Prometheus reporter "
                        f"listens elsewhere: {shown}.", why_dead,
                        "remove the metrics.reporter.*.port override so the reporter listens on the scraped port "
                        "(stack file: taskManager.hostNetwork.metricsPort when TaskManagers use the host network)."),
                        monitor, (deployment,))
            scopes = sorted(k for k in conf if k.startswith(SCOPE_PREFIX))
            if scopes:
                yield Finding(message(
                    f"{who} scrapes {deployment.label}, which renames its metrics ({', '.join(scopes)}).",
                    "the Prometheus reporter builds metric names from the scope formats; the PrometheusRule alerts and "
                    "the dashboard query Flink's default names (flink_jobmanager_job_numRestarts, …), so they would "
                    "never match and never fire.",
                    f"remove {', '.join(scopes)}."), monitor, (deployment,))


RULES = [
    Rule("flink-no-plain-secrets", MANDATORY,
         "No credentials, passwords, JAAS logins, tokens or API keys as plain values in flinkConfiguration or pod "
         "template environment variables.",
         "Plain values sit in clear text in the object, the state and every plan; they are masked in flinkplat's "
         "outputs, not in the cluster.",
         "Use the cloud role (IRSA / Pod Identity) or storage.s3Compatible.credentialsSecret for S3, "
         "kafka.saslPassword: {secret: …} for Kafka, a Kubernetes Secret (secretKeyRef, kubernetes.secrets) otherwise.",
         check_plain_secrets, kinds=(FLINK_DEPLOYMENT, FLINK_SESSION_JOB), waivable=False,
         notes="Cannot be waived. The keys it reads as secrets (and that `flinkplat plan` masks in the plan JSON, the "
               "`--out` files and the PR report) are classified in `flinkplat/flink/sensitive_keys.py`: S3/AWS and "
               "other object-store keys (`s3.access-key`, `s3.secret-key`, `fs.s3a[.bucket.<b>].access.key`, "
               "`fs.s3a.*.secret.key`, session tokens, `fs.azure.account.key.*`, …), `*password`, "
               "`sasl.jaas.config`, `*secret*`, `*token`, `*apikey`/`*api-key`, `*private-key`, and "
               f"`{'`, `'.join(p + '<NAME>' for p in ENV_OPTION_PREFIXES)}` / pod-template `env` entries with a literal "
               "`value` whose name holds a secret (`AWS_SECRET_ACCESS_KEY`, `*PASSWORD*`, `*TOKEN*`, …), and "
               "`env.java.opts*` strings that set a secret system property (`-D…Password=…`). References "
               "are fine: `kubernetes.secrets`, `kubernetes.env.secretKeyRef`, `*-file` options, `valueFrom."
               "secretKeyRef`."),
    Rule("flink-config-bypass", MANDATORY,
         "flinkConfiguration and pod templates do not switch on the host network, change the service account, load "
         "pod template files or set Flink-internal options.",
         "These options undo what the typed spec guarantees (network isolation, the cluster's own cloud role and "
         "RBAC, reviewed pod templates).",
         "Remove the option; use the typed setting (taskManager.hostNetwork, spec.serviceAccount, spec.podTemplate).",
         check_config_bypass, kinds=(FLINK_DEPLOYMENT,),
         notes="A stack file cannot get here: `flinkplat.flink.raw_keys` refuses these options (and the others listed "
               "under \"Raw options and the typed config\") as config errors; this rule covers manifests rendered "
               "any other way, under `pulumi preview`."),
    Rule("flink-storage-prefix", MANDATORY,
         "Checkpoint, savepoint and HA directories stay under the cluster's own <namespace>/<name> prefix of one "
         "bucket; checkpoints are not kept in JobManager memory and are retained on cancellation.",
         "The cluster's cloud role reaches only its own prefix; JobManager storage and deleted checkpoints lose state.",
         "Remove the directory, checkpoint-storage and retention overrides from flinkConfiguration.",
         check_storage_prefix, kinds=(FLINK_DEPLOYMENT,),
         notes="Reads both spellings of the directory keys (`execution.checkpointing.*` and the deprecated `state.*`); "
               "the HA storage dir counts only when HA is on."),
    Rule("flink-monitoring-scrapable", MANDATORY,
         "Every PodMonitor/ServiceMonitor target of a Flink cluster is a declared container port its Prometheus "
         "reporter listens on, with the reporter enabled and Flink's default metric names.",
         "A monitor pointed at a silent port scrapes nothing, so no alert ever fires.",
         "Keep the platform's reporter settings (factory, port, metrics.reporters, metrics.scope.*).",
         check_monitoring, scope="stack",
         notes="Checked on the rendered objects, so it covers PodMonitors and ServiceMonitors alike: a PodMonitor's "
               "selector is matched against the labels Flink's pods get (the pod templates' labels plus the "
               "operator's `app`, `component`, `type`), a ServiceMonitor's through the selected Services (endpoint "
               "port name → Service port → targetPort); the port name (or number) is resolved against "
               "flink-main-container's ports (the component's own pod template first) and must be one the enabled "
               "Prometheus reporters listen on (`metrics.reporters`, `metrics.reporter.<name>.factory.class`, "
               "`metrics.reporter.<name>.port`, default 9249, ranges allowed). A monitor labelled "
               "`app.kubernetes.io/name: <cluster>` that selects none of that cluster's pods is reported too. A "
               "finding is waived by the FlinkDeployment's waivers."),
]
