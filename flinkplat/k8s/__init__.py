"""Pure builders of the Kubernetes objects around a Flink cluster: team tenancy (namespace, quota, limits, network
policies), monitoring (PodMonitor, PrometheusRule, Grafana dashboard) and autoscaling (HPA, KEDA). No Pulumi import:
each function returns a manifest dict; `components/` wraps them in pulumi-kubernetes resources."""
