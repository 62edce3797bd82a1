"""flinkplat.flink.operator_syntax: the values the operator 1.15.0 validator parses itself, read as its Java code
reads them. The expected values below were produced by the Java libraries themselves (Quartz 2.4.0, java.net.URI,
java.util.HashSet, the operator's validator) through scripts/operator_validator; the acceptance tests re-check them
on seeded mutations whenever Java is available."""

from __future__ import annotations

import re

import pytest

from flinkplat.flink.operator_syntax import (
    BigDecimal, JavaParseError, UriSyntaxError, ephemeral_storage_error, excluded_period_error, is_quartz_cron,
    is_quartz_daily, java_address_class, java_hash_set_order, java_parse_double, java_parse_int, java_split,
    parse_java_uri, quantity_amount, resource_memory_bytes, split_flink_list,
)

GI = 1 << 30


@pytest.mark.parametrize("text, expected", [
    ("2048m", 2048 << 20), ("4g", 4 * GI), ("2Gi", 2 * GI), ("2gib", 2 * GI), ("2 Gi", 2 * GI), ("4096MIB", 4096 << 20),
    ("2g b", 2_000_000_000), ("2e9", 2_000_000_000), ("2K", 2048), ("٢Gi", 2 * GI), ("-0Gi", 0), ("1Pi", 1 << 50),
])
def test_resource_memory_the_operator_accepts(text, expected):
    assert resource_memory_bytes(text) == expected


@pytest.mark.parametrize("text, message", [
    ("1.5Gi", "Memory size unit '.0' does not match"),
    ("1E-3", "Memory size unit '.001' does not match"),
    ("8Ei", "Memory size unit '.223372036854776e+18' does not match"),
    ("1.5K", "Invalid quantity format passed to parse"),
    ("9223372036854775808", "The value '9223372036854775808' cannot be re represented as 64bit number"),
    ("", "Invalid quantity string format passed."),
    ("1" * 6000 + "Gi", "cannot be re represented as 64bit number"),  # no Python int-size limit on the way
])
def test_resource_memory_the_operator_refuses(text, message):
    with pytest.raises(JavaParseError, match=re.escape(message)):
        resource_memory_bytes(text)


def test_quantity_amounts_keep_java_bigdecimal_scale():
    assert str(quantity_amount("1.5Gi")) == "1610612736.0"
    assert str(quantity_amount("1E")) == "1.000000000000000E+18"  # 10^18 rounded to 16 digits (DECIMAL64)
    assert str(quantity_amount("1Ei")) == "1.152921504606847E+18"
    assert str(quantity_amount(".5Gi")) == "536870912.0"  # a leading "." gets a "0"
    assert str(BigDecimal.of(15, 7)) == "0.0000015" and str(BigDecimal.of(15, 8)) == "1.5E-7"


@pytest.mark.parametrize("text, message", [
    ("10Gi", None), ("1.5Gi", None), ("-1Gi", None), ("500m", None), ("1e999999999", None), ("１Gi", None),
    ("Gi", "null"), ("+Gi", "No digits found."), ("1..5Gi", "Character array contains more than one decimal point."),
    ("4e9Gi", "Invalid quantity string format passed"), ("2Mi5", 'For input string: "i5"'),
    ("1e9999999999", 'For input string: "9999999999"'),
    ("1,5Gi", "Character , is neither a decimal digit number, decimal point, nor \"e\" notation exponential mark."),
])
def test_ephemeral_storage(text, message):
    assert ephemeral_storage_error(text) == message


@pytest.mark.parametrize("part, cron, daily", [
    ("* * 9-11,14-16 * * ?", True, False), ("0 0 0 * * *", False, False), ("0 0 0 ? * ?", False, False),
    ("L * * * * ?", True, False), ("0 0 0 ? * *X", True, False), ("0 0 0 ? * 98#1", False, False),
    ("0 0 0 98 * *", True, False), ("0 15 10 ? * 6#6", False, False), ("0 0 0 L-31 * ?", False, False),
    ("0 0 0 L-30W * ?", True, False), ("0 0 0 32W * ?", False, False), ("0 0 0 ? * */-3", True, False),
    ("0 0 0 ? * */٣", True, False), ("0 0 0 * * ? 2200/1", False, False), ("0 0 0 * * ? 2030-2020", False, False),
    ("0 0 0 5-3 * ?", True, False), ("0 0 0 ? * SAT-MON", True, False), ("0 0 0 1,L * ?", False, False),
    ("0 0 0 ? * MON#", False, False), ("0 0 0 ? * 1/8", False, False), ("0 0 0 ? x", False, False),
    ("0 0 0 ?x * *", True, False), ("0\t0\t0\t?\t*\t*", True, False), ("0 0 0 ? * * 2020 extra tokens", True, False),
    ("9:00-17:00", False, True), ("17:00-09:00", False, False), ("9:00-9:00", False, False), ("9-10", False, False),
    ("9:00:00:500-10:00", False, True), ("24:00-23:00", False, False), ("9::30-10:00", False, True),
    ("+9:00-10:00", False, True), ("٩:00-10:00", False, True), ("9:00-10:00-", False, True),
    ("-9:00-10:00", False, False), ("9:00--10:00", False, False), ("1:2:3:4:5-6:7", False, False),
    ("", False, False), (" 9:00-10:00", False, False),
])
def test_quartz_reading_of_excluded_period_parts(part, cron, daily):
    assert (is_quartz_cron(part), is_quartz_daily(part)) == (cron, daily)


