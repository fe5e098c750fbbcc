"""A new version of a document, read from its previous version: only the rules a commit changed
are parsed, checked against the schema and built again.

History reads thousands of versions of the same documents, and a commit usually rewords a rule
or two of a long file. Parsing every version whole made a cold `policy history` spend most of
its time in the YAML parser. Here, given the previous version (its lines, its positioned values
and its model, all known to be valid), the new text is compared line by line; when every changed
line lies inside a rule written as a block list item ("- id: ..."), each such rule is parsed on
its own, at its own line numbers, checked against the schema's rule definition, and built; the
rest of the document, values, positions and model objects, is shared with the previous version.

The result is exactly what reading the whole file gives, or nothing: whenever that cannot be
guaranteed cheaply, `update` returns None and the caller parses the file whole. That is the
case when lines were added or removed (positions after them move), when a changed line lies
outside a rule (a title, a date, a section), when a changed line in a rule is indented to the
rule's own level or less, when the text holds anchors ('&'), and when the rule does not parse
on its own, fails its schema or holds a placeholder (the whole-file reading then gives the
error and its place). tests/test_incremental.py compares both readings on generated edits.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any
from itertools import compress
from operator import ne

from ..errors import SourceError
from ..load import PosDict, PosList, load_yaml
from ..model import Document, Positions, Section, build_rule
from ..validate.structure import rule_is_clean

Steps = tuple  # ("sections", 0, "sections", 2, "rules", 5): where a rule item sits in the document


@dataclass(frozen=True)
class Span:
    start: int  # 0-based line of the item's "- "
    end: int  # 0-based line where the next node of the document starts (exclusive)
    indent: int  # column of the "-"
    steps: Steps


@dataclass(frozen=True)
class Known:
    """A document version that read cleanly, with where its rules are."""

    lines: list[str]
    value: PosDict
    document: Document
    spans: list[Span]  # in line order


def remember(text: str, value: PosDict, document: Document) -> Known | None:
    """What `update` needs about a cleanly read version (None when it cannot be used: anchors)."""
    if "&" in text:
        return None
    lines = text.split("\n")
    spans: list[Span] = []
    _walk_sections(value, "sections", len(lines), lines, (), spans)
    spans.sort(key=lambda s: s.start)
    return Known(lines, value, document, spans)


def _key_ends(mapping: PosDict, limit: int) -> dict[str, int]:
    """For each key of a block mapping, the 0-based line where the next key starts (or limit)."""
    keys = list(mapping.key_pos.items())
    ends: dict[str, int] = {}
    for i, (key, _pos) in enumerate(keys):
        ends[key] = keys[i + 1][1][0] - 1 if i + 1 < len(keys) else limit
    return ends


def _walk_sections(owner: PosDict, key: str, limit: int, lines: list[str], steps: Steps, out: list[Span]) -> None:
    items = owner.get(key)
    if not isinstance(items, PosList):
        return
    end = _key_ends(owner, limit).get(key, limit)
    for i, section in enumerate(items):
        if not isinstance(section, PosDict):
            continue
        section_end = items.item_pos[i + 1][0] - 1 if i + 1 < len(items) else end
        here = (*steps, key, i)
        rules = section.get("rules")
        if isinstance(rules, PosList):
            rules_end = _key_ends(section, section_end)["rules"]
            for j, (rule, (line, col)) in enumerate(zip(rules, rules.item_pos)):
                start = line - 1
                stop = rules.item_pos[j + 1][0] - 1 if j + 1 < len(rules) else rules_end
                dash = _dash_column(lines[start], col - 1)
                if isinstance(rule, PosDict) and dash is not None and start < stop:
                    out.append(Span(start, stop, dash, (*here, "rules", j)))
        _walk_sections(section, "sections", section_end, lines, here, out)


def _dash_column(line: str, value_col: int) -> int | None:
    """The column of the '-' when the line is '<spaces>- <the item's value>', else None."""
    head = line[:value_col]
    stripped = head.lstrip(" ")
    if not stripped.startswith("-") or stripped[1:].strip(" ") or len(stripped) < 2:
        return None
    return len(head) - len(stripped)


def update_bytes(known: Known, path: str, data: bytes) -> Known | None:
    """update() for a file's bytes as git or the disk gives them (a UTF-8 byte order mark
    dropped, as the loader drops it); None also when they are not UTF-8 (a whole reading says why)."""
    try:
        text = (data[3:] if data.startswith(b"\xef\xbb\xbf") else data).decode("utf-8")
    except UnicodeDecodeError:
        return None
    return update(known, path, text)


