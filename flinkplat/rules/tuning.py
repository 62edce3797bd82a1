"""Flink tuning and safety rules on one FlinkDeployment: slots, checkpointing, savepoints, HA, parallelism, Kafka
readers, max parallelism, RocksDB memory, application clusters in prod."""

from __future__ import annotations

import json
import math
from functools import lru_cache
from typing import Iterator

from flinkplat.flink import keys
from flinkplat.flink.keys import PERIODIC_SAVEPOINT_KEY
from flinkplat.flink.memory import FlinkMemoryError, derive_taskmanager
from flinkplat.rules.base import (
    ADVISORY, FLINK_DEPLOYMENT, MANDATORY, Finding, Knob, Res, Rule, as_float, as_int, fmt_number, get, message,
)
from flinkplat.rules.flink import (
    KAFKA_ANNOTATION, FlinkView, fmt_duration, memory_conf, parse_duration_ms, view,
)

MAX_CONCURRENT_KEY = "execution.checkpointing.max-concurrent-checkpoints"
INTERVAL_KEY = "execution.checkpointing.interval"
TIMEOUT_KEY = "execution.checkpointing.timeout"
FLINK_DEFAULT_TIMEOUT_MS = 600_000.0


# ---------------------------------------------------------------------------------------------------------------
# Slots and cores
# ---------------------------------------------------------------------------------------------------------------


def tm_cpu(flink: FlinkView) -> float:
    cpu = as_float(flink.spec_get("taskManager", "resource", "cpu"))
    if cpu is None:
        cpu = as_float(flink.conf.get("kubernetes.taskmanager.cpu.amount"))
    return 1.0 if cpu is None else cpu


def check_slots(res: Res, cfg: dict) -> Iterator[Finding]:
    flink = view(res)
    slots, cpu = flink.slots, tm_cpu(flink)
    if slots == cpu:
        return
    what = (f"{res.label} runs {slots} task slot{'s' if slots != 1 else ''} per TaskManager on "
            f"{fmt_number(cpu)} CPU core{'s' if cpu != 1 else ''}.")
    if slots > cpu:
        why = ("each slot runs a full pipeline of tasks; more slots than cores makes them compete for CPU, which "
               "shows up as backpressure and growing checkpoint times (the classic Flink sizing mistake).")
    else:
        why = "cores beyond the slot count stay idle: you pay for CPU the job cannot use."
    fix = (f"set taskmanager.numberOfTaskSlots (stack file: taskManager.slots) equal to taskManager.resource.cpu "
           f"({fmt_number(cpu)}), or set the CPU to {slots}.")
    yield Finding(message(what, why, fix))


# ---------------------------------------------------------------------------------------------------------------
# Checkpointing and savepoints
# ---------------------------------------------------------------------------------------------------------------


def _scheme(url: str) -> str:
    return url.split("://", 1)[0].lower() if "://" in url else ""


def check_checkpointing(res: Res, cfg: dict) -> Iterator[Finding]:
    flink = view(res)
    interval = flink.conf.get(INTERVAL_KEY)
    why_off = ("without checkpoints a failure or an upgrade restarts the job from nothing (or from its last "
               "savepoint): state and exactly-once guarantees are lost.")
    if interval is None:
        yield Finding(message(f"{res.label} has checkpointing off ({INTERVAL_KEY} is not set).", why_off,
                              f"set {INTERVAL_KEY} (e.g. 60s; stack file: checkpointing.interval)."))
    else:
        try:
            if parse_duration_ms(interval) <= 0:
                yield Finding(message(f"{res.label} has checkpointing off ({INTERVAL_KEY}: {interval}).", why_off,
                                      f"set {INTERVAL_KEY} to a positive duration such as 60s."))
        except ValueError as error:
            yield Finding(message(f"{res.label}: {INTERVAL_KEY} is unreadable: {error}.",
                                  "Flink fails to start the job on an unreadable duration.",
                                  f"write {INTERVAL_KEY} like 60s, 5min or 1h."))
    schemes = [str(s).lower().removesuffix("://") for s in cfg["schemes"]]
    allowed = ", ".join(f"{s}://" for s in schemes)
    directory = flink.checkpoint_dir
    if directory is None:
        yield Finding(message(
            f"{res.label} has no checkpoint directory ({keys.CHECKPOINT_DIR_KEYS[0]}).",
            "checkpoints then stay in JobManager memory and are lost with the JobManager pod; last-state and "
            "savepoint upgrades are refused by the operator.",
            f"set {keys.CHECKPOINT_DIR_KEYS[0]} to a durable location ({allowed})."))
    elif _scheme(directory) not in schemes:
        yield Finding(message(
            f"{res.label} checkpoints to '{directory}', which is not durable storage ({allowed}).",
            "a local or pod-bound path disappears with the pod, so a restarted JobManager finds no checkpoint and "
            "the job restarts from empty state.",
            f"point {keys.CHECKPOINT_DIR_KEYS[0]} at the cluster's prefix in the checkpoint bucket ({allowed})."))


