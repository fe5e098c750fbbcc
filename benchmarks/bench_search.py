"""What the search index's shards cost a reader: a first and a second search in Chromium.

    python benchmarks/bench_search.py [--documents 1000] [--shard-pages 0,128,64] [--rounds 3]

For each shard size (0: one shard per language, as before shards), builds the same generated
policy (benchmarks/corpus.py: N documents of 10 rules, N exceptions) into a site, serves it on
127.0.0.1 (Python's threaded HTTP server, HTTP/1.1) and, in Debian's Chromium (Playwright),
opens a document page, types a word three pages hold and waits for the result count. Reports, as medians over
fresh browser contexts (an empty cache each): the time to the first results (the index loaded:
Pagefind's script and WebAssembly, and each shard's entry and word list) and to a second
search's results, and the requests and bytes the first search fetched from pagefind/. Also
the time of a rebuild (in process) after a one-section-title edit, which indexes the edited
page's shard again.
Needs chromium and playwright (bash scripts/test-setup.sh installs both).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE.parent))
from corpus import generate  # noqa: E402


def search_once(page, words: str) -> float:
    box = page.locator("#site-search-input")
    status = page.locator("#site-search-status")
    start = time.perf_counter()
    box.fill(words)
    while not status.inner_text().strip().endswith(f"“{words}”."):
        page.wait_for_timeout(5)
    return time.perf_counter() - start - 0.15  # search.js waits 150 ms after typing


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--documents", type=int, default=1000)
    ap.add_argument("--shard-pages", default="0,128,64")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    from browser import browser, serve  # tests/browser.py: Chromium and a server on 127.0.0.1

    from generator.build import build
    from generator.render import search

    work = Path(tempfile.mkdtemp(prefix="policy-bench-search-"))
    try:
        root = work / "corpus"
        generate(root, documents=args.documents, rules=10 * args.documents, exceptions=args.documents)
        (root / "pyproject.toml").write_text("[tool.policy]\nsearch = true\npdf = false\n")
        for i in (7, args.documents // 2, args.documents - 3):  # a word few pages hold, as most are
            doc = root / "policy" / f"doc-{i:03d}.yaml"
            doc.write_text(doc.read_text().replace("summary: |\n", "summary: |\n  Ransomware playbooks.\n", 1))
        print(f"{args.documents:,} documents; medians of {args.rounds} fresh browser contexts")
        print(f"{'shard pages':>11} {'shards':>6} {'first search s':>14} {'second s':>8} {'requests':>8} "
              f"{'KB fetched':>10} {'rebuild after an edit s':>23}")
        with browser() as chromium:
            for size in [int(s) for s in args.shard_pages.split(",")]:
                search.SHARD_PAGES = size or 10**9
                out = work / f"site-{size}"
                build(root, out)
                doc = root / "policy" / "doc-002.yaml"
                doc.write_text(doc.read_text().replace("title: Part 0 of document 2", f"title: Part 0 ({size})", 1))
                before = time.perf_counter()
                build(root, out)
                rebuild = time.perf_counter() - before
                shards = len(list((out / "pagefind").glob("*-*")))
                firsts, seconds, requests, fetched = [], [], [], []
                with serve(out) as url:
                    for _ in range(args.rounds):
                        context = chromium.new_context()
                        page = context.new_page()
                        seen: list = []
                        page.on("response", lambda r: seen.append(r) if "/pagefind/" in r.url else None)
                        page.goto(url + "doc-005/")
                        firsts.append(search_once(page, "ransomware"))
                        requests.append(len(seen))
                        fetched.append(sum(len(r.body()) for r in seen))
                        seconds.append(search_once(page, "playbooks"))
                        context.close()
                print(f"{size or 'one':>11} {shards:>6} {statistics.median(firsts):14.2f} "
                      f"{statistics.median(seconds):8.2f} {statistics.median(requests):8.0f} "
                      f"{statistics.median(fetched) / 1e3:10.0f} {rebuild:23.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
