"""Raw settings that would bypass a platform guarantee (flinkplat/rules/guarantees.py): start from the known-good
prod FlinkDeployment (and its PodMonitor), built by the platform's own builders, change one thing, assert the exact
violation."""

from __future__ import annotations

import copy
from functools import lru_cache

import pytest

from flinkplat.config.fleet import resolve
from flinkplat.config.load import load_stack_file
from flinkplat.flink import sensitive_keys
from flinkplat.k8s.monitoring import pod_monitor
from flinkplat.rules import Res, Stack
from tests.rules.helpers import PROVIDER, ROOT, as_res, conf, prod_manifest, run

WAREHOUSE = "use1-main/flink-logistics/warehouse"
LABEL = "FlinkDeployment flink-logistics/warehouse"


def main_container(manifest: dict, *path: str) -> dict:
    template = manifest["spec"]
    for step in path or ("podTemplate",):
        template = template[step]
    return next(c for c in template["spec"]["containers"] if c["name"] == "flink-main-container")


# ---------------------------------------------------------------------------------------------------------------
# The classification every secret check and the masking share
# ---------------------------------------------------------------------------------------------------------------

SECRET_KEYS = {
    "s3.access-key": sensitive_keys.S3, "s3.secret-key": sensitive_keys.S3, "s3.access.key": sensitive_keys.S3,
    "fs.s3a.access.key": sensitive_keys.S3, "fs.s3a.secret.key": sensitive_keys.S3,
    "fs.s3a.bucket.team-a.secret.key": sensitive_keys.S3, "fs.s3a.session.token": sensitive_keys.S3,
    "presto.s3.secret-key": sensitive_keys.S3, "fs.azure.account.key.acme.blob.core.windows.net": sensitive_keys.S3,
    "containerized.taskmanager.env.AWS_SECRET_ACCESS_KEY": sensitive_keys.S3,
    "sasl.jaas.config": sensitive_keys.KAFKA, "properties.sasl.jaas.config": sensitive_keys.KAFKA,
    "security.ssl.rest.keystore-password": sensitive_keys.PASSWORD,
    "metrics.reporter.influx.password": sensitive_keys.PASSWORD,
    "containerized.master.env.DB_PASSWORD": sensitive_keys.PASSWORD,
    "kubernetes.token": sensitive_keys.TOKEN, "metrics.reporter.dghttp.apikey": sensitive_keys.SECRET,
    "my.connector.client-secret": sensitive_keys.SECRET,
}
NOT_SECRETS = ("kubernetes.secrets", "kubernetes.env.secretKeyRef", "fs.s3a.aws.credentials.provider", "s3.endpoint",
               "s3.path.style.access", "security.ssl.rest.keystore-password-file", "my.secret.name",
               "security.delegation.tokens.enabled", "containerized.master.env.ENABLE_BUILT_IN_PLUGINS",
               "execution.checkpointing.dir", "taskmanager.numberOfTaskSlots", "job.autoscaler.enabled")


@pytest.mark.parametrize("key,kind", SECRET_KEYS.items())
def test_secret_holding_keys_are_classified(key, kind):
    assert sensitive_keys.classify(key) == sensitive_keys.Sensitive(key, kind)


@pytest.mark.parametrize("key", NOT_SECRETS)
def test_references_and_ordinary_options_are_not_secrets(key):
    assert sensitive_keys.classify(key) is None


def test_jvm_options_that_set_a_secret_property_are_secrets():
    assert sensitive_keys.classify_option(
        "env.java.opts.taskmanager", "-XX:+UseG1GC -Djavax.net.ssl.keyStorePassword=changeit") == \
        sensitive_keys.Sensitive("env.java.opts.taskmanager", sensitive_keys.PASSWORD)
    assert sensitive_keys.classify_option("env.java.opts.all", "-XX:+UseG1GC -Dlog4j2.formatMsgNoLookups=true") is None