def check_timeout(res: Res, cfg: dict) -> Iterator[Finding]:
    flink = view(res)
    interval_text = flink.conf.get(INTERVAL_KEY)
    if interval_text is None:
        return
    try:
        interval = parse_duration_ms(interval_text)
        timeout_text = flink.conf.get(TIMEOUT_KEY)
        timeout = FLINK_DEFAULT_TIMEOUT_MS if timeout_text is None else parse_duration_ms(timeout_text)
    except ValueError:
        return  # reported by flink-checkpointing / Flink itself
    factor = float(cfg["minIntervals"])
    if interval <= 0 or timeout >= factor * interval:
        return
    shown = timeout_text if timeout_text is not None else "10min (Flink's default)"
    yield Finding(message(
        f"{res.label}: checkpoint timeout {shown} is less than {fmt_number(factor)} × the interval {interval_text}.",
        "a checkpoint that needs a little longer than usual (a slow S3 write, backpressure, a large state) then "
        "expires and is retried from scratch; under load no checkpoint ever completes.",
        f"set {TIMEOUT_KEY} to at least {fmt_duration(factor * interval)} (stack file: checkpointing.timeout)."))


def check_concurrency(res: Res, cfg: dict) -> Iterator[Finding]:
    flink = view(res)
    text = flink.conf.get(MAX_CONCURRENT_KEY)
    if text is None:
        return  # Flink's default is 1
    value = as_int(text)
    if value is None:
        return
    backend = (flink.first(("state.backend.type", "state.backend")) or "hashmap").lower()
    large_state = backend in ("rocksdb", "forst")
    limit = int(float(cfg["largeStateMax"])) if large_state else int(float(cfg["max"]))
    if value <= limit:
        return
    note = (f" ({int(float(cfg['largeStateMax']))} is allowed only for large state on RocksDB/ForSt; this job "
            f"uses {backend})" if not large_state and value <= int(float(cfg["largeStateMax"])) else "")
    yield Finding(message(
        f"{res.label} allows {value} concurrent checkpoints{note}.",
        "overlapping checkpoints compete for the same disks, network and S3 bandwidth, so each takes longer and "
        "the job spends more time aligning barriers; one at a time with a minimum pause is faster overall.",
        f"set {MAX_CONCURRENT_KEY}: 1" + (f" (at most {limit} for large state)" if limit > 1 else "")
        + " (stack file: checkpointing.maxConcurrent)."))


def check_savepoint_dir(res: Res, cfg: dict) -> Iterator[Finding]:
    flink = view(res)
    if not flink.has_job or flink.savepoint_dir is not None:
        return
    reasons = []
    if flink.upgrade_mode == "savepoint":
        reasons.append("job.upgradeMode is savepoint")
    periodic = flink.conf.get(PERIODIC_SAVEPOINT_KEY)
    if periodic is not None:  # the operator refuses the key's mere presence, even "0" (OP 1.15.0 DefaultValidator)
        looks_off = periodic.strip() in ("0", "0s", "0ms", "")
        reasons.append(f"{PERIODIC_SAVEPOINT_KEY} is {periodic or repr(periodic)}"
                       + (" (which the operator refuses whatever its value)" if looks_off else ""))
    if not reasons:
        return
    yield Finding(message(
        f"{res.label} needs a savepoint directory: {' and '.join(reasons)}, but "
        f"{keys.SAVEPOINT_DIR_KEYS[0]} is not set.",
        "the operator refuses the deployment (or, without its webhook, keeps the old spec and reports an error), "
        "and no upgrade can carry state over.",
        f"set {keys.SAVEPOINT_DIR_KEYS[0]} to the cluster's savepoints prefix in the checkpoint bucket."))


