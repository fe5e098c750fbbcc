"""Site settings: ``[tool.policy]`` in the policy root's pyproject.toml (all optional)."""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .errors import Diagnostic, ValidationFailed

DEFAULT_NOTICE = ("Illustrative example: this content shows how the tool publishes a policy. "
                  "It is not any company's official policy text.")


@dataclass(frozen=True, slots=True)
class Settings:
    organization: str = "Example Organization"
    base_url: str = ""  # absolute, ends with '/'; empty: the sitemap lists relative addresses
    illustrative: bool = False
    notice: str = ""  # shown on every page; defaults to DEFAULT_NOTICE when illustrative
    exceptions_title: str = "Exceptions to our Usage Policy"
    language: str = "en"
    notice_days: int = 0  # days between a change that makes a rule stricter and its taking effect; 0: off
    owners: tuple[tuple[str, tuple[str, ...]], ...] = ()  # [tool.policy.owners]: what -> who, for CODEOWNERS
    require_approval: str = "none"  # "looser" | "any": such changes need an Approved-by trailer
    search: bool | None = None  # a search box and its index (Pagefind); None: up to SEARCH_AUTO_DOCUMENTS and _RULES
    pdf: bool | None = None  # PDFs of every document and version; None: made when WeasyPrint and Pango are there

    @property
    def banner(self) -> str:
        return self.notice or (DEFAULT_NOTICE if self.illustrative else "")


_FIELDS = {
    "organization": str, "base_url": str, "illustrative": bool, "notice": str,
    "exceptions_title": str, "language": str, "notice_days": int, "owners": dict,
    "require_approval": str, "search": bool, "pdf": bool,
}

# an owner as CODEOWNERS names one: @user, @org/team, or an e-mail address
OWNER = re.compile(r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:/[A-Za-z0-9._-]+)?|[^@\s]+@[^@\s]+\.[^@\s]+")


def line_of(text: str, key: str) -> tuple[int, int]:
    """Best-effort position of ``key = ...`` (tomllib reports no positions)."""
    match = re.search(rf"^([ \t]*){re.escape(key)}[ \t]*=", text, re.M)
    if not match:
        return (0, 0)
    return (text.count("\n", 0, match.start()) + 1, len(match.group(1)) + 1)


def _owners(table: object, text: str, path: str, problems: list[Diagnostic]):
    """[tool.policy.owners]: each key (a document id, "exceptions", "models" or "*") names a
    list of owners. Whether each document id exists is checked by `policy codeowners`."""
    out = []
    assert isinstance(table, dict)  # checked by the caller against _FIELDS
    for key, value in table.items():
        line, col = line_of(text, key)
        if (line, col) == (0, 0):  # a quoted key such as "*": point at the table instead
            line, col = line_of(text, "owners")
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            problems.append(Diagnostic(path, line, col, f"[tool.policy.owners] {key} must be a list of owners, "
                                                        f"such as [\"@legal/policy\", \"counsel@example.com\"]"))
            continue
        bad = [v for v in value if not OWNER.fullmatch(v)]
        if bad:
            problems.append(Diagnostic(path, line, col, f"[tool.policy.owners] {key}: {bad[0]!r} is not an owner; "
                                                        f"write @user, @org/team or an e-mail address"))
            continue
        out.append((key, tuple(value)))
    return tuple(out)


def load_settings(root: Path) -> Settings:
    """Read ``[tool.policy]``; a missing file or table gives the defaults.

    Raises :class:`ValidationFailed` listing every problem in the table."""
    path = Path(root) / "pyproject.toml"
    if not path.is_file():
        return Settings()
    return settings_from_text(path.read_text(encoding="utf-8"))


def settings_from_text(text: str, path: str = "pyproject.toml") -> Settings:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", 0) or 0
        col = getattr(exc, "colno", 0) or 0
        raise ValidationFailed([Diagnostic(path, line, col, f"this TOML file cannot be read: {exc.msg if hasattr(exc, 'msg') else exc}")]) from None
    table = data.get("tool", {}).get("policy", {})
    problems: list[Diagnostic] = []
    values: dict[str, object] = {}
    for key, value in table.items():
        line, col = line_of(text, key)
        if key not in _FIELDS:
            hint = difflib.get_close_matches(key, list(_FIELDS), n=1, cutoff=0.6)
            advice = f"did you mean '{hint[0]}'? " if hint else ""
            problems.append(Diagnostic(path, line, col, f"unknown setting '{key}' in [tool.policy]; {advice}"
                                                        f"allowed: {', '.join(sorted(_FIELDS))}"))
            continue
        negative = isinstance(value, int) and not isinstance(value, bool) and value < 0
        if not isinstance(value, _FIELDS[key]) or (_FIELDS[key] is int and (isinstance(value, bool) or negative)):
            want = {bool: "true or false", int: "a whole number of days, 0 or more (30, not \"30\")"}.get(
                _FIELDS[key], "a quoted text")
            problems.append(Diagnostic(path, line, col, f"[tool.policy] {key} must be {want}"))
            continue
        if key == "owners":
            owners = _owners(value, text, path, problems)
            if owners is not None:
                values[key] = owners
            continue
        values[key] = value
    mode = values.get("require_approval")
    if mode is not None and mode not in ("none", "looser", "any"):
        line, col = line_of(text, "require_approval")
        problems.append(Diagnostic(path, line, col, f"[tool.policy] require_approval is {mode!r}; allowed: "
                                                    f"\"none\", \"looser\" (looser changes need an Approved-by "
                                                    f"trailer), \"any\" (every change that is not editorial)"))
    base = values.get("base_url")
    if isinstance(base, str) and base:
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            line, col = line_of(text, "base_url")
            problems.append(Diagnostic(path, line, col, f"[tool.policy] base_url must be an absolute http(s) "
                                                        f"address such as https://example.com/policies/, not {base!r}"))
        elif not base.endswith("/"):
            values["base_url"] = base + "/"
    if problems:
        raise ValidationFailed(problems)
    return Settings(**values)  # type: ignore[arg-type]
