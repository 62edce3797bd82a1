"""What the Flink Kubernetes Operator 1.15.0's validator accepts, for the values it parses itself, in pure Python.

Written from the behaviour of the Java code the operator runs (not a copy of it), with the same acceptance:
- `resource.memory`: Flink's MemorySize first, else the operator's own rewrite into a Kubernetes quantity
  (whitespace removed, upper-cased, a trailing `B` dropped, a trailing `I` made `i`), read by fabric8's Quantity
  as a BigDecimal whose text must again be a plain MemorySize. So `2gib` and `2 Gi` are accepted, and a
  fractional binary quantity such as `1.5Gi` (1610612736.0 bytes) is not;
- `resource.ephemeralStorage`: fabric8's Quantity.parse + getAmountInBytes, nothing more;
- `job.autoscaler.excluded.periods`: Flink's legacy list splitting (`;`, quotes), then each expression as one or
  two `&&`-joined parts, each a Quartz 2.4.0 DailyCalendar range (`HH:mm[:ss[:SSS]]-HH:mm[:ss[:SSS]]`) or a
  Quartz CronExpression (6 or 7 fields, with all of Quartz's leniency);
- autoscaler numbers: Java's Double.parseDouble; the operator's config keys with their fallback/deprecated keys;
- `jarURI`: java.net.URI's scheme and server-based host, and InetAddress's address classes.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Decimal, localcontext
from typing import Any, Mapping

from flinkplat.flink.keys import conf_value
from flinkplat.flink.memory import (  # Java's number syntax, as Flink's memory parsing already reads it
    FlinkMemoryError, _java_double_str, _java_parse_floating, _java_parse_int, _java_trim, _JavaError,
    parse_memory_size,
)

INT_MAX = 2**31 - 1


class JavaParseError(ValueError):
    """A value the Java code would refuse; str() is the Java exception's message where it has a fixed one."""


# ---------------------------------------------------------------------------------------------------------------
# Java primitives
# ---------------------------------------------------------------------------------------------------------------


def _java_digit(ch: str) -> int:
    """Character.digit(ch, 10): any Unicode decimal digit (Nd), else -1."""
    try:
        return unicodedata.decimal(ch)
    except (ValueError, TypeError):
        return -1


def java_parse_int(text: str) -> int:
    """Integer.parseInt: optional sign, Unicode decimal digits, 32-bit range."""
    try:
        return _java_parse_int(text)
    except _JavaError as error:
        raise JavaParseError(error.message) from None


_JAVA_WS = "\t\n\x0b\f\r\x1c\x1d\x1e\x1f"


def _java_is_whitespace(ch: str) -> bool:
    """Character.isWhitespace: space separators except no-break spaces, plus the ASCII controls listed."""
    if ch in _JAVA_WS:
        return True
    return unicodedata.category(ch) in ("Zs", "Zl", "Zp") and ch not in "\u00a0\u2007\u202f"


def java_strip(text: str) -> str:
    """String.strip (Character.isWhitespace on both ends)."""
    start, end = 0, len(text)
    while start < end and _java_is_whitespace(text[start]):
        start += 1
    while end > start and _java_is_whitespace(text[end - 1]):
        end -= 1
    return text[start:end]


def java_trim(text: str) -> str:
    """String.trim: drops characters <= U+0020 on both ends."""
    return _java_trim(text)


def java_split(text: str, literal: str) -> list[str]:
    """String.split(regex) for a literal separator: leading empty parts kept, trailing ones dropped."""
    if literal not in text:
        return [text]
    parts = text.split(literal)
    while parts and parts[-1] == "":
        parts.pop()
    return parts


def java_parse_double(text: str) -> float:
    """Double.parseDouble: trimmed; NaN/Infinity, decimal or hex floats, an optional f/d suffix; ASCII only."""
    try:
        return _java_parse_floating(text, single=False)
    except _JavaError as error:
        raise JavaParseError(error.message) from None


def java_double_str(d: float) -> str:
    """Double.toString, as the operator prints its autoscaler bounds."""
    return _java_double_str(d)


# ---------------------------------------------------------------------------------------------------------------
# Kubernetes quantities (fabric8 7.3.1 Quantity), as BigDecimal (unscaled, scale)
# ---------------------------------------------------------------------------------------------------------------

_UNIT_CHARS = set("eEinumkKMGTP")
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18, "": 0}
_DECIMAL64_DIGITS = 16


