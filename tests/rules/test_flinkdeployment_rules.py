"""Each resource rule: start from the known-good prod FlinkDeployment (built from Pulumi.prod.yaml by the
platform's own builders), change one thing, assert the exact violation."""

from __future__ import annotations

import json

import pytest

from flinkplat.rules import RULES
from tests.rules.helpers import as_res, conf, prod_manifest, run

WHY_OPERATOR = ("Why: the operator's admission webhook refuses the apply; without the webhook the operator keeps "
                "running the last valid spec and only records status.error, so the change never lands.")


@pytest.mark.parametrize("rule", [r.name for r in RULES if r.scope == "resource"])
def test_known_good_prod_deployments_pass(rule):
    for key in ("use1-main/flink-logistics/warehouse", "use1-main/flink-payments/fraud-score",
                "use1-main/flink-payments/ledger-agg", "use1-main/flink-logistics/shipment-track",
                "use1-canary/flink-payments/payments-enrich"):
        assert run(rule, as_res(prod_manifest(key))) == [], key


def test_memory_derivable_quotes_flinks_error():
    m = prod_manifest()
    conf(m)["taskmanager.memory.flink.size"] = "3900m"
    assert run("flink-memory-derivable", as_res(m)) == [
        "Flink cannot derive the TaskManager memory of FlinkDeployment flink-logistics/warehouse: TaskManager memory "
        "configuration failed: The configured Total Process Memory size (4.000gb (4294967296 bytes)) is less than the "
        "sum of the derived Total Flink Memory size (3.809gb (4089446400 bytes)) and the configured or default JVM "
        "Metaspace size  (256.000mb (268435456 bytes)). Why: this is Flink's own check when the TaskManager starts, "
        "so the pod would exit at once and never run the job; the operator does not run it at admission when "
        "resource.memory is set. Fix: make spec.taskManager.resource.memory and the taskmanager.memory.* keys of "
        "spec.flinkConfiguration consistent (set as few of them as possible); `flinkplat memory FILE` prints the "
        "full derivation."]


def test_memory_derivable_jobmanager():
    m = prod_manifest()
    conf(m)["jobmanager.memory.off-heap.size"] = "3g"
    [msg] = run("flink-memory-derivable", as_res(m))
    assert msg.startswith(
        "Flink cannot derive the JobManager memory of FlinkDeployment flink-logistics/warehouse: JobManager memory "
        "configuration failed: The configured Total Flink Memory (1.550gb (1664299824 bytes)) is less than the "
        "configured Off-heap Memory (3.000gb (3221225472 bytes)). Why:")


def flinks_default_split(manifest: dict) -> dict:
    """The manifest without the platform's TaskManager memory layout (flinkplat.flink.layout): Flink's own split."""
    for key in ("taskmanager.memory.flink.size", "taskmanager.memory.jvm-overhead.max"):
        conf(manifest).pop(key, None)
    return manifest


def test_memory_derivable_points_at_the_overhead_range():
    m = flinks_default_split(prod_manifest("use1-main/flink-payments/fraud-score"))
    conf(m)["taskmanager.memory.flink.size"] = "5734m"
    [msg] = run("flink-memory-derivable", as_res(m))
    assert "Derived JVM Overhead size (2.150gb (2308964352 bytes)) is not in configured JVM Overhead range" in msg
    assert msg.endswith("Fix: raise taskmanager.memory.jvm-overhead.max to at least 2202m, or lower "
                        "taskmanager.memory.flink.size so that process − flink − metaspace fits the overhead range "
                        "(or remove taskmanager.memory.flink.size and let Flink derive it from "
                        "spec.taskManager.resource.memory).")


RATIO_WHY = ("Why: what is left of the container (JVM overhead, metaspace) is the headroom for native memory Flink "
             "does not account for (RocksDB beyond managed memory, Netty, thread stacks, glibc arenas); without it "
             "the TaskManager gets OOM-killed.")


def test_memory_ratio_suggests_a_flink_size_checked_against_flink():
    assert run("flink-memory-ratio", as_res(flinks_default_split(prod_manifest()))) == [
        "TaskManager Total Flink Memory of FlinkDeployment flink-logistics/warehouse is 3430m = 83.7% of its 4096m "
        f"container; the team's ratio is at most 70%. {RATIO_WHY} Fix: set taskmanager.memory.flink.size: 2867m in "
        "spec.flinkConfiguration (Flink then derives 973m of JVM overhead, inside its range)."]


