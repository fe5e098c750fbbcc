"""Typed errors. The library raises these; only the CLI prints them and chooses exit codes."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True, order=True)
class Diagnostic:
    """One finding about a source file, located as precisely as the input allows.

    ``path`` is relative to the policy root (``policy/usage-policy.yaml``); ``line`` and
    ``col`` are 1-based, or 0 when the finding concerns a whole file or folder.
    """

    path: str
    line: int
    col: int
    message: str
    severity: str = field(default="error", compare=False)  # "error" | "warning" | "note"

    def format(self, prefix: str = "") -> str:
        where = prefix + self.path
        if self.line:
            where += f":{self.line}:{self.col}"
        label = "" if self.severity == "error" else f"{self.severity}: "
        return f"{where}: {label}{self.message}"


class PolicyError(Exception):
    """Base class of every error the library raises on purpose."""


class SourceError(PolicyError):
    """A single problem in one source file (used while loading, before collection)."""

    def __init__(self, path: str, line: int, col: int, message: str):
        super().__init__(f"{path}:{line}:{col}: {message}")
        self.diagnostic = Diagnostic(path, line, col, message)


class ValidationFailed(PolicyError):
    """The sources are invalid. ``diagnostics`` holds every error and warning, sorted."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = sorted(diagnostics)
        errors = sum(1 for d in self.diagnostics if d.severity == "error")
        super().__init__(f"{errors} error(s) in the policy sources")

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]


class UsageError(PolicyError):
    """The command was asked for something it cannot do (bad root, bad argument): exit 2."""