@dataclass(frozen=True)
class BigDecimal:
    """java.math.BigDecimal as (unscaled value, scale), held in an exact Decimal: Python's Decimal keeps the
    coefficient and exponent the same way, multiplies them the same way, and prints with the same rule."""

    value: Decimal

    @classmethod
    def of(cls, unscaled: int, scale: int) -> BigDecimal:
        return cls(Decimal((0 if unscaled >= 0 else 1, tuple(map(int, str(abs(unscaled)))), -scale)))

    def __mul__(self, other: BigDecimal) -> BigDecimal:
        with localcontext() as exact:
            exact.prec = MAX_PREC
            exact.Emax, exact.Emin = MAX_EMAX, MIN_EMIN
            product = self.value * other.value
        return BigDecimal(product.copy_abs() if product.is_zero() else product)  # Java has no negative zero

    def __str__(self) -> str:
        """BigDecimal.toString: plain when scale >= 0 and the adjusted exponent >= -6, else E notation."""
        return str(self.value)


def _decimal64(value: int) -> BigDecimal:
    """A positive integer rounded to 16 significant digits, half-even (MathContext.DECIMAL64)."""
    digits = len(str(value))
    if digits <= _DECIMAL64_DIGITS:
        return BigDecimal.of(value, 0)
    drop = digits - _DECIMAL64_DIGITS
    quotient, remainder = divmod(value, 10**drop)
    half = 5 * 10 ** (drop - 1)
    if remainder > half or (remainder == half and quotient % 2):
        quotient += 1
    if len(str(quotient)) > _DECIMAL64_DIGITS:  # 9999… rounded up to a power of ten
        quotient //= 10
        drop += 1
    return BigDecimal.of(quotient, -drop)


def _power_of_ten(exponent: int) -> BigDecimal:
    """BigDecimal("10").pow(exponent, DECIMAL64): exact up to 16 digits, then 16 digits and a negative scale."""
    if not -999999999 <= exponent <= 999999999:
        raise JavaParseError("Invalid operation")  # an ArithmeticException in Java: the validator itself throws
    if exponent < 0:
        return BigDecimal.of(1, -exponent)
    if exponent < _DECIMAL64_DIGITS:
        return BigDecimal.of(10**exponent, 0)
    return BigDecimal.of(10 ** (_DECIMAL64_DIGITS - 1), -(exponent - _DECIMAL64_DIGITS + 1))


def _big_decimal(text: str) -> BigDecimal:
    """new BigDecimal(String) for the amounts Quantity hands it (no exponent: e/E are unit characters)."""
    body, negative = text, False
    if body[:1] in ("+", "-"):
        negative, body = body[0] == "-", body[1:]
    whole, _, frac = body.partition(".")
    digits = whole + frac
    bad = next((c for c in body if c != "." and _java_digit(c) < 0), None)
    if bad is not None:  # the NumberFormatException texts of JDK 17's BigDecimal(String)
        raise JavaParseError(f"Character {bad} is neither a decimal digit number, decimal point, nor \"e\" "
                             "notation exponential mark.")
    if "." in frac:
        raise JavaParseError("Character array contains more than one decimal point.")
    if not digits:
        raise JavaParseError("null" if not text else "No digits found.")
    coefficient = tuple(_java_digit(c) for c in digits)
    value = Decimal((1 if negative and any(coefficient) else 0, coefficient, -len(frac)))
    return BigDecimal(value)


def _quantity_split(text: str) -> tuple[str, str]:
    """Quantity.parse: amount up to the first unit character, the rest is the format."""
    if not text:
        raise JavaParseError("Invalid quantity string format passed.")
    index = next((i for i, c in enumerate(text) if c in _UNIT_CHARS), len(text))
    amount, fmt = text[:index], text[index:]
    has_digit = any(unicodedata.category(c) == "Nd" for c in fmt)
    if has_digit and fmt[-1].isalpha():
        raise JavaParseError("Invalid quantity string format passed")
    return amount, fmt


def _quantity_multiple(fmt: str) -> BigDecimal:
    if any(unicodedata.category(c) == "Nd" for c in fmt) and len(fmt) > 1:
        return _power_of_ten(java_parse_int(fmt[1:]))
    if fmt in _BINARY:
        return _decimal64(2 ** _BINARY[fmt])
    if fmt in _DECIMAL:
        return _power_of_ten(_DECIMAL[fmt])
    raise JavaParseError("Invalid quantity format passed to parse")


def quantity_amount(text: str) -> BigDecimal:
    """Quantity.getAmountInBytes(Quantity.parse(text)): bytes (or cores) as fabric8's BigDecimal."""
    amount, fmt = _quantity_split(text)
    value = amount + fmt
    if not value:
        raise JavaParseError("Invalid quantity value passed to parse")
    if value.startswith("."):
        value = "0" + value
    amount, fmt = _quantity_split(value)
    return _big_decimal(amount) * _quantity_multiple(fmt)


