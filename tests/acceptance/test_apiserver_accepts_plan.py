"""A real kube-apiserver (the version pinned in flinkplat/versions.py) with the pinned CRDs installed accepts every
Kubernetes object of the dev and prod plans, and rejects broken ones with its own messages.

Objects go in by server-side apply (what Pulumi's Kubernetes provider does) with `fieldValidation=Strict`: first
`dryRun=All`, then for real. Namespaces first, since admission rejects objects in a namespace that does not exist.
"""

from __future__ import annotations

import copy

import pytest

from tests.acceptance import samples
from tests.acceptance.conftest import plan_manifests
from tests.acceptance.envtest import ApiError

pytestmark = pytest.mark.envtest

STACKS = ("dev", "prod")


def _apply_all(apiserver, manifests: list[tuple[str, dict]]) -> list[str]:
    """Applies (label, manifest) pairs namespaces first, each dry-run then real; returns the failures."""
    failures = []
    namespaces = [(label, m) for label, m in manifests if m["kind"] == "Namespace"]
    others = [(label, m) for label, m in manifests if m["kind"] != "Namespace"]
    for group in (namespaces, others):
        for dry_run in (True, False):
            for label, manifest in group:
                try:
                    apiserver.apply(manifest, dry_run=dry_run)
                except (ApiError, LookupError) as err:
                    failures.append(f"{label} ({'dry-run' if dry_run else 'apply'}): {err}")
    return failures


@pytest.mark.parametrize("stack", STACKS)
def test_api_server_accepts_every_object_of_the_plan(apiserver, stack_plan, stack):
    # Secret values are masked leaf by leaf in the plan (a map stays a map), so Secrets are applied as they are.
    manifests = [(f"{provider} {name}", manifest) for provider, name, manifest in plan_manifests(stack_plan(stack))]
    assert manifests, f"the {stack} plan has no Kubernetes objects"
    # Namespaces the plan writes into but does not create are prerequisites of the cluster (e.g. the monitoring
    # stack's namespace): create them, and say so.
    planned = {m["metadata"]["name"] for _, m in manifests if m["kind"] == "Namespace"}
    external = sorted({m["metadata"]["namespace"] for _, m in manifests if m["metadata"].get("namespace")} - planned)
    for ns in external:
        apiserver.create_namespace(ns)
    print(f"{stack}: {len(manifests)} objects; pre-existing namespaces assumed: {external}")
    failures = _apply_all(apiserver, manifests)
    assert not failures, "the API server rejected:\n" + "\n".join(failures)
    # what was applied is what is stored: read every object back
    for label, manifest in manifests:
        stored = apiserver.get(apiserver.path_for(manifest))
        assert stored["metadata"]["name"] == manifest["metadata"]["name"], label
        if "spec" in manifest:
            assert set(manifest["spec"]) <= set(stored["spec"]), f"{label}: fields dropped by the server"


def test_api_server_accepts_the_service_monitor_variant(apiserver, service_monitor_plan):
    """monitoring.scrape: serviceMonitor — the headless metrics Services and ServiceMonitors (and everything else
    of that prod plan) are accepted too."""
    plan = service_monitor_plan("prod")
    manifests = [(f"{provider} {name}", manifest) for provider, name, manifest in plan_manifests(plan)]
    kinds = {m["kind"] for _, m in manifests}
    assert {"Service", "ServiceMonitor"} <= kinds and "PodMonitor" not in kinds
    planned = {m["metadata"]["name"] for _, m in manifests if m["kind"] == "Namespace"}
    for ns in sorted({m["metadata"]["namespace"] for _, m in manifests if m["metadata"].get("namespace")} - planned):
        apiserver.create_namespace(ns)
    failures = _apply_all(apiserver, manifests)
    assert not failures, "the API server rejected:\n" + "\n".join(failures)
    for label, manifest in manifests:
        if manifest["kind"] in ("Service", "ServiceMonitor"):
            stored = apiserver.get(apiserver.path_for(manifest))
            assert stored["spec"]["selector"] == manifest["spec"]["selector"], label


def test_api_server_accepts_hand_written_samples_of_every_kind(apiserver):
    """Independent of the plan code: one object of every custom resource kind the platform renders."""
    manifests = [samples.namespace()] + samples.all_samples()
    failures = _apply_all(apiserver, [(f"{m['kind']} {m['metadata']['name']}", m) for m in manifests])
    assert not failures, "\n".join(failures)