def test_env_literal_values_are_secrets_but_secret_key_refs_are_not():
    env = [{"name": "AWS_SECRET_ACCESS_KEY", "value": "x"},
           {"name": "AWS_ACCESS_KEY_ID", "valueFrom": {"secretKeyRef": {"name": "minio", "key": "access-key"}}},
           {"name": "KAFKA_PASSWORD_FILE", "value": "/etc/kafka/password"},
           {"name": "API_TOKEN", "value": "t"}, {"name": "ENABLE_BUILT_IN_PLUGINS", "value": "flink-s3-fs-presto.jar"}]
    assert sensitive_keys.literal_secret_env(env) == [("AWS_SECRET_ACCESS_KEY", sensitive_keys.S3),
                                                      ("API_TOKEN", sensitive_keys.SECRET)]


# ---------------------------------------------------------------------------------------------------------------
# flink-no-plain-secrets
# ---------------------------------------------------------------------------------------------------------------

SECRET_WHY = ("Why: the value is stored in clear text in the Kubernetes object (readable by anyone who can read the "
              "resource), in the Pulumi state and in every plan and review (flinkplat masks it there, the cluster does "
              "not), and it cannot be rotated without a redeploy. This policy cannot be waived.")


def test_s3_keys_in_flink_configuration_point_at_the_cloud_role_or_a_kubernetes_secret():
    m = prod_manifest()
    conf(m)["s3.access-key"] = "AKIAEXAMPLE"
    conf(m)["s3.secret-key"] = "wJalrXUtnFEMI"
    assert run("flink-no-plain-secrets", as_res(m)) == [
        f"{LABEL} has secret values in plain configuration: spec.flinkConfiguration[\"s3.access-key\"] (object-store "
        "credential); spec.flinkConfiguration[\"s3.secret-key\"] (object-store credential). "
        f"{SECRET_WHY} Fix: remove the value; for the object-store credential: let the pod's cloud role be the "
        "credential (IRSA or EKS Pod Identity: the platform already gives each Flink cluster a role scoped to its own "
        "prefix), or, for an S3-compatible store, storage.s3Compatible.credentialsSecret — a Kubernetes Secret the "
        "pods read as AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY through secretKeyRef."]


def test_jaas_config_points_at_the_kafka_secret_ref():
    m = prod_manifest()
    conf(m)["properties.sasl.jaas.config"] = 'org.apache.kafka.common.security.scram.ScramLoginModule required ' \
                                             'username="svc" password="hunter2";'
    [msg] = run("flink-no-plain-secrets", as_res(m))
    assert msg.startswith(f"{LABEL} has secret values in plain configuration: "
                          "spec.flinkConfiguration[\"properties.sasl.jaas.config\"] (Kafka JAAS login).")
    assert msg.endswith("Fix: remove the value; for the Kafka JAAS login: put the password in its own secret config "
                        "key (pulumi config set --secret flink-platform:<name> …) and reference it as "
                        "kafka.saslPassword: {secret: <name>}; the job reads it from a Kubernetes Secret, never from "
                        "flinkConfiguration.")
    assert "hunter2" not in msg


def test_a_literal_secret_env_var_in_a_pod_template_is_reported_where_it_is():
    m = prod_manifest("use1-main/flink-logistics/shipment-track")
    main_container(m, "taskManager", "podTemplate").setdefault("env", []).append(
        {"name": "AWS_SECRET_ACCESS_KEY", "value": "wJalrXUtnFEMI"})
    [msg] = run("flink-no-plain-secrets", as_res(m))
    assert msg.startswith("FlinkDeployment flink-logistics/shipment-track has secret values in plain configuration: "
                          "spec.taskManager.podTemplate container flink-main-container env AWS_SECRET_ACCESS_KEY "
                          "(object-store credential). Why:")


