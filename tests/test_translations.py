"""Translations: PO catalogs per locale, compared with the sources clause by clause (stale when
the source text changed after translating), rendered under /<locale>/ with the authoritative
text, flagged, wherever a clause is stale or missing. Real git repositories, real builds."""

from __future__ import annotations

import hashlib
import json

import polib
import pytest

from conftest import REPO, build_root
from generator.build import build
from generator.render.i18n import builtin_catalog, interface_strings, shipped_languages
from generator.translate.status import PLACEHOLDER


def pseudo_translate(path, code="de", skip=()) -> None:
    """Fill every entry of a catalog with a recognizable translation of its source text."""
    po = polib.pofile(str(path), wrapwidth=78)
    for entry in po:
        if entry.msgctxt not in skip and not entry.obsolete:
            entry.msgstr = f"[{code}] {entry.msgid}"
    po.save(str(path))


def translated(repo, cli, code="de", skip=()) -> None:
    assert cli(["translations", "--update", code], cwd=repo.root).exit_code == 0
    for path in sorted((repo.root / "translations" / code).glob("*.po")):
        if path.stem != "site":
            pseudo_translate(path, code, skip)


def test_a_complete_translation_is_published_under_its_locale(repo, cli, tmp_path):
    translated(repo, cli)
    status = json.loads(cli(["translations", "--format", "json", "--strict"], cwd=repo.root).output)
    de = status["locales"][0]
    assert (de["locale"], de["complete"], de["stale"], de["missing"]) == ("de", True, 0, 0)
    assert de["translated"] == de["clauses"] == 8  # head, 1 safeguard, 1 section, 3 rules; page title, 1 exception
    assert cli(["check", "--strict"], cwd=repo.root).exit_code == 0
    out = tmp_path / "site"
    build(repo.root, out)
    page = (out / "de" / "main" / "index.html").read_text()
    assert '<html lang="de" dir="ltr">' in page
    assert "[de] Designing weapons." in page and "[de] Weapons" in page
    assert 'class="translation-note"' not in page
    # interface text and dates in German; links between documents stay in the locale's tree
    assert "Verboten" in page and "6. Juni 2024" in page and "Zum Hauptinhalt springen" in page
    assert 'href="../../assets/style.css"' in page and 'href="../exceptions/#gov"' in page
    for page_path in ("main/index.html", "de/main/index.html"):
        html = (out / page_path).read_text()
        assert '<link rel="alternate" hreflang="en" href="../../main/">' in html or \
            '<link rel="alternate" hreflang="en" href="../main/">' in html
        assert 'hreflang="x-default"' in html and 'nav class="language-nav"' in html
    assert "\\[de\\] Weapons" in (out / "de" / "main.md").read_text()
    assert "de/main/" in (out / "sitemap.xml").read_text()


def test_bundles_are_language_neutral(repo, cli, tmp_path):
    plain = tmp_path / "plain"
    build(repo.root, plain)
    translated(repo, cli)
    with_locale = tmp_path / "translated"
    build(repo.root, with_locale)
    for name in ("bundle.tar.gz", "data.json", "policy.rego"):
        assert (plain / "bundle" / name).read_bytes() == (with_locale / "bundle" / name).read_bytes(), name


