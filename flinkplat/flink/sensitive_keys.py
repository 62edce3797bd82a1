"""Which Flink options and environment variables hold a secret value, and where that secret belongs instead.

One classification, read by the `flink-no-plain-secrets` policy (a secret in plain config is a violation) and by
`flinkplat.plan.masking` (its value never reaches the plan JSON, the `--out` files or the PR report). Pure: no
Pulumi, no I/O.

A key is sensitive when its last dotted segments name a credential: S3/AWS/object-store access keys, session
tokens, `*.password`, `sasl.jaas.config`, `*.secret*`, API keys and private keys. Keys that only *reference* a secret
(`kubernetes.secrets`, `kubernetes.env.secretKeyRef`, `*.password-file`, `…secret-name`) are not sensitive: they
are the right way to bring a secret in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Mapping

S3, KAFKA, PASSWORD, TOKEN, SECRET = "object-store credential", "Kafka JAAS login", "password", "token", "secret"

# The ways to bring each kind of secret in without writing it into the manifest.
ADVICE = {
    S3: ("let the pod's cloud role be the credential (IRSA or EKS Pod Identity: the platform already gives each "
         "Flink cluster a role scoped to its own prefix), or, for an S3-compatible store, storage.s3Compatible."
         "credentialsSecret — a Kubernetes Secret the pods read as AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY "
         "through secretKeyRef"),
    KAFKA: ("put the password in its own secret config key (pulumi config set --secret flink-platform:<name> …) and "
            "reference it as kafka.saslPassword: {secret: <name>}; the job reads it from a Kubernetes Secret, never "
            "from flinkConfiguration"),
    PASSWORD: ("keep it in a Kubernetes Secret and hand it to the pods as an environment variable (valueFrom."
               "secretKeyRef) or a mounted file (kubernetes.secrets: <secret>:<path>), and point the option at "
               "the file where Flink offers a *-file variant; or store it with pulumi config set --secret and "
               "reference it as {secret: <name>}"),
}
ADVICE[TOKEN] = ADVICE[PASSWORD]
ADVICE[SECRET] = ADVICE[PASSWORD]

# Last segment(s) of keys that carry the secret itself, by kind. Matched case-insensitively on the whole key's end.
_S3_PATTERNS = (
    r"(^|\.)(s3a?|presto\.s3|hive\.s3|fs\.s3a(\.bucket\.[^.]+)?|fs\.oss|fs\.obs|fs\.cosn(\.userinfo)?)\."
    r"(access[-.]?key(\.id)?|secret[-.]?key|aws[-.]access[-.]key|aws[-.]secret[-.]key|session[-.]token|"
    r"access[-.]?key[-.]?(id|secret)|accesskeyid|accesskeysecret|secretid|secretkey)$",
    r"(^|\.)fs\.azure\.account\.key(\..+)?$",  # Azure storage account keys: fs.azure.account.key.<account>.…
    r"(^|\.)fs\.gs\.auth\.service\.account\.private\.key(\.id)?$",
)
_KAFKA_PATTERNS = (r"(^|\.)sasl\.jaas\.config$",)
_PASSWORD_PATTERNS = (r"password$", r"passwd$", r"(^|[.-])pass$")
_TOKEN_PATTERNS = (r"(^|[.-])(session[-.]?|access[-.]?|auth[-.]?|bearer[-.]?|api[-.]?)?token$",)
_SECRET_PATTERNS = (r"secret", r"(^|[.-])api[-.]?key$", r"(^|\.)apikey$", r"private[-.]?key$", r"credentials?$")

# Keys that name or point at a secret rather than hold one (Flink's own reference options and file variants).
_REFERENCE_PATTERNS = (
    r"^kubernetes\.secrets$",
    r"(^|\.)env\.secretkeyref$",
    r"[-.](file|path|ref|name|names)$",
    r"secretkeyref$",
    r"secret[-.]?name$",
    r"\.provider$",  # credentials provider class names (fs.s3a.aws.credentials.provider)
    r"credentials[-.]provider$",
)

# Environment variable names that hold a secret when given a literal `value` (containerized.*.env.<NAME>, pod
# templates). A `valueFrom` (secretKeyRef) is never sensitive: that is the right way.
_ENV_PATTERNS = (
    r"^AWS_(SECRET_ACCESS_KEY|ACCESS_KEY_ID|SESSION_TOKEN|SECURITY_TOKEN)$",
    r"PASSWORD", r"PASSWD", r"SECRET", r"TOKEN", r"API_?KEY", r"PRIVATE_?KEY", r"CREDENTIALS?$", r"JAAS",
)
ENV_OPTION_PREFIXES = ("containerized.master.env.", "containerized.taskmanager.env.", "containerized.jobmanager.env.")


def _compile(patterns: Iterable[str]) -> list[re.Pattern]:
    return [re.compile(p, re.IGNORECASE) for p in patterns]


_KINDS = ((S3, _compile(_S3_PATTERNS)), (KAFKA, _compile(_KAFKA_PATTERNS)),
          (PASSWORD, _compile(_PASSWORD_PATTERNS)), (TOKEN, _compile(_TOKEN_PATTERNS)),
          (SECRET, _compile(_SECRET_PATTERNS)))
_REFERENCES = _compile(_REFERENCE_PATTERNS)
_ENV = _compile(_ENV_PATTERNS)


@dataclass(frozen=True)
class Sensitive:
    key: str
    kind: str  # S3 | KAFKA | PASSWORD | TOKEN | SECRET (ADVICE[kind] says where it belongs instead)


_ENV_REFERENCE = re.compile(r"_(FILE|PATH|DIR|NAME|REF|PROVIDER)$", re.IGNORECASE)


@lru_cache(maxsize=8192)  # a fleet repeats the same few names thousands of times
def env_kind(name: str) -> str | None:
    """The kind of secret an environment variable named `name` holds when set to a literal value, or None."""
    if _ENV_REFERENCE.search(name) or not any(p.search(name) for p in _ENV):
        return None
    if name.upper().startswith("AWS_"):
        return S3
    if "JAAS" in name.upper():
        return KAFKA
    return PASSWORD if re.search("PASS", name, re.IGNORECASE) else SECRET


@lru_cache(maxsize=8192)
def classify(key: str) -> Sensitive | None:
    """The Flink option `key` as a secret holder, or None when it is not one (or only references one)."""
    text = str(key).strip()
    for prefix in ENV_OPTION_PREFIXES:  # containerized.*.env.NAME sets an environment variable NAME
        if text.lower().startswith(prefix):
            kind = env_kind(text[len(prefix):])
            return Sensitive(text, kind) if kind else None
    if any(p.search(text) for p in _REFERENCES):
        return None
    for kind, patterns in _KINDS:
        if any(p.search(text) for p in patterns):
            return Sensitive(text, kind)
    return None


# JVM options are one string: a system property that holds a secret (`-Djavax.net.ssl.keyStorePassword=…`) makes
# the whole value sensitive.
JVM_OPTION_PREFIX = "env.java."
_JVM_SECRET_PROPERTY = re.compile(r"-D[\w.-]*(password|passwd|secret|token|jaas|access[._-]?key|api[._-]?key)"
                                  r"[\w.-]*=", re.IGNORECASE)


def classify_option(key: str, value: Any = None) -> Sensitive | None:
    """`classify(key)`, plus JVM option strings (`env.java.opts.*`) that set a secret system property."""
    found = classify(key)
    if found is None and str(key).startswith(JVM_OPTION_PREFIX) and _JVM_SECRET_PROPERTY.search(str(value or "")):
        return Sensitive(str(key), PASSWORD)
    return found


def sensitive_keys(conf: Mapping[str, Any]) -> list[Sensitive]:
    """Every sensitive option of a Flink configuration, in key order."""
    return [found for key in sorted(conf, key=str) if (found := classify_option(str(key), conf[key])) is not None]


def literal_secret_env(env: Any) -> list[tuple[str, str]]:
    """[(name, kind)] of the entries of a container's `env` list that put a secret in as a literal `value`."""
    out = []
    if not isinstance(env, (list, tuple)):
        return out
    for entry in env:
        if not isinstance(entry, Mapping) or "value" not in entry or entry.get("value") in (None, ""):
            continue
        kind = env_kind(str(entry.get("name", "")))
        if kind:
            out.append((str(entry.get("name")), kind))
    return out
