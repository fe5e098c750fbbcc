"""Static types: the runtime (what services import) passes `mypy --strict`, with the bundle format
it reads; the whole package passes plain `mypy`. Settings in pyproject.toml [tool.mypy]."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import REPO


@pytest.mark.parametrize("args", [["--strict", "generator/runtime"], ["generator"]], ids=["runtime-strict", "all"])
def test_mypy(args):
    done = subprocess.run([sys.executable, "-m", "mypy", *args], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