def test_a_changed_source_makes_its_clause_stale_until_the_translator_catches_up(repo, cli, tmp_path):
    translated(repo, cli)
    repo.commit("German translation")
    repo.edit("policy/main.yaml", "text: Designing weapons.", "text: Designing or building weapons.")
    result = cli(["check"], cwd=repo.root)
    assert result.exit_code == 0
    line = next(l for l in result.output.splitlines() if "weapons.design" in l)
    po_line = next(e.linenum for e in polib.pofile(str(repo.root / "translations/de/main.po"))
                   if e.msgctxt == "rule:weapons.design:text")
    assert line.startswith(f"translations/de/main.po:{po_line}:1: warning: the German translation of rule "
                           f"'weapons.design' was made from an earlier text: the text changed at policy/main.yaml:13:15")
    assert cli(["check", "--strict"], cwd=repo.root).exit_code == 1
    out = tmp_path / "site"
    build(repo.root, out)
    page = (out / "de" / "main" / "index.html").read_text()
    rule = page[page.index('id="weapons.design"'):page.index('id="surveillance.intelligence-analysis"')]
    assert "Designing or building weapons." in rule and "[de]" not in rule  # the whole clause, never half
    assert '<div class="rule-text" lang="en" dir="ltr">' in rule
    assert "Übersetzung veraltet:" in rule
    twin = (out / "de" / "main.md").read_text()
    assert "Designing or building weapons." in twin and "> **Übersetzung veraltet:**" in twin
    # --update keeps the old translation for reference, marks it fuzzy, records the old source
    assert cli(["translations", "--update", "de"], cwd=repo.root).exit_code == 0
    text = (repo.root / "translations/de/main.po").read_text()
    assert '#, fuzzy\n#| msgid "Designing weapons."\nmsgctxt "rule:weapons.design:text"\n' \
           'msgid "Designing or building weapons."\nmsgstr "[de] Designing weapons."' in text
    status = json.loads(cli(["translations", "--format", "json"], cwd=repo.root).output)["locales"][0]
    assert status["stale"] == 1 and status["files"][1]["stale_clauses"] == ["rule:weapons.design"]
    assert cli(["translations", "--strict"], cwd=repo.root).exit_code == 1
    # the translator updates the text and clears the flag: translated again
    po = polib.pofile(str(repo.root / "translations/de/main.po"))
    entry = next(e for e in po if e.msgctxt == "rule:weapons.design:text")
    entry.msgstr, entry.flags, entry.previous_msgid = "Waffen konstruieren oder bauen.", [], None
    po.save()
    assert cli(["check", "--strict"], cwd=repo.root).exit_code == 0
    build(repo.root, out)
    assert "Waffen konstruieren oder bauen." in (out / "de" / "main" / "index.html").read_text()


def test_missing_clauses_are_warned_and_shown_in_the_authoritative_language(repo, cli, tmp_path):
    translated(repo, cli, skip={"rule:high-risk.legal:text"})
    result = cli(["check"], cwd=repo.root)
    assert "translations/de/main.po: warning: rule 'high-risk.legal' (policy/main.yaml:18:9) has no German " \
           "translation" in result.output
    assert cli(["check", "--strict"], cwd=repo.root).exit_code == 1
    out = tmp_path / "site"
    build(repo.root, out)
    page = (out / "de" / "main" / "index.html").read_text()
    rule = page[page.index('id="high-risk.legal"'):]
    assert "Noch nicht übersetzt:" in rule and "[de] Legal advice" not in rule.split("</article>")[0]
    assert '<div class="rule-text" lang="en" dir="ltr">' in rule
    # a locale with no catalog at all: one warning per document, naming the file to create
    (repo.root / "translations" / "fr").mkdir()
    (repo.root / "translations" / "fr" / "exceptions.po").write_text('msgid ""\nmsgstr ""\n')
    result = cli(["check"], cwd=repo.root)
    assert "translations/fr/main.po: warning: document 'main' is not translated into French (6 clauses)" in result.output


def test_update_is_idempotent_and_retires_entries_of_removed_clauses(repo, cli):
    translated(repo, cli)
    again = cli(["translations", "--update", "de"], cwd=repo.root)
    assert "translations/de: already up to date" in again.output
    repo.edit("policy/main.yaml", "      - id: high-risk.legal\n        title: Legal advice\n"
              "        text: Legal advice needs review.\n        effect: require\n        obligations: [human-review]\n", "")
    result = cli(["check"], cwd=repo.root)
    assert 'msgctxt "rule:high-risk.legal:text" names nothing in document \'main\'' in result.output
    assert cli(["translations", "--update", "de"], cwd=repo.root).exit_code == 0
    text = (repo.root / "translations/de/main.po").read_text()
    assert '#~ msgctxt "rule:high-risk.legal:text"' in text
    assert "names nothing" not in cli(["check"], cwd=repo.root).output


