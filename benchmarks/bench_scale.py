"""Does the build grow with the work, not its square? `policy build` against anchors, on one corpus.

    python benchmarks/bench_scale.py [--sizes 100,1000,5000] [--rounds 3] [--work DIR]

For each size N: a generated policy of N documents of 10 rules each and N exceptions
(benchmarks/corpus.py). The same content, as the Markdown pages `policy build` writes (one per
document, plus the exceptions page), is given to:

  policy   `policy build --no-pdf` as a command, from scratch (empty --out, no cache); no PDFs,
           as the anchors make none (they are made by default up to 100 documents)
  lean     a lean loop: markdown-it-py renders each page, Jinja2 puts it in a minimal layout
  mkdocs   `mkdocs build` (pip install mkdocs), default theme       (skipped when missing)
  hugo     `hugo` from Debian's package (apt-get install hugo)       (skipped when missing)
  in-git   `policy build` of the same corpus committed to git (one commit), as policy
           repositories are: a version page and a changes page for every document too

and, for `policy` only, a rebuild as a separate command after editing one rule of one document
(the per-file check stages and the unchanged pages of the previous build are reused).

Rounds are interleaved (policy, lean, mkdocs, hugo, then again), and the table gives medians of
wall time, system CPU time and peak RSS (from the child's own rusage, os.wait4) and the output's
size, then the policy site's size by part (HTML pages, Markdown twins, bundle, the rest), each
against the lean loop's site. --work puts the corpora and outputs in DIR (default: the system's temporary folder): the
system time of creating files depends on the file system and its state (docs/benchmarks.md,
"Where the system time goes"), so a run on a tmpfs (--work /dev/shm) separates it out. Bars (issue 12):
at 5,000 documents policy <= 2x lean and <= 3x Hugo, site within 3x of lean's; time from 1,000
to 5,000 documents at most linear (<= 5x + 10%); MkDocs >= 2x slower at 1,000; rebuild >= 5x
faster than a full build at 1,000.
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from corpus import generate  # noqa: E402

LEAN = r'''
import sys
from pathlib import Path
import jinja2
from markdown_it import MarkdownIt

src, out = Path(sys.argv[1]), Path(sys.argv[2])
md = MarkdownIt("commonmark").enable("table")
layout = jinja2.Environment(autoescape=True).from_string(
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{{ title }}</title></head>"
    "<body><nav><a href=\"{{ root }}index.html\">All policies</a></nav><main>{{ body | safe }}</main></body></html>")
out.mkdir(parents=True)
for page in sorted(src.glob("*.md")):
    text = page.read_text(encoding="utf-8")
    title = text.splitlines()[0].lstrip("# ") if text else page.stem
    folder = out / page.stem
    folder.mkdir()
    (folder / "index.html").write_text(layout.render(title=title, body=md.render(text), root="../"), encoding="utf-8")
'''


def run_measured(cmd: list[str], cwd: Path | None = None) -> tuple[float, int, float]:
    """Wall time, peak RSS (bytes) and system CPU time of one child process."""
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a chatty child never blocks
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(proc.pid, 0)
        took = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"{' '.join(cmd)} failed: {errors.read().decode(errors='replace')[-2000:]}")
    return took, usage.ru_maxrss * 1024, usage.ru_stime


def run_build(cmd: list[str]) -> tuple[float, int, int, float]:
    """run_measured for `policy build`, with the number of pages it rendered (from its summary)."""
    env_out = Path(tempfile.mkstemp(prefix="policy-bench-out-")[1])
    try:
        with open(env_out, "wb") as fh:
            start = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.DEVNULL)
            _, status, usage = os.wait4(proc.pid, 0)
            took = time.perf_counter() - start
        text = env_out.read_text()
    finally:
        env_out.unlink()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {text[-2000:]}")
    found = re.search(r"\((\d+) rendered", text)
    if not found:
        raise SystemExit(f"no build summary in: {text[-2000:]}")
    return took, usage.ru_maxrss * 1024, int(found.group(1)), usage.ru_stime


def edit_one_rule(root: Path, count: int) -> None:
    """Give the first rule of doc-002 a new title, never seen before in this run."""
    doc = root / "policy" / "doc-002.yaml"
    text = doc.read_text()
    edited, n = re.subn(r"(?m)^(      - id: doc-002\.rule-00-0\n        title: )[^\n]*$",
                        lambda m: f"{m.group(1)}Edited rule title, edit {count}.", text, count=1)
    if n != 1:
        raise SystemExit(f"{doc}: no rule doc-002.rule-00-0 to edit")
    doc.write_text(edited)


def size_of(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def site_parts(site: Path) -> dict[str, int]:
    """The bytes of a policy site by part: HTML pages, Markdown twins, bundle/, and the rest
    (search index, calendar, sitemap, feed, style sheet, .buildinfo)."""
    parts = {"HTML pages": 0, "Markdown twins": 0, "bundle": 0, "other": 0}
    for f in site.rglob("*"):
        if not f.is_file():
            continue
        rel = f.relative_to(site)
        part = ("bundle" if rel.parts[0] == "bundle" else "HTML pages" if f.suffix == ".html"
                else "Markdown twins" if f.suffix == ".md" and len(rel.parts) == 1 else "other")
        parts[part] += f.stat().st_size
    return parts


def export_markdown(site: Path, dest: Path) -> Path:
    """The Markdown pages `policy build` wrote (documents and exceptions), for the anchors."""
    dest.mkdir(parents=True)
    for page in site.glob("*.md"):
        shutil.copyfile(page, dest / page.name)
    return dest


def commit_copy(root: Path, dest: Path) -> Path:
    """The corpus as policy repositories are: in git, one commit (so the build makes a version
    page and a changes page for every document too)."""
    shutil.copytree(root, dest)
    env = {**os.environ, "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
           "GIT_AUTHOR_DATE": "2024-06-06T12:00:00Z", "GIT_COMMITTER_DATE": "2024-06-06T12:00:00Z"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "The policy"]):
        subprocess.run(["git", "-C", str(dest), *args], check=True, env=env, capture_output=True)
    return dest


def mkdocs_project(pages: Path, dest: Path) -> Path:
    (dest / "docs").mkdir(parents=True)
    for page in pages.glob("*.md"):
        shutil.copyfile(page, dest / "docs" / page.name)
    (dest / "docs" / "index.md").write_text("# Policies\n", encoding="utf-8")
    (dest / "mkdocs.yml").write_text("site_name: Policies\nuse_directory_urls: true\n", encoding="utf-8")
    return dest


def hugo_project(pages: Path, dest: Path) -> Path:
    (dest / "content").mkdir(parents=True)
    (dest / "layouts" / "_default").mkdir(parents=True)
    layout = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{{ .Title }}</title></head>"
              "<body><nav><a href=\"/\">All policies</a></nav><main>{{ .Content }}</main></body></html>")
    (dest / "layouts" / "_default" / "single.html").write_text(layout, encoding="utf-8")
    (dest / "layouts" / "_default" / "list.html").write_text(layout, encoding="utf-8")
    (dest / "layouts" / "index.html").write_text(layout, encoding="utf-8")
    for page in pages.glob("*.md"):
        text = page.read_text(encoding="utf-8")
        title = text.splitlines()[0].lstrip("# ").replace('"', "'") if text else page.stem
        (dest / "content" / page.name).write_text(f'---\ntitle: "{title}"\n---\n{text}', encoding="utf-8")
    (dest / "hugo.toml").write_text('baseURL = "https://policies.example.com/"\ntitle = "Policies"\n'
                                    'disableKinds = ["taxonomy", "term", "RSS", "sitemap"]\n', encoding="utf-8")
    return dest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100,1000,5000")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--mkdocs-max", type=int, default=1000, help="largest size MkDocs is run on (it is slow)")
    ap.add_argument("--work", type=Path, default=None, help="folder for the corpora and outputs (default: system temp)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    have_mkdocs = shutil.which("mkdocs") is not None
    have_hugo = shutil.which("hugo") is not None
    # the tool as installed: pip compiles every module; a checkout run with PYTHONDONTWRITEBYTECODE
    # (or a fresh worktree) would compile them from source in every command, 0.1 s each time
    compileall.compile_dir(str(HERE.parent / "generator"), quiet=1)
    work = Path(tempfile.mkdtemp(prefix="policy-bench-scale-", dir=args.work))
    env_cache = work / "cache"
    os.environ["POLICY_CACHE_DIR"] = str(env_cache)
    results: dict[tuple[int, str], list[tuple[float, int, int, float]]] = {}
    parts: dict[int, dict[str, int]] = {}
    edits = 0
    try:
        for n in sizes:
            root = work / f"corpus-{n}"
            generate(root, documents=n, rules=10 * n, exceptions=n)
            first = work / f"first-{n}"
            subprocess.run([sys.executable, "-m", "generator", "build", "--no-pdf", "--root", str(root), "--out", str(first)],
                           check=True, capture_output=True)
            pages = export_markdown(first, work / f"md-{n}")
            parts[n] = site_parts(first)
            in_git = commit_copy(root, work / f"git-{n}")
            mk = mkdocs_project(pages, work / f"mkdocs-{n}") if have_mkdocs and n <= args.mkdocs_max else None
            hu = hugo_project(pages, work / f"hugo-{n}") if have_hugo else None
            for _ in range(args.rounds):
                jobs = [("policy", lambda o: [sys.executable, "-m", "generator", "build", "--no-pdf", "--root", str(root),
                                              "--out", str(o)], None),
                        ("lean", lambda o: [sys.executable, "-c", LEAN, str(pages), str(o)], None),
                        ("in-git", lambda o: [sys.executable, "-m", "generator", "build", "--no-pdf", "--root", str(in_git),
                                              "--out", str(o)], None)]
                if mk is not None:
                    jobs.append(("mkdocs", lambda o: ["mkdocs", "build", "-q", "-d", str(o)], mk))
                if hu is not None:
                    jobs.append(("hugo", lambda o: ["hugo", "--quiet", "-d", str(o)], hu))
                for name, make, cwd in jobs:
                    out = work / f"out-{name}-{n}"
                    shutil.rmtree(out, ignore_errors=True)
                    if name in ("policy", "in-git"):  # "from scratch": no caches, no spare tree either
                        shutil.rmtree(env_cache, ignore_errors=True)
                        shutil.rmtree(out.parent / f".{out.name}.spare", ignore_errors=True)
                    took, rss, system = run_measured(make(out), cwd)
                    results.setdefault((n, name), []).append((took, rss, size_of(out), system))
                # the rebuild as a separate command, after a one-rule edit (a new title each time: a
                # title seen before would find its pages in the cache): first right after the full
                # build (no spare tree yet: every folder is made again), then again after a second
                # edit, as while editing (the previous site's tree kept as the spare one)
                out = work / f"out-policy-{n}"
                for label in ("rebuild-1", "rebuild"):
                    edits += 1
                    edit_one_rule(root, edits)
                    took, rss, rendered, system = run_build([sys.executable, "-m", "generator", "build", "--no-pdf",
                                                     "--root", str(root), "--out", str(out)])
                    if rendered < 2:  # the document's page and its Markdown twin, at least
                        raise SystemExit(f"the edit re-rendered {rendered} pages: it did not reach the build")
                    results.setdefault((n, label), []).append((took, rss, size_of(out), system))
            shutil.rmtree(first)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def med(n: int, name: str, i: int) -> float:
        return statistics.median(r[i] for r in results[(n, name)])

    print(f"{'documents':>9} {'tool':8} {'time s':>8} {'sys s':>6} {'peak RSS MB':>12} {'output MB':>10} {'KB/page':>8}")
    for (n, name) in results:
        pages = {"policy": 2 * n + 8, "rebuild": 2 * n + 8, "rebuild-1": 2 * n + 8, "in-git": 4 * n + 10}.get(name, n + 1)
        print(f"{n:>9,} {name:8} {med(n, name, 0):8.2f} {med(n, name, 3):6.2f} {med(n, name, 1) / 1e6:12.0f} "
              f"{med(n, name, 2) / 1e6:10.1f} "
              f"{med(n, name, 2) / 1e3 / pages:8.1f}")
    print()
    for n in sizes:
        policy = med(n, "policy", 0)
        line = [f"{n:,} documents: policy {policy:.2f} s; lean {med(n, 'lean', 0):.2f} s "
                f"({policy / med(n, 'lean', 0):.1f}x)"]
        if (n, "hugo") in results:
            line.append(f"hugo {med(n, 'hugo', 0):.2f} s ({policy / med(n, 'hugo', 0):.1f}x)")
        if (n, "mkdocs") in results:
            line.append(f"mkdocs {med(n, 'mkdocs', 0):.2f} s (policy {med(n, 'mkdocs', 0) / policy:.1f}x faster)")
        line.append(f"site {med(n, 'policy', 2) / med(n, 'lean', 2):.2f}x lean's")
        line.append(f"in git {med(n, 'in-git', 0):.2f} s (version pages too: {med(n, 'in-git', 0) / policy:.1f}x)")
        line.append(f"rebuild {med(n, 'rebuild', 0):.2f} s ({policy / med(n, 'rebuild', 0):.1f}x faster; "
                    f"the first after a full build {med(n, 'rebuild-1', 0):.2f} s, "
                    f"{policy / med(n, 'rebuild-1', 0):.1f}x)")
        print("; ".join(line))
    for n in sizes:  # the site-size bar: which parts the lean loop's pages compare with
        lean = med(n, "lean", 2)
        print(f"{n:,} documents, policy's site by part: " + "; ".join(
            f"{name} {size / 1e6:.1f} MB ({size / lean:.1f}x lean's)" for name, size in parts[n].items()))
    if 1000 in sizes and 5000 in sizes:
        growth = med(5000, "policy", 0) / med(1000, "policy", 0)
        print(f"growth 1,000 -> 5,000 documents: {growth:.1f}x (linear: 5.0x)")
        bars = [("5,000 documents: policy <= 2x the lean loop", med(5000, "policy", 0) / med(5000, "lean", 0), 2.0),
                ("5,000 documents: site <= 3x the lean loop's", med(5000, "policy", 2) / med(5000, "lean", 2), 3.0),
                ("1,000 -> 5,000 documents: time at most linear", growth, 5.5),
                ("1,000 documents: a one-rule rebuild >= 5x faster", med(1000, "policy", 0) / med(1000, "rebuild", 0), -5.0)]
        if (5000, "hugo") in results:
            bars.insert(1, ("5,000 documents: policy <= 3x Hugo", med(5000, "policy", 0) / med(5000, "hugo", 0), 3.0))
        if (1000, "mkdocs") in results:
            bars.append(("1,000 documents: MkDocs >= 2x slower", med(1000, "mkdocs", 0) / med(1000, "policy", 0), -2.0))
        for name, value, bar in bars:  # a negative bar is a floor
            ok = value <= bar if bar > 0 else value >= -bar
            print(f"bar: {name}: {value:.2f}x {'PASS' if ok else 'FAIL'}")


if __name__ == "__main__":
    main()
