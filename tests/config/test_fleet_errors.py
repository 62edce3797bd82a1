"""Invalid fleets are configuration errors: `flinkplat plan` exits 2 and names the stack, the key path and the fix."""

from __future__ import annotations

import copy

import pytest

from flinkplat.cli import main
from tests.conftest import stack_document

PROD = stack_document("prod")


def _regions(document):
    return document["config"]["flink-platform:regions"]


def _clusters(document):
    return document["config"]["flink-platform:clusters"]


def _duplicate_cluster_name(document):
    _regions(document)[1]["kubernetesClusters"][0]["name"] = "use1-main"


def _negative_wave(document):
    _regions(document)[0]["kubernetesClusters"][0]["wave"] = -1


def _named_wave(document):
    _regions(document)[0]["kubernetesClusters"][1]["wave"] = "canary"


def _placed_nowhere(document):
    _clusters(document)[1]["placement"] = {"clusterLabels": {"tier": "gpu"}}


def _override_unknown_cluster(document):
    _clusters(document)[0]["overrides"][0] = {"cluster": "euw1-mian", "job": {"entryClass": "com.eu.ShippingJob"}}


def _override_unplaced_region(document):
    _clusters(document)[0]["overrides"][0]["region"] = "us-west-2"


@pytest.mark.parametrize("mutate, problems", [
    (_duplicate_cluster_name, [
        "flink-platform:regions[0].kubernetesClusters[1].name: Kubernetes cluster name 'use1-main' is used more than "
        "once in the fleet; cluster names must be unique across all regions",
        "flink-platform:regions[1].kubernetesClusters[0].name: Kubernetes cluster name 'use1-main' is used more than "
        "once in the fleet; cluster names must be unique across all regions",
        "flink-platform:clusters[2].placement.clusters[1]: Kubernetes cluster 'euw1-main' is not in the fleet; did "
        "you mean 'use1-main'? clusters: use1-canary, use1-main"]),
    (_negative_wave, [
        "flink-platform:regions[0].kubernetesClusters[0].wave: unknown wave -1: a wave is a whole number, 0 or more "
        "(0 is the canary, rolled out first; higher waves follow in order), e.g. wave: 1"]),
    (_named_wave, [
        "flink-platform:regions[0].kubernetesClusters[1].wave: unknown wave 'canary': a wave is a whole number, 0 or "
        "more (0 is the canary, rolled out first; higher waves follow in order), e.g. wave: 1"]),
    (_placed_nowhere, [
        "flink-platform:clusters[1].placement: Flink cluster 'payments-enrich' is placed nowhere: no Kubernetes "
        "cluster matches its placement; widen placement.regions / placement.clusters / placement.clusterLabels"]),
    (_override_unknown_cluster, [
        "flink-platform:clusters[0].overrides[0].cluster: override for Kubernetes cluster 'euw1-mian', which does not "
        "exist (did you mean 'euw1-main'?); it runs on: euw1-main, use1-main"]),
    (_override_unplaced_region, [
        "flink-platform:clusters[0].overrides[0].region: override for region 'us-west-2', which is not in the fleet "
        "(did you mean 'us-east-1'?); it runs in: eu-west-1, us-east-1"]),
], ids=["duplicate-cluster-name", "negative-wave", "named-wave", "placed-nowhere", "override-unknown-cluster",
        "override-unknown-region"])
def test_invalid_fleet_exits_2_with_the_key_path_and_the_fix(mutate, problems, write_stack, capsys):
    document = copy.deepcopy(PROD)
    mutate(document)
    path = write_stack(document, name="fleet")
    assert main(["plan", "--stack-file", str(path)]) == 2
    captured = capsys.readouterr()
    count = len(problems)
    assert captured.err.splitlines() == [
        f"stack 'fleet' ({path}): invalid configuration ({count} problem{'s' if count != 1 else ''})",
        *(f"  - {problem}" for problem in problems)]
    assert "Traceback" not in captured.err and captured.out == ""


def test_the_rollout_refuses_an_invalid_fleet_the_same_way(write_stack, capsys):
    document = copy.deepcopy(PROD)
    _duplicate_cluster_name(document)
    path = write_stack(document, name="fleet")
    assert main(["rollout", "--stack-file", str(path), "--dry-run"]) == 2
    assert capsys.readouterr().err.splitlines()[0] == f"stack 'fleet' ({path}): invalid configuration (3 problems)"
