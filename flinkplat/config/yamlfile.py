"""Reading a YAML file the user wrote (stack files, Flink config files) into plain JSON-like data, so that any bytes
get either data or a readable problem with a location — never an exception from deep inside a parser.

What is refused, and why:
- bytes that are not UTF-8 (a UTF-8 byte-order mark is accepted): stack files are UTF-8, what `pulumi config` writes;
- nesting deeper than `MAX_DEPTH`, a cycle of anchors and aliases (`&a [*a]`), and aliasing that expands the
  document beyond `MAX_EXPANDED_NODES` (a "billion laughs"): each would exhaust the stack or the memory;
- duplicate keys in one mapping: YAML forbids them, and PyYAML would silently keep the last one (a setting lost
  without a word);
- `!!binary`, `!!set`, `!!omap`, `!!pairs`: Pulumi config is JSON, which has none of them;
- after parsing (see `value_problems`): keys that are not text (`1:`, `true:`, `null:`), strings with a lone
  UTF-16 surrogate (`"\\ud800"`, not a character: no JSON or UTF-8 encoder accepts it), non-finite numbers
  (`.inf`, `.nan`) and integers outside 64 bits (Pulumi and Kubernetes numbers are at most 64-bit).

Unquoted dates (`expires: 2027-03-31`) stay the text they are written as, the form Pulumi config hands the program;
the schema reads dates from text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import yaml
from yaml.events import (AliasEvent, CollectionEndEvent, MappingStartEvent, NodeEvent, ScalarEvent,
                         SequenceStartEvent)
from yaml.nodes import CollectionNode, MappingNode

MAX_DEPTH = 64
"""Deepest nesting of mappings/sequences read (a stack file needs about 10)."""
MAX_ALIAS_EXPANSION = 100_000
"""Most values aliases may add to a document once written out (reusing a block of defaults in a thousand clusters
adds about 10,000; a "billion laughs" adds 10^9)."""
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1

Path = tuple[Any, ...]  # keys (str) and list indexes (int) from the document root


@dataclass(frozen=True)
class YamlProblem(Exception):
    """Something in the file that cannot be read; `path` locates it (keys/indexes), `where` is 'line L, column C'."""

    path: Path
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class OversizedInt(str):
    """An integer literal outside 64 bits, kept as its text (converting a 5,000-digit literal would itself fail)."""


class _Refusal(yaml.MarkedYAMLError):
    """Valid YAML this reader refuses (limits, cycles, duplicate keys, tags); its message carries the fix."""


def _where(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "start of file"


# ---------------------------------------------------------------------------------------------------------------
# Bytes -> text
# ---------------------------------------------------------------------------------------------------------------

_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe", "UTF-16"),
         (b"\xfe\xff", "UTF-16"))


def decode_utf8(data: bytes) -> str:
    """The file's text; YamlProblem (with line and column) if it is not UTF-8."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            raise YamlProblem((), "start of file", f"the file is {encoding} (it starts with a {encoding} byte-order "
                              "mark); save it as UTF-8, e.g. iconv -f " f"{encoding} -t UTF-8")
    if b"\x00" in data:  # UTF-16/32 without a byte-order mark (YAML allows no NUL character anyway)
        start = data.index(b"\x00")
        line = data.count(b"\n", 0, start) + 1
        column = start - (data.rfind(b"\n", 0, start) + 1) + 1
        raise YamlProblem((), f"line {line}, column {column}",
                          "the file contains NUL bytes: it looks like UTF-16 or UTF-32 (without a byte-order mark); "
                          "save it as UTF-8, e.g. iconv -f UTF-16 -t UTF-8")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        start = error.start
        line = data.count(b"\n", 0, start) + 1
        column = start - (data.rfind(b"\n", 0, start) + 1) + 1
        readable = data.decode("utf-8-sig", errors="replace")
        path = _path_at(readable, len(data[:start].decode("utf-8-sig")))
        raise YamlProblem(path, f"line {line}, column {column}",
                          f"byte 0x{data[start]:02x} is not UTF-8 (the file looks like Latin-1/Windows-1252 or "
                          "another legacy encoding); save it as UTF-8, e.g. iconv -f LATIN1 -t UTF-8") from None


