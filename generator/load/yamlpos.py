"""YAML 1.2 with positions: every mapping key, mapping value and list item knows its line and column.

libyaml (PyYAML's C parser) composes the node graph, so reading stays close to the speed of
``yaml.load(f, Loader=yaml.CSafeLoader)``. Values are then built here rather than by PyYAML's
constructor, which lets us:

* resolve plain scalars with the YAML 1.2 core schema (``yes``, ``on`` and ``2024-06-06`` stay
  text, as YAML 1.2 says; PyYAML alone implements YAML 1.1);
* reject duplicate keys, which PyYAML silently lets the last one win;
* refuse application tags (``!!python/object``) and bound how far anchors and aliases may
  expand (the "billion laughs" attack), and refuse recursive aliases.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import ScalarNode, SequenceNode
from yaml.resolver import BaseResolver

from ..errors import SourceError

try:  # pragma: no cover - which branch runs depends on how PyYAML was built
    from yaml.cyaml import CParser as _Parser  # type: ignore[attr-defined]  # (stubs do not export it)

    HAVE_LIBYAML = True
except ImportError:  # pragma: no cover
    from yaml.composer import Composer
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, Parser, Composer):  # type: ignore[no-redef]
        def __init__(self, stream):
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)

    HAVE_LIBYAML = False

#: How many values aliases may add to a file beyond what is written out in it.
MAX_ALIAS_EXPANSION = 10_000

_PLAIN = "!plain"  # tag we give untagged plain scalars; resolved below with the YAML 1.2 core schema
_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_CORE_TAGS = {_STR, _SEQ, _MAP}


class _Loader(_Parser, BaseResolver):
    """Parser + composer only; resolution is ours (YAML 1.2 core), construction is ours."""

    def resolve(self, kind, value, implicit):  # called by the composer for untagged nodes
        if kind is ScalarNode:
            return _PLAIN if implicit[0] else _STR
        return _SEQ if kind is SequenceNode else _MAP


Pos = tuple[int, int]


class PosDict(dict):
    """A mapping that remembers where it, its keys and its values were written."""

    __slots__ = ("pos", "key_pos", "value_pos")

    def __init__(self, pos: Pos):
        super().__init__()
        self.pos = pos
        self.key_pos: dict[str, Pos] = {}
        self.value_pos: dict[str, Pos] = {}


class PosList(list):
    """A list that remembers where it and each of its items were written."""

    __slots__ = ("pos", "item_pos")

    def __init__(self, pos: Pos):
        super().__init__()
        self.pos = pos
        self.item_pos: list[Pos] = []


_INT = re.compile(r"[-+]?[0-9]+\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_SPECIAL = {
    "": None, "~": None, "null": None, "Null": None, "NULL": None,
    "true": True, "True": True, "TRUE": True,
    "false": False, "False": False, "FALSE": False,
    ".inf": float("inf"), ".Inf": float("inf"), ".INF": float("inf"),
    "+.inf": float("inf"), "+.Inf": float("inf"), "+.INF": float("inf"),
    "-.inf": float("-inf"), "-.Inf": float("-inf"), "-.INF": float("-inf"),
    ".nan": float("nan"), ".NaN": float("nan"), ".NAN": float("nan"),
}
_NUMERIC_START = frozenset("0123456789+-.")


def resolve_plain(text: str) -> Any:
    """The YAML 1.2 core schema for an untagged plain scalar."""
    if text in _SPECIAL:
        return _SPECIAL[text]
    if text[0] in _NUMERIC_START:
        if _INT.match(text):
            return int(text)
        if text.startswith("0o") and len(text) > 2 and all(c in "01234567" for c in text[2:]):
            return int(text[2:], 8)
        if text.startswith("0x") and len(text) > 2:
            try:
                return int(text[2:], 16)
            except ValueError:
                return text
        if _FLOAT.match(text):
            return float(text)
    return text


def _short_tag(tag: str) -> str:
    return "!!" + tag[len("tag:yaml.org,2002:"):] if tag.startswith("tag:yaml.org,2002:") else tag


def _pos(node) -> Pos:
    mark = node.start_mark
    return (mark.line + 1, mark.column + 1)


class _Builder:
    """Turns a composed node graph into PosDict / PosList / scalars, enforcing our limits."""

    def __init__(self, path: str, text: str):
        self.path = path
        self.text = text
        self._lines: list[str] | None = None
        self.done: dict[int, tuple[Any, int]] = {}  # id(node) -> (value, size) for aliases
        self.active: set[int] = set()
        self.expanded = 0

    def pos(self, node) -> Pos:
        """Where a value starts; for a '|' or '>' block of text, where its first line of text starts."""
        if node.__class__ is ScalarNode and node.style in ("|", ">"):
            if self._lines is None:
                self._lines = self.text.split("\n")
            line = node.start_mark.line + 1  # 0-based index of the line after the indicator
            while line < len(self._lines) and not self._lines[line].strip():
                line += 1
            if line < len(self._lines):
                content = self._lines[line]
                return (line + 1, len(content) - len(content.lstrip(" ")) + 1)
        mark = node.start_mark
        return (mark.line + 1, mark.column + 1)

    def fail(self, node, message: str):
        line, col = _pos(node)
        raise SourceError(self.path, line, col, message)

    def build(self, node) -> tuple[Any, int]:
        key = id(node)
        seen = self.done.get(key)
        if seen is not None:  # an alias: the same node again
            self.expanded += seen[1]
            if self.expanded > MAX_ALIAS_EXPANSION:
                self.fail(node, f"anchors and aliases (&name / *name) expand to more than "
                                f"{MAX_ALIAS_EXPANSION:,} values in this file; write the text out "
                                f"instead of repeating it with aliases")
            return seen
        if key in self.active:
            self.fail(node, "this anchor refers to itself through an alias (*name); "
                            "aliases may not be recursive")
        tag = node.tag
        if isinstance(node, ScalarNode):
            if tag == _PLAIN:
                return resolve_plain(node.value), 1
            if tag == _STR:
                return node.value, 1
            self.fail(node, f"YAML tag '{_short_tag(tag)}' is not allowed; remove it (plain values and "
                            f"quoted text are all that policy files need)")
        if tag not in _CORE_TAGS:
            self.fail(node, f"YAML tag '{_short_tag(tag)}' is not allowed; remove it")
        self.active.add(key)
        value: PosList | PosDict
        if isinstance(node, SequenceNode):
            value, size = self._sequence(node)
        else:
            value, size = self._mapping(node)
        self.active.discard(key)
        self.done[key] = (value, size)
        return value, size

    def _sequence(self, node) -> tuple[PosList, int]:
        out = PosList(_pos(node))
        size = 1
        for item in node.value:
            value, n = self.build(item)
            out.append(value)
            out.item_pos.append(self.pos(item))
            size += n
        return out, size

    def _mapping(self, node) -> tuple[PosDict, int]:
        out = PosDict(_pos(node))
        size = 1
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.fail(key_node, "a key must be a plain word such as 'title', not a list or mapping")
            key = key_node.value
            if key == "<<" and not key_node.style:
                self.fail(key_node, "merge keys ('<<') are not supported; write the keys out")
            if key in out:
                first = out.key_pos[key]
                self.fail(key_node, f"duplicate key '{key}' (first given at line {first[0]}); "
                                    f"each key may appear once in a mapping: remove or merge one of them")
            value, n = self.build(value_node)
            out[key] = value
            out.key_pos[key] = _pos(key_node)
            out.value_pos[key] = self.pos(value_node)
            size += n + 1
        return out, size


class _PlainBuilder(_Builder):
    """The same values, for a text with no anchor ('&'): no node can then occur twice (an alias
    to an undefined anchor is a parse error), so the alias bookkeeping and the size count are
    skipped, and scalar values are built inline. About a third faster on policy files."""

    def value(self, node) -> Any:
        cls = node.__class__
        if cls is ScalarNode:
            tag = node.tag
            if tag == _PLAIN:
                return resolve_plain(node.value)
            if tag == _STR:
                return node.value
            return self.build(node)[0]  # the error for a tag
        if node.tag not in _CORE_TAGS:
            return self.build(node)[0]
        if cls is SequenceNode:
            m = node.start_mark
            out = PosList((m.line + 1, m.column + 1))
            positions = out.item_pos
            for item in node.value:
                out.append(self.value(item))
                if item.__class__ is ScalarNode and item.style in ("|", ">"):
                    positions.append(self.pos(item))
                else:
                    m = item.start_mark
                    positions.append((m.line + 1, m.column + 1))
            return out
        m = node.start_mark
        mapping = PosDict((m.line + 1, m.column + 1))
        key_pos, value_pos = mapping.key_pos, mapping.value_pos
        for key_node, value_node in node.value:
            if key_node.__class__ is not ScalarNode:
                self.fail(key_node, "a key must be a plain word such as 'title', not a list or mapping")
            key = key_node.value
            if key in mapping or (key == "<<" and not key_node.style):
                self._mapping(node)  # the same loop as the general builder, which names the problem
            if value_node.__class__ is ScalarNode:
                tag = value_node.tag
                if tag == _PLAIN:
                    mapping[key] = resolve_plain(value_node.value)
                elif tag == _STR:
                    mapping[key] = value_node.value
                else:
                    self.build(value_node)  # raises: a tag that is not allowed
                if value_node.style in ("|", ">"):
                    value_pos[key] = self.pos(value_node)
                else:
                    m = value_node.start_mark
                    value_pos[key] = (m.line + 1, m.column + 1)
            else:
                mapping[key] = self.value(value_node)
                m = value_node.start_mark
                value_pos[key] = (m.line + 1, m.column + 1)
            m = key_node.start_mark
            key_pos[key] = (m.line + 1, m.column + 1)
        return mapping


def _char_at(text: str, line: int, col: int) -> str:
    lines = text.split("\n", line)
    if line - 1 < len(lines) and col - 1 < len(lines[line - 1]):
        return lines[line - 1][col - 1]
    return ""


def _friendly(problem: str, context: str, char: str) -> str:
    """Plain-words advice for libyaml's most common complaints."""
    p = problem or "the YAML is malformed"
    if char == "\t" or "'\\t'" in p:
        return ("a tab character is used here; YAML indentation must use spaces: "
                "replace the tab with spaces")
    if "mapping values are not allowed" in p:
        return ("unexpected ':' here; put text that contains ': ' in quotes, "
                "or check that this line is indented like its neighbours")
    if "could not find expected ':'" in p:
        return "a key is missing its ':' or the indentation is off; write 'key: value' with consistent spaces"
    if "expected <block end>" in p or "expected <block mapping start>" in p:
        return "the indentation is inconsistent here; align this line with the other keys at its level"
    if "found undefined alias" in p:
        return "an alias (*name) refers to an anchor (&name) that is not defined above it"
    if "found character" in p and "cannot start any token" in p:
        return f"{p}; put text that starts with this character in quotes"
    if "expected a single document" in context or "another document" in p:
        return "the file holds more than one YAML document ('---'); keep one document per file"
    if "expected '-' indicator" in p:
        return "a list item ('- ...') was expected here; align this line with the other items of the list"
    if "found unexpected end of stream" in p or "found unexpected end" in p:
        return f"{p}; a quote or bracket is probably left open"
    return f"malformed YAML: {p}; check the quotes, colons and indentation around this line"


