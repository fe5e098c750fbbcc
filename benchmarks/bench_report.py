"""Benchmark `policy report` on a fleet's month of decision logs: DuckDB against line by line.

    python benchmarks/bench_report.py [--events 10000000] [--gzip-share 0.3] [--baseline f0fa8ed] [--repeat 3]

Builds the example's bundle, writes 10,000 real events with the DecisionLog (file sink), then
makes a log of --events events by repeating them (about 840 bytes an event: 10,000,000 events
are about 8.4 GB of JSON lines). Times, as commands (`python -m generator report LOG --format
json`), with peak RSS from the child's own rusage:

  baseline   the report as it was when issue 13 was filed (--baseline, from its own git
             worktree): the line-by-line report the bar is set against
  python     today's line-by-line engine (`--engine python`: more figures, same reading)
  duckdb     the default engine

and checks that all three give the same figures. The DuckDB report takes seconds where the others
take a minute, so a hiccup of the machine weighs more on it: it is run --repeat times and its
median is reported (the others once each). Then, with --gzip-share of the events moved
into a gzip-compressed rotated file (the baseline cannot read those), duckdb and python again.
Bars (issue 13): duckdb >= 10x the baseline at 10,000,000 events, peak memory < 2 GB.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ISSUE_13_FILED = "f0fa8ed"  # the last commit before the first change made for issue 13


def measured(code: Path, args: list[str], out: Path) -> tuple[float, int]:
    """Wall time and peak RSS of `python -m generator ARGS` run from checkout `code`."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    with open(out, "wb") as fh, tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "generator", *args], stdout=fh, stderr=errors,
                                env=env, cwd=code)  # cwd: `-m` imports the package from there first
        _, status, usage = os.wait4(proc.pid, 0)
        took = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            errors.seek(0)
            raise SystemExit(f"{' '.join(args)} failed: {errors.read().decode(errors='replace')[-2000:]}")
    return took, usage.ru_maxrss * 1024


def repeated(times: int, code: Path, args: list[str], out: Path) -> tuple[float, int]:
    """The median wall time and the largest peak RSS of ``times`` runs of ``measured``."""
    runs = [measured(code, args, out) for _ in range(max(1, times))]
    return statistics.median(t for t, _ in runs), max(r for _, r in runs)


def seed_events(work: Path) -> bytes:
    """10,000 real events: every rule, three customer types, two models."""
    from generator.build import build
    from generator.runtime import Bundle, DecisionLog, JsonLinesSink

    build(REPO, work / "site")
    bundle = Bundle.load(work / "site" / "bundle")
    seed = work / "seed.jsonl"
    log = DecisionLog(JsonLinesSink(seed), labels={"service": "bench"})
    agency = {"type": "government", "exceptions": ["government-foreign-intelligence"],
              "attestations": ["legal-authority", "vetted-agency"]}
    uses = sorted(bundle.data["rules"])
    for i in range(10_000):
        customer = dict(agency, type=["government", "commercial", "nonprofit"][i % 3])
        request = {"use": uses[i % len(uses)], "customer": customer,
                   "model": ["claude-3-haiku", "claude-opus-4"][i % 2], "at": "2025-01-15"}
        log.record(request, bundle.decide(request))
    log.close()
    return seed.read_bytes()


def shared(report: dict) -> dict:
    """The figures the baseline report has too."""
    return {key: report[key] for key in ("decisions", "rules", "exceptions", "period")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--gzip-share", type=float, default=0.3,
                    help="share of the events in a gzip-compressed rotated file, second measurement (0: none)")
    ap.add_argument("--baseline", default=ISSUE_13_FILED, help="revision of the report the bar is set against")
    ap.add_argument("--repeat", type=int, default=3, help="runs of the DuckDB report (median reported)")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="policy-bench-report-"))
    base = work / "baseline"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-f", str(base), args.baseline],
                   check=True, capture_output=True)
    try:
        block = seed_events(work)
        repeats = max(1, args.events // 10_000)
        plain = work / "decisions.jsonl"
        with open(plain, "wb") as fh:
            for _ in range(repeats):
                fh.write(block)
        print(f"logs: {repeats * 10_000:,} events, one file of JSON lines, {plain.stat().st_size / 1e9:.2f} GB")
        runs = {"baseline": (base, []), "python": (REPO, ["--engine", "python"]), "duckdb": (REPO, [])}
        times, figures = {}, {}
        for name, (code, extra) in runs.items():
            took, rss = repeated(args.repeat if name == "duckdb" else 1, code,
                                 ["report", str(plain), "--format", "json", *extra], work / f"{name}.json")
            times[name], figures[name] = took, json.loads((work / f"{name}.json").read_text())
            print(f"  {name:9} {took:7.1f} s   peak RSS {rss / 1e6:6.0f} MB")
        same = figures["duckdb"] == figures["python"] and shared(figures["duckdb"]) == shared(figures["baseline"])
        ratio = times["baseline"] / times["duckdb"]
        print(f"  duckdb: {ratio:.1f}x faster than the baseline (bar: >= 10x) {'PASS' if ratio >= 10 else 'FAIL'}, "
              f"{times['python'] / times['duckdb']:.1f}x today's line-by-line engine; identical figures: {same}")

        compressed = int(repeats * args.gzip_share)
        if compressed:
            rotated = work / "decisions.jsonl.1.gz"
            with open(plain, "wb") as fh:
                for _ in range(repeats - compressed):
                    fh.write(block)
            with gzip.open(rotated, "wb", compresslevel=1) as fh:
                for _ in range(compressed):
                    fh.write(block)
            size = plain.stat().st_size + rotated.stat().st_size
            print(f"logs: the same events, {compressed * 10_000:,} of them in a gzip-compressed rotated file, "
                  f"{size / 1e9:.2f} GB on disk")
            for name, extra in (("python", ["--engine", "python"]), ("duckdb", [])):
                took, rss = repeated(args.repeat if name == "duckdb" else 1, REPO,
                                     ["report", str(plain), str(rotated), "--format", "json", *extra],
                                     work / f"{name}-gz.json")
                times[name] = took
                print(f"  {name:9} {took:7.1f} s   peak RSS {rss / 1e6:6.0f} MB")
            same = json.loads((work / "python-gz.json").read_text()) == json.loads((work / "duckdb-gz.json").read_text())
            print(f"  duckdb: {times['python'] / times['duckdb']:.1f}x today's line-by-line engine; "
                  f"identical figures: {same}")
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(base)], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