def test_memory_ratio_says_when_following_it_breaks_flink():
    m = flinks_default_split(prod_manifest("use1-main/flink-payments/fraud-score"))
    conf(m)["taskmanager.memory.jvm-overhead.max"] = "2g"  # the user's own range, too narrow for the ratio
    assert run("flink-memory-ratio", as_res(m)) == [
        "TaskManager Total Flink Memory of FlinkDeployment flink-payments/fraud-score is 7116m = 86.9% of its 8192m "
        f"container; the team's ratio is at most 70%. {RATIO_WHY} Fix: following the ratio naively breaks Flink at "
        "this size: taskmanager.memory.flink.size: 5734m alone leaves 2202m of JVM overhead and Flink refuses to "
        "start (\"TaskManager memory configuration failed: Derived JVM Overhead size (2.150gb (2308964352 bytes)) is "
        "not in configured JVM Overhead range [192.000mb (201326592 bytes), 2.000gb (2147483648 bytes)].\"); set "
        "taskmanager.memory.flink.size: 5734m together with taskmanager.memory.jvm-overhead.max: 2202m (checked "
        "against Flink's derivation)."]


def test_memory_ratio_passes_when_followed_and_threshold_is_configurable():
    m = flinks_default_split(prod_manifest())
    conf(m)["taskmanager.memory.flink.size"] = "2867m"
    assert run("flink-memory-ratio", as_res(m)) == []
    assert run("flink-memory-ratio", as_res(flinks_default_split(prod_manifest())), {"ratio": 0.85}) == []
    # The platform's own layout at a stricter team ratio is reported like any other.
    assert run("flink-memory-ratio", as_res(prod_manifest()), {"ratio": 0.6, "tolerance": 0}) != []


def test_network_memory_minimum():
    m = prod_manifest()
    conf(m)["taskmanager.memory.network.max"] = "100m"
    assert run("flink-network-memory", as_res(m)) == [
        "TaskManager network memory of FlinkDeployment flink-logistics/warehouse is 100.0m, below 128m. Why: network "
        "buffers carry every record shuffled between tasks; too few throttle throughput (backpressure) and fail jobs "
        "with 'Insufficient number of network buffers' as parallelism grows. Fix: set taskmanager.memory.network.min: "
        "128m in spec.flinkConfiguration (network memory is 10% of Total Flink Memory, clamped to [min, max]) or "
        "give the TaskManager more memory."]
    assert run("flink-network-memory", as_res(prod_manifest()), {"minMb": 512}) != []


def test_slots_match_cpu():
    m = prod_manifest()
    conf(m)["taskmanager.numberOfTaskSlots"] = "4"
    assert run("flink-slots-match-cpu", as_res(m)) == [
        "FlinkDeployment flink-logistics/warehouse runs 4 task slots per TaskManager on 2 CPU cores. Why: each slot "
        "runs a full pipeline of tasks; more slots than cores makes them compete for CPU, which shows up as "
        "backpressure and growing checkpoint times (the classic Flink sizing mistake). Fix: set "
        "taskmanager.numberOfTaskSlots (stack file: taskManager.slots) equal to taskManager.resource.cpu (2), or set "
        "the CPU to 4."]


def test_slots_match_cpu_reads_props_as_pulumi_policy_passes_them():
    m = prod_manifest()
    m["spec"]["taskManager"]["resource"]["cpu"] = 2.0  # every number is a float in policy props
    conf(m)["taskmanager.numberOfTaskSlots"] = 2.0
    assert run("flink-slots-match-cpu", as_res(m)) == []


def test_checkpointing_off():
    m = prod_manifest()
    del conf(m)["execution.checkpointing.interval"]
    assert run("flink-checkpointing", as_res(m)) == [
        "FlinkDeployment flink-logistics/warehouse has checkpointing off (execution.checkpointing.interval is not "
        "set). Why: without checkpoints a failure or an upgrade restarts the job from nothing (or from its last "
        "savepoint): state and exactly-once guarantees are lost. Fix: set execution.checkpointing.interval (e.g. "
        "60s; stack file: checkpointing.interval)."]


def test_checkpointing_not_durable():
    m = prod_manifest()
    conf(m)["execution.checkpointing.dir"] = "file:///tmp/checkpoints"
    assert run("flink-checkpointing", as_res(m)) == [
        "FlinkDeployment flink-logistics/warehouse checkpoints to 'file:///tmp/checkpoints', which is not durable "
        "storage (s3://). Why: a local or pod-bound path disappears with the pod, so a restarted JobManager finds no "
        "checkpoint and the job restarts from empty state. Fix: point execution.checkpointing.dir at the cluster's "
        "prefix in the checkpoint bucket (s3://)."]


