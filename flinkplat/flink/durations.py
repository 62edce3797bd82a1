"""Flink durations (`TimeUtils.parseDuration`): one parser for the stack schema, the rules and the alerts."""

from __future__ import annotations

import re


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

_DURATION_RE = re.compile(r"^(\d+)\s*(\S*)$")


def parse_duration_ms(text: str) -> float:
    """`"60s"` → 60000.0, `"10 min"` → 600000.0, `"500"` → 500.0 (no unit: milliseconds). ValueError if Flink
    could not read it either."""
    trimmed = str(text).strip().lower()
    match = _DURATION_RE.match(trimmed)
    if not match:
        raise ValueError(f"'{text}' is not a duration Flink can read (write it like 60s, 10min, 1h)")
    number, unit = match.groups()
    if unit not in _DURATION_UNITS_MS and unit != "":
        raise ValueError(f"'{text}' has an unknown time unit '{unit}' (use ms, s, min, h or d)")
    return int(number) * (_DURATION_UNITS_MS.get(unit, 1))


def fmt_duration(ms: float) -> str:
    for unit, size in (("h", 3_600_000), ("min", 60_000), ("s", 1000)):
        if ms >= size and ms % size == 0:
            return f"{int(ms // size)}{unit}"
    return f"{int(ms)}ms"
