"""The JSON Schemas of the source files; shipped for editors and used by the validator."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

NAMES = {"document": "policy", "models": "models", "exception": "exception"}


def schema_path(kind: str):
    """A path-like to the schema file for a source kind ('document', 'models', 'exception')."""
    return resources.files(__package__) / f"{NAMES[kind]}.schema.json"


@cache
def load_schema(kind: str) -> dict:
    return json.loads(schema_path(kind).read_text(encoding="utf-8"))