def ephemeral_storage_error(text: str) -> str | None:
    """The operator's ephemeral-storage check: None if accepted, else the exception message it reports."""
    try:
        quantity_amount(text)
    except JavaParseError as error:
        return str(error)
    return None


def _k8s_memory_form(text: str) -> str:
    """The operator's rewrite of a memory string into a Kubernetes quantity (FlinkConfigBuilder)."""
    text = re.sub(r"[ \t\n\x0b\f\r]", "", java_trim(text)).upper()
    if text.endswith("B"):
        text = text[:-1]
    if text.endswith("I"):
        text = text[:-1] + "i"
    return text


def resource_memory_bytes(text: str) -> int:
    """`resource.memory` as the operator 1.15.0 reads it (see the module doc). JavaParseError with the message the
    operator reports after "… resource memory parse error: "."""
    try:
        return parse_memory_size(text)
    except FlinkMemoryError:
        pass
    amount = quantity_amount(_k8s_memory_form(text))
    try:
        return parse_memory_size(str(amount))
    except FlinkMemoryError as error:
        raise JavaParseError(str(error)) from None


# ---------------------------------------------------------------------------------------------------------------
# Flink configuration: keys with fallbacks, lists
# ---------------------------------------------------------------------------------------------------------------

AUTOSCALER_PREFIX = "job.autoscaler."
OLD_AUTOSCALER_PREFIX = "kubernetes.operator.job.autoscaler."


def autoscaler_keys(option: str) -> tuple[str, ...]:
    """The keys Flink reads for an autoscaler option, in order: the key, its fallback keys, its deprecated keys."""
    if option == "utilization.target":
        return (AUTOSCALER_PREFIX + option, OLD_AUTOSCALER_PREFIX + "utilization.target",
                OLD_AUTOSCALER_PREFIX + "target.utilization", AUTOSCALER_PREFIX + "target.utilization")
    return (AUTOSCALER_PREFIX + option, OLD_AUTOSCALER_PREFIX + option)


def resolve(conf: Mapping[str, Any], keys: tuple[str, ...]) -> tuple[str, Any] | None:
    """(key, raw value) of the first key set, as Configuration.get does."""
    for key in keys:
        if key in conf:
            return key, conf[key]
    return None


def autoscaler_switch(conf: Mapping[str, object]) -> tuple[str, bool] | None:
    """(key, on) of the option that switches the operator's job autoscaler, as the operator reads it: the current
    key, else its deprecated one (`true`, any case, is on); None when neither is set."""
    found = resolve(conf, autoscaler_keys("enabled"))
    return None if found is None else (found[0], conf_value(found[1]).strip().lower() == "true")


def could_not_parse(raw: str, key: str) -> str:
    """The IllegalArgumentException Configuration.get throws for an unparseable value."""
    return f"Could not parse value '{raw}' for key '{key}'."


def java_boolean(raw: str) -> bool:
    """ConfigurationUtils.convertToBoolean: true/false, case-insensitive, not trimmed."""
    upper = raw.upper()
    if upper in ("TRUE", "FALSE"):
        return upper == "TRUE"
    raise JavaParseError(raw)


def split_flink_list(text: str) -> list[str]:
    """StructuredOptionsSplitter.splitEscaped(text, ';'), Flink's legacy list syntax (the operator's Helm chart
    ships flink-conf.yaml): quotes '…' / "…" (doubled to escape), unquoted parts trimmed."""
    tokens: list[tuple[str, str]] = []  # (kind, text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "'\"":
            buf, j = [], i + 1
            while True:
                if j >= n:
                    raise JavaParseError("Could not split string. Quoting was not closed properly.")
                if text[j] == c:
                    if j + 1 < n and text[j + 1] == c:
                        buf.append(c)
                        j += 2
                        continue
                    break
                buf.append(text[j])
                j += 1
            tokens.append(("quoted", "".join(buf)))
            i = j + 1
        elif c == ";":
            tokens.append(("delimiter", c))
            i += 1
        elif not _java_is_whitespace(c):
            j = text.find(";", i)
            j = n if j < 0 else j
            tokens.append(("unquoted", java_trim(text[i:j])))
            i = j
        else:
            i += 1
    out: list[str] = []
    for index, (kind, value) in enumerate(tokens):
        following = tokens[index + 1][0] if index + 1 < len(tokens) else None
        if kind == "quoted":
            if following is not None and following != "delimiter":
                raise JavaParseError("Could not split string. Illegal quoting.")
            out.append(value)
        elif kind == "unquoted":
            out.append(value)
        elif following == "delimiter":
            out.append("")
    return out