# ---------------------------------------------------------------------------------------------------------------
# Text -> data
# ---------------------------------------------------------------------------------------------------------------


class _Limits:
    """The limits above, applied while composing nodes from parser events and constructing mappings (mixed into
    a loader before its Composer and SafeConstructor)."""

    def _init_limits(self) -> None:
        self._depth = 0
        self._open_anchors: set[str] = set()
        self._alias_values = 0  # values the aliases so far add once written out
        self._sizes: dict[int, int] = {}

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            if event.anchor in self._open_anchors:
                raise _Refusal(None, None, f"alias *{event.anchor} refers to the value that contains it (a "
                                    "cycle: the value would be infinite); write the value out instead",
                                    event.start_mark)
            node = super().compose_node(parent, index)
            self._alias_values += _expanded_size(node, self._sizes, MAX_ALIAS_EXPANSION + 1)
            if self._alias_values > MAX_ALIAS_EXPANSION:
                raise _Refusal(None, None, f"aliases add more than {MAX_ALIAS_EXPANSION:,} values to the "
                                    "document (an alias bomb?); write the repeated values out or reuse fewer of them",
                                    event.start_mark)
            return node
        if self._depth >= MAX_DEPTH:
            raise _Refusal(None, None, f"nested more than {MAX_DEPTH} levels deep; a stack file needs about "
                                "10 — flatten it", event.start_mark)
        anchor = event.anchor if isinstance(event, NodeEvent) else None
        opened = anchor is not None and anchor not in self._open_anchors
        if opened:
            self._open_anchors.add(anchor)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1
            if opened:
                self._open_anchors.discard(anchor)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, MappingNode):
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge" or isinstance(key_node, CollectionNode):
                    continue
                identity = (key_node.tag, key_node.value)
                if identity in seen:
                    raise _Refusal(None, None, f"duplicate key '{key_node.value}' (first at "
                                           f"{_where(seen[identity])}); YAML allows a key once per mapping — keep "
                                           "one", key_node.start_mark)
                seen[identity] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


