"""The stack file's schema: typed, documented, safe by default.

Every `flink-platform:<key>` of a stack file maps to one field of `StackConfig` (camelCase in the file, snake_case
here). Each field documents its default and what "unset" means; `docs/configuration.md` is generated from these
descriptions. Validation that spans several objects (teams referenced by clusters, placement, overrides, waves)
lives in `flinkplat.config.crossref`, so this module is only the shape of a single value.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from flinkplat import versions
from flinkplat.flink.durations import parse_duration_ms
from flinkplat.flink.layout import DEFAULT_FLINK_MEMORY_RATIO
from flinkplat.flink.memory import FlinkMemoryError, parse_memory_size

# ---------------------------------------------------------------------------------------------------------------
# Small value types
# ---------------------------------------------------------------------------------------------------------------

_MEMORY_RE = re.compile(r"^\s*([0-9]+)\s*([a-zA-Z]*)\s*$")  # ASCII digits only, as Flink's MemorySize
_FLINK_UNITS = {"", "b", "bytes", "k", "kb", "kibibytes", "m", "mb", "mebibytes", "g", "gb", "gibibytes", "t", "tb", "tebibytes"}
_K8S_UNITS = {"Ki": "k", "Mi": "m", "Gi": "g", "Ti": "t"}
# Upper bounds of the schema's numbers (each documented on its field): Flink's limit on parallelism and max
# parallelism (KeyGroupRangeAssignment.UPPER_BOUND_MAX_PARALLELISM), and a CPU count no node exceeds.
MAX_PARALLELISM = 32768
MAX_CPU = 1024


def _memory(value: str) -> str:
    """A memory size as the operator accepts it. Kubernetes binary quantities (`4Gi`) are normalised to Flink's
    own notation (`4g`) because Flink reads `resource.memory` as a Flink MemorySize first."""
    match = _MEMORY_RE.match(str(value))
    if not match:
        raise ValueError(f"'{value}' is not a memory size; write it like 2048m or 4g (Flink units, binary)")
    number, unit = match.groups()
    if unit not in _K8S_UNITS and unit.lower() not in _FLINK_UNITS:
        raise ValueError(
            f"unit '{unit}' of '{value}' is not a Flink memory unit; use m (MiB) or g (GiB), e.g. {number}m"
        )
    if unit == "":
        raise ValueError(f"'{value}' has no unit and would mean {number} bytes; write {number}m or {number}g")
    normalised = f"{number}{_K8S_UNITS.get(unit, unit.lower())}"
    try:
        parse_memory_size(normalised)  # Flink's own reading: the only failure left is a size beyond 64 bits
    except FlinkMemoryError:
        raise ValueError(f"'{value}' is too large: Flink reads memory sizes as 64-bit byte counts (at most 8 EiB)") \
            from None
    return normalised


MemorySize = Annotated[str, AfterValidator(_memory)]

def duration_ms(value: str) -> int:
    """Milliseconds of a Flink duration such as `30 s`, `1 min`, `10m`, `500ms`. The stack file requires a unit
    (Flink would read a bare number as milliseconds, which is rarely what was meant)."""
    try:
        if str(value).strip().isascii() and str(value).strip().isdigit():
            raise ValueError
        return int(parse_duration_ms(str(value)))
    except ValueError:
        raise ValueError(f"'{value}' is not a duration; write it like 30s, 5min, 1h") from None


def _duration(value: str | int) -> str:
    if isinstance(value, int):
        raise ValueError(f"{value} has no unit; write it like {value}s or {value}ms")
    duration_ms(value)
    return str(value).strip()


Duration = Annotated[str, AfterValidator(_duration)]

_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
# The operator's own rule for FlinkDeployment names (DefaultValidator): a DNS-1035 label of at most 45 characters.
_OPERATOR_NAME = re.compile(r"^[a-z]([-a-z\d]{0,43}[a-z\d])?$")


def _dns_label(value: str) -> str:
    if not _DNS_LABEL.match(value) or len(value) > 63:
        raise ValueError(
            f"'{value}' is not a valid name: use lower-case letters, digits and '-', start with a letter, "
            "end with a letter or digit, at most 63 characters"
        )
    return value


def _flink_name(value: str) -> str:
    if not _OPERATOR_NAME.match(value):
        detail = f"it is {len(value)} characters" if len(value) > 45 else "it must start with a letter"
        raise ValueError(
            f"'{value}' is not a valid FlinkDeployment name: the operator requires [a-z]([-a-z0-9]{{0,43}}[a-z0-9]) "
            f"(at most 45 characters, start with a letter); {detail}"
        )
    return value


def _raw_number(key: str, item: Any, integer: bool, low: float, high: float, example: str) -> float:
    """A number in a raw Flink option, read as Flink reads it (a number or its text), within [low, high]."""
    number: float | None = None
    if not isinstance(item, bool):
        try:
            number = float(str(item).strip()) if not integer or isinstance(item, float) else int(str(item).strip())
        except ValueError:
            number = None
    if number is None or not low <= number <= high or (integer and number != int(number)):  # NaN fails the range
        kind = "a whole number" if integer else "a number"
        raise ValueError(f"flinkConfiguration.{key}: {str(item)[:40]!r} is not {kind} from {low:g} to {high:g} "
                         f"(the platform computes with it); write e.g. {example}")
    return number


DnsLabel = Annotated[str, AfterValidator(_dns_label)]
FlinkName = Annotated[str, AfterValidator(_flink_name)]
# Keys the operator sets itself and its DefaultValidator rejects ("Forbidden Flink config key").
_OPERATOR_OWNED_KEYS = ("kubernetes.namespace", "kubernetes.cluster-id", "high-availability.cluster-id")
FlinkVersion = Literal["1.19", "1.20", "2.0", "2.1", "2.2"]
Environment = Literal["dev", "staging", "prod"]


class Model(BaseModel):
    """Base of every stack-file object: camelCase keys, unknown keys rejected, immutable once loaded."""

    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True, use_attribute_docstrings=True,
        allow_inf_nan=False,  # .inf/.nan (or "1e309") is never a setting: every float must be finite
    )


class SecretRef(Model):
    """A reference to a top-level secret config key, so the value stays a Pulumi secret end to end.

    Set it with `pulumi config set --secret flink-platform:<key> <value>` and refer to it as `<key>`."""

    secret: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]*$")
    """Name of the top-level `flink-platform:` config key holding the secret value."""


# ---------------------------------------------------------------------------------------------------------------
# Fleet: regions and Kubernetes clusters
# ---------------------------------------------------------------------------------------------------------------


class Addons(Model):
    """Platform add-ons installed into a Kubernetes cluster as pinned Helm releases (see flinkplat/versions.py)."""

    flink_operator: bool = True
    """Install the Apache Flink Kubernetes Operator (pinned 1.15.0). Default: true."""
    cert_manager: bool = True
    """Install cert-manager, which the operator's admission webhook needs. Default: true."""
    keda: bool | None = None
    """Install KEDA. Unset (default): installed when a job on this cluster uses a KEDA mode (kafka-lag, custom);
    true: always; false: never — KEDA is managed outside this stack and its CRDs must already exist."""
    prometheus_stack: bool = False
    """Install kube-prometheus-stack. Default: false (most clusters already run one)."""


