"""A seeded generator of malformed and mutated stack files, and an in-process runner that checks every file gets an
answer: exit 0, 1 or 2, no traceback, an exit-2 message naming the file and a key path, in under 5 seconds.

Each case starts from Pulumi.dev.yaml or Pulumi.prod.yaml and applies one to three mutations: types at every depth,
missing and unknown keys, non-text keys, encodings, YAML oddities (dates, aliases, cycles, tags, duplicate keys,
deep nesting, broken syntax), huge/negative/non-finite numbers, unicode, semantic mutations of numbers, durations
and memory sizes, and raw Flink options with odd values. A case is reproducible from (seed, index) alone:

    python scripts/fuzz.py --seed 11 --count 3000            # long local run
    python scripts/fuzz.py --seed 11 --case 1234 --write /tmp/Pulumi.case.yaml   # one case, to a file
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import random
import re
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

ROOT = Path(__file__).resolve().parents[2]
BASES = ("dev", "prod")
TIME_LIMIT_S = 5.0
# "  - <key path>[ (line L, column C)]: <message>"; a key path is `flink-platform:a.b[0].c`, `<namespace>:<key>…`,
# a top-level key, or `(top level)` for the file as a whole — never the file's own path.
KEY_PATH = re.compile(r"^  - (\(top level\)|[^\s/](?:[^\s\"]|\"(?:[^\"\\]|\\.)*\")*(…\(\d+ more levels\))?)( \((line \d+, column \d+|start of file)\))?: \S")

# ---------------------------------------------------------------------------------------------------------------
# Ingredients
# ---------------------------------------------------------------------------------------------------------------

NASTY_SCALARS = [
    ".inf", "-.inf", ".nan", ".NaN", "1e309", "-1e309", '"1e309"', "'-1e309'", "1e-400", "9" * 320, "-" + "9" * 320,
    "9" * 5000, '"' + "9" * 320 + '"', "0", "-1", "-0", "2147483648", "9223372036854775808", "-9223372036854775809",
    "0x7fffffffffffffff", "0o777", "0777", "0b101", "1_000", "1:30", "190:20:30", "2027-03-31",
    "2027-03-31T12:00:00Z", "2001-12-14 21:59:43.10 -5", "~", "null", "Null", "yes", "no", "on", "off", "y", "true",
    "True", "FALSE", '""', "''", "[]", "{}", "[[[]]]", "[{}, [], ~]", "{a: {b: {c: d}}}", "&a [*a]", "&b {x: *b}",
    '"\\ud800"', '"x\\udfff"', '"\\ud83d\\ude00"', '"٣s"', '"٣٠"', '"１２"', '"12\\u00a0"', '"\\0"', '"\\x85"',
    '"a\\u200bb"', '"\\U0001F600"', '"\\u202eevil"', "!!binary aGVsbG8=", "!!set {a, b}", "!!omap [a: 1]",
    "!!pairs [a: 1]", "!!str 12", "!!int '12'", "!!float '1'", "!!bool yes", "!!null ''", "!custom x",
    "!!python/object/apply:os.system [ls]", "*undefined", "[1, 2", "{a: 1", "'unterminated", '"unterminated',
    "a: b: c", "- x", "@reserved", "`tick", "%percent", "? complex", "1.5g", "-30s", "0s", "30 days", "4096 MiB",
    "2048Gi", "1.5Gi", "0m", "99999999999999999999t", "1e3", "0.0000001", "1e308", "-1e308", "3.4028236e38",
    "4.9e-324", "é", "ß" * 200, "x" * 70000, "\t", "#comment", "|", ">-",
]
NASTY_KEYS = ["1", "0", "-1", "1.5", "true", "false", "yes", "on", "null", "~", "2027-03-31", ".inf", "''", '""',
              '"\\ud800"', "[a, b]", "{a: b}", "'a:b'", "a b", "é", "ｊｏｂ", "јob", "__proto__", "x" * 300]
FLINK_VALUES = ["4g", "1024m", "30s", "true", "false", "0", "-1", "abc", "1e308", "1e309", "٣s", "kubernetes",
                "NONE", "2147483648", "9" * 40, "1.5Gi", "0.7", "1.5", "-0.5", "100%", "", "null", "[]", "{}",
                "0 ms", "10 min", "1d", "hashmap", "rocksdb", "forst", "filesystem", "jobmanager", "LoadBalancer",
                "NodePort", "s3://bucket/x", "file:///tmp", "org.apache.flink.metrics.prometheus.PrometheusReporterFactory",
                "prom", "9249", "65536", "adaptive", "reactive", "1:30", "2027-03-31", ".inf", "yes"]
EXTRA_FLINK_KEYS = ["kubernetes.taskmanager.cpu.limit-factor", "kubernetes.jobmanager.cpu.limit-factor",
                    "kubernetes.taskmanager.memory.limit-factor", "kubernetes.jobmanager.memory.limit-factor",
                    "scheduler-mode", "jobmanager.scheduler", "execution.checkpointing.mode",
                    "kubernetes.operator.job.autoscaler.enabled", "job.autoscaler.target.utilization",
                    "metrics.reporter.prom.factory.class", "kubernetes.operator.periodic.savepoint.interval"]


def flink_keys() -> list[str]:
    """Every Flink option the platform reads or writes (harvested from its sources) plus a few it should know."""
    found: set[str] = set(EXTRA_FLINK_KEYS)
    pattern = re.compile(r'"((?:kubernetes|taskmanager|jobmanager|job|execution|state|high-availability|metrics|'
                         r'pipeline|parallelism|restart-strategy|rest|s3|fs|blob)\.[a-zA-Z0-9.\-_]+[a-zA-Z0-9])"')
    for folder in ("flinkplat", "components"):
        for source in sorted((ROOT / folder).rglob("*.py")):
            found.update(pattern.findall(source.read_text(encoding="utf-8")))
    return sorted(found)


@dataclass
class Case:
    seed: int
    index: int
    base: str
    mutations: list[str] = field(default_factory=list)
    data: bytes = b""

    @property
    def label(self) -> str:
        return f"seed {self.seed} case {self.index} ({self.base}: {'; '.join(self.mutations)})"


# ---------------------------------------------------------------------------------------------------------------
# The document as a tree of paths
# ---------------------------------------------------------------------------------------------------------------


def _paths(node: Any, here: tuple = ()) -> list[tuple]:
    out = [here]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*here, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*here, index))
    return out


def _get(node: Any, path: tuple) -> Any:
    for part in path:
        node = node[part]
    return node


def _set(doc: Any, path: tuple, value: Any) -> None:
    _get(doc, path[:-1])[path[-1]] = value


class Mutator:
    """Mutations of a parsed stack document; values that YAML cannot dump as wanted become placeholders that are
    replaced by raw YAML text after dumping."""

    def __init__(self, rng: random.Random, doc: dict, keys: list[str]):
        self.rng = rng
        self.doc = doc
        self.keys = keys
        self.raw: dict[str, str] = {}  # placeholder -> raw YAML text
        self.text_edits: list[Callable[[str], str]] = []
        self.byte_edits: list[Callable[[bytes], bytes]] = []

    def placeholder(self, raw: str) -> str:
        token = f"FUZZPLACEHOLDER{len(self.raw):04d}X"
        self.raw[token] = raw
        return token

    def _config_paths(self, want: Callable[[Any], bool] = lambda v: True) -> list[tuple]:
        return [p for p in _paths(self.doc) if len(p) >= 2 and p[0] == "config" and want(_get(self.doc, p))]

    def _mappings(self) -> list[tuple]:
        return [p for p in _paths(self.doc) if isinstance(_get(self.doc, p), dict)]

    # -- one mutation each; each returns a short description -----------------------------------------------------

    def nasty_value(self) -> str:
        path = self.rng.choice(self._config_paths())
        raw = self.rng.choice(NASTY_SCALARS)
        _set(self.doc, path, self.placeholder(raw))
        return f"{_show(path)} = {raw[:30]}"

    def deep_nesting(self) -> str:
        path = self.rng.choice(self._config_paths())
        depth = self.rng.choice([40, 63, 64, 65, 100, 500, 3000])
        opener, closer = self.rng.choice([("[", "]"), ("{a: ", "}")])
        _set(self.doc, path, self.placeholder(opener * depth + closer * depth))
        return f"{_show(path)} nested {depth} deep"

    def type_swap(self) -> str:
        path = self.rng.choice(self._config_paths())
        value = _get(self.doc, path)
        choices = [None, True, 0, -7, 3.5, "text", [], {}, [value], {"value": value}, str(value), [[[]]]]
        new = self.rng.choice(choices)
        _set(self.doc, path, new)
        return f"{_show(path)} -> {type(new).__name__}"

    def delete_key(self) -> str:
        candidates = [p for p in self._config_paths() if isinstance(p[-1], str)]
        path = self.rng.choice(candidates)
        del _get(self.doc, path[:-1])[path[-1]]
        return f"delete {_show(path)}"

    def unknown_key(self) -> str:
        path = self.rng.choice(self._mappings())
        mapping = _get(self.doc, path)
        existing = [k for k in mapping if isinstance(k, str)]
        if existing and self.rng.random() < 0.6:
            near = self.rng.choice(existing)
            variants = [near + "s", near[:-1], near.lower(), near.upper(), near.replace("M", "_m"), near.title(),
                        re.sub(r"([A-Z])", r"_\1", near).lower(), " " + near, near + " "]
            key = self.rng.choice(variants)
        else:
            key = self.rng.choice(["extra", "flink-platform:nope", "aws:region", "cpus", "Replicas", "jarUri"])
        mapping[key] = self.rng.choice(["x", 1, None, {"a": 1}, [1]])
        return f"add key {key!r} at {_show(path)}"

    def nasty_key(self) -> str:
        path = self.rng.choice(self._mappings())
        raw = self.rng.choice(NASTY_KEYS)
        _get(self.doc, path)[self.placeholder(raw)] = "x"
        return f"key {raw[:20]} at {_show(path)}"

    def duplicate_key(self) -> str:
        path = self.rng.choice([p for p in self._mappings() if _get(self.doc, p)])
        key = self.rng.choice([k for k in _get(self.doc, path) if isinstance(k, str)] or ["x"])
        _get(self.doc, path)[self.placeholder(key)] = "duplicate"  # rendered as a second `<key>:` line
        return f"duplicate key {key!r} at {_show(path)}"

    def duplicate_list_item(self) -> str:
        lists = [p for p in self._config_paths(lambda v: isinstance(v, list) and v)]
        if not lists:
            return self.delete_key()
        path = self.rng.choice(lists)
        items = _get(self.doc, path)
        items.append(copy.deepcopy(self.rng.choice(items)))
        return f"duplicate an item of {_show(path)}"

    def mutate_number(self) -> str:
        numbers = self._config_paths(lambda v: (isinstance(v, (int, float)) and not isinstance(v, bool))
                                     or (isinstance(v, str) and re.match(r"^\d", v) is not None))
        if not numbers:
            return self.nasty_value()
        path = self.rng.choice(numbers)
        value = _get(self.doc, path)
        if isinstance(value, str):
            match = re.match(r"^(\d+(?:\.\d+)?)\s*(.*)$", value)
            number, unit = match.groups() if match else (value, "")
            new_number = self.rng.choice(["0", "-" + number, number + "000000", "9" * 25, "1.5", "٣", "０",
                                          number, "1e3", str(2 ** 63), "1", "8388607", "9223372036854775807"])
            new_unit = self.rng.choice([unit, "", " " + unit, unit.upper(), "xs", "Gi", "gib", "µs", "days",
                                        "min", "ms", unit + unit])
            new: Any = new_number + new_unit
        else:
            number = value
            new = self.rng.choice([0, -number, number + 1, number - 1, number * 1000, number * 10 ** 9, 2 ** 31,
                                   2 ** 53 + 1, 2 ** 63 - 1, -(2 ** 63), number + 0.5, float(number) * 1e300,
                                   str(number), f"{number}.0", -0.0, 1e-9,
                                   # the schema's documented bounds: valid files at the edges
                                   1, 10, 100, 1000, 1024, 3600, 3650, 32768, 100_000, 1_000_000, 1e15])
        _set(self.doc, path, new)
        return f"{_show(path)}: {str(value)[:20]} -> {str(new)[:30]}"

    def flink_option(self) -> str:
        clusters = self.doc.get("config", {}).get("flink-platform:clusters") or []
        if not isinstance(clusters, list) or not clusters or not isinstance(clusters[0], dict):
            return self.nasty_value()
        cluster = self.rng.choice(clusters)
        if not isinstance(cluster, dict):
            return self.nasty_value()
        conf = cluster.setdefault("flinkConfiguration", {})
        if not isinstance(conf, dict):
            return self.nasty_value()
        key = self.rng.choice(self.keys)
        raw = self.rng.choice(FLINK_VALUES + NASTY_SCALARS[:60])
        conf[key] = self.placeholder(raw if raw and raw[0] in "\"'[{.!&*-0123456789~" else f'"{raw}"')
        return f"flinkConfiguration {key} = {raw[:30]}"

    def override(self) -> str:
        clusters = self.doc.get("config", {}).get("flink-platform:clusters") or []
        if not isinstance(clusters, list) or not clusters or not isinstance(clusters[0], dict):
            return self.nasty_value()
        cluster = self.rng.choice(clusters)
        target = self.rng.choice([{"region": "us-east-1"}, {"cluster": "dev-local"}, {"region": "eu-west-1"},
                                  {"cluster": "use1-main"}, {"region": "nowhere-1"}])
        section = self.rng.choice(["job", "taskManager", "jobManager", "autoscaling", "kafka", "flinkConfiguration"])
        value = self.rng.choice([{"parallelism": 9 ** 30}, {"cpu": "1e309"}, {"replicas": -1}, {"memory": "1.5Gi"},
                                 {"mode": "cpu"}, {"partitions": 10 ** 11}, {"nope": 1}, {"a.b": "٣s"}, [1], "x"])
        cluster.setdefault("overrides", [])
        if isinstance(cluster["overrides"], list):
            cluster["overrides"].append({**target, section: value})
        return f"override {target} {section}={str(value)[:30]}"

    def waiver(self) -> str:
        clusters = self.doc.get("config", {}).get("flink-platform:clusters") or []
        if not isinstance(clusters, list) or not clusters or not isinstance(clusters[0], dict):
            return self.nasty_value()
        cluster = self.rng.choice(clusters)
        expires = self.rng.choice(["2027-03-31", "2020-01-01", '"2027-03-31"', "2027-02-30", "tomorrow", "1e309",
                                   "2027-03-31T00:00:00Z", "[2027]", "~", "99999-01-01"])
        cluster.setdefault("waivers", [])
        if isinstance(cluster["waivers"], list):
            cluster["waivers"].append({"policy": self.rng.choice(["flink-slots-match-cpu", "no-such-policy", "x"]),
                                       "reason": "IO-bound enrichment, tasks wait on a remote API",
                                       "expires": self.placeholder(expires)})
        return f"waiver expires {expires}"

    def whole_file(self) -> str:
        kind = self.rng.choice(["utf16", "utf16-nobom", "utf32", "latin1", "utf8-bom", "truncate", "flip", "nul",
                                "crlf", "tabs", "empty", "comment-only", "list", "scalar", "no-config", "config-null",
                                "config-list", "multi-doc", "control-char", "huge-line", "anchors-merge", "laughs"])
        if kind == "utf16":
            self.byte_edits.append(lambda b: b.decode("utf-8", errors="replace").encode("utf-16"))
        elif kind == "utf16-nobom":
            self.byte_edits.append(lambda b: b.decode("utf-8", errors="replace").encode("utf-16-le"))
        elif kind == "utf32":
            self.byte_edits.append(lambda b: b.decode("utf-8", errors="replace").encode("utf-32"))
        elif kind == "latin1":
            self.text_edits.append(lambda t: t.replace("analytics", "analytïcs").replace("payments", "paymënts"))
            self.byte_edits.append(lambda b: b.decode("utf-8", errors="replace").encode("latin-1", errors="replace"))
        elif kind == "utf8-bom":
            self.byte_edits.append(lambda b: b"\xef\xbb\xbf" + b)
        elif kind == "truncate":
            cut = self.rng.random()
            self.byte_edits.append(lambda b: b[:int(len(b) * cut)])
        elif kind == "flip":
            spots = [self.rng.random() for _ in range(self.rng.randint(1, 4))]
            values = [self.rng.randrange(256) for _ in spots]

            def flip(b: bytes) -> bytes:
                data = bytearray(b)
                for spot, value in zip(spots, values):
                    if data:
                        data[int(spot * (len(data) - 1))] = value
                return bytes(data)
            self.byte_edits.append(flip)
        elif kind == "nul":
            self.byte_edits.append(lambda b: b.replace(b"\n", b"\n\x00", 1))
        elif kind == "crlf":
            self.byte_edits.append(lambda b: b.replace(b"\n", b"\r\n"))
        elif kind == "tabs":
            self.text_edits.append(lambda t: t.replace("\n    ", "\n\t", 3))
        elif kind == "empty":
            self.text_edits.append(lambda t: "")
        elif kind == "comment-only":
            self.text_edits.append(lambda t: "# nothing here\n")
        elif kind == "list":
            self.text_edits.append(lambda t: "- config\n- x\n")
        elif kind == "scalar":
            self.text_edits.append(lambda t: "config\n")
        elif kind == "no-config":
            self.text_edits.append(lambda t: t.replace("config:", "konfig:", 1))
        elif kind == "config-null":
            self.text_edits.append(lambda t: "config:\n")
        elif kind == "config-list":
            self.text_edits.append(lambda t: "config:\n  - flink-platform:environment: dev\n")
        elif kind == "multi-doc":
            self.text_edits.append(lambda t: t + "---\n" + t)
        elif kind == "control-char":
            self.text_edits.append(lambda t: t.replace("\n", "\n\x07", 1))
        elif kind == "huge-line":
            self.text_edits.append(lambda t: t + "  aws:huge: " + "x" * 500_000 + "\n")
        elif kind == "anchors-merge":
            self.text_edits.append(lambda t: t + "  aws:base: &base {a: 1, b: 2}\n  aws:merged: {<<: *base, c: 3}\n")
        elif kind == "laughs":
            lines = ["  aws:l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
            lines += [f"  aws:l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 9)]
            self.text_edits.append(lambda t: t + "\n".join(lines) + "\n")
        return f"file: {kind}"

    MUTATIONS = ("nasty_value", "nasty_value", "type_swap", "delete_key", "unknown_key", "nasty_key", "duplicate_key",
                 "duplicate_list_item", "mutate_number", "mutate_number", "mutate_number", "flink_option",
                 "flink_option", "override", "waiver", "deep_nesting", "whole_file")

    def render(self) -> bytes:
        text = yaml.safe_dump(self.doc, sort_keys=False, allow_unicode=True, width=10_000)
        for token, raw in self.raw.items():
            text = text.replace(f"'{token}'", raw).replace(token, raw)
        for edit in self.text_edits:
            text = edit(text)
        data = text.encode("utf-8", errors="surrogatepass")
        for byte_edit in self.byte_edits:
            data = byte_edit(data)
        return data


def _show(path: tuple) -> str:
    if not path:
        return "(document root)"
    return ".".join(str(p) for p in path[1:]) or "config"


_BASE_DOCS: dict[str, dict] = {}
_KEYS: list[str] = []


def make_case(seed: int, index: int) -> Case:
    if not _BASE_DOCS:
        for base in BASES:
            _BASE_DOCS[base] = yaml.safe_load((ROOT / f"Pulumi.{base}.yaml").read_text(encoding="utf-8"))
        _KEYS.extend(flink_keys())
    rng = random.Random(f"{seed}:{index}")
    case = Case(seed=seed, index=index, base=rng.choice(BASES))
    mutator = Mutator(rng, copy.deepcopy(_BASE_DOCS[case.base]), _KEYS)
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
        try:
            case.mutations.append(getattr(mutator, rng.choice(Mutator.MUTATIONS))())
        except (IndexError, KeyError, TypeError, AttributeError):
            case.mutations.append("(mutation not applicable)")
    case.data = mutator.render()
    return case


# ---------------------------------------------------------------------------------------------------------------
# Running a case in-process
# ---------------------------------------------------------------------------------------------------------------


class CaseTimeout(Exception):
    pass


@dataclass
class Outcome:
    case: Case
    exit_code: int | None
    seconds: float
    stdout: str
    stderr: str
    failure: str | None  # None: the case passed every check
    full_plan: bool


def _on_alarm(signum: int, frame: Any) -> None:
    raise CaseTimeout()


@contextlib.contextmanager
def _captured_program_log(stream: io.StringIO):
    """The offline plan logs the program's pulumi.log.* through its own handler; point it at the capture."""
    logger = logging.getLogger("flinkplat.program")
    saved = [(h, getattr(h, "stream", None)) for h in logger.handlers]
    for handler, _ in saved:
        if isinstance(handler, logging.StreamHandler):
            handler.stream = stream  # not setStream(): it flushes the old stream, which may be a closed capture
    try:
        yield
    finally:
        for handler, old in saved:
            if isinstance(handler, logging.StreamHandler) and old is not None:
                handler.stream = old