class _Loader(_Limits, yaml.SafeLoader):
    """SafeLoader with the limits above; plain Python throughout. Its errors are the ones reported (see load_yaml)."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._init_limits()


try:
    from yaml.cyaml import CParser as _CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _CParser = None


if _CParser is not None:
    class _FastLoader(_Limits, yaml.composer.Composer, yaml.constructor.SafeConstructor, yaml.resolver.Resolver,
                      _CParser):
        """libyaml's C scanner and parser (the pure-Python ones take about a second on a 1,000-job stack file)
        feeding the same Python composer, limits, resolver and constructors as `_Loader`: the events are the same,
        so is the data. The C parser's own node composer is not used (the Python one, before it in the MRO, is
        what the limits hook into)."""

        def __init__(self, stream: str):
            _CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            self._init_limits()
else:  # pragma: no cover - PyYAML always ships with libyaml in this project's environment
    _FastLoader = None


def _children(node: Any) -> list[Any]:
    if isinstance(node, MappingNode):
        return [child for pair in node.value for child in pair]
    return list(node.value) if isinstance(node, CollectionNode) else []


def _expanded_size(node: Any, memo: dict[int, int], limit: int) -> int:
    """Values the node stands for once every alias is written out (memoised: aliases share nodes)."""
    known = memo.get(id(node))
    if known is not None:
        return known
    size = 1
    for child in _children(node):
        size += _expanded_size(child, memo, limit)
        if size > limit:
            break
    memo[id(node)] = size
    return size


def _construct_text(loader: _Loader, node: Any) -> str:
    return loader.construct_scalar(node)


def _construct_int(loader: _Loader, node: Any) -> int | OversizedInt:
    text = str(node.value)
    if len(text.replace("_", "")) > 40:  # far beyond 64 bits in any base; don't convert it
        return OversizedInt(text)
    value = yaml.SafeLoader.construct_yaml_int(loader, node)
    return value if INT64_MIN <= value <= INT64_MAX else OversizedInt(text)


def _unsupported(kind: str, instead: str) -> Callable[[_Loader, Any], Any]:
    def refuse(loader: _Loader, node: Any) -> Any:
        raise _Refusal(None, None, f"a YAML {kind} value cannot be stack configuration (Pulumi config is "
                               f"JSON); {instead}", node.start_mark)
    return refuse


for _loader_class in (_Loader, _FastLoader):
    if _loader_class is None:
        continue
    _loader_class.add_constructor("tag:yaml.org,2002:timestamp", _construct_text)
    _loader_class.add_constructor("tag:yaml.org,2002:int", _construct_int)
    _loader_class.add_constructor("tag:yaml.org,2002:binary", _unsupported("!!binary", "write the text itself"))
    _loader_class.add_constructor("tag:yaml.org,2002:set", _unsupported("!!set", "write a list"))
    _loader_class.add_constructor("tag:yaml.org,2002:omap", _unsupported("!!omap", "write a mapping"))
    _loader_class.add_constructor("tag:yaml.org,2002:pairs", _unsupported("!!pairs", "write a mapping or a list"))


def _path_at(text: str, index: int) -> Path:
    """The key path of the value being read at character `index`, replayed from the parser's events up to there.
    A mapping frame alternates key -> value: a scalar value completes at once, a collection value at its end."""
    frames: list[dict[str, Any]] = []

    def node_starts(key: Any, collection: bool) -> None:
        if not frames:
            return
        frame = frames[-1]
        if frame["kind"] == "seq":
            frame["at"] += 1
        elif frame["expecting_key"]:
            frame["at"], frame["expecting_key"], frame["complex_key"] = key, False, collection
        elif not collection:
            frame["expecting_key"] = True

    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if event.start_mark is not None and event.start_mark.index > index:
                break
            if isinstance(event, (ScalarEvent, AliasEvent)):
                node_starts(event.value if isinstance(event, ScalarEvent) else f"*{event.anchor}", False)
                if event.end_mark is not None and event.end_mark.index > index:  # the problem is in this value
                    if frames and frames[-1]["kind"] == "map" and frames[-1]["expecting_key"]:
                        frames[-1]["expecting_key"] = False
                    break
            elif isinstance(event, (MappingStartEvent, SequenceStartEvent)):
                node_starts("?", True)
                is_map = isinstance(event, MappingStartEvent)
                frames.append({"kind": "map" if is_map else "seq", "at": None if is_map else -1,
                               "expecting_key": is_map, "complex_key": False})
            elif isinstance(event, CollectionEndEvent) and frames:
                frames.pop()
                if frames and frames[-1]["kind"] == "map":
                    parent = frames[-1]
                    if parent["complex_key"]:
                        parent["complex_key"] = False
                    else:
                        parent["expecting_key"] = True
    except (yaml.YAMLError, RecursionError, ValueError):
        pass
    return tuple(frame["at"] for frame in frames
                 if (frame["kind"] == "seq" and frame["at"] >= 0) or (frame["kind"] == "map" and not frame["expecting_key"]))


def _load_fast(text: str) -> tuple[bool, Any]:
    """(True, data) read with libyaml's parser, or (False, None) for anything it cannot read: then the pure-Python
    loader reads the text again, so every problem is reported in its words, with its marks and key paths.
    Text with a tab is left to the pure-Python loader: libyaml accepts tabs where PyYAML refuses them
    (`key: <tab>`), the one difference the fuzz test's thousands of generated files show."""
    if _FastLoader is None or "\t" in text:
        return False, None
    loader = None
    try:
        loader = _FastLoader(text)
        return True, loader.get_single_data()
    except Exception:  # noqa: BLE001 - any failure: the pure-Python loader below gives the answer
        return False, None
    finally:
        if loader is not None:
            loader.dispose()