# ---------------------------------------------------------------------------------------------------------------
# Quartz 2.4.0: DailyCalendar ranges and CronExpression
# ---------------------------------------------------------------------------------------------------------------

SECOND, MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK, YEAR = range(7)
ALL_SPEC, NO_SPEC = 99, 98
_MONTHS = {m: i for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())}
_DAYS = {d: i + 1 for i, d in enumerate("SUN MON TUE WED THU FRI SAT".split())}
_LAST_DAY_OFFSET_RE = re.compile(r"L-[0-9]*W?")


class _Invalid(Exception):
    """Quartz would throw (ParseException, or any exception the calendars' callers catch)."""


def _char(s: str, i: int) -> str:
    if not 0 <= i < len(s):
        raise _Invalid("index out of range")
    return s[i]


def _sub(s: str, start: int, end: int | None = None) -> str:
    end = len(s) if end is None else end
    if start < 0 or end > len(s) or start > end:
        raise _Invalid("index out of range")
    return s[start:end]


def _int(text: str) -> int:
    try:
        return java_parse_int(text)
    except JavaParseError as error:
        raise _Invalid(str(error)) from None


class _Cron:
    """Quartz CronExpression's parser state, kept only as far as acceptance needs it."""

    def __init__(self) -> None:
        self.sets: list[set[int]] = [set() for _ in range(7)]
        self.last_day_of_month = False
        self.max_year = datetime.date.today().year + 100

    def build(self, expression: str) -> None:
        field = SECOND
        for token in (t for t in re.split(r"[ \t]", expression) if t):
            if field > YEAR:
                break
            expr = java_trim(token)
            if field in (DAY_OF_MONTH, DAY_OF_WEEK) and "L" in expr and len(expr) > 1 and "," in expr:
                raise _Invalid("'L' with other days")
            if field == DAY_OF_WEEK and expr.count("#") > 1:
                raise _Invalid("multiple nth days")
            for value in (v for v in expr.split(",") if v):
                self.store(0, value, field)
            field += 1
        if field <= DAY_OF_WEEK:
            raise _Invalid("Unexpected end of expression.")
        if field <= YEAR:
            self.store(0, "*", YEAR)
        month_day_given = NO_SPEC not in self.sets[DAY_OF_MONTH]
        week_day_given = NO_SPEC not in self.sets[DAY_OF_WEEK]
        if month_day_given == week_day_given:
            raise _Invalid("exactly one of day-of-month and day-of-week must be '?'")

    def store(self, pos: int, s: str, kind: int) -> int:
        incr = 0
        i = pos
        while i < len(s) and s[i] in " \t":
            i += 1
        if i >= len(s):
            return i
        c = s[i]
        if "A" <= c <= "Z" and s not in ("L", "LW") and not _LAST_DAY_OFFSET_RE.fullmatch(s):
            sub = _sub(s, i, i + 3)
            end = -1
            if kind == MONTH:
                start = _MONTHS.get(sub, -1) + 1
                if start <= 0:
                    raise _Invalid("Invalid Month value")
                if len(s) > i + 3 and s[i + 3] == "-":
                    i += 4
                    end = _MONTHS.get(_sub(s, i, i + 3), -1) + 1
                    if end <= 0:
                        raise _Invalid("Invalid Month value")
            elif kind == DAY_OF_WEEK:
                start = _DAYS.get(sub, -1)
                if start < 0:
                    raise _Invalid("Invalid Day-of-Week value")
                if len(s) > i + 3:
                    c = s[i + 3]
                    if c == "-":
                        i += 4
                        end = _DAYS.get(_sub(s, i, i + 3), -1)
                        if end < 0:
                            raise _Invalid("Invalid Day-of-Week value")
                    elif c == "#":
                        i += 4
                        if not 1 <= _int(_sub(s, i)) <= 5:
                            raise _Invalid("nth day must be 1..5")
                    elif c == "L":
                        i += 1
            else:
                raise _Invalid("Illegal characters for this position")
            self.add(start, end, 1 if end != -1 else 0, kind)
            return i + 3
        if c == "?":
            i += 1
            if i + 1 < len(s) and s[i] != " " and s[i + 1] != "\t":
                raise _Invalid("Illegal character after '?'")
            if kind not in (DAY_OF_WEEK, DAY_OF_MONTH):
                raise _Invalid("'?' only for day-of-month or day-of-week")
            if kind == DAY_OF_WEEK and not self.last_day_of_month:
                month_days = self.sets[DAY_OF_MONTH]
                if not month_days or max(month_days) == NO_SPEC:
                    raise _Invalid("'?' for day-of-month -OR- day-of-week")
            self.add(NO_SPEC, -1, 0, kind)
            return i
        if c in "*/":
            if c == "*" and i + 1 >= len(s):
                self.add(ALL_SPEC, -1, incr, kind)
                return i + 1
            if c == "/" and (i + 1 >= len(s) or s[i + 1] in " \t"):
                raise _Invalid("'/' must be followed by an integer.")
            if c == "*":
                i += 1
            if _char(s, i) == "/":
                i += 1
                if i >= len(s):
                    raise _Invalid("Unexpected end of string.")
                incr = _int(s[i:])  # Quartz reads to the end of the value
                i += 2 if incr > 10 else 1
                self.check_increment(incr, kind)
            else:
                incr = 1
            self.add(ALL_SPEC, -1, incr, kind)
            return i
        if c == "L":
            i += 1
            if kind == DAY_OF_MONTH:
                self.last_day_of_month = True
            if kind == DAY_OF_WEEK:
                self.add(7, 7, 0, kind)
            if kind == DAY_OF_MONTH and len(s) > i:
                if s[i] == "-":
                    offset, i = self.value(0, s, i + 1)
                    if offset > 30:
                        raise _Invalid("Offset from last day must be <= 30")
                if len(s) > i and s[i] == "W":
                    i += 1
            return i
        if "0" <= c <= "9":
            val = int(c)
            i += 1
            if i >= len(s):
                self.add(val, -1, -1, kind)
                return i
            if "0" <= s[i] <= "9":
                val, i = self.value(val, s, i)
            return self.check_next(i, s, val, kind)
        raise _Invalid(f"Unexpected character: {c}")

    def check_increment(self, incr: int, kind: int) -> None:
        limit = {SECOND: 59, MINUTE: 59, HOUR: 23, DAY_OF_MONTH: 31, DAY_OF_WEEK: 7, MONTH: 12}.get(kind)
        if limit is not None and incr > limit:
            raise _Invalid("increment out of range")

    def check_next(self, pos: int, s: str, val: int, kind: int) -> int:
        end, i = -1, pos
        if i >= len(s):
            self.add(val, end, -1, kind)
            return i
        c = s[pos]
        if c == "L":
            if kind != DAY_OF_WEEK:
                raise _Invalid("'L' option is not valid here.")
            if not 1 <= val <= 7:
                raise _Invalid("Day-of-Week values must be between 1 and 7")
            self.sets[kind].add(val)
            return i + 1
        if c == "W":
            if kind != DAY_OF_MONTH:
                raise _Invalid("'W' option is not valid here.")
            if val > 31:
                raise _Invalid("'W' with values larger than 31")
            self.sets[kind].add(val)
            return i + 1
        if c == "#":
            if kind != DAY_OF_WEEK:
                raise _Invalid("'#' option is not valid here.")
            i += 1
            if not 1 <= _int(_sub(s, i)) <= 5:
                raise _Invalid("nth day must be 1..5")
            self.sets[kind].add(val)
            return i + 1
        if c == "-":
            i += 1
            v = _int(_char(s, i))
            end = v
            i += 1
            if i >= len(s):
                self.add(val, end, 1, kind)
                return i
            if "0" <= s[i] <= "9":
                end, i = self.value(v, s, i)
            if i < len(s) and s[i] == "/":
                i += 1
                v2 = _int(_char(s, i))
                i += 1
                if i >= len(s):
                    self.add(val, end, v2, kind)
                    return i
                if "0" <= s[i] <= "9":
                    v3, i = self.value(v2, s, i)
                    self.add(val, end, v3, kind)
                    return i
                self.add(val, end, v2, kind)
                return i
            self.add(val, end, 1, kind)
            return i
        if c == "/":
            if i + 1 >= len(s) or s[i + 1] in " \t":
                raise _Invalid("'/' must be followed by an integer.")
            i += 1
            v2 = _int(s[i])
            i += 1
            if i >= len(s):
                self.check_increment(v2, kind)
                self.add(val, end, v2, kind)
                return i
            if "0" <= s[i] <= "9":
                v3, i = self.value(v2, s, i)
                self.check_increment(v3, kind)
                self.add(val, end, v3, kind)
                return i
            raise _Invalid(f"Unexpected character '{s[i]}' after '/'")
        self.add(val, end, 0, kind)
        return i + 1

    @staticmethod
    def value(v: int, s: str, i: int) -> tuple[int, int]:
        c = _char(s, i)
        digits = str(v)
        while "0" <= c <= "9":
            digits += c
            i += 1
            if i >= len(s):
                break
            c = s[i]
        return _int(digits), (i if i < len(s) else i + 1)

    def add(self, val: int, end: int, incr: int, kind: int) -> None:
        bounds = {SECOND: (0, 59), MINUTE: (0, 59), HOUR: (0, 23), DAY_OF_MONTH: (1, 31), MONTH: (1, 12)}
        if kind in bounds:
            low, high = bounds[kind]
            exempt = (ALL_SPEC, NO_SPEC) if kind == DAY_OF_MONTH else (ALL_SPEC,)
            if (val < low or val > high or end > high) and val not in exempt:
                raise _Invalid("value out of range")
        elif kind == DAY_OF_WEEK and (val == 0 or val > 7 or end > 7) and val not in (ALL_SPEC, NO_SPEC):
            raise _Invalid("Day-of-Week values must be between 1 and 7")
        values = self.sets[kind]
        if incr in (0, -1) and val != ALL_SPEC:
            values.add(val if val != -1 else NO_SPEC)
            return
        start, stop = val, end
        if val == ALL_SPEC and incr <= 0:
            incr = 1
            values.add(ALL_SPEC)
        first, last = {SECOND: (0, 59), MINUTE: (0, 59), HOUR: (0, 23), DAY_OF_MONTH: (1, 31), MONTH: (1, 12),
                       DAY_OF_WEEK: (1, 7), YEAR: (1970, self.max_year)}[kind]
        if stop == -1:
            stop = last
        if start in (-1, ALL_SPEC):
            start = first
        wrap = -1
        if stop < start:
            if kind == YEAR:
                raise _Invalid("Start year must be less than stop year")
            wrap = {SECOND: 60, MINUTE: 60, HOUR: 24, MONTH: 12, DAY_OF_WEEK: 7, DAY_OF_MONTH: 31}[kind]
            stop += wrap
        if kind == YEAR:
            return  # the years themselves play no part in what is accepted
        for value in range(start, stop + 1, incr):
            if wrap == -1:
                values.add(value)
            else:
                folded = value % wrap
                values.add(wrap if folded == 0 and kind in (MONTH, DAY_OF_WEEK, DAY_OF_MONTH) else folded)


