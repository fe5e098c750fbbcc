"""Benchmark `policy report` on a fleet's month of decision logs: DuckDB against line by line.

    python benchmarks/bench_report.py [--events 10000000] [--gzip-share 0.3]

Builds the example's bundle, writes 10,000 real events with the DecisionLog (file sink), then
makes a log of --events events by repeating them (about 650 bytes an event: 10,000,000 events
are about 6.5 GB), a share of it as rotated gzip files. Times, as commands, with peak RSS from the
child's own rusage: `policy report --engine duckdb` and `--engine python`, both --format json,
and checks that they give the same figures. Bars (issue 13): DuckDB >= 10x the line-by-line
report at 10,000,000 events, peak memory < 2 GB.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def measured(cmd: list[str], out: Path) -> tuple[float, int]:
    with open(out, "wb") as fh, tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fh, stderr=errors)
        _, status, usage = os.wait4(proc.pid, 0)
        took = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            errors.seek(0)
            raise SystemExit(f"{' '.join(cmd)} failed: {errors.read().decode(errors='replace')[-2000:]}")
    return took, usage.ru_maxrss * 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--gzip-share", type=float, default=0.3, help="share of the events in rotated gzip files")
    args = ap.parse_args()
    from generator.build import build
    from generator.runtime import Bundle, DecisionLog, JsonLinesSink

    work = Path(tempfile.mkdtemp(prefix="policy-bench-report-"))
    try:
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
        block = seed.read_bytes()
        repeats = max(1, args.events // 10_000)
        compressed = int(repeats * args.gzip_share)
        files = [work / "decisions.jsonl"]
        with open(files[0], "wb") as fh:
            for _ in range(repeats - compressed):
                fh.write(block)
        if compressed:
            files.append(work / "decisions.jsonl.1.gz")
            with gzip.open(files[1], "wb", compresslevel=1) as fh:
                for _ in range(compressed):
                    fh.write(block)
        size = sum(f.stat().st_size for f in files)
        print(f"logs: {repeats * 10_000:,} events in {len(files)} files, {size / 1e9:.2f} GB on disk "
              f"({compressed * 10_000:,} of them gzip-compressed)")
        policy = shutil.which("policy") or str(Path(sys.executable).parent / "policy")
        results = {}
        for engine in ("duckdb", "python"):
            took, rss = measured([policy, "report", *map(str, files), "--format", "json", "--engine", engine],
                                 work / f"{engine}.json")
            results[engine] = json.loads((work / f"{engine}.json").read_text())
            print(f"{engine:7} {took:8.1f} s   peak RSS {rss / 1e6:8.0f} MB")
            results[engine + "-time"] = took
        same = results["duckdb"] == results["python"]
        ratio = results["python-time"] / results["duckdb-time"]
        print(f"duckdb / python: {ratio:.1f}x faster (bar: >= 10x) {'PASS' if ratio >= 10 else 'FAIL'}; "
              f"identical figures: {same}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
