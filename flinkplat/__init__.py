"""flink-platform: the pure core (config, Flink knowledge, rules, plan, rollout) and the `flinkplat` CLI.

Nothing in this package imports Pulumi at module import time except `flinkplat.plan` (the mock runtime) so the
policy pack, the CLI and the tests share one source of truth without paying for the Pulumi SDK where not needed.
"""
