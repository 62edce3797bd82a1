"""What the Flink operator's validator (OP 1.15.0 DefaultValidator / AutoscalerValidator) would reject, reported all
at once at preview instead of one failed deploy at a time; plus the session-job and upgrade-mode rules that need
more than one resource (a FlinkSessionJob runs on its FlinkDeployment's configuration and environment)."""

from __future__ import annotations

import re
from typing import Iterator
from urllib.parse import urlparse

from flinkplat.flink import keys
from flinkplat.flink.keys import PERIODIC_SAVEPOINT_KEY
from flinkplat.flink.memory import FlinkMemoryError, derive_jobmanager, derive_taskmanager
from flinkplat.flink.operator_syntax import (
    EXCLUDED_PERIODS_KEY, JavaParseError, UriSyntaxError, autoscaler_keys, could_not_parse, ephemeral_storage_error,
    excluded_period_error, java_address_class, java_boolean, java_double_str, java_hash_set_order, java_parse_double,
    parse_java_uri, resolve, split_flink_list,
)
from flinkplat.rules.base import (
    FLINK_DEPLOYMENT, FLINK_SESSION_JOB, MANDATORY, Finding, Knob, Res, Rule, Stack, as_int, get, message,
)
from flinkplat.rules.flink import resource_memory_bytes, view

NAME_RE = re.compile(r"^[a-z]([-a-z\d]{0,43}[a-z\d])?$")
CRD_VERSIONS = ("v1_13", "v1_14", "v1_15", "v1_16", "v1_17", "v1_18", "v1_19", "v1_20", "v2_0", "v2_1", "v2_2")
SUPPORTED_FROM = "v1_15"
LOG_CONFIG_KEYS = ("log4j-console.properties", "logback-console.xml")
WHY_OPERATOR = ("the operator's admission webhook refuses the apply; without the webhook the operator keeps running "
                "the last valid spec and only records status.error, so the change never lands.")

# (option, low, high) in the operator's order; high None = unbounded, "target" = the configured utilization.target.
AUTOSCALER_RANGES = (
    ("scale-down.max-factor", 0.0, None),
    ("scale-up.max-factor", 0.0, None),
    ("utilization.target", 0.0, 1.0),
    ("target.utilization.boundary", 0.0, None),
    ("utilization.max", "target", 1.0),
    ("utilization.min", 0.0, "target"),
    ("observed-scalability.coefficient-min", 0.01, 1.0),
)
AUTOSCALER_DEFAULTS = {"utilization.target": 0.7}
# Reserved for documentation and testing (RFC 2606 / RFC 6761): no resolver returns an address for them.
UNRESOLVABLE_TLDS = ("example", "invalid", "test", "localhost")


def _reject(res: Res, text: str, fix: str) -> Finding:
    return Finding(message(f"The operator would reject {res.label}: \"{text}\"", WHY_OPERATOR, fix))


def _version_ok(version: str) -> bool:
    return version in CRD_VERSIONS and CRD_VERSIONS.index(version) >= CRD_VERSIONS.index(SUPPORTED_FROM)


def _job_checks(res: Res, conf: dict[str, str], job, fix_where: str) -> Iterator[Finding]:
    """Rule 6 (job spec) minus what flink-checkpointing / flink-savepoint-dir already report, plus rule 11."""
    has_savepoint_dir = keys.first_set(conf, keys.SAVEPOINT_DIR_KEYS) is not None
    if not has_savepoint_dir:
        sp = keys.SAVEPOINT_DIR_KEYS[0]
        if get(job, "savepointTriggerNonce") is not None:
            yield _reject(res, f"Savepoint could not be manually triggered for the running job while config key[{sp}] "
                               "is not set", f"set {sp} in {fix_where}, or remove job.savepointTriggerNonce.")
        age_key = "kubernetes.operator.job.upgrade.last-state.max.allowed.checkpoint.age"
        if age_key in conf:
            yield _reject(res, f"In order to use max-checkpoint age functionality config key[{sp}] must be set to "
                               "allow triggering savepoint upgrades.", f"set {sp} in {fix_where}, or remove {age_key}.")


