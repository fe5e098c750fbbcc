"""The search index (Pagefind) built with the site: one index per language, deterministic,
rebuilt only when a page it reads changed, absent with search = false. The browser tests search it."""

from __future__ import annotations

import hashlib
import json

from conftest import build_root
from generator.build import build
from generator.render.search import SEARCH_DIR, STAMP


def digest(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((folder / SEARCH_DIR).rglob("*")) if p.is_file()}


def test_the_index_is_deterministic_per_language_and_only_what_the_pages_load(root, tmp_path, cli):
    assert cli(["translations", "--update", "de"], cwd=root).exit_code == 0
    one, two = tmp_path / "one", tmp_path / "two"
    build(root, one)
    build(root, two)
    assert digest(one) == digest(two) and digest(one)
    entry = json.loads((one / SEARCH_DIR / "pagefind-entry.json").read_text())
    assert set(entry["languages"]) == {"en", "de"}
    names = {p.name for p in (one / SEARCH_DIR).iterdir()}
    assert "pagefind.js" in names and "pagefind-ui.js" not in names and "pagefind-component-ui.js" not in names
    # what is indexed: documents and exceptions pages (versions are not: their text no longer applies)
    for page in ("main/index.html", "exceptions/index.html", "de/main/index.html"):
        assert "<main id=\"main\" tabindex=\"-1\" data-pagefind-body>" in (one / page).read_text()
    for page in ("index.html", "matrix/index.html", "404.html"):
        assert "data-pagefind-body" not in (one / page).read_text()


def test_the_index_is_rebuilt_only_when_an_indexed_page_changes(root, tmp_path):
    out = tmp_path / "site"
    build(root, out)
    first = (out / STAMP).read_text()
    before = {p: (out / p).stat().st_ino for p in digest(out)}
    build(root, out)  # nothing changed: the index is the same files (hard links), not indexed again
    assert (out / STAMP).read_text() == first
    assert {p: (out / p).stat().st_ino for p in digest(out)} == before
    main = root / "policy" / "main.yaml"
    main.write_text(main.read_text().replace("Designing weapons.", "Designing weapons and zzqqy."))
    old_index = digest(out)
    build(root, out)
    assert (out / STAMP).read_text() != first and digest(out) != old_index


def test_search_can_be_turned_off(root, tmp_path):
    out = tmp_path / "site"
    build(root, out)
    assert (out / SEARCH_DIR).is_dir()
    (root / "pyproject.toml").write_text("[tool.policy]\nsearch = false\n")
    build(root, out)
    build(root, out)  # the spare tree held an index: it goes too
    assert not (out / SEARCH_DIR).exists() and not (out / STAMP).exists()
    page = (out / "main" / "index.html").read_text()
    assert "<script" not in page and "script-src" not in page and "site-search" not in page
    assert not (out / "assets" / "search.js").exists()


def test_a_very_large_site_gets_search_only_when_it_asks(root, tmp_path, cli, monkeypatch):
    from generator.render import search

    monkeypatch.setattr(search, "SEARCH_AUTO_DOCUMENTS", 0)  # the test root's one document is "very large"
    out = tmp_path / "site"
    result = cli(["build", "--root", str(root), "--out", str(out), "--no-pdf"])
    assert result.exit_code == 0 and "note: the site has no search: 1 documents are more than 0" in result.output
    assert not (out / SEARCH_DIR).exists() and "site-search" not in (out / "main" / "index.html").read_text()
    (root / "pyproject.toml").write_text("[tool.policy]\nsearch = true\n")
    assert cli(["build", "--root", str(root), "--out", str(out), "--no-pdf"]).exit_code == 0
    assert (out / SEARCH_DIR / "pagefind.js").is_file()


def test_a_site_of_many_rules_gets_search_only_when_it_asks(root, tmp_path, cli, monkeypatch):
    """Pagefind's memory grows with the text: 1,000 documents of 100 rules took it to 1.07 GB."""
    from generator.render import search

    monkeypatch.setattr(search, "SEARCH_AUTO_RULES", 1)
    out = tmp_path / "site"
    result = cli(["build", "--root", str(root), "--out", str(out), "--no-pdf"])
    assert result.exit_code == 0 and "rules are more than 1 (its index takes" in result.output
    assert not (out / SEARCH_DIR).exists() and "site-search" not in (out / "main" / "index.html").read_text()
