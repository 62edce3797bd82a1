"""The dev stack through the real Pulumi engine and Kubernetes provider against a real API server (with the
controller manager): preview with the policy pack, up, no-change up, refresh, an edit, destroy; protect; a broken
stack; and the offline review (`flinkplat plan --base`, flinkplat/review/plandiff.py) against the engine's preview.

The tests of this module run in file order on one deployed stack (each step builds on the previous one).
"""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from flinkplat.plan.policies import PACK_NAME
from flinkplat.review.plandiff import diff_plans
from tests.acceptance.envtest import ApiError
from tests.engine.harness import (
    ROOT, EngineStack, flinkplat_plan, stack_document, step_counts, without_helm_addons,
)

pytestmark = pytest.mark.engine

CONTEXT = "kind-flink-dev"  # Pulumi.dev.yaml's kubernetesClusters[0].context
CLUSTERS = "flink-platform:clusters"


def dev_document() -> dict:
    doc = without_helm_addons(stack_document("dev"))
    assert doc["config"]["flink-platform:regions"][0]["kubernetesClusters"][0]["context"] == CONTEXT
    return doc


def cluster(doc: dict, name: str) -> dict:
    return next(c for c in doc["config"][CLUSTERS] if c["name"] == name)


def k8s_objects(plan: dict) -> list[dict]:
    return [r for r in plan["resources"]
            if r["type"].startswith("kubernetes:") and {"apiVersion", "kind", "metadata"} <= set(r["inputs"])]


def subset_mismatches(want, have, path: str = "") -> list[str]:
    """Where `have` (the stored object) differs from `want` (what the plan sent); extra fields in `have` (server
    defaults, status, managedFields) are fine."""
    if isinstance(want, dict):
        if not isinstance(have, dict):
            return [f"{path}: want an object, the server has {have!r}"]
        return [m for k, v in want.items() for m in subset_mismatches(v, have.get(k), f"{path}.{k}")]
    if isinstance(want, list):
        if not isinstance(have, list) or len(have) != len(want):
            return [f"{path}: want {want!r}, the server has {have!r}"]
        return [m for i, (w, h) in enumerate(zip(want, have)) for m in subset_mismatches(w, h, f"{path}[{i}]")]
    return [] if want == have else [f"{path}: want {want!r}, the server has {have!r}"]


@pytest.fixture(scope="module")
def server(control_planes):
    return control_planes.start("dev")


@pytest.fixture(scope="module")
def dev(engine_stack_factory, server) -> EngineStack:
    return engine_stack_factory("dev", dev_document(), {CONTEXT: server})


@pytest.fixture(scope="module")
def dev_plan(dev, tmp_path_factory) -> dict:
    """`flinkplat plan --out` of exactly the stack file the engine runs."""
    return flinkplat_plan(dev.stack_file, out=tmp_path_factory.mktemp("dev-plan"))


def engine_changes(steps) -> dict[str, str]:
    """URN -> op of the engine's steps for resources in a cluster/cloud (components, providers and the stack left
    out, as in plan JSON); a replacement's create-replacement/replace/delete-replaced steps are one `replace`."""
    out: dict[str, str] = {}
    for step in steps:
        if step.type.split(":", 1)[0] not in ("kubernetes", "aws") or step.type.startswith("pulumi:providers:"):
            continue
        op = "replace" if step.op in ("replace", "create-replacement", "delete-replaced") else step.op
        if op != "same":
            out[step.urn] = op
    return out


def review_changes(base: dict, head: dict) -> dict[str, str]:
    """URN -> action of the offline review. A rename is reported there as one replacement of the Flink resource;
    Pulumi runs it as a create of the new URN and a delete of the old one, so it is compared as that."""
    out: dict[str, str] = {}
    for change in diff_plans(base, head).changes:
        if change.old_name:
            out[change.urn] = "create"
            out[change.urn.rsplit("::", 1)[0] + "::" + change.old_name] = "delete"
        else:
            out[change.urn] = change.action
    return out


# ---------------------------------------------------------------------------------------------------------------


def test_preview_with_the_policy_pack_passes(dev, dev_plan):
    result = dev.preview()
    assert dev_plan["violations"] == []
    assert dev.policy_events == [], dev.output()
    # the pack really ran, through the CLI's analyzer plumbing
    assert f"{PACK_NAME}@v" in "\n".join(dev.log), dev.output()
    # everything is new: the planned objects plus the stack, the provider and the components
    assert set(result.change_summary) == {"create"}, dev.output()
    assert result.change_summary["create"] > len(dev_plan["resources"]), dev.output()