def run_case(case: Case, directory: Path, full_plan: bool, time_limit: float = TIME_LIMIT_S) -> Outcome:
    """`flinkplat plan --stack-file F` in-process (its main()); without `full_plan`, a file that passes the schema
    stops there (the same code path up to the program run), which keeps CI fast."""
    from flinkplat.cli import main
    from flinkplat.config.errors import ConfigError
    from flinkplat.config.load import load_stack, read_stack_file

    path = directory / f"Pulumi.fuzz-{case.index}.yaml"
    path.write_bytes(case.data)
    out, err = io.StringIO(), io.StringIO()
    failure = None
    code: int | None = None
    ran_plan = False
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, time_limit + 1.0)  # a hang is cut off (and reported) just past the limit
    start = time.perf_counter()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), _captured_program_log(err):
            if not full_plan:
                try:
                    values, secrets = read_stack_file(path, f"fuzz-{case.index}")
                    load_stack(f"fuzz-{case.index}", values, secrets)
                except ConfigError:
                    pass  # invalid: main() below answers it (fast, it stops at the same place)
                else:
                    code = 0  # valid: answered by the schema; the full plan is left to the full-plan budget
            if code is None:
                ran_plan = True
                code = main(["plan", "--stack-file", str(path)])
    except CaseTimeout:
        failure = f"no answer within {time_limit + 1:.0f} s (hang)"
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 2
    except BaseException as error:  # noqa: BLE001 - any escaping exception is exactly what the fuzzer looks for
        import traceback

        failure = "exception escaped: " + "".join(traceback.format_exception(error))[-3000:]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    seconds = time.perf_counter() - start
    stdout, stderr = out.getvalue(), err.getvalue()
    if failure is None:
        failure = check(code, stdout, stderr, str(path), seconds, time_limit)
    return Outcome(case, code, seconds, stdout, stderr, failure, ran_plan)


