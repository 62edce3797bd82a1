"""Autoscaler (being built under issue 4)."""
import pulumi


class Autoscaler(pulumi.ComponentResource):
    def __init__(self, placement, monitoring, secrets, opts=None):
        super().__init__("flinkplatform:autoscaling:Autoscaler", placement.key, {}, opts)
        self.register_outputs({})