def test_credentials_from_a_kubernetes_secret_stay_legal():
    """What storage.s3Compatible renders: the key pair as env vars from a Secret through secretKeyRef."""
    m = prod_manifest()
    main_container(m)["env"] += [
        {"name": "AWS_ACCESS_KEY_ID", "valueFrom": {"secretKeyRef": {"name": "minio-creds", "key": "access-key"}}},
        {"name": "AWS_SECRET_ACCESS_KEY", "valueFrom": {"secretKeyRef": {"name": "minio-creds", "key": "secret-key"}}}]
    conf(m)["s3.endpoint"] = "http://minio.minio.svc:9000"
    conf(m)["kubernetes.secrets"] = "kafka-client:/opt/secrets/kafka"
    conf(m)["kubernetes.env.secretKeyRef"] = "env:KAFKA_PASSWORD,secret:kafka-client,key:password"
    assert run("flink-no-plain-secrets", as_res(m)) == []


def test_session_job_flink_configuration_is_checked_too():
    job = {"apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkSessionJob",
           "metadata": {"name": "sandbox-top-speed", "namespace": "flink-analytics"},
           "spec": {"deploymentName": "sandbox", "flinkConfiguration": {"fs.s3a.secret.key": "x"},
                    "job": {"jarURI": "https://repo.acme.com/top-speed.jar", "upgradeMode": "last-state"}}}
    [msg] = run("flink-no-plain-secrets", as_res(job))
    assert msg.startswith("FlinkSessionJob flink-analytics/sandbox-top-speed has secret values in plain "
                          "configuration: spec.flinkConfiguration[\"fs.s3a.secret.key\"] (object-store credential).")


# ---------------------------------------------------------------------------------------------------------------
# flink-config-bypass
# ---------------------------------------------------------------------------------------------------------------


def test_raw_hostnetwork_key_is_refused():
    m = prod_manifest()
    conf(m)["kubernetes.hostnetwork.enabled"] = "true"
    assert run("flink-config-bypass", as_res(m)) == [
        f"{LABEL} turns on the host network with kubernetes.hostnetwork.enabled: true. Why: Flink then runs the "
        "JobManager and every TaskManager on the node's network, without the fixed ports declared as hostPorts (two "
        "pods on one node collide), without a recorded compensating control, and in a namespace whose Pod Security "
        "level (restricted) rejects such pods; NetworkPolicy does not isolate them. Fix: remove "
        "kubernetes.hostnetwork.enabled; if TaskManagers must use the host network, set taskManager.hostNetwork in the "
        "stack file (ports, node pool, nodeCidrs, compensatingControl), which renders all of that."]


def test_raw_hostnetwork_key_false_is_harmless():
    m = prod_manifest()
    conf(m)["kubernetes.hostnetwork.enabled"] = "false"
    assert run("flink-config-bypass", as_res(m)) == []


@pytest.mark.parametrize("path", [("podTemplate",), ("jobManager", "podTemplate")])
def test_jobmanager_pod_template_on_the_host_network_is_refused(path):
    m = prod_manifest()
    spec = m["spec"]
    for step in path:
        spec = spec.setdefault(step, {})
    spec.setdefault("spec", {})["hostNetwork"] = True
    label = "spec." + ".".join(path)
    assert run("flink-config-bypass", as_res(m)) == [
        f"{LABEL} runs the JobManager on the host network ({label}.spec.hostNetwork: true). Why: the JobManager's "
        "unauthenticated REST API and RPC ports would be open on the node's address, outside every NetworkPolicy, and "
        "its pods are rejected by the namespace's Pod Security level. Fix: remove hostNetwork from that pod template; "
        "only TaskManagers may use it, through taskManager.hostNetwork in the stack file."]


def test_typed_hostnetwork_taskmanagers_are_not_a_bypass():
    assert run("flink-config-bypass", as_res(prod_manifest("use1-main/flink-logistics/shipment-track"))) == []


