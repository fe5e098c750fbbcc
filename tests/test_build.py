"""`policy build`: what the pages hold, settings, determinism, atomicity and incremental rebuilds."""

from __future__ import annotations

import hashlib
import html
import collections
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import jinja2
import pytest

from conftest import REPO, Repo, build_root
from generator.build import build
from generator.errors import UsageError, ValidationFailed
from generator.validate import load_corpus

sys.path.insert(0, str(REPO / "benchmarks"))
from corpus import generate  # noqa: E402


def tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("example") / "site"
    build(REPO, out)
    return out


def test_site_layout(example):
    files = {f for f in tree(example) if not f.startswith(("versions/", "pagefind/"))}
    assert {"pagefind/shards.json", "pagefind/en-w0/pagefind.js", "pagefind/en-w0/pagefind-entry.json",
            "pagefind/en-p0/pagefind-entry.json"} <= set(tree(example))
    assert {"versions/index.html", "versions/usage-policy/2024-06-06/index.html",
            "versions/usage-policy/2024-06-06/changes/index.html"} <= set(tree(example))
    assert files == {"feed.xml", "calendar.ics",
        ".buildinfo", ".search", "404.html", "usage-policy.pdf", "exceptions.pdf", "assets/style.css", "assets/search.js", "exceptions.md", "exceptions/index.html", "index.html",
        "matrix/index.html", "sitemap.xml", "usage-policy.md", "usage-policy/index.html",
        "bundle/bundle.tar.gz", "bundle/data.json", "bundle/data.schema.json", "bundle/policy.rego"} | {
        f"{locale}/{page}" for locale in ("ar", "de") for page in (
            "index.html", "usage-policy/index.html", "usage-policy.md", "exceptions/index.html", "exceptions.md")}


def test_every_rule_has_its_anchor_permalink_and_marks(example):
    corpus = load_corpus(REPO)
    page = (example / "usage-policy" / "index.html").read_text()
    twin = (example / "usage-policy.md").read_text()
    for rule in corpus.rules.values():
        # the rule's id is on its heading (one id, the link target); the id shown is its permalink
        assert re.search(rf'<article class="rule[^"]*">\n<h\d id="{re.escape(rule.id)}">', page), rule.id
        assert f'<p class="rule-meta"><a href="#{rule.id}">{rule.id}</a>' in page
        assert f'<a id="{rule.id}"></a>' in twin
        block = page.split(f'id="{rule.id}"', 1)[1].split("</article>", 1)[0]
        twin_block = twin.split(f'<a id="{rule.id}"></a>', 1)[1].split("<a id=", 1)[0]
        if rule.effect == "prohibit" and not rule.waivable:
            assert "Never waived" in block and "Never waived" in twin_block
        if rule.waivable:
            assert "Can be relaxed by a contractual exception" in block
            assert "government-foreign-intelligence" in block  # which exception relaxes it
        for ob in rule.obligations:
            title = corpus.obligations[ob].title
            assert title in html.unescape(block) and title in twin_block
        first_line = rule.text.strip().splitlines()[0]
        assert first_line in html.unescape(block) and first_line in twin_block
    for section in corpus.sections.values():
        assert '<section class="section level-' in page and f'id="{section.id}"' in page
        assert f'<li><a href="#{section.id}">' in page  # table of contents


def test_support_page_lists_active_exceptions_with_their_terms(example):
    page = (example / "exceptions" / "index.html").read_text()
    twin = (example / "exceptions.md").read_text()
    for text in ("combating human trafficking", "identifying covert influence or sabotage campaigns",
                 "advance warning of potential military activities", "Claude 3 Haiku (ASL-2)",
                 "Claude 3 Sonnet (ASL-2)", "26 June 2024", "26 June 2027", "legal-authority"):
        assert text in page and text in twin
    assert "Claude Opus 4" not in page  # ASL-3: above the cap
    assert 'href="../usage-policy/#weapons.design"' in page
    assert "(usage-policy.md#weapons.design)" in twin


