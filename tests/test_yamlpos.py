"""The positioned YAML loader: YAML 1.2 scalars, positions, and refusals."""

from __future__ import annotations

import pytest

from generator.errors import SourceError
from generator.load import MAX_ALIAS_EXPANSION, PosDict, PosList, load_yaml


def test_yaml_1_2_core_schema():
    data = load_yaml("a: yes\nb: on\nc: 2024-06-06\nd: 012\ne: 0x1f\nf: ~\ng: true\nh: 1.5\ni: '7'\n", "f.yaml")
    assert data == {"a": "yes", "b": "on", "c": "2024-06-06", "d": 12, "e": 31, "f": None,
                    "g": True, "h": 1.5, "i": "7"}


def test_positions_of_keys_values_and_items():
    data = load_yaml("top:\n  - one\n  - key: value\n", "f.yaml")
    assert isinstance(data, PosDict) and isinstance(data["top"], PosList)
    assert data.key_pos["top"] == (1, 1)
    assert data["top"].item_pos == [(2, 5), (3, 5)]
    assert data["top"][1].value_pos["key"] == (3, 10)


def test_block_text_is_located_at_its_first_line():
    data = load_yaml("text: |\n\n    first line\n    second\n", "f.yaml")
    assert data.value_pos["text"] == (3, 5)


@pytest.mark.parametrize("text, where, words", [
    ("a: 1\na: 2\n", (2, 1), "duplicate key 'a' (first given at line 1)"),
    ("a:\n\tb: 1\n", (2, 1), "tab character"),
    ("a: !!python/name:os.system x\n", (1, 4), "tag '!!python/name:os.system' is not allowed"),
    ("a: &x [*x]\n", (1, 4), "recursive"),
    ("<<: {a: 1}\n", (1, 1), "merge keys"),
    ("a: 1\n---\nb: 2\n", (2, 1), "more than one YAML document"),
    ("a: 'open\nb: 2\n", (1, 4), "never closed"),
    ("a: \x07\n", (1, 4), "control character"),
    ("? [a]\n: 1\n", (1, 3), "key must be a plain word"),
])
def test_refusals_are_located(text, where, words):
    with pytest.raises(SourceError) as info:
        load_yaml(text, "f.yaml")
    diag = info.value.diagnostic
    assert (diag.line, diag.col) == where
    assert words in diag.message


def test_aliases_within_the_limit_are_fine_and_beyond_it_refused():
    small = "a: &a [1, 2, 3]\nb: *a\nc: *a\n"
    assert load_yaml(small, "f.yaml")["c"] == [1, 2, 3]
    width = 10
    levels = ["l0: &l0 [" + ", ".join(["x"] * width) + "]"]
    for i in range(1, 6):
        levels.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    with pytest.raises(SourceError) as info:
        load_yaml("\n".join(levels) + "\n", "f.yaml")
    assert f"{MAX_ALIAS_EXPANSION:,}" in info.value.diagnostic.message


def test_empty_document_is_none():
    assert load_yaml("", "f.yaml") is None
    assert load_yaml("# only a comment\n", "f.yaml") is None


def _general(text: str):
    """The value as the general builder (aliases and all) makes it."""
    from generator.load.yamlpos import _Builder, _Loader

    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    return _Builder("f.yaml", text).build(node)[0]


def _same(a, b) -> bool:
    """Equal values, and equal positions at every level."""
    if isinstance(a, PosDict):
        return (isinstance(b, PosDict) and a.pos == b.pos and a.key_pos == b.key_pos
                and a.value_pos == b.value_pos and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a))
    if isinstance(a, PosList):
        return (isinstance(b, PosList) and a.pos == b.pos and a.item_pos == b.item_pos
                and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b)))
    return type(a) is type(b) and (a == b or a != a and b != b)  # nan


def test_the_fast_builder_gives_what_the_general_one_gives(tmp_path):
    """Texts without anchors go through a faster builder: same values and positions, on the
    example, on a varied generated corpus and on odd YAML."""
    import sys

    from conftest import REPO

    sys.path.insert(0, str(REPO / "benchmarks"))
    from corpus import generate

    generate(tmp_path, documents=4, rules=60, exceptions=8, varied=True)
    texts = [p.read_text() for p in sorted([*tmp_path.rglob("*.yaml"), *(REPO / "policy").rglob("*.yaml"),
                                            *(REPO / "exceptions").rglob("*.yaml")])]
    texts += ["a: [1, {b: c}, 'd']\nb: {x: .nan, y: -.inf, z: 0o17}\n",
              "t: >\n  folded\n  text\n\nl:\n- |\n    kept\n- x\n", "? complex\n: key\n",
              "k: !!str 12\nn: !!map {a: !!seq [!!str b]}\n"]
    assert len(texts) > 15
    for text in texts:
        assert "&" not in text
        assert _same(load_yaml(text, "f.yaml"), _general(text)), text[:80]


@pytest.mark.parametrize("text", ["a: 1\na: 2\n", "<<: {a: 1}\n", "[a]: 1\n", "a: !!python/object x\n",
                                  "a:\n  - !custom x\n"])
def test_the_fast_builder_refuses_what_the_general_one_refuses(text):
    with pytest.raises(SourceError) as fast:
        load_yaml(text, "f.yaml")
    with pytest.raises(SourceError) as general:
        _general(text)
    assert fast.value.diagnostic == general.value.diagnostic
    assert fast.value.diagnostic.message == general.value.diagnostic.message