@pytest.mark.parametrize("key,who", [("kubernetes.service-account", "the JobManager and TaskManagers"),
                                     ("kubernetes.jobmanager.service-account", "the JobManager"),
                                     ("kubernetes.taskmanager.service-account", "the TaskManagers")])
def test_another_service_account_is_refused(key, who):
    m = prod_manifest()
    conf(m)[key] = "default"
    assert run("flink-config-bypass", as_res(m)) == [
        f"{LABEL} runs {who} as service account 'default' ({key}) instead of spec.serviceAccount 'warehouse-flink'. "
        "Why: the platform's service account carries the cluster's cloud role (IRSA / Pod Identity, scoped to its own "
        "checkpoint prefix) and the RBAC for TaskManager pods and HA ConfigMaps; another account either breaks "
        "checkpoints and HA or borrows someone else's permissions. Fix: remove "
        f"{key}; the service account is spec.serviceAccount, which the platform sets."]


def test_the_same_service_account_spelled_out_is_harmless():
    m = prod_manifest()
    conf(m)["kubernetes.service-account"] = "warehouse-flink"
    assert run("flink-config-bypass", as_res(m)) == []


def test_pod_template_files_and_internal_options_are_refused():
    m = prod_manifest()
    conf(m)["kubernetes.pod-template-file.taskmanager"] = "/opt/flink/tm.yaml"
    conf(m)["$internal.pipeline.job-id"] = "00000000000000000000000000000000"
    assert run("flink-config-bypass", as_res(m)) == [
        f"{LABEL} loads pod templates from files (kubernetes.pod-template-file.taskmanager). Why: a template file on "
        "the image or the operator's disk bypasses spec.podTemplate: its hostNetwork, security context, volumes and "
        "environment are neither reviewed in the plan nor checked by this pack. Fix: remove "
        "kubernetes.pod-template-file.taskmanager; the pod templates are spec.podTemplate and spec.jobManager/"
        "taskManager.podTemplate, which the platform renders from the stack file.",
        f"{LABEL} sets Flink-internal options: $internal.pipeline.job-id. Why: options under $internal. are written by "
        "Flink and the operator themselves (job ids, program arguments, deployment targets); setting them overrides "
        "that bookkeeping and breaks upgrades and recovery. Fix: remove $internal.pipeline.job-id."]


# ---------------------------------------------------------------------------------------------------------------
# flink-storage-prefix
# ---------------------------------------------------------------------------------------------------------------

PREFIX_WHY = ("Why: each Flink cluster's cloud role reaches only s3://<bucket>/<kube cluster>/<namespace>/<name>/; a "
              "directory elsewhere fails with access denied at the first checkpoint (or, with a broader role, reads and "
              "overwrites another job's state), and the bucket's lifecycle rules do not apply to it.")


@pytest.mark.parametrize("key", ["execution.checkpointing.dir", "execution.checkpointing.savepoint-dir",
                                 "high-availability.storageDir", "state.checkpoints.dir"])
def test_a_directory_outside_the_clusters_prefix_is_refused(key):
    m = prod_manifest()
    conf(m)[key] = "s3://acme-flink-prod-us-east-1/use1-main/flink-payments/ledger-agg/checkpoints"
    assert run("flink-storage-prefix", as_res(m)) == [
        f"{LABEL} keeps state outside its own prefix (…/flink-logistics/warehouse/): {key}: "
        f"s3://acme-flink-prod-us-east-1/use1-main/flink-payments/ledger-agg/checkpoints. {PREFIX_WHY} Fix: remove "
        "these options from spec.flinkConfiguration (stack file: flinkConfiguration): the platform points checkpoints, "
        "savepoints and HA metadata at the cluster's own prefix."]