# ---------------------------------------------------------------------------------------------------------------
# High availability
# ---------------------------------------------------------------------------------------------------------------


def check_ha(res: Res, cfg: dict) -> Iterator[Finding]:
    flink = view(res)
    replicas = as_int(flink.spec_get("jobManager", "replicas")) or 1
    ha_type = flink.first(keys.HA_TYPE_KEYS)
    kubernetes_ha = ha_type is not None and (ha_type.strip().lower() == "kubernetes" or "kubernetes" in ha_type.lower())
    storage = flink.conf.get(keys.HA_STORAGE_KEY)
    fix_ha = (f"set high-availability.type: kubernetes and {keys.HA_STORAGE_KEY} to the cluster's ha prefix in the "
              "checkpoint bucket (stack file: highAvailability: true).")
    if replicas > 1 and not kubernetes_ha:
        yield Finding(message(
            f"{res.label} runs {replicas} JobManagers without Kubernetes HA.",
            "standby JobManagers only take over through leader election, which needs Kubernetes HA; without it the "
            "operator refuses the deployment.", fix_ha))
    elif flink.is_prod and flink.has_job and not flink.ha_enabled:
        yield Finding(message(
            f"{res.label} is a prod job without high availability.",
            "without HA a JobManager crash loses the job's checkpoint pointer and the operator cannot do last-state "
            "upgrades or rollbacks safely; the job restarts from its last savepoint or from nothing.", fix_ha))
    if flink.ha_enabled and not storage:
        yield Finding(message(
            f"{res.label} enables HA but sets no {keys.HA_STORAGE_KEY}.",
            "Flink keeps HA metadata (job graphs, checkpoint pointers) in that directory and fails to start without it.",
            f"set {keys.HA_STORAGE_KEY} to the cluster's ha prefix in the checkpoint bucket (s3://…/ha)."))


# ---------------------------------------------------------------------------------------------------------------
# Parallelism, Kafka readers, max parallelism
# ---------------------------------------------------------------------------------------------------------------


def effective_parallelism(flink: FlinkView) -> int | None:
    replicas = flink.tm_replicas
    if replicas is not None:
        return replicas * flink.slots
    return as_int(flink.spec_get("job", "parallelism"))


def check_parallelism(res: Res, cfg: dict) -> Iterator[Finding]:
    flink = view(res)
    if not flink.has_job:
        return
    declared = as_int(flink.spec_get("job", "parallelism"))
    replicas = flink.tm_replicas
    if replicas is not None and declared is not None and declared != replicas * flink.slots:
        total = replicas * flink.slots
        yield Finding(message(
            f"{res.label} declares job.parallelism {declared} but taskManager.replicas {replicas} × "
            f"{flink.slots} slots = {total}.",
            f"when taskManager.replicas is set the operator ignores job.parallelism and runs the job with {total}, "
            "so the declared value is misleading (and capacity planning built on it is wrong).",
            f"set job.parallelism to {total}, or change replicas/slots so that replicas × slots = {declared}."))
    effective = effective_parallelism(flink)
    maximum = as_int(flink.conf.get(keys.MAX_PARALLELISM_KEY))
    if effective is not None and maximum is not None and maximum < effective:
        yield Finding(message(
            f"{res.label} runs with parallelism {effective} but {keys.MAX_PARALLELISM_KEY} is {maximum}.",
            "Flink refuses to schedule an operator whose parallelism exceeds its max parallelism, so the job fails "
            "to start.",
            f"raise {keys.MAX_PARALLELISM_KEY} to at least {effective} (a highly composite number such as "
            f"{smallest_highly_composite(max(effective, 120))}), or lower the parallelism."))


