"""The explicit providers the program creates: their inputs must not depend on the environment of the machine that
runs `pulumi up` (or every machine/CI job would show provider updates)."""

from __future__ import annotations

from flinkplat.plan.runner import plan_stack


def _kubernetes_providers(stack: str) -> dict[str, dict]:
    plan = plan_stack(stack=stack, with_policies=False)
    return {r.name: r.inputs for r in plan.resources if r.type == "pulumi:providers:kubernetes"}


def test_context_clusters_do_not_record_the_ambient_kubeconfig_path(monkeypatch):
    monkeypatch.setenv("KUBECONFIG", "/home/someone/.kube/ci-1234/config")
    here = _kubernetes_providers("prod")
    monkeypatch.setenv("KUBECONFIG", "/tmp/another-runner/kubeconfig")
    there = _kubernetes_providers("prod")
    assert here == there
    assert set(here) == {"k8s-use1-canary", "k8s-use1-main", "k8s-euw1-main"}
    for inputs in here.values():
        # "" is the provider's "unset": it loads the ambient kubeconfig (KUBECONFIG or ~/.kube/config) for the context
        assert inputs["kubeconfig"] == "" and inputs["context"].startswith("arn:aws:eks:")
        assert inputs["clusterIdentifier"]