def test_drafts_and_retired_exceptions_are_not_published(tmp_path):
    root = build_root(tmp_path / "root")
    gov = (root / "exceptions" / "gov.yaml").read_text()
    (root / "exceptions" / "draft-one.yaml").write_text(
        gov.replace("id: gov", "id: draft-one").replace("status: active", "status: draft")
        .replace("Government analysis", "Secret draft"))
    (root / "exceptions" / "old-one.yaml").write_text(
        gov.replace("id: gov", "id: old-one").replace("status: active", "status: retired")
        .replace("Government analysis", "Old retired one"))
    build(root, tmp_path / "site")
    for path in ("exceptions/index.html", "exceptions.md", "matrix/index.html", "main/index.html", "index.html"):
        text = (tmp_path / "site" / path).read_text()
        assert "Secret draft" not in text and "draft-one" not in text
        assert "Old retired one" not in text and "old-one" not in text


def test_matrix_grid_and_list_forms(example, tmp_path):
    grid = (example / "matrix" / "index.html").read_text()
    assert "<table" in grid and '<th scope="col"><a href="../exceptions/#government-foreign-intelligence">' in grid
    assert '<td class="cell-relaxed">Relaxed</td>' in grid and '<td class="cell-retained">' in grid
    big = tmp_path / "big"
    generate(big, documents=2, rules=40, exceptions=40)
    build(big, tmp_path / "site")
    listed = (tmp_path / "site" / "matrix" / "index.html").read_text()
    corpus = load_corpus(big)
    active = [e for e in corpus.exceptions if e.status == "active"]
    assert "<table" not in listed and f"{len(active)} exceptions are in force: too many for a grid" in listed
    named = {r for e in active for r in (*e.retains, *(p.rule for p in e.permits))}
    assert listed.count("<dt>") == len([r for r in corpus.rules.values() if r.waivable or r.id in named])


def test_settings_notice_base_url_and_errors(tmp_path, cli):
    root = build_root(tmp_path / "root")
    (root / "pyproject.toml").write_text('[tool.policy]\norganization = "Acme"\nbase_url = "https://acme.test/p"\n'
                                         'notice = "Draft for discussion."\n')
    build(root, tmp_path / "site")
    for path in ("index.html", "main/index.html", "exceptions/index.html", "matrix/index.html"):
        text = (tmp_path / "site" / path).read_text()
        assert "Draft for discussion." in text and "· Acme</title>" in text
    assert '<link rel="canonical" href="https://acme.test/p/main/">' in (tmp_path / "site/main/index.html").read_text()
    sitemap = (tmp_path / "site" / "sitemap.xml").read_text()
    assert "<loc>https://acme.test/p/main/</loc><lastmod>2024-06-06</lastmod>" in sitemap
    (root / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.policy]\norganisation = "Acme"\n'
                                         'illustrative = "yes"\n')
    result = cli(["check"], cwd=root)
    assert result.exit_code == 1
    assert result.output.splitlines()[:2] == [
        "pyproject.toml:5:1: unknown setting 'organisation' in [tool.policy]; did you mean 'organization'? "
        "allowed: base_url, exceptions_title, illustrative, language, notice, notice_days, organization, owners, pdf, require_approval, search",
        "pyproject.toml:6:1: [tool.policy] illustrative must be true or false"]


def test_two_builds_are_byte_identical(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    env = dict(os.environ, TZ="Pacific/Kiritimati")  # another time zone, and (below) a later clock
    subprocess.run([sys.executable, "-m", "generator", "build", "--root", str(REPO), "--out",
                    str(tmp_path / "a")], check=True, capture_output=True, env=env)
    time.sleep(1.1)  # a later clock must not change a byte
    build(REPO, tmp_path / "b")
    assert tree(tmp_path / "a") == tree(tmp_path / "b")


def test_pages_name_the_git_revision_and_a_dirty_tree(tmp_path):
    repo = Repo(tmp_path / "repo")
    root, sha = repo.root, repo.commit("first version")
    build(root, tmp_path / "site")
    assert f"<code>{sha[:12]}</code>" in (tmp_path / "site" / "main" / "index.html").read_text()
    (root / "exceptions" / "gov.yaml").write_text((root / "exceptions" / "gov.yaml").read_text() + "\n")
    build(root, tmp_path / "site")
    assert f"<code>{sha[:12]} with uncommitted changes</code>" in (tmp_path / "site/main/index.html").read_text()
    repo.git.close()


def test_invalid_sources_write_nothing_and_keep_the_previous_site(tmp_path, cli):
    root = build_root(tmp_path / "root")
    out = tmp_path / "site"
    build(root, out)
    before = tree(out)
    (root / "policy" / "models.yaml").write_text("models: [\n")
    with pytest.raises(ValidationFailed):
        build(root, out)
    result = cli(["build", "--root", str(root), "--out", str(out)])
    assert result.exit_code == 1 and "nothing was written" in result.output
    assert tree(out) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".site")] == []


