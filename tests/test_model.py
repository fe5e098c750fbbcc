"""The model: frozen, indexed by id, located, with DESIGN §2 time semantics."""

from __future__ import annotations

import dataclasses
import datetime as dt

import jsonschema
import pytest

from generator.schema import NAMES, load_schema
from generator.validate import load_corpus


def test_corpus_is_indexed_located_and_frozen(root):
    corpus = load_corpus(root)
    rule = corpus.rules["weapons.design"]
    assert (rule.origin.path, rule.origin.line, rule.origin.col) == ("policy/main.yaml", 11, 9)
    assert rule.document == "main" and rule.section == "standards"
    assert corpus.sections["standards"].rules[0] is rule
    assert corpus.models_by_id["small"].asl == 2
    assert corpus.exceptions_by_id["gov"].permits[0].rule_origin.line == 12
    with pytest.raises(dataclasses.FrozenInstanceError):
        rule.waivable = True  # type: ignore[misc]
    with pytest.raises(TypeError):
        corpus.rules["x"] = rule  # type: ignore[index]


def test_rule_time_window(root):
    main = root / "policy" / "main.yaml"
    main.write_text(main.read_text().replace(
        "        text: Designing weapons.\n",
        "        text: Designing weapons.\n        effective: 2025-01-01\n        retired: 2026-01-01\n"))
    rule = load_corpus(root).rules["weapons.design"]
    assert not rule.in_force(dt.date(2024, 12, 31))
    assert rule.in_force(dt.date(2025, 1, 1)) and rule.in_force(dt.date(2025, 12, 31))
    assert not rule.in_force(dt.date(2026, 1, 1))


def _objects(node):
    if isinstance(node, dict):
        if "properties" in node:
            yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for item in node:
            yield from _objects(item)


@pytest.mark.parametrize("kind", sorted(NAMES))
def test_schemas_are_valid_draft7_and_refuse_unknown_keys(kind):
    schema = load_schema(kind)
    jsonschema.Draft7Validator.check_schema(schema)
    objects = list(_objects(schema))
    assert objects, "a schema with no object in it"
    # DESIGN §2: unknown keys are errors, so every object in every schema closes its key set
    open_objects = [sorted(o["properties"]) for o in objects if o.get("additionalProperties") is not False]
    assert open_objects == []
