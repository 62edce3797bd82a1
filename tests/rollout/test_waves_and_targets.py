"""The wave plan of the checked-in stacks and the `--target` URNs each wave gets."""

from __future__ import annotations

from flinkplat.rollout.targets import (KUBE_CLUSTER_TYPE, ResourceRecord, merge, records_from_plan,
                                       records_from_state, wave_targets)
from flinkplat.rollout.waves import plan_waves
from tests.rollout.conftest import four_wave_fleet, offline_plan

PREFIX = "urn:pulumi:prod::flink-platform::"
KUBE = "flinkplatform:fleet:Platform$flinkplatform:fleet:Region$flinkplatform:fleet:KubernetesCluster"
REGION = "flinkplatform:fleet:Platform$flinkplatform:fleet:Region"


def _deployment(cluster: str, ns: str, name: str) -> str:
    return (f"{PREFIX}{KUBE}$flinkplatform:flink:FlinkCluster$kubernetes:flink.apache.org/v1beta1:FlinkDeployment"
            f"::{cluster}/{ns}/{name}/deployment")


def test_prod_waves_canary_first_with_clusters_flink_clusters_and_regions(prod_waves):
    assert prod_waves.numbers == (0, 1, 2)
    assert [w.cluster_names for w in prod_waves.waves] == [("use1-canary",), ("use1-main",), ("euw1-main",)]
    assert [[r.name for r in w.regions] for w in prod_waves.waves] == [["us-east-1"], [], ["eu-west-1"]]
    assert prod_waves.waves[0].regions[0].bucket == "acme-flink-prod-us-east-1"
    euw1 = prod_waves.wave(2).clusters[0]
    assert [(f.key, f.entry_class) for f in euw1.flink] == [
        ("flink-logistics/warehouse", "com.eu.ShippingJob"), ("flink-payments/fraud-score",
                                                              "com.acme.payments.FraudScoreJob")]
    assert euw1.addons == ("cert-manager v1.19.1", "flink-operator 1.15.0", "keda 2.20.2")
    use1 = {f.key: f.entry_class for f in prod_waves.wave(1).clusters[0].flink}
    assert use1["flink-logistics/warehouse"] == "com.us.WarehouseJob"


def test_several_clusters_share_a_wave_in_stack_file_order(tmp_path):
    plan = four_wave_fleet(tmp_path)
    assert plan.shape() == {"0": ["use1-canary"], "1": ["use1-main"], "2": ["euw1-main"], "3": ["euw1-second"]}


def test_each_wave_targets_its_own_clusters_and_the_regions_it_touches_first():
    plan = offline_plan("prod")
    waves = plan_waves("prod", plan.loaded.config)
    targets = wave_targets(records_from_plan(plan.resources, "prod"), waves)
    canary, main, euw1 = (set(targets[n]) for n in (0, 1, 2))
    # the engine's URNs carry the full parent type chain
    assert _deployment("use1-canary", "flink-payments", "payments-enrich") in canary
    assert f"{PREFIX}{KUBE}::use1-canary" in canary
    assert f"{PREFIX}{KUBE}$pulumi:providers:kubernetes::k8s-use1-canary" in canary
    addons = f"{PREFIX}{KUBE}$flinkplatform:fleet:ClusterAddons"
    assert f"{addons}$kubernetes:helm.sh/v3:Release::use1-canary/flink-operator" in canary
    # region resources roll out with the first wave in the region
    bucket = f"{PREFIX}{REGION}$flinkplatform:storage:CheckpointBucket$aws:s3/bucket:Bucket::us-east-1/bucket"
    assert bucket in canary and f"{PREFIX}{REGION}$pulumi:providers:aws::aws-us-east-1" in canary
    # nothing of another wave's cluster or region leaks in, except the providers the engine steps in every run
    # (it "implicitly targets" them) and their parent components: state only, nothing in a cluster or a cloud
    records = {r.urn: r for r in records_from_plan(plan.resources, "prod")}
    engine_always = {u for u, r in records.items() if r.type.startswith("pulumi:providers:")}
    engine_always |= {records[u].parent for u in list(engine_always)} | {f"{PREFIX}flinkplatform:fleet:Platform::"
                                                                         "flink-platform-prod"}
    assert {f"{PREFIX}{REGION}$pulumi:providers:aws::aws-eu-west-1", f"{PREFIX}{REGION}::eu-west-1",
            f"{PREFIX}{KUBE}$pulumi:providers:kubernetes::k8s-euw1-main"} <= canary
    assert not any("eu-west-1/" in urn or "euw1-main" in urn for urn in (canary | main) - engine_always)
    assert not any("use1-main" in urn for urn in canary - engine_always)
    assert not any("use1-canary" in urn for urn in (main | euw1) - engine_always)
    assert all(not records[u].type.startswith(("kubernetes:", "aws:")) for u in engine_always)
    # per-Flink-cluster cloud resources go with their cluster's wave
    bucket_parent = f"{PREFIX}{REGION}$flinkplatform:storage:CheckpointBucket"
    role = f"{bucket_parent}$aws:iam/role:Role::use1-main/flink-logistics/warehouse/role"
    assert role in main and role not in canary
    assert _deployment("euw1-main", "flink-logistics", "warehouse") in euw1
    assert f"{PREFIX}{REGION}$flinkplatform:storage:CheckpointBucket$aws:s3/bucket:Bucket::eu-west-1/bucket" in euw1
    # every targeted resource's parent, provider and dependencies are targeted too
    for urns in (canary, main, euw1):
        for urn in urns:
            record = records[urn]
            assert {u for u in (record.parent, record.provider, *record.dependencies) if u} <= urns


def test_resources_only_in_the_current_state_are_targeted_for_deletion_in_their_wave():
    plan = offline_plan("prod")
    waves = plan_waves("prod", plan.loaded.config)
    kube = f"{PREFIX}{KUBE}::use1-main"
    gone = f"{PREFIX}{KUBE}$flinkplatform:flink:FlinkCluster::use1-main/flink-payments/retired-job"
    state = {"resources": [
        {"urn": f"{PREFIX}pulumi:pulumi:Stack::flink-platform-prod", "type": "pulumi:pulumi:Stack"},
        {"urn": kube, "type": KUBE_CLUSTER_TYPE, "parent": "urn:pulumi:prod::flink-platform::pulumi:pulumi:Stack::x"},
        {"urn": gone, "type": "flinkplatform:flink:FlinkCluster", "parent": kube},
    ]}
    current = records_from_state(state)
    assert current[0] == ResourceRecord(kube, KUBE_CLUSTER_TYPE, "use1-main")
    targets = wave_targets(merge(records_from_plan(plan.resources, "prod"), current), waves)
    assert gone in targets[1] and gone not in targets[0] and gone not in targets[2]
