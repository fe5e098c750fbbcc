"""The `policy` command a benchmark runs: the one installed for the interpreter running it."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def policy_command() -> str:
    """The `policy` script beside this interpreter, as the benchmarks' floors run on it; one found
    first on PATH may be a wrapper (pyenv's shims are a bash script that runs pyenv: +50 ms a run)."""
    beside = Path(sys.executable).parent / "policy"
    return str(beside) if beside.exists() else (shutil.which("policy") or "policy")
