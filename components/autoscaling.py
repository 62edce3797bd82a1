"""Autoscaler: the one scaler that owns a Flink cluster copy's TaskManager count — an autoscaling/v2 HPA (cpu,
memory, cpu+memory) or a KEDA ScaledObject (kafka-lag, custom), with a TriggerAuthentication and a `stringData`
Secret built from the Pulumi secret when the Kafka brokers need SASL credentials. The FlinkCluster component already
tells Pulumi to ignore `spec.taskManager.replicas`, so `pulumi up` never fights the scaler."""

from __future__ import annotations

from typing import Any, Mapping, Optional

import pulumi
import pulumi_kubernetes as k8s

from flinkplat.config.fleet import Placement
from flinkplat.config.models import Monitoring
from flinkplat.k8s import autoscaling as build

TYPE = "flinkplatform:autoscaling:Autoscaler"


def _custom(name: str, manifest: dict[str, Any], opts: pulumi.ResourceOptions) -> k8s.apiextensions.CustomResource:
    return k8s.apiextensions.CustomResource(name, api_version=manifest["apiVersion"], kind=manifest["kind"],
                                            metadata=manifest["metadata"], spec=manifest["spec"], opts=opts)


class Autoscaler(pulumi.ComponentResource):
    def __init__(self, placement: Placement, monitoring: Monitoring, secrets: Mapping[str, str],
                 opts: Optional[pulumi.ResourceOptions] = None):
        name = placement.key
        super().__init__(TYPE, name, {}, opts)
        # Children wait for what the component waits for (the FlinkDeployment): depends_on is not inherited.
        deps = opts.depends_on if opts else None
        after = list(deps) if isinstance(deps, (list, tuple)) else ([deps] if deps is not None else [])
        child = pulumi.ResourceOptions(parent=self, depends_on=after)
        self.hpa = self.scaled_object = self.secret = self.trigger_authentication = None
        kind = build.kind_of(placement)
        if kind == "hpa":
            manifest = build.hpa(placement)
            self.hpa = k8s.autoscaling.v2.HorizontalPodAutoscaler(
                f"{name}/hpa", metadata=manifest["metadata"], spec=manifest["spec"], opts=child)
        elif kind == "keda":
            depends: list[pulumi.Resource] = []
            if build.needs_kafka_credentials(placement):
                ref = placement.cluster.kafka.sasl_password.secret
                # Stays a Pulumi secret end to end: encrypted in state, "[secret]" in previews and plans.
                password = pulumi.Output.secret(secrets[ref])
                secret = build.kafka_secret(placement, password)
                self.secret = k8s.core.v1.Secret(f"{name}/keda-kafka-secret", metadata=secret["metadata"],
                                                 type=secret["type"], string_data=secret["stringData"], opts=child)
                auth = build.trigger_authentication(placement)
                self.trigger_authentication = _custom(
                    f"{name}/keda-kafka-auth", auth, pulumi.ResourceOptions(parent=self, depends_on=[*after, self.secret]))
                depends.append(self.trigger_authentication)
            self.scaled_object = _custom(f"{name}/scaledobject", build.scaled_object(placement, monitoring),
                                         pulumi.ResourceOptions(parent=self, depends_on=[*after, *depends]))
        self.register_outputs({})