def is_quartz_cron(expression: str) -> bool:
    """new CronExpression(expression) succeeds (Quartz 2.4.0)."""
    try:
        _Cron().build(expression.upper())
    except Exception:  # noqa: BLE001 - the autoscaler treats any exception from Quartz as "not a cron expression"
        return False
    return True


def _time_of_day(text: str) -> tuple[int, int, int, int]:
    parts = [p for p in text.split(":") if p]  # StringTokenizer: empty parts vanish
    if not 2 <= len(parts) <= 4:
        raise _Invalid(f"Invalid time string '{text}'")
    values = [_int(p) for p in parts] + [0] * (4 - len(parts))
    for value, high in zip(values, (23, 59, 59, 999)):
        if not 0 <= value <= high:
            raise _Invalid("out of range")
    return tuple(values)  # type: ignore[return-value]


def is_quartz_daily(expression: str) -> bool:
    """The autoscaler's daily form: `start-end` both HH:mm[:ss[:SSS]], start before end (DailyCalendar)."""
    parts = java_split(expression, "-")
    if len(parts) != 2:
        return False
    try:
        return _time_of_day(parts[0]) < _time_of_day(parts[1])
    except _Invalid:
        return False


EXCLUDED_PERIODS_KEY = "job.autoscaler.excluded.periods"