def test_excluded_period_expressions():
    assert excluded_period_error("9:30:30-10:50:20 && * * * ? * 2,5") is None
    assert excluded_period_error(" 9:00-10:00 ") is None  # each part is stripped first
    assert excluded_period_error("* * * ? * 2-6 && 9:00-10:00 &&") is None  # trailing empty parts vanish (split)
    assert excluded_period_error("9:00-10:00 && 11:00-12:00").endswith(
        "the value can not be configured as dailyExpression && dailyExpression or cronExpression && cronExpression")
    assert excluded_period_error("a && b && c") == (
        "Invalid value a && b && c in the autoscaler config job.autoscaler.excluded.periods")


def test_flink_list_splitting():
    assert split_flink_list("a; b ;;'c;d';\"e\"\"f\"") == ["a", "b", "", "c;d", 'e"f']
    assert split_flink_list("") == [] and split_flink_list(";a") == ["a"]
    for bad in ("'open", "'a'b"):
        with pytest.raises(JavaParseError):
            split_flink_list(bad)


def test_java_primitives():
    assert java_parse_int("+٣") == 3 and java_parse_int("-2147483648") == -(2**31)
    for bad in ("", "+", "2147483648", "1_0", " 1", "9" * 5000):
        with pytest.raises(JavaParseError):
            java_parse_int(bad)
    assert java_split("-9:00-10:00--", "-") == ["", "9:00", "10:00"] and java_split("", "-") == [""]
    assert java_split("-", "-") == []
    assert java_parse_double(" 0x1p3 ") == 8.0 and java_parse_double("1e400") == float("inf")
    assert java_parse_double("0x1p5000") == float("inf")  # a hex float beyond double range: Infinity, not a crash
    for bad in ("nan", "inf", "1_0", "½", "", "1.5e"):
        with pytest.raises(JavaParseError):
            java_parse_double(bad)


@pytest.mark.parametrize("uri, scheme, host", [
    ("https://repo_1.acme.com/a.jar", "https", None), ("https://[::1]:8443/a.jar", "https", "[::1]"),
    ("https:a.jar", "https", None), ("https://user@host.com:80/a?x#y", "https", "host.com"),
    ("https://a-.b.com/a", "https", None), ("https://a.1b/a", "https", None),
    ("https://2130706433/a", "https", "2130706433"), ("https://h%41.com/a", "https", None), ("//host/a.jar", None, "host"),
])
def test_java_uri_scheme_and_host(uri, scheme, host):
    parsed = parse_java_uri(uri)
    assert (parsed.scheme, parsed.host) == (scheme, host)


@pytest.mark.parametrize("uri, message", [
    ("https://www.example.com/a b.jar", "Illegal character in path at index 25: https://www.example.com/a b.jar"),
    ("https://ho st/a", "Illegal character in authority at index 8: https://ho st/a"),
])
def test_java_uri_syntax_errors(uri, message):
    with pytest.raises(UriSyntaxError) as error:
        parse_java_uri(uri)
    assert str(error.value) == message


@pytest.mark.parametrize("host, kind", [
    ("127.0.0.1", "loopback"), ("10.0.0.1", "site-local"), ("172.16.0.1", "site-local"), ("172.32.0.1", ""),
    ("192.168.1.1", "site-local"), ("169.254.1.1", "link-local"), ("0.0.0.0", "wildcard"), ("224.0.0.1", "multicast"),
    ("100.64.0.1", ""), ("192.0.2.1", ""), ("[::1]", "loopback"), ("[::]", "wildcard"), ("[fe80::1]", "link-local"),
    ("[fec0::1]", "site-local"), ("[fc00::1]", ""), ("[ff02::1]", "multicast"), ("[::ffff:127.0.0.1]", "loopback"),
    ("2130706433", "loopback"), ("www.example.com", None), ("9" * 30, None),
])
def test_java_address_classes(host, kind):
    assert java_address_class(host) == kind


def test_java_hash_set_order():
    # What `Stream.of(...).collect(Collectors.toSet()).toString()` prints, resize included.
    assert java_hash_set_order(["https", "s3", "hdfs", "http", "local", "file"]) == [
        "s3", "file", "hdfs", "http", "https", "local"]
    assert java_hash_set_order([*"abcdefghijklmnopq", "gs", "abfss", "wasbs", "oss", "s3a", "s3p", "viewfs"]) == [
        "abfss", "wasbs", "s3a", "a", "viewfs", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "gs", "m", "n",
        "oss", "o", "p", "q", "s3p"]