def kafka_source(res: Res) -> dict | None:
    text = get(res.props, "metadata", "annotations", KAFKA_ANNOTATION)
    if text is None:
        return None
    try:
        data = json.loads(str(text))
    except (ValueError, RecursionError):  # not JSON, a number past Python's digit limit, nesting thousands deep
        return None
    return data if isinstance(data, dict) else None


def check_kafka(res: Res, cfg: dict) -> Iterator[Finding]:
    flink = view(res)
    source = kafka_source(res)
    if source is None or not flink.has_job:
        return
    partitions = as_int(source.get("partitions"))
    readers = as_int(source.get("sourceParallelism")) or effective_parallelism(flink)
    if not partitions or not readers:
        return
    topic = source.get("topic", "the topic")
    if readers > partitions:
        yield Finding(message(
            f"{res.label} runs {readers} Kafka source readers on the {partitions} partitions of '{topic}'.",
            f"each partition is read by exactly one reader, so {readers - partitions} readers stay idle while "
            "holding slots (and idle sources can hold back watermarks).",
            f"set the source parallelism (stack file: job.sourceParallelism) to {partitions} or a divisor of it."))
    elif partitions % readers:
        near = nearest_divisor(partitions, readers)
        yield Finding(message(
            f"{res.label} runs {readers} Kafka source readers on the {partitions} partitions of '{topic}', which "
            "do not divide evenly.",
            f"some readers get {partitions // readers + 1} partitions and others {partitions // readers}: the "
            "busiest readers set the pace and the rest of the job waits on them (skew).",
            f"use a source parallelism that divides {partitions}, e.g. {near}."))


_DIVISOR_SCAN_LIMIT = 1_000_000  # trial divisions per answer: milliseconds, whatever the partition count


