"""PDFs of every document and version: made by WeasyPrint, read back with pypdf and compared with
the source clauses; tagged (PDF/UA-1), deterministic, footers with date, revision and pages."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from pypdf import PdfReader

from conftest import REPO, build_root
from generator.build import build
from generator.validate import load_corpus


def words(text: str) -> str:
    """Text as a PDF reads back: Markdown marks and line breaks gone, spaces normalized."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return " ".join(re.sub(r"[*_`]", "", text).split())


def pdf_text(path) -> tuple[PdfReader, str]:
    reader = PdfReader(path)
    return reader, words("\n".join(page.extract_text() for page in reader.pages))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("pdf") / "site"
    build(REPO, out)
    return out


def test_every_clause_of_the_current_document_is_in_its_pdf(site):
    corpus = load_corpus(REPO)
    doc = corpus.documents_by_id["usage-policy"]
    reader, text = pdf_text(site / "usage-policy.pdf")
    for rule in doc.rules():
        assert rule.id in text, rule.id
        assert words(rule.title) in text, rule.title
        assert words(rule.text) in text, rule.id
    for section in doc.walk_sections():
        assert words(section.title) in text
    for ob in doc.obligations:
        assert words(ob.text) in text
    # footer on every page: title, version date, revision, page n of N
    pages = [page.extract_text() for page in reader.pages]
    for n, page in enumerate(pages, 1):
        assert f"Usage Policy · Version of 15 September 2025 · revision" in page
        assert f"Page {n} / {len(pages)}" in page
    # the current PDF is its newest version's (copied, when the sources are committed), with that address
    newest = site / "versions/usage-policy/2025-09-15/usage-policy-2025-09-15.pdf"
    if (site / "usage-policy.pdf").read_bytes() == newest.read_bytes():
        assert "Published at https://policies.example.com/versions/usage-policy/2025-09-15/" in text
    else:  # built from uncommitted sources: made from them
        assert "Published at https://policies.example.com/usage-policy/" in text


def test_the_exceptions_pdf_holds_the_published_exception(site):
    corpus = load_corpus(REPO)
    exc = corpus.exceptions_by_id["government-foreign-intelligence"]
    _, text = pdf_text(site / "exceptions.pdf")
    assert words(exc.title) in text and words(exc.summary) in text
    for permit in exc.permits:
        for purpose in permit.purposes:
            assert purpose in text
    for rule_id in exc.retains:
        assert rule_id in text


def test_each_version_has_the_pdf_of_its_own_text(site):
    _, old = pdf_text(site / "versions/usage-policy/2024-06-06/usage-policy-2024-06-06.pdf")
    _, new = pdf_text(site / "versions/usage-policy/2025-09-15/usage-policy-2025-09-15.pdf")
    assert "It has three parts" in old and "It has four parts" in new
    assert "guidelines.agentic-use" not in old and "guidelines.agentic-use" in new
    assert "Version of 6 June 2024 · revision" in old
    page = (site / "versions/usage-policy/2024-06-06/index.html").read_text()
    assert '<a href="usage-policy-2024-06-06.pdf" type="application/pdf" hreflang="en">PDF</a>' in page
    assert '<a href="../usage-policy.pdf" type="application/pdf" hreflang="en">PDF</a>' in \
        (site / "usage-policy/index.html").read_text()


def test_pdfs_are_tagged_linked_and_carry_no_clock_time(site):
    reader = PdfReader(site / "usage-policy.pdf")
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"] and root["/Lang"] == "en"
    assert reader.metadata.title == "Usage Policy (15 September 2025)"
    assert "/CreationDate" not in reader.metadata and "/ModDate" not in reader.metadata
    links = [a.get_object() for p in reader.pages for a in p.get("/Annots") or []]
    uris = {link["/A"].get("/URI") for link in links if "/A" in link}
    assert uris & {"https://policies.example.com/usage-policy/",  # the page it prints
                   "https://policies.example.com/versions/usage-policy/2025-09-15/"}
    # links within the document (contents, links between rules) jump to the clause in the PDF
    internal = [link for link in links if "/Dest" in link or ("/A" in link and link["/A"].get("/S") == "/GoTo")]
    assert len(internal) >= len(load_corpus(REPO).documents_by_id["usage-policy"].sections)


def test_the_same_revision_gives_byte_identical_pdfs(site, tmp_path):
    again = tmp_path / "again"
    build(REPO, again)
    def pdfs(folder):
        return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(folder.rglob("*.pdf"))}
    assert pdfs(site) == pdfs(again) and len(pdfs(site)) == 5


def test_hostile_titles_stay_text_in_the_footer_and_pdfs_can_be_turned_off(tmp_path, cli):
    root = build_root(tmp_path / "root")
    main = root / "policy" / "main.yaml"
    main.write_text(main.read_text().replace("title: Test policy",
                                             "title: \"Test\\\" } @page { margin: 0 } </style><script>x</script> \\\\\""))
    out = tmp_path / "site"
    build(root, out)
    reader, text = pdf_text(out / "main.pdf")
    footer = reader.pages[0].extract_text()
    assert 'Test" } @page { margin: 0 } </style><script>x</script> \\ · Version of 6 June 2024' in footer
    assert cli(["build", "--root", str(root), "--out", str(out), "--no-pdf"]).exit_code == 0
    assert not list(out.rglob("*.pdf")) and "PDF</a>" not in (out / "main/index.html").read_text()
    (root / "pyproject.toml").write_text("[tool.policy]\npdf = false\n")
    build(root, out)
    assert not list(out.rglob("*.pdf"))
    assert cli(["build", "--root", str(root), "--out", str(out), "--pdf"]).exit_code == 0
    assert (out / "main.pdf").is_file()


def test_without_pango_the_site_is_built_without_pdfs_unless_they_were_asked_for(tmp_path, cli, monkeypatch):
    """A fresh machine without Pango still builds (the README's first command), and says so;
    with pdf = true (or --pdf) the build refuses instead, naming the package to install."""
    from generator.bundle.errors import PackagingError
    from generator.render import pdf

    def missing():
        raise PackagingError("PDFs cannot be made: cannot load library 'libpango-1.0-0'. Install ... Pango")
    monkeypatch.setattr(pdf, "prepare", missing)
    monkeypatch.setattr(pdf, "_quick_check", lambda: "PDFs cannot be made: the system library pango-1.0 is missing")
    root = build_root(tmp_path / "root")
    out = tmp_path / "site"
    result = cli(["build", "--root", str(root), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "warning: the site was built without PDFs: PDFs cannot be made: the system library pango-1.0 is missing" \
        in result.output
    assert not list(out.rglob("*.pdf")) and "PDF</a>" not in (out / "main/index.html").read_text()
    refused = cli(["build", "--root", str(root), "--out", str(tmp_path / "other"), "--pdf"])
    assert refused.exit_code == 2 and "pango" in refused.output and "Traceback" not in refused.output
    assert not (tmp_path / "other").exists()


def test_a_large_site_gets_pdfs_only_when_it_asks(tmp_path, cli, monkeypatch):
    from generator.render import pdf

    monkeypatch.setattr(pdf, "PDF_AUTO_DOCUMENTS", 0)  # the test root has one document: "large" here
    root = build_root(tmp_path / "root")
    out = tmp_path / "site"
    result = cli(["build", "--root", str(root), "--out", str(out)])
    assert result.exit_code == 0
    assert "pyproject.toml: note: no PDFs were made: 1 documents are more than 0" in result.output
    assert not list(out.rglob("*.pdf"))
    assert cli(["build", "--root", str(root), "--out", str(out), "--pdf"]).exit_code == 0
    assert (out / "main.pdf").is_file()
    (root / "pyproject.toml").write_text("[tool.policy]\npdf = true\n")
    assert "no PDFs" not in cli(["build", "--root", str(root), "--out", str(out)]).output


def test_the_current_pdf_is_its_newest_versions_when_committed(repo, cli, tmp_path):
    out = tmp_path / "site"
    assert cli(["build", "--root", str(repo.root), "--out", str(out), "--pdf"]).exit_code == 0
    version = next((out / "versions" / "main").glob("*/main-*.pdf"))
    assert (out / "main.pdf").read_bytes() == version.read_bytes()
    repo.edit("policy/main.yaml", "Designing weapons.", "Designing or building weapons.")  # uncommitted
    assert cli(["build", "--root", str(repo.root), "--out", str(out), "--pdf"]).exit_code == 0
    assert (out / "main.pdf").read_bytes() != version.read_bytes()
    assert "Designing or building weapons." in " ".join(pdf_text(out / "main.pdf")[1].split())


def test_pdfs_made_by_the_converter_processes_are_those_made_in_process(tmp_path):
    root = build_root(tmp_path / "root")
    pooled, direct = tmp_path / "pooled", tmp_path / "direct"
    build(root, pooled, pdf=True, jobs=2)  # the converter's processes
    build(root, direct, pdf=True, memory={})  # (the preview's path) this process alone
    for name in ("main.pdf", "exceptions.pdf"):
        assert (pooled / name).read_bytes() == (direct / name).read_bytes()


def test_pdfs_are_kept_between_builds_by_what_they_show(tmp_path, monkeypatch):
    """A build into an empty folder takes the PDFs it made before from the cache (the same
    bytes), lays out again what changed, and drops a cached file that is not a whole PDF."""
    from generator.cachedir import ENV_CACHE_DIR
    from generator.render import pdfcache

    monkeypatch.setenv(ENV_CACHE_DIR, str(tmp_path / "cache"))
    root = build_root(tmp_path / "root")
    build(root, tmp_path / "one", pdf=True)
    made = []
    real = pdfcache.PdfCache.put
    monkeypatch.setattr(pdfcache.PdfCache, "put", lambda self, key, data: made.append(key) or real(self, key, data))
    build(root, tmp_path / "two", pdf=True)
    assert made == []  # both PDFs came from the cache
    assert (tmp_path / "one" / "main.pdf").read_bytes() == (tmp_path / "two" / "main.pdf").read_bytes()
    kept = sorted((tmp_path / "cache").rglob("*.pdf"))
    assert len(kept) == 2
    for entry in kept:
        entry.write_bytes(b"%PDF-1.7 torn")
    main = root / "policy" / "main.yaml"
    main.write_text(main.read_text().replace("Designing weapons.", "Designing or building weapons."))
    build(root, tmp_path / "three", pdf=True)
    assert len(made) == 2  # the changed document, and the torn exceptions PDF, made again
    assert "Designing or building weapons." in pdf_text(tmp_path / "three" / "main.pdf")[1]
    assert pdf_text(tmp_path / "three" / "exceptions.pdf")[0].pages


def test_a_pdf_that_fails_fails_the_build_and_leaves_nothing_behind(tmp_path, cli, monkeypatch):
    from generator.render import pdf

    def broken(html, base_url):
        raise ValueError("layout exploded")
    monkeypatch.setattr(pdf, "to_pdf", broken)  # the converter's processes are forked with it
    root = build_root(tmp_path / "root")
    out = tmp_path / "site"
    result = cli(["build", "--root", str(root), "--out", str(out), "--pdf"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "a PDF could not be made: ValueError: layout exploded" in result.output
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".site")]
