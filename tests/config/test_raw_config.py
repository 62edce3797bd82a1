"""Raw flinkConfiguration options that would bypass a typed setting, and contradictions in the typed config: a config
error (exit 2) naming the key path, the typed setting to use and why. Start from the known-good dev stack, change one
thing, assert the exact problem."""

from __future__ import annotations

import copy

import pytest

from flinkplat.cli import main
from flinkplat.config.errors import ConfigError
from flinkplat.flink.deployment import ha_decision
from tests.config.test_stack_config import _cluster, _load, _problems
from tests.conftest import stack_document

CLICKSTREAM = "flink-platform:clusters[0]"


@pytest.fixture
def dev() -> dict:
    return copy.deepcopy(stack_document("dev"))


def clickstream(document: dict) -> dict:
    return document["config"]["flink-platform:clusters"][0]


def with_raw(document: dict, **options) -> dict:
    clickstream(document).setdefault("flinkConfiguration", {}).update(options)
    return document


# ---------------------------------------------------------------------------------------------------------------
# Contradictions in the typed config
# ---------------------------------------------------------------------------------------------------------------


def test_ha_off_with_standby_jobmanagers_is_a_config_error_not_a_silent_override(dev):
    clickstream(dev)["jobManager"]["replicas"] = 2
    clickstream(dev)["highAvailability"] = False
    assert _problems(dev) == [
        f"{CLICKSTREAM}.highAvailability: highAvailability: false contradicts jobManager.replicas: 2: standby "
        "JobManagers take over only through Kubernetes HA leader election, so the replicas would win and switch HA on "
        "regardless (they used to, silently); make them agree: remove highAvailability (or set it true) to keep the "
        "standby JobManagers, or set jobManager.replicas: 1 to run without HA"]


def test_the_contradiction_exits_2_naming_the_stack(dev, write_stack, capsys):
    clickstream(dev)["jobManager"]["replicas"] = 3
    clickstream(dev)["highAvailability"] = False
    assert main(["plan", "--stack-file", str(write_stack(dev, "contradiction"))]) == 2
    err = capsys.readouterr().err
    head, problem = err.splitlines()[:2]
    assert head.startswith("stack 'contradiction'") and head.endswith("invalid configuration (1 problem)")
    assert problem.startswith(f"  - {CLICKSTREAM}.highAvailability: highAvailability: false contradicts "
                              "jobManager.replicas: 3:")


@pytest.mark.parametrize("explicit,replicas,prod,expected", [
    (None, 1, False, False), (None, 2, False, True), (None, 1, True, True),
    (True, 1, False, True), (False, 1, True, False), (True, 2, False, True)])
def test_what_renders_is_what_the_stack_file_says(dev, explicit, replicas, prod, expected):
    clickstream(dev)["jobManager"]["replicas"] = replicas
    if explicit is not None:
        clickstream(dev)["highAvailability"] = explicit
    cluster = _load(dev).config.clusters[0]
    assert ha_decision(cluster, prod) is expected


# ---------------------------------------------------------------------------------------------------------------
# Raw options that bypass a typed setting
# ---------------------------------------------------------------------------------------------------------------


def test_raw_hostnetwork_is_refused_with_the_typed_field_to_use(dev):
    assert _problems(with_raw(dev, **{"kubernetes.hostnetwork.enabled": True})) == [
        f"{CLICKSTREAM}.flinkConfiguration.kubernetes.hostnetwork.enabled: kubernetes.hostnetwork.enabled: true puts "
        "the JobManager and TaskManagers on the host network behind the platform's back: no hostPorts, no "
        "compensating control, and the namespace keeps Pod Security 'restricted', which rejects the pods; remove it "
        "and set taskManager.hostNetwork (ports, nodeCidrs, compensatingControl), the only way the platform renders "
        "host networking"]


