"""FlinkMonitoring (being built under issue 4)."""
import pulumi


class FlinkMonitoring(pulumi.ComponentResource):
    def __init__(self, placement, monitoring, opts=None):
        super().__init__("flinkplatform:monitoring:FlinkMonitoring", placement.key, {}, opts)
        self.register_outputs({})
