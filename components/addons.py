"""ClusterAddons (being built under issue 5)."""
import pulumi


class ClusterAddons(pulumi.ComponentResource):
    def __init__(self, kube, needs_keda=False, opts=None):
        super().__init__("flinkplatform:fleet:ClusterAddons", kube.name, {}, opts)
        self.ready = []
        self.register_outputs({})