BYPASSES = [
    ("kubernetes.service-account", "default",
     "kubernetes.service-account: default replaces the cluster's service account (clickstream-flink), which carries "
     "its cloud role (IRSA / Pod Identity, scoped to its own checkpoint prefix) and the RBAC for TaskManager pods and "
     "HA ConfigMaps; remove it (the service account is not configurable)"),
    ("kubernetes.taskmanager.service-account", "other-team",
     "kubernetes.taskmanager.service-account: other-team replaces the cluster's service account"),
    ("kubernetes.jobmanager.service-account", "default", "kubernetes.jobmanager.service-account: default replaces"),
    ("kubernetes.pod-template-file.taskmanager", "/opt/flink/pod.yaml",
     "kubernetes.pod-template-file.taskmanager: /opt/flink/pod.yaml loads a pod template file that bypasses the "
     "reviewed and policy-checked pod templates the platform renders;"),
    ("kubernetes.pod-template-file.default", "/opt/flink/pod.yaml", "kubernetes.pod-template-file.default: "),
    ("$internal.pipeline.job-id", "abc", "$internal.pipeline.job-id is an option Flink and the operator write themselves"),
    ("kubernetes.jobmanager.replicas", 2,
     "kubernetes.jobmanager.replicas is set by the operator from the FlinkDeployment spec, so this value would be "
     "silently ignored; set jobManager.replicas instead and remove it"),
    ("kubernetes.taskmanager.cpu.amount", 4, "kubernetes.taskmanager.cpu.amount is set by the operator from the FlinkDeployment spec, so this value would be silently "
     "ignored; set taskManager.cpu instead and remove it"),
    ("taskmanager.memory.process.size", "8g", "taskmanager.memory.process.size is set by the operator from the FlinkDeployment spec, so this value would be silently "
     "ignored; set taskManager.memory instead and remove it"),
    ("kubernetes.container.image", "evil/flink:latest", "kubernetes.container.image is set by the operator from the FlinkDeployment spec, so this value would be silently "
     "ignored; set image instead and remove it"),
    ("execution.savepoint.ignore-unclaimed-state", True,
     "execution.savepoint.ignore-unclaimed-state is set by the operator from the FlinkDeployment spec, so this value "
     "would be silently ignored; set job.allowNonRestoredState instead and remove it"),
    ("parallelism.default", 8, "parallelism.default is set by the operator from the FlinkDeployment spec"),
    ("taskmanager.numberOfTaskSlots", 4,
     "taskmanager.numberOfTaskSlots: 4 overrides taskManager.slots: 1, from which the platform computes the scaler "
     "limits, max parallelism and Kafka readers; set taskManager.slots: 4 instead and remove it"),
    ("high-availability.type", "kubernetes",
     "high-availability.type: kubernetes contradicts highAvailability, which is off for this cluster; the platform "
     "only opens the API-server egress, renders the HA storage dir and checks standby JobManagers through "
     "highAvailability: set highAvailability: true instead and remove high-availability.type"),
    ("high-availability", "ZOOKEEPER", "high-availability: ZOOKEEPER contradicts highAvailability, which is off"),
    ("high-availability.storageDir", "s3://elsewhere/ha",
     "high-availability.storageDir is the platform's: it points at s3://<bucket>/<kube cluster>/<namespace>/"
     "clickstream/…, the only prefix this cluster's cloud role can reach and the one the bucket's lifecycle rules "
     "expire; remove it"),
    ("execution.checkpointing.dir", "s3://elsewhere/cp", "execution.checkpointing.dir is the platform's"),
    ("state.savepoints.dir", "s3://elsewhere/sp", "state.savepoints.dir is the platform's"),
    ("execution.checkpointing.storage", "jobmanager",
     "execution.checkpointing.storage: jobmanager keeps checkpoints in JobManager memory"),
    ("execution.checkpointing.externalized-checkpoint-retention", "DELETE_ON_CANCELLATION",
     "execution.checkpointing.externalized-checkpoint-retention: DELETE_ON_CANCELLATION deletes the checkpoints when "
     "the job is cancelled"),
    ("scheduler-mode", "reactive",
     "scheduler-mode: reactive only works in standalone application clusters, and this one runs in native mode"),
    ("job.autoscaler.enabled", True,
     "job.autoscaler.enabled: true turns on the operator's job autoscaler outside autoscaling.mode ('none'): Pulumi "
     "would then reset its parallelism overrides on every run; set autoscaling.mode: flink-autoscaler instead and "
     "remove job.autoscaler.enabled"),
    # The operator still reads the deprecated switch when job.autoscaler.enabled is absent.
    ("kubernetes.operator.job.autoscaler.enabled", "TRUE",
     "kubernetes.operator.job.autoscaler.enabled: TRUE turns on the operator's job autoscaler outside autoscaling.mode "
     "('none'): Pulumi would then reset its parallelism overrides on every run; set autoscaling.mode: "
     "flink-autoscaler instead and remove kubernetes.operator.job.autoscaler.enabled"),
    ("kubernetes.rest-service.exposed.type", "NodePort",
     "kubernetes.rest-service.exposed.type: NodePort exposes the unauthenticated JobManager REST API outside the "
     "cluster, and the team namespace's ResourceQuota allows no NodePort/LoadBalancer services "
     "(allowExposedJobManager: false), so the JobManager could not even create it;"),
]