def test_hostile_translations_are_escaped(root, cli, tmp_path):
    assert cli(["translations", "--update", "de"], cwd=root).exit_code == 0
    po = polib.pofile(str(root / "translations/de/main.po"))
    for entry in po:
        entry.msgstr = "<script>window.pwned=1</script>" + entry.msgid
    po.save()
    (root / "translations/de/site.po").write_text(
        'msgid ""\nmsgstr ""\n"Language: de\\n"\n\nmsgid "Prohibited"\nmsgstr "<img src=x onerror=alert(1)>"\n')
    out = tmp_path / "site"
    build(root, out)
    page = (out / "de" / "main" / "index.html").read_text()
    assert "<script>" not in page and "<img" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_right_to_left_locales(repo, cli, tmp_path):
    translated(repo, cli, "ar", skip={"rule:weapons.design:title", "rule:weapons.design:text"})
    out = tmp_path / "site"
    build(repo.root, out)
    page = (out / "ar" / "main" / "index.html").read_text()
    assert '<html lang="ar" dir="rtl">' in page and "العربية" in page
    assert '<div class="rule-text" lang="en" dir="ltr">' in page  # the untranslated clause keeps its direction


def test_a_revision_is_built_with_its_own_translations(repo, cli, tmp_path):
    translated(repo, cli)
    first = repo.commit("German")
    po = polib.pofile(str(repo.root / "translations/de/main.po"))
    next(e for e in po if e.msgctxt == "document:title").msgstr = "Neuer Titel"
    po.save()
    repo.commit("Retitled")
    out = tmp_path / "site"
    assert cli(["build", "--root", str(repo.root), "--out", str(out), "--rev", first]).exit_code == 0
    assert "<h1>[de] Test policy</h1>" in (out / "de" / "main" / "index.html").read_text()
    assert cli(["build", "--root", str(repo.root), "--out", str(out)]).exit_code == 0
    assert "<h1>Neuer Titel</h1>" in (out / "de" / "main" / "index.html").read_text()


