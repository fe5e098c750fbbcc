"""The built site in headless chromium: accessibility (axe-core), every link and anchor resolves,
no JavaScript needed, responsive, printable, and hostile source text stays inert."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urldefrag, urljoin

import pytest

from browser import axe_violations, browser, serve
from conftest import REPO, build_root
from generator.build import build

PAGES = ["index.html", "usage-policy/", "exceptions/", "matrix/", "404.html", "versions/",
         "versions/usage-policy/2024-06-06/", "versions/usage-policy/2025-09-15/changes/"]
# every page of every locale: the complete German one, and the partial, stale, right-to-left Arabic one
LOCALE_PAGES = [f"{code}/{page}" for code in ("de", "ar") for page in ("", "usage-policy/", "exceptions/")]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("example") / "site"
    build(REPO, out)
    return out


@pytest.fixture(scope="module")
def chromium():
    with browser() as b:
        yield b


@pytest.fixture(scope="module")
def base_url(site):
    with serve(site) as url:
        yield url


@pytest.mark.parametrize("path", PAGES + LOCALE_PAGES)
def test_axe_finds_no_violations(chromium, base_url, path):
    context = chromium.new_context(bypass_csp=True)  # the injected axe script; pages keep their CSP
    page = context.new_page()
    page.goto(base_url + path)
    violations = axe_violations(page)
    context.close()
    assert violations == [], "\n".join(f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}" for v in violations)


def test_every_internal_link_and_anchor_resolves(chromium, base_url):
    page = chromium.new_page()
    todo, seen, ids_of, broken = [base_url], set(), {}, []
    links: list[tuple[str, str]] = []
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        response = page.request.get(url)  # a calendar or an archive would start a download, not a page
        if response.status != 200:
            broken.append(f"{url}: HTTP {response.status}")
            continue
        if "html" not in (response.headers.get("content-type") or ""):
            continue
        page.goto(url)
        ids_of[url] = set(page.eval_on_selector_all("[id]", "els => els.map(e => e.id)"))
        for href in page.eval_on_selector_all("a[href], link[href]", "els => els.map(e => e.getAttribute('href'))"):
            absolute = urljoin(url, href)
            if not absolute.startswith(base_url):
                continue
            links.append((url, absolute))
            target, _ = urldefrag(absolute)
            if target not in seen:
                todo.append(target)
    for source, absolute in links:
        target, fragment = urldefrag(absolute)
        if target in ids_of and fragment and fragment not in ids_of[target]:
            broken.append(f"{source} -> {absolute}: no element with id {fragment!r}")
    page.close()
    assert len(seen) >= 7  # 4 pages, 2 Markdown twins, the stylesheet
    assert broken == []


def test_screenshot_of_the_support_page(chromium, base_url, tmp_path):
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.goto(base_url + "exceptions/")
    shot = REPO / "build" / "screenshots" / "exceptions.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    heading = page.locator("h1").inner_text()
    assert heading == "Exceptions to our Usage Policy"
    assert page.locator("#government-foreign-intelligence").is_visible()


def test_readable_without_javascript_and_no_inline_scripts(chromium, base_url):
    """Everything reads without JavaScript; the one script (the search box, which stays hidden
    without it) comes from the site itself, and the policy allows nothing inline."""
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    for path in PAGES[:4]:
        page.goto(base_url + path)
        assert page.eval_on_selector_all("script", "els => els.map(e => e.getAttribute('src'))") == [
            ("" if path == "index.html" else "../" * path.count("/")) + "assets/search.js"]
        assert page.locator("script:not([src])").count() == 0
        assert not page.locator(".site-search").is_visible()
        assert page.locator("main").inner_text().strip()
        csp = page.locator('meta[http-equiv="Content-Security-Policy"]').get_attribute("content")
        assert "default-src 'none'" in csp and "script-src 'self' 'wasm-unsafe-eval';" in csp
        assert "unsafe-inline" not in csp and "'unsafe-eval'" not in csp
    page.goto(base_url + "usage-policy/#weapons.design")
    assert page.locator("#weapons\\.design").inner_text().startswith("Designing or using weapons")
    context.close()


def test_fits_a_phone_and_prints_without_navigation(chromium, base_url):
    page = chromium.new_page(viewport={"width": 360, "height": 740})
    for path in PAGES[:4]:
        page.goto(base_url + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
    page.emulate_media(media="print")
    page.goto(base_url + "usage-policy/")
    for chrome in (".site-nav", ".language-nav", ".site-search", ".toc"):
        assert page.evaluate(f"getComputedStyle(document.querySelector('{chrome}')).display") == "none", chrome
    assert "Built from revision" in page.locator("footer").inner_text()
    page.pdf(path=str(REPO / "build" / "screenshots" / "usage-policy.pdf"))


@pytest.mark.parametrize("path", ["usage-policy/", "exceptions/", "de/usage-policy/", "ar/usage-policy/"])
def test_printing_a_page_from_the_browser_gives_its_whole_text_and_no_chrome(chromium, base_url, path):
    """What a reader gets from File > Print: chromium prints the page to PDF, read back with pypdf.
    (pypdf reads Arabic back in visual order, so on the Arabic page the clause ids and the
    clauses shown in English are compared.)"""
    import io

    from pypdf import PdfReader

    page = chromium.new_page()
    page.goto(base_url + path)
    latin_only = path.startswith("ar/")
    scope = '[lang="en"]' if latin_only else ""
    heading = ".rule > :first-child"  # a rule's heading; its text follows the meta line
    titles = page.eval_on_selector_all(f"{heading}{' span' + scope if latin_only else ''}, .exception h2",
                                       "els => els.map(e => e.textContent)")
    shown = "" if latin_only else ", .rule > :not(:first-child, [class])"  # the text in the page's language
    texts = page.eval_on_selector_all(f".rule-text{scope}, .exception .summary{shown}",
                                      "els => els.map(e => e.innerText)")
    ids = page.eval_on_selector_all(".rule-meta > a:first-child", "els => els.map(e => e.textContent)")
    chrome = page.eval_on_selector_all(".skip-link, .site-search label", "els => els.map(e => e.textContent)")
    chrome.append(" ".join(page.eval_on_selector_all(".language-nav a", "els => els.map(e => e.textContent)")))
    printed = PdfReader(io.BytesIO(page.pdf(format="A4"))).pages
    text = " ".join(" ".join(p.extract_text() for p in printed).split())
    assert ids and all(i in text for i in ids)
    assert titles and texts
    for title in titles:
        assert " ".join(title.replace("#", "").split()) in text, title
    for body in texts:  # the first words of every clause
        assert " ".join(body.split()[:6]) in text, body[:80]
    for label in chrome:  # no skip link, language switcher or search box on paper
        assert label.strip() not in text, label


def test_a_rules_shown_id_is_its_permalink_and_marks_the_rule_it_leads_to(chromium, base_url):
    """One id per rule, on its heading (the heading is the link target and names nothing twice);
    the id shown under the title is the link to it, and the rule it leads to is highlighted."""
    page = chromium.new_page()
    page.goto(base_url + "usage-policy/")
    rule = page.locator(".rule:has(> #weapons\\.cbrn)")
    assert rule.locator("> :first-child").evaluate("e => e.tagName") in ("H2", "H3", "H4")
    link = rule.locator(".rule-meta > a").first
    assert link.inner_text() == "weapons.cbrn" and link.get_attribute("href") == "#weapons.cbrn"
    highlighted = "rgb(255, 248, 225)"
    assert rule.evaluate("e => getComputedStyle(e).backgroundColor") != highlighted
    link.click()
    assert page.url.endswith("#weapons.cbrn")
    assert rule.evaluate("e => getComputedStyle(e).backgroundColor") == highlighted
    assert page.evaluate("document.querySelectorAll('[id=\"weapons.cbrn\"], [id$=\"--title\"]').length") == 1
    # parts and exceptions are not named regions: a page of a thousand exceptions would
    # otherwise list a thousand landmarks to a screen reader
    for path in ("usage-policy/", "exceptions/"):
        page.goto(base_url + path)
        assert page.locator("section.section[aria-labelledby], section.exception[aria-labelledby], "
                            "article.rule[aria-labelledby]").count() == 0
        assert page.locator("section.section, section.exception").count() > 0


def test_hostile_titles_render_inert(chromium, tmp_path):
    root = build_root(tmp_path / "root")
    main = root / "policy" / "main.yaml"
    main.write_text(main.read_text().replace(
        "title: Weapons", "title: \"<script>window.pwned=1</script><img src=x onerror='window.pwned=2'>\""))
    out = tmp_path / "site"
    build(root, out)
    html = (out / "main" / "index.html").read_text()
    assert "<script>window.pwned" not in html and "&lt;script&gt;" in html
    md = (out / "main.md").read_text()
    assert "<script>" not in md
    with serve(out) as url:
        page = chromium.new_page()
        page.goto(url + "main/")
        assert page.evaluate("window.pwned") is None
        assert "<script>window.pwned=1</script>" in page.locator("h3#weapons\\.design").inner_text()


def test_a_locale_page_reads_right_to_left_and_marks_what_is_not_translated(chromium, base_url):
    page = chromium.new_page()
    page.goto(base_url + "ar/usage-policy/")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert page.evaluate("getComputedStyle(document.querySelector('main')).direction") == "rtl"
    # a translated rule reads in Arabic; a stale one shows the English text, left to right, with a note
    assert "الأسلحة الكيميائية" in page.locator(".rule:has(> #weapons\\.cbrn)").inner_text()
    stale = page.locator(".rule:has(> #weapons\\.design)")  # the id is on its heading
    assert "Designing, producing, modifying or distributing weapons" in stale.inner_text()
    assert stale.locator(".rule-text").get_attribute("lang") == "en"
    assert page.evaluate("getComputedStyle(document.querySelector('.rule:has(> #weapons\\\\.design) .rule-text')).direction") == "ltr"
    assert stale.locator(".translation-note").inner_text().startswith("الترجمة قديمة")
    # the switcher leads to the same page in each language, and says which is current
    switcher = page.locator("nav.language-nav a")
    assert switcher.all_inner_texts() == ["English", "العربية", "Deutsch"]
    assert page.locator('nav.language-nav a[aria-current="true"]').get_attribute("lang") == "ar"
    switcher.nth(2).click()
    assert page.url == base_url + "de/usage-policy/"
    assert page.locator("h1").inner_text() == "Nutzungsrichtlinie"
    assert page.evaluate("document.documentElement.lang") == "de"
    assert page.locator(".translation-note").count() == 0  # the German translation is complete


def _search(page, words: str) -> list[tuple[str, str]]:
    box = page.locator("#site-search-input")
    box.fill(words)
    # (the page's CSP forbids evaluating strings, so wait_for_function cannot be used: poll)
    status = page.locator("#site-search-status")
    for _ in range(200):
        if status.inner_text().strip():
            break
        page.wait_for_timeout(50)
    return [(a.inner_text(), a.get_attribute("href")) for a in page.locator("#site-search-results a").all()]


def test_search_finds_a_clause_and_links_to_its_anchor_in_every_language(chromium, base_url):
    page = chromium.new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(base_url + "exceptions/")  # any page: the search covers the site
    assert page.locator(".site-search").is_visible()
    results = _search(page, "ransomware phishing")
    assert results and results[0][1].endswith("/usage-policy/#cyber.malicious-operations"), results
    assert results[0][0].startswith("Malicious cyber operations")
    assert "result" in page.locator("#site-search-status").inner_text()
    # keyboard: Down reaches the first result, Enter follows it to the clause
    page.locator("#site-search-input").press("ArrowDown")
    assert page.evaluate("document.activeElement.getAttribute('href')") == results[0][1]
    page.keyboard.press("Enter")
    page.wait_for_url("**/usage-policy/#cyber.malicious-operations")
    assert page.locator("#cyber\\.malicious-operations").is_visible()
    # each language searches its own pages
    page.goto(base_url + "de/")
    german = _search(page, "Schadsoftware")
    assert german and "/de/usage-policy/#cyber.malicious-operations" in german[0][1], german
    page.goto(base_url + "ar/")
    arabic = _search(page, "الأسلحة")
    assert arabic and all("/ar/" in href for _, href in arabic), arabic
    # nothing found is said, in words; Escape clears
    page.goto(base_url)
    assert _search(page, "zzxqvj") == []
    assert page.locator("#site-search-status").inner_text() == "No results for “zzxqvj”."
    page.locator("#site-search-input").press("Escape")
    assert page.locator("#site-search-input").input_value() == ""
    assert refused == []


def test_search_results_are_text_even_when_the_sources_hold_markup(chromium, tmp_path):
    root = build_root(tmp_path / "root")
    main = root / "policy" / "main.yaml"
    main.write_text(main.read_text().replace("title: Weapons", "title: \"Weapons <img src=x onerror='window.pwned=1'>\"")
                    .replace("text: Designing weapons.", "text: \"Designing weapons: `<img src=x onerror='window.pwned=2'>` qqzzy.\""))
    out = tmp_path / "site"
    build(root, out)
    with serve(out) as url:
        page = chromium.new_page()
        page.goto(url + "main/")
        results = _search(page, "qqzzy")
        assert results and results[0][1].endswith("/main/#weapons.design")
        assert results[0][0].startswith("Weapons <img src=x onerror='window.pwned=1'>")  # shown as text
        assert page.locator("#site-search-results img").count() == 0
        assert page.evaluate("window.pwned") is None


def test_search_ranks_results_from_every_shard_together(chromium, tmp_path, monkeypatch):
    """A large site's index is in shards (render/search.py): one search answers from all of them."""
    import json
    import sys

    from generator.render import search
    from generator.render.search import Indexed, shards_of

    sys.path.insert(0, str(REPO / "benchmarks"))
    from corpus import generate

    monkeypatch.setattr(search, "SHARD_PAGES", 2)
    root = tmp_path / "root"
    generate(root, documents=9, rules=90, exceptions=9)
    paths = [f"doc-{i:03d}/index.html" for i in range(9)]
    plan = shards_of({p: Indexed("en", "", False) for p in paths})
    picked = [paths[0] for paths in plan.values()]  # one document of each shard
    assert len(picked) >= 3
    for path in picked:
        doc = root / "policy" / f"{path.split('/')[0]}.yaml"
        doc.write_text(doc.read_text().replace("summary: |\n", "summary: |\n  Zqxwords appear here.\n", 1))
    out = tmp_path / "site"
    build(root, out)
    assert len(json.loads((out / "pagefind" / "shards.json").read_text())["en"]) == len(plan) + 1
    with serve(out) as url:
        page = chromium.new_page()
        page.goto(url + "doc-005/")
        results = _search(page, "zqxwords")
        found = {href.split("/")[-2] for _, href in results}
        assert found == {path.split("/")[0] for path in picked}, results
