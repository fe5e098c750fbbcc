"""The documentation stays true: the error catalogue is current and every field is described."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import REPO
from generator.schema import NAMES, load_schema


def test_error_catalogue_is_current():
    done = subprocess.run([sys.executable, str(REPO / "docs" / "make_errors.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def _fields(schema: dict, node: dict, prefix: str = "", seen=None):
    seen = set() if seen is None else seen
    node = _deref(schema, node)
    if id(node) in seen:
        return
    seen.add(id(node))
    for key, sub in node.get("properties", {}).items():
        yield prefix + key
        sub = _deref(schema, sub)
        if sub.get("type") == "object" and "properties" in sub:
            yield from _fields(schema, sub, prefix + key + ".", seen)
        items = _deref(schema, sub.get("items", {}))
        if items.get("type") == "object":
            yield from _fields(schema, items, "", seen)


def _deref(schema: dict, node: dict) -> dict:
    ref = node.get("$ref")
    if ref:
        return schema["definitions"][ref.rsplit("/", 1)[-1]]
    return node


@pytest.mark.parametrize("kind", sorted(NAMES))
def test_every_schema_field_is_documented(kind):
    text = (REPO / "docs" / "source-format.md").read_text()
    schema = load_schema(kind)
    for field in set(_fields(schema, schema)):
        assert f"`{field}`" in text, f"docs/source-format.md does not describe `{field}` ({kind})"


def test_every_command_is_documented():
    from generator.cli import main

    text = (REPO / "docs" / "commands.md").read_text()
    for name, command in main.commands.items():
        assert f"`policy {name}" in text, name
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--"):
                    assert opt in text, f"{name} {opt}"


def test_the_opa_commands_in_the_docs_match_what_the_tests_run():
    """docs/bundle.md tells services how to run the bundle in OPA; the query path, the REST
    path, the roots and the key id it gives are the ones the bundle and the tests use."""
    import re

    from generator.bundle.layout import DECISION_PATH, DECISION_QUERY, ROOTS
    from generator.bundle.write import Signing

    text = (REPO / "docs" / "bundle.md").read_text()
    queries = set(re.findall(r"'(data\.[a-z_.]+)'", text))
    assert queries == {DECISION_QUERY}, queries
    assert f"/v1/data/{DECISION_PATH}" in text
    assert '"roots": ["' + '", "'.join(ROOTS) + '"]' in text
    assert f"--verification-key-id {Signing.__dataclass_fields__['key_id'].default}" in text
    rego = (REPO / "generator" / "bundle" / "policy.rego").read_text()
    assert f"'{DECISION_QUERY}'" in rego and f"policy := data.{ROOTS[1]}\n" in rego