# Runs `policy build` in a child process whose fourth page stops (forever) as it is rendered, after
# three pages are written into the temporary folder, and says so by creating a marker file: the
# test kills it at that moment, with no race and no timing assumption.
_PAUSED_BUILD = """
import pathlib, sys, time
import generator.build as build_module
from generator.cli import main

marker = pathlib.Path(sys.argv.pop(1))
real = build_module.write_site

def pausing(pages, out, memory=None, seal=None, jobs=None, finish=None, meanwhile=None):
    import dataclasses

    def pause_then(render):
        def paused():
            marker.write_text("paused")
            time.sleep(3600)
            return render()
        return paused

    pages = list(pages)
    pages[3] = dataclasses.replace(pages[3], render=pause_then(pages[3].render))  # the fourth page to render
    return real(pages, out, memory, seal, jobs=1, finish=finish, meanwhile=meanwhile)  # the pause: in this very process

build_module.write_site = pausing
main()
"""


def _processes_with(argument: str, patience: float = 5.0) -> list[str]:
    """Processes whose command line holds ``argument`` (after letting dying ones go)."""
    deadline = time.monotonic() + patience
    while True:
        found = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and argument.encode() in (entry / "cmdline").read_bytes():
                    found.append(entry.name)
            except OSError:
                continue
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_a_killed_build_leaves_the_previous_site_untouched(tmp_path):
    root = tmp_path / "corpus"
    generate(root, documents=5, rules=200, exceptions=20)
    out = tmp_path / "site"
    build(root, out)
    build(root, out)  # a second time: now the first build's tree is kept as the spare one
    assert (tmp_path / ".site.spare" / ".buildinfo").is_file()
    before = tree(out)
    page = root / "policy" / "doc-001.yaml"
    page.write_text(page.read_text().replace("Generated policy document 1\n", "Renamed document\n"))
    marker = tmp_path / "paused"
    proc = subprocess.Popen([sys.executable, "-c", _PAUSED_BUILD, str(marker), "build", "--root", str(root),
                             "--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    hang_guard = time.monotonic() + 300  # not a speed bar: only so that a hung child fails the test
    while not marker.exists():  # the child creates it mid-write, or ends (a failure, reported)
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < hang_guard, "the child build never reached its third page"
        time.sleep(0.01)
    temporaries = [p for p in tmp_path.iterdir() if p.name.startswith(".site.tmp-")]
    assert len(temporaries) == 1 and any(temporaries[0].rglob("*.*"))  # caught half-written
    assert not (tmp_path / ".site.spare").exists()  # it was being updated: taken, and unmarked
    assert not (temporaries[0] / ".buildinfo").exists()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _processes_with(str(marker)) == []  # its helper processes (the PDF converter) died with it
    assert tree(out) == before  # every byte of the old site is still there (pages linked to it too)
    build(root, out)  # the next build succeeds and removes the leftover
    assert "Renamed document" in (out / "index.html").read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".site")] == [".site.spare"]


def test_refuses_to_replace_folders_it_did_not_write(tmp_path, root):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(UsageError, match="did not write"):
        build(root, precious)
    with pytest.raises(UsageError, match="holding the sources"):
        build(root, root)
    assert (precious / "notes.txt").read_text() == "keep me"


