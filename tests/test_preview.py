"""`policy preview`: a real HTTP server on 127.0.0.1 that rebuilds when a source file is saved and
shows validation errors in the page instead of crashing."""

from __future__ import annotations

import hashlib
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO
from generator.preview import Preview

sys.path.insert(0, str(REPO / "benchmarks"))
from corpus import generate  # noqa: E402


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def wait_for(condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the preview to rebuild")
        time.sleep(0.05)


@pytest.fixture
def preview(root):
    server = Preview(root, port=0)
    server.start()
    yield server
    server.stop()


def test_serves_rebuilds_on_save_and_shows_errors(preview, root):
    status, body = fetch(preview.url + "main/")
    assert status == 200 and "Designing weapons." in body
    main = root / "policy" / "main.yaml"
    good = main.read_text()

    builds = preview.builds
    main.write_text(good.replace("Designing weapons.", "Designing or building weapons."))
    wait_for(lambda: preview.builds > builds and "building weapons" in fetch(preview.url + "main/")[1])

    builds = preview.builds
    main.write_text(good.replace("title: Weapons", "title: Weapons\n        titel: <b>typo</b>"))
    wait_for(lambda: preview.builds > builds and fetch(preview.url + "main/")[0] == 500)
    status, body = fetch(preview.url + "main/")
    assert "The sources have 1 error" in body
    assert "policy/main.yaml:13:9: unknown key &#x27;titel&#x27; in rule &#x27;weapons.design&#x27;" in body
    assert "<b>typo</b>" not in body

    builds = preview.builds
    main.write_text(good)
    wait_for(lambda: preview.builds > builds and fetch(preview.url + "main/")[0] == 200)
    assert "Designing weapons." in fetch(preview.url + "main/")[1]


def test_only_changed_pages_are_rendered_again(preview, root):
    gov = root / "exceptions" / "gov.yaml"
    builds = preview.builds
    gov.write_text(gov.read_text().replace("combating human trafficking", "combating trafficking in persons"))
    wait_for(lambda: preview.builds > builds and "trafficking in persons" in fetch(preview.url + "exceptions/")[1])
    assert "trafficking in persons" in fetch(preview.url + "exceptions.md")[1]
    stats = preview.last_result.stats
    rendered = set(stats.rendered_paths)
    # exactly the pages that show the purpose, and the bundle that carries it; the rest reused
    assert rendered == {"exceptions/index.html", "exceptions.md", "bundle/data.json", "bundle/bundle.tar.gz"}
    assert stats.rendered == len(rendered) and stats.rendered + stats.reused == stats.pages


def test_the_first_build_takes_what_policy_check_kept(root, cli, monkeypatch):
    """The preview starts from the stage cache `policy check` (or `policy build`) left: a file
    it checked is not parsed again (at 5,000 documents, 4 s of a 15 s start)."""
    import generator.validate as validate

    assert cli(["check", "--root", str(root)]).exit_code == 0
    parsed = []
    real = validate._load_parsed
    monkeypatch.setattr(validate, "_load_parsed", lambda raw: parsed.append(raw.path) or real(raw))
    server = Preview(root, port=0)
    try:
        assert server.rebuild() and server.last_result.stats.pages > 0
        assert parsed == []
        (root / "policy" / "main.yaml").write_text((root / "policy" / "main.yaml").read_text().replace(
            "Designing weapons.", "Designing or building weapons."))
        assert server.rebuild()
        assert "Designing or building weapons." in (server.out / "main" / "index.html").read_text()
    finally:
        server.stop()


def test_in_git_a_save_or_a_commit_renders_only_what_changed(repo):
    """The pages of a preview say it is one (they do not name the revision, which every save
    marks "with uncommitted changes" and every commit changes): the first save, and a commit,
    render again only the pages the edit changed, not every page (at 5,000 documents, 10 s and
    13 s each). The bundle still records the revision."""
    server = Preview(repo.root, port=0)
    try:
        assert server.rebuild()
        page = (server.out / "main" / "index.html").read_text()
        assert "A preview of the working tree, not a published version." in page and "Built from" not in page
        assert "A preview of the working tree" in (server.out / "main.md").read_text()
        everything = server.last_result.stats.pages
        repo.edit("policy/main.yaml", "Designing weapons.", "Designing or building weapons.")
        assert server.rebuild()
        saved = set(server.last_result.stats.rendered_paths)
        assert "main/index.html" in saved and "main.md" in saved and len(saved) < everything / 2
        assert "exceptions/index.html" not in saved and "404.html" not in saved
        assert '"dirty":true' in (server.out / "bundle" / "data.json").read_text()
        sha = repo.commit("Reword weapons")
        assert server.rebuild()
        committed = set(server.last_result.stats.rendered_paths)
        assert "main/index.html" not in committed and "exceptions/index.html" not in committed
        assert f'"revision":"{sha}"' in (server.out / "bundle" / "data.json").read_text()
    finally:
        server.stop()


def tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_first_build_shares_its_pages_out_as_a_build_does(tmp_path, monkeypatch):
    """The preview's first build runs before its server's threads start, so it forks render
    workers as `policy build` does (5,000 documents on a tmpfs: 10.7 -> 7.2 s); the pages come
    back into its memory. Once other threads run, it renders in its own process (forking copies
    their locks in whatever state they are). Both give the same bytes."""
    import generator.render.site as site

    root = tmp_path / "corpus"
    generate(root, documents=70, rules=700, exceptions=20)
    forks = []
    real_fork = site._fork_worker
    monkeypatch.setattr(site, "_fork_worker", lambda queue: forks.append(1) or real_fork(queue))
    first = Preview(root, port=0)
    busy = threading.Event()
    other = threading.Thread(target=busy.wait)
    try:
        assert first.rebuild() and forks
        written = tree(first.out)
        assert len(first._pages) == first.last_result.stats.rendered > 100
        assert all(hashlib.sha256(data).hexdigest() == written[path] for path, (_, data) in first._pages.items())
        forks.clear()
        other.start()  # a thread beside this one, as the server's
        second = Preview(root, port=0)
        try:
            assert second.rebuild() and forks == []
            assert tree(second.out) == written
        finally:
            second.stop()
    finally:
        busy.set()
        if other.is_alive():
            other.join()
        first.stop()
