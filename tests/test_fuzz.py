"""No input, however mangled, makes `policy check` crash: it always returns diagnostics."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES
from generator.load import RawFile
from generator.validate import check_files

BASE = {p.relative_to(FIXTURES / "base").as_posix(): p.read_bytes()
        for p in (FIXTURES / "base").rglob("*.yaml")}
KINDS = {"policy/main.yaml": "document", "policy/models.yaml": "models", "exceptions/gov.yaml": "exception"}


def _files(replaced: str, data: bytes) -> list[RawFile]:
    return [RawFile(path, KINDS[path], data if path == replaced else BASE[path]) for path in sorted(BASE)]


def _assert_sound(result) -> None:
    for d in result.diagnostics:
        assert d.path and d.message and d.line >= 0 and d.col >= 0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(sorted(BASE)),
       text=st.text(alphabet=st.sampled_from(list("ab:- \n\t'\"[]{}&*!|>#%@`,?~0129.")), max_size=200))
def test_random_yaml_like_text(path, text):
    _assert_sound(check_files(_files(path, text.encode())))


@settings(max_examples=150, deadline=None)
@given(path=st.sampled_from(sorted(BASE)), data=st.data())
def test_mutated_valid_files(path, data):
    lines = BASE[path].decode().splitlines(keepends=True)
    i = data.draw(st.integers(0, len(lines) - 1))
    op = data.draw(st.sampled_from(["drop", "dup", "indent", "dedent", "replace"]))
    if op == "drop":
        del lines[i]
    elif op == "dup":
        lines.insert(i, lines[i])
    elif op == "indent":
        lines[i] = "  " + lines[i]
    elif op == "dedent":
        lines[i] = lines[i].lstrip()
    else:
        lines[i] = data.draw(st.text(max_size=40)) + "\n"
    _assert_sound(check_files(_files(path, "".join(lines).encode("utf-8", "surrogatepass"))))


@settings(max_examples=50, deadline=None)
@given(path=st.sampled_from(sorted(BASE)), data=st.binary(max_size=300))
def test_random_bytes(path, data):
    _assert_sound(check_files(_files(path, data)))