def test_checkpoint_timeout():
    m = prod_manifest()
    conf(m)["execution.checkpointing.timeout"] = "2min"
    assert run("flink-checkpoint-timeout", as_res(m)) == [
        "FlinkDeployment flink-logistics/warehouse: checkpoint timeout 2min is less than 3 × the interval 60s. Why: a "
        "checkpoint that needs a little longer than usual (a slow S3 write, backpressure, a large state) then expires "
        "and is retried from scratch; under load no checkpoint ever completes. Fix: set "
        "execution.checkpointing.timeout to at least 3min (stack file: checkpointing.timeout)."]
    assert run("flink-checkpoint-timeout", as_res(m), {"minIntervals": 2}) == []


CONCURRENCY_WHY = ("Why: overlapping checkpoints compete for the same disks, network and S3 bandwidth, so each takes "
                   "longer and the job spends more time aligning barriers; one at a time with a minimum pause is "
                   "faster overall.")


def test_checkpoint_concurrency_two_only_for_large_state():
    m = prod_manifest()
    conf(m)["execution.checkpointing.max-concurrent-checkpoints"] = "2"
    assert run("flink-checkpoint-concurrency", as_res(m)) == []  # RocksDB: large state allowed 2
    conf(m)["state.backend.type"] = "hashmap"
    assert run("flink-checkpoint-concurrency", as_res(m)) == [
        "FlinkDeployment flink-logistics/warehouse allows 2 concurrent checkpoints (2 is allowed only for large state "
        f"on RocksDB/ForSt; this job uses hashmap). {CONCURRENCY_WHY} Fix: set "
        "execution.checkpointing.max-concurrent-checkpoints: 1 (stack file: checkpointing.maxConcurrent)."]


def test_savepoint_dir():
    m = prod_manifest()
    del conf(m)["execution.checkpointing.savepoint-dir"]
    assert run("flink-savepoint-dir", as_res(m)) == [
        "FlinkDeployment flink-logistics/warehouse needs a savepoint directory: job.upgradeMode is savepoint and "
        "kubernetes.operator.periodic.savepoint.interval is 6h, but execution.checkpointing.savepoint-dir is not set. "
        "Why: the operator refuses the deployment (or, without its webhook, keeps the old spec and reports an error), "
        "and no upgrade can carry state over. Fix: set execution.checkpointing.savepoint-dir to the cluster's "
        "savepoints prefix in the checkpoint bucket."]


HA_FIX = ("Fix: set high-availability.type: kubernetes and high-availability.storageDir to the cluster's ha prefix "
          "in the checkpoint bucket (stack file: highAvailability: true).")


def test_ha_standby_jobmanagers():
    m = prod_manifest()
    del conf(m)["high-availability.type"]
    assert run("flink-ha", as_res(m)) == [
        "FlinkDeployment flink-logistics/warehouse runs 2 JobManagers without Kubernetes HA. Why: standby JobManagers "
        "only take over through leader election, which needs Kubernetes HA; without it the operator refuses the "
        f"deployment. {HA_FIX}"]


def test_ha_required_in_prod():
    m = prod_manifest()
    m["spec"]["jobManager"]["replicas"] = 1
    del conf(m)["high-availability.type"]
    assert run("flink-ha", as_res(m)) == [
        "FlinkDeployment flink-logistics/warehouse is a prod job without high availability. Why: without HA a "
        "JobManager crash loses the job's checkpoint pointer and the operator cannot do last-state upgrades or "
        f"rollbacks safely; the job restarts from its last savepoint or from nothing. {HA_FIX}"]
    m["metadata"]["labels"]["flink-platform/environment"] = "nonprod"
    assert run("flink-ha", as_res(m)) == []


def test_ha_storage_dir():
    m = prod_manifest()
    del conf(m)["high-availability.storageDir"]
    assert run("flink-ha", as_res(m)) == [
        "FlinkDeployment flink-logistics/warehouse enables HA but sets no high-availability.storageDir. Why: Flink "
        "keeps HA metadata (job graphs, checkpoint pointers) in that directory and fails to start without it. Fix: "
        "set high-availability.storageDir to the cluster's ha prefix in the checkpoint bucket (s3://…/ha)."]