def test_rebuild_renders_only_what_changed_and_matches_a_full_build(tmp_path):
    root = tmp_path / "corpus"
    generate(root, documents=5, rules=200, exceptions=20)
    out = tmp_path / "site"
    first = build(root, out)
    assert first.stats.rendered == first.stats.pages
    again = build(root, out)
    assert again.stats.rendered == 0
    bundle = {name: (out / "bundle" / name).stat().st_ino for name in ("data.json", "bundle.tar.gz")}
    doc = root / "policy" / "doc-002.yaml"
    doc.write_text(doc.read_text().replace("title: Part 1 of document 2", "title: Part one of document 2"))
    third = build(root, out, memory={}, sources={})
    # doc-002's page, Markdown twin and PDF; the bundle's data.json and archive, made from every
    # source file, are made again: their bytes are the same (no section title in them), so the
    # live files are kept, inode and time (a host's ETag stays, services download nothing)
    assert sorted(third.stats.rendered_paths) == ["bundle/bundle.tar.gz", "bundle/data.json", "doc-002.md",
                                                  "doc-002.pdf", "doc-002/index.html"]
    assert {name: (out / "bundle" / name).stat().st_ino for name in bundle} == bundle
    build(root, tmp_path / "fresh")
    assert tree(out) == tree(tmp_path / "fresh")
    rule = re.search(r"- id: doc-002\.rule-\S+\n\s+title: .*", doc.read_text())
    assert rule, "a rule title to edit"
    doc.write_text(doc.read_text().replace(rule.group(0), rule.group(0).split("title:")[0] + "title: An edited rule title"))
    build(root, out)
    assert (out / "bundle" / "data.json").stat().st_ino != bundle["data.json"]
    assert b"An edited rule title" in (out / "bundle" / "data.json").read_bytes()