def nearest_divisor(number: int, target: int) -> int:
    """The divisor of `number` closest to `target` (the larger one on a tie). Divisors come in pairs (d, n/d), so
    trial division up to √n finds them all; past 10^12 (no real topic) only divisors up to 2 × target are tried,
    which still contain the nearest one at or below the target."""
    root = math.isqrt(number)
    if root <= _DIVISOR_SCAN_LIMIT:
        candidates = [d for low in range(1, root + 1) if number % low == 0 for d in (low, number // low)]
    else:
        candidates = [d for d in range(1, min(2 * target, _DIVISOR_SCAN_LIMIT) + 1) if number % d == 0]
    return min(candidates, key=lambda d: (abs(d - target), -d))


@lru_cache(maxsize=1)
def highly_composite_numbers(limit: int = 32768) -> tuple[int, ...]:
    """Numbers with more divisors than every smaller number, up to Flink's max parallelism limit."""
    counts = [0] * (limit + 1)
    for d in range(1, limit + 1):
        for multiple in range(d, limit + 1, d):
            counts[multiple] += 1
    out, best = [], 0
    for n in range(1, limit + 1):
        if counts[n] > best:
            best = counts[n]
            out.append(n)
    return tuple(out)


def smallest_highly_composite(at_least: int) -> int:
    return next((n for n in highly_composite_numbers() if n >= at_least), 32768)


def check_max_parallelism(res: Res, cfg: dict) -> Iterator[Finding]:
    flink = view(res)
    if not (flink.operator_autoscaler or flink.reactive):
        return
    scaler = "the operator's job autoscaler" if flink.operator_autoscaler else "the reactive scheduler (HPA/KEDA)"
    text = flink.conf.get(keys.MAX_PARALLELISM_KEY)
    value = as_int(text) if text is not None else None
    effective = effective_parallelism(flink) or 1
    suggestion = smallest_highly_composite(max(effective, int(float(cfg["minimum"]))))
    why = ("state is split into max-parallelism key groups; when the autoscaler picks a parallelism that does not "
           "divide it, some subtasks own more key groups than others and the job is skewed after every rescale. "
           "A highly composite number divides evenly for the most parallelisms.")
    if value is None:
        yield Finding(message(
            f"{res.label} is rescaled by {scaler} but sets no {keys.MAX_PARALLELISM_KEY}.",
            why + " Flink's default (a power of two derived from the first parallelism) also changes when the job "
                  "graph changes, which breaks state restore.",
            f"set {keys.MAX_PARALLELISM_KEY}: {suggestion}."))
    elif value not in highly_composite_numbers():
        yield Finding(message(
            f"{res.label} is rescaled by {scaler} with {keys.MAX_PARALLELISM_KEY} {value}, which is not highly "
            "composite.", why,
            f"use {smallest_highly_composite(value)} (or another highly composite number: 120, 180, 240, 360, 720, "
            "840, 1260, 2520, 5040); changing it on a running job needs a savepoint restore that allows it."))


# ---------------------------------------------------------------------------------------------------------------
# RocksDB / ForSt memory
# ---------------------------------------------------------------------------------------------------------------


def check_rocksdb(res: Res, cfg: dict) -> Iterator[Finding]:
    flink = view(res)
    backend = (flink.first(("state.backend.type", "state.backend")) or "hashmap").strip().lower()
    if backend not in ("rocksdb", "forst"):
        return
    prefix = f"state.backend.{backend}.memory."
    managed = flink.conf.get(prefix + "managed", "true").strip().lower() != "false"
    fixed = flink.first((prefix + "fixed-per-slot", prefix + "fixed-per-tm"))
    tuned = [k for k in (prefix + "write-buffer-ratio", prefix + "high-prio-pool-ratio") if k in flink.conf]
    if not managed and fixed is None:
        yield Finding(message(
            f"{res.label} uses {backend} with {prefix}managed: false and no fixed memory budget.",
            "RocksDB then allocates native memory without a bound (block cache and write buffers per column "
            "family), and the container is OOM-killed as state grows.",
            f"remove {prefix}managed (default true) so RocksDB lives inside Flink's managed memory."
            + (f" The hand-set {', '.join(tuned)} has no effect without a memory budget: remove it or turn "
               "managed memory back on." if tuned else "")))
    if managed and fixed is None:
        try:
            tm = derive_taskmanager(memory_conf(flink, "taskmanager"), flink.version)
        except (ValueError, FlinkMemoryError):
            return
        if tm.managed == 0:
            yield Finding(message(
                f"{res.label} uses {backend} with managed memory on but the TaskManager has 0 bytes of managed memory.",
                "RocksDB's block cache and write buffers are sized from managed memory; with none, every read goes "
                "to disk and writes flush constantly.",
                "remove taskmanager.memory.managed.size / managed.fraction overrides (default fraction 0.4)."))


# ---------------------------------------------------------------------------------------------------------------
# Application clusters in prod
# ---------------------------------------------------------------------------------------------------------------


def check_application_mode(res: Res, cfg: dict) -> Iterator[Finding]:
    flink = view(res)
    if not flink.is_prod or flink.has_job:
        return
    yield Finding(message(
        f"{res.label} is a session cluster in prod.",
        "session jobs share one JobManager and its TaskManagers: one job's failure, memory leak or dependency clash "
        "affects every other job, and the operator cannot upgrade them independently with HA.",
        "run each prod job as its own application cluster (stack file: mode: application with one job)."))


RULES = [
    Rule("flink-slots-match-cpu", ADVISORY,
         "TaskManager task slots equal the TaskManager's CPU cores.",
         "More slots than cores is the classic cause of backpressure; fewer wastes cores.",
         "Set taskManager.slots equal to taskManager.cpu.",
         check_slots, kinds=(FLINK_DEPLOYMENT,)),
    Rule("flink-checkpointing", MANDATORY,
         "Checkpointing is on, with a durable checkpoint directory.",
         "Without durable checkpoints a failure or an upgrade loses the job's state.",
         "Set execution.checkpointing.interval and execution.checkpointing.dir (s3://…).",
         check_checkpointing, kinds=(FLINK_DEPLOYMENT,),
         knobs=(Knob("schemes", {"type": "array", "items": {"type": "string"}}, ["s3"],
                     "URL schemes accepted as durable checkpoint storage."),)),
    Rule("flink-checkpoint-timeout", ADVISORY,
         "Checkpoint timeout is at least a multiple of the checkpoint interval.",
         "A tight timeout makes slow checkpoints expire and retry forever.",
         "Raise execution.checkpointing.timeout.",
         check_timeout, kinds=(FLINK_DEPLOYMENT,),
         knobs=(Knob("minIntervals", {"type": "number", "minimum": 1}, 3,
                     "Minimum timeout as a multiple of the interval."),)),
    Rule("flink-checkpoint-concurrency", ADVISORY,
         "At most one concurrent checkpoint (two for large RocksDB/ForSt state).",
         "Overlapping checkpoints compete for I/O and slow each other down.",
         "Set execution.checkpointing.max-concurrent-checkpoints: 1.",
         check_concurrency, kinds=(FLINK_DEPLOYMENT,),
         knobs=(Knob("max", {"type": "integer", "minimum": 1}, 1, "Limit for heap state backends."),
                Knob("largeStateMax", {"type": "integer", "minimum": 1}, 2, "Limit for RocksDB/ForSt."))),
    Rule("flink-savepoint-dir", MANDATORY,
         "A savepoint directory is set whenever the upgrade mode or periodic savepoints need one.",
         "The operator refuses savepoint upgrades and periodic savepoints without it.",
         "Set execution.checkpointing.savepoint-dir.",
         check_savepoint_dir, kinds=(FLINK_DEPLOYMENT,)),
    Rule("flink-ha", MANDATORY,
         "Standby JobManagers have Kubernetes HA and a storage dir; prod jobs run with HA.",
         "Without HA a JobManager failure loses the pointer to the latest checkpoint.",
         "Set high-availability.type: kubernetes and high-availability.storageDir.",
         check_ha, kinds=(FLINK_DEPLOYMENT,)),
    Rule("flink-parallelism", ADVISORY,
         "job.parallelism matches taskManager.replicas × slots and fits the max parallelism.",
         "With replicas set, the operator silently replaces job.parallelism; above max parallelism the job fails.",
         "Make parallelism = replicas × slots, and keep it at or below pipeline.max-parallelism.",
         check_parallelism, kinds=(FLINK_DEPLOYMENT,)),
    Rule("flink-kafka-partitions", ADVISORY,
         "Kafka source readers never exceed the partitions and divide them evenly.",
         "Extra readers idle on slots; uneven division skews the job.",
         "Set the source parallelism to a divisor of the partition count.",
         check_kafka, kinds=(FLINK_DEPLOYMENT,),
         notes=f"Reads the `{KAFKA_ANNOTATION}` annotation the platform writes from the stack file's `kafka`."),
    Rule("flink-max-parallelism", ADVISORY,
         "Autoscaled jobs set a highly composite pipeline.max-parallelism.",
         "Rescaling to a parallelism that does not divide max parallelism skews key groups.",
         "Set pipeline.max-parallelism to a highly composite number (120, 360, 720, …).",
         check_max_parallelism, kinds=(FLINK_DEPLOYMENT,),
         knobs=(Knob("minimum", {"type": "integer", "minimum": 1}, 120,
                     "Smallest max parallelism the rule suggests."),)),
    Rule("flink-rocksdb-memory", ADVISORY,
         "RocksDB/ForSt runs inside Flink's managed memory; tuning ratios are not set without it.",
         "Unmanaged RocksDB memory is unbounded and gets containers OOM-killed.",
         "Keep state.backend.rocksdb.memory.managed at its default (true).",
         check_rocksdb, kinds=(FLINK_DEPLOYMENT,)),
    Rule("flink-prod-application-mode", ADVISORY,
         "Prod runs application clusters rather than session clusters.",
         "Session clusters share failure and upgrade fate between jobs.",
         "Use mode: application in prod.",
         check_application_mode, kinds=(FLINK_DEPLOYMENT,)),
]
