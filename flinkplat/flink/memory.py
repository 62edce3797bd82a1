"""Flink's TaskManager and JobManager memory model, bit for bit.

This re-implements, in plain Python, what Flink's `BashJavaUtils GET_TM_RESOURCE_PARAMS` /
`GET_JM_RESOURCE_PARAMS` compute when a TaskManager or JobManager starts (`TaskExecutorProcessUtils`,
`JobManagerProcessUtils`, `ProcessMemoryUtils`, `MemorySize`, `Configuration`): the same derivation paths,
defaults, Java `float` fractions widened to `double`, `BigDecimal` multiplication truncated to whole bytes,
min/max clamping, the same check order and the same exception texts. The model is verified against Flink's own
Java code for every configuration of a large random corpus (see docs/memory.md and
tests/flink/test_memory_oracle.py).

Configuration values may be strings (as in a Flink config file), ints, floats or bools; keys are Flink's flat
keys. Floats with an integral value are accepted where Flink expects an integer or a memory size (Pulumi passes
every number as a float: `4.0` slots means 4); anything else is interpreted exactly like Flink would.

No Pulumi import here: this module is used by the CLI, the policy pack and the Pulumi components alike.
"""

from __future__ import annotations

import math
import re
import struct
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from typing import Any, Callable, Mapping

from flinkplat.versions import DEFAULT_FLINK_VERSION

__all__ = [
    "FlinkMemoryError",
    "JobManagerMemory",
    "TaskManagerMemory",
    "breakdown",
    "derive_jobmanager",
    "derive_taskmanager",
    "format_memory_size",
    "parse_flink_version",
    "parse_memory_size",
]

LONG_MAX = (1 << 63) - 1
_INT_MIN, _INT_MAX = -(1 << 31), (1 << 31) - 1
_KB, _MB, _GB, _TB = 1 << 10, 1 << 20, 1 << 30, 1 << 40

# Java exception classes, as Flink raises them (kept for display and for the oracle comparison).
ICE = "org.apache.flink.configuration.IllegalConfigurationException"
IAE = "java.lang.IllegalArgumentException"
NFE = "java.lang.NumberFormatException"
ARITH = "java.lang.ArithmeticException"


