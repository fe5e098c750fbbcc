"""Structure: check each parsed file against its JSON Schema and explain problems in plain words.

Valid files (the common case) are checked by a compiled validator (fastjsonschema). Only when a
file fails is it checked again by ``jsonschema``, which reports *every* problem with its place;
each is then turned into a message that names the field, the problem and what is allowed.
"""

from __future__ import annotations

import datetime
import difflib
from functools import cache

import fastjsonschema

from ..errors import Diagnostic
from ..facts import DATE, ID_HELP, ID_PATTERN
from ..load import ParsedFile, PosDict, PosList
from ..schema import load_schema

PLACEHOLDER = "TODO"

_TYPE_WORDS = {
    "string": "text", "boolean": "true or false", "integer": "a whole number",
    "number": "a number", "array": "a list", "object": "a set of 'key: value' lines", "null": "empty",
}
_CONTAINER_WORDS = {
    "sections": "section", "rules": "rule", "models": "model", "permits": "permits entry",
    "obligations": "obligation", "purposes": "purpose", "retains": "retains entry",
    "customer_types": "customer type", "attestations": "attestation",
}
_ROOT_WORDS = {"document": "the document", "models": "the models file", "exception": "the exception"}


def is_date(text: object) -> bool:
    if not isinstance(text, str):
        return True
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


@cache
def _fast(kind: str):
    return fastjsonschema.compile(load_schema(kind), formats={"date": is_date}, use_default=False)


def rule_is_clean(path: str, rule, where: tuple[int, int]) -> bool:
    """Whether one rule of a document matches the schema's rule definition and holds no
    placeholder: what check_structure would find nothing to say about, for that rule alone.
    (The rule is checked inside the smallest valid document, by the document's own validator.)"""
    if _placeholders(path, rule, rule, where, "rules"):
        return False
    shell = {"id": "shell", "title": "Shell", "effective": "2000-01-01",
             "sections": [{"id": "shell", "title": "Shell", "rules": [rule]}]}
    try:
        _fast("document")(shell)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


@cache
def _full(kind: str):
    import jsonschema  # only needed when a file is invalid: keep it off the start-up path

    checker = jsonschema.FormatChecker(formats=())
    checker.checks("date")(is_date)
    return jsonschema.Draft7Validator(load_schema(kind), format_checker=checker)


def check_structure(parsed: ParsedFile) -> list[Diagnostic]:
    """Every structural problem of one file, located; an empty list when it matches its schema."""
    value = parsed.value
    text = parsed.text
    # a placeholder is written out in the text, or spelt with escapes in double quotes
    maybe = text is None or PLACEHOLDER in text or "\\" in text
    diagnostics = _placeholders(parsed.path, value, value) if maybe else []
    try:
        _fast(parsed.kind)(value)
        return diagnostics
    except fastjsonschema.JsonSchemaException:
        pass
    seen: set[tuple[int, int, str]] = set()
    for error in _full(parsed.kind).iter_errors(value):
        for diag in _explain(error, parsed, value):
            key = (diag.line, diag.col, diag.message)
            if key not in seen:
                seen.add(key)
                diagnostics.append(diag)
    return diagnostics


def _placeholders(path: str, node, root, where=(1, 1), field="") -> list[Diagnostic]:
    """Text still holding the TODO markers that `policy new exception` writes."""
    out: list[Diagnostic] = []
    if isinstance(node, str):
        if PLACEHOLDER in node:
            out.append(Diagnostic(path, where[0], where[1],
                                  f"'{field}' still holds placeholder text ({_clip(node)}); "
                                  f"replace the {PLACEHOLDER} text with the real content"))
    elif isinstance(node, PosDict):
        for key, item in node.items():
            out += _placeholders(path, item, root, node.value_pos[key], key)
    elif isinstance(node, PosList):
        for item, pos in zip(node, node.item_pos):
            out += _placeholders(path, item, root, pos, field)
    return out