@pytest.mark.parametrize("key,value,text", BYPASSES, ids=[b[0] for b in BYPASSES])
def test_each_bypass_key_is_one_config_error_at_its_key_path(dev, key, value, text):
    [problem] = _problems(with_raw(dev, **{key: value}))
    assert problem.startswith(f"{CLICKSTREAM}.flinkConfiguration.{key}: {text}")


def test_a_bypass_in_an_override_points_at_the_override():
    prod = copy.deepcopy(stack_document("prod"))
    warehouse = prod["config"]["flink-platform:clusters"][0]
    eu = next(o for o in warehouse["overrides"] if o.get("region") == "eu-west-1")
    eu["flinkConfiguration"] = {"kubernetes.taskmanager.service-account": "default"}
    [problem] = _problems(prod)
    assert problem.startswith("flink-platform:clusters[0].overrides[0].flinkConfiguration."
                              "kubernetes.taskmanager.service-account: kubernetes.taskmanager.service-account: default "
                              "replaces the cluster's service account (warehouse-flink)")
    assert problem.endswith("(copy on Kubernetes cluster euw1-main)")


def test_a_bypass_in_the_cluster_is_named_once_for_all_its_copies():
    prod = copy.deepcopy(stack_document("prod"))
    prod["config"]["flink-platform:clusters"][0]["flinkConfiguration"] = {"kubernetes.hostnetwork.enabled": "true"}
    [problem] = _problems(prod)  # warehouse runs on use1-main and (with an override) on euw1-main
    assert problem.startswith("flink-platform:clusters[0].flinkConfiguration.kubernetes.hostnetwork.enabled:")


# (cluster of the prod stack, its raw options, the one problem): raw options that contradict the cluster's own mode
# or typed ports.
PROD_CONTRADICTIONS = [
    ("fraud-score", {"scheduler-mode": "default"},
     "flink-platform:clusters[2].flinkConfiguration.scheduler-mode: scheduler-mode: default switches off the "
     "reactive scheduler that autoscaling.mode 'cpu' needs: every scale step of the scaler would become a full job "
     "restart; remove it"),
    ("ledger-agg", {"job.autoscaler.enabled": "false"},
     "flink-platform:clusters[3].flinkConfiguration.job.autoscaler.enabled: job.autoscaler.enabled: false switches "
     "off the autoscaler that autoscaling.mode: flink-autoscaler asks for; choose autoscaling.mode: none instead "
     "and remove job.autoscaler.enabled"),
    ("shipment-track", {"taskmanager.data.port": 7000},
     "flink-platform:clusters[5].flinkConfiguration.taskmanager.data.port: taskmanager.data.port: 7000 differs from "
     "taskManager.hostNetwork.dataPort: 6121, the port declared as hostPort and opened in the NetworkPolicies; set "
     "the typed port instead and remove it"),
]


@pytest.mark.parametrize("name,options,problem", PROD_CONTRADICTIONS, ids=[c[0] for c in PROD_CONTRADICTIONS])
def test_raw_options_that_contradict_the_clusters_mode_or_ports(name, options, problem):
    prod = copy.deepcopy(stack_document("prod"))
    _cluster(prod, name).setdefault("flinkConfiguration", {}).update(options)
    assert _problems(prod) == [problem]


def test_periodic_savepoints_set_twice():
    prod = copy.deepcopy(stack_document("prod"))
    prod["config"]["flink-platform:clusters"][0]["flinkConfiguration"] = {
        "kubernetes.operator.periodic.savepoint.interval": "1h"}
    assert _problems(prod) == [
        "flink-platform:clusters[0].flinkConfiguration.kubernetes.operator.periodic.savepoint.interval: "
        "kubernetes.operator.periodic.savepoint.interval: 1h overrides job.savepointInterval: 6h; keep one of them "
        "(job.savepointInterval)"]


LEGAL = [
    {"execution.checkpointing.timeout": "20 min"},  # tuning wins over the typed default by design
    {"taskmanager.memory.jvm-overhead.max": "1g", "pipeline.max-parallelism": 120},
    {"kubernetes.hostnetwork.enabled": False},
    {"taskmanager.numberOfTaskSlots": 1},  # the same as taskManager.slots
    {"kubernetes.rest-service.exposed.type": "ClusterIP"},
    {"high-availability.type": "NONE"},  # HA is off in dev anyway
    {"kubernetes.secrets": "kafka-client:/opt/secrets/kafka",
     "kubernetes.env.secretKeyRef": "env:KAFKA_PASSWORD,secret:kafka-client,key:password"},
    {"execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION"},
]