class FlinkMemoryError(ValueError):
    """Flink rejects the memory configuration.

    `str(err)` is exactly the message of the exception Flink throws (what `BashJavaUtils` prints after
    `Exception in thread "main" <class>: `). `causes` holds the messages of its `Caused by:` chain, `java_class`
    the Java exception class and `chain` the (class, message) pairs of the causes.
    """

    def __init__(
        self,
        message: str,
        causes: list[str] | None = None,
        *,
        java_class: str = ICE,
        chain: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.causes: list[str] = list(causes or [])
        self.java_class = java_class
        self.chain: list[tuple[str, str]] = list(chain or [(ICE, c) for c in self.causes])


class _JavaError(Exception):
    """Internal: a Java exception with its cause chain (mirrors Flink's wrapping exactly)."""

    def __init__(self, cls: str, message: str, cause: _JavaError | None = None) -> None:
        super().__init__(message)
        self.cls = cls
        self.message = message
        self.cause = cause

    def to_public(self) -> FlinkMemoryError:
        chain: list[tuple[str, str]] = []
        c = self.cause
        while c is not None:
            chain.append((c.cls, c.message))
            c = c.cause
        return FlinkMemoryError(self.message, [m for _, m in chain], java_class=self.cls, chain=chain)


def _ice(message: str, cause: _JavaError | None = None) -> _JavaError:
    return _JavaError(ICE, message, cause)


# ---------------------------------------------------------------------------------------------------------------
#  Java number semantics
# ---------------------------------------------------------------------------------------------------------------

_JAVA_WS = "".join(chr(i) for i in range(33))  # String.trim() strips every char <= ' '


def _java_trim(s: str) -> str:
    return s.strip(_JAVA_WS)


def _java_double_str(d: float) -> str:
    """Java's Double.toString (identical to JDK 17 for |d| < 1e16, which covers every value printed here)."""
    if math.isnan(d):
        return "NaN"
    if math.isinf(d):
        return "Infinity" if d > 0 else "-Infinity"
    if d == 0:
        return "-0.0" if math.copysign(1.0, d) < 0 else "0.0"
    sign = "-" if d < 0 else ""
    a = abs(d)
    _, digits, exp = Decimal(repr(a)).normalize().as_tuple()
    ds = "".join(map(str, digits))
    point = len(ds) + int(exp)  # value = 0.ds * 10**point
    if 1e-3 <= a < 1e7:
        if point <= 0:
            return f"{sign}0.{'0' * -point}{ds}"
        if point >= len(ds):
            return f"{sign}{ds}{'0' * (point - len(ds))}.0"
        return f"{sign}{ds[:point]}.{ds[point:]}"
    return f"{sign}{ds[0]}.{ds[1:] or '0'}E{point - 1}"


def _to_float32(d: float) -> float:
    """(float) d in Java, widened back to double."""
    return struct.unpack("<f", struct.pack("<f", d))[0]


_FLOAT_MIN = 1.401298464324817e-45  # Float.MIN_VALUE
_FLOAT_MAX = 3.4028234663852886e38  # Float.MAX_VALUE
_F32_INF_THRESHOLD = Fraction(2**128 - 2**103)  # midpoint between Float.MAX_VALUE and 2**128
_F64_INF_THRESHOLD = Fraction(2**1024 - 2**970)


def _f32_neighbours(f: float) -> list[float]:
    bits = struct.unpack("<I", struct.pack("<f", f))[0]
    out = [f]
    for b in (bits - 1, bits + 1):
        if 0 <= b < 0x7F800000:
            out.append(struct.unpack("<f", struct.pack("<I", b))[0])
    return out


def _round_fraction(q: Fraction, single: bool) -> float:
    """Round a non-negative exact value to the nearest float (single) or double, ties to even (IEEE)."""
    if q == 0:
        return 0.0
    if q >= (_F32_INF_THRESHOLD if single else _F64_INF_THRESHOLD):
        return math.inf
    try:
        d = q.numerator / q.denominator  # correctly rounded double
    except OverflowError:
        return math.inf
    if not single:
        return d
    try:
        f0 = _to_float32(d)
    except OverflowError:
        f0 = struct.unpack("<f", struct.pack("<I", 0x7F7FFFFF))[0]
    best: float | None = None
    best_err: Fraction | None = None
    for c in _f32_neighbours(f0):
        err = abs(Fraction(c) - q)
        if best_err is None or err < best_err or (
            err == best_err and struct.unpack("<I", struct.pack("<f", c))[0] % 2 == 0
        ):
            best, best_err = c, err
    assert best is not None
    return best


_DEC_RE = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?[fFdD]?", re.ASCII)
_HEX_RE = re.compile(
    r"([+-]?)0[xX](?:([0-9a-fA-F]+)\.?|([0-9a-fA-F]*)\.([0-9a-fA-F]+))[pP]([+-]?[0-9]+)[fFdD]?", re.ASCII
)


def _java_parse_floating(text: str, single: bool) -> float:
    """Float.parseFloat (single=True, result widened to double) / Double.parseDouble."""
    s = _java_trim(text)
    if not s:
        raise _JavaError(NFE, "empty String")
    bad = _JavaError(NFE, f'For input string: "{s}"')
    i = 1 if s[0] in "+-" else 0
    negative = s[0] == "-"
    rest = s[i:]
    if rest.startswith("N"):
        if rest == "NaN":
            return math.nan
        raise bad
    if rest.startswith("I"):
        if rest == "Infinity":
            return -math.inf if negative else math.inf
        raise bad
    if rest[:2] in ("0x", "0X"):
        m = _HEX_RE.fullmatch(s)
        if not m:
            raise bad
        whole = m.group(2) if m.group(2) is not None else (m.group(3) or "")
        frac = m.group(4) or ""
        mant = int(whole + frac, 16) if whole + frac else 0
        exp = int(m.group(5)) - 4 * len(frac)
        if mant == 0:
            return -0.0 if negative else 0.0
        if exp > 2000:
            value = math.inf
        elif exp < -2200:
            value = 0.0
        else:
            value = _round_fraction(Fraction(mant) * (Fraction(2) ** exp), single)
        return -value if negative else value
    run = re.match(r"[0-9.]*", rest, re.ASCII).group(0)  # type: ignore[union-attr]
    if run.count(".") > 1:
        raise _JavaError(NFE, "multiple points")
    m = _DEC_RE.fullmatch(s)
    if not m or not ((m.group(2) or "") + (m.group(3) or "")):
        raise bad
    digits = (m.group(2) or "") + (m.group(3) or "")
    exp10 = int(m.group(4) or 0) - len(m.group(3) or "")
    stripped = digits.lstrip("0")
    if not stripped:
        value = 0.0
    else:
        point = len(stripped) + exp10  # value = 0.<stripped> * 10**point
        if point > 400:
            value = math.inf
        elif point < -400:
            value = 0.0
        else:
            value = _round_fraction(Fraction(int(stripped)) * (Fraction(10) ** exp10), single)
    return -value if negative else value


def _java_parse_int(text: str) -> int:
    """Integer.parseInt(text) (radix 10)."""
    bad = _JavaError(NFE, f'For input string: "{text}"')
    if not text:
        raise bad
    body = text[1:] if text[0] in "+-" else text
    if not body:
        raise bad
    value = 0
    for ch in body:
        digit = unicodedata.decimal(ch, None)
        if digit is None:
            raise bad
        value = value * 10 + digit
        if value > _INT_MAX + 1:  # stop early: a long digit string must not cost quadratic time
            raise bad
    if text[0] == "-":
        value = -value
    if not _INT_MIN <= value <= _INT_MAX:
        raise bad
    return value


def _java_long_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _wrap_long(v: int) -> int:
    v &= (1 << 64) - 1
    return v - (1 << 64) if v >> 63 else v


# ---------------------------------------------------------------------------------------------------------------
#  MemorySize
# ---------------------------------------------------------------------------------------------------------------

_UNITS: tuple[tuple[tuple[str, ...], int], ...] = (
    (("b", "bytes"), 1),
    (("k", "kb", "kibibytes"), _KB),
    (("m", "mb", "mebibytes"), _MB),
    (("g", "gb", "gibibytes"), _GB),
    (("t", "tb", "tebibytes"), _TB),
)
_ALL_UNITS = " / ".join("(" + " | ".join(names) + ")" for names, _ in _UNITS)


def _parse_bytes(text: str) -> int:
    """MemorySize.parseBytes + `new MemorySize(bytes)`; raises _JavaError with Flink's messages."""
    trimmed = _java_trim(text)
    if not trimmed:
        raise _JavaError(IAE, "argument is an empty- or whitespace-only string")
    pos = 0
    while pos < len(trimmed) and "0" <= trimmed[pos] <= "9":
        pos += 1
    number = trimmed[:pos]
    unit = _java_trim(trimmed[pos:]).lower()
    if not number:
        raise _JavaError(NFE, "text does not start with a number")
    # More than 19 digits overflows a long anyway (and int() refuses over 4300 digits).
    value = int(number) if len(number) <= 19 else LONG_MAX + 1
    if value > LONG_MAX:
        raise _JavaError(
            IAE, f"The value '{number}' cannot be re represented as 64bit number (numeric overflow)."
        )
    multiplier = 1
    if unit:
        for names, mult in _UNITS:
            if unit in names:
                multiplier = mult
                break
        else:
            raise _JavaError(
                IAE, f"Memory size unit '{unit}' does not match any of the recognized units: {_ALL_UNITS}"
            )
    result = _wrap_long(value * multiplier)
    if _java_long_div(result, multiplier) != value:
        raise _JavaError(
            IAE, f"The value '{text}' cannot be re represented as 64bit number of bytes (numeric overflow)."
        )
    if result < 0:
        raise _JavaError(IAE, "bytes must be >= 0")
    return result


def parse_memory_size(text: str) -> int:
    """Flink's `MemorySize.parse`: `"1728m"` → 1811939328. Units are binary, no unit means bytes.

    Raises FlinkMemoryError with Flink's message (e.g. `text does not start with a number`).
    """
    try:
        return _parse_bytes(str(text))
    except _JavaError as err:
        raise err.to_public() from None


def format_memory_size(n: int) -> str:
    """Flink's `MemorySize.toHumanReadableString`: 1073741824 → `1024.000mb (1073741824 bytes)`."""
    n = int(n)
    for unit_name, mult in (("tb", _TB), ("gb", _GB), ("mb", _MB), ("kb", _KB)):
        if n > mult:
            approx = float(n) / mult  # Java: 1.0 * bytes / multiplier
            rounded = Decimal(repr(approx)).quantize(Decimal("0.001"), ROUND_HALF_UP)
            return f"{rounded}{unit_name} ({n} bytes)"
    return f"{n} bytes"


_hr = format_memory_size


def _add(*values: int) -> int:
    """MemorySize.add chain (Math.addExact)."""
    total = 0
    for v in values:
        total += v
        if total > LONG_MAX:
            raise _JavaError(ARITH, "long overflow")
    return total


def _multiply(size: int, multiplier: float) -> int:
    """MemorySize.multiply: BigDecimal(bytes) × BigDecimal.valueOf(multiplier), truncated."""
    if multiplier < 0:
        raise _JavaError(IAE, "multiplier must be >= 0")
    if math.isnan(multiplier) or math.isinf(multiplier):  # BigDecimal.valueOf rejects these
        raise _JavaError(NFE, "Infinite or NaN")
    _, digits, exp = Decimal(_java_double_str(multiplier)).as_tuple()
    mant = int("".join(map(str, digits)) or "0")
    exp = int(exp)
    if exp >= 0:
        product = size * mant * 10**exp
    else:
        product = (size * mant) // 10 ** (-exp)  # both non-negative: floor == truncation
    if product > LONG_MAX:
        raise _JavaError(ARITH, "long overflow")
    return product


# ---------------------------------------------------------------------------------------------------------------
#  Versions, options and configuration access
# ---------------------------------------------------------------------------------------------------------------


def parse_flink_version(version: str | None) -> tuple[int, int]:
    """`"1.20"`, `"1.20.3"`, `"2.2"`, `"v2_2"` → (major, minor)."""
    text = str(version if version is not None else DEFAULT_FLINK_VERSION).strip()
    m = re.fullmatch(r"[vV]?(\d+)(?:[._](\d+))?(?:[._]\d+)*(?:-\S*)?", text)
    if not m:
        raise ValueError(f"unrecognised Flink version {version!r} (expected e.g. 1.20, 1.20.3, 2.2 or v2_2)")
    major, minor = int(m.group(1)), int(m.group(2) or 0)
    if major == 1 and minor < 11 or major not in (1, 2):
        raise ValueError(f"unsupported Flink version {version!r}: the memory model covers Flink 1.11 to 2.x")
    return major, minor


class _Bytes(int):
    """A MemorySize object put into the configuration by Flink itself (legacy heap mapping)."""


@dataclass(frozen=True)
class _Opt:
    key: str
    kind: str  # size | float | double | int | bool
    default: Any = None
    default_text: str = "null"
    fallbacks: tuple[str, ...] = ()  # deprecated keys

    def keys(self) -> tuple[str, ...]:
        return (self.key, *self.fallbacks)

    def __str__(self) -> str:  # ConfigOption.toString
        fb = ", ".join(f"{{key={k}, isDeprecated=true}}" for k in self.fallbacks)
        return f"Key: '{self.key}' , default: {self.default_text} (fallback keys: [{fb}])"


def _memory_size_str(n: int) -> str:
    """MemorySize.toString: the largest unit dividing n, but plain bytes when every unit divides it."""
    units = (("bytes", 1), ("kb", _KB), ("mb", _MB), ("gb", _GB), ("tb", _TB))
    for idx, (_, mult) in enumerate(units):
        if n % mult:
            name, mult = units[max(idx - 1, 0)]
            return f"{n // mult} {name}"
    return f"{n} bytes"


def _size_opt(key: str, default: int | None = None, *fallbacks: str) -> _Opt:
    return _Opt(key, "size", default, "null" if default is None else _memory_size_str(default), fallbacks)


def _fraction_opt(key: str, default: float, default_text: str, *fallbacks: str) -> _Opt:
    return _Opt(key, "float", _to_float32(default), default_text, fallbacks)


class _TMOptions:
    PROCESS = _size_opt("taskmanager.memory.process.size")
    FLINK = _size_opt("taskmanager.memory.flink.size")
    FRAMEWORK_HEAP = _size_opt("taskmanager.memory.framework.heap.size", 128 * _MB)
    FRAMEWORK_OFF_HEAP = _size_opt("taskmanager.memory.framework.off-heap.size", 128 * _MB)
    TASK_HEAP = _size_opt("taskmanager.memory.task.heap.size")
    TASK_OFF_HEAP = _size_opt("taskmanager.memory.task.off-heap.size", 0)
    MANAGED = _size_opt("taskmanager.memory.managed.size", None, "taskmanager.memory.size")
    MANAGED_FRACTION = _fraction_opt("taskmanager.memory.managed.fraction", 0.4, "0.4")
    NETWORK_MIN = _size_opt("taskmanager.memory.network.min", 64 * _MB, "taskmanager.network.memory.min")
    NETWORK_MAX = _size_opt("taskmanager.memory.network.max", LONG_MAX, "taskmanager.network.memory.max")
    NETWORK_FRACTION = _fraction_opt(
        "taskmanager.memory.network.fraction", 0.1, "0.1", "taskmanager.network.memory.fraction"
    )
    METASPACE = _size_opt("taskmanager.memory.jvm-metaspace.size", 256 * _MB)
    OVERHEAD_MIN = _size_opt("taskmanager.memory.jvm-overhead.min", 192 * _MB)
    OVERHEAD_MAX = _size_opt("taskmanager.memory.jvm-overhead.max", _GB)
    OVERHEAD_FRACTION = _fraction_opt("taskmanager.memory.jvm-overhead.fraction", 0.1, "0.1")
    CPU_CORES = _Opt("taskmanager.cpu.cores", "double")
    NUM_SLOTS = _Opt("taskmanager.numberOfTaskSlots", "int", 1, "1")
    # Flink 1.x only
    LEGACY_HEAP = _size_opt("taskmanager.heap.size")
    LEGACY_HEAP_MB = _Opt("taskmanager.heap.mb", "int")
    NUM_BUFFERS = _Opt("taskmanager.network.numberOfBuffers", "int", 2048, "2048")
    SEGMENT_SIZE = _size_opt("taskmanager.memory.segment-size", 32 * _KB)


class _JMOptions:
    PROCESS = _size_opt("jobmanager.memory.process.size")
    FLINK = _size_opt("jobmanager.memory.flink.size")
    HEAP = _size_opt("jobmanager.memory.heap.size")
    OFF_HEAP = _size_opt("jobmanager.memory.off-heap.size", 128 * _MB)
    DIRECT_LIMIT = _Opt("jobmanager.memory.enable-jvm-direct-memory-limit", "bool", False, "false")
    METASPACE = _size_opt("jobmanager.memory.jvm-metaspace.size", 256 * _MB)
    OVERHEAD_MIN = _size_opt("jobmanager.memory.jvm-overhead.min", 192 * _MB)
    OVERHEAD_MAX = _size_opt("jobmanager.memory.jvm-overhead.max", _GB)
    OVERHEAD_FRACTION = _fraction_opt("jobmanager.memory.jvm-overhead.fraction", 0.1, "0.1")
    # Flink 1.x only
    LEGACY_HEAP = _size_opt("jobmanager.heap.size")
    LEGACY_HEAP_MB = _Opt("jobmanager.heap.mb", "int")


def _raw_text(value: Any) -> str:
    """Object.toString() of a raw configuration value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _java_double_str(value)
    return str(value)


def _is_integral_float(value: Any) -> bool:
    return isinstance(value, float) and math.isfinite(value) and value == int(value)


def _convert(value: Any, kind: str) -> Any:
    """ConfigurationUtils.convertValue for one raw value; raises _JavaError (the cause of the parse error)."""
    if kind == "size":
        if isinstance(value, _Bytes):
            return int(value)
        if _is_integral_float(value):
            value = int(value)
        return _parse_bytes(_raw_text(value))
    if kind == "float":
        if isinstance(value, float) and not isinstance(value, bool):
            # convertToFloat(Double): range-checked narrowing cast
            if value == 0.0 or _FLOAT_MIN <= abs(value) <= _FLOAT_MAX:  # NaN fails both
                return _to_float32(value)
            raise _JavaError(
                IAE, f"Configuration value {_java_double_str(value)} overflows/underflows the float type."
            )
        return _java_parse_floating(_raw_text(value), single=True)
    if kind == "double":
        if isinstance(value, float):
            return value
        return _java_parse_floating(_raw_text(value), single=False)
    if kind == "int":
        if _is_integral_float(value):
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            if _INT_MIN <= value <= _INT_MAX:  # Integer
                return value
            if -LONG_MAX - 1 <= value <= LONG_MAX:  # Long (larger values are a BigInteger: parsed as text)
                raise _JavaError(IAE, f"Configuration value {value} overflows/underflows the integer type.")
        return _java_parse_int(_raw_text(value))
    if kind == "bool":
        if isinstance(value, bool):
            return value
        upper = _raw_text(value).upper()
        if upper == "TRUE":
            return True
        if upper == "FALSE":
            return False
        raise _JavaError(
            IAE,
            f"Unrecognized option for boolean: {_raw_text(value)}. Expected either true or false(case insensitive)",
        )
    raise AssertionError(kind)


class _Conf:
    """Flink's Configuration: contains/get with deprecated fallback keys and lazy, typed conversion."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = {str(k): v for k, v in data.items() if v is not None}

    def with_value(self, opt: _Opt, value: Any) -> _Conf:
        copy = _Conf(self._data)
        copy._data[opt.key] = value
        return copy

    def contains(self, opt: _Opt) -> bool:
        return any(k in self._data for k in opt.keys())

    def get(self, opt: _Opt) -> Any:
        for k in opt.keys():
            if k in self._data:
                raw = self._data[k]
                try:
                    return _convert(raw, opt.kind)
                except _JavaError as err:
                    raise _JavaError(
                        IAE, f"Could not parse value '{_raw_text(raw)}' for key '{opt.key}'.", err
                    ) from None
        return opt.default

    def size(self, opt: _Opt) -> int:
        """ProcessMemoryUtils.getMemorySizeFromConfig."""
        try:
            value = self.get(opt)
            if value is None:
                raise _JavaError("java.lang.NullPointerException", "The memory option is not set and has no default value.")
            return value
        except _JavaError as err:
            raise _ice(f"Cannot read memory size from config option '{opt.key}'.", err) from None


# ---------------------------------------------------------------------------------------------------------------
#  ProcessMemoryUtils
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Range:
    min: int
    max: int
    fraction: float


def _range_fraction(conf: _Conf, min_size: int, max_size: int, fraction_opt: _Opt) -> _Range:
    fraction = conf.get(fraction_opt)
    problem = None
    if not min_size <= max_size:
        problem = "min value must be less or equal to max value"
    elif not (fraction >= 0 and fraction < 1):
        problem = "fraction must be in range [0, 1)"
    if problem:
        raise _ice(
            f"Inconsistently configured {fraction_opt} ({_java_double_str(fraction)}) and its min "
            f"({_hr(min_size)}), max ({_hr(max_size)}) value",
            _JavaError(IAE, problem),
        )
    return _Range(min_size, max_size, fraction)


def _cap(size: int, rng: _Range) -> int:
    if size > rng.max:
        return rng.max
    if size < rng.min:
        return rng.min
    return size


def _fwd(base: int, rng: _Range) -> int:
    return _cap(_multiply(base, rng.fraction), rng)


def _inv(base: int, rng: _Range) -> int:
    return _cap(_multiply(base, rng.fraction / (1 - rng.fraction)), rng)


class _ProcessMemory:
    """ProcessMemoryUtils parameterised with the TM or JM options."""

    def __init__(self, conf: _Conf, o: type[_TMOptions] | type[_JMOptions]) -> None:
        self.conf = conf
        self.o = o

    def overhead_range(self) -> _Range:
        c, o = self.conf, self.o
        return _range_fraction(c, c.size(o.OVERHEAD_MIN), c.size(o.OVERHEAD_MAX), o.OVERHEAD_FRACTION)

    def meta_and_overhead_from_process(self, process: int) -> tuple[int, int]:
        meta = self.conf.size(self.o.METASPACE)
        overhead = _fwd(process, self.overhead_range())
        if _add(meta, overhead) > process:
            raise _ice(
                f"Sum of configured JVM Metaspace ({_hr(meta)}) and JVM Overhead ({_hr(overhead)}) "
                f"exceed configured Total Process Memory ({_hr(process)})."
            )
        return meta, overhead

    def meta_and_overhead_from_flink(self, total_flink: int) -> tuple[int, int]:
        c, o = self.conf, self.o
        meta = c.size(o.METASPACE)
        flink_and_meta = _add(total_flink, meta)
        if c.contains(o.PROCESS):
            process = c.size(o.PROCESS)
            meta = c.size(o.METASPACE)
            flink_and_meta = _add(total_flink, meta)
            if process < flink_and_meta:
                raise _ice(
                    f"The configured Total Process Memory size ({_hr(process)}) is less than the sum of the "
                    f"derived Total Flink Memory size ({_hr(total_flink)}) and the configured or default JVM "
                    f"Metaspace size  ({_hr(meta)})."
                )
            overhead = process - flink_and_meta
            rng = self.overhead_range()
            if overhead > rng.max or overhead < rng.min:
                raise _ice(
                    f"Derived JVM Overhead size ({_hr(overhead)}) is not in configured JVM Overhead range "
                    f"[{_hr(rng.min)}, {_hr(rng.max)}]."
                )
            return meta, overhead
        overhead = _inv(flink_and_meta, self.overhead_range())
        return meta, overhead

    def fail_required(self, fine_grained: str) -> _JavaError:
        o = self.o
        return _ice(
            f"Either required fine-grained memory ({fine_grained}), or Total Flink Memory size ({o.FLINK}), "
            f"or Total Process Memory size ({o.PROCESS}) need to be configured explicitly."
        )


# ---------------------------------------------------------------------------------------------------------------
#  TaskManager
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskManagerMemory:
    """A TaskManager's derived memory components (bytes), CPU cores and slots."""

    framework_heap: int
    task_heap: int
    framework_off_heap: int
    task_off_heap: int
    network: int
    managed: int
    metaspace: int
    overhead: int
    cpu_cores: float = 1.0
    slots: int = 1

    @property
    def total_flink(self) -> int:
        return (
            self.framework_heap + self.framework_off_heap + self.task_heap + self.task_off_heap
            + self.network + self.managed
        )

    @property
    def total_process(self) -> int:
        return self.total_flink + self.metaspace + self.overhead

    @property
    def xmx(self) -> int:
        """-Xmx and -Xms."""
        return self.framework_heap + self.task_heap

    @property
    def max_direct(self) -> int:
        """-XX:MaxDirectMemorySize."""
        return self.framework_off_heap + self.task_off_heap + self.network

    @property
    def max_metaspace(self) -> int:
        """-XX:MaxMetaspaceSize."""
        return self.metaspace

    def jvm_args(self) -> str:
        """Flink's JVM parameter string (`ProcessMemoryUtils.generateJvmParametersStr`)."""
        return (
            f"-Xmx{self.xmx} -Xms{self.xmx} -XX:MaxDirectMemorySize={self.max_direct} "
            f"-XX:MaxMetaspaceSize={self.max_metaspace}"
        )


class _TaskManager:
    def __init__(self, conf: _Conf, legacy: bool) -> None:
        self.c = conf
        self.legacy = legacy  # Flink 1.x
        self.pm = _ProcessMemory(conf, _TMOptions)

    # -- network ------------------------------------------------------------------------------------------------
    def using_legacy_network(self) -> bool:
        c, o = self.c, _TMOptions
        if not self.legacy:
            return False
        any_new = c.contains(o.NETWORK_MIN) or c.contains(o.NETWORK_MAX) or c.contains(o.NETWORK_FRACTION)
        return not any_new and c.contains(o.NUM_BUFFERS)

    def legacy_network(self) -> int:
        c, o = self.c, _TMOptions
        buffers = c.get(o.NUM_BUFFERS)
        page = c.get(o.SEGMENT_SIZE)  # ConfigurationParserUtils.getPageSize
        if page > _INT_MAX:  # MathUtils.checkedDownCast
            raise _JavaError(IAE, f"Cannot downcast long value {page} to integer.")
        if page < 4096:
            raise _ice(
                f"Invalid configuration value for {o.SEGMENT_SIZE.key} : {page} - Minimum memory segment size is 4096"
            )
        if page & (page - 1):
            raise _ice(
                f"Invalid configuration value for {o.SEGMENT_SIZE.key} : {page} - Memory segment size must be a power of 2."
            )
        size = _wrap_long(buffers * page)
        if size < 0:
            raise _JavaError(IAE, "bytes must be >= 0")
        return size

    def network_range(self) -> _Range:
        c, o = self.c, _TMOptions
        return _range_fraction(c, c.size(o.NETWORK_MIN), c.size(o.NETWORK_MAX), o.NETWORK_FRACTION)

    def check_network(self, network: int) -> None:
        try:
            if self.using_legacy_network():
                configured = self.legacy_network()
                if configured != network:
                    raise _ice(
                        f"Derived Network Memory size ({_hr(network)}) does not match configured Network Memory "
                        f"size ({_hr(configured)})."
                    )
            else:
                rng = self.network_range()
                if network > rng.max or network < rng.min:
                    raise _ice(
                        f"Derived Network Memory size ({_hr(network)}) is not in configured Network Memory range "
                        f"[{_hr(rng.min)}, {_hr(rng.max)}]."
                    )
        except _JavaError as err:
            if err.cls != ICE:
                raise
            raise _ice(
                "If Total Flink, Task Heap and (or) Managed Memory sizes are explicitly configured then the "
                "Network Memory size is the rest of the Total Flink memory after subtracting all other configured "
                "types of memory, but the derived Network Memory is inconsistent with its configuration.",
                err,
            ) from None

    # -- flink memory --------------------------------------------------------------------------------------------
    def managed_abs_or_fraction(self, base: int) -> int:
        c, o = self.c, _TMOptions
        if c.contains(o.MANAGED):
            return c.size(o.MANAGED)
        return _fwd(base, _range_fraction(c, 0, LONG_MAX, o.MANAGED_FRACTION))

    @staticmethod
    def _exceeds_with_task_heap(fh: int, fo: int, th: int, to: int, m: int, total: int) -> _JavaError:
        return _ice(
            f"Sum of configured Framework Heap Memory ({_hr(fh)}), Framework Off-Heap Memory ({_hr(fo)}), "
            f"Task Heap Memory ({_hr(th)}), Task Off-Heap Memory ({_hr(to)}) and Managed Memory ({_hr(m)}) "
            f"exceed configured Total Flink Memory ({_hr(total)})."
        )

    def from_fine_grained(self) -> tuple[int, ...]:
        c, o = self.c, _TMOptions
        th = c.size(o.TASK_HEAP)
        m = c.size(o.MANAGED)
        fh = c.size(o.FRAMEWORK_HEAP)
        fo = c.size(o.FRAMEWORK_OFF_HEAP)
        to = c.size(o.TASK_OFF_HEAP)
        rest = _add(fh, fo, th, to, m)
        if c.contains(o.FLINK):
            total = c.size(o.FLINK)
            if rest > total:
                raise self._exceeds_with_task_heap(fh, fo, th, to, m, total)
            network = total - rest
            self.check_network(network)
        elif self.using_legacy_network():
            network = self.legacy_network()
        else:
            network = _inv(rest, self.network_range())
        return fh, th, fo, to, network, m

    def from_total_flink(self, total: int) -> tuple[int, ...]:
        c, o = self.c, _TMOptions
        fh = c.size(o.FRAMEWORK_HEAP)
        fo = c.size(o.FRAMEWORK_OFF_HEAP)
        to = c.size(o.TASK_OFF_HEAP)
        if c.contains(o.TASK_HEAP):
            th = c.size(o.TASK_HEAP)
            m = self.managed_abs_or_fraction(total)
            rest = _add(fh, fo, th, to, m)
            if rest > total:
                raise self._exceeds_with_task_heap(fh, fo, th, to, m, total)
            network = total - rest
            self.check_network(network)
        else:
            m = self.managed_abs_or_fraction(total)
            network = self.legacy_network() if self.using_legacy_network() else _fwd(total, self.network_range())
            rest = _add(fh, fo, to, m, network)
            if rest > total:
                raise _ice(
                    f"Sum of configured Framework Heap Memory ({_hr(fh)}), Framework Off-Heap Memory ({_hr(fo)}), "
                    f"Task Off-Heap Memory ({_hr(to)}), Managed Memory ({_hr(m)}) and Network Memory "
                    f"({_hr(network)}) exceed configured Total Flink Memory ({_hr(total)})."
                )
            th = total - rest
        return fh, th, fo, to, network, m

    def derive(self) -> TaskManagerMemory:
        c, o = self.c, _TMOptions
        if c.contains(o.TASK_HEAP) and c.contains(o.MANAGED):
            fh, th, fo, to, network, m = self.from_fine_grained()
            meta, overhead = self.pm.meta_and_overhead_from_flink(_add(fh, fo, th, to, network, m))
        elif c.contains(o.FLINK):
            total = c.size(o.FLINK)
            fh, th, fo, to, network, m = self.from_total_flink(total)
            meta, overhead = self.pm.meta_and_overhead_from_flink(total)
        elif c.contains(o.PROCESS):
            process = c.size(o.PROCESS)
            meta, overhead = self.pm.meta_and_overhead_from_process(process)
            fh, th, fo, to, network, m = self.from_total_flink(process - (meta + overhead))
        else:
            raise self.pm.fail_required(f"{o.TASK_HEAP.key} and {o.MANAGED.key}")
        # TaskExecutorProcessUtils.getCpuCores / getNumSlots
        if c.contains(o.CPU_CORES):
            cpu = c.get(o.CPU_CORES)
        else:
            cpu = float(c.get(o.NUM_SLOTS))
        if cpu <= 0:
            raise _ice(
                f"TaskExecutors need to be started with a positive number of CPU cores. Please configure "
                f"{o.CPU_CORES.key} accordingly."
            )
        cpu = _cpu_resource(cpu)
        slots = c.get(o.NUM_SLOTS)
        return TaskManagerMemory(fh, th, fo, to, network, m, meta, overhead, cpu, slots)


def _cpu_resource(cpu: float) -> float:
    """CPUResource(double): BigDecimal.valueOf(v).setScale(8, DOWN); rejects NaN/Infinity like BigDecimal."""
    if math.isnan(cpu) or math.isinf(cpu):
        text = _java_double_str(cpu)
        raise _JavaError(
            NFE,
            f'Character {text[0] if text[0] != "-" else text[1]} is neither a decimal digit number, decimal point, '
            f'nor "e" notation exponential mark.',
        )
    with localcontext() as ctx:
        ctx.prec = 400  # doubles reach 1.8e308; BigDecimal has no precision limit
        return float(Decimal(_java_double_str(cpu)).quantize(Decimal("0.00000001"), ROUND_DOWN))


def _legacy_heap(conf: _Conf, heap: _Opt, heap_mb: _Opt) -> int | None:
    """MemoryBackwardsCompatibilityUtils.getLegacyHeapMemoryIfExplicitlyConfigured (env vars ignored)."""
    if conf.contains(heap):
        return conf.size(heap)
    if conf.contains(heap_mb):
        mb = conf.get(heap_mb)
        if mb < 0:
            raise _ice(f"Configured total process memory size ({mb}MB) must not be less than 0.")
        return mb << 20
    return None


def _check_total_overflow(*components: int) -> None:
    _add(*components)  # BashJavaUtils logs the totals: MemorySize.add throws on overflow


def _derive_tm(conf: Mapping[str, Any], flink_version: str | None) -> TaskManagerMemory:
    major, _ = parse_flink_version(flink_version)
    c = _Conf(conf)
    if major == 1 and not c.contains(_TMOptions.FLINK):
        try:
            legacy = _legacy_heap(c, _TMOptions.LEGACY_HEAP, _TMOptions.LEGACY_HEAP_MB)
        except _JavaError as err:
            if err.cls != ICE:
                raise
            raise _ice("TaskManager failed to map legacy JVM heap option to the new one: " + err.message, err) from None
        if legacy is not None:
            c = c.with_value(_TMOptions.FLINK, _Bytes(legacy))
    try:
        tm = _TaskManager(c, legacy=major == 1).derive()
    except _JavaError as err:
        if err.cls != ICE:
            raise
        raise _ice("TaskManager memory configuration failed: " + err.message, err) from None
    _check_total_overflow(tm.managed, tm.framework_off_heap, tm.task_off_heap, tm.network)
    _check_total_overflow(
        tm.framework_heap, tm.framework_off_heap, tm.task_heap, tm.task_off_heap, tm.network, tm.managed,
        tm.metaspace, tm.overhead,
    )
    return tm


def derive_taskmanager(conf: Mapping[str, Any], flink_version: str | None = DEFAULT_FLINK_VERSION) -> TaskManagerMemory:
    """Derive the TaskManager memory like Flink's `BashJavaUtils GET_TM_RESOURCE_PARAMS`.

    Raises FlinkMemoryError (message = Flink's exception message) if Flink rejects the configuration and
    ValueError for an unknown `flink_version`.
    """
    try:
        return _derive_tm(conf, flink_version)
    except _JavaError as err:
        raise err.to_public() from None


# ---------------------------------------------------------------------------------------------------------------
#  JobManager
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobManagerMemory:
    """A JobManager's derived memory components (bytes)."""

    heap: int
    off_heap: int
    metaspace: int
    overhead: int
    direct_memory_limit: bool = False

    @property
    def total_flink(self) -> int:
        return self.heap + self.off_heap

    @property
    def total_process(self) -> int:
        return self.total_flink + self.metaspace + self.overhead

    @property
    def xmx(self) -> int:
        """-Xmx and -Xms."""
        return self.heap

    @property
    def max_direct(self) -> int | None:
        """-XX:MaxDirectMemorySize, only with `jobmanager.memory.enable-jvm-direct-memory-limit: true`."""
        return self.off_heap if self.direct_memory_limit else None

    @property
    def max_metaspace(self) -> int:
        return self.metaspace

    def jvm_args(self) -> str:
        direct = f" -XX:MaxDirectMemorySize={self.max_direct}" if self.max_direct is not None else ""
        return f"-Xmx{self.xmx} -Xms{self.xmx}{direct} -XX:MaxMetaspaceSize={self.max_metaspace}"


def _jm_spec(c: _Conf) -> tuple[int, int, int, int]:
    o = _JMOptions
    pm = _ProcessMemory(c, o)

    def from_total_flink(total: int) -> tuple[int, int]:
        off_heap = c.size(o.OFF_HEAP)
        if total <= off_heap:
            raise _ice(
                f"The configured Total Flink Memory ({_hr(total)}) is less than the configured Off-heap Memory "
                f"({_hr(off_heap)})."
            )
        return total - off_heap, off_heap

    if c.contains(o.HEAP):
        heap = c.size(o.HEAP)
        off_heap = c.size(o.OFF_HEAP)
        if c.contains(o.FLINK):
            total = c.size(o.FLINK)
            if c.contains(o.OFF_HEAP):
                if _add(heap, off_heap) != total:
                    raise _ice(
                        f"Sum of the configured JVM Heap Memory ({_hr(heap)}) and the configured Off-heap Memory "
                        f"({_hr(off_heap)}) does not match the configured Total Flink Memory ({_hr(total)}). "
                        f"Please, make the configuration consistent or configure only one option: either JVM Heap "
                        f"or Total Flink Memory."
                    )
            else:
                if total < heap:
                    raise _ice(
                        f"The configured JVM Heap Memory ({_hr(heap)}) exceeds the configured Total Flink Memory "
                        f"({_hr(total)}). Please, make the configuration consistent or configure only one option: "
                        f"either JVM Heap or Total Flink Memory."
                    )
                off_heap = total - heap
        meta, overhead = pm.meta_and_overhead_from_flink(_add(heap, off_heap))
    elif c.contains(o.FLINK):
        total = c.size(o.FLINK)
        heap, off_heap = from_total_flink(total)
        meta, overhead = pm.meta_and_overhead_from_flink(total)
    elif c.contains(o.PROCESS):
        process = c.size(o.PROCESS)
        meta, overhead = pm.meta_and_overhead_from_process(process)
        heap, off_heap = from_total_flink(process - (meta + overhead))
    else:
        raise pm.fail_required(o.HEAP.key)
    return heap, off_heap, meta, overhead


def _derive_jm(conf: Mapping[str, Any], flink_version: str | None) -> JobManagerMemory:
    major, _ = parse_flink_version(flink_version)
    c = _Conf(conf)
    o = _JMOptions
    if major == 1:
        try:
            if not c.contains(o.HEAP):
                legacy = _legacy_heap(c, o.LEGACY_HEAP, o.LEGACY_HEAP_MB)
                if legacy is not None:
                    c = c.with_value(o.HEAP, _Bytes(legacy))
            heap, off_heap, meta, overhead = _jm_spec(c)
        except _JavaError as err:
            if err.cls != ICE:
                raise
            raise _ice("JobManager memory configuration failed: " + err.message, err) from None
    else:
        heap, off_heap, meta, overhead = _jm_spec(c)
    _check_total_overflow(heap, off_heap, meta, overhead)
    direct = _Conf(conf).get(o.DIRECT_LIMIT)
    return JobManagerMemory(heap, off_heap, meta, overhead, bool(direct))


def derive_jobmanager(conf: Mapping[str, Any], flink_version: str | None = DEFAULT_FLINK_VERSION) -> JobManagerMemory:
    """Derive the JobManager memory like Flink's `BashJavaUtils GET_JM_RESOURCE_PARAMS`.

    Raises FlinkMemoryError (message = Flink's exception message; 1.x prefixes it with
    `JobManager memory configuration failed: `, 2.x does not) and ValueError for an unknown `flink_version`.
    """
    try:
        return _derive_jm(conf, flink_version)
    except _JavaError as err:
        raise err.to_public() from None


# ---------------------------------------------------------------------------------------------------------------
#  Breakdown (CLI / JSON)
# ---------------------------------------------------------------------------------------------------------------


def _side(derive: Callable[[], Any], fields: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    try:
        return {"ok": True, **fields(derive())}
    except FlinkMemoryError as err:
        return {"ok": False, "error": str(err)}


def _tm_fields(tm: TaskManagerMemory) -> dict[str, Any]:
    return {
        "framework_heap": tm.framework_heap,
        "task_heap": tm.task_heap,
        "framework_off_heap": tm.framework_off_heap,
        "task_off_heap": tm.task_off_heap,
        "network": tm.network,
        "managed": tm.managed,
        "metaspace": tm.metaspace,
        "overhead": tm.overhead,
        "xmx": tm.xmx,
        "max_direct": tm.max_direct,
        "max_metaspace": tm.max_metaspace,
    }


def _jm_fields(jm: JobManagerMemory) -> dict[str, Any]:
    return {
        "heap": jm.heap,
        "off_heap": jm.off_heap,
        "metaspace": jm.metaspace,
        "overhead": jm.overhead,
        "xmx": jm.xmx,
        # -XX:MaxDirectMemorySize: Flink sets it for the JobManager only with
        # jobmanager.memory.enable-jvm-direct-memory-limit: true; None = no limit flag.
        "max_direct": jm.max_direct,
        "max_metaspace": jm.max_metaspace,
    }


def breakdown(conf: Mapping[str, Any], flink_version: str | None = DEFAULT_FLINK_VERSION) -> dict[str, dict[str, Any]]:
    """Both sides at once: `{"tm": {"ok": True, ...bytes}, "jm": {...}}` or `{"ok": False, "error": msg}` per side."""
    parse_flink_version(flink_version)  # an unknown version is the caller's error, not Flink's
    return {
        "tm": _side(lambda: derive_taskmanager(conf, flink_version), _tm_fields),
        "jm": _side(lambda: derive_jobmanager(conf, flink_version), _jm_fields),
    }
