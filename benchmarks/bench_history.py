"""Benchmark `policy history` and `policy diff` on a long git history.

    python benchmarks/bench_history.py [--commits 1000] [--rules 10000] [--documents 100] [--exceptions 1000]

Generates the corpus, then a git repository (with `git fast-import`) whose first commit holds it
and whose following commits each edit a few rules (every 100th also starts a new version of a
document; every 25th moves an exception's review date). Then times, as commands:
  git log     git log --name-only over the same paths (the floor for walking the history)
  history     policy history, cold (no cache) and warm (cache under .git/policy-cache/)
  diff        policy diff FIRST LAST: the whole range, clause by clause
  changelog   policy changelog, after `policy check` (its stage cache) and the history runs
              (their cache): the model at each version's commit (about 90 of them)
  build       policy build --no-pdf into a new folder, the same caches: version pages too
Bars: history under 3 s cold (issue 12; issue 5 asked for 10 s) and under 1 s warm.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import generate  # noqa: E402
from tool import policy_command  # noqa: E402


def _data(payload: bytes) -> bytes:
    return b"data %d\n" % len(payload) + payload + b"\n"


def make_repository(root: Path, commits: int, documents: int, rules: int, exceptions: int,
                    add_lines: bool = False) -> None:
    generate(root, documents, rules, exceptions)
    files = {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.yaml"))}
    for p in root.iterdir():
        shutil.rmtree(p) if p.is_dir() else p.unlink()
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    rng = random.Random(5)
    stream = bytearray()
    when = 1_700_000_000

    def commit(message: str, changed: dict[str, bytes], first: bool = False) -> None:
        nonlocal when
        when += 3600
        stream.extend(b"commit refs/heads/main\n")
        stream.extend(b"author Bench Legal <legal@example.com> %d +0000\n" % when)
        stream.extend(b"committer Bench Legal <legal@example.com> %d +0000\n" % when)
        stream.extend(_data(message.encode()))
        for path, content in changed.items():
            stream.extend(b"M 100644 inline " + path.encode() + b"\n")
            stream.extend(_data(content))

    commit("Initial policy", files, first=True)
    doc_paths = sorted(p for p in files if p.startswith("policy/doc-"))
    exc_paths = sorted(p for p in files if p.startswith("exceptions/"))
    for i in range(1, commits):
        changed: dict[str, bytes] = {}
        for path in rng.sample(doc_paths, 2):
            text = files[path].decode()
            lines = text.split("\n")
            candidates = [n for n, line in enumerate(lines) if line.startswith("          ") and line.strip()]
            for n in sorted(rng.sample(candidates, 2), reverse=True):
                if add_lines:  # a sentence more: every later line moves down
                    lines.insert(n + 1, lines[n][: len(lines[n]) - len(lines[n].lstrip())] + f"Edit {i}.")
                else:
                    lines[n] = lines[n].rstrip(".") + f" (edit {i})."
            if i % 100 == 0:
                lines = [f"effective: 2025-{1 + i // 100 % 12:02d}-15" if line.startswith("effective: ") else line
                         for line in lines]
            files[path] = changed[path] = "\n".join(lines).encode()
        if i % 25 == 0:
            path = rng.choice(exc_paths)
            files[path] = changed[path] = files[path].replace(b"review_by: 2030", b"review_by: 2031", 1)
        commit(f"Edit {i}", changed)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input=bytes(stream), check=True)
    subprocess.run(["git", "checkout", "-q", "main"], cwd=root, check=True)


def timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if k != "POLICY_CACHE_DIR"}  # the cache under .git, cleared here
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--commits", type=int, default=1000)
    ap.add_argument("--rules", type=int, default=10_000)
    ap.add_argument("--documents", type=int, default=100)
    ap.add_argument("--exceptions", type=int, default=1_000)
    ap.add_argument("--add-lines", action="store_true",
                    help="edits add a line to a rule's text (so later lines move) instead of rewording one in place")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="policy-bench-history-"))
    try:
        root = work / "repo"
        start = time.perf_counter()
        make_repository(root, args.commits, args.documents, args.rules, args.exceptions, args.add_lines)
        print(f"repository: {args.commits} commits over {args.rules} rules, {args.exceptions} exceptions "
              f"(made in {time.perf_counter() - start:.1f} s)")
        policy = policy_command()
        t_git = min(timed(["git", "log", "--name-only", "--", "policy", "exceptions", "pyproject.toml"], root)
                    for _ in range(3))
        shutil.rmtree(root / ".git" / "policy-cache", ignore_errors=True)
        colds = []
        for _ in range(3):
            shutil.rmtree(root / ".git" / "policy-cache", ignore_errors=True)
            colds.append(timed([policy, "history", "--root", str(root), "--format", "json"], root))
        t_cold = min(colds)
        t_warm = min(timed([policy, "history", "--root", str(root), "--format", "json"], root) for _ in range(3))
        first = subprocess.run(["git", "rev-list", "--max-parents=0", "HEAD"], cwd=root, check=True,
                               capture_output=True, text=True).stdout.strip()
        t_diff = timed([policy, "diff", first, "HEAD", "--root", str(root), "--format", "json"], root)
        timed([policy, "check", "--root", str(root)], root)  # (its stage cache, as a repository has it)
        t_changelog = min(timed([policy, "changelog", "--root", str(root)], root) for _ in range(3))
        builds = []
        for i in range(3):
            builds.append(timed([policy, "build", "--no-pdf", "--root", str(root), "--out", str(work / f"site-{i}")],
                                root))
        t_build = min(builds)
        print(f"{'measure':<16}{'seconds':>9}")
        print(f"{'git log':<16}{t_git:>9.3f}   git log --name-only -- policy exceptions pyproject.toml")
        print(f"{'history cold':<16}{t_cold:>9.3f}   policy history, no cache (bar: < 3 s, issue 12) "
              f"{'PASS' if t_cold < 3 else 'FAIL'}")
        print(f"{'history warm':<16}{t_warm:>9.3f}   policy history, cache keyed by blob ids (bar: < 1 s) "
              f"{'PASS' if t_warm < 1 else 'FAIL'}")
        print(f"{'diff':<16}{t_diff:>9.3f}   policy diff FIRST HEAD over the whole range")
        print(f"{'changelog':<16}{t_changelog:>9.3f}   policy changelog (the model at every version's commit)")
        print(f"{'build':<16}{t_build:>9.3f}   policy build --no-pdf (version and changes pages too)")
        print(f"ratio to git log: {t_cold / t_git:.1f}x cold, {t_warm / t_git:.1f}x warm")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
