"""Benchmark `policy check` against the floor: reading the same files with PyYAML's C loader.

    python benchmarks/bench_check.py [--rules 10000] [--documents 100] [--exceptions 1000] [--repeat 5]

Generates the corpus in a temporary folder, then times, best of --repeat runs:
  floor      yaml.load(f, Loader=yaml.CSafeLoader) over every source file (in process)
  check      generator.validate.check_root (read, parse, schema, invariants, links)
and the same two as whole commands (interpreter start-up included):
  floor-cmd  python -c '<the floor loop>'
  check-cmd  policy check --root CORPUS
Bars: issue 2, check / floor <= 3; issue 12, <= 2 (--bar), and not growing from 10k to 100k rules.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import generate  # noqa: E402
from tool import policy_command  # noqa: E402

from generator.validate import check_root  # noqa: E402

FLOOR = """
import glob, yaml, sys
for name in sorted(glob.glob(sys.argv[1] + '/policy/*.yaml') + glob.glob(sys.argv[1] + '/exceptions/*.yaml')):
    with open(name, 'rb') as fh:
        yaml.load(fh, Loader=yaml.CSafeLoader)
"""


def floor(root: Path) -> None:
    for name in sorted([*root.glob("policy/*.yaml"), *root.glob("exceptions/*.yaml")]):
        with open(name, "rb") as fh:
            yaml.load(fh, Loader=yaml.CSafeLoader)


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rules", type=int, default=10_000)
    ap.add_argument("--documents", type=int, default=100)
    ap.add_argument("--exceptions", type=int, default=1_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--bar", type=float, default=2.0, help="largest ratio to the floor that passes (issue 12: 2)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="policy-bench-"))
    try:
        sizes = generate(work, args.documents, args.rules, args.exceptions)
        mb = sum(p.stat().st_size for p in work.rglob("*.yaml")) / 1e6
        print(f"corpus: {sizes['documents']} documents, {sizes['rules']} rules, "
              f"{sizes['exceptions']} exceptions, {mb:.1f} MB of YAML")
        result = check_root(work)
        assert not result.errors, result.errors[:3]
        del result
        gc.collect()  # both in-process loops start from the same heap
        t_floor = best(lambda: floor(work), args.repeat)
        gc.collect()
        t_check = best(lambda: check_root(work), args.repeat)
        policy = policy_command()
        t_floor_cmd = best(lambda: subprocess.run([sys.executable, "-c", FLOOR, str(work)], check=True),
                           args.repeat)
        cache = work.parent / f"{work.name}-cache"
        env = dict(os.environ, POLICY_CACHE_DIR=str(cache))

        def check_cmd(cold: bool) -> None:
            if cold:  # `policy check` keeps per-file stages between runs: measure it without them
                shutil.rmtree(cache, ignore_errors=True)
            subprocess.run([policy, "check", "--root", str(work)], check=True, stdout=subprocess.DEVNULL, env=env)

        t_check_cmd = best(lambda: check_cmd(True), args.repeat)
        check_cmd(False)
        t_check_warm = best(lambda: check_cmd(False), args.repeat)
        # As a policy repository is: committed, so `policy check` also runs the published-id
        # check against HEAD (the files it shares with the working tree are not checked twice).
        git = ["git", "-c", "user.name=Bench", "-c", "user.email=bench@example.com"]
        subprocess.run([*git, "init", "-q", str(work)], check=True)
        subprocess.run([*git, "add", "-A"], cwd=work, check=True)
        subprocess.run([*git, "commit", "-q", "-m", "corpus"], cwd=work, check=True)
        t_check_git = best(lambda: check_cmd(True), args.repeat)
        print(f"{'measure':<12}{'seconds':>10}")
        print(f"{'floor':<12}{t_floor:>10.3f}   yaml.load(CSafeLoader), in process")
        print(f"{'check':<12}{t_check:>10.3f}   check_root, in process")
        print(f"{'floor-cmd':<12}{t_floor_cmd:>10.3f}   python -c <floor loop>")
        print(f"{'check-cmd':<12}{t_check_cmd:>10.3f}   policy check --root CORPUS, cold (no stage cache)")
        print(f"{'check-warm':<12}{t_check_warm:>10.3f}   policy check --root CORPUS, unchanged files from the stage cache")
        print(f"{'check-git':<12}{t_check_git:>10.3f}   the same, cold, in a git repository (published ids checked against HEAD)")
        ratio, ratio_cmd, ratio_git = t_check / t_floor, t_check_cmd / t_floor_cmd, t_check_git / t_floor_cmd
        print(f"ratio check/floor: {ratio:.2f} in process, {ratio_cmd:.2f} as commands, {ratio_git:.2f} in git "
              f"(bar: <= {args.bar:.2f}) {'PASS' if max(ratio, ratio_cmd, ratio_git) <= args.bar else 'FAIL'}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