def autoscaler_checks(res: Res, conf: dict[str, str]) -> Iterator[Finding]:
    """Rule 11 as the 1.15.0 AutoscalerValidator reads the config: each option through its fallback and deprecated
    keys (kubernetes.operator.job.autoscaler.*, job.autoscaler.target.utilization), numbers as Java doubles."""
    enabled = resolve(conf, autoscaler_keys("enabled"))
    if enabled is None:
        return
    try:
        if not java_boolean(enabled[1]):
            return
    except JavaParseError:
        yield _throws(res, could_not_parse(enabled[1], "job.autoscaler.enabled"),
                      f"write {enabled[0]} as true or false.")
        return
    values: dict[str, float] = {}
    unparseable: dict[str, str] = {}
    for option, _, _ in AUTOSCALER_RANGES:
        found = resolve(conf, autoscaler_keys(option))
        if found is None:
            continue
        try:
            values[option] = java_parse_double(found[1])
        except JavaParseError:
            unparseable[option] = found[1]
            if option == "utilization.target":
                # The operator reads the target again for the max/min bounds, outside its own try: it throws.
                yield _throws(res, could_not_parse(found[1], f"job.autoscaler.{option}"),
                              f"write {found[0]} as a number between 0 and 1.")
            else:
                yield _reject(res, f"Invalid value in the autoscaler config job.autoscaler.{option}",
                              f"write {found[0]} as a number (it is {found[1]!r}).")
    target = values.get("utilization.target", AUTOSCALER_DEFAULTS["utilization.target"])
    for option, low, high in AUTOSCALER_RANGES:
        if option not in values or ("utilization.target" in unparseable and "target" in (low, high)):
            continue
        lo = target if low == "target" else low
        hi = target if high == "target" else high
        value = values[option]
        if value < lo or (hi is not None and value > hi):  # NaN passes, as in Java
            shown_hi = "+Infinity" if hi is None else java_double_str(hi)
            yield _reject(res, f"The AutoScalerOption job.autoscaler.{option} is invalid, it should be a value "
                               f"within the range [{java_double_str(lo)}, {shown_hi}]",
                          f"set job.autoscaler.{option} within [{java_double_str(lo)}, {shown_hi}].")
    yield from _excluded_periods_checks(res, conf)


def _excluded_periods_checks(res: Res, conf: dict[str, str]) -> Iterator[Finding]:
    found = resolve(conf, autoscaler_keys("excluded.periods"))
    if found is None:
        return
    key, raw = found
    fix = (f"write {key} as `;`-separated expressions, each a daily range HH:mm[:ss]-HH:mm[:ss] (start before end), "
           "a Quartz cron expression with 6 or 7 fields and exactly one `?` in day-of-month/day-of-week (e.g. "
           "`* * 9-17 ? * MON-FRI`), or one of each joined by `&&`.")
    try:
        expressions = split_flink_list(raw)
    except JavaParseError:
        yield _throws(res, could_not_parse(raw, EXCLUDED_PERIODS_KEY), fix)
        return
    for expression in expressions:
        error = excluded_period_error(expression)
        if error:
            yield _reject(res, error, fix)


def _throws(res: Res, text: str, fix: str) -> Finding:
    """The validator itself fails on this value (the webhook denies the request with the exception's message)."""
    return Finding(message(f"The operator would reject {res.label}: its validator fails with \"{text}\"",
                           WHY_OPERATOR, fix))


def _memory_checks(res: Res, side: str, label: str, spec_key: str, conf: dict[str, str], version) -> Iterator[Finding]:
    memory = get(res.props, "spec", spec_key, "resource", "memory")
    storage = get(res.props, "spec", spec_key, "resource", "ephemeralStorage")
    # The operator builds one message from both parse errors, memory first, with nothing between them.
    errors, fixes = [], []
    if memory is not None:
        try:
            resource_memory_bytes(str(memory))
        except ValueError as error:
            errors.append(f"{label} resource memory parse error: {error}")
            fixes.append(f"write spec.{spec_key}.resource.memory as a whole number with a Flink unit (2048m, 4g) or a "
                         "binary quantity (4Gi); a fractional quantity such as 1.5Gi is refused: write 1536m.")
    if storage is not None:
        storage_error = ephemeral_storage_error(str(storage))
        if storage_error is not None:
            errors.append(f"{label} resource ephemeral storage parse error: {storage_error}")
            fixes.append(f"write spec.{spec_key}.resource.ephemeralStorage as a Kubernetes quantity, e.g. 10Gi.")
    if errors:
        yield _reject(res, "".join(errors), " ".join(fixes))
    if memory is not None and str(memory).strip():
        return
    derive = derive_taskmanager if side == "taskmanager" else derive_jobmanager
    try:
        derive(conf, version)
    except FlinkMemoryError:
        yield _reject(res, f"{label} resource memory must be defined using `spec.{spec_key}.resource.memory`",
                      f"set spec.{spec_key}.resource.memory (stack file: {spec_key}.memory).")
    except ValueError:
        pass