def load_yaml(text: str, path: str) -> Any:
    """Parse one YAML document from ``text``; ``None`` for an empty file.

    Raises :class:`SourceError` with the line and column of the first problem.
    """
    loader = _Loader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            if exc.context_mark and "while scanning a quoted scalar" in (exc.context or ""):
                mark = exc.context_mark  # point at the opening quote, not at the end of the file
                line, col = mark.line + 1, mark.column + 1
                raise SourceError(path, line, col, "this quoted text is never closed; add the closing "
                                                   "quote mark at the end of the text") from None
            line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            message = _friendly(exc.problem or "", exc.context or "", _char_at(text, line, col))
            raise SourceError(path, line, col, message) from None
        except yaml.YAMLError as exc:  # reader errors: control characters and the like
            pos = getattr(exc, "position", 0) or 0
            line = text.count("\n", 0, pos) + 1
            col = pos - (text.rfind("\n", 0, pos) + 1) + 1
            char = getattr(exc, "character", "")
            code = f"#x{ord(char) if isinstance(char, str) and char else int(char or 0):04x}"
            raise SourceError(path, line, col, f"invisible control character ({code}) in the file; "
                                               f"delete it (only printable text, tabs and newlines are allowed)") from None
    finally:
        loader.dispose()
    if node is None:
        return None
    if "&" not in text:  # no anchors, so no aliases: every node is built once
        return _PlainBuilder(path, text).value(node)
    value, _ = _Builder(path, text).build(node)
    return value
