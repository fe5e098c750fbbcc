"""A PDF of each page a counterparty may ask for "as it stood": every document and the exceptions
page, current and every published version, made by WeasyPrint (Pango lays out the text) from a
printable template of its own (_pdf.html), tagged as PDF/UA-1 (structure tree, language,
title shown), with the version date, the revision and page numbers in the footer, clause ids
visible and links kept (absolute when base_url is set).

Deterministic: WeasyPrint writes no creation or modification date unless the HTML names one, and
none is given, so the same revision gives the same bytes (tested)."""

from __future__ import annotations

import functools
import os
import re
from typing import Callable

from ..procs import die_with_parent

#: Sites of more documents get PDFs only when asked (pdf = true, --pdf): beyond, they take most of
#: the build (75 ms a document against 8 for everything else, benchmarks/bench_readers.py).
PDF_AUTO_DOCUMENTS = 100


@functools.cache
def weasyprint_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("weasyprint")
    except PackageNotFoundError:
        return "missing"


def prepare() -> None:
    """Import WeasyPrint (about 0.4 s) before pages are shared out between processes, so that
    forked workers inherit it instead of each importing it again."""
    from ..bundle.errors import PackagingError

    try:
        import weasyprint  # type: ignore[import-untyped]  # noqa: F401
    except (ImportError, OSError) as exc:  # OSError: Pango, its system library, is missing
        raise PackagingError(f"PDFs cannot be made: {exc}. Install the package's dependencies (WeasyPrint) and "
                             f"Pango (Debian: apt-get install libpango-1.0-0 libpangoft2-1.0-0), or set "
                             f"pdf = false in [tool.policy]") from None


def available() -> str | None:
    """None when PDFs can be made here, else why not (and how to fix it). With a Converter, its
    processes answer (they import WeasyPrint, this process need not)."""
    from ..bundle.errors import PackagingError

    if _converter is not None:  # answered without waiting for its processes to import WeasyPrint
        return _quick_check()
    try:
        prepare()
    except PackagingError as exc:
        return str(exc)
    return None


def _quick_check() -> str | None:
    """Whether WeasyPrint and Pango are installed, without importing them (a third of a second):
    the package is findable and the libraries WeasyPrint loads are known to the system's loader.
    Should the import fail all the same, making the first PDF fails the build, naming why."""
    import ctypes.util
    import importlib.util

    if importlib.util.find_spec("weasyprint") is None:
        return "PDFs cannot be made: WeasyPrint is not installed (pip install weasyprint)"
    for library in ("pango-1.0", "pangoft2-1.0", "gobject-2.0"):
        if ctypes.util.find_library(library) is None:
            return (f"PDFs cannot be made: the system library {library} is missing (Debian: apt-get install "
                    f"libpango-1.0-0 libpangoft2-1.0-0)")
    return None


def prepare_here() -> None:
    """Before pages render: import WeasyPrint here, unless a Converter's processes make the PDFs."""
    if _converter is None:
        prepare()


def to_pdf(html: str, base_url: str | None) -> bytes:
    """Lay out ``html`` and return the PDF. ``base_url``: the page's public address, so that
    relative links become absolute (None: links stay as written)."""
    prepare()
    import weasyprint

    document = weasyprint.HTML(string=html, base_url=base_url)
    return document.write_pdf(pdf_variant="pdf/ua-1")


_CSS_UNSAFE = re.compile(r"[^A-Za-z0-9 .,:;()\-]")


def css_string(text: str) -> str:
    """A CSS string literal for ``text`` (the footer): every character outside a small safe set
    written as a CSS escape, so no text can end the string, the rule or the style element."""
    return '"' + _CSS_UNSAFE.sub(lambda m: f"\\{ord(m.group(0)):x} ", str(text)) + '"'


def pdf_name(page: str, label: str | None = None) -> str:
    """usage-policy.pdf, usage-policy-2024-06-06.pdf: names that say what they are once downloaded."""
    return f"{page}-{label}.pdf" if label else f"{page}.pdf"



_converter = None  # a converter.Converter while a build runs (see converting)


def _warm_up() -> str | None:
    """In a Converter's process: import WeasyPrint and lay out a first page (font set-up); None,
    or why PDFs cannot be made here."""
    from ..bundle.errors import PackagingError

    try:
        to_pdf("<!doctype html><html lang=\"en\"><title>.</title><p>.</p></html>", None)
    except PackagingError as exc:
        return str(exc)
    return None


class converting:
    """``with converting(workers):`` PDFs asked for inside are made by a Converter (one already
    running, started earlier by the caller, is kept)."""

    def __init__(self, workers: int | None):
        self.workers = workers
        self.mine = False

    def __enter__(self):
        global _converter
        if self.workers and _converter is None and hasattr(os, "fork"):
            from .converter import Converter

            _converter, self.mine = Converter(self.workers, _warm_up, to_pdf), True
        return _converter

    def __exit__(self, *exc):
        global _converter
        if self.mine and _converter is not None:
            _converter.close()
            _converter = None


def converters_for(root, rev: str | None, pdf: bool | None, jobs: int | None) -> int | None:
    """How many processes should make the PDFs of a build of ``root`` (None: none, PDFs are off):
    one per CPU (converter.py: one imports WeasyPrint, the others are forked from it when there
    is work for them). Cheap: read before anything else."""
    from pathlib import Path

    from ..config import load_settings
    from ..errors import ValidationFailed

    if pdf is None and rev is None:
        try:
            pdf = load_settings(Path(root)).pdf
        except (ValidationFailed, OSError):
            pdf = None
    if pdf is False:
        return None
    if pdf is None:  # made by default only up to PDF_AUTO_DOCUMENTS documents (build.pdf_by_default)
        try:
            documents = sum(1 for _ in (Path(root) / "policy").glob("*.yaml"))
        except OSError:
            documents = 0
        if documents - 1 > PDF_AUTO_DOCUMENTS:  # (models.yaml is not a document)
            return None
    return jobs if jobs is not None else (os.cpu_count() or 1)


def flush() -> None:
    """Every PDF of this batch has been begun: the converter may share them out."""
    if _converter is not None:
        _converter.flush()


def begin(html: Callable[[], str], base_url: str | None) -> Callable[[], bytes]:
    """Start making a PDF (in the Converter when there is one); returns what waits for it."""
    text = html()
    if _converter is None:
        data = to_pdf(text, base_url)
        return lambda: data
    future = _converter.submit(text, base_url)
    return future.result