def check_deployment(res: Res, cfg: dict) -> Iterator[Finding]:
    flink = view(res)
    conf = flink.conf
    name = res.object_name
    if not NAME_RE.fullmatch(name):
        yield _reject(res, f"The FlinkDeployment name: {name} is invalid, must consist of lower case alphanumeric "
                           "characters or '-', start with an alphabetic character, and end with an alphanumeric "
                           "character (e.g. 'my-name',  or 'abc-123'), and the length must be no more than 45 "
                           "characters.",
                      f"rename it to match [a-z]([-a-z0-9]{{0,43}}[a-z0-9]) ({len(name)} characters now); a rename "
                      "replaces the deployment, so start the new one from a savepoint (job.initialSavepointPath).")
    version = flink.version
    if version is None:
        yield _reject(res, "Flink Version must be defined.", "set spec.flinkVersion (stack file: flinkVersion).")
    elif version not in CRD_VERSIONS:
        yield Finding(message(
            f"The Kubernetes API server would reject {res.label}: spec.flinkVersion \"{version}\" is not in the "
            f"FlinkDeployment CRD of operator 1.15.0.", "the CRD's enum only lists " + ", ".join(CRD_VERSIONS) + ".",
            "use one of v1_19, v1_20, v2_0, v2_1, v2_2."))
    elif not _version_ok(version):
        yield _reject(res, f"Flink version {version} is not supported by this operator version",
                      "upgrade the job to v1_19 or later through a savepoint.")
    for key in keys.FORBIDDEN_KEYS:
        if key in conf:
            yield _reject(res, f"Forbidden Flink config key: {key}",
                          f"remove {key} from spec.flinkConfiguration; the operator sets it itself.")
    if conf.get("kubernetes.operator.deployment.rollback.enabled", "false").lower() == "true" and not flink.ha_enabled:
        yield _reject(res, "HA must be enabled for rollback support.",
                      "enable Kubernetes HA (high-availability.type: kubernetes) or remove "
                      "kubernetes.operator.deployment.rollback.enabled.")
    if (conf.get("kubernetes.operator.cluster.health-check.enabled", "false").lower() == "true"
            and conf.get("kubernetes.operator.jm-deployment-recovery.enabled", "true").lower() == "false"):
        yield _reject(res, "Deployment recovery (kubernetes.operator.jm-deployment-recovery.enabled) must be enabled "
                           "for job health check (kubernetes.operator.cluster.health-check.enabled) support.",
                      "remove kubernetes.operator.jm-deployment-recovery.enabled: false or turn the health check off.")
    ingress = flink.spec_get("ingress")
    if ingress is not None:
        template = get(ingress, "template")
        if not template:
            yield _reject(res, "Ingress template must be defined",
                          "set spec.ingress.template (e.g. flink.example.com/{{namespace}}/{{name}}) or remove "
                          "spec.ingress.")
        elif not _valid_ingress_template(str(template)):
            yield _reject(res, f"Ingress template {template} is not a valid URL",
                          "write spec.ingress.template as host/path, e.g. flink.example.com/{{namespace}}/{{name}}.")
    log_config = flink.spec_get("logConfiguration")
    if log_config is not None:
        for key in log_config:
            if key not in LOG_CONFIG_KEYS:
                yield _reject(res, f"Invalid log config key: {key}. Allowed keys are [{', '.join(LOG_CONFIG_KEYS)}]",
                              f"rename spec.logConfiguration.{key} to one of {', '.join(LOG_CONFIG_KEYS)}.")
    job = flink.spec_get("job")
    if job is not None:
        yield from _job_checks(res, conf, job, "spec.flinkConfiguration")
        replicas = flink.tm_replicas
        if replicas is not None and replicas < 1:
            yield _reject(res, "TaskManager replicas must be larger than 0",
                          "set spec.taskManager.replicas to 1 or more (autoscaling: minReplicas ≥ 1).")
        elif replicas is None and (as_int(get(job, "parallelism")) or 0) < 1:
            yield _reject(res, "Job parallelism must be larger than 0",
                          "set spec.job.parallelism to 1 or more (stack file: job.parallelism).")
    yield from _memory_checks(res, "jobmanager", "JobManager", "jobManager", conf, version)
    jm_replicas = as_int(flink.spec_get("jobManager", "replicas"))
    if jm_replicas is not None and jm_replicas < 1:
        yield _reject(res, "JobManager replicas should not be configured less than one.",
                      "set spec.jobManager.replicas to 1 (or 2 with HA for a standby).")
    yield from _memory_checks(res, "taskmanager", "TaskManager", "taskManager", conf, version)
    tm_replicas = flink.tm_replicas
    if tm_replicas is not None and tm_replicas < 1 and job is None:
        yield _reject(res, "TaskManager replicas should not be configured less than one.",
                      "set spec.taskManager.replicas to 1 or more.")
    if not flink.spec_get("serviceAccount"):
        yield _reject(res, "spec.serviceAccount must be defined. If you use helm, its value should be the same with "
                           "the name of jobServiceAccount.",
                      "set spec.serviceAccount to the Flink service account of the namespace.")
    yield from autoscaler_checks(res, conf)


