"""FlinkMonitoring: the PodMonitor (or metrics Service + ServiceMonitor), PrometheusRule and Grafana dashboard
ConfigMap of one Flink cluster copy. The manifests come from `flinkplat/k8s/monitoring.py`; Prometheus Operator
objects are CustomResources, the Service and the dashboard typed core objects."""

from __future__ import annotations

from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s

from flinkplat.config.fleet import Placement
from flinkplat.config.models import Monitoring
from flinkplat.k8s import monitoring as build

TYPE = "flinkplatform:monitoring:FlinkMonitoring"


def _custom(name: str, manifest: dict[str, Any], opts: pulumi.ResourceOptions) -> k8s.apiextensions.CustomResource:
    return k8s.apiextensions.CustomResource(name, api_version=manifest["apiVersion"], kind=manifest["kind"],
                                            metadata=manifest["metadata"], spec=manifest["spec"], opts=opts)


class FlinkMonitoring(pulumi.ComponentResource):
    def __init__(self, placement: Placement, monitoring: Monitoring, opts: Optional[pulumi.ResourceOptions] = None):
        name = placement.key
        super().__init__(TYPE, name, {}, opts)
        # Children wait for what the component waits for (the FlinkDeployment): depends_on is not inherited.
        deps = opts.depends_on if opts else None
        after = list(deps) if isinstance(deps, (list, tuple)) else ([deps] if deps is not None else [])
        child = pulumi.ResourceOptions(parent=self, depends_on=after)
        self.pod_monitor = self.metrics_service = self.service_monitor = None
        if monitoring.scrape == "serviceMonitor":
            service = build.metrics_service(placement, monitoring)
            self.metrics_service = k8s.core.v1.Service(f"{name}/metrics-service", metadata=service["metadata"],
                                                       spec=service["spec"], opts=child)
            self.service_monitor = _custom(f"{name}/servicemonitor", build.service_monitor(placement, monitoring),
                                           child)
        else:
            self.pod_monitor = _custom(f"{name}/podmonitor", build.pod_monitor(placement, monitoring), child)
        self.prometheus_rule = _custom(f"{name}/prometheusrule", build.prometheus_rule(placement, monitoring), child)
        self.dashboard = None
        if monitoring.grafana_dashboards:
            config_map = build.dashboard_config_map(placement, monitoring)
            self.dashboard = k8s.core.v1.ConfigMap(f"{name}/dashboard", metadata=config_map["metadata"],
                                                   data=config_map["data"], opts=child)
        self.register_outputs({})