# -- negative: the API server (not our own code) rejects broken objects ---------------------------------------


def _rejection(apiserver, manifest: dict) -> str:
    apiserver.apply(samples.namespace())
    with pytest.raises(ApiError) as err:
        apiserver.apply(manifest, dry_run=True)
    # the real apply must fail the same way and leave nothing behind
    with pytest.raises(ApiError) as err_real:
        apiserver.apply(manifest)
    assert err_real.value.message == err.value.message
    return err.value.message


def _mutate(manifest: dict, fn) -> dict:
    manifest = copy.deepcopy(manifest)
    fn(manifest)
    return manifest


def test_unknown_flink_version_is_rejected(apiserver):
    dep = _mutate(samples.flink_deployment(), lambda m: m["spec"].update(flinkVersion="v1_99"))
    assert 'spec.flinkVersion: Unsupported value: "v1_99": supported values: "v1_13", ' in _rejection(apiserver, dep)


def test_flink_version_newer_than_the_operator_1_15_crd_is_rejected(apiserver):
    # The 1.15.0 Java enum has v2_3, but the published 1.15.0 CRD ends at v2_2.
    dep = _mutate(samples.flink_deployment(), lambda m: m["spec"].update(flinkVersion="v2_3"))
    message = _rejection(apiserver, dep)
    assert message.endswith('spec.flinkVersion: Unsupported value: "v2_3": supported values: "v1_13", "v1_14", '
                            '"v1_15", "v1_16", "v1_17", "v1_18", "v1_19", "v1_20", "v2_0", "v2_1", "v2_2"')


def test_string_where_flink_deployment_needs_an_integer_is_rejected(apiserver):
    dep = _mutate(samples.flink_deployment(), lambda m: m["spec"]["taskManager"].update(replicas="three"))
    assert ".spec.taskManager.replicas: expected numeric (int or float), got string" in _rejection(apiserver, dep)


def test_fraction_where_session_job_needs_an_integer_is_rejected(apiserver):
    job = _mutate(samples.flink_session_job(), lambda m: m["spec"]["job"].update(parallelism=1.5))
    assert ('spec.job.parallelism: Invalid value: "number": spec.job.parallelism in body must be of type integer: '
            '"number"') in _rejection(apiserver, job)


def test_unknown_upgrade_mode_is_rejected(apiserver):
    dep = _mutate(samples.flink_deployment(), lambda m: m["spec"]["job"].update(upgradeMode="last_state"))
    assert ('spec.job.upgradeMode: Unsupported value: "last_state": supported values: "last-state", "savepoint", '
            '"stateless"') in _rejection(apiserver, dep)


def test_unknown_field_is_rejected_not_dropped(apiserver):
    dep = _mutate(samples.flink_deployment(), lambda m: m["spec"].update(taskManagers={"replicas": 2}))
    assert ".spec.taskManagers: field not declared in schema" in _rejection(apiserver, dep)


def test_scaled_object_trigger_metadata_must_be_strings(apiserver):
    obj = _mutate(samples.scaled_object(), lambda m: m["spec"]["triggers"][0]["metadata"].update(lagThreshold=50))
    assert ".spec.triggers[0].metadata.lagThreshold: expected string, got" in _rejection(apiserver, obj)


def test_scaled_object_needs_a_target_name(apiserver):
    obj = _mutate(samples.scaled_object(), lambda m: m["spec"]["scaleTargetRef"].pop("name"))
    message = _rejection(apiserver, obj)
    assert message.startswith('ScaledObject.keda.sh "clickstream-tm" is invalid: ')
    assert "spec.scaleTargetRef.name: Required value" in message


def test_network_policy_with_an_invalid_protocol_is_rejected(apiserver):
    pol = _mutate(samples.network_policy(), lambda m: m["spec"]["ingress"][0]["ports"][0].update(protocol="HTTP"))
    assert _rejection(apiserver, pol) == (
        'NetworkPolicy.networking.k8s.io "allow-metrics" is invalid: spec.ingress[0].ports[0].protocol: '
        'Unsupported value: "HTTP": supported values: "TCP", "UDP", "SCTP"')


def test_pod_monitor_with_an_invalid_interval_is_rejected(apiserver):
    mon = _mutate(samples.pod_monitor(), lambda m: m["spec"]["podMetricsEndpoints"][0].update(interval="30 seconds"))
    assert 'spec.podMetricsEndpoints[0].interval: Invalid value: "30 seconds"' in _rejection(apiserver, mon)
