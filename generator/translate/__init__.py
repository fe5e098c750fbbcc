"""Translations of the published text: read (catalog), compared with the sources clause by
clause (status), applied to a copy of the model for a locale's pages (apply), and brought up to
date for translators (update). See docs/translations.md."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from ..config import Settings
from ..errors import Diagnostic
from ..model import Corpus
from .catalog import TRANSLATIONS_DIR, LocaleSources, locales_from_files, read_locales
from .status import LocaleStatus, assess
from .units import all_units

__all__ = ["Translations", "TRANSLATIONS_DIR", "check_translations", "translations_from_files"]


@dataclass(frozen=True, slots=True)
class Translations:
    authoritative: str  # the language of the sources ([tool.policy] language)
    locales: tuple[LocaleStatus, ...]  # sorted by tag

    def __bool__(self) -> bool:
        return bool(self.locales)


def _assess_all(sources: list[LocaleSources], corpus: Corpus, settings: Settings,
                problems: list[Diagnostic]) -> tuple[Translations, list[Diagnostic]]:
    if not sources:
        return Translations(settings.language, ()), problems
    units = all_units(corpus, settings)
    statuses = []
    for source in sources:
        status, found = assess(source, units, corpus)
        statuses.append(status)
        problems += found
    return Translations(settings.language, tuple(statuses)), sorted(problems)


def check_translations(root: Path, corpus: Corpus, settings: Settings) -> tuple[Translations, list[Diagnostic]]:
    """Read translations/ under ``root`` and compare it with ``corpus``."""
    sources, problems = read_locales(Path(root), settings.language)
    return _assess_all(sources, corpus, settings, problems)


def translations_from_files(found: Mapping[str, Mapping[str, tuple[str, bytes]]], corpus: Corpus,
                            settings: Settings) -> tuple[Translations, list[Diagnostic]]:
    """The same, from catalogs already read ({locale: {name: (path, bytes)}}, e.g. from git)."""
    sources, problems = locales_from_files(found, settings.language)
    return _assess_all(sources, corpus, settings, problems)