def test_directories_split_across_buckets_are_refused():
    m = prod_manifest()
    conf(m)["execution.checkpointing.savepoint-dir"] = \
        "s3://elsewhere/use1-main/flink-logistics/warehouse/savepoints"
    [msg] = run("flink-storage-prefix", as_res(m))
    assert msg.startswith(f"{LABEL} splits its state across prefixes: execution.checkpointing.dir, "
                          "high-availability.storageDir under s3://acme-flink-prod-us-east-1/use1-main/flink-logistics/"
                          "warehouse/; execution.checkpointing.savepoint-dir under s3://elsewhere/use1-main/"
                          "flink-logistics/warehouse/.")


def test_jobmanager_checkpoint_storage_and_deleting_retention_are_refused():
    m = prod_manifest()
    conf(m)["execution.checkpointing.storage"] = "jobmanager"
    conf(m)["execution.checkpointing.externalized-checkpoint-retention"] = "DELETE_ON_CANCELLATION"
    assert run("flink-storage-prefix", as_res(m)) == [
        f"{LABEL} keeps checkpoints in the JobManager's memory (execution.checkpointing.storage: jobmanager). Why: "
        "JobManager checkpoint storage ignores the checkpoint directory: a JobManager restart, failover or upgrade "
        "loses every checkpoint, so the job restarts from its last savepoint or from nothing. Fix: remove "
        "execution.checkpointing.storage (Flink then writes checkpoints to the checkpoint directory in S3).",
        f"{LABEL} sets execution.checkpointing.externalized-checkpoint-retention: DELETE_ON_CANCELLATION. Why: "
        "cancelling the job (a stateless upgrade, a suspend, a manual cancel) then deletes its checkpoints, so there "
        "is nothing to restore from if the cancel was a mistake or the savepoint failed. Fix: remove "
        "execution.checkpointing.externalized-checkpoint-retention; the platform sets RETAIN_ON_CANCELLATION."]


# ---------------------------------------------------------------------------------------------------------------
# flink-monitoring-scrapable: the rendered pair scrape target ↔ reporter port
# ---------------------------------------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def _pod_monitors() -> dict[str, dict]:
    loaded = load_stack_file(ROOT / "Pulumi.prod.yaml", "prod")
    return {p.key: pod_monitor(p, loaded.config.monitoring) for p in resolve(loaded.config)}


def monitored(deployment: dict, monitor: dict | None = None, *extra: dict) -> Stack:
    key = f"use1-main/{deployment['metadata']['namespace']}/{deployment['metadata']['name']}"
    monitor = monitor or copy.deepcopy(_pod_monitors()[key])
    return Stack([as_res(deployment), as_res(monitor), *(as_res(e) for e in extra)])


DEAD_WHY = ("Why: Prometheus then scrapes nothing from these pods; the PrometheusRule's alerts only fire on series that "
            "exist, so a failing job stays silent and the dashboard stays empty.")
MONITOR = "PodMonitor flink-logistics/warehouse-flink"


@pytest.mark.parametrize("key", ["use1-main/flink-logistics/warehouse", "use1-main/flink-logistics/shipment-track",
                                 "use1-main/flink-payments/fraud-score", "use1-canary/flink-payments/payments-enrich"])
def test_the_platforms_monitors_scrape_their_reporters(key):
    assert run("flink-monitoring-scrapable", monitored(prod_manifest(key), copy.deepcopy(_pod_monitors()[key]))) == []


def test_reporter_port_moved_away_from_the_scraped_port():
    m = prod_manifest()
    conf(m)["metrics.reporter.prom.port"] = "9250"
    msgs = run("flink-monitoring-scrapable", monitored(m))
    assert msgs == [
        f"{MONITOR} scrapes port 'metrics' (containerPort 9249) of the {side} pods of {LABEL}, but the Prometheus "
        f"reporter listens elsewhere: 'prom' on 9250 (metrics.reporter.prom.port). {DEAD_WHY} Fix: remove the "
        "metrics.reporter.*.port override so the reporter listens on the scraped port (stack file: "
        "taskManager.hostNetwork.metricsPort when TaskManagers use the host network)."
        for side in ("JobManager", "TaskManager")]