def test_up_creates_every_planned_object(dev, dev_plan, server):
    result = dev.up()
    assert step_counts(result) == {"create": len(dev.resources())}, dev.output()
    state = {r["urn"]: r for r in dev.custom_resources()}
    assert sorted(state) == sorted(r["urn"] for r in dev_plan["resources"]), "engine and offline URNs differ"
    problems = []
    for resource in k8s_objects(dev_plan):
        manifest = resource["inputs"]
        try:
            stored = server.get(server.path_for(manifest))
        except ApiError as error:
            problems.append(f"{resource['name']}: {error}")
            continue
        problems += [f"{resource['name']} {m}" for m in subset_mismatches(manifest, stored)]
    assert problems == [], "\n".join(problems)


def test_a_second_up_changes_nothing(dev):
    result = dev.up()
    assert set(step_counts(result)) == {"same"}, dev.output()
    dev.preview(expect_no_changes=True)


def test_refresh_shows_no_drift(dev):
    result = dev.refresh()
    assert set(step_counts(result)) == {"same"}, dev.output()
    dev.preview(expect_no_changes=True)


EDITS = {
    "parallelism": lambda doc: cluster(doc, "clickstream")["job"].update(parallelism=3),
    "rename": lambda doc: cluster(doc, "clickstream").update(name="clickstream-v2"),
    "flink version bump": lambda doc: cluster(doc, "clickstream").update(flinkVersion="2.2"),
    "new team": lambda doc: (
        doc["config"]["flink-platform:teams"].append(
            copy.deepcopy(doc["config"]["flink-platform:teams"][0]) | {"name": "payments"}),
        doc["config"][CLUSTERS].append(copy.deepcopy(cluster(doc, "clickstream")) | {"name": "fraud",
                                                                                      "team": "payments"})),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_offline_review_agrees_with_the_engine(dev, dev_plan, edit, tmp_path):
    base_doc = dev.stack_doc()
    head_doc = copy.deepcopy(base_doc)
    EDITS[edit](head_doc)
    head_file = tmp_path / "Pulumi.dev.yaml"
    head_file.write_text(yaml.safe_dump(head_doc, sort_keys=False))
    head_plan = flinkplat_plan(head_file)
    review = review_changes(dev_plan, head_plan)
    dev.write_stack_doc(head_doc)
    try:
        engine = engine_changes(dev.preview_steps())
    finally:
        dev.write_stack_doc(base_doc)
    assert review, f"{edit}: the review sees no change"
    assert engine == review, (
        f"{edit}: engine vs review\n  only engine: {sorted(set(engine.items()) - set(review.items()))}\n"
        f"  only review: {sorted(set(review.items()) - set(engine.items()))}")


def test_a_parallelism_edit_updates_exactly_the_flinkdeployment(dev, dev_plan, server):
    doc = dev.stack_doc()
    EDITS["parallelism"](doc)
    dev.write_stack_doc(doc)
    result = dev.up()
    counts = step_counts(result)
    assert counts.get("update") == 1 and set(counts) == {"update", "same"}, dev.output()
    [deployment] = [r for r in dev_plan["resources"]
                    if r["type"].endswith(":FlinkDeployment") and r["inputs"]["metadata"]["name"] == "clickstream"]
    stored = server.get(server.path_for(deployment["inputs"]))
    assert stored["spec"]["job"]["parallelism"] == 3
    dev.preview(expect_no_changes=True)


def test_destroy_removes_everything(dev, dev_plan, server):
    dev.destroy()
    assert dev.custom_resources() == []
    left = []
    for resource in k8s_objects(dev_plan):
        try:
            server.get(server.path_for(resource["inputs"]))
            left.append(resource["name"])
        except ApiError as error:
            if error.code != 404:
                raise
    assert left == []


# ---------------------------------------------------------------------------------------------------------------


def test_in_prod_protect_makes_destroy_of_a_flinkdeployment_fail(engine_stack_factory, server):
    """environment: prod protects FlinkDeployments by default: Pulumi refuses to destroy them until protection is
    removed in a separate change (per cluster `protect: false`, then `pulumi up`), after which destroy finishes."""
    from pulumi.automation import CommandError

    doc = dev_document()
    doc["config"]["flink-platform:environment"] = "prod"
    stack = engine_stack_factory("prodlike", doc, {CONTEXT: server},
                                 policy_config=ROOT / "policies" / "config.prod.json")
    stack.up()
    protected = sorted(r["urn"].rsplit("::", 1)[-1] for r in stack.custom_resources() if r.get("protect"))
    assert protected == ["dev-local/flink-analytics/clickstream/deployment",
                         "dev-local/flink-analytics/sandbox-top-speed", "dev-local/flink-analytics/sandbox/deployment"]
    with pytest.raises(CommandError) as failed:
        stack.destroy()
    message = " ".join(str(failed.value).split())
    assert "FlinkDeployment" in message and "cannot be deleted because it is protected" in message, message
    assert "pulumi state unprotect" in message, message
    # The running jobs keep everything they run with: namespace, quota, limits, network policies, service
    # account and RBAC (the FlinkDeployments depend on them). Only what depends on the jobs (monitoring) is gone.
    planned = k8s_objects(flinkplat_plan(stack.stack_file))
    kept = [r for r in planned if r["inputs"]["kind"] not in ("PodMonitor", "PrometheusRule", "ConfigMap")]
    assert {"Role", "RoleBinding", "ServiceAccount", "NetworkPolicy", "Namespace", "FlinkDeployment"} <= {
        r["inputs"]["kind"] for r in kept}
    missing = []
    for resource in kept:
        try:
            server.get(server.path_for(resource["inputs"]))
        except ApiError:
            missing.append(resource["name"])
    assert missing == [], "a refused destroy deleted what the running jobs need"

    for entry in doc["config"][CLUSTERS]:
        entry["protect"] = False
    stack.write_stack_doc(doc)
    # the protect flag changes in place; the monitoring objects the refused destroy deleted come back
    assert set(step_counts(stack.up())) == {"same", "create"}, stack.output()
    assert not any(r.get("protect") for r in stack.custom_resources())
    stack.destroy()
    assert stack.custom_resources() == []
    namespaces = {n["metadata"]["name"] for n in server.get("/api/v1/namespaces")["items"]}
    assert "flink-analytics" not in namespaces  # the namespace controller emptied and removed it


def test_a_stack_the_offline_plan_rejects_fails_the_real_preview_the_same_way(engine_stack_factory, server,
                                                                               tmp_path):
    from pulumi.automation import CommandError

    doc = dev_document()
    sandbox = cluster(doc, "sandbox")
    sandbox["jobs"][0]["jarURI"] = sandbox["jobs"][0]["jarURI"].replace("https://", "http://")
    broken = tmp_path / "Pulumi.dev.yaml"
    broken.write_text(yaml.safe_dump(doc, sort_keys=False))
    offline = [v for v in flinkplat_plan(broken)["violations"] if v["level"] == "mandatory"]
    assert offline, "the edit should break a mandatory rule"

    stack = engine_stack_factory("broken", doc, {CONTEXT: server})
    with pytest.raises(CommandError):
        stack.preview()
    # What the CLI printed: "- [mandatory]  <policy>  (<type>: <name>)", the description, the message.
    printed = " ".join(stack.output(last=len(stack.log)).split())
    for violation in offline:
        assert f"[mandatory] {violation['policy']} " in printed, stack.output()
        assert " ".join(violation["message"].split()) in printed, stack.output()
    assert "jarURI scheme 'http' is not in the allowlist [https]" in printed
    # The structured events say the same (the event stream can lag behind a failed command under heavy load, so
    # they are compared when they arrived). The CLI's message is "<policy description>\n<violation message>\n".
    if stack.policy_events:
        engine = [(e.policy, e.message.split("\n", 1)[1].strip()) for e in stack.policy_events
                  if e.level == "mandatory"]
        assert sorted(engine) == sorted((v["policy"], v["message"].strip()) for v in offline), stack.output()


def test_bad_config_fails_the_real_preview_naming_the_stack_key_and_fix(engine_stack_factory, server):
    from pulumi.automation import CommandError

    doc = dev_document()
    doc["config"]["flink-platform:teams"][0]["name"] = "Analytics_Team"
    stack = engine_stack_factory("badconfig", doc, {CONTEXT: server})
    with pytest.raises(CommandError) as failed:
        stack.preview(policy=False)
    message = str(failed.value)
    assert "stack 'badconfig': invalid configuration" in message, message
    assert "flink-platform:teams[0].name: 'Analytics_Team' is not a valid name: use lower-case letters" in message
    assert "Traceback" not in message, message
    assert stack.custom_resources() == []