def excluded_period_error(expression: str) -> str | None:
    """The autoscaler's verdict on one excluded period expression: None if valid, else its message."""
    parts = java_split(expression, "&&")
    if len(parts) > 2:
        return f"Invalid value {expression} in the autoscaler config {EXCLUDED_PERIODS_KEY}"
    daily = cron = False
    for part in parts:
        part = java_strip(part)
        is_daily, is_cron = is_quartz_daily(part), is_quartz_cron(part)
        daily, cron = daily or is_daily, cron or is_cron
        if not is_daily and not is_cron:
            return (f"Invalid value {expression} in the autoscaler config {EXCLUDED_PERIODS_KEY}, the value is "
                    "neither a valid daily expression nor a valid cron expression")
    if len(parts) == 2 and not (daily and cron):
        return (f"Invalid value {expression} in the autoscaler config {EXCLUDED_PERIODS_KEY}, the value can not be "
                "configured as dailyExpression && dailyExpression or cronExpression && cronExpression")
    return None


# ---------------------------------------------------------------------------------------------------------------
# jarURI: java.net.URI (scheme, server-based host) and InetAddress address classes
# ---------------------------------------------------------------------------------------------------------------

_ALPHA = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGIT = set("0123456789")
_ALPHANUM = _ALPHA | _DIGIT
_MARK = set("-_.!~*'()")
_UNRESERVED = _ALPHANUM | _MARK
_RESERVED = set(";/?:@&=+$,[]")
_URIC = _RESERVED | _UNRESERVED
_PATH = _UNRESERVED | set(":@&=+$,") | set(";/")
_USERINFO = _UNRESERVED | set(";:&=+$,")
_REG_NAME = _UNRESERVED | set("$,;:@&=+")
_SERVER = _USERINFO | _ALPHANUM | set("-.:@[]")
_SCHEME = _ALPHANUM | set("+-.")