def test_a_port_range_that_contains_the_scraped_port_is_fine():
    m = prod_manifest()
    conf(m)["metrics.reporter.prom.port"] = "9249-9251"
    assert run("flink-monitoring-scrapable", monitored(m)) == []


def test_reporter_factory_removed():
    m = prod_manifest()
    del conf(m)["metrics.reporter.prom.factory.class"]
    assert run("flink-monitoring-scrapable", monitored(m)) == [
        f"{MONITOR} scrapes {LABEL}, but its Prometheus reporter is off: no metrics.reporter.<name>.factory.class is "
        "org.apache.flink.metrics.prometheus.PrometheusReporterFactory (the platform sets "
        f"metrics.reporter.prom.factory.class). {DEAD_WHY} Fix: remove the flinkConfiguration override so "
        "metrics.reporter.prom.factory.class is org.apache.flink.metrics.prometheus.PrometheusReporterFactory (and "
        "metrics.reporters, if set, lists 'prom')."]


def test_metrics_reporters_list_leaving_out_prom():
    m = prod_manifest()
    conf(m)["metrics.reporters"] = "jmx"
    [msg] = run("flink-monitoring-scrapable", monitored(m))
    assert msg.startswith(f"{MONITOR} scrapes {LABEL}, but its Prometheus reporter is off: metrics.reporters: jmx "
                          "leaves out the Prometheus reporter 'prom'.")


def test_a_renamed_reporter_on_the_right_port_still_works():
    m = prod_manifest()
    del conf(m)["metrics.reporter.prom.factory.class"]
    del conf(m)["metrics.reporter.prom.port"]
    conf(m)["metrics.reporter.prometheus.factory.class"] = \
        "org.apache.flink.metrics.prometheus.PrometheusReporterFactory"
    conf(m)["metrics.reporters"] = "prometheus"
    assert run("flink-monitoring-scrapable", monitored(m)) == []  # default port 9249


def test_container_port_renamed():
    m = prod_manifest()
    main_container(m)["ports"][0]["name"] = "prom"
    msgs = run("flink-monitoring-scrapable", monitored(m))
    assert msgs[0] == (f"{MONITOR} scrapes port 'metrics' of the JobManager pods of {LABEL}, which "
                       f"flink-main-container does not declare. {DEAD_WHY} Fix: declare the reporter's port as a named "
                       "containerPort on flink-main-container (the platform renders 'metrics'), or point the monitor "
                       "at it.")
    assert len(msgs) == 2


def test_monitor_that_selects_none_of_its_clusters_pods():
    monitor = copy.deepcopy(_pod_monitors()[WAREHOUSE])
    monitor["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] = "warehouse-v2"
    assert run("flink-monitoring-scrapable", monitored(prod_manifest(), monitor)) == [
        f"{MONITOR} selects none of the pods of {LABEL}. {DEAD_WHY} Fix: select the pods by the labels the platform "
        "renders (app.kubernetes.io/name and component), and for a ServiceMonitor a Service whose selector matches "
        "them and that has the endpoint's port."]


def test_scope_formats_change_the_metric_names_the_alerts_query():
    m = prod_manifest()
    conf(m)["metrics.scope.jm-job"] = "<host>.jm.<job_name>"
    [msg] = run("flink-monitoring-scrapable", monitored(m))
    assert msg.startswith(f"{MONITOR} scrapes {LABEL}, which renames its metrics (metrics.scope.jm-job). Why: the "
                          "Prometheus reporter builds metric names from the scope formats;")


def _service_monitor_pair(target_port: object) -> tuple[dict, dict]:
    service = {"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "warehouse-metrics", "namespace": "flink-logistics",
                            "labels": {"app.kubernetes.io/name": "warehouse", "flink-platform/metrics": "true"}},
               "spec": {"clusterIP": "None", "selector": {"app.kubernetes.io/name": "warehouse"},
                        "ports": [{"name": "metrics", "port": 9249, "targetPort": target_port}]}}
    monitor = {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
               "metadata": {"name": "warehouse-flink", "namespace": "flink-logistics",
                            "labels": {"app.kubernetes.io/name": "warehouse"}},
               "spec": {"selector": {"matchLabels": {"flink-platform/metrics": "true",
                                                     "app.kubernetes.io/name": "warehouse"}},
                        "endpoints": [{"port": "metrics", "path": "/metrics"}]}}
    return service, monitor