def _valid_ingress_template(template: str) -> bool:
    filled = template.replace("{{namespace}}", "ns").replace("{{name}}", "name")
    parsed = urlparse(filled if "://" in filled else f"http://{filled}")
    return bool(parsed.hostname) and " " not in filled


# ---------------------------------------------------------------------------------------------------------------
# Stack-level: session jobs, upgrade modes in prod
# ---------------------------------------------------------------------------------------------------------------


def deployments_by_key(stack: Stack) -> dict[tuple[str, str, str], Res]:
    return {(d.provider, d.namespace, d.object_name): d for d in stack.of_type(FLINK_DEPLOYMENT)}


def target_deployment(job: Res, index: dict[tuple[str, str, str], Res]) -> Res | None:
    name = get(job.props, "spec", "deploymentName")
    return None if name is None else index.get((job.provider, job.namespace, str(name)))


def jar_uri_checks(jar: str, allowed_schemes: list[str], disallow_restricted_hosts: bool) -> Iterator[tuple[str, str]]:
    """The 1.15.0 jarURI rules (kubernetes.operator.user.artifacts.*): (operator's text, fix) for each refusal.
    Only a DNS lookup from the cluster can tell where a host name points: names under reserved test domains are
    refused here, every other name is left to the operator's own resolution."""
    try:
        uri = parse_java_uri(jar)
    except UriSyntaxError as error:
        yield f"jarURI is not a valid URI: {error}", "percent-encode the characters a URI cannot hold (a space is %20)."
        return
    if uri.scheme is None:
        yield "jarURI must include a scheme", "write the jarURI as https://<artifact host>/<path>.jar."
        return
    allowed = java_hash_set_order([str(s).lower() for s in allowed_schemes])
    if uri.scheme.lower() not in allowed:
        yield (f"jarURI scheme '{uri.scheme}' is not in the allowlist [{', '.join(allowed)}]. Configure "
               "'kubernetes.operator.user.artifacts.allowed-schemes' to extend the allowlist.",
               "serve the jar over https (the operator downloads session-job jars itself), or allow the scheme in "
               "the operator's configuration and in this pack's allowedSchemes.")
        return
    if uri.scheme.lower() not in ("http", "https") or not disallow_restricted_hosts:
        return
    if not uri.host:
        yield ("jarURI must include a host for http/https schemes",
               "write the jarURI as https://<host>/<path>.jar with a DNS host name (letters, digits, '-' and '.'; "
               "an '_' makes Java read no host at all).")
        return
    host = uri.host
    address_class = java_address_class(host)
    restricted_fix = ("download the jar from an artifact host with a public address; the operator refuses loopback, "
                      "link-local, site-local (10/8, 172.16/12, 192.168/16), wildcard and multicast addresses unless "
                      "kubernetes.operator.user.artifacts.disallow-restricted-hosts is false.")
    if address_class or host.lower().rstrip(".") == "localhost":
        yield f"jarURI host '{host}' resolves to a restricted address", restricted_fix
    elif address_class is None and host.lower().rstrip(".").rsplit(".", 1)[-1] in UNRESOLVABLE_TLDS \
            and "." in host.rstrip("."):
        yield (f"jarURI host '{host}' cannot be resolved",
               f"'{host}' is under a domain reserved for examples and tests "
               f"({', '.join('.' + tld for tld in UNRESOLVABLE_TLDS)}): use the real artifact host name, one the "
               "operator's pod can resolve to a public address.")