def test_parallelism_fits_replicas_times_slots():
    m = prod_manifest()
    m["spec"]["job"]["parallelism"] = 8
    assert run("flink-parallelism", as_res(m)) == [
        "FlinkDeployment flink-logistics/warehouse declares job.parallelism 8 but taskManager.replicas 3 × 2 slots = "
        "6. Why: when taskManager.replicas is set the operator ignores job.parallelism and runs the job with 6, so the "
        "declared value is misleading (and capacity planning built on it is wrong). Fix: set job.parallelism to 6, or "
        "change replicas/slots so that replicas × slots = 8."]


def test_parallelism_above_max_parallelism():
    m = prod_manifest()
    conf(m)["pipeline.max-parallelism"] = "4"
    assert run("flink-parallelism", as_res(m)) == [
        "FlinkDeployment flink-logistics/warehouse runs with parallelism 6 but pipeline.max-parallelism is 4. Why: "
        "Flink refuses to schedule an operator whose parallelism exceeds its max parallelism, so the job fails to "
        "start. Fix: raise pipeline.max-parallelism to at least 6 (a highly composite number such as 120), or lower "
        "the parallelism."]


def test_kafka_more_readers_than_partitions():
    m = prod_manifest()
    m["spec"]["taskManager"]["replicas"], m["spec"]["job"]["parallelism"] = 7, 14
    assert run("flink-kafka-partitions", as_res(m)) == [
        "FlinkDeployment flink-logistics/warehouse runs 14 Kafka source readers on the 12 partitions of "
        "'warehouse-events'. Why: each partition is read by exactly one reader, so 2 readers stay idle while holding "
        "slots (and idle sources can hold back watermarks). Fix: set the source parallelism (stack file: "
        "job.sourceParallelism) to 12 or a divisor of it."]


def test_kafka_uneven_readers():
    m = prod_manifest()
    m["metadata"]["annotations"]["flink-platform/kafka-source"] = json.dumps(
        {"topic": "warehouse-events", "partitions": 12, "sourceParallelism": 5})
    assert run("flink-kafka-partitions", as_res(m)) == [
        "FlinkDeployment flink-logistics/warehouse runs 5 Kafka source readers on the 12 partitions of "
        "'warehouse-events', which do not divide evenly. Why: some readers get 3 partitions and others 2: the busiest "
        "readers set the pace and the rest of the job waits on them (skew). Fix: use a source parallelism that "
        "divides 12, e.g. 6."]


MAXP_WHY = ("Why: state is split into max-parallelism key groups; when the autoscaler picks a parallelism that does "
            "not divide it, some subtasks own more key groups than others and the job is skewed after every rescale. "
            "A highly composite number divides evenly for the most parallelisms.")


def test_max_parallelism_highly_composite_with_autoscaler():
    m = prod_manifest("use1-main/flink-payments/ledger-agg")
    conf(m)["pipeline.max-parallelism"] = "1000"
    assert run("flink-max-parallelism", as_res(m)) == [
        "FlinkDeployment flink-payments/ledger-agg is rescaled by the operator's job autoscaler with "
        f"pipeline.max-parallelism 1000, which is not highly composite. {MAXP_WHY} Fix: use 1260 (or another highly "
        "composite number: 120, 180, 240, 360, 720, 840, 1260, 2520, 5040); changing it on a running job needs a "
        "savepoint restore that allows it."]


def test_max_parallelism_unset_with_reactive_scaler():
    m = prod_manifest("use1-main/flink-payments/fraud-score")
    del conf(m)["pipeline.max-parallelism"]
    [msg] = run("flink-max-parallelism", as_res(m))
    assert msg.startswith("FlinkDeployment flink-payments/fraud-score is rescaled by the reactive scheduler (HPA/KEDA) "
                          "but sets no pipeline.max-parallelism.")
    assert msg.endswith("Fix: set pipeline.max-parallelism: 120.")


def test_rocksdb_unmanaged_memory_and_hand_set_ratio():
    m = prod_manifest()
    conf(m)["state.backend.rocksdb.memory.managed"] = "false"
    conf(m)["state.backend.rocksdb.memory.write-buffer-ratio"] = "0.6"
    assert run("flink-rocksdb-memory", as_res(m)) == [
        "FlinkDeployment flink-logistics/warehouse uses rocksdb with state.backend.rocksdb.memory.managed: false and "
        "no fixed memory budget. Why: RocksDB then allocates native memory without a bound (block cache and write "
        "buffers per column family), and the container is OOM-killed as state grows. Fix: remove "
        "state.backend.rocksdb.memory.managed (default true) so RocksDB lives inside Flink's managed memory. The "
        "hand-set state.backend.rocksdb.memory.write-buffer-ratio has no effect without a memory budget: remove it "
        "or turn managed memory back on."]


