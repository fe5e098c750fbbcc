"""One bad fixture per error kind (as OpenFisca does): the exact output of `policy check` is golden.

Each folder under fixtures/bad/ holds the files that differ from fixtures/base/ and
expected.txt. Regenerate after an intended change of wording with:

    POLICY_REGEN=1 python -m pytest tests/test_bad_fixtures.py
"""

from __future__ import annotations

import os

import pytest

from conftest import FIXTURES, build_root

CASES = sorted(p for p in (FIXTURES / "bad").iterdir() if p.is_dir())


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_fixture(case, tmp_path, cli):
    root = build_root(tmp_path / "root", case)
    result = cli(["check", "--today", "2026-01-01"], cwd=root)
    expected_file = case / "expected.txt"
    if os.environ.get("POLICY_REGEN"):
        expected_file.write_text(result.output)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.output == expected_file.read_text()
    # every diagnostic names a file, and (but for whole-file problems) a line and column
    for line in result.output.splitlines()[:-1]:
        if line.startswith("note: "):
            continue
        assert line.split(":", 1)[0].startswith(("policy/", "exceptions/", "translations/")), line
