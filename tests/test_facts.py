"""Each shared fact has one home, generator/facts.py; the JSON Schemas and the Rego policy
repeat the patterns in their own languages and are checked against it here. (The Rego's time
rules are checked against facts.in_force by the conformance tests, on every boundary date.)"""

from __future__ import annotations

import json
import re

import pytest

from conftest import REPO
from generator import facts

SCHEMAS = sorted((REPO / "generator" / "schema").glob("*.json")) + [REPO / "generator" / "bundle" / "data.schema.json"]
NOT_EMPTY = r"\S"  # a line of text must hold something: not one of the shared facts


def _patterns(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern":
                yield value
            else:
                yield from _patterns(value)
    elif isinstance(node, list):
        for item in node:
            yield from _patterns(item)


@pytest.mark.parametrize("schema", SCHEMAS, ids=[p.name for p in SCHEMAS])
def test_every_schema_pattern_is_a_shared_fact(schema):
    patterns = set(_patterns(json.loads(schema.read_text())))
    assert patterns <= {facts.ID_PATTERN, facts.DATE_PATTERN, NOT_EMPTY}, patterns - {facts.ID_PATTERN,
                                                                                      facts.DATE_PATTERN, NOT_EMPTY}
    assert facts.ID_PATTERN in patterns


def test_the_rego_checks_dates_with_the_same_pattern():
    rego = (REPO / "generator" / "bundle" / "policy.rego").read_text()
    assert re.findall(r"regex\.match\(`([^`]*)`", rego) == [facts.DATE_PATTERN]


def test_no_module_writes_the_patterns_again():
    pieces = ("a-z0-9]+(-[a-z0-9]+)", "[0-9]{4}-[0-9]{2}", r"\d{4}-\d{2}")
    for path in sorted((REPO / "generator").rglob("*.py")):
        if path.name == "facts.py":
            continue
        text = path.read_text()
        assert not [p for p in pieces if p in text], f"{path.relative_to(REPO)} repeats a pattern of generator/facts.py"


@pytest.mark.parametrize("text, ok", [("2024-02-29", True), ("2023-02-29", False), ("0000-01-01", False),
                                      ("2024-13-01", False), ("2024-1-01", False), ("2024-01-01\n", False),
                                      ("２０２４-01-01", False), ("9999-12-31", True)])
def test_valid_date(text, ok):
    assert facts.valid_date(text) is ok


def test_in_force_on_dates_and_iso_text_alike():
    import datetime as dt

    d = dt.date.fromisoformat
    for start, end, day, expected in [(None, None, "2024-01-01", True), ("2024-01-01", None, "2024-01-01", True),
                                      ("2024-01-02", None, "2024-01-01", False), (None, "2024-01-01", "2024-01-01", False),
                                      (None, "2024-01-02", "2024-01-01", True)]:
        assert facts.in_force(start, end, day) is expected
        assert facts.in_force(start and d(start), end and d(end), d(day)) is expected