def test_rocksdb_without_managed_memory():
    m = prod_manifest()
    conf(m)["taskmanager.memory.managed.fraction"] = "0"
    assert run("flink-rocksdb-memory", as_res(m)) == [
        "FlinkDeployment flink-logistics/warehouse uses rocksdb with managed memory on but the TaskManager has 0 bytes "
        "of managed memory. Why: RocksDB's block cache and write buffers are sized from managed memory; with none, "
        "every read goes to disk and writes flush constantly. Fix: remove taskmanager.memory.managed.size / "
        "managed.fraction overrides (default fraction 0.4)."]


def test_prod_prefers_application_clusters():
    m = prod_manifest()
    del m["spec"]["job"]
    assert run("flink-prod-application-mode", as_res(m)) == [
        "FlinkDeployment flink-logistics/warehouse is a session cluster in prod. Why: session jobs share one "
        "JobManager and its TaskManagers: one job's failure, memory leak or dependency clash affects every other job, "
        "and the operator cannot upgrade them independently with HA. Fix: run each prod job as its own application "
        "cluster (stack file: mode: application with one job)."]


def test_jobmanager_exposure():
    m = prod_manifest()
    conf(m)["kubernetes.rest-service.exposed.type"] = "LoadBalancer"
    assert run("flink-jobmanager-exposure", as_res(m)) == [
        "FlinkDeployment flink-logistics/warehouse exposes the JobManager REST service as LoadBalancer "
        "(kubernetes.rest-service.exposed.type). Why: the JobManager REST API has no authentication: anyone who "
        "reaches it can cancel jobs, upload and run jars (remote code execution) and read configuration. Fix: set "
        "kubernetes.rest-service.exposed.type: ClusterIP and reach the UI with kubectl port-forward or an "
        "authenticated ingress; if the exposure is intended, add the type to this policy's allowedTypes or waive it."]
    assert run("flink-jobmanager-exposure", as_res(m), {"allowedTypes": ["ClusterIP", "LoadBalancer"]}) == []


def test_host_network_needs_dns_policy_and_compensating_control():
    m = prod_manifest("use1-main/flink-logistics/shipment-track")
    del m["metadata"]["annotations"]["flink-platform/compensating-control"]
    m["spec"]["taskManager"]["podTemplate"]["spec"]["dnsPolicy"] = "ClusterFirst"
    assert run("flink-host-network", as_res(m)) == [
        "FlinkDeployment flink-logistics/shipment-track runs TaskManagers on the host network: dnsPolicy is "
        "ClusterFirst, so the pods resolve names through the node and cannot find cluster services; no compensating "
        "control is recorded: NetworkPolicy does not reliably apply to hostNetwork pods (their traffic is node "
        "traffic), so the namespace's default-deny does not protect them. Why: hostNetwork pods bypass pod "
        "networking: ports are shared with the node and everything on it, Pod Security baseline forbids them (the "
        "namespace must allow privileged pods), and cluster network policies do not isolate them. Fix: set dnsPolicy: "
        "ClusterFirstWithHostNet on the TaskManager pod template; record what restricts their traffic instead (e.g. a "
        "node security group) — stack file: taskManager.hostNetwork.compensatingControl, annotation "
        "flink-platform/compensating-control."]


def test_host_network_random_port():
    m = prod_manifest("use1-main/flink-logistics/shipment-track")
    del conf(m)["taskmanager.rpc.port"]
    [msg] = run("flink-host-network", as_res(m))
    assert ("the RPC port (taskmanager.rpc.port) is random, so two TaskManagers on one node can collide and no "
            "firewall rule can name it") in msg
    assert msg.endswith("Fix: set taskmanager.rpc.port to a fixed port.")