@pytest.mark.parametrize("options", LEGAL)
def test_raw_options_that_bypass_nothing_still_load(dev, options):
    _load(with_raw(dev, **options))


def test_a_session_cluster_keeps_its_default_parallelism(dev):
    """No job spec: the operator does not set parallelism.default, so the option is the session's default."""
    sandbox = dev["config"]["flink-platform:clusters"][1]
    assert sandbox["mode"] == "session"
    sandbox["flinkConfiguration"] = {"parallelism.default": 2}
    _load(dev)


def test_standalone_reactive_without_a_scaler_is_legal(dev):
    clickstream(dev)["deploymentMode"] = "standalone"
    _load(with_raw(dev, **{"scheduler-mode": "reactive"}))


def test_exposure_is_a_choice_of_allow_exposed_job_manager(dev):
    dev["config"]["flink-platform:allowExposedJobManager"] = True
    _load(with_raw(dev, **{"kubernetes.rest-service.exposed.type": "LoadBalancer"}))


def test_secrets_are_not_config_errors_but_policy_violations(dev):
    """They plan (exit 1 with flink-no-plain-secrets, values masked) so the report can show where they are."""
    _load(with_raw(dev, **{"s3.secret-key": "wJalrXUtnFEMI"}))
    with pytest.raises(ConfigError):
        _load(with_raw(dev, **{"kubernetes.service-account": "x"}))


def test_the_object_store_endpoint_is_the_typed_ones(dev):
    """The dev stack checkpoints to an S3-compatible store: Flink's S3 endpoint options belong to it."""
    endpoint = dev["config"]["flink-platform:storage"]["s3Compatible"]["endpoint"]
    _load(with_raw(copy.deepcopy(dev), **{"s3.endpoint": endpoint + "/"}))  # the same endpoint: fine
    assert _problems(with_raw(dev, **{"s3.endpoint": "https://s3.amazonaws.com"})) == [
        f"{CLICKSTREAM}.flinkConfiguration.s3.endpoint: s3.endpoint: https://s3.amazonaws.com points Flink's S3 "
        f"filesystem elsewhere than storage.s3Compatible.endpoint ({endpoint}), which the team namespaces' egress and "
        "the credentials Secret are set up for; change storage.s3Compatible.endpoint instead and remove s3.endpoint"]


def test_a_pod_template_cannot_be_smuggled_in_through_an_override():
    """Overrides are dicts in the schema, but the merged cluster is validated again: no raw pod template."""
    prod = copy.deepcopy(stack_document("prod"))
    eu = next(o for o in prod["config"]["flink-platform:clusters"][0]["overrides"] if o.get("region") == "eu-west-1")
    eu["taskManager"] = {"podTemplate": {"spec": {"hostNetwork": True}}}
    [problem] = _problems(prod)
    assert problem.startswith("flink-platform:clusters[0].taskManager.podTemplate: unknown key 'podTemplate';")


def test_autoscaling_settings_the_mode_ignores_are_refused(dev):
    clickstream(dev)["autoscaling"] = {"maxReplicas": 5}  # mode none: no scaler reads it
    assert _problems(dev) == [
        f"{CLICKSTREAM}.autoscaling.maxReplicas: autoscaling.maxReplicas has no effect with autoscaling.mode 'none' "
        "(only cpu, memory, cpu+memory, kafka-lag, custom read it), so it would be ignored silently; remove it, or "
        "choose the mode it belongs to"]


@pytest.mark.parametrize("settings", [{"mode": "cpu", "minReplicas": 2, "maxReplicas": 4, "cpuTargetPercent": 50},
                                      {"mode": "memory", "memoryTargetPercent": 70},
                                      {"mode": "flink-autoscaler", "utilizationTarget": 0.6}])
def test_autoscaling_settings_the_mode_reads_are_fine(dev, settings):
    clickstream(dev)["autoscaling"] = settings
    _load(dev)


def test_utilization_target_belongs_to_the_operator_autoscaler(dev):
    clickstream(dev)["autoscaling"] = {"mode": "cpu", "utilizationTarget": 0.6}
    assert _problems(dev) == [
        f"{CLICKSTREAM}.autoscaling.utilizationTarget: autoscaling.utilizationTarget has no effect with "
        "autoscaling.mode 'cpu' (only flink-autoscaler reads it), so it would be ignored silently; remove it, or "
        "choose the mode it belongs to"]
