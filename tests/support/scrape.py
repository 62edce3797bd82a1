"""The labels a Flink series carries once Prometheus has scraped it through a rendered PodMonitor or ServiceMonitor.

Prometheus Operator turns each monitor endpoint into a scrape job whose relabelling first sets its own target
labels — PodMonitor: `namespace`, `container`, `pod`, `job` = `<namespace>/<monitor name>`, `endpoint` = the port
name; ServiceMonitor (endpoints role): `pod` (from the endpoint's target), `namespace`, `service`, `pod`,
`container`, `job` = the Service name, `endpoint` (prometheus-operator's generated configs, e.g. its
`pkg/prometheus/testdata` goldens) — then appends the monitor's own `relabelings`. Prometheus adds `instance` =
`__address__` and drops every `__`-prefixed label. Here the monitor's `relabelings` are taken from the rendered
object and applied with Prometheus's semantics (action `replace`: source labels joined by `separator`, fully anchored
`regex`, `$1`/`${1}` in `replacement`; no match = no change), so a change to the rendered relabelling changes the
series the alert tests feed to promtool.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

CONTAINER = "flink-main-container"


def _sanitise(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_]", "_", name)


def discovery_labels(namespace: str, pod: str, pod_labels: Mapping[str, str], pod_ip: str, port: int,
                     port_name: str, service: str | None = None) -> dict[str, str]:
    """The `__meta_kubernetes_*` labels service discovery gives one Flink pod's metrics port."""
    meta = {
        "__address__": f"{pod_ip}:{port}",
        "__meta_kubernetes_namespace": namespace,
        "__meta_kubernetes_pod_name": pod,
        "__meta_kubernetes_pod_ip": pod_ip,
        "__meta_kubernetes_pod_container_name": CONTAINER,
        "__meta_kubernetes_pod_container_port_name": port_name,
        **{f"__meta_kubernetes_pod_label_{_sanitise(k)}": v for k, v in pod_labels.items()},
        **{f"__meta_kubernetes_pod_labelpresent_{_sanitise(k)}": "true" for k in pod_labels},
    }
    if service is not None:
        meta.update({
            "__meta_kubernetes_service_name": service,
            "__meta_kubernetes_endpoint_port_name": port_name,
            "__meta_kubernetes_endpoint_address_target_kind": "Pod",
            "__meta_kubernetes_endpoint_address_target_name": pod,
        })
    return meta


def _replacement(template: str, match: re.Match) -> str:
    return re.sub(r"\$\{(\d+)\}|\$(\d+)", lambda m: match.group(int(m.group(1) or m.group(2))) or "", template)


def relabel(labels: dict[str, str], config: Mapping[str, Any]) -> dict[str, str]:
    """One relabel_config (Prometheus Operator camelCase or Prometheus snake_case keys); only what we render."""
    action = config.get("action", "replace").lower()
    if action != "replace":
        raise NotImplementedError(f"relabel action {action!r} is not modelled")
    sources = config.get("sourceLabels", config.get("source_labels", []))
    value = config.get("separator", ";").join(labels.get(s, "") for s in sources)
    match = re.fullmatch(config.get("regex", "(.*)"), value)
    if match is None:
        return labels
    target = config.get("targetLabel", config.get("target_label"))
    result = _replacement(config.get("replacement", "$1"), match)
    out = dict(labels)
    if result == "":
        out.pop(target, None)  # Prometheus drops a label set to the empty string
    else:
        out[target] = result
    return out


def _operator_defaults(monitor: Mapping[str, Any], port_name: str) -> list[dict[str, Any]]:
    meta = monitor["metadata"]
    if monitor["kind"] == "PodMonitor":
        return [
            {"sourceLabels": ["__meta_kubernetes_namespace"], "targetLabel": "namespace"},
            {"sourceLabels": ["__meta_kubernetes_pod_container_name"], "targetLabel": "container"},
            {"sourceLabels": ["__meta_kubernetes_pod_name"], "targetLabel": "pod"},
            {"targetLabel": "job", "replacement": f"{meta['namespace']}/{meta['name']}"},
            {"targetLabel": "endpoint", "replacement": port_name},
        ]
    if monitor["kind"] == "ServiceMonitor":
        return [
            {"sourceLabels": ["__meta_kubernetes_endpoint_address_target_kind",
                              "__meta_kubernetes_endpoint_address_target_name"],
             "regex": "Pod;(.*)", "replacement": "${1}", "targetLabel": "pod"},
            {"sourceLabels": ["__meta_kubernetes_namespace"], "targetLabel": "namespace"},
            {"sourceLabels": ["__meta_kubernetes_service_name"], "targetLabel": "service"},
            {"sourceLabels": ["__meta_kubernetes_pod_name"], "targetLabel": "pod"},
            {"sourceLabels": ["__meta_kubernetes_pod_container_name"], "targetLabel": "container"},
            {"sourceLabels": ["__meta_kubernetes_service_name"], "targetLabel": "job", "replacement": "${1}"},
            {"targetLabel": "endpoint", "replacement": port_name},
        ]
    raise ValueError(f"not a monitor: {monitor['kind']}")


def endpoint_of(monitor: Mapping[str, Any]) -> Mapping[str, Any]:
    (endpoint,) = monitor["spec"]["podMetricsEndpoints" if monitor["kind"] == "PodMonitor" else "endpoints"]
    return endpoint


def target_labels(monitor: Mapping[str, Any], discovered: Mapping[str, str]) -> dict[str, str]:
    """The labels of every series scraped from this target: the operator's, then the monitor's relabelings."""
    endpoint = endpoint_of(monitor)
    labels = dict(discovered)
    for config in [*_operator_defaults(monitor, endpoint["port"]), *endpoint.get("relabelings", [])]:
        labels = relabel(labels, config)
    labels.setdefault("instance", labels["__address__"])
    return {k: v for k, v in labels.items() if not k.startswith("__")}
