"""`policy build`: validate, then render the site (and, later, the bundle) into --out atomically."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from .bundle.write import Signing
from .bundle.sign import load_private_key
from .config import load_settings
from .errors import ValidationFailed
from .gitinfo import source_revision
from .render.engine import plan_pages
from .render.site import WriteStats, check_output_folder, write_site
from .validate import check_root


@dataclass(frozen=True, slots=True)
class BuildResult:
    out: Path
    stats: WriteStats
    warnings: tuple
    revision: str


def build(root: Path, out: Path, *, today: dt.date | None = None,
          memory: dict | None = None, sources: dict | None = None, sign_key: Path | None = None,
          key_id: str = "policy") -> BuildResult:
    """Build the site for the sources under ``root`` into ``out``.

    Raises ValidationFailed (nothing written) when the sources are invalid, UsageError when
    ``out`` cannot be used. ``memory`` and ``sources`` are caches a long-running caller (the
    preview server) keeps between builds: rendered pages, and checked source files.
    ``sign_key``: a PEM private key; the bundle is then signed (the key never enters the site)."""
    root, out = Path(root), Path(out)
    signing = None
    if sign_key is not None:
        key, algorithm = load_private_key(Path(sign_key))
        signing = Signing(key, algorithm, key_id)
    check_output_folder(out, root)
    result = check_root(root, today=today, cache=sources)
    if result.errors or result.corpus is None:
        raise ValidationFailed(list(result.diagnostics))
    settings = load_settings(root)
    revision = source_revision(root)
    pages = plan_pages(result.corpus, settings, revision, result.digests, signing)
    stats = write_site(pages, out, memory)
    return BuildResult(out, stats, tuple(result.warnings), revision.label)
