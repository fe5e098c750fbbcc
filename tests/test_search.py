"""The search index (Pagefind) built with the site: shards per language, deterministic, a shard
indexed again only when a page it holds changed, absent with search = false. The browser tests
search it (tests/test_browser.py), sharded too."""

from __future__ import annotations

import hashlib
import json
import sys

import pytest

from conftest import REPO, build_root
from generator.build import build
from generator.render import search
from generator.render.search import SEARCH_DIR, SHARDS, STAMP, Indexed, shards_of

sys.path.insert(0, str(REPO / "benchmarks"))
from corpus import generate  # noqa: E402


def digest(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((folder / SEARCH_DIR).rglob("*")) if p.is_file()}


def inodes(folder, shard):
    return {p.relative_to(folder).as_posix(): p.stat().st_ino for p in (folder / SEARCH_DIR / shard).rglob("*")
            if p.is_file()}


def test_the_index_is_deterministic_per_language_and_only_what_the_pages_load(root, tmp_path, cli):
    assert cli(["translations", "--update", "de"], cwd=root).exit_code == 0
    one, two = tmp_path / "one", tmp_path / "two"
    build(root, one)
    build(root, two)
    assert digest(one) == digest(two) and digest(one)
    shards = json.loads((one / SEARCH_DIR / SHARDS).read_text())
    assert shards == {"en": ["en-w0", "en-p0"], "de": ["de-w0", "de-p0"]}  # the exceptions page; the documents
    for lang, names in shards.items():
        for i, name in enumerate(names):
            files = {p.name for p in (one / SEARCH_DIR / name).iterdir()}
            entry = json.loads((one / SEARCH_DIR / name / "pagefind-entry.json").read_text())
            assert set(entry["languages"]) == {lang}  # one language a shard
            assert "pagefind-ui.js" not in files and "pagefind-component-ui.js" not in files
            # Pagefind's script and WebAssembly: in the first shard only (merged shards use its)
            assert ("pagefind.js" in files) == (f"wasm.{lang}.pagefind" in files) == (i == 0)
    # what is indexed: documents and exceptions pages (versions are not: their text no longer applies)
    for page in ("main/index.html", "exceptions/index.html", "de/main/index.html"):
        assert "<main id=\"main\" tabindex=\"-1\" data-pagefind-body>" in (one / page).read_text()
    for page in ("index.html", "matrix/index.html", "404.html"):
        assert "data-pagefind-body" not in (one / page).read_text()


def test_only_the_shard_of_a_changed_page_is_indexed_again(root, tmp_path):
    out = tmp_path / "site"
    build(root, out)
    first = (out / STAMP).read_text()
    before = {p: (out / p).stat().st_ino for p in digest(out)}
    build(root, out)  # nothing changed: the index is the same files (hard links), not indexed again
    assert (out / STAMP).read_text() == first
    assert {p: (out / p).stat().st_ino for p in digest(out)} == before
    main = root / "policy" / "main.yaml"
    main.write_text(main.read_text().replace("Designing weapons.", "Designing weapons and zzqqy."))
    old_index, exceptions_shard, documents_shard = digest(out), inodes(out, "en-w0"), inodes(out, "en-p0")
    build(root, out)
    assert (out / STAMP).read_text() != first and digest(out) != old_index
    assert inodes(out, "en-w0") == exceptions_shard  # the exceptions page did not change: not indexed again
    assert inodes(out, "en-p0") != documents_shard
    # the spare tree's index keeps no shard that is not one of this build's (a stray, an old layout)
    spare = out.parent / ".site.spare" / SEARCH_DIR
    (spare / "en-p9").mkdir()
    (spare / "pagefind.js").write_text("an index of before shards")
    main.write_text(main.read_text().replace("zzqqy", "zzqqx"))
    build(root, out)
    assert sorted(p.name for p in (out / SEARCH_DIR).iterdir()) == sorted(["en-w0", "en-p0", SHARDS])