def test_a_broken_catalog_stops_the_build_and_nothing_is_written(root, cli, tmp_path):
    (root / "translations/de").mkdir(parents=True)
    (root / "translations/de/main.po").write_text('msgctxt "document:title"\nmsgid "Test policy"\nmsgstr "Test\n')
    out = tmp_path / "site"
    result = cli(["build", "--root", str(root), "--out", str(out)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "translations/de/main.po:3:1: the text after msgstr is not closed with a double quote" in result.output
    assert not out.exists()


def test_the_example_builds_byte_identical_translations(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    build(REPO, one)
    build(REPO, two)
    def digest(folder):
        return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(folder.rglob("*")) if p.is_file() and p.parts[len(folder.parts)] in ("de", "ar")}
    assert digest(one) == digest(two) and len(digest(one)) == 10


@pytest.mark.parametrize("language", shipped_languages())
def test_shipped_interface_catalogs_are_complete_and_keep_placeholders(language):
    catalog = builtin_catalog(language)
    for text in interface_strings():
        assert text in catalog, (language, text)
        assert sorted(PLACEHOLDER.findall(catalog[text])) == sorted(PLACEHOLDER.findall(text)), (language, text)
    # and nothing no page shows any more (a dead entry would drift unnoticed)
    assert sorted(set(catalog) - set(interface_strings())) == [], language


def test_pages_with_nothing_in_the_authoritative_language_mark_nothing_either_way():
    """marks.NO_FALLBACK (page values on pages with no fallback) writes what the globals write."""
    import jinja2

    from generator.render import marks
    from generator.render.engine import html_environment, interface_context

    source = ('{{ src_attrs("rule:a") }}|{{ src_text("rule:a", "<T & t>") }}|{{ translation_note("rule:a") }}'
              '|{{ md_note("rule:a") }}')
    values = dict(fallback={}, source_lang="en", source_dir="ltr", source_name="English",
                  **interface_context(None, (), True))
    env = html_environment().overlay(loader=jinja2.DictLoader({"t": source}))
    with_globals = env.get_template("t").render(**values)
    assert with_globals == env.get_template("t").render(**values, **marks.NO_FALLBACK) == "|&lt;T &amp; t&gt;||"
    marked = env.get_template("t").render(**{**values, "fallback": {"rule:a": "stale"}})
    assert 'lang="en"' in marked and "translation-note" in marked


def test_a_clause_translated_twice_is_named_with_both_lines(root, cli):
    """Two entries for one clause (one msgctxt) are refused with both places, wherever they are
    in the file; obsolete entries (#~) are never read and never count. (polib's own duplicate
    check compared every entry with all before it, 13 s for the exceptions catalog of 2,000
    exceptions, and a duplicate before the last entry came out as a syntax error.)"""
    (root / "translations/de").mkdir(parents=True)
    head = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
    twice = ('msgctxt "document:title"\nmsgid "Test policy"\nmsgstr "Testrichtlinie"\n\n'
             'msgctxt "document:title"\nmsgid "Test policy"\nmsgstr "Richtlinie"\n\n'
             'msgctxt "document:summary"\nmsgid "x"\nmsgstr "y"\n')
    (root / "translations/de/main.po").write_text(head + twice)
    result = cli(["check", "--root", str(root)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert ('translations/de/main.po:9:1: msgctxt "document:title" is translated twice (first at line 5); '
            'each clause may be translated once: remove the repeated entry') in result.output
    obsolete = ('#~ msgctxt "document:title"\n#~ msgid "Old title"\n#~ msgstr "Alt"\n\n'
                'msgctxt "document:title"\nmsgid "Test policy"\nmsgstr "Testrichtlinie"\n')
    (root / "translations/de/main.po").write_text(head + obsolete)
    assert "translated twice" not in cli(["check", "--root", str(root)]).output


def test_reading_a_catalog_never_searches_it_entry_by_entry(monkeypatch):
    """The duplicate check is a set, not polib's search of every earlier entry for each new one
    (quadratic: 13 s of `policy translations` for the exceptions catalog of 2,000 exceptions)."""
    from generator.translate.catalog import read_catalog

    searches = []
    real = polib.POFile.find
    monkeypatch.setattr(polib.POFile, "find", lambda self, *a, **k: searches.append(a) or real(self, *a, **k))
    head = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
    body = "".join(f'msgctxt "rule:r{i}:text"\nmsgid "Text {i}"\nmsgstr "Text {i} (de)"\n\n' for i in range(200))
    catalog, problems = read_catalog("translations/de/big.po", (head + body).encode(), "big")
    assert problems == [] and catalog is not None and len(catalog.entries) == 200
    assert len(searches) <= 1  # (polib looks up the header entry once)


def test_update_parses_each_catalog_once(repo, cli, monkeypatch):
    """`translations --update` reads a catalog once to merge it; the check after it does not read
    again a catalog it left as it was (polib's parser is pure Python: three readings made the
    update 8.5 s at 2,000 documents, one makes it 4.3 s), and each new text is written once."""
    translated(repo, cli)
    parses, texts = [], []
    real_parse, real_str = polib.pofile, polib.POFile.__str__
    monkeypatch.setattr(polib, "pofile", lambda *a, **k: parses.append(1) or real_parse(*a, **k))
    monkeypatch.setattr(polib.POFile, "__str__", lambda self: texts.append(1) or real_str(self))
    catalogs = sorted((repo.root / "translations/de").glob("*.po"))
    again = cli(["translations", "--update", "de"], cwd=repo.root)
    assert "translations/de: already up to date" in again.output
    assert len(parses) == len(catalogs) and len(texts) == len(catalogs)
    repo.edit("policy/main.yaml", "Legal advice needs review.", "Legal advice needs a lawyer's review.")
    parses.clear()
    texts.clear()
    changed = cli(["translations", "--update", "de"], cwd=repo.root)
    assert changed.exit_code == 0 and "wrote translations/de/main.po" in changed.output
    assert len(parses) == len(catalogs) + 1  # and the one it wrote, checked
    assert "fuzzy" in (repo.root / "translations/de/main.po").read_text()
