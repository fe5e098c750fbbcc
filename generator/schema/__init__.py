"""The JSON Schemas of the source files; shipped for editors and used by the validator."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources.abc import Traversable
from typing import Any

from ..resources import resource

NAMES = {"document": "policy", "models": "models", "exception": "exception"}


def schema_path(kind: str) -> Traversable:
    """A path-like to the schema file for a source kind ('document', 'models', 'exception')."""
    return resource(__package__, f"{NAMES[kind]}.schema.json")


@cache
def load_schema(kind: str) -> dict[str, Any]:
    return json.loads(schema_path(kind).read_text(encoding="utf-8"))