def test_build_command(tmp_path, cli, root):
    result = cli(["build", "--root", str(root), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert re.match(r"policy build: wrote 19 files to .*out \(19 rendered, 0 unchanged\) from no git revision",
                    result.output)
    gov = root / "exceptions" / "gov.yaml"
    gov.write_text(gov.read_text().replace("status: active", "status: draft"))
    strict = cli(["build", "--strict", "--root", str(root), "--out", str(tmp_path / "out2")])
    assert strict.exit_code == 1 and not (tmp_path / "out2").exists()


def test_builds_through_the_spare_tree_equal_builds_from_scratch(tmp_path):
    """The tree swapped out by a build is updated by the next one: after edits, a removed
    document, a damaged spare and a spare from a site that no longer matches, the site is byte
    for byte what a build into a new folder gives, and the live site's files are never written."""
    root = tmp_path / "corpus"
    generate(root, documents=6, rules=60, exceptions=6)
    out = tmp_path / "site"
    spare = tmp_path / ".site.spare"

    def fresh() -> dict[str, str]:
        other = tmp_path / f"fresh-{len(list(tmp_path.glob('fresh-*')))}"
        build(root, other)
        return tree(other)

    build(root, out)
    build(root, out)
    assert tree(spare) == tree(out)  # nothing changed: the spare is the same site
    live = {p: (out / p).stat().st_ino for p in tree(out)}
    doc1, extra = root / "policy" / "doc-001.yaml", root / "policy" / "doc-106.yaml"
    extra.write_text(doc1.read_text().replace("doc-001", "doc-106").replace("-001", "-106"))  # a document more
    doc1.write_text(doc1.read_text().replace("Generated policy document 1\n", "Renamed document\n"))
    build(root, out)
    assert tree(out) == fresh() and (out / "doc-106" / "index.html").is_file()
    kept = [p for p in tree(out) if (out / p).stat().st_ino == live.get(p)]
    assert kept and len(kept) < len(live)  # unchanged pages are links to what was live; changed ones new
    build(root, out)  # now the spare holds doc-106 too
    extra.unlink()  # a document goes: its pages must go from the spare as well
    build(root, out)
    assert tree(out) == fresh() and not (out / "doc-106").exists()
    build(root, out)
    assert tree(out) == fresh()
    (spare / ".buildinfo").unlink()  # a spare that cannot say what it holds is not used
    (spare / "stray.html").write_text("not ours")
    build(root, out)
    assert tree(out) == fresh() and not (out / "stray.html").exists()
    shutil.rmtree(spare)  # and one that is gone is not missed
    build(root, out)
    assert tree(out) == fresh()


def test_pages_rendered_by_worker_processes_are_the_same_bytes(tmp_path, monkeypatch):
    """With many pages to render, forked workers share them out; the site is byte for byte the
    one a single process writes, and a page that fails in a worker fails the build as a whole,
    leaving the previous site and no temporary folder behind."""
    import generator.render.site as site

    root = tmp_path / "corpus"
    generate(root, documents=70, rules=700, exceptions=20)
    one, two = tmp_path / "one", tmp_path / "two"
    forks = []
    real_fork = site._fork_worker
    monkeypatch.setattr(site, "_fork_worker", lambda share: forks.append(1) or real_fork(share))
    renders = tmp_path / "renders"  # one line per page rendered, naming the process (appends are atomic)
    real_template_render = jinja2.Template.render

    def noted(self, *args, **kwargs):
        with open(renders, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        return real_template_render(self, *args, **kwargs)

    monkeypatch.setattr(jinja2.Template, "render", noted)
    build(root, one, jobs=1, pdf=False)
    assert forks == [] and set(renders.read_text().split()) == {str(os.getpid())}
    renders.unlink()
    build(root, two, jobs=3, pdf=False)
    by_process = collections.Counter(renders.read_text().split())
    assert len(forks) == 2 and len(by_process) == 3  # two workers beside this process, each took pages
    assert min(by_process.values()) > 10
    assert tree(one) == tree(two)
    monkeypatch.setattr(jinja2.Template, "render", real_template_render)

    before = tree(two)
    doc = root / "policy" / "doc-001.yaml"
    doc.write_text(doc.read_text().replace("Generated policy document 1\n", "Renamed document\n"))
    parent = os.getpid()
    real_render = jinja2.Template.render

    def fails_in_workers(self, *args, **kwargs):
        if os.getpid() != parent:
            raise ValueError("boom")
        time.sleep(0.2)  # pages are taken by whoever is free: leave some to the workers
        return real_render(self, *args, **kwargs)

    monkeypatch.setattr(jinja2.Template, "render", fails_in_workers)
    monkeypatch.setattr(site, "PARALLEL_MIN_PAGES", 2)  # the few pages the edit changed, shared out too
    with pytest.raises(site.RenderFailed, match="boom"):
        build(root, two, jobs=2, pdf=False)
    assert tree(two) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".two.tmp-")] == []


def test_compiled_templates_are_kept_and_a_damaged_cache_is_no_cache(tmp_path, monkeypatch):
    """Jinja2's bytecode cache (0.1 s of every rebuild): in the tool's cache, never fatal."""
    from generator.render import engine

    def code() -> bytes:  # the compiled template a fresh environment gets
        return engine._environment(True).get_template("404.html").root_render_func.__code__.co_code

    monkeypatch.setenv("POLICY_CACHE_DIR", str(tmp_path / "cache"))
    compiled = code()
    kept = list((tmp_path / "cache").rglob("*.cache"))
    assert kept and all("templates-" in str(p) for p in kept)
    stamps = {p: p.stat().st_mtime_ns for p in kept}
    assert code() == compiled and {p: p.stat().st_mtime_ns for p in kept} == stamps  # read, not written again
    for path in kept:  # the magic number, then garbage: read as no cache, compiled again
        path.write_bytes(jinja2.bccache.bc_magic + b"\x80garbage")
    assert code() == compiled
    shutil.rmtree(tmp_path / "cache")
    (tmp_path / "cache").write_text("not a folder")  # cannot be written: compiled, not kept
    assert code() == compiled


def test_the_policy_command_hides_its_objects_from_the_exit_collection(monkeypatch, capsys):
    """generator.cli.entry (the console script, python -m generator): gc.freeze after the command,
    whatever its outcome (the exit's collection took 0.2-0.3 s of a 0.9 s rebuild)."""
    import gc
    import tomllib

    from generator import cli

    assert tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]["policy"] == "generator.cli:entry"
    frozen = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))
    for argv, code in ((["policy", "--version"], 0), (["policy", "no-such-command"], 2)):
        monkeypatch.setattr(sys, "argv", argv)
        with pytest.raises(SystemExit) as exit_:
            cli.entry()
        assert exit_.value.code == code
    assert frozen == [True, True]