def test_operator_validation_name():
    m = prod_manifest()
    m["metadata"]["name"] = "Warehouse_1"
    assert run("flink-operator-validation", as_res(m)) == [
        "The operator would reject FlinkDeployment flink-logistics/Warehouse_1: \"The FlinkDeployment name: "
        "Warehouse_1 is invalid, must consist of lower case alphanumeric characters or '-', start with an alphabetic "
        "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123'), and the length must be no "
        f"more than 45 characters.\" {WHY_OPERATOR} Fix: rename it to match [a-z]([-a-z0-9]{{0,43}}[a-z0-9]) (11 "
        "characters now); a rename replaces the deployment, so start the new one from a savepoint "
        "(job.initialSavepointPath)."]


def test_operator_validation_reports_every_rejection_at_once():
    m = prod_manifest()
    conf(m)["kubernetes.cluster-id"] = "x"
    m["spec"]["flinkVersion"] = "v1_14"
    m["spec"]["logConfiguration"] = {"log4j.properties": "rootLogger.level = INFO"}
    del m["spec"]["serviceAccount"]
    assert run("flink-operator-validation", as_res(m)) == [
        "The operator would reject FlinkDeployment flink-logistics/warehouse: \"Flink version v1_14 is not supported "
        f"by this operator version\" {WHY_OPERATOR} Fix: upgrade the job to v1_19 or later through a savepoint.",
        "The operator would reject FlinkDeployment flink-logistics/warehouse: \"Forbidden Flink config key: "
        f"kubernetes.cluster-id\" {WHY_OPERATOR} Fix: remove kubernetes.cluster-id from spec.flinkConfiguration; the "
        "operator sets it itself.",
        "The operator would reject FlinkDeployment flink-logistics/warehouse: \"Invalid log config key: "
        "log4j.properties. Allowed keys are [log4j-console.properties, logback-console.xml]\" "
        f"{WHY_OPERATOR} Fix: rename spec.logConfiguration.log4j.properties to one of log4j-console.properties, "
        "logback-console.xml.",
        "The operator would reject FlinkDeployment flink-logistics/warehouse: \"spec.serviceAccount must be defined. "
        f"If you use helm, its value should be the same with the name of jobServiceAccount.\" {WHY_OPERATOR} Fix: set "
        "spec.serviceAccount to the Flink service account of the namespace.",
    ]


def test_operator_validation_flink_version_outside_the_crd():
    m = prod_manifest()
    m["spec"]["flinkVersion"] = "v2_3"
    assert run("flink-operator-validation", as_res(m)) == [
        "The Kubernetes API server would reject FlinkDeployment flink-logistics/warehouse: spec.flinkVersion \"v2_3\" "
        "is not in the FlinkDeployment CRD of operator 1.15.0. Why: the CRD's enum only lists v1_13, v1_14, v1_15, "
        "v1_16, v1_17, v1_18, v1_19, v1_20, v2_0, v2_1, v2_2. Fix: use one of v1_19, v1_20, v2_0, v2_1, v2_2."]


def test_operator_validation_autoscaler_range():
    m = prod_manifest()
    conf(m)["job.autoscaler.enabled"] = "true"
    conf(m)["job.autoscaler.utilization.target"] = "1.5"
    assert run("flink-operator-validation", as_res(m)) == [
        "The operator would reject FlinkDeployment flink-logistics/warehouse: \"The AutoScalerOption "
        "job.autoscaler.utilization.target is invalid, it should be a value within the range [0.0, 1.0]\" "
        f"{WHY_OPERATOR} Fix: set job.autoscaler.utilization.target within [0.0, 1.0]."]


def test_operator_validation_memory_must_be_defined():
    m = flinks_default_split(prod_manifest())
    del m["spec"]["taskManager"]["resource"]["memory"]
    assert run("flink-operator-validation", as_res(m)) == [
        "The operator would reject FlinkDeployment flink-logistics/warehouse: \"TaskManager resource memory must be "
        f"defined using `spec.taskManager.resource.memory`\" {WHY_OPERATOR} Fix: set spec.taskManager.resource.memory "
        "(stack file: taskManager.memory)."]
    # With the platform's layout Flink derives the TaskManager from taskmanager.memory.flink.size alone, and the
    # operator (which runs that derivation only when resource.memory is unset) accepts it, as the pack does.
    m = prod_manifest()
    del m["spec"]["taskManager"]["resource"]["memory"]
    assert run("flink-operator-validation", as_res(m)) == []


def test_operator_validation_accepts_kubernetes_quantities():
    m = prod_manifest()
    m["spec"]["taskManager"]["resource"]["memory"] = "4Gi"
    assert run("flink-operator-validation", as_res(m)) == []
    assert run("flink-memory-derivable", as_res(m)) == []
