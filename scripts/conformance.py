"""Decisions of the Python library against OPA's Go engine, rego-cpp and regorus, at full count.

    python3 scripts/conformance.py [--example 20000] [--generated 5000] [--seed 2024]

The bundle `policy build` writes, for the example policy and for a generated policy (documents
of different dates, active/draft/retired exceptions, four models), is loaded in every engine as
OPA's bundle plugin loads it; every seeded hostile request (tests/engines.py SPECIAL_INPUTS and
benchmarks/decision_requests.py with hostile=True) is decided everywhere and the whole decision
objects compared. Exit 1 on any disagreement, or if a documented reason code was never reached.
CI runs this after the test suite (which runs the same comparison at a smaller count).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests"), str(REPO / "benchmarks")]

from corpus import generate  # noqa: E402
from engines import REASON_CODES, conformance  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--example", type=int, default=20_000, help="random requests on the example policy")
    ap.add_argument("--generated", type=int, default=5_000, help="random requests on the generated policy")
    ap.add_argument("--seed", type=int, default=2024)
    args = ap.parse_args()
    failed = False
    reached: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="policy-conformance-") as tmp:
        work = Path(tmp)
        generate(work / "generated", documents=20, rules=2_000, exceptions=200, varied=True)
        for name, root, count in (("example", REPO, args.example), ("generated", work / "generated", args.generated)):
            start = time.perf_counter()
            mismatches, codes, total, set_aside = conformance(root, count, args.seed, work / f"out-{name}")
            took = time.perf_counter() - start
            summary = ", ".join(f"{engine}: {len(found)} disagreements"
                                + (f" ({set_aside[engine]} set aside: known engine bug)" if set_aside[engine] else "")
                                for engine, found in mismatches.items())
            print(f"{name}: {total:,} requests in {took:.1f} s; {summary}")
            for engine, found in mismatches.items():
                for request, python, other in found[:3]:
                    print(f"  {engine} on {json.dumps(request, default=repr, ensure_ascii=False)}\n"
                          f"    python: {json.dumps(python, ensure_ascii=False)}\n    {engine}: {other}")
                failed |= bool(found)
            if set_aside.get("opa"):
                failed = True  # OPA is the reference: nothing is ever set aside for it
            reached |= codes
    missing = REASON_CODES - reached
    if missing:
        print(f"reason codes never reached: {', '.join(sorted(missing))}")
        failed = True
    print("conformance: FAIL" if failed else "conformance: every engine agrees with the library on every request")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