def check_session_jobs(stack: Stack, cfg: dict) -> Iterator[Finding]:
    index = deployments_by_key(stack)
    for job_res in stack.of_type(FLINK_SESSION_JOB):
        deployment = target_deployment(job_res, index)
        owners = (deployment,) if deployment else ()

        def finding(text: str, fix: str) -> Finding:
            return Finding(_reject(job_res, text, fix).message, job_res, owners)

        name = get(job_res.props, "spec", "deploymentName")
        if name is None:
            yield Finding(message(f"The operator would reject {job_res.label}: spec.deploymentName is missing (its "
                                  "validator fails on the missing name).", WHY_OPERATOR,
                                  "set spec.deploymentName to the name of the session FlinkDeployment."),
                          job_res, owners)
        elif not NAME_RE.fullmatch(str(name)):
            # The operator checks it with its FlinkDeployment name rule, message included.
            yield finding(f"The FlinkDeployment name: {name} is invalid, must consist of lower case alphanumeric "
                          "characters or '-', start with an alphabetic character, and end with an alphanumeric "
                          "character (e.g. 'my-name',  or 'abc-123'), and the length must be no more than 45 "
                          "characters.", "set spec.deploymentName to the name of the session FlinkDeployment.")
        job = get(job_res.props, "spec", "job")
        if not job:
            yield finding("The job spec should not be empty", "set spec.job (jarURI, parallelism, upgradeMode).")
            continue
        jar = get(job, "jarURI")
        if jar is not None:  # an absent jarURI is not the validator's concern
            restricted = cfg.get("disallowRestrictedHosts", True)
            for text, fix in jar_uri_checks(str(jar), cfg["allowedSchemes"], restricted):
                yield finding(text, fix)
        if deployment is None:
            # The operator validates the job spec only against a session cluster it finds; without one it accepts
            # the job and waits, so nothing ever runs.
            if name is not None and NAME_RE.fullmatch(str(name)):
                yield Finding(message(
                    f"{job_res.label} targets the session cluster {name}, which is not a FlinkDeployment of "
                    f"namespace {job_res.namespace} in this stack.",
                    "the operator accepts the session job but never submits it: it waits for that cluster.",
                    "set spec.deploymentName to a session cluster of the same namespace (stack file: the job "
                    "belongs under that cluster's jobs)."), job_res, owners)
            continue
        cluster = view(deployment)
        conf = dict(cluster.conf)
        if cluster.has_job:
            yield finding("Can not submit session job to application cluster",
                          f"point spec.deploymentName at a session cluster (a FlinkDeployment without job); "
                          f"{deployment.object_name} is an application cluster.")
        conf.update(view(job_res).conf)  # the session job's own options win
        mode = str(get(job, "upgradeMode", default="stateless"))
        cp_key, sp_key = keys.CHECKPOINT_DIR_KEYS[0], keys.SAVEPOINT_DIR_KEYS[0]
        if mode != "stateless" and keys.first_set(conf, keys.CHECKPOINT_DIR_KEYS) is None:
            yield finding(f"Checkpoint directory[{cp_key}] must be defined for last-state and savepoint upgrade modes",
                          f"set {cp_key} on the session cluster's spec.flinkConfiguration.")
        if keys.first_set(conf, keys.SAVEPOINT_DIR_KEYS) is None:
            if mode == "savepoint":
                yield finding(f"Job could not be upgraded with savepoint while config key[{sp_key}] is not set",
                              f"set {sp_key} on the session cluster, or use upgradeMode last-state.")
            if PERIODIC_SAVEPOINT_KEY in conf:  # the key's presence, whatever its value ("0" too)
                yield finding(f"Periodic savepoints cannot be enabled when config key[{sp_key}] is not set",
                              f"set {sp_key} on the session cluster, or remove {PERIODIC_SAVEPOINT_KEY} altogether "
                              "(even 0 counts: the operator checks that the key is present).")
        for item in _job_checks(job_res, conf, job, "the session cluster's spec.flinkConfiguration"):
            yield Finding(item.message, job_res, owners)
        if (as_int(get(job, "parallelism")) or 0) < 1:
            yield finding("Job parallelism must be larger than 0", "set spec.job.parallelism to 1 or more.")
        for item in autoscaler_checks(job_res, conf):
            yield Finding(item.message, job_res, owners)