def load_yaml(text: str) -> Any:
    """Parse one YAML document with the limits above; YamlProblem (with the key path) if it cannot be read."""
    read, data = _load_fast(text)
    if read:
        return data
    loader = None
    try:
        loader = _Loader(text)  # the reader already refuses characters YAML does not allow
        return loader.get_single_data()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        detail = " ".join(part for part in (error.context, error.problem) if part)
        if not isinstance(error, _Refusal):  # the parser's own words say what, not how to fix it
            detail += ("; a key must be a plain name, not a list or mapping" if "unhashable key" in detail else
                       "; check the indentation, the quoting and the ':' after each key on and just before this line")
        path = _path_at(text, mark.index) if mark is not None else ()
        raise YamlProblem(path, _where(mark), f"not valid YAML: {detail}") from None
    except yaml.reader.ReaderError as error:  # a character YAML does not allow (control characters)
        line = text.count("\n", 0, error.position) + 1
        column = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
        readable = yaml.reader.Reader.NON_PRINTABLE.sub(" ", text)  # same length: positions stay
        raise YamlProblem(_path_at(readable, error.position), f"line {line}, column {column}",
                          f"not valid YAML: character #x{error.character:04x} is not allowed in YAML; remove it "
                          "(or write it as an escape inside a double-quoted string)") from None
    except yaml.YAMLError as error:
        raise YamlProblem((), "whole file", f"not valid YAML: {error}") from None
    except RecursionError:  # a shape the limits above do not foresee: still an answer, not a traceback
        raise YamlProblem((), "whole file", f"nested too deeply to read (the limit is {MAX_DEPTH} levels)") from None
    finally:
        if loader is not None:
            loader.dispose()


# ---------------------------------------------------------------------------------------------------------------
# Data -> problems a JSON/Pulumi value cannot have
# ---------------------------------------------------------------------------------------------------------------


def _has_surrogate(text: str) -> str | None:
    for char in text:
        if "\ud800" <= char <= "\udfff":
            return f"\\u{ord(char):04x}"
    return None


def _key_kind(key: Any) -> str:
    if key is None:
        return "null (YAML reads null and ~ as no value)"
    if isinstance(key, bool):
        return "a boolean (YAML reads true/false/yes/no/on/off as booleans)"
    if isinstance(key, (int, float, OversizedInt)):
        return "a number"
    return f"a {type(key).__name__}"


def _shown_key(key: Any) -> str:
    if key is None:
        return "null"
    if isinstance(key, bool):
        return str(key).lower()
    return short(key)


def short(value: Any, limit: int = 40) -> str:
    """A value for a message: long numbers and strings are cut (a 300-digit number is not worth repeating)."""
    if isinstance(value, OversizedInt):
        digits = sum(c.isdigit() for c in value)
        return f"{value[:12]}… ({digits} digits)" if len(value) > 24 else str(value)
    if isinstance(value, int) and not isinstance(value, bool) and not -10**40 < value < 10**40:
        return f"a {value.bit_length()}-bit number"  # str() of a huge int can itself fail (Python's digit limit)
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def value_problems(data: Any, path: Path = ()) -> Iterator[tuple[Path, str]]:
    """Everything in parsed data that no JSON/Pulumi value can be, with its path."""
    stack: list[tuple[Path, Any]] = [(path, data)]
    while stack:
        here, value = stack.pop()
        if isinstance(value, dict):
            for key, item in reversed(list(value.items())):
                if not isinstance(key, str) or isinstance(key, OversizedInt):
                    yield (*here, _shown_key(key)), (f"key {_shown_key(key)} is {_key_kind(key)}, not text; keys "
                                                     f"are names: quote it ('{_shown_key(key)}': ...) or remove it")
                    continue
                surrogate = _has_surrogate(key)
                if surrogate:
                    yield (*here, key.encode("utf-8", "backslashreplace").decode()), (
                        f"the key contains {surrogate}, half of a UTF-16 surrogate pair, which is not a character; "
                        "write the character itself (or a \\U0001XXXX escape)")
                    continue
                stack.append(((*here, key), item))
        elif isinstance(value, list):
            for index in range(len(value) - 1, -1, -1):
                stack.append(((*here, index), value[index]))
        elif isinstance(value, OversizedInt) or (isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX):
            yield here, (f"{short(value)} is too large: numbers must fit in 64 bits (at most {INT64_MAX:,}); "
                         "use a sensible value (see docs/configuration.md for each setting's limits)")
        elif isinstance(value, str):
            surrogate = _has_surrogate(value)
            if surrogate:
                yield here, (f"the text contains {surrogate}, half of a UTF-16 surrogate pair, which is not a "
                             "character (no UTF-8 or JSON encoder accepts it); write the character itself (or a "
                             "\\U0001XXXX escape)")
        elif isinstance(value, float) and not math.isfinite(value):
            yield here, (f"{short(value)} is not a finite number (.inf, .nan and out-of-range numbers such as 1e309 "
                         "cannot be stored); use a number in range")