def _clip(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _locate(root, path) -> tuple[tuple[int, int], str, str]:
    """Position of the value at ``path``, its field name and a description of its owner."""
    node, pos, field = root, root.pos, ""
    owner_desc = ""
    parent_key = ""
    for step in path:
        if isinstance(node, PosDict):
            pos = node.value_pos.get(step, node.pos)
            owner_desc = _describe(node, parent_key) or owner_desc
            field = step
            parent_key = step
        elif isinstance(node, PosList):
            pos = node.item_pos[step] if step < len(node.item_pos) else node.pos
            field = f"{parent_key}[{step + 1}]"
        node = node[step]
    return pos, field, owner_desc


def _describe(mapping: PosDict, parent_key: str) -> str:
    word = _CONTAINER_WORDS.get(parent_key, "")
    ident = mapping.get("id") if isinstance(mapping.get("id"), str) else mapping.get("rule")
    if word and isinstance(ident, str):
        return f"{word} '{ident}'"
    return word


def _explain(error, parsed: ParsedFile, root) -> list[Diagnostic]:
    path = list(error.absolute_path)
    (line, col), field, owner = _locate(root, path)
    instance = error.instance
    keyword = error.validator
    owner_word = owner or _ROOT_WORDS[parsed.kind]
    if isinstance(instance, PosDict) and path:
        owner_word = _describe(instance, _parent_key(path)) or owner_word
    if isinstance(instance, str) and PLACEHOLDER in instance and keyword in ("pattern", "format", "minLength"):
        return []  # the placeholder message says it better
    name = f"'{field}'" if field else owner_word
    message: str
    if keyword == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        out = []
        for key in sorted(k for k in instance if k not in allowed):
            kline, kcol = instance.key_pos.get(key, (line, col))
            hint = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            advice = f"did you mean '{hint[0]}'? " if hint else ""
            out.append(Diagnostic(parsed.path, kline, kcol,
                                  f"unknown key '{key}' in {owner_word}; {advice}allowed keys: {', '.join(allowed)}"))
        return out
    if keyword == "required":
        missing = [k for k in error.validator_value if k not in instance]
        message = (f"{owner_word} is missing {_join(missing)}; add "
                   + " and ".join(f"'{k}: ...'" for k in missing))
    elif keyword == "type":
        expected = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        words = " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in expected)
        if not path:
            message = f"the file must be a set of 'key: value' lines (id: ..., title: ...), not {_kind_of(instance)}"
        else:
            message = f"{name} must be {words}, not {_kind_of(instance)}"
            if "array" in expected and isinstance(instance, str):
                message += f"; write it as a list: [{instance}] or one '- item' per line"
            if "boolean" in expected and isinstance(instance, str):
                message += "; write true or false (words like yes, no, on and off are read as text)"
            if "string" in expected and isinstance(instance, (int, float, bool)):
                message += f"; put it in quotes if you mean the text \"{instance}\""
    elif keyword == "enum":
        allowed = [str(v) for v in error.validator_value]
        hint = difflib.get_close_matches(str(instance), allowed, n=1, cutoff=0.5)
        advice = f"did you mean '{hint[0]}'? " if hint else ""
        message = f"{_clip(str(instance))} is not an allowed value for {name}; {advice}allowed: {', '.join(allowed)}"
    elif keyword in ("pattern", "format", "oneOf") and _is_date_schema(error):
        if keyword == "format" and isinstance(instance, str) and not DATE.match(instance):
            return []  # the pattern error already says it
        if isinstance(instance, str) and DATE.match(instance):
            message = f"{name} is {_clip(instance)}, which is not a real calendar date; write a date that exists, as YYYY-MM-DD"
        else:
            message = f"{name} must be a date written YYYY-MM-DD (e.g. 2024-06-06), not {_clip(str(instance))}"
    elif keyword == "pattern" and error.validator_value == ID_PATTERN:
        message = f"{_clip(instance)} is not a valid {'id' if field == 'id' else f'id for {name}'}; {ID_HELP}"
    elif keyword in ("pattern", "minLength"):
        message = f"{name} is empty; write the text"
    elif keyword == "minItems":
        message = f"{name} is empty; list at least {error.validator_value} item{'s' if error.validator_value > 1 else ''}"
    elif keyword == "uniqueItems":
        dupes = sorted({str(v) for v in instance if instance.count(v) > 1})
        message = f"{name} lists {_join(dupes)} more than once; remove the repeat"
    elif keyword in ("minimum", "maximum"):
        if field.endswith("asl"):
            message = f"{name} is {instance}; AI Safety Levels run from 1 to 4"
        else:
            message = f"{name} is {instance}; it must be at {'least' if keyword == 'minimum' else 'most'} {error.validator_value}"
    elif keyword == "anyOf" and isinstance(instance, PosDict) and "rules" in error.schema.get("properties", {}):
        message = f"{owner_word} holds no rules and no sections; add 'rules:' or 'sections:' under it"
    else:  # a keyword we do not phrase specially: still located, still named
        message = f"{name}: {error.message}"
    return [Diagnostic(parsed.path, line, col, message)]


def _parent_key(path: list) -> str:
    for step in reversed(path):
        if isinstance(step, str):
            return step
    return ""


def _is_date_schema(error) -> bool:
    schema = error.schema
    if schema.get("format") == "date":
        return True
    return any(isinstance(s, dict) and s.get("$ref", "").endswith("/date") for s in schema.get("oneOf", []))


def _kind_of(value) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()} (true/false)"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {_clip(value)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a set of 'key: value' lines"
    return "empty" if value is None else type(value).__name__


def _join(items: list[str]) -> str:
    quoted = [f"'{i}'" for i in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