def check_no_stateless(stack: Stack, cfg: dict) -> Iterator[Finding]:
    index = deployments_by_key(stack)
    why = ("stateless upgrades start the new job from empty state: every deploy of a prod job silently drops its "
           "state (and the operator's default for an omitted upgradeMode is stateless).")
    fix = "set job.upgradeMode: savepoint (or last-state) — the stack file's default is savepoint."
    for deployment in stack.of_type(FLINK_DEPLOYMENT):
        flink = view(deployment)
        if flink.is_prod and flink.has_job and flink.upgrade_mode == "stateless":
            shown = "stateless" if flink.spec_get("job", "upgradeMode") else "stateless (unset: the operator default)"
            yield Finding(message(f"{deployment.label} is a prod job with upgradeMode {shown}.", why, fix),
                          deployment, (deployment,))
    for job in stack.of_type(FLINK_SESSION_JOB):
        deployment = target_deployment(job, index)
        if deployment is None or not view(deployment).is_prod:
            continue
        mode = get(job.props, "spec", "job", "upgradeMode")
        if mode is None or str(mode) == "stateless":
            yield Finding(message(f"{job.label} is a prod session job with upgradeMode "
                                  f"{mode or 'stateless (unset: the operator default)'}.", why, fix),
                          job, (deployment,))


RULES = [
    Rule("flink-operator-validation", MANDATORY,
         "Everything the Flink operator's validator would reject in a FlinkDeployment, reported at once.",
         "The operator reports only its first failure per deploy, and without its webhook only in status.error.",
         "Each message quotes the operator's text and says what to change.",
         check_deployment, kinds=(FLINK_DEPLOYMENT,),
         notes="Savepoint-directory, standby-JobManager HA and checkpoint-directory rejections are reported by "
               "`flink-savepoint-dir`, `flink-ha` and `flink-checkpointing`. Checks that need the previous spec "
               "(mode switches, flinkVersion change after suspend) cannot run at preview."),
    Rule("flink-session-job-validation", MANDATORY,
         "Everything the Flink operator's validator would reject in a FlinkSessionJob, on its cluster's config.",
         "A rejected session job never starts; the operator validates it against the session cluster's config.",
         "Each message quotes the operator's text and says what to change.",
         check_session_jobs, scope="stack",
         knobs=(Knob("allowedSchemes", {"type": "array", "items": {"type": "string"}}, ["https"],
                     "kubernetes.operator.user.artifacts.allowed-schemes of the operator (1.15.0 default: https)."),
                Knob("disallowRestrictedHosts", {"type": "boolean"}, True,
                     "kubernetes.operator.user.artifacts.disallow-restricted-hosts of the operator (1.15.0 default: "
                     "true): refuse http(s) jar hosts that are loopback, link-local, site-local, wildcard or "
                     "multicast addresses.")),
         notes="jarURI host names are resolved by the operator when it validates; at plan time only names under "
               "reserved test domains (.example, .invalid, .test, .localhost) are known not to resolve, and "
               "literal addresses are classified as Java does. Any other name is for the cluster's DNS to answer: "
               "an in-cluster Service name resolves to its ClusterIP, usually a site-local address the operator "
               "refuses."),
    Rule("flink-no-stateless-in-prod", MANDATORY,
         "Prod jobs (FlinkDeployments and session jobs) never use the stateless upgrade mode.",
         "A stateless upgrade drops all state; it is also the operator's default when upgradeMode is omitted.",
         "Set job.upgradeMode: savepoint or last-state.",
         check_no_stateless, scope="stack"),
]
