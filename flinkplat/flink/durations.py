"""Flink durations (`TimeUtils.parseDuration`): one parser for the stack schema, the rules and the alerts."""

from __future__ import annotations

import re

from flinkplat.flink.memory import _java_trim  # String.trim(), as Flink's memory parsing reads it too

_DURATION_UNITS_MS: dict[str, float] = {}
for _labels, _ms in (
    (("ns", "nano", "nanos", "nanosecond", "nanoseconds"), 1e-6),
    (("µs", "micro", "micros", "microsecond", "microseconds"), 1e-3),
    (("ms", "milli", "millis", "millisecond", "milliseconds"), 1),
    (("s", "sec", "secs", "second", "seconds"), 1000),
    (("min", "m", "minute", "minutes"), 60_000),
    (("h", "hour", "hours"), 3_600_000),
    (("d", "day", "days"), 86_400_000),
):
    for _label in _labels:
        _DURATION_UNITS_MS[_label] = _ms

# Flink's TimeUtils.parseDuration: ASCII digits only (it compares characters with '0'..'9'; Java's trim() drops
# only characters up to U+0020), a 64-bit number, then an optional unit label.
_DURATION_RE = re.compile(r"^([0-9]+)[\x00-\x20]*(\S*)$", re.ASCII)
_LONG_MAX = (1 << 63) - 1


def parse_duration_ms(text: str) -> float:
    """`"60s"` → 60000.0, `"10 min"` → 600000.0, `"500"` → 500.0 (no unit: milliseconds). ValueError if Flink
    could not read it either (non-ASCII digits such as `٣s`, numbers beyond 64 bits, unknown units)."""
    trimmed = _java_trim(str(text)).lower()
    match = _DURATION_RE.match(trimmed)
    if not match:
        raise ValueError(f"'{text}' is not a duration Flink can read (write it like 60s, 10min, 1h, with digits 0-9)")
    number, unit = match.groups()
    if unit not in _DURATION_UNITS_MS and unit != "":
        raise ValueError(f"'{text}' has an unknown time unit '{unit}' (use ms, s, min, h or d)")
    if len(number) > 19 or int(number) > _LONG_MAX or int(number) * _DURATION_UNITS_MS.get(unit, 1) > _LONG_MAX:
        raise ValueError(f"'{text}' is too long for Flink (a duration is at most 2^63-1 milliseconds)")
    return int(number) * (_DURATION_UNITS_MS.get(unit, 1))


def fmt_duration(ms: float) -> str:
    for unit, size in (("h", 3_600_000), ("min", 60_000), ("s", 1000)):
        if ms >= size and ms % size == 0:
            return f"{int(ms // size)}{unit}"
    return f"{int(ms)}ms"