def check(code: int | None, stdout: str, stderr: str, path: str, seconds: float, time_limit: float) -> str | None:
    """The contract: exit 0/1/2, no traceback, exit 2 names the file and a key path per problem, < time_limit."""
    if code not in (0, 1, 2):
        return f"exit code {code!r}"
    if "Traceback" in stdout or "Traceback" in stderr:
        return "a traceback was printed"
    if seconds >= time_limit:
        return f"took {seconds:.1f} s (limit {time_limit:.0f} s)"
    if code == 2:
        if path not in stderr:
            return "the exit-2 message does not name the file"
        problems = [line for line in stderr.splitlines() if line.startswith("  - ")]
        if not problems:
            return "the exit-2 message lists no problem"
        unlocated = [line for line in problems if not KEY_PATH.match(line)]
        if unlocated:
            return f"problem without a key path: {unlocated[0][:200]}"
    return None


# ---------------------------------------------------------------------------------------------------------------
# `flinkplat memory FILE`: Flink configuration files
# ---------------------------------------------------------------------------------------------------------------

MEMORY_VALUES = ["4g", "4096m", "1728m", "64m", "0", "-1g", "1.5g", "1.5Gi", "2gib", "2 Gi", "0.1", "0.9", "1.0",
                 "1e309", "٣g", "9" * 30 + "t", "9223372036854775807", "8 eb", "abc", "", "true", "0.4", "-0.1",
                 "1 kb", "512 mb", "NaN", "4294967296b", "100m", "1t"]