class KubernetesCluster(Model):
    """One Kubernetes cluster of the fleet; it gets its own Pulumi Kubernetes provider."""

    name: DnsLabel
    """Unique name of the cluster across the fleet (used in resource names and the plan)."""
    context: str | None = None
    """kubeconfig context to use. Exactly one of `context` and `kubeconfig` must be set."""
    kubeconfig: SecretRef | None = None
    """A secret config key holding the whole kubeconfig (for CI). Exactly one of `context` and `kubeconfig`."""
    wave: int = Field(default=1, ge=0, le=1000)
    """Rollout wave: lower waves are rolled out first; wave 0 is the canary. 0 to 1000. Default: 1."""
    labels: dict[str, str] = {}
    """Free labels (e.g. tier: canary) used by job placement."""
    oidc_provider_arn: str | None = None
    """IAM OIDC provider of the cluster for IRSA. Unset: EKS Pod Identity is used for the Flink roles."""
    operator_namespace: DnsLabel = "flink-operator"
    """Namespace of the Flink operator (allowed to reach JobManager REST). Default: flink-operator."""
    addons: Addons = Addons()
    """Add-ons to install on this cluster. Default: operator and cert-manager only."""

    @field_validator("wave", mode="before")
    @classmethod
    def _wave_number(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() and len(value.strip()) < 8:
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"unknown wave {value!r}: a wave is a whole number, 0 or more (0 is the canary, "
                             "rolled out first; higher waves follow in order), e.g. wave: 1")
        return value

    @model_validator(mode="after")
    def _one_way_to_connect(self) -> "KubernetesCluster":
        if (self.context is None) == (self.kubeconfig is None):
            raise ValueError(
                "set exactly one of 'context' (a kubeconfig context name) or 'kubeconfig' "
                "(a secret config key with the whole kubeconfig)"
            )
        return self