def update(known: Known, path: str, text: str) -> Known | None:
    """The new version read from the previous one, or None when only a whole reading is exact."""
    if "&" in text:
        return None
    lines = text.split("\n")
    old = known.lines
    if len(lines) != len(old):
        return None
    changed = list(compress(range(len(lines)), map(ne, old, lines)))  # in C: a tenth of the loop's time
    if not changed:
        return None
    spans = known.spans
    touched: dict[int, Span] = {}
    k = 0
    for i in changed:
        while k < len(spans) and spans[k].end <= i:
            k += 1
        if k == len(spans) or not spans[k].start <= i:
            return None  # outside every rule
        span = spans[k]
        line = lines[i]
        if i == span.start:
            if _indent(line) != span.indent or not line[span.indent:].startswith("- "):
                return None
        elif line.strip() and not line.lstrip(" ").startswith("#") and _indent(line) <= span.indent:
            return None  # would end the rule, or belong to its parent
        touched[span.start] = span
    value, document = known.value, known.document
    copies: dict[int, object] = {}
    for span in touched.values():
        # the file's own text from the rule's first line to the next node's: with the line break
        # that ends the rule's last line (a '|' or '>' text keeps it, as in the whole file)
        tail = "\n" if span.end < len(lines) else ""
        fragment = "\n" * span.start + "\n".join(lines[span.start:span.end]) + tail
        try:
            parsed = load_yaml(fragment, path)
        except SourceError:
            return None
        if not isinstance(parsed, PosList) or len(parsed) != 1 or not isinstance(parsed[0], PosDict):
            return None
        rule, where = parsed[0], parsed.item_pos[0]
        if where != _item_pos(known.value, span.steps):
            return None
        if not rule_is_clean(path, rule, where):
            return None
        value = _replace_value(value, span.steps, rule, where, copies)
        document = _replace_rule(document, path, span.steps, rule, where)
    # positions of the document's own keys answer from the new values (same places, new objects)
    document = dataclasses.replace(document, positions=Positions(path, value))
    return Known(lines, value, document, spans)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _item_pos(value: PosDict, steps: Steps) -> tuple[int, int]:
    node: Any = value
    for step in steps[:-1]:
        node = node[step]
    return node.item_pos[steps[-1]]


def _copy(node: Any, copies: dict[int, Any]) -> Any:
    """A container copied once per update (values shared), with its positions."""
    done = copies.get(id(node))
    if done is not None:
        return done
    new: PosDict | PosList
    if isinstance(node, PosDict):
        new = PosDict(node.pos)
        new.update(node)
        new.key_pos = dict(node.key_pos)
        new.value_pos = dict(node.value_pos)
    else:
        new = PosList(node.pos)
        new.extend(node)
        new.item_pos = list(node.item_pos)
    copies[id(node)] = new
    copies[id(new)] = new
    return new


def _replace_value(value: PosDict, steps: Steps, rule: PosDict, where, copies) -> PosDict:
    root = _copy(value, copies)
    node = root
    for step in steps[:-1]:
        child = _copy(node[step], copies)
        node[step] = child
        node = child
    node[steps[-1]] = rule
    node.item_pos[steps[-1]] = where
    return root


def _replace_rule(document: Document, path: str, steps: Steps, rule: PosDict, where) -> Document:
    # steps: ("sections", i, ["sections", k, ...], "rules", j)
    indexes = [steps[n + 1] for n in range(0, len(steps) - 2, 2)]
    sections = list(document.sections)
    sections[indexes[0]] = _rebuild(sections[indexes[0]], indexes[1:], steps[-1],
                                    path, document.id, rule, where)
    return dataclasses.replace(document, sections=tuple(sections))


def _rebuild(section: Section, rest: list[int], j: int, path: str, doc_id: str, rule: PosDict, where) -> Section:
    """The section with rule ``j`` of its subsection at ``rest`` built again (a plain recursive
    function, not a closure: a closure calling itself is a reference cycle that kept every
    version's model alive until the cyclic collector came)."""
    if rest:
        subs = list(section.sections)
        subs[rest[0]] = _rebuild(subs[rest[0]], rest[1:], j, path, doc_id, rule, where)
        return dataclasses.replace(section, sections=tuple(subs))
    rules = list(section.rules)
    rules[j] = build_rule(path, doc_id, section.id, rule, where)
    return dataclasses.replace(section, rules=tuple(rules))
