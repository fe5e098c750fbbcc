"""What translations, search and PDFs cost the build (issue 15).

    python benchmarks/bench_readers.py [--base REV] [--rounds 5] [--documents 1000]

1. The example (this repository's policy, with its git history): `policy build` as a command,
   cold (a new --out and an empty cache each time), at --base (default: the last commit before
   issue 15, which built neither translations, search nor PDFs) and at HEAD (the German and
   Arabic translations, the search index and the PDFs of every version), each from its own
   checkout (git worktree) and its own code. HEAD is also timed with --no-pdf. Rounds are
   interleaved; medians. Bar: HEAD <= 3x base.
2. A generated corpus of --documents documents (benchmarks/corpus.py; no git, so no versions),
   built cold with --pdf and with --no-pdf: how much of the build the PDFs take at that size.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from corpus import generate  # noqa: E402

BASE = "dafcb4387a6a"  # "Tidy: ..." the last commit before issue 15


def worktree(rev: str, where: Path) -> Path:
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-f", str(where), rev],
                   check=True, capture_output=True)
    return where


def timed_build(code: Path, root: Path, scratch: Path, *extra: str, cache: str | None = None) -> float:
    """One `policy build` into a new folder; with a fresh cache folder unless ``cache`` is given."""
    out = Path(tempfile.mkdtemp(dir=scratch)) / "site"
    keep = cache is not None
    cache = cache or tempfile.mkdtemp(dir=scratch)
    env = {**os.environ, "PYTHONPATH": str(code), "POLICY_CACHE_DIR": cache}
    env.pop("SOURCE_DATE_EPOCH", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed code runs: compiled once, not on every start
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "generator", "build", "--root", str(root), "--out", str(out), *extra],
                          env=env, capture_output=True, text=True, cwd=code)  # cwd: `-m` imports from there
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"build failed ({code}):\n{done.stdout}\n{done.stderr}")
    shutil.rmtree(out.parent, ignore_errors=True)
    if not keep:
        shutil.rmtree(cache, ignore_errors=True)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default=BASE)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--documents", type=int, default=200, help="size of the generated corpus (part 2)")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-readers-"))
    trees = []
    try:
        base = worktree(args.base, scratch / "base")
        head = worktree("HEAD", scratch / "head")
        trees = [base, head]
        runs: dict[str, list[float]] = {"base": [], "head": [], "head --no-pdf": []}
        timed_build(base, base, scratch)  # warm-up, not counted: writes each checkout's .pyc files
        timed_build(head, head, scratch)
        for _ in range(args.rounds):
            runs["base"].append(timed_build(base, base, scratch))
            runs["head"].append(timed_build(head, head, scratch))
            runs["head --no-pdf"].append(timed_build(head, head, scratch, "--no-pdf"))
        median = {k: statistics.median(v) for k, v in runs.items()}
        print(f"example, cold `policy build`: new --out, empty cache (a fresh clone; median of {args.rounds}):")
        for name, value in median.items():
            print(f"  {name:<14} {value:6.2f} s   {value / median['base']:4.2f}x base")
        print(f"  bar: head <= 3x base: {'met' if median['head'] <= 3 * median['base'] else 'NOT met'}")
        warm: dict[str, list[float]] = {"base": [], "head": []}
        caches = {name: tempfile.mkdtemp(dir=scratch) for name in warm}
        timed_build(base, base, scratch, cache=caches["base"])  # fills each cache once
        timed_build(head, head, scratch, cache=caches["head"])
        for _ in range(args.rounds):
            warm["base"].append(timed_build(base, base, scratch, cache=caches["base"]))
            warm["head"].append(timed_build(head, head, scratch, cache=caches["head"]))
        base_warm, head_warm = statistics.median(warm["base"]), statistics.median(warm["head"])
        print(f"example, `policy build` into a new --out with the caches of an earlier build (median of {args.rounds}):")
        print(f"  base {base_warm:6.2f} s\n  head {head_warm:6.2f} s   {head_warm / base_warm:4.2f}x base")
        corpus = scratch / "corpus"
        generate(corpus, documents=args.documents, rules=10 * args.documents, exceptions=args.documents)
        sizes: dict[str, list[float]] = {"--pdf": [], "--no-pdf": []}
        for _ in range(max(1, args.rounds // 2)):
            for flag in sizes:
                sizes[flag].append(timed_build(head, corpus, scratch, flag))
        with_pdf, without = statistics.median(sizes["--pdf"]), statistics.median(sizes["--no-pdf"])
        print(f"{args.documents} generated documents, cold (median of {len(sizes['--pdf'])}):")
        print(f"  --no-pdf {without:7.2f} s\n  --pdf    {with_pdf:7.2f} s   PDFs take {1 - without / with_pdf:.0%} "
              f"of the build ({(with_pdf - without) / args.documents * 1000:.0f} ms a document, on "
              f"{os.cpu_count()} cores)")
    finally:
        for tree in trees:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)], capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