@dataclass(frozen=True)
class JavaUri:
    scheme: str | None
    host: str | None


class UriSyntaxError(ValueError):
    """URISyntaxException; str() is its getMessage()."""


def _scan_chars(text: str, start: int, end: int, allowed: set[str], escaped: bool) -> int:
    """URI.Parser.scan with a character class; `escaped` = %XX and visible non-ASCII characters pass too."""
    i = start
    while i < end:
        c = text[i]
        if c in allowed:
            i += 1
        elif escaped and c == "%":
            if i + 3 <= end and all(ch in "0123456789abcdefABCDEF" for ch in text[i + 1:i + 3]):
                i += 3
            else:
                raise UriSyntaxError(f"Malformed escape pair at index {i}: {text}")
        elif escaped and ord(c) > 128 and not unicodedata.category(c).startswith(("Z", "Cc")):
            i += 1
        else:
            break
    return i


def _check(text: str, start: int, end: int, allowed: set[str], what: str, escaped: bool = True) -> None:
    stop = _scan_chars(text, start, end, allowed, escaped)
    if stop < end:
        raise UriSyntaxError(f"Illegal character in {what} at index {stop}: {text}")


def _scan_until(text: str, start: int, end: int, stops: str) -> int:
    i = start
    while i < end and text[i] not in stops:
        i += 1
    return i


def _fail(text: str, reason: str, index: int) -> UriSyntaxError:
    return UriSyntaxError(f"{reason} at index {index}: {text}")


def _parse_host(text: str, start: int, end: int) -> str:
    """URI.Parser.parseServer on the authority text[start:end]: the host (an IPv6 reference with its brackets, an
    IPv4 address or a host name). UriSyntaxError when the authority is not server-based."""
    p = start
    at = _scan_until(text, p, end, "@")
    if at < end:
        _check(text, p, at, _USERINFO, "user info")
        p = at + 1
    if p < end and text[p] == "[":
        close = _scan_until(text, p + 1, end, "]")
        if close >= end:
            raise _fail(text, "Expected closing bracket for IPv6 address", close)
        literal = text[p + 1:close].split("%")[0]
        try:
            ipaddress.IPv6Address(literal)
        except ValueError:
            raise _fail(text, "Malformed IPv6 address", p + 1) from None
        host, q = text[p:close + 1], close + 1
    else:
        match = _IPV4_RE.match(text, p, end)
        if match and all(int(g) <= 255 for g in match.groups()) and (match.end() == end or text[match.end()] == ":"):
            host, q = match.group(0), match.end()
        else:
            q, last = p, -1
            while q < end:  # domainlabel ("." domainlabel)* ["."]
                label = _LABEL_RE.match(text, q, end)
                if not label:
                    break
                if label.group(0).endswith("-"):
                    raise _fail(text, "Illegal character in hostname", label.end() - 1)
                last, q = q, label.end()
                if q < end and text[q] == ".":
                    q += 1
                else:
                    break
            if q < end and text[q] != ":":
                raise _fail(text, "Illegal character in hostname", q)
            if last < 0:
                raise _fail(text, "Expected hostname", p)
            if last > p and text[last] not in _ALPHA:  # the top label starts with a letter
                raise _fail(text, "Illegal character in hostname", last)
            host = text[p:q]
    if q < end and text[q] == ":":
        port_end = _scan_until(text, q + 1, end, "/")
        _check(text, q + 1, port_end, _DIGIT, "port number", escaped=False)
        port = text[q + 1:port_end]
        if port and (len(port) > 10 or int(port) > INT_MAX):
            raise _fail(text, "Malformed port number", q + 1)
        q = port_end
    if q < end:
        raise _fail(text, "Expected port number", q)
    return host


_IPV4_RE = re.compile(r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})", re.ASCII)
_LABEL_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")


