"""Benchmark `policy build` against MkDocs on the same content, and incremental rebuilds.

    python benchmarks/bench_build.py [--rules 10000] [--documents 100] [--exceptions 1000] [--repeat 3]

Needs MkDocs (`pip install mkdocs`), used only here. Generates the corpus in a temporary folder
and times, best of --repeat runs:

  policy build   `policy build` as a command, from scratch (empty --out)
  mkdocs build   `mkdocs build` as a command, on the same content as Markdown pages: our
                 Markdown twins (one page per document, plus the exceptions page), default theme
  rebuild        `policy build` as a command again after editing one rule of one document
                 (unchanged pages are reused from the previous build via .buildinfo)
  rebuild (preview)  the same edit, rebuilt in a long-running process the way `policy preview`
                 does it (checked sources and rendered pages kept in memory)

Bars (issue 3): policy build at least 2x faster than MkDocs; a rebuild after editing one
document at least 5x faster than a full build.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import generate  # noqa: E402
from tool import policy_command  # noqa: E402

from generator.build import build  # noqa: E402


def best(fn, repeat: int, before=None) -> float:
    times = []
    for _ in range(repeat):
        if before:
            before()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rules", type=int, default=10_000)
    ap.add_argument("--documents", type=int, default=100)
    ap.add_argument("--exceptions", type=int, default=1_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    try:
        import mkdocs  # noqa: F401
    except ImportError:
        raise SystemExit("this benchmark needs MkDocs: python3 -m pip install mkdocs")
    work = Path(tempfile.mkdtemp(prefix="policy-bench-build-"))
    try:
        root = work / "corpus"
        sizes = generate(root, args.documents, args.rules, args.exceptions)
        print(f"corpus: {sizes['documents']} documents, {sizes['rules']} rules, {sizes['exceptions']} exceptions")
        policy = policy_command()
        mkdocs_cmd = shutil.which("mkdocs") or str(Path(sys.executable).parent / "mkdocs")
        out = work / "site"

        # MkDocs input: exactly our Markdown pages, one per document, plus the exceptions page.
        build(root, work / "md-source")
        docs = work / "mkdocs" / "docs"
        docs.mkdir(parents=True)
        for page in sorted((work / "md-source").glob("*.md")):
            shutil.copyfile(page, docs / page.name)
        (docs / "index.md").write_text("# Policies\n")
        (work / "mkdocs" / "mkdocs.yml").write_text("site_name: Policies\ntheme: mkdocs\n"
                                                    "markdown_extensions: [toc]\n")
        pages = len(list(docs.glob("*.md")))

        t_ours = best(lambda: run([policy, "build", "--root", str(root), "--out", str(out)]), args.repeat,
                      before=lambda: shutil.rmtree(out, ignore_errors=True))
        t_mkdocs = best(lambda: run([mkdocs_cmd, "build", "-q", "-f", str(work / "mkdocs" / "mkdocs.yml"),
                                     "-d", str(work / "mkdocs-site")]), args.repeat)

        doc = root / "policy" / "doc-050.yaml"
        original = doc.read_text()
        edits = iter(range(10_000))

        def edit() -> None:
            doc.write_text(original.replace("title: Part 3 of document 50", f"title: Part 3 (edit {next(edits)})"))

        run([policy, "build", "--root", str(root), "--out", str(out)])
        t_rebuild = best(lambda: run([policy, "build", "--root", str(root), "--out", str(out)]), args.repeat,
                         before=edit)
        memory, sources = {}, {}
        doc.write_text(original)
        full_mem = best(lambda: build(root, out, memory=memory, sources=sources), 1,
                        before=lambda: (shutil.rmtree(out, ignore_errors=True), memory.clear(), sources.clear()))
        t_preview = best(lambda: build(root, out, memory=memory, sources=sources), args.repeat, before=edit)

        print(f"{'measure':<20}{'seconds':>9}")
        print(f"{'policy build':<20}{t_ours:>9.3f}   command, from scratch ({pages} Markdown + HTML pages)")
        print(f"{'mkdocs build':<20}{t_mkdocs:>9.3f}   command, same content as {pages} Markdown pages")
        print(f"{'rebuild':<20}{t_rebuild:>9.3f}   command, after editing one rule of one document")
        print(f"{'full (preview)':<20}{full_mem:>9.3f}   in process, from scratch")
        print(f"{'rebuild (preview)':<20}{t_preview:>9.3f}   in process, after editing one rule of one document")
        speed = t_mkdocs / t_ours
        print(f"policy build vs mkdocs: {speed:.1f}x faster (bar: >= 2) {'PASS' if speed >= 2 else 'FAIL'}")
        inc_cmd, inc_preview = t_ours / t_rebuild, full_mem / t_preview
        print(f"rebuild vs full build: {inc_preview:.1f}x faster in the preview process (bar: >= 5) "
              f"{'PASS' if inc_preview >= 5 else 'FAIL'}; {inc_cmd:.1f}x as separate commands")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
