"""Benchmark `policy impact`: replay a million logged decisions against two revisions.

    python benchmarks/bench_impact.py [--events 1000000]

Copies the example policy into a git repository, builds its bundle, writes 10,000 real events
with the DecisionLog (requests across every rule, customer type and model, half of them dated),
repeats them to --events, then makes a change that loosens a rule (waivable, and permitted by
the exception) and times, as a command, `policy impact LOG --base HEAD --head worktree
--format json`, checking the loosening it reports. Bar (issue 14): 1,000,000 decisions in < 30 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tool import policy_command  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    args = ap.parse_args()
    from generator.build import build
    from generator.runtime import Bundle, DecisionLog, JsonLinesSink

    work = Path(tempfile.mkdtemp(prefix="policy-bench-impact-"))
    try:
        root = work / "repo"
        for part in ("policy", "exceptions"):
            shutil.copytree(REPO / part, root / part)
        shutil.copyfile(REPO / "pyproject.toml", root / "pyproject.toml")
        git = ["git", "-c", "user.name=Bench", "-c", "user.email=bench@example.com"]
        subprocess.run([*git, "init", "-q", str(root)], check=True)
        subprocess.run([*git, "add", "-A"], cwd=root, check=True)
        subprocess.run([*git, "commit", "-q", "-m", "base"], cwd=root, check=True)
        build(root, work / "site")
        bundle = Bundle.load(work / "site" / "bundle")
        seed = work / "seed.jsonl"
        log = DecisionLog(JsonLinesSink(seed), labels={"service": "bench"})
        uses = sorted(bundle.data["rules"])
        agency = {"exceptions": ["government-foreign-intelligence"], "attestations": ["legal-authority", "vetted-agency"]}
        for i in range(10_000):
            request = {"use": uses[i % len(uses)], "model": ["claude-3-haiku", "claude-opus-4"][i % 2],
                       "customer": dict(agency, type=["government", "commercial", "nonprofit"][i % 3])}
            if i % 2:
                request["at"] = f"2025-0{1 + i % 9}-15"
            log.record(request, bundle.decide(request))
        log.close()
        block = seed.read_bytes()
        events = work / "decisions.jsonl"
        with open(events, "wb") as fh:
            for _ in range(max(1, args.events // 10_000)):
                fh.write(block)
        # the change: a rule made waivable and permitted by the exception (it retained it before)
        doc = root / "policy" / "usage-policy.yaml"
        exc = root / "exceptions" / "government-foreign-intelligence.yaml"
        text = doc.read_text()
        anchor = "  - id: disinformation.campaigns\n"
        assert anchor in text or "id: disinformation.campaigns" in text
        lines = text.split("\n")
        at = next(i for i, line in enumerate(lines) if line.strip() == "- id: disinformation.campaigns")
        indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())] + "  "
        lines.insert(at + 1, f"{indent}waivable: true")
        doc.write_text("\n".join(lines))
        etext = exc.read_text().replace("  - disinformation.campaigns\n", "", 1)
        etext = etext.replace("permits:\n", "permits:\n  - rule: disinformation.campaigns\n    purposes:\n"
                                            "      - studying influence operations\n", 1)
        exc.write_text(etext)
        check = subprocess.run([sys.executable, "-m", "generator", "check", "--root", str(root)],
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        policy = policy_command()
        env = {k: v for k, v in os.environ.items() if k != "POLICY_CACHE_DIR"}
        start = time.perf_counter()
        done = subprocess.run([policy, "impact", str(events), "--root", str(root), "--format", "json"],
                              capture_output=True, text=True, env=env)
        took = time.perf_counter() - start
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        size = events.stat().st_size / 1e9
        print(f"logs: {result['replayed']:,} decisions ({size:.2f} GB); loosening {result['loosening']:,}, "
              f"tightening {result['tightening']:,}, in {len(result['changes'])} groups")
        print(f"policy impact: {took:.1f} s, {result['replayed'] / took:,.0f} decisions a second, each decided "
              f"twice (bar: 1,000,000 in < 30 s) {'PASS' if took < 30 * result['replayed'] / 1_000_000 else 'FAIL'}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