class Region(Model):
    """An AWS region: one AWS provider and one checkpoint bucket per region."""

    name: str = Field(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-[0-9]$")
    """AWS region name, e.g. us-east-1."""
    kubernetes_clusters: list[KubernetesCluster] = Field(min_length=1)
    """The Kubernetes clusters in this region (at least one)."""
    kms_key_arn: str | None = None
    """KMS key for SSE-KMS on the region's bucket. Unset: SSE-S3 (AES256)."""


# ---------------------------------------------------------------------------------------------------------------
# Platform-wide settings
# ---------------------------------------------------------------------------------------------------------------


_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_ENDPOINT = re.compile(r"^(?P<scheme>https?)://(?P<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:(?P<port>\d{1,5}))?/?$")
_SECRET_DATA_KEY = r"^[-._a-zA-Z0-9]+$"


def endpoint_port(endpoint: str) -> int:
    """TCP port of an object-store endpoint URL: the explicit one, else 443 for https and 80 for http."""
    match = _ENDPOINT.match(endpoint)
    if not match:
        raise ValueError(f"'{endpoint}' is not an endpoint URL")
    if match["port"]:
        return int(match["port"])
    return 443 if match["scheme"] == "https" else 80


class CredentialsSecret(Model):
    """A Kubernetes Secret holding the object store's access key pair. It is never read by Pulumi: the Flink pods
    get its keys as AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY through `secretKeyRef`, which the S3 filesystem's
    default AWS credentials chain reads. Create it in every team namespace that runs Flink clusters (pods wait in
    CreateContainerConfigError until it exists), e.g.
    `kubectl -n flink-<team> create secret generic <name> --from-literal=access-key=… --from-literal=secret-key=…`."""

    name: DnsLabel
    """Name of the Secret (in the Flink cluster's team namespace)."""
    access_key_id_key: str = Field(default="access-key", pattern=_SECRET_DATA_KEY)
    """Key of the Secret holding the access key id. Default: access-key."""
    secret_access_key_key: str = Field(default="secret-key", pattern=_SECRET_DATA_KEY)
    """Key of the Secret holding the secret access key. Default: secret-key."""


class S3CompatibleStorage(Model):
    """An existing bucket on an S3-compatible object store (MinIO, Ceph RGW, an on-prem appliance). The platform
    creates no cloud resource for it (no AWS provider, no IAM): it only points Flink's S3 filesystem at the endpoint."""

    endpoint: str
    """Endpoint URL with scheme and, if not 443/80, port, e.g. http://minio.minio.svc:9000 (Flink's `s3.endpoint`).
    The port is also what team namespaces open for S3 egress (to `egress.s3Cidrs`)."""
    bucket: str
    """Name of the existing bucket; every Flink cluster gets its own `<kube cluster>/<namespace>/<name>` prefix."""
    credentials_secret: CredentialsSecret
    """The Kubernetes Secret with the access key pair (by name and keys; never the keys themselves)."""
    path_style_access: bool = True
    """Address objects as `<endpoint>/<bucket>/<key>` (`s3.path.style.access`), which MinIO and most on-prem stores
    need; false uses virtual-hosted `<bucket>.<host>` names. Default: true."""

    @field_validator("endpoint")
    @classmethod
    def _endpoint_url(cls, value: str) -> str:
        if not _ENDPOINT.match(value):
            raise ValueError(f"'{value}' is not an endpoint URL; write it like http://minio.minio.svc:9000 or "
                             "https://s3.storage.example.com (scheme, host, optional port, no path)")
        port = endpoint_port(value)
        if not 1 <= port <= 65535:
            raise ValueError(f"port {port} of '{value}' is not a TCP port (1-65535)")
        return value.rstrip("/")

    @field_validator("bucket")
    @classmethod
    def _bucket_name(cls, value: str) -> str:
        if not _BUCKET_NAME.match(value) or ".." in value:
            raise ValueError(f"'{value}' is not a bucket name: 3-63 lower-case letters, digits, '.' and '-', "
                             "starting and ending with a letter or digit")
        return value

    @property
    def port(self) -> int:
        return endpoint_port(self.endpoint)


_AWS_BUCKET_FIELDS = ("checkpoint_expiration_days", "savepoint_expiration_days",
                      "noncurrent_version_expiration_days", "force_destroy")


class Storage(Model):
    """Checkpoint storage, one prefix per Flink cluster. Either AWS (`bucketPrefix`: one hardened S3 bucket per
    region, created and owned by the stack, with IAM roles per Flink cluster) or `s3Compatible` (an existing bucket on
    any S3-compatible store, credentials from a Kubernetes Secret: the stack then needs no AWS account)."""

    bucket_prefix: DnsLabel | None = None
    """AWS: bucket names are `<bucketPrefix>-<environment>-<region>`. Exactly one of `bucketPrefix` and
    `s3Compatible` is set."""
    s3_compatible: S3CompatibleStorage | None = None
    """An existing bucket on an S3-compatible object store instead of AWS buckets. Default: unset (AWS)."""
    checkpoint_expiration_days: int = Field(default=14, ge=1, le=3650)
    """AWS only: objects under `checkpoints/` older than this are expired. 1 to 3650. Default: 14 days."""
    savepoint_expiration_days: int = Field(default=90, ge=1, le=3650)
    """AWS only: objects under `savepoints/` older than this are expired. 1 to 3650. Default: 90 days."""
    noncurrent_version_expiration_days: int = Field(default=7, ge=1, le=3650)
    """AWS only: old versions of overwritten objects are removed after this. 1 to 3650. Default: 7 days."""
    force_destroy: bool | None = None
    """AWS only: allow destroying a non-empty bucket. Default: false in prod, true elsewhere."""

    @model_validator(mode="after")
    def _one_kind_of_storage(self) -> "Storage":
        if (self.bucket_prefix is None) == (self.s3_compatible is None):
            raise ValueError("set exactly one of 'bucketPrefix' (AWS: the stack creates one bucket per region) or "
                             "'s3Compatible' (an existing bucket on MinIO/Ceph/on-prem: endpoint, bucket, "
                             "credentialsSecret)")
        if self.s3_compatible is not None:
            aws_only = [to_camel(name) for name in _AWS_BUCKET_FIELDS if name in self.model_fields_set]
            if aws_only:
                raise ValueError(f"{', '.join(aws_only)} only apply to the AWS buckets the stack creates; with "
                                 "'s3Compatible' the bucket is not managed here: remove them (set lifecycle rules on "
                                 "the object store itself)")
        return self


class Monitoring(Model):
    """Prometheus Operator objects and a Grafana dashboard per Flink cluster."""

    enabled: bool = True
    """Create PodMonitor, PrometheusRule and dashboard ConfigMap. Default: true."""
    namespace: DnsLabel = "monitoring"
    """Namespace where Prometheus runs (allowed to scrape the metrics port). Default: monitoring."""
    selector_labels: dict[str, str] = {"release": "kube-prometheus-stack"}
    """Labels the Prometheus install selects PodMonitors/PrometheusRules by. Default: release: kube-prometheus-stack."""
    scrape: Literal["podMonitor", "serviceMonitor"] = "podMonitor"
    """How Prometheus finds the Flink pods. `podMonitor`: a PodMonitor per Flink cluster. `serviceMonitor`: for
    Prometheus installs that select only ServiceMonitors, a headless Service `<cluster>-metrics` selecting the
    cluster's JobManager and TaskManager pods plus a ServiceMonitor on its `metrics` port; both give the series the
    same labels (namespace, pod, flink_cluster, component, job_name …), so alerts and dashboards are identical.
    Default: podMonitor."""
    grafana_dashboards: bool = True
    """Ship a Grafana dashboard ConfigMap (label grafana_dashboard: "1"). Default: true."""
    prometheus_address: str = "http://kube-prometheus-stack-prometheus.monitoring.svc:9090"
    """Prometheus URL used by KEDA's Prometheus scaler (custom autoscaling)."""


class KafkaEgress(Model):
    """Kafka brokers a team's jobs may reach."""

    cidr: str = Field(pattern=r"^[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}$")
    """Broker network, e.g. 10.20.0.0/16 (NetworkPolicy cannot match DNS names)."""
    ports: list[Annotated[int, Field(ge=1, le=65535)]] = [9092]
    """Broker ports (1 to 65535). Default: [9092]."""


class Egress(Model):
    """What a team namespace may reach besides DNS and its own pods. Nothing else is open."""

    kafka: list[KafkaEgress] = []
    """Kafka broker networks and ports."""
    s3_cidrs: list[str] = []
    """CIDRs of S3 (VPC endpoint ENIs or the region's S3 prefix list ranges). Required when jobs checkpoint to S3."""
    kubernetes_api_cidrs: list[str] = []
    """API server CIDRs; native-mode JobManagers need them for HA ConfigMaps and TaskManager pods."""
    extra: list[KafkaEgress] = []
    """Any other CIDR/ports the jobs need (databases, HTTP sinks)."""


class Quota(Model):
    """ResourceQuota of a team namespace."""

    cpu: str = "32"
    """Total CPU requests and limits. Default: 32."""
    memory: str = "128Gi"
    """Total memory requests and limits. Default: 128Gi."""
    pods: int = Field(default=100, ge=1, le=100_000)
    """Maximum pods, 1 to 100000. Default: 100."""


class Team(Model):
    """A tenant: one namespace per Kubernetes cluster where any of its Flink clusters runs."""

    name: DnsLabel
    """Team name (label `team=<name>`)."""
    namespace: DnsLabel | None = None
    """Namespace. Default: flink-<name>."""
    quota: Quota = Quota()
    """Namespace ResourceQuota. Default: 32 CPU, 128Gi, 100 pods."""
    egress: Egress = Egress()
    """Allowed egress besides DNS and in-namespace traffic. Default: nothing else."""

    @property
    def namespace_name(self) -> str:
        return self.namespace or f"flink-{self.name}"


# ---------------------------------------------------------------------------------------------------------------
# Flink clusters
# ---------------------------------------------------------------------------------------------------------------


class JobManager(Model):
    """JobManager resources."""

    cpu: float = Field(default=1.0, gt=0, le=MAX_CPU)
    """CPU cores, more than 0 and at most 1024. Default: 1."""
    memory: MemorySize = "2048m"
    """Total process memory (Flink units). Default: 2048m."""
    replicas: int = Field(default=1, ge=1, le=10)
    """JobManager pods, 1 to 10; more than 1 adds standby JobManagers and requires Kubernetes HA (switched on).
    Default: 1."""


class HostNetwork(Model):
    """Run TaskManagers on the node's network (hostNetwork). Ports are fixed and declared as hostPorts so two
    TaskManagers never collide on one node; NetworkPolicy does NOT reliably apply to these pods."""

    data_port: int = Field(default=6121, ge=1024, le=65535)
    """Netty shuffle data port (`taskmanager.data.port`). Default: 6121."""
    rpc_port: int = Field(default=6122, ge=1024, le=65535)
    """TaskManager RPC port (`taskmanager.rpc.port`). Default: 6122."""
    metrics_port: int = Field(default=9249, ge=1024, le=65535)
    """Prometheus reporter port. Default: 9249."""
    node_selector: dict[str, str] = {}
    """Node labels of the dedicated pool, e.g. {flink.acme.io/pool: hostnet}."""
    tolerations: list[dict[str, str]] = []
    """Tolerations for the dedicated pool's taints."""
    compensating_control: str | None = None
    """What restricts traffic instead of NetworkPolicy (e.g. 'node security group sg-0abc'). Required in prod."""
    node_cidrs: list[str] = []
    """CIDRs of the dedicated pool's nodes. hostNetwork TaskManagers talk to their JobManager from node IPs, which
    pod selectors never match: the JobManager's NetworkPolicies allow these CIDRs (RPC 6123, blob 6124 in, the
    TaskManager RPC port out). Required: without it the TaskManagers cannot register."""

    @model_validator(mode="after")
    def _distinct_ports(self) -> "HostNetwork":
        ports = [self.data_port, self.rpc_port, self.metrics_port]
        if len(set(ports)) != 3:
            raise ValueError(f"dataPort, rpcPort and metricsPort must differ (got {ports})")
        return self


class TaskManager(Model):
    """TaskManager resources."""

    cpu: float = Field(default=1.0, gt=0, le=MAX_CPU)
    """CPU cores per TaskManager, more than 0 and at most 1024. Default: 1."""
    memory: MemorySize = "4096m"
    """Total process memory per TaskManager (Flink units). Default: 4096m."""
    flink_memory_ratio: float | None = Field(default=DEFAULT_FLINK_MEMORY_RATIO, gt=0, lt=1)
    """Largest share of `memory` for Flink's Total Flink Memory when flinkConfiguration sets no TaskManager memory
    layout: the platform renders `taskmanager.memory.flink.size` (and the `jvm-overhead.max` Flink then needs),
    checked against Flink's own derivation; the rest is headroom for native memory. Nothing is rendered where
    Flink's default split is already within it (containers below about 1494m). Null: Flink's default split
    (about 84 % of 4096m). Default: 0.7, the prod pack's flink-memory-ratio. See docs/memory.md."""
    slots: int = Field(default=1, ge=1, le=1024)
    """Task slots per TaskManager (`taskmanager.numberOfTaskSlots`), 1 to 1024; keep it equal to `cpu`. Default: 1."""
    replicas: int | None = Field(default=None, ge=1, le=MAX_PARALLELISM)
    """TaskManager pods, 1 to 32768 (Flink's parallelism limit). Unset: derived by Flink from parallelism / slots.
    Owned by the scaler when autoscaling."""
    host_network: HostNetwork | None = None
    """Run TaskManagers with hostNetwork. Default: off."""


UpgradeMode = Literal["savepoint", "last-state", "stateless"]


class Job(Model):
    """A Flink job: the job of an application cluster, or one FlinkSessionJob of a session cluster."""

    name: DnsLabel | None = None
    """Session jobs only: the FlinkSessionJob name (unique in the cluster). Application clusters: unused."""
    jar_uri: str = Field(alias="jarURI")
    """Job jar, e.g. local:///opt/flink/usrlib/job.jar (application) or https://… (session jobs: https only)."""
    entry_class: str | None = None
    """Main class. Unset: the jar manifest's Main-Class."""
    args: list[str] = []
    """Program arguments."""
    parallelism: int = Field(default=1, ge=1, le=MAX_PARALLELISM)
    """Job parallelism, 1 to 32768 (Flink's limit). Default: 1. Ignored by Flink when taskManager.replicas is set (replicas × slots wins)."""
    upgrade_mode: UpgradeMode = "savepoint"
    """How the operator upgrades the job. Default: savepoint (never the operator's own default, stateless)."""
    allow_non_restored_state: bool = False
    """Allow dropping state of removed operators on upgrade. Default: false."""
    initial_savepoint_path: str | None = None
    """Start from this savepoint (e.g. after a rename or a move). Default: none."""
    savepoint_interval: Duration | None = None
    """Periodic savepoints (`kubernetes.operator.periodic.savepoint.interval`). Default: none."""
    source_parallelism: int | None = Field(default=None, ge=1, le=MAX_PARALLELISM)
    """Parallelism of the Kafka source if different from the job's (checked against partitions), 1 to 32768."""


class KafkaSource(Model):
    """The job's Kafka source, used for parallelism checks, KEDA lag scaling and egress."""

    bootstrap_servers: str
    """Comma-separated host:port list."""
    topic: str
    """Topic the job reads (KEDA must always know it: Flink readers do not join the consumer group)."""
    partitions: int = Field(ge=1, le=1_000_000)
    """Partition count of the topic, 1 to 1000000."""
    consumer_group: str
    """Consumer group whose committed offsets KEDA reads (the KafkaSource `group.id`)."""
    sasl_username: str | None = None
    """SASL/SCRAM user. Unset: no authentication."""
    sasl_password: SecretRef | None = None
    """Secret config key with the SASL password (required with saslUsername)."""
    sasl_mechanism: Literal["plain", "scram_sha256", "scram_sha512"] = "scram_sha512"
    """SASL mechanism for KEDA. Default: scram_sha512."""
    tls: bool = True
    """Brokers use TLS. Default: true."""

    @model_validator(mode="after")
    def _credentials_complete(self) -> "KafkaSource":
        if (self.sasl_username is None) != (self.sasl_password is None):
            raise ValueError("set both saslUsername and saslPassword, or neither")
        return self


class Checkpointing(Model):
    """Checkpoints go to s3://<bucket>/<cluster prefix>/checkpoints; savepoints and HA metadata beside them."""

    interval: Duration = "60s"
    """Checkpoint interval. Default: 60s."""
    timeout: Duration = "10min"
    """Checkpoint timeout; keep it ≥ 3 × interval. Default: 10min."""
    min_pause: Duration = "10s"
    """Minimum pause between checkpoints. Default: 10s."""
    max_concurrent: int = Field(default=1, ge=1, le=100)
    """Concurrent checkpoints, 1 to 100. Default: 1 (2 only for large state)."""
    retained: int = Field(default=3, ge=1, le=1000)
    """Retained completed checkpoints, 1 to 1000. Default: 3."""
    state_backend: Literal["hashmap", "rocksdb", "forst"] = "rocksdb"
    """State backend. Default: rocksdb (forst needs Flink 2.x)."""
    incremental: bool = True
    """Incremental checkpoints (RocksDB/ForSt). Default: true."""


AutoscalingMode = Literal["none", "cpu", "memory", "cpu+memory", "kafka-lag", "custom", "flink-autoscaler"]
HPA_MODES = ("cpu", "memory", "cpu+memory")
KEDA_MODES = ("kafka-lag", "custom")


class CustomMetric(Model):
    """KEDA Prometheus trigger on a Flink metric query."""

    query: str
    """PromQL returning a single value, e.g. sum(flink_taskmanager_job_task_operator_pendingRecords{job_name="x"})."""
    threshold: float = Field(gt=0, le=1e15)
    """Target value per TaskManager (replicas = ceil(value / threshold)), more than 0 and at most 1e15."""
    server_address: str | None = None
    """Prometheus URL. Default: monitoring.prometheusAddress."""


class Autoscaling(Model):
    """Exactly one owner of a job's scale. HPA/KEDA modes run the cluster in standalone mode with the reactive
    scheduler (in-place rescaling); the operator's own autoscaler runs in native mode."""

    mode: AutoscalingMode = "none"
    """none | cpu | memory | cpu+memory (HPA) | kafka-lag | custom (KEDA) | flink-autoscaler (operator). Default: none."""
    min_replicas: int = Field(default=1, ge=1, le=MAX_PARALLELISM)
    """Minimum TaskManagers (HPA/KEDA), 1 to 32768. Default: 1 (a FlinkDeployment rejects 0)."""
    max_replicas: int = Field(default=5, ge=1, le=MAX_PARALLELISM)
    """Maximum TaskManagers (HPA/KEDA), 1 to 32768. Default: 5."""
    cpu_target_percent: int = Field(default=65, ge=1, le=100)
    """HPA CPU utilisation target. Default: 65."""
    memory_target_percent: int = Field(default=80, ge=1, le=100)
    """HPA memory utilisation target. Default: 80."""
    scale_down_stabilization_seconds: int = Field(default=300, ge=0, le=3600)
    """HPA/KEDA scale-down stabilisation window, 0 to 3600 s (the HPA API's maximum). Default: 300 s."""
    lag_threshold: int = Field(default=50, ge=1, le=1_000_000_000)
    """kafka-lag: target lag per TaskManager, 1 to 1000000000. Default: 50."""
    custom: CustomMetric | None = None
    """custom: the Prometheus trigger (required for mode custom)."""
    utilization_target: float = Field(default=0.7, gt=0, le=1)
    """flink-autoscaler: job.autoscaler.utilization.target. Default: 0.7."""

    @model_validator(mode="after")
    def _consistent(self) -> "Autoscaling":
        if self.min_replicas > self.max_replicas:
            raise ValueError(f"minReplicas ({self.min_replicas}) is larger than maxReplicas ({self.max_replicas})")
        if self.mode == "custom" and self.custom is None:
            raise ValueError("mode 'custom' needs 'custom: {query, threshold}'")
        if self.mode != "custom" and self.custom is not None:
            raise ValueError(f"'custom' is only used with mode 'custom' (mode is '{self.mode}')")
        return self


class Placement(Model):
    """Where a Flink cluster runs. Every matching Kubernetes cluster gets a copy. Unset: every cluster."""

    regions: list[str] | None = None
    """Regions to run in. Unset: all."""
    clusters: list[str] | None = None
    """Kubernetes cluster names to run in. Unset: all (within `regions`)."""
    cluster_labels: dict[str, str] = {}
    """Only clusters carrying all these labels."""


class Waiver(Model):
    """A policy waived for this one Flink cluster, with a reason."""

    policy: str
    """Policy name, e.g. flink-slots-match-cpu."""
    reason: str = Field(min_length=10)
    """Why (at least 10 characters; shown in the plan and the PR report)."""
    expires: _dt.date | None = None
    """After this date the waiver no longer applies (YYYY-MM-DD, quoted or not). Default: never."""

    @field_validator("expires", mode="before")
    @classmethod
    def _iso_date(cls, value: Any) -> Any:
        if value is None or isinstance(value, _dt.date):
            return value
        try:
            if isinstance(value, str):
                return _dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
        raise ValueError(f"'{str(value)[:40]}' is not a date; write it as YYYY-MM-DD, e.g. expires: 2027-03-31")


class FlinkClusterOverride(Model):
    """Settings for the copies of a Flink cluster in one region or one Kubernetes cluster (deep-merged)."""

    region: str | None = None
    """Apply to copies in this region."""
    cluster: str | None = None
    """Apply to the copy on this Kubernetes cluster (wins over a region override)."""
    job: dict[str, Any] = {}
    """Partial `job` settings, e.g. {entryClass: com.eu.ShippingJob}."""
    jobs: dict[str, dict[str, Any]] = {}
    """Session clusters: partial settings per session job name."""
    task_manager: dict[str, Any] = {}
    """Partial `taskManager` settings."""
    job_manager: dict[str, Any] = {}
    """Partial `jobManager` settings."""
    kafka: dict[str, Any] = {}
    """Partial `kafka` settings (e.g. a regional bootstrapServers)."""
    autoscaling: dict[str, Any] = {}
    """Partial `autoscaling` settings."""
    flink_configuration: dict[str, Any] = {}
    """Extra Flink options for these copies."""

    @model_validator(mode="after")
    def _exactly_one_target(self) -> "FlinkClusterOverride":
        if (self.region is None) == (self.cluster is None):
            raise ValueError("an override names exactly one of 'region' or 'cluster'")
        return self


class FlinkCluster(Model):
    """A Flink cluster: a FlinkDeployment (application mode: one job; session mode: FlinkSessionJobs)."""

    name: FlinkName
    """FlinkDeployment name (≤ 45 characters, start with a letter). Renaming it replaces the deployment: set
    job.initialSavepointPath when you do."""
    team: DnsLabel
    """Owning team (must be declared under flink-platform:teams); the cluster runs in its namespace."""
    mode: Literal["application", "session"] = "application"
    """application (one job, isolated; preferred in prod) or session (shared JobManager, FlinkSessionJobs)."""
    flink_version: FlinkVersion = versions.DEFAULT_FLINK_VERSION  # type: ignore[assignment]
    """Flink version. Default: the platform default (flinkplat/versions.py)."""
    image: str | None = None
    """Container image. Default: the pinned official image of flinkVersion."""
    deployment_mode: Literal["native", "standalone"] | None = None
    """Operator deployment mode. Default: native, or standalone when an HPA/KEDA autoscaling mode is chosen."""
    job_manager: JobManager = JobManager()
    """JobManager settings. Default: 1 CPU, 2048m, 1 replica."""
    task_manager: TaskManager = TaskManager()
    """TaskManager settings. Default: 1 CPU, 4096m, 1 slot."""
    job: Job | None = None
    """The job (application mode, required)."""
    jobs: list[Job] = []
    """Session jobs (session mode)."""
    high_availability: bool | None = None
    """Kubernetes HA. Default: on in prod and whenever jobManager.replicas > 1; off elsewhere. `false` together with
    jobManager.replicas > 1 is refused (standby JobManagers need HA)."""
    checkpointing: Checkpointing = Checkpointing()
    """Checkpointing. Default: every 60s to S3, RocksDB incremental."""
    kafka: KafkaSource | None = None
    """The job's Kafka source (used by rules, KEDA and egress). Default: none."""
    autoscaling: Autoscaling = Autoscaling()
    """Autoscaling. Default: none."""
    placement: Placement = Placement()
    """Where the cluster runs. Default: every Kubernetes cluster of the fleet."""
    overrides: list[FlinkClusterOverride] = []
    """Per-region / per-cluster settings."""
    flink_configuration: dict[str, Any] = {}
    """Any Flink option, passed through verbatim (wins over the platform's generated options), except options that
    would bypass a typed setting (host network, service account, HA, storage dirs, scheduler, …: refused with the
    setting to use, see docs/policies.md). Never put secrets here: they are a policy violation."""
    protect: bool | None = None
    """Protect the FlinkDeployment against delete/replace (Pulumi `protect`). Default: true in prod."""
    waivers: list[Waiver] = []
    """Policies waived for this cluster, each with a reason."""

    @field_validator("flink_configuration")
    @classmethod
    def _flat_strings(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key, item in value.items():
            if isinstance(item, (dict, list)):
                raise ValueError(f"flinkConfiguration.{key}: write Flink options flat, with a scalar value")
            if key in _OPERATOR_OWNED_KEYS:
                raise ValueError(f"flinkConfiguration.{key} is set by the Flink operator itself and its validator "
                                 "rejects it; remove it (the operator derives it from the resource's name/namespace)")
        return value

    @field_validator("flink_configuration")
    @classmethod
    def _options_the_platform_reads(cls, value: dict[str, Any]) -> dict[str, Any]:
        """Raw options the platform itself computes with (LimitRange, max parallelism) must be numbers Flink reads."""
        for key, item in value.items():
            if key == "pipeline.max-parallelism":
                _raw_number(key, item, integer=True, low=1, high=MAX_PARALLELISM, example="720")
            elif re.fullmatch(r"kubernetes\.(jobmanager|taskmanager)\.(cpu|memory)\.limit-factor", key):
                _raw_number(key, item, integer=False, low=1, high=1000, example="1.5")
        return value

    @model_validator(mode="after")
    def _mode_and_jobs(self) -> "FlinkCluster":
        if self.mode == "application":
            if self.job is None:
                raise ValueError("application mode needs 'job' (jarURI, entryClass, parallelism); "
                                 "or set mode: session and list 'jobs'")
            if self.jobs:
                raise ValueError("'jobs' is for session mode; an application cluster runs exactly one 'job'")
        else:
            if self.job is not None:
                raise ValueError("a session cluster has no 'job'; list its FlinkSessionJobs under 'jobs'")
            names = [job.name for job in self.jobs]
            if any(name is None for name in names):
                raise ValueError("every session job needs a 'name'")
            duplicates = sorted({n for n in names if names.count(n) > 1})
            if duplicates:
                raise ValueError(f"session job names must be unique; repeated: {', '.join(duplicates)}")
        return self

    @property
    def all_jobs(self) -> list[Job]:
        return [self.job] if self.job is not None else list(self.jobs)


class StackConfig(Model):
    """Everything under `flink-platform:` in a stack file."""

    environment: Environment
    """dev | staging | prod. Prod turns on HA, protection, bucket retention and stricter policies."""
    regions: list[Region] = Field(min_length=1)
    """The fleet: regions and their Kubernetes clusters."""
    storage: Storage
    """Checkpoint buckets."""
    teams: list[Team] = Field(min_length=1)
    """Tenants."""
    clusters: list[FlinkCluster] = []
    """Flink clusters."""
    monitoring: Monitoring = Monitoring()
    """Prometheus monitoring. Default: on, release: kube-prometheus-stack."""
    allow_exposed_job_manager: bool = False
    """Allow NodePort/LoadBalancer JobManager services. Default: false (REST stays ClusterIP)."""

    @property
    def is_prod(self) -> bool:
        return self.environment == "prod"