def test_documents_spread_over_shards_that_stay_put(root, tmp_path, monkeypatch):
    monkeypatch.setattr(search, "SHARD_PAGES", 2)
    big = tmp_path / "big"
    generate(big, documents=9, rules=90, exceptions=9)
    out = tmp_path / "site"
    build(big, out)
    shards = json.loads((out / SEARCH_DIR / SHARDS).read_text())["en"]
    assert shards[0] == "en-w0" and len(shards) > 3 and all(n.startswith("en-p") for n in shards[1:])
    pages = {}
    for name in shards:  # every document page is in exactly one shard
        meta = (out / SEARCH_DIR / name / "pagefind-entry.json").read_text()
        assert json.loads(meta)["languages"]["en"]["page_count"] >= 1
        pages[name] = json.loads(meta)["languages"]["en"]["page_count"]
    assert sum(pages.values()) == 9 + 1
    # one document edited: only its shard is indexed again
    doc = big / "policy" / "doc-004.yaml"
    before = {name: inodes(out, name) for name in shards}
    doc.write_text(doc.read_text().replace("title: Generated policy document 4", "title: Generated document four"))
    build(big, out)
    plan = shards_of({p: Indexed("en", "", p.startswith("exceptions/"))
                      for p in [f"doc-{i:03d}/index.html" for i in range(9)] + ["exceptions/index.html"]})
    mine = next(name for name, paths in plan.items() if "doc-004/index.html" in paths)
    changed = {name for name in shards if inodes(out, name) != before[name]}
    assert changed == {mine}


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
    assert (out / SEARCH_DIR / "en-w0" / "pagefind.js").is_file()


def test_a_site_of_many_rules_gets_search_only_when_it_asks(root, tmp_path, cli, monkeypatch):
    """Indexing time grows with the text: 100,000 rules added 4 s to the build (its memory is
    bounded by the shards)."""
    from generator.render import search

    monkeypatch.setattr(search, "SEARCH_AUTO_RULES", 1)
    out = tmp_path / "site"
    result = cli(["build", "--root", str(root), "--out", str(out), "--no-pdf"])
    assert result.exit_code == 0 and "rules are more than 1 (indexing takes" in result.output
    assert not (out / SEARCH_DIR).exists() and "site-search" not in (out / "main" / "index.html").read_text()


def _fake_pagefind(tmp_path, monkeypatch, script: str):
    fake = tmp_path / "fake-pagefind"
    fake.write_text("#!/bin/sh\n" + script)
    fake.chmod(0o755)
    monkeypatch.setattr(search, "executable", lambda: fake)


def test_a_failing_indexer_fails_the_build_and_leaves_the_site_as_it_was(root, tmp_path, monkeypatch, cli):
    out = tmp_path / "site"
    assert cli(["build", "--root", str(root), "--out", str(out), "--no-pdf"]).exit_code == 0
    before = digest(out)
    main = root / "policy" / "main.yaml"
    main.write_text(main.read_text().replace("Designing weapons.", "Designing weapons and zzqqy."))
    _fake_pagefind(tmp_path, monkeypatch, "echo 'Error: the disk is full' >&2\nexit 3\n")
    result = cli(["build", "--root", str(root), "--out", str(out), "--no-pdf"])
    assert result.exit_code == 1, result.output
    assert "the search index could not be built (pagefind, shard en-p0): Error: the disk is full" in result.output
    assert "Traceback" not in result.output
    assert digest(out) == before and "zzqqy" not in (out / "main" / "index.html").read_text()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".site.tmp")]


def test_an_indexer_that_hangs_is_stopped(root, tmp_path, monkeypatch):
    monkeypatch.setattr(search, "TIMEOUT", 0.5)
    _fake_pagefind(tmp_path, monkeypatch, "exec sleep 30\n")
    with pytest.raises(search.SearchIndexFailed, match=r"shard en-\w+ took over 0.5 s"):
        build(root, tmp_path / "site")


def test_shards_are_bounded_and_pages_stay_in_theirs(monkeypatch):
    monkeypatch.setattr(search, "SHARD_PAGES", 2)
    monkeypatch.setattr(search, "MAX_SHARDS", 4)

    def plan(n: int, lang: str = "en") -> dict[str, list[str]]:
        pages = {f"{lang}/doc-{i:03d}/index.html": Indexed(lang, "", False) for i in range(n)}
        pages[f"{lang}/exceptions/index.html"] = Indexed(lang, "", True)
        return shards_of(pages)

    small = plan(3)  # 2 shards for 3 pages of at most 2 (by a hash: one may be empty, and is not made)
    assert list(small)[0] == "en-w0" and set(small) - {"en-w0"} <= {"en-p0", "en-p1"}
    big = plan(40)
    assert len(big) == 1 + 4 and sum(len(p) for p in big.values()) == 41  # at most 4: 10 pages each
    where = {path: name for name, paths in big.items() for path in paths}
    more = plan(45)  # pages come: the ones there stay in their shards
    assert all(where[path] == name for name, paths in more.items() for path in paths if path in where)
    both = shards_of({**{p: Indexed("en", "", False) for p in ("a/index.html", "b/index.html")},
                      **{p: Indexed("de", "", False) for p in ("de/a/index.html",)}})
    assert set(both) == {"de-p0", "en-p0"}  # languages never share a shard