def parse_java_uri(text: str) -> JavaUri:
    """new URI(text): its scheme and getHost(); UriSyntaxError with Java's message when it throws."""
    n = len(text)
    colon = 0
    while colon < n and text[colon] not in "/?#:":
        colon += 1
    scheme = None
    p = 0
    if colon < n and text[colon] == ":":
        if colon == 0:
            raise UriSyntaxError(f"Expected scheme name at index 0: {text}")
        if text[0] not in _ALPHA:
            raise UriSyntaxError(f"Illegal character in scheme name at index 0: {text}")
        _check(text, 1, colon, _SCHEME, "scheme name", escaped=False)
        scheme, p = text[:colon], colon + 1
        if not text.startswith("/", p):
            end = _scan_until(text, p, n, "#")
            if end <= p:
                raise UriSyntaxError(f"Expected scheme-specific part at index {p}: {text}")
            _check(text, p, end, _URIC, "opaque part")
            if end < n:
                _check(text, end + 1, n, _URIC, "fragment")
            return JavaUri(scheme, None)
    host = None
    if text.startswith("//", p):
        p += 2
        end = _scan_until(text, p, n, "/?#")
        if end > p:
            bracketed = "]" in text[p:end]
            server_chars = _scan_chars(text, p, end, _SERVER | ({"%"} if bracketed else set()), True) == end
            registry_chars = _scan_chars(text, p, end, _REG_NAME, True) == end
            if server_chars:
                try:
                    host = _parse_host(text, p, end)
                except UriSyntaxError:
                    if not registry_chars:
                        raise
                    # else a registry-based authority: Java keeps it and getHost() is null
            elif not registry_chars:
                raise _fail(text, "Illegal character in authority", p)
            p = end
        elif end >= n:
            raise UriSyntaxError(f"Expected authority at index {p}: {text}")
    end = _scan_until(text, p, n, "?#")
    _check(text, p, end, _PATH, "path")
    p = end
    if p < n and text[p] == "?":
        end = _scan_until(text, p + 1, n, "#")
        _check(text, p + 1, end, _URIC, "query")
        p = end
    if p < n and text[p] == "#":
        _check(text, p + 1, n, _URIC, "fragment")
    return JavaUri(scheme, host)


def java_address_class(host: str) -> str | None:
    """For a literal address (as InetAddress.getByName reads it without DNS): "loopback", "link-local",
    "site-local", "wildcard" or "multicast" when Java's isXxxAddress says so, "" for any other literal, and None
    when the host is a name (only the cluster's resolver can tell)."""
    text = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    address: ipaddress.IPv4Address | ipaddress.IPv6Address
    if host.startswith("["):
        address = ipaddress.IPv6Address(text.split("%")[0])
        if address.ipv4_mapped is not None:  # Java turns ::ffff:a.b.c.d into an Inet4Address
            address = address.ipv4_mapped
    elif re.fullmatch(r"[0-9]{1,3}(\.[0-9]{1,3}){3}", text) and all(int(part) <= 255 for part in text.split(".")):
        address = ipaddress.IPv4Address(".".join(str(int(part)) for part in text.split(".")))
    elif re.fullmatch(r"[0-9]{1,10}", text) and int(text) <= 0xFFFFFFFF:  # Java's one-number IPv4 form
        address = ipaddress.IPv4Address(int(text))
    else:
        return None
    if isinstance(address, ipaddress.IPv4Address):
        first, second = address.packed[0], address.packed[1]
        checks = (("loopback", first == 127), ("link-local", first == 169 and second == 254),
                  ("site-local", first == 10 or (first == 172 and 16 <= second <= 31)
                   or (first == 192 and second == 168)),
                  ("wildcard", int(address) == 0), ("multicast", 224 <= first <= 239))
    else:
        value = int(address)
        checks = (("loopback", value == 1), ("link-local", value >> 118 == 0x3FA),
                  ("site-local", value >> 118 == 0x3FB), ("wildcard", value == 0), ("multicast", value >> 120 == 0xFF))
    return next((label for label, hit in checks if hit), "")


def java_hash_set_order(values: list[str]) -> list[str]:
    """The iteration order of a java.util.HashSet filled with these strings in this order (for messages that
    print one)."""
    unique = list(dict.fromkeys(values))
    capacity = 16
    while len(unique) > capacity * 0.75:
        capacity *= 2

    def bucket(s: str) -> int:
        units = s.encode("utf-16-be")
        h = 0
        for k in range(0, len(units), 2):  # String.hashCode over UTF-16 code units
            h = (31 * h + (units[k] << 8 | units[k + 1])) & 0xFFFFFFFF
        return (h ^ (h >> 16)) & (capacity - 1)

    return sorted(unique, key=lambda s: bucket(s))  # stable: insertion order within a bucket