@pytest.mark.parametrize("target_port,named", [("metrics", "port 'metrics' (containerPort 9249)"),
                                               (9249, "port 9249")])
def test_service_monitor_through_a_headless_service_is_followed_to_the_reporter(target_port, named):
    service, monitor = _service_monitor_pair(target_port)
    assert run("flink-monitoring-scrapable", monitored(prod_manifest(), monitor, service)) == []
    m = prod_manifest()
    conf(m)["metrics.reporter.prom.port"] = "9300"
    msgs = run("flink-monitoring-scrapable", monitored(m, monitor, service))
    assert len(msgs) == 2
    assert msgs[1].startswith(
        "ServiceMonitor flink-logistics/warehouse-flink scrapes (through Service warehouse-metrics port 'metrics') "
        f"{named} of the TaskManager pods of {LABEL}, but the "
        "Prometheus reporter listens elsewhere: 'prom' on 9300 (metrics.reporter.prom.port).")


def test_service_monitor_whose_service_lacks_the_port_selects_nothing():
    service, monitor = _service_monitor_pair("metrics")
    service["spec"]["ports"][0]["name"] = "http-metrics"
    [msg] = run("flink-monitoring-scrapable", monitored(prod_manifest(), monitor, service))
    assert msg.startswith(f"ServiceMonitor flink-logistics/warehouse-flink selects none of the pods of {LABEL}.")


def test_monitors_of_other_providers_are_not_matched():
    monitor = as_res(copy.deepcopy(_pod_monitors()[WAREHOUSE]))
    m = prod_manifest()
    conf(m)["metrics.reporter.prom.port"] = "9250"
    other = Res.manifest(m, provider=PROVIDER.replace("use1-main", "euw1-main"))
    assert run("flink-monitoring-scrapable", Stack([other, monitor])) == []


def test_the_platforms_service_monitor_mode_is_checked_on_its_rendered_objects():
    """monitoring.scrape: serviceMonitor renders a headless metrics Service plus a ServiceMonitor: the same pairing
    is followed through the Service to the reporter."""
    from flinkplat.k8s.monitoring import scrape_objects
    from tests.config.test_stack_config import _load
    from tests.conftest import stack_document

    document = copy.deepcopy(stack_document("prod"))
    document["config"]["flink-platform:monitoring"] = {"scrape": "serviceMonitor"}
    loaded = _load(document)
    placement = next(p for p in resolve(loaded.config) if p.key == WAREHOUSE)
    objects = scrape_objects(placement, loaded.config.monitoring)
    assert sorted(o["kind"] for o in objects) == ["Service", "ServiceMonitor"]
    stack = Stack([as_res(prod_manifest()), *(as_res(o) for o in objects)])
    assert run("flink-monitoring-scrapable", stack) == []
    m = prod_manifest()
    conf(m)["metrics.reporter.prom.port"] = "9250"
    msgs = run("flink-monitoring-scrapable", Stack([as_res(m), *(as_res(o) for o in objects)]))
    assert [msg.split(" Why:")[0] for msg in msgs] == [
        "ServiceMonitor flink-logistics/warehouse-flink scrapes (through Service warehouse-metrics port 'metrics') "
        f"port 'metrics' (containerPort 9249) of the {side} pods of {LABEL}, but the Prometheus reporter listens "
        "elsewhere: 'prom' on 9250 (metrics.reporter.prom.port)." for side in ("JobManager", "TaskManager")]