def make_memory_case(seed: int, index: int) -> Case:
    """A flat Flink config of memory options with mixed legal and odd values (sometimes with YAML damage)."""
    rng = random.Random(f"memory:{seed}:{index}")
    memory_keys = [k for k in (_KEYS or flink_keys()) if ".memory." in k or k.endswith("numberOfTaskSlots")
                   or k.endswith("cpu.cores")]
    # Half the cases start from a legal pair of process sizes, so some configs pass and the breakdown is printed.
    lines = (["taskmanager.memory.process.size: 4096m", "jobmanager.memory.process.size: 2048m"]
             if rng.random() < 0.5 else [])
    for key in rng.sample(memory_keys, k=min(len(memory_keys), rng.randint(0 if lines else 1, 4))):
        raw = rng.choice(MEMORY_VALUES + NASTY_SCALARS[:50] if rng.random() < 0.3 else MEMORY_VALUES)
        lines.append(f"{key}: {raw if raw[:1] in '.[{!&*~' or rng.random() < 0.5 else repr(raw)}")
    case = Case(seed=seed, index=index, base="flink-conf", mutations=[line[:60] for line in lines[:4]])
    data = ("\n".join(lines) + "\n").encode("utf-8")
    if rng.random() < 0.1:
        data = rng.choice([data.decode().encode("utf-16"), data[: len(data) // 2], b"[" * 400 + b"]" * 400,
                           b"- a\n- b\n", data + b"x: &a [*a]\n", data + b"\x07\n"])
    case.data = data
    return case


def run_memory_case(case: Case, directory: Path, time_limit: float = TIME_LIMIT_S) -> Outcome:
    from flinkplat.cli import main

    path = directory / f"flink-conf-{case.index}.yaml"
    path.write_bytes(case.data)
    out, err = io.StringIO(), io.StringIO()
    failure, code = None, None
    start = time.perf_counter()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            for extra in ([], ["--json"]):
                code = main(["memory", str(path), *extra])
                if code not in (0, 1, 2):
                    break
    except BaseException as error:  # noqa: BLE001
        import traceback

        failure = "exception escaped: " + "".join(traceback.format_exception(error))[-3000:]
    seconds = time.perf_counter() - start
    stdout, stderr = out.getvalue(), err.getvalue()
    if failure is None:
        if code not in (0, 1, 2):
            failure = f"exit code {code!r}"
        elif "Traceback" in stdout + stderr:
            failure = "a traceback was printed"
        elif seconds >= time_limit:
            failure = f"took {seconds:.1f} s"
        elif code == 2 and str(path) not in stderr:
            failure = "the exit-2 message does not name the file"
    return Outcome(case, code, seconds, stdout, stderr, failure, False)
